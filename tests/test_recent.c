/* test_recent.c — the ledger of recent experiments shown to proposers (src/recent.c): rows in
 * order with what changed from the parent, the figure read from the shown metrics only, the
 * latest kept rows kept past the window, a bounded size whatever the run's length, and one line
 * per row whatever bytes the texts and reasons hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recent.h"
#include "rng.h"

static void add(rt_recent *r, long long id, const char *parent, const char *text,
                const char *status, const char *metrics, const char *reason)
{
    char hash[65], phash[65];
    rt_sha256_hex(text, strlen(text), hash);
    if (parent)
        rt_sha256_hex(parent, strlen(parent), phash);
    rt_recent_entry e = {
        .id = id,
        .hash = hash,
        .parent_hash = parent ? phash : NULL,
        .text = text,
        .len = strlen(text),
        .status = status,
        .metrics = metrics,
        .has_verified = 1,
        .verified = 1.25,
        .reason = reason,
    };
    assert_int_equal(rt_recent_add(r, &e), 0);
}

static void rows_say_what_changed_and_only_the_shown_figure(void **state)
{
    (void)state;
    rt_recent r;
    rt_recent_init(&r);
    rt_recent_set_metric(&r, "val_bpb");
    rt_buf out;
    rt_buf_init(&out, 0);
    assert_int_equal(rt_recent_render(&r, &out), 0);
    assert_int_equal(out.len, 0); /* nothing before the first experiment */
    const char *base = "LR=0.1 # ratchet: log 0.001 1\nW=3\n";
    const char *child = "LR=0.05 # ratchet: log 0.001 1\nW=3\n";
    add(&r, 1, NULL, base, "keep", "{\"val_bpb\": 1.5, \"seed\": 7}", NULL);
    add(&r, 2, base, child, "discard", "{\"val_bpb\": 1.6}", "within the noise floor");
    add(&r, 3, base, "LR=0.1 # ratchet: log 0.001 1\nW=4\n", "crash", NULL, "crash: exit 3");
    assert_int_equal(rt_recent_render(&r, &out), 0);
    const char *t = rt_buf_cstr(&out);
    assert_non_null(strstr(t, "3 experiments so far"));
    assert_non_null(strstr(t, "val_bpb of its own run"));
    assert_non_null(strstr(t, "| keep | 1.5 | 1.25 | baseline\n"));
    assert_non_null(strstr(t, "| discard | 1.6 | 1.25 | LR=0.1 -> LR=0.05 | within the noise "
                              "floor\n"));
    assert_non_null(strstr(t, "| crash | - | 1.25 | W=3 -> W=4 | crash: exit 3\n"));
    assert_true(strstr(t, "#1 ") < strstr(t, "#2 ") && strstr(t, "#2 ") < strstr(t, "#3 "));
    rt_buf_free(&out);
    rt_recent_free(&r);
}

/* A long run: the table holds the latest RT_RECENT_ROWS rows and, before them, the latest
 * RT_RECENT_KEPT kept ones, each once; its size stays bounded; arbitrary bytes in texts and
 * reasons never add a line. */
static void a_long_run_stays_bounded(void **state)
{
    (void)state;
    rt_recent r;
    rt_recent_init(&r);
    rt_rng rng;
    rt_rng_seed(&rng, 5, 0);
    char texts[2][600], reason[300];
    snprintf(texts[0], sizeof texts[0], "seed\n");
    int cur = 0;
    for (long long id = 1; id <= 1000; id++) {
        char *t = texts[1 - cur];
        size_t n = 1 + rt_rng_next(&rng) % (sizeof texts[0] - 2);
        for (size_t i = 0; i < n; i++)
            t[i] = (char)(1 + rt_rng_next(&rng) % 255);
        t[n] = '\0';
        for (size_t i = 0; i + 1 < sizeof reason; i++)
            reason[i] = (char)(1 + rt_rng_next(&rng) % 255);
        reason[sizeof reason - 1] = '\0';
        int kept = id == 1 || id % 50 == 0; /* the last kept is 1000, then 950, ... */
        add(&r, id, id == 1 ? NULL : texts[cur], t, kept ? "keep" : "discard",
            "{\"score\": 2}", kept ? NULL : reason);
        if (kept)
            cur = 1 - cur;
    }
    rt_buf out;
    rt_buf_init(&out, 0);
    assert_int_equal(rt_recent_render(&r, &out), 0);
    const char *t = rt_buf_cstr(&out);
    assert_true(out.len < 14000);
    int lines = 0;
    for (const char *p = t; *p; p++)
        lines += *p == '\n';
    /* the header, RT_RECENT_ROWS rows (977..1000), the kept 650..950 before them */
    assert_int_equal(lines, 1 + RT_RECENT_ROWS + RT_RECENT_KEPT - 1);
    assert_non_null(strstr(t, "\n#650 "));
    assert_null(strstr(t, "\n#600 "));
    assert_non_null(strstr(t, "\n#977 "));
    assert_null(strstr(t, "\n#976 "));
    assert_non_null(strstr(t, "1000 experiments so far"));
    rt_buf_free(&out);
    rt_recent_free(&r);
}

/* After a resume the parent was stored by an earlier session: the engine hands its text over
 * before the first child, which is then described too. */
static void a_parent_from_an_earlier_session_is_described(void **state)
{
    (void)state;
    rt_recent r;
    rt_recent_init(&r);
    const char *base = "A=1\nB=2\n";
    char hash[65];
    rt_sha256_hex(base, strlen(base), hash);
    assert_int_equal(rt_recent_parent(&r, hash, base, strlen(base)), 0);
    add(&r, 41, base, "A=1\nB=3\n", "discard", "{\"score\": 1}", "worse");
    rt_buf out;
    rt_buf_init(&out, 0);
    assert_int_equal(rt_recent_render(&r, &out), 0);
    assert_non_null(strstr(rt_buf_cstr(&out), "#41 "));
    assert_non_null(strstr(rt_buf_cstr(&out), "| 1 | 1.25 | B=2 -> B=3 | worse\n"));
    rt_buf_free(&out);
    rt_recent_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_say_what_changed_and_only_the_shown_figure),
        cmocka_unit_test(a_long_run_stays_bounded),
        cmocka_unit_test(a_parent_from_an_earlier_session_is_described),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
