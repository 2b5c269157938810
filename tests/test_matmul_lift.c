/* test_matmul_lift.c — tests of Hensel lifting (src/problems/matmul_lift.c).
 *
 * Runs from the repository root; published schemes come from tu_schemes_dir() (tests that need
 * them are skipped when the folder is missing). Every lift the tests accept is re-checked here
 * over the integers with mm_verify and compared with its input modulo 2, so a lifter that
 * returned success on a wrong scheme fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems/matmul/matmul_lift.h"
#include "problems/matmul/matmul_plain.h"
#include "problems/matmul/matmul_search.h"
#include "rng.h"
#include "testutil.h"

/* Reads an .exp file of the given shape into s; returns 0, or -1 when missing. */
static int load(const char *path, int n, int m, int p, mm_plain *s)
{
    size_t len;
    char *text = tu_slurp(path, &len);
    if (!text)
        return -1;
    char err[256];
    int rc = mm_parse_exp(text, len, n, m, p, s, err, sizeof err);
    free(text);
    if (rc)
        fail_msg("%s: %s", path, err);
    return 0;
}

/* The independent checks of a claimed lift: valid over Z, same number of products, and equal
 * to the GF(2) input modulo 2 product by product (the lifter keeps the input's order, dropping
 * products with a zero factor modulo 2). */
static void assert_is_lift(const mm_plain *gf2, const mm_plain *z)
{
    mm_check chk;
    assert_int_equal(mm_verify(z, MM_Z, &chk), 0);
    assert_true(chk.valid);
    mm_check g;
    assert_int_equal(mm_verify(gf2, MM_GF2, &g), 0);
    assert_int_equal(chk.rank, g.rank);
    assert_int_equal(z->rank, g.rank);
    int w = mm_plain_width(gf2->n, gf2->m, gf2->p);
    int t2 = 0;
    for (int t = 0; t < gf2->rank; t++) {
        const int64_t *row = gf2->coef + (size_t)t * (size_t)w;
        int wf[3] = {gf2->n * gf2->m, gf2->m * gf2->p, gf2->p * gf2->n}, off = 0, zero = 0;
        for (int q = 0; q < 3; q++) {
            int any = 0;
            for (int e = 0; e < wf[q]; e++)
                any |= (int)(row[off + e] & 1);
            zero |= !any;
            off += wf[q];
        }
        if (zero)
            continue;
        const int64_t *lrow = z->coef + (size_t)t2 * (size_t)w;
        for (int e = 0; e < w; e++)
            assert_int_equal(row[e] & 1, lrow[e] & 1);
        t2++;
    }
    assert_int_equal(t2, z->rank);
}

/* Strassen's scheme read modulo 2 lifts back to an integer scheme. */
static void test_strassen_mod2_lifts(void **state)
{
    (void)state;
    mm_plain s, g, out;
    assert_int_equal(load("tests/data/strassen-222.exp", 2, 2, 2, &s), 0);
    assert_int_equal(mm_plain_init(&g, 2, 2, 2, s.rank), 0);
    for (int i = 0; i < s.rank * mm_plain_width(2, 2, 2); i++)
        g.coef[i] = s.coef[i] & 1; /* all signs lost */
    char why[512] = "";
    mm_lift_info info;
    assert_int_equal(mm_lift_ex(&g, NULL, &out, &info, why, sizeof why), 0);
    assert_is_lift(&g, &out);
    assert_int_equal(info.proof, 0);
    assert_true(info.max_coef >= 1);
    mm_plain_free(&out);
    mm_plain_free(&g);
    mm_plain_free(&s);
}

/* <4,4,4> rank 47 is valid only in characteristic 2: the obstruction appears modulo 4. */
static void test_444_47_cannot_lift(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/444-47-mod2.exp", tu_schemes_dir());
    mm_plain g, out = {0};
    if (load(path, 4, 4, 4, &g)) {
        skip();
        return;
    }
    char why[512] = "";
    mm_lift_info info;
    assert_int_equal(mm_lift_ex(&g, NULL, &out, &info, why, sizeof why), RT_EINVALID);
    assert_int_equal(info.proof, 1);
    assert_int_equal(info.bits, 2);
    assert_int_equal(info.tries, 1);
    assert_non_null(strstr(why, "cannot be lifted"));
    assert_non_null(strstr(why, "modulo 4"));
    assert_null(out.coef);
    mm_plain_free(&g);
}

/* The published 5x5x5 rank-93 scheme over GF(2) lifts (the record over the integers). */
static void test_555_93_lifts(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/555-93-mod2.exp", tu_schemes_dir());
    mm_plain g, out;
    if (load(path, 5, 5, 5, &g)) {
        skip();
        return;
    }
    char why[512] = "";
    assert_int_equal(mm_lift(&g, &out, why, sizeof why), 0);
    assert_is_lift(&g, &out);
    assert_int_equal(out.rank, 93);
    mm_plain_free(&out);
    mm_plain_free(&g);
}

/* Two published GF(2) schemes that lift: 226-21 on the first try, 336-42 only from a shuffled
 * column order (its first 32 tries, odd-first and natural orders, fail). */
static void test_published_mod2_lift(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int n, m, p;
    } files[] = {{"226-21-mod2.exp", 2, 2, 6}, {"336-42-mod2.exp", 3, 3, 6}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", tu_schemes_dir(), files[i].name);
        mm_plain g, out;
        if (load(path, files[i].n, files[i].m, files[i].p, &g)) {
            skip();
            return;
        }
        char why[512] = "";
        mm_lift_info info;
        if (mm_lift_ex(&g, NULL, &out, &info, why, sizeof why))
            fail_msg("%s: %s", files[i].name, why);
        assert_is_lift(&g, &out);
        print_message("%s lifted on try %d, largest coefficient %lld\n", files[i].name, info.tries,
                      (long long)info.max_coef);
        mm_plain_free(&out);
        mm_plain_free(&g);
    }
}

/* A scheme that is not valid over GF(2) is bad input, with the failing equation named. */
static void test_rejects_invalid_input(void **state)
{
    (void)state;
    mm_plain s, out = {0};
    assert_int_equal(load("tests/data/strassen-222.exp", 2, 2, 2, &s), 0);
    s.coef[0] ^= 1; /* a11 in the first product flips modulo 2 */
    char why[512] = "";
    assert_int_equal(mm_lift(&s, &out, why, sizeof why), RT_EUSAGE);
    assert_non_null(strstr(why, "not a scheme over GF(2)"));
    assert_null(out.coef);
    mm_lift_options o;
    mm_lift_options_init(&o);
    o.bits = 1;
    s.coef[0] ^= 1;
    assert_int_equal(mm_lift_ex(&s, &o, &out, NULL, why, sizeof why), RT_EUSAGE);
    mm_plain_free(&s);
}

/* Property: integer schemes with coefficients in {-1,0,1} made by random flips and plus
 * transitions from the standard algorithm, read modulo 2, lift (they have a lift: themselves);
 * every lift passes the independent checks. Random GF(2) schemes either lift (checked the same
 * way) or fail with RT_EINVALID and a reason. */
static void test_property_random_schemes(void **state)
{
    (void)state;
    rt_rng rng;
    rt_rng_seed(&rng, 20261126, 3);
    int lifted = 0, z_total = 0, gf2_lifted = 0, gf2_failed = 0;
    for (int round = 0; round < 40; round++) {
        int n = 2 + (int)rt_rng_below(&rng, 2), m = 2 + (int)rt_rng_below(&rng, 2),
            p = 2 + (int)rt_rng_below(&rng, 2);
        enum mm_field field = round % 2 ? MM_GF2 : MM_Z;
        mm_scheme s;
        assert_int_equal(mm_scheme_standard(&s, n, m, p, field), 0);
        for (int step = 0; step < 6; step++) {
            mm_walk(&s, &rng, 300, NULL);
            if (rt_rng_below(&rng, 3) == 0)
                mm_plus(&s, &rng);
        }
        mm_plain plain, g, out = {0};
        assert_int_equal(mm_scheme_to_plain(&s, &plain), 0);
        mm_check chk;
        assert_int_equal(mm_verify(&plain, field, &chk), 0);
        assert_true(chk.valid); /* the search's moves keep schemes valid */
        assert_int_equal(mm_plain_init(&g, n, m, p, plain.rank), 0);
        for (int i = 0; i < plain.rank * mm_plain_width(n, m, p); i++)
            g.coef[i] = plain.coef[i] & 1;
        char why[512] = "";
        mm_lift_info info;
        int rc = mm_lift_ex(&g, NULL, &out, &info, why, sizeof why);
        if (field == MM_Z) {
            z_total++;
            if (rc != 0)
                fail_msg("round %d: %dx%dx%d rank %d from Z did not lift: %s", round, n, m, p,
                         g.rank, why);
            lifted++;
        }
        if (rc == 0) {
            assert_is_lift(&g, &out);
            gf2_lifted += field == MM_GF2;
        } else {
            assert_int_equal(rc, RT_EINVALID);
            assert_true(strlen(why) > 10);
            assert_null(out.coef);
            gf2_failed++;
        }
        mm_plain_free(&out);
        mm_plain_free(&g);
        mm_plain_free(&plain);
        mm_scheme_free(&s);
    }
    print_message("lifted %d of %d integer schemes read mod 2; GF(2) schemes: %d lifted, %d not\n",
                  lifted, z_total, gf2_lifted, gf2_failed);
}

/* The conversions: lift writes a scheme that verifies over Z; c writes a function; other
 * formats and malformed text are rejected with a reason. */
static void test_convert(void **state)
{
    (void)state;
    size_t len;
    char *text = tu_slurp("tests/data/strassen-222.exp", &len);
    assert_non_null(text);
    rt_buf out;
    rt_buf_init(&out, 0);
    char err[512] = "";
    assert_int_equal(mm_lift_convert(text, len, 2, 2, 2, MM_GF2, "lift", &out, err, sizeof err), 0);
    mm_plain z;
    assert_int_equal(mm_parse_exp(out.data, out.len, 2, 2, 2, &z, err, sizeof err), 0);
    mm_check chk;
    assert_int_equal(mm_verify(&z, MM_Z, &chk), 0);
    assert_true(chk.valid);
    mm_plain_free(&z);
    rt_buf_reset(&out);
    assert_int_equal(mm_lift_convert(text, len, 2, 2, 2, MM_Z, "c", &out, err, sizeof err), 0);
    assert_non_null(strstr(rt_buf_cstr(&out), "void ratchet_matmul_2x2x2("));
    assert_int_equal(mm_lift_convert(text, len, 2, 2, 2, MM_Z, "cobol", &out, err, sizeof err),
                     RT_EUSAGE);
    assert_int_equal(mm_lift_convert("(a11)*(b11", 10, 2, 2, 2, MM_Z, "lift", &out, err,
                                     sizeof err), RT_EUSAGE);
    rt_buf_free(&out);
    free(text);
}

/* The search's encoder: equal GF(2) schemes give equal text (the cache included), and the
 * text is an integer scheme. */
static void test_encode(void **state)
{
    (void)state;
    rt_rng rng;
    rt_rng_seed(&rng, 7, 1);
    mm_scheme s;
    assert_int_equal(mm_scheme_standard(&s, 2, 2, 3, MM_GF2), 0);
    mm_walk(&s, &rng, 2000, NULL);
    rt_buf a, b;
    rt_buf_init(&a, 0);
    rt_buf_init(&b, 0);
    int rc = mm_lift_encode(&s, &a);
    assert_true(rc == 0 || rc == RT_EINVALID);
    if (rc == 0) {
        assert_int_equal(mm_lift_encode(&s, &b), 0);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        mm_plain z;
        char err[256];
        assert_int_equal(mm_parse_exp(a.data, a.len, 2, 2, 3, &z, err, sizeof err), 0);
        mm_check chk;
        assert_int_equal(mm_verify(&z, MM_Z, &chk), 0);
        assert_true(chk.valid);
        assert_int_equal(chk.rank, s.rank);
        mm_plain_free(&z);
    }
    rt_buf_free(&a);
    rt_buf_free(&b);
    mm_scheme_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strassen_mod2_lifts),
        cmocka_unit_test(test_444_47_cannot_lift),
        cmocka_unit_test(test_555_93_lifts),
        cmocka_unit_test(test_published_mod2_lift),
        cmocka_unit_test(test_rejects_invalid_input),
        cmocka_unit_test(test_property_random_schemes),
        cmocka_unit_test(test_convert),
        cmocka_unit_test(test_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
