/* test_program_text.c — the program problem's text operations (src/problems/program_text.h) and
 * configuration files (rt_config_parse).
 *
 * What would break these tests: a SEARCH block applied when it matches twice, only outside the
 * editable regions, or straddling a region's edge; a later block's failure leaving earlier
 * blocks applied; a rewrite that changes a byte outside the regions being accepted; a marker
 * mistake accepted; an annotation read from the wrong number, a mutated value leaving its range
 * or changing anything but itself; a config line attributed to the wrong line or a bad line
 * accepted. Property tests run the parsers on thousands of random and mutated texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "problems/program/program.h"
#include "problems/program/program_text.h"
#include "ratchet.h"
#include "rng.h"
#include "util.h"

static const char prog[] = "#include <stdio.h>\n"
                           "int x = 1;\n"
                           "/* EVOLVE-BLOCK-START */\n"
                           "int a = 1;\n"
                           "int b = 2;\n"
                           "/* EVOLVE-BLOCK-END */\n"
                           "int main(void) { return a + b + x; }\n"
                           "/* EVOLVE-BLOCK-START */\n"
                           "int c = 1;\n"
                           "/* EVOLVE-BLOCK-END */\n";

static int apply(const char *text, const char *reply, rt_buf *out, char *err)
{
    return rt_edit_apply(text, strlen(text), reply, strlen(reply), out, err, 256);
}

static void edits_apply_exactly_once_inside_regions(void **state)
{
    (void)state;
    rt_buf out;
    rt_buf_init(&out, 0);
    char err[256];
    /* a block that matches once inside a region applies */
    assert_int_equal(apply(prog, "<<<<<<< SEARCH\nint b = 2;\n=======\nint b = 3;\n>>>>>>> REPLACE\n",
                           &out, err), 0);
    assert_non_null(strstr(out.data, "int b = 3;\n"));
    assert_int_equal(out.len, strlen(prog));
    /* "int x = 1;" exists only outside the regions: protected */
    assert_int_equal(apply(prog, "<<<<<<< SEARCH\nint x = 1;\n=======\nint x = 9;\n>>>>>>> REPLACE\n",
                           &out, err), RT_EINVALID);
    assert_non_null(strstr(err, "only outside the editable regions"));
    assert_int_equal(out.len, 0);
    /* "int a = 1;" is inside, "int c = 1;" too: the line "= 1;" is not a whole line; a text
     * that matches in both regions is ambiguous */
    const char *twice = "<<<<<<< SEARCH\n/* EVOLVE-BLOCK-START */\n=======\n\n>>>>>>> REPLACE\n";
    assert_int_equal(apply(prog, twice, &out, err), RT_EINVALID);
    assert_non_null(strstr(err, "only outside"));
    const char *dup = "int a = 1;\nint a = 1;\n";
    assert_int_equal(apply(dup, "<<<<<<< SEARCH\nint a = 1;\n=======\nint a = 2;\n>>>>>>> REPLACE\n",
                           &out, err), RT_EINVALID);
    assert_non_null(strstr(err, "matches 2 times"));
    /* whole lines only: "int a = 1;" must not match inside "int a = 10;" */
    assert_int_equal(apply("int a = 10;\n",
                           "<<<<<<< SEARCH\nint a = 1\n=======\nint a = 2\n>>>>>>> REPLACE\n", &out,
                           err), RT_EINVALID);
    assert_non_null(strstr(err, "not found"));
    /* a block that straddles a region's edge (includes the END marker) is refused */
    assert_int_equal(apply(prog,
                           "<<<<<<< SEARCH\nint b = 2;\n/* EVOLVE-BLOCK-END */\n=======\nx\n>>>>>>> "
                           "REPLACE\n",
                           &out, err), RT_EINVALID);
    /* a new text may not add markers (it would move the protected text) */
    assert_int_equal(apply(prog,
                           "<<<<<<< SEARCH\nint b = 2;\n=======\n/* EVOLVE-BLOCK-END */\n"
                           "int x = 2;\n>>>>>>> REPLACE\n",
                           &out, err), RT_EINVALID);
    assert_non_null(strstr(err, "marker"));
    /* the last line without a newline still matches, and stays without one */
    assert_int_equal(apply("a\nb", "<<<<<<< SEARCH\nb\n=======\nc\n>>>>>>> REPLACE\n", &out, err),
                     0);
    assert_string_equal(out.data, "a\nc");
    /* an edit that deletes lines; chatter around blocks is ignored */
    assert_int_equal(apply(prog, "Here you go:\n<<<<<<< SEARCH\nint a = 1;\n=======\n>>>>>>> REPLACE\nbye\n",
                           &out, err), 0);
    assert_null(strstr(out.data, "int a = 1;"));
    rt_buf_free(&out);
}

static void edits_are_all_or_nothing(void **state)
{
    (void)state;
    rt_buf out;
    rt_buf_init(&out, 0);
    char err[256];
    /* block 1 applies, block 2 does not: nothing is applied and block 2 is named */
    const char *reply = "<<<<<<< SEARCH\nint a = 1;\n=======\nint a = 5;\n>>>>>>> REPLACE\n"
                        "<<<<<<< SEARCH\nint zz;\n=======\nint yy;\n>>>>>>> REPLACE\n";
    assert_int_equal(apply(prog, reply, &out, err), RT_EINVALID);
    assert_non_null(strstr(err, "block 2"));
    assert_int_equal(out.len, 0);
    /* blocks apply in order, the second sees the first's result; regions move with edits */
    const char *chain = "<<<<<<< SEARCH\nint a = 1;\n=======\nint a = 5;\nint d = 0;\n>>>>>>> REPLACE\n"
                        "<<<<<<< SEARCH\nint a = 5;\n=======\nint a = 6;\n>>>>>>> REPLACE\n"
                        "<<<<<<< SEARCH\nint c = 1;\n=======\nint c = 7;\n>>>>>>> REPLACE\n";
    assert_int_equal(apply(prog, chain, &out, err), 0);
    assert_non_null(strstr(out.data, "int a = 6;\nint d = 0;\nint b = 2;\n"));
    assert_non_null(strstr(out.data, "int c = 7;\n"));
    assert_int_equal(rt_edit_check_rewrite(prog, strlen(prog), out.data, out.len, err, 256), 0);
    /* malformed replies */
    static const char *const bad[] = {
        "no blocks at all\n",
        "<<<<<<< SEARCH\nint a = 1;\n>>>>>>> REPLACE\n",
        "<<<<<<< SEARCH\nint a = 1;\n=======\nint a = 2;\n",
        "<<<<<<< SEARCH\n=======\nint a = 2;\n>>>>>>> REPLACE\n",
        "=======\n",
        "<<<<<<< SEARCH\nx\n=======\ny\n=======\n>>>>>>> REPLACE\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(apply(prog, bad[i], &out, err), RT_EUSAGE);
        assert_int_equal(out.len, 0);
    }
    rt_buf_free(&out);
}

static void rewrites_and_markers_protect_fixed_text(void **state)
{
    (void)state;
    char err[256];
    size_t n = strlen(prog);
    char *copy = malloc(n + 1);
    memcpy(copy, prog, n + 1);
    assert_int_equal(rt_edit_check_rewrite(prog, n, copy, n, err, sizeof err), 0);
    /* change one byte at every position: allowed exactly inside the regions */
    rt_regions reg;
    assert_int_equal(rt_regions_find(prog, n, &reg, err, sizeof err), 0);
    assert_int_equal(reg.n, 2);
    for (size_t i = 0; i < n; i++) {
        char old = copy[i];
        copy[i] = old == 'Q' ? 'R' : 'Q';
        int inside = 0;
        for (size_t k = 0; k < reg.n; k++)
            inside |= i >= reg.r[k].begin && i < reg.r[k].end;
        int rc = rt_edit_check_rewrite(prog, n, copy, n, err, sizeof err);
        if (old == '\n') /* a newline at a region's edge joins a marker line: either way */
            ;
        else if (inside)
            assert_int_equal(rc, 0);
        else
            assert_int_not_equal(rc, 0);
        copy[i] = old;
    }
    free(copy);
    /* unmarked programs are wholly editable */
    assert_int_equal(rt_edit_check_rewrite("a\n", 2, "b\n", 2, err, sizeof err), 0);
    /* marker mistakes are named */
    static const char *const bad[] = {
        "EVOLVE-BLOCK-START\n",
        "EVOLVE-BLOCK-END\n",
        "EVOLVE-BLOCK-START\nEVOLVE-BLOCK-START\nEVOLVE-BLOCK-END\n",
        "EVOLVE-BLOCK-START EVOLVE-BLOCK-END\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rt_regions_find(bad[i], strlen(bad[i]), &reg, err, sizeof err),
                         RT_EUSAGE);
    /* whole-program replies go through the same check */
    rt_program_genome *child = NULL;
    assert_int_equal(rt_program_apply_reply(prog, n, "int main;\n", 10, &child, err, sizeof err),
                     RT_EINVALID);
    assert_int_equal(rt_program_apply_reply(prog, n, " \n\t", 3, &child, err, sizeof err),
                     RT_EINVALID);
    assert_non_null(strstr(err, "empty"));
    /* whitespace-only differences share a duplicate key */
    rt_buf a, b;
    rt_buf_init(&a, 0);
    rt_buf_init(&b, 0);
    assert_int_equal(rt_text_strip_space("int  a =\t1;\n", 12, &a), 0);
    assert_int_equal(rt_text_strip_space("int a = 1; \n\n", 13, &b), 0);
    assert_string_equal(a.data, b.data);
    assert_int_equal(rt_text_strip_space("int a = 2;", 10, &b), 0);
    assert_string_not_equal(a.data, b.data);
    rt_buf_free(&a);
    rt_buf_free(&b);
}

static void annotations_parse_and_mutate_in_range(void **state)
{
    (void)state;
    const char *text = "x = 3 + 0.25   # ratchet: real 0 1\n"
                       "n = 10;        // ratchet: int 1 100\n"
                       "lr = 1e-3;     /* step, ratchet: log 1e-5 0.1 */\n"
                       "mode = \"fast\"  # ratchet: choice slow|fast|mid\n"
                       "y = 7          # no annotation here\n";
    size_t len = strlen(text);
    rt_regions reg;
    char err[256];
    assert_int_equal(rt_regions_find(text, len, &reg, err, sizeof err), 0);
    rt_annotations anns;
    assert_int_equal(rt_annotations_parse(text, len, &reg, &anns, err, sizeof err), 0);
    assert_int_equal(anns.n, 4);
    assert_int_equal(anns.a[0].kind, RT_ANN_REAL);
    assert_memory_equal(text + anns.a[0].value_at, "0.25", 4); /* the last number */
    assert_int_equal(anns.a[1].kind, RT_ANN_INT);
    assert_memory_equal(text + anns.a[1].value_at, "10", 2);
    assert_int_equal(anns.a[2].kind, RT_ANN_LOG);
    assert_memory_equal(text + anns.a[2].value_at, "1e-3", 4);
    assert_int_equal(anns.a[3].kind, RT_ANN_CHOICE);
    assert_int_equal(anns.a[3].nchoices, 3);
    assert_memory_equal(text + anns.a[3].value_at, "fast", 4);
    rt_rng rng;
    rt_rng_seed(&rng, 7, 0);
    rt_buf out;
    rt_buf_init(&out, 0);
    for (int trial = 0; trial < 2000; trial++) {
        const rt_annotation *a = &anns.a[(size_t)trial % anns.n];
        assert_int_equal(rt_annotation_mutate(text, len, a, &rng, &out), 0);
        /* only the value changed: same prefix and suffix */
        assert_memory_equal(out.data, text, a->value_at);
        size_t tail = len - a->value_at - a->value_len;
        assert_memory_equal(out.data + out.len - tail, text + len - tail, tail);
        size_t vl = out.len - a->value_at - tail;
        char val[80];
        assert_true(vl < sizeof val);
        memcpy(val, out.data + a->value_at, vl);
        val[vl] = '\0';
        assert_false(vl == a->value_len && memcmp(val, text + a->value_at, vl) == 0);
        if (a->kind == RT_ANN_CHOICE) {
            assert_true(strcmp(val, "slow") == 0 || strcmp(val, "mid") == 0);
        } else {
            char *end;
            double v = strtod(val, &end);
            assert_true(*end == '\0');
            assert_true(v >= a->lo && v <= a->hi);
            if (a->kind == RT_ANN_INT)
                assert_null(strpbrk(val, ".eE"));
        }
        /* and the result parses again to the same annotations */
        rt_regions r2;
        rt_annotations again;
        assert_int_equal(rt_regions_find(out.data, out.len, &r2, err, sizeof err), 0);
        assert_int_equal(rt_annotations_parse(out.data, out.len, &r2, &again, err, sizeof err), 0);
        assert_int_equal(again.n, anns.n);
        rt_annotations_free(&again);
    }
    rt_annotations_free(&anns);
    /* annotations outside the regions are not used */
    const char *outside = "a = 1 # ratchet: int 0 5\n# EVOLVE-BLOCK-START\nb = 2 # ratchet: int 0 5\n"
                          "# EVOLVE-BLOCK-END\n";
    assert_int_equal(rt_regions_find(outside, strlen(outside), &reg, err, sizeof err), 0);
    assert_int_equal(rt_annotations_parse(outside, strlen(outside), &reg, &anns, err, sizeof err), 0);
    assert_int_equal(anns.n, 1);
    assert_memory_equal(outside + anns.a[0].value_at, "2", 1);
    rt_annotations_free(&anns);
    /* malformed annotations name their line */
    static const char *const bad[] = {
        "x = 1 # ratchet: real 1\n",          "x = 1 # ratchet: real 2 1\n",
        "x = 1 # ratchet: log 0 1\n",         "x = 1 # ratchet: int 0.5 3\n",
        "x = 1.5 # ratchet: int 0 3\n",       "x = 9 # ratchet: real 0 1\n",
        "x = y # ratchet: real 0 1\n",        "x = 1 # ratchet: spline 0 1\n",
        "x = a # ratchet: choice a\n",        "x = q # ratchet: choice a|b\n",
        "x = 1 ratchet: real 0 1\n",          "x = 1 # ratchet: real nan 1\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t bl = strlen(bad[i]);
        assert_int_equal(rt_regions_find(bad[i], bl, &reg, err, sizeof err), 0);
        int rc = rt_annotations_parse(bad[i], bl, &reg, &anns, err, sizeof err);
        if (rc != RT_EUSAGE)
            fprintf(stderr, "accepted: %s", bad[i]);
        assert_int_equal(rc, RT_EUSAGE);
        assert_non_null(strstr(err, "line 1"));
    }
    rt_buf_free(&out);
}

/* Random and mutated texts never crash the region finder, the annotation parser or the applier,
 * and the applier never returns a partial result. */
static void parsers_survive_random_text(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "<<<<<<< SEARCH\n", "=======\n", ">>>>>>> REPLACE\n", "EVOLVE-BLOCK-START\n",
        "EVOLVE-BLOCK-END\n", "int a = 1;\n", "# ratchet: real 0 1\n", "x = 0.5 # ratchet: ",
        "int 1 9\n", "choice a|b\n", "log 1e-3 1\n", "\n", " ", "\r\n", "\xff\xfe", "1e999",
        "-", "--", "/*", "*/", "//", "#", "b = 2;\n", "\0",
    };
    rt_rng rng;
    rt_rng_seed(&rng, 11, 0);
    rt_buf out;
    rt_buf_init(&out, 0);
    char text[512], reply[512], err[256];
    for (int trial = 0; trial < 20000; trial++) {
        size_t tl = 0, rl = 0;
        while (tl < 400) {
            const char *p = pieces[rt_rng_below(&rng, sizeof pieces / sizeof pieces[0])];
            size_t pl = p[0] ? strlen(p) : 1;
            memcpy(text + tl, p, pl);
            tl += pl;
            if (rt_rng_below(&rng, 8) == 0)
                break;
        }
        while (rl < 400) {
            const char *p = pieces[rt_rng_below(&rng, sizeof pieces / sizeof pieces[0])];
            size_t pl = p[0] ? strlen(p) : 1;
            memcpy(reply + rl, p, pl);
            rl += pl;
            if (rt_rng_below(&rng, 8) == 0)
                break;
        }
        if (trial % 3 == 0) /* raw bytes */
            for (size_t i = 0; i < tl; i++)
                if (rt_rng_below(&rng, 10) == 0)
                    text[i] = (char)rt_rng_below(&rng, 256);
        rt_regions reg;
        if (rt_regions_find(text, tl, &reg, err, sizeof err) == 0) {
            for (size_t k = 0; k < reg.n; k++)
                assert_true(reg.r[k].begin <= reg.r[k].end && reg.r[k].end <= tl);
            rt_annotations anns;
            if (rt_annotations_parse(text, tl, &reg, &anns, err, sizeof err) == 0) {
                for (size_t k = 0; k < anns.n; k++) {
                    assert_true(anns.a[k].value_at + anns.a[k].value_len <= tl);
                    rt_annotation_mutate(text, tl, &anns.a[k], &rng, &out);
                }
                rt_annotations_free(&anns);
            }
        }
        int rc = rt_edit_apply(text, tl, reply, rl, &out, err, sizeof err);
        if (rc)
            assert_int_equal(out.len, 0);
        else /* what applied keeps the fixed text */
            assert_int_equal(rt_edit_check_rewrite(text, tl, out.data, out.len, err, sizeof err), 0);
    }
    rt_buf_free(&out);
}

typedef struct seen {
    char keys[16][32];
    char values[16][64];
    int lines[16];
    int n;
} seen;

static int on_entry(const char *key, const char *value, int line, void *user)
{
    seen *s = user;
    if (s->n == 16)
        return RT_ETOOBIG;
    snprintf(s->keys[s->n], sizeof s->keys[0], "%s", key);
    snprintf(s->values[s->n], sizeof s->values[0], "%s", value);
    s->lines[s->n] = line;
    s->n++;
    return strcmp(key, "refuse") == 0 ? RT_EUSAGE : 0;
}

static void config_files_parse_with_lines(void **state)
{
    (void)state;
    rt_error err;
    seen s;
    memset(&s, 0, sizeof s);
    const char *text = "; a comment\n"
                       "# another\n"
                       "\n"
                       "[ratchet]\n"
                       "evaluator = ./evaluate\n"
                       "seconds=600 ; inline comment\n"
                       "command = ./propose --flag x\n";
    assert_int_equal(rt_config_parse(text, strlen(text), "t.ini", on_entry, &s, &err), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.keys[0], "evaluator");
    assert_string_equal(s.values[0], "./evaluate");
    assert_int_equal(s.lines[0], 5);
    assert_string_equal(s.keys[1], "seconds");
    assert_string_equal(s.values[1], "600");
    assert_int_equal(s.lines[1], 6);
    assert_string_equal(s.values[2], "./propose --flag x");
    assert_int_equal(s.lines[2], 7);
    static const struct {
        const char *text;
        const char *where;
    } bad[] = {
        {"a = 1\n[other]\nb = 2\n", "t.ini:3:"},
        {"a = 1\nno equals sign\n", "t.ini:2:"},
        {"a = 1\n  continued\n", "t.ini:2:"},
        {"a = 1\nrefuse = 1\n", "t.ini:2:"},
        {"a = 1\n[unclosed\n", "t.ini:2:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&s, 0, sizeof s);
        int rc = rt_config_parse(bad[i].text, strlen(bad[i].text), "t.ini", on_entry, &s, &err);
        assert_int_not_equal(rc, 0);
        if (!strstr(err.msg, bad[i].where))
            fprintf(stderr, "case %zu: %s\n", i, err.msg);
        assert_non_null(strstr(err.msg, bad[i].where));
    }
    char longline[300];
    memset(longline, 'a', sizeof longline);
    memcpy(longline, "k = ", 4);
    assert_int_equal(rt_config_parse(longline, sizeof longline, "t.ini", on_entry, &s, &err),
                     RT_EUSAGE);
    assert_int_equal(rt_config_parse("a = 1\0b = 2\n", 12, "t.ini", on_entry, &s, &err),
                     RT_EUSAGE);
    /* random bytes: never a crash, always 0 or a message naming the file */
    rt_rng rng;
    rt_rng_seed(&rng, 5, 0);
    static const char *const pieces[] = {"a", "=", " ", "\n", "[", "]", "ratchet", ";", "#",
                                         "\t", "\r", "key = value\n", "\xef\xbb\xbf", "x"};
    char buf[400];
    for (int trial = 0; trial < 5000; trial++) {
        size_t n = 0;
        while (n < 380 && rt_rng_below(&rng, 40) != 0) {
            const char *p = pieces[rt_rng_below(&rng, sizeof pieces / sizeof pieces[0])];
            memcpy(buf + n, p, strlen(p));
            n += strlen(p);
        }
        if (trial % 2)
            for (size_t i = 0; i < n; i++)
                if (rt_rng_below(&rng, 12) == 0)
                    buf[i] = (char)rt_rng_below(&rng, 256);
        memset(&s, 0, sizeof s);
        int rc = rt_config_parse(buf, n, "r.ini", on_entry, &s, &err);
        if (rc)
            assert_non_null(strstr(err.msg, "r.ini"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(edits_apply_exactly_once_inside_regions),
        cmocka_unit_test(edits_are_all_or_nothing),
        cmocka_unit_test(rewrites_and_markers_protect_fixed_text),
        cmocka_unit_test(annotations_parse_and_mutate_in_range),
        cmocka_unit_test(parsers_survive_random_text),
        cmocka_unit_test(config_files_parse_with_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
