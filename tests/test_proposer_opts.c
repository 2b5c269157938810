/* test_proposer_opts.c — what a resumed run takes from its store and what it compares: the
 * proposer options stored with a run (src/proposer.c, rt_proposer_opts_*) and the problem
 * parameters given again (rt_problem_params_compare, rt_problem_has_param).
 *
 * What would break these tests: a key given on resume that leaves a stored value of the same key
 * behind (two prices, two URLs), options lost or reordered through the store's JSON, stored text
 * that is not an array of string pairs being read as options instead of refused, a crash on
 * random stored bytes; a parameter given again in another spelling (GF2, a relative path) taken
 * for a change, or a real change taken for none; search-only parameters offered to verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "problem.h"
#include "proposer_opts.h"
#include "ratchet.h"
#include "util.h"

/* The stored JSON of the pairs in o (caller frees). */
static char *to_json(const rt_proposer_opts *o)
{
    rt_buf b;
    rt_buf_init(&b, 0);
    assert_int_equal(rt_proposer_opts_json(o, &b), 0);
    char *s = strdup(rt_buf_cstr(&b));
    rt_buf_free(&b);
    assert_non_null(s);
    return s;
}

static void merge_replaces_every_value_of_a_given_key(void **state)
{
    (void)state;
    const char *k[] = {"url", "model", "price", "price", "key-env"};
    const char *v[] = {"http://a/v1", "m1,m2", "m1=1,2", "m2=3,4", "MY_KEY"};
    rt_proposer_opts o = {0};
    char err[256];
    assert_int_equal(rt_proposer_opts_merge(&o, NULL, k, v, 5, err, sizeof err), 0);
    char *stored = to_json(&o);
    assert_string_equal(stored, "[[\"url\",\"http://a/v1\"],[\"model\",\"m1,m2\"],"
                                "[\"price\",\"m1=1,2\"],[\"price\",\"m2=3,4\"],"
                                "[\"key-env\",\"MY_KEY\"]]");
    rt_proposer_opts_free(&o);

    /* nothing given: the stored ones, in their order */
    assert_int_equal(rt_proposer_opts_merge(&o, stored, NULL, NULL, 0, err, sizeof err), 0);
    assert_int_equal(o.n, 5);
    char *again = to_json(&o);
    assert_string_equal(again, stored);
    free(again);
    rt_proposer_opts_free(&o);

    /* a price given again replaces both stored prices; the rest stays */
    const char *gk[] = {"price", "url"};
    const char *gv[] = {"m1=5,6", "http://b/v1"};
    assert_int_equal(rt_proposer_opts_merge(&o, stored, gk, gv, 2, err, sizeof err), 0);
    char *merged = to_json(&o);
    assert_string_equal(merged, "[[\"model\",\"m1,m2\"],[\"key-env\",\"MY_KEY\"],"
                                "[\"price\",\"m1=5,6\"],[\"url\",\"http://b/v1\"]]");
    free(merged);
    rt_proposer_opts_free(&o);
    free(stored);
}

static void bad_stored_options_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",       "{}",          "[1]",           "[[\"a\"]]",         "[[\"a\",1]]",
        "[[1,\"a\"]]", "[[\"a\",\"b\",\"c\"]]", "[\"a\",\"b\"]", "[[\"a\",\"b\"]", "null",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rt_proposer_opts o = {0};
        char err[256] = "";
        assert_int_equal(rt_proposer_opts_merge(&o, bad[i], NULL, NULL, 0, err, sizeof err),
                         RT_ESTORE);
        assert_true(err[0] != '\0');
        assert_int_equal(o.n, 0);
    }
    /* caps: more pairs than a run takes, a value over the length cap */
    rt_buf b;
    rt_buf_init(&b, 0);
    rt_buf_puts(&b, "[");
    for (int i = 0; i <= RT_PROPOSER_MAX_OPTS; i++)
        rt_buf_printf(&b, "%s[\"k%d\",\"v\"]", i ? "," : "", i);
    rt_buf_puts(&b, "]");
    rt_proposer_opts o = {0};
    char err[256];
    assert_int_equal(rt_proposer_opts_merge(&o, rt_buf_cstr(&b), NULL, NULL, 0, err, sizeof err),
                     RT_EUSAGE);
    assert_int_equal(o.n, 0);
    rt_buf_free(&b);
    char *longv = malloc(RT_PROPOSER_MAX_OPT_LEN + 1);
    assert_non_null(longv);
    memset(longv, 'x', RT_PROPOSER_MAX_OPT_LEN);
    longv[RT_PROPOSER_MAX_OPT_LEN] = '\0';
    const char *k[] = {"url"};
    const char *v[] = {longv};
    assert_int_equal(rt_proposer_opts_merge(&o, NULL, k, v, 1, err, sizeof err), RT_EUSAGE);
    free(longv);
}

/* Random and mutated stored texts: refused or read, never a crash, and whatever is read writes
 * back to JSON that reads to the same pairs. */
static void random_stored_options_never_crash(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    static const char alphabet[] = "[]{}\",:abc\\u0 1";
    const char *base = "[[\"url\",\"http://a/v1\"],[\"model\",\"m\"]]";
    int read = 0;
    for (int round = 0; round < 20000; round++) {
        char text[64];
        size_t n = strlen(base);
        memcpy(text, base, n + 1);
        int edits = 1 + (int)(x % 4);
        for (int e = 0; e < edits; e++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t at = (size_t)(x % n);
            char c = (x >> 20) & 1 ? alphabet[(x >> 24) % (sizeof alphabet - 1)]
                                   : (char)((x >> 32) & 0xff);
            text[at] = c ? c : 'z';
        }
        rt_proposer_opts o = {0};
        char err[256];
        int rc = rt_proposer_opts_merge(&o, text, NULL, NULL, 0, err, sizeof err);
        assert_true(rc == 0 || rc == RT_ESTORE || rc == RT_EUSAGE);
        if (rc == 0) {
            read++;
            char *again = to_json(&o);
            rt_proposer_opts back = {0};
            assert_int_equal(rt_proposer_opts_merge(&back, again, NULL, NULL, 0, err, sizeof err),
                             0);
            assert_int_equal(back.n, o.n);
            for (size_t i = 0; i < o.n; i++) {
                assert_string_equal(back.keys[i], o.keys[i]);
                assert_string_equal(back.values[i], o.values[i]);
            }
            rt_proposer_opts_free(&back);
            free(again);
        }
        rt_proposer_opts_free(&o);
    }
    assert_true(read > 0); /* some mutations leave a readable array */
}

static void params_given_again_are_compared_canonically(void **state)
{
    (void)state;
    const char *stored = "shape=3x3x3 field=gf2";
    int differ;
    char was[256], now[256];
    rt_error err;
    /* the same values, one in another spelling */
    const char *k1[] = {"shape", "field"};
    const char *v1[] = {"3x3x3", "GF2"};
    assert_int_equal(rt_problem_params_compare("matmul", stored, k1, v1, 2, &differ, was, now,
                                               sizeof was, &err),
                     0);
    assert_int_equal(differ, -1);
    /* a change: the first key that differs, with both values */
    const char *v2[] = {"3x3x3", "z"};
    assert_int_equal(rt_problem_params_compare("matmul", stored, k1, v2, 2, &differ, was, now,
                                               sizeof was, &err),
                     0);
    assert_int_equal(differ, 1);
    assert_string_equal(was, "gf2");
    assert_string_equal(now, "z");
    /* a key the stored run did not set */
    const char *k3[] = {"walk"};
    const char *v3[] = {"1000"};
    assert_int_equal(rt_problem_params_compare("matmul", stored, k3, v3, 1, &differ, was, now,
                                               sizeof was, &err),
                     0);
    assert_int_equal(differ, 0);
    assert_string_equal(was, "");
    /* unknown keys and bad values are usage errors naming the key */
    const char *k4[] = {"frobnicate"};
    assert_int_equal(rt_problem_params_compare("matmul", stored, k4, v3, 1, &differ, was, now,
                                               sizeof was, &err),
                     RT_EUSAGE);
    assert_non_null(strstr(err.msg, "frobnicate"));
    const char *k5[] = {"shape"};
    const char *v5[] = {"nine"};
    assert_int_equal(rt_problem_params_compare("matmul", stored, k5, v5, 1, &differ, was, now,
                                               sizeof was, &err),
                     RT_EUSAGE);
    assert_non_null(strstr(err.msg, "--shape"));
    assert_int_equal(rt_problem_params_compare("sorting", stored, k5, v5, 1, &differ, was, now,
                                               sizeof was, &err),
                     RT_ESTORE);
}

static void verify_reads_only_some_parameters(void **state)
{
    (void)state;
    assert_true(rt_problem_has_param("matmul", "shape", 1));
    assert_true(rt_problem_has_param("matmul", "field", 1));
    assert_false(rt_problem_has_param("matmul", "walk", 1));
    assert_true(rt_problem_has_param("matmul", "walk", 0));
    assert_false(rt_problem_has_param("matmul", "initial", 0));
    assert_true(rt_problem_has_param("program", "verifier", 1));
    assert_false(rt_problem_has_param("program", "command", 1));
    assert_true(rt_problem_has_param("program", "eval-network", 1));
    assert_false(rt_problem_has_param("nosuch", "shape", 0));
    const char *help = rt_problem_verify_params_help("matmul");
    assert_non_null(help);
    assert_non_null(strstr(help, "--shape"));
    assert_null(strstr(help, "--walk"));
    assert_null(rt_problem_verify_params_help("nosuch"));
    /* the drift tolerance the classes declare */
    assert_true(rt_problem_score_tolerance("matmul") == 0);
    assert_true(rt_problem_score_tolerance("program") > 0);
    assert_true(rt_problem_score_tolerance("program") < 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_replaces_every_value_of_a_given_key),
        cmocka_unit_test(bad_stored_options_are_refused),
        cmocka_unit_test(random_stored_options_never_crash),
        cmocka_unit_test(params_given_again_are_compared_canonically),
        cmocka_unit_test(verify_reads_only_some_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
