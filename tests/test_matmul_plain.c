/* test_matmul_plain.c — tests of the .exp/JSON forms and the exact verifier of matmul schemes.
 *
 * Runs from the repository root. The published schemes are read from ../shared/data/schemes
 * (or $RT_SCHEMES_DIR); tests that need them are skipped when the folder is missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems/matmul/matmul_plain.h"
#include "rng.h"
#include "testutil.h"

#define MAX_FILES 128

typedef struct scheme_file {
    char name[256];
    int n, m, p, rank;
    enum mm_field field;
    char *text;
    size_t len;
} scheme_file;

static scheme_file g_files[MAX_FILES];
static int g_nfiles;
static int g_have_dir;

/* ---- helpers ---------------------------------------------------------------------------- */

static rt_rng g_rng; /* fixed seed (main), so every run sees the same inputs */

static size_t rng_below(size_t bound)
{
    return bound ? (size_t)(rt_rng_next(&g_rng) % bound) : 0;
}

/* Reads a published scheme's file name into f; returns 0 or -1. */
static int parse_file_name(const char *name, scheme_file *f)
{
    tu_scheme_name sn;
    if (tu_scheme_name_parse(name, &sn))
        return -1;
    f->n = sn.n;
    f->m = sn.m;
    f->p = sn.p;
    f->rank = sn.rank;
    f->field = sn.gf2 ? MM_GF2 : MM_Z;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(((const scheme_file *)a)->name, ((const scheme_file *)b)->name);
}

static int load_files(void **state)
{
    (void)state;
    const char *dir = tu_schemes_dir();
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && g_nfiles < MAX_FILES) {
        scheme_file f;
        memset(&f, 0, sizeof f);
        if (strlen(e->d_name) >= sizeof f.name || parse_file_name(e->d_name, &f))
            continue;
        snprintf(f.name, sizeof f.name, "%s", e->d_name);
        char path[4096], err[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (rt_read_file(path, MM_MAX_TEXT, &f.text, &f.len, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            closedir(d);
            return -1;
        }
        g_files[g_nfiles++] = f;
    }
    closedir(d);
    qsort(g_files, (size_t)g_nfiles, sizeof g_files[0], cmp_names);
    g_have_dir = g_nfiles > 0;
    return 0;
}

static int free_files(void **state)
{
    (void)state;
    for (int i = 0; i < g_nfiles; i++)
        free(g_files[i].text);
    g_nfiles = 0;
    return 0;
}

static void need_files(void)
{
    if (!g_have_dir) {
        print_message("published schemes not found (set RT_SCHEMES_DIR); skipping\n");
        skip();
    }
}

/* Parses exactly len bytes from a fresh allocation of that size, so that any read past the end
 * shows under ASan. */
static int parse_exact(const char *text, size_t len, int n, int m, int p, mm_plain *out, char *err,
                       size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, text, len);
    int rc = mm_parse_any(len ? copy : NULL, len, n, m, p, out, err, errlen);
    free(copy);
    return rc;
}

static int width_of(const mm_plain *s)
{
    return mm_plain_width(s->n, s->m, s->p);
}

static void assert_same_scheme(const mm_plain *a, const mm_plain *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->m, b->m);
    assert_int_equal(a->p, b->p);
    assert_int_equal(a->rank, b->rank);
    assert_memory_equal(a->coef, b->coef,
                        (size_t)a->rank * (size_t)width_of(a) * sizeof(int64_t));
}

/* Parses text that must be valid; fails the test with the parser's message otherwise. */
static void parse_ok(const char *text, size_t len, int n, int m, int p, mm_plain *out)
{
    char err[512] = "";
    int rc = parse_exact(text, len, n, m, p, out, err, sizeof err);
    if (rc != 0)
        fail_msg("parse failed (%d): %s", rc, err);
}

/* print_exp -> parse -> compare, and print_exp of the result is the same bytes. */
static void check_exp_round_trip(const mm_plain *s)
{
    rt_buf b1, b2;
    rt_buf_init(&b1, 0);
    rt_buf_init(&b2, 0);
    assert_int_equal(mm_print_exp(s, &b1), 0);
    mm_plain back;
    parse_ok(b1.data, b1.len, s->n, s->m, s->p, &back);
    assert_same_scheme(s, &back);
    assert_int_equal(mm_print_exp(&back, &b2), 0);
    assert_int_equal(b1.len, b2.len);
    assert_memory_equal(b1.data, b2.data, b1.len);
    mm_plain_free(&back);
    rt_buf_free(&b1);
    rt_buf_free(&b2);
}

static void check_json_round_trip(const mm_plain *s, enum mm_field field)
{
    rt_buf b;
    rt_buf_init(&b, 0);
    assert_int_equal(mm_print_json(s, field, &b), 0);
    mm_plain back;
    char err[512] = "";
    int rc = mm_parse_json(b.data, b.len, s->n, s->m, s->p, &back, err, sizeof err);
    if (rc)
        fail_msg("JSON parse failed (%d): %s", rc, err);
    assert_same_scheme(s, &back);
    mm_plain_free(&back);
    parse_ok(b.data, b.len, s->n, s->m, s->p, &back); /* mm_parse_any picks JSON */
    assert_same_scheme(s, &back);
    mm_plain_free(&back);
    rt_buf_free(&b);
}

/* Builds the standard algorithm: one product a_ij * b_jk * c_ki for each i, j, k. */
static void build_standard(int n, int m, int p, mm_plain *s)
{
    assert_int_equal(mm_plain_init(s, n, m, p, n * m * p), 0);
    int width = mm_plain_width(n, m, p);
    int t = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            for (int k = 0; k < p; k++, t++) {
                int64_t *row = s->coef + (size_t)t * (size_t)width;
                row[i * m + j] = 1;
                row[n * m + j * p + k] = 1;
                row[n * m + m * p + k * n + i] = 1;
            }
}

/* ---- published schemes ------------------------------------------------------------------ */

static void test_published_verify(void **state)
{
    (void)state;
    need_files();
    for (int f = 0; f < g_nfiles; f++) {
        const scheme_file *sf = &g_files[f];
        mm_plain s;
        parse_ok(sf->text, sf->len, sf->n, sf->m, sf->p, &s);
        mm_check c;
        assert_int_equal(mm_verify(&s, sf->field, &c), 0);
        if (!c.valid) {
            char why[256];
            mm_check_describe(&s, &c, why, sizeof why);
            fail_msg("%s does not verify: %s", sf->name, why);
        }
        if (c.rank != sf->rank)
            fail_msg("%s: rank %d, expected %d", sf->name, c.rank, sf->rank);
        assert_int_equal(s.rank, c.rank); /* no published product has a zero factor */
        assert_int_equal(c.equations, (long)(sf->n * sf->m) * (sf->m * sf->p) * (sf->p * sf->n));
        assert_true(c.nnz > 0);
        if (sf->field == MM_Z) { /* a scheme over the integers also holds modulo 2 */
            assert_int_equal(mm_verify(&s, MM_GF2, &c), 0);
            assert_true(c.valid);
        }
        mm_plain_free(&s);
    }
    print_message("verified %d published schemes\n", g_nfiles);
}

/* Returns 1 if v has an entry that is nonzero over the field. */
static int factor_nonzero(const int64_t *v, int width, enum mm_field field)
{
    for (int i = 0; i < width; i++)
        if (field == MM_GF2 ? v[i] % 2 != 0 : v[i] != 0)
            return 1;
    return 0;
}

static void test_published_one_change_fails(void **state)
{
    (void)state;
    need_files();
    for (int f = 0; f < g_nfiles; f++) {
        const scheme_file *sf = &g_files[f];
        mm_plain s;
        parse_ok(sf->text, sf->len, sf->n, sf->m, sf->p, &s);
        int wa = sf->n * sf->m, wb = sf->m * sf->p, wc = sf->p * sf->n;
        int width = wa + wb + wc;
        /* a product whose B and C factors are nonzero over the field: then changing an A
         * coefficient by an odd amount changes the tensor over Z and over GF(2) */
        int t = -1;
        for (int k = 0; k < s.rank && t < 0; k++) {
            int cand = (s.rank / 2 + k) % s.rank;
            const int64_t *row = s.coef + (size_t)cand * (size_t)width;
            if (factor_nonzero(row + wa, wb, sf->field) && factor_nonzero(row + wa + wb, wc, sf->field))
                t = cand;
        }
        assert_true(t >= 0);
        int entry = (t * 7 + f) % wa;
        int64_t *coef = &s.coef[(size_t)t * (size_t)width + (size_t)entry];
        *coef = *coef == 0 ? 1 : *coef + 1;

        rt_buf b;
        rt_buf_init(&b, 0);
        assert_int_equal(mm_print_exp(&s, &b), 0);
        mm_plain changed;
        parse_ok(b.data, b.len, sf->n, sf->m, sf->p, &changed);
        mm_check c;
        assert_int_equal(mm_verify(&changed, sf->field, &c), 0);
        if (c.valid)
            fail_msg("%s still verifies after changing product %d entry %d", sf->name, t + 1, entry);
        assert_int_equal(c.fail_a, entry); /* the only A index whose equations changed */
        char why[256];
        mm_check_describe(&changed, &c, why, sizeof why);
        assert_true(strncmp(why, "equation a", 10) == 0);
        assert_non_null(strstr(why, ", must be "));
        mm_plain_free(&changed);
        mm_plain_free(&s);
        rt_buf_free(&b);
    }
}

static void test_published_round_trips(void **state)
{
    (void)state;
    need_files();
    for (int f = 0; f < g_nfiles; f++) {
        const scheme_file *sf = &g_files[f];
        mm_plain s;
        parse_ok(sf->text, sf->len, sf->n, sf->m, sf->p, &s);
        check_exp_round_trip(&s);
        check_json_round_trip(&s, sf->field);
        mm_plain_free(&s);
    }
}

/* ---- hand-made schemes ------------------------------------------------------------------ */

static void test_standard_algorithm(void **state)
{
    (void)state;
    static const int shapes[][3] = {{1, 1, 1}, {2, 2, 2}, {2, 3, 4}, {3, 3, 3}, {4, 2, 5},
                                    {1, 8, 2}, {5, 5, 5}, {8, 8, 8}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        mm_plain s;
        int n = shapes[i][0], m = shapes[i][1], p = shapes[i][2];
        build_standard(n, m, p, &s);
        mm_check c;
        assert_int_equal(mm_verify(&s, MM_Z, &c), 0);
        assert_true(c.valid);
        assert_int_equal(c.rank, n * m * p);
        assert_int_equal(c.nnz, 3L * n * m * p);
        assert_int_equal(mm_verify(&s, MM_GF2, &c), 0);
        assert_true(c.valid);
        assert_int_equal(c.rank, n * m * p);
        check_exp_round_trip(&s);
        check_json_round_trip(&s, MM_Z);
        mm_plain_free(&s);
    }
}

static void test_failure_description(void **state)
{
    (void)state;
    mm_plain s;
    build_standard(2, 2, 2, &s);
    /* drop product (i=0, j=1, k=1) = a12*b22*c21 by zeroing its C factor */
    int width = mm_plain_width(2, 2, 2);
    int t = 0 * 4 + 1 * 2 + 1;
    memset(s.coef + (size_t)t * (size_t)width + 8, 0, 4 * sizeof(int64_t));
    mm_check c;
    char why[256];
    assert_int_equal(mm_verify(&s, MM_Z, &c), 0);
    assert_false(c.valid);
    assert_int_equal(c.rank, 7);
    mm_check_describe(&s, &c, why, sizeof why);
    assert_string_equal(why, "equation a12*b22*c21: coefficient is 0, must be 1");
    mm_plain_free(&s);

    /* a doubled product: 2 over Z, 0 modulo 2 */
    static const char text[] = "a11*b11*c11\na12*b21*c11\na11*b12*c21\na12*b22*c21\n"
                               "a21*b11*c12\na22*b21*c12\na21*b12*c22\na22*b22*c22\n"
                               "a11*b11*c11\n";
    parse_ok(text, sizeof text - 1, 2, 2, 2, &s);
    assert_int_equal(mm_verify(&s, MM_Z, &c), 0);
    mm_check_describe(&s, &c, why, sizeof why);
    assert_string_equal(why, "equation a11*b11*c11: coefficient is 2, must be 1");
    assert_int_equal(mm_verify(&s, MM_GF2, &c), 0);
    mm_check_describe(&s, &c, why, sizeof why);
    assert_string_equal(why, "equation a11*b11*c11: coefficient is 0, must be 1");
    assert_int_equal(c.fail_a, 0);
    assert_int_equal(c.fail_b, 0);
    assert_int_equal(c.fail_c, 0);
    assert_int_equal(c.expected, 1);
    mm_plain_free(&s);

    /* a wrong nonzero where 0 is due, in a 2x3x4 shape (checks the index naming) */
    build_standard(2, 3, 4, &s);
    s.coef[6 + 12 + 3] = 1; /* product 1 also gets c22 (k=2, i=2): a11*b11*c22 must be 0 */
    assert_int_equal(mm_verify(&s, MM_Z, &c), 0);
    mm_check_describe(&s, &c, why, sizeof why);
    assert_string_equal(why, "equation a11*b11*c22: coefficient is 1, must be 0");
    mm_plain_free(&s);
}

/* Strassen's scheme: output entry (i,k) of A*B pairs with variable c_ki. */
static const char strassen_text[] =
    "# Strassen 1969, written in several of the accepted spellings\r\n"
    "(a11+a22)*(b11+b22)*(c11+c22)\r\n"
    "(a21 + a22) b11 (c12 - c22)\r\n"
    "a11 (b12-b22)(c21+c22)\n"
    "\n"
    "-(a22*(-b21+b11)*(c11+c12))\n"
    "(a11+a12)*b22*(-c11+c21)\n"
    "(-a11+a21)*(b11+b12)*c22\n"
    "(a12-a22)*(b21+b22)*(1*c11)";

static void test_strassen(void **state)
{
    (void)state;
    mm_plain s;
    parse_ok(strassen_text, sizeof strassen_text - 1, 2, 2, 2, &s);
    assert_int_equal(s.rank, 7);
    mm_check c;
    assert_int_equal(mm_verify(&s, MM_Z, &c), 0);
    if (!c.valid) {
        char why[256];
        mm_check_describe(&s, &c, why, sizeof why);
        fail_msg("Strassen over Z: %s", why);
    }
    assert_int_equal(c.rank, 7);
    assert_int_equal(c.nnz, 36);
    assert_int_equal(mm_verify(&s, MM_GF2, &c), 0);
    assert_true(c.valid);
    assert_int_equal(c.rank, 7);
    check_exp_round_trip(&s);
    check_json_round_trip(&s, MM_GF2);

    rt_buf b;
    rt_buf_init(&b, 0);
    assert_int_equal(mm_print_exp(&s, &b), 0);
    assert_string_equal(rt_buf_cstr(&b), "(a11+a22)*(b11+b22)*(c11+c22)\n"
                                         "(a21+a22)*(b11)*(c12-c22)\n"
                                         "(a11)*(b12-b22)*(c21+c22)\n"
                                         "(-a22)*(b11-b21)*(c11+c12)\n"
                                         "(a11+a12)*(b22)*(-c11+c21)\n"
                                         "(-a11+a21)*(b11+b12)*(c22)\n"
                                         "(a12-a22)*(b21+b22)*(c11)\n");
    rt_buf_free(&b);
    mm_plain_free(&s);
}

/* Each spelling must give the same single product (a11+a12)*(b21)*(c11-2*c22). */
static void test_spellings(void **state)
{
    (void)state;
    static const char *const forms[] = {
        "(a11+a12)*(b21)*(c11-2*c22)",
        "(a11 + a12) (b21) (c11 - 2*c22)",
        "(a11+a12)(b21)(c11-2 * c22)\r\n",
        "(a11+a12)(b21)(c11-2*c22)\r\r\n",
        "-(-(a11+a12) b21 (c11-2*c22))",
        "-(-(a11+a12)*b21*(c11-2*c22))",
        "(a12+a11)*b21*(-2*c22+c11)",
        "b21*(c11-2*c22)*(a11+a12)",
        "(c11-c22-c22) * (a11+a12) * b21",
        "(a11+a12)*(b21)*(c11-c22-c22+c21-c21)",
        "# comment line\n\n   \t\n  (a11+a12)*(b21)*(c11-2*c22)  \n# trailing comment",
        "((a11+a12))*((b21))*((c11-2*c22))",
        "(+a11+a12)*(+b21)*(+c11-2*c22)",
        "a11*b21*(c11-2*c22) + 0*a11 ",
        "((a11+a12)*b21)*(c11-2*c22)",
        "(a11+a12)*-(-b21)*(c11-2*c22)",
        "(a11+a12)*(b21)*(c11-02*c22)",
        "(a11 + a12) (b21) (c11 - 2 c22)",
        "(a11+a12)(b21)(c11-2c22)",
    };
    mm_plain want;
    static const char base[] = "(a11+a12)*(b21)*(c11-2*c22)\n";
    parse_ok(base, sizeof base - 1, 2, 2, 2, &want);
    assert_int_equal(want.rank, 1);
    assert_int_equal(want.coef[0], 1);
    assert_int_equal(want.coef[1], 1);
    assert_int_equal(want.coef[4 + 2], 1);  /* b21 */
    assert_int_equal(want.coef[8 + 0], 1);  /* c11 */
    assert_int_equal(want.coef[8 + 3], -2); /* c22 */
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        mm_plain s;
        char err[512] = "";
        int rc = parse_exact(forms[i], strlen(forms[i]), 2, 2, 2, &s, err, sizeof err);
        if (i == 13) { /* a sum of a product and a term is not a product */
            assert_int_equal(rc, RT_EUSAGE);
            continue;
        }
        if (rc)
            fail_msg("form %zu (%s): %s", i, forms[i], err);
        if (s.rank != 1 || memcmp(s.coef, want.coef, 12 * sizeof(int64_t)) != 0)
            fail_msg("form %zu (%s) reads differently", i, forms[i]);
        mm_plain_free(&s);
    }
    mm_plain_free(&want);
}

static void test_zero_factor_kept(void **state)
{
    (void)state;
    static const char text[] = "(a11-a11)*b11*c11\na11*(b11+b12-b12)*c11\n";
    mm_plain s;
    parse_ok(text, sizeof text - 1, 1, 1, 2, &s);
    assert_int_equal(s.rank, 2);
    mm_check c;
    assert_int_equal(mm_verify(&s, MM_Z, &c), 0);
    assert_int_equal(c.rank, 1);
    rt_buf b;
    rt_buf_init(&b, 0);
    assert_int_equal(mm_print_exp(&s, &b), 0);
    assert_string_equal(rt_buf_cstr(&b), "(0*a11)*(b11)*(c11)\n(a11)*(b11)*(c11)\n");
    rt_buf_free(&b);
    check_exp_round_trip(&s);
    check_json_round_trip(&s, MM_Z);
    mm_plain_free(&s);
}

static void test_caps(void **state)
{
    (void)state;
    char err[512];
    mm_plain s;
    char text[128];

    /* the largest coefficient is accepted and printed back */
    snprintf(text, sizeof text, "%ld*a11*b11*(-%ld*c11)", (long)MM_MAX_COEF, (long)MM_MAX_COEF);
    parse_ok(text, strlen(text), 1, 1, 1, &s);
    assert_int_equal(s.coef[0], MM_MAX_COEF);
    assert_int_equal(s.coef[2], -MM_MAX_COEF);
    check_exp_round_trip(&s);
    mm_check c;
    assert_int_equal(mm_verify(&s, MM_Z, &c), 0);
    assert_false(c.valid);
    assert_int_equal(c.got, -(long long)MM_MAX_COEF * MM_MAX_COEF);
    mm_plain_free(&s);

    /* one more, literally or by adding, is refused */
    snprintf(text, sizeof text, "%ld*a11*b11*c11", (long)MM_MAX_COEF + 1);
    assert_int_equal(parse_exact(text, strlen(text), 1, 1, 1, &s, err, sizeof err), RT_EUSAGE);
    assert_true(strncmp(err, "line 1: ", 8) == 0);
    snprintf(text, sizeof text, "(%ld*a11+a11)*b11*c11", (long)MM_MAX_COEF);
    assert_int_equal(parse_exact(text, strlen(text), 1, 1, 1, &s, err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "a11"));
    snprintf(text, sizeof text, "a11*b11*(-%ld*c11-c11)", (long)MM_MAX_COEF);
    assert_int_equal(parse_exact(text, strlen(text), 1, 1, 1, &s, err, sizeof err), RT_EUSAGE);
    static const char huge[] = "99999999999999999999999999999999999*a11*b11*c11";
    assert_int_equal(parse_exact(huge, sizeof huge - 1, 1, 1, 1, &s, err, sizeof err), RT_EUSAGE);

    /* MM_MAX_RANK products are accepted, one more is over the cap */
    rt_buf b;
    rt_buf_init(&b, 0);
    for (int t = 0; t < MM_MAX_RANK; t++)
        assert_int_equal(rt_buf_puts(&b, "a11*b11*c11\n"), 0);
    parse_ok(b.data, b.len, 1, 1, 1, &s);
    assert_int_equal(s.rank, MM_MAX_RANK);
    assert_int_equal(mm_verify(&s, MM_Z, &c), 0);
    assert_false(c.valid);
    assert_int_equal(c.got, MM_MAX_RANK);
    assert_int_equal(mm_verify(&s, MM_GF2, &c), 0);
    assert_false(c.valid); /* 4096 copies of a11*b11*c11 are 0 modulo 2 */
    assert_int_equal(c.got, 0);
    mm_plain_free(&s);
    assert_int_equal(rt_buf_puts(&b, "# comments do not count\na11*b11*c11\n"), 0);
    assert_int_equal(parse_exact(b.data, b.len, 1, 1, 1, &s, err, sizeof err), RT_ETOOBIG);
    assert_true(strncmp(err, "line 4098: ", 11) == 0);
    rt_buf_free(&b);

    /* text over MM_MAX_TEXT */
    size_t big = MM_MAX_TEXT + 1;
    char *blank = malloc(big);
    assert_non_null(blank);
    memset(blank, ' ', big);
    assert_int_equal(mm_parse_exp(blank, big, 1, 1, 1, &s, err, sizeof err), RT_ETOOBIG);
    assert_true(strncmp(err, "line ", 5) == 0);
    blank[0] = '{';
    assert_int_equal(mm_parse_any(blank, big, 1, 1, 1, &s, err, sizeof err), RT_ETOOBIG);
    free(blank);

    /* shapes outside 1..8 */
    assert_int_equal(mm_parse_exp("a11*b11*c11", 11, 0, 1, 1, &s, err, sizeof err), RT_EUSAGE);
    assert_int_equal(mm_parse_exp("a11*b11*c11", 11, 1, 9, 1, &s, err, sizeof err), RT_EUSAGE);
    assert_int_equal(mm_plain_init(&s, 9, 1, 1, 1), RT_EUSAGE);
    assert_int_equal(mm_plain_init(&s, 1, 1, 1, MM_MAX_RANK + 1), RT_EUSAGE);
}

typedef struct bad_input {
    const char *label;
    const char *text;
    size_t len;
} bad_input;

#define BAD(label, lit) {label, lit, sizeof lit - 1}

static void test_malformed(void **state)
{
    (void)state;
    static const bad_input cases[] = {
        BAD("unbalanced: open", "(a11+a12*b11*c11\n"),
        BAD("unbalanced: close", "a11*b11*c11)\n"),
        BAD("unbalanced: inner close", "(a11))*b11*c11\n"),
        BAD("unbalanced: nested", "((a11)*b11*c11\n"),
        BAD("unknown letter", "a11*b11*d11\n"),
        BAD("unknown letter, upper case", "A11*b11*c11\n"),
        BAD("index out of shape", "a31*b11*c11\n"),
        BAD("index out of shape, c", "a11*b11*c13\n"),
        BAD("index 9", "a19*b11*c11\n"),
        BAD("index 0", "a10*b11*c11\n"),
        BAD("index 0 first", "a11*b01*c11\n"),
        BAD("one index digit", "a1*b11*c11\n"),
        BAD("three index digits", "a111*b11*c11\n"),
        BAD("no index", "a*b11*c11\n"),
        BAD("missing c factor", "a11*b11\n"),
        BAD("missing b factor", "(a11+a12)*(c11)\n"),
        BAD("only one factor", "(a11+a12)\n"),
        BAD("two a factors", "a11*a12*b11*c11\n"),
        BAD("two a factors, parenthesised", "(a11+a12)(a21)(b11)(c11)\n"),
        BAD("factor mixing letters", "(a11+b11)*b12*c11\n"),
        BAD("sum of products", "a11*b11*c11+a12*b21*c11\n"),
        BAD("coefficient too large", "1048577*a11*b11*c11\n"),
        BAD("coefficient sum too large", "(1048576*a11+1048576*a11)*b11*c11\n"),
        BAD("garbage bytes", "a11*b11*c11 @@\n"),
        BAD("garbage in the middle", "a11*b1$1*c11\n"),
        BAD("high bytes", "a11*b11*c11\xff\xfe\n"),
        BAD("NUL in the middle", "a11*b11\0*c11\n"),
        BAD("NUL after a product", "a11*b11*c11\n\0\na12*b21*c11\n"),
        BAD("empty text", ""),
        BAD("only blanks and comments", "\n  \r\n# nothing\n"),
        BAD("empty factor", "()*b11*c11\n"),
        BAD("empty factor between stars", "a11**b11*c11\n"),
        BAD("trailing star", "a11*b11*c11*\n"),
        BAD("leading star", "*a11*b11*c11\n"),
        BAD("two signs", "(a11+-a12)*b11*c11\n"),
        BAD("two signs unary", "--a11*b11*c11\n"),
        BAD("dangling sign", "(a11+)*b11*c11\n"),
        BAD("coefficient on a group", "2*(a11+a12)*b11*c11\n"),
        BAD("bare number", "2*b11*c11\n"),
        BAD("decimal coefficient", "1.5*a11*b11*c11\n"),
        BAD("too deep", "((((((((((a11))))))))))*b11*c11\n"),
        BAD("comment after a product", "a11*b11*c11 # no\n"),
        BAD("JSON-ish in exp", "[a11*b11*c11]\n"),
        BAD("second line bad", "a11*b11*c11\na11*b11*\n"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mm_plain s;
        char err[512];
        memset(err, 0, sizeof err);
        int rc = parse_exact(cases[i].text, cases[i].len, 2, 2, 2, &s, err, sizeof err);
        if (rc != RT_EUSAGE)
            fail_msg("case \"%s\": expected RT_EUSAGE, got %d (%s)", cases[i].label, rc, err);
        if (strncmp(err, "line ", 5) != 0 || strchr(err, '\n'))
            fail_msg("case \"%s\": message \"%s\"", cases[i].label, err);
        assert_null(s.coef);
    }
    /* the line number counts every line, and the message is specific */
    mm_plain s;
    char err[512];
    static const char third[] = "a11*b11*c11\r\n\r\na31*b11*c11\r\n";
    assert_int_equal(parse_exact(third, sizeof third - 1, 2, 2, 2, &s, err, sizeof err), RT_EUSAGE);
    assert_true(strncmp(err, "line 3: a31 at column 1 is outside", 34) == 0);
    static const char two_a[] = "a11*b11*a12*c11";
    assert_int_equal(parse_exact(two_a, sizeof two_a - 1, 2, 2, 2, &s, err, sizeof err), RT_EUSAGE);
    assert_string_equal(err, "line 1: a second a-factor at column 9 (a product has one factor "
                             "each of a, b and c)");
    static const char nul[] = "a11*b11\0*c11";
    assert_int_equal(parse_exact(nul, sizeof nul - 1, 2, 2, 2, &s, err, sizeof err), RT_EUSAGE);
    assert_string_equal(err, "line 1: unexpected byte 0x00 at column 8 where the end of the "
                             "product was expected");
}

static void test_json_strict(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "{}",
        "[]",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[[1]]]]} x",
        "{\"format\":\"other\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[[1]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,2],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[[1]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[[1]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":\"1x1x1\",\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[[1]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"q\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[[1]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":2,"
        "\"products\":[[[[1]],[[1]],[[1]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1.0,"
        "\"products\":[[[[1]],[[1]],[[1]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1.5]],[[1]],[[1]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[\"1\"]],[[1]],[[1]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[[1,0]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[[1]],[[1]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[1]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[[1048577]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[[99999999999999999999999]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":0,"
        "\"products\":[]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[[1]]]],\"extra\":1}",
        "{\"format\":\"ratchet-matmul\",\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],"
        "\"field\":\"z\",\"rank\":1,\"products\":[[[[1]],[[1]],[[1]]]]}",
        "{\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,\"products\":[[[[1]],[[1]],[[1]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]}",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[1]],[[1]],[[1]]]]",
        "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\",\"rank\":1,"
        "\"products\":[[[[true]],[[1]],[[1]]]]}",
    };
    static const char good[] = "{\"format\":\"ratchet-matmul\",\"shape\":[1,1,1],\"field\":\"z\","
                               "\"rank\":1,\"products\":[[[[1]],[[1]],[[-1]]]]}";
    mm_plain s;
    char err[512];
    assert_int_equal(parse_exact(good, sizeof good - 1, 1, 1, 1, &s, err, sizeof err), 0);
    assert_int_equal(s.coef[2], -1);
    mm_plain_free(&s);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(err, 0, sizeof err);
        int rc = parse_exact(cases[i], strlen(cases[i]), 1, 1, 1, &s, err, sizeof err);
        if (rc != RT_EUSAGE)
            fail_msg("JSON case %zu: expected RT_EUSAGE, got %d (%s)", i, rc, err);
        assert_true(err[0] != '\0');
        assert_null(s.coef);
    }
    /* a shape mismatch names both shapes */
    assert_int_equal(parse_exact(good, sizeof good - 1, 2, 1, 1, &s, err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "1x1x1"));
    assert_non_null(strstr(err, "2x1x1"));
}

/* ---- property tests --------------------------------------------------------------------- */

static const char alphabet[] = "abc0123456789()+-* \r\n\t#{}[]\",:.xz";

/* Feeds text to mm_parse_any: it must return 0 or a negative code with a message. Returns 1 if
 * the text was accepted. */
static int check_any(const char *text, size_t len, int n, int m, int p)
{
    mm_plain s;
    char err[512];
    err[0] = '\0';
    int rc = parse_exact(text, len, n, m, p, &s, err, sizeof err);
    if (rc > 0)
        fail_msg("positive return %d", rc);
    if (rc < 0) {
        if (err[0] == '\0')
            fail_msg("error %d without a message", rc);
        assert_null(s.coef);
        return 0;
    }
    assert_true(s.rank >= 1 && s.rank <= MM_MAX_RANK);
    mm_check c;
    assert_int_equal(mm_verify(&s, MM_Z, &c), 0);
    assert_int_equal(mm_verify(&s, MM_GF2, &c), 0);
    mm_plain_free(&s);
    return 1;
}

static void test_random_bytes(void **state)
{
    (void)state;
    char buf[256];
    int accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = rng_below(sizeof buf);
        int mode = (int)rng_below(3);
        for (size_t i = 0; i < len; i++) {
            if (mode == 0)
                buf[i] = (char)(unsigned char)rng_below(256);
            else
                buf[i] = alphabet[rng_below(sizeof alphabet - 1)];
        }
        if (mode == 2 && len > 0) /* make JSON likely */
            buf[0] = '{';
        int n = 1 + (int)rng_below(3), m = 1 + (int)rng_below(3), p = 1 + (int)rng_below(3);
        accepted += check_any(buf, len, n, m, p);
    }
    print_message("random: 20000 inputs, %d accepted\n", accepted);
}

/* Applies 1 to 4 random edits to text (in buf, of *len bytes, capacity cap). */
static void mutate(char *buf, size_t *len, size_t cap)
{
    int edits = 1 + (int)rng_below(4);
    for (int e = 0; e < edits; e++) {
        size_t n = *len;
        switch (rng_below(5)) {
        case 0: /* flip a byte */
            if (n)
                buf[rng_below(n)] = (char)(unsigned char)rng_below(256);
            break;
        case 1: /* replace a byte with a format character */
            if (n)
                buf[rng_below(n)] = alphabet[rng_below(sizeof alphabet - 1)];
            break;
        case 2: /* insert a byte */
            if (n < cap) {
                size_t at = rng_below(n + 1);
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = rng_below(4) ? alphabet[rng_below(sizeof alphabet - 1)]
                                       : (char)(unsigned char)rng_below(256);
                *len = n + 1;
            }
            break;
        case 3: /* delete a short range */
            if (n) {
                size_t at = rng_below(n);
                size_t k = 1 + rng_below(n - at < 8 ? n - at : 8);
                memmove(buf + at, buf + at + k, n - at - k);
                *len = n - k;
            }
            break;
        default: /* truncate */
            *len = rng_below(n + 1);
            break;
        }
    }
}

static void test_mutations(void **state)
{
    (void)state;
    need_files();
    /* sources: the smaller published texts and the JSON form of a few of them */
    enum { MAX_SRC = 160 };
    char *texts[MAX_SRC];
    size_t lens[MAX_SRC];
    int shapes[MAX_SRC][3];
    int nsrc = 0;
    for (int f = 0; f < g_nfiles && nsrc < MAX_SRC - 1; f++) {
        const scheme_file *sf = &g_files[f];
        if (sf->len > 4000)
            continue;
        texts[nsrc] = malloc(sf->len);
        assert_non_null(texts[nsrc]);
        memcpy(texts[nsrc], sf->text, sf->len);
        lens[nsrc] = sf->len;
        shapes[nsrc][0] = sf->n;
        shapes[nsrc][1] = sf->m;
        shapes[nsrc][2] = sf->p;
        nsrc++;
        if (sf->len < 1200) {
            mm_plain s;
            parse_ok(sf->text, sf->len, sf->n, sf->m, sf->p, &s);
            rt_buf b;
            rt_buf_init(&b, 0);
            assert_int_equal(mm_print_json(&s, sf->field, &b), 0);
            lens[nsrc] = b.len;
            texts[nsrc] = rt_buf_take(&b);
            shapes[nsrc][0] = sf->n;
            shapes[nsrc][1] = sf->m;
            shapes[nsrc][2] = sf->p;
            nsrc++;
            mm_plain_free(&s);
        }
    }
    assert_true(nsrc > 0);
    size_t cap = 0;
    for (int i = 0; i < nsrc; i++)
        cap = lens[i] > cap ? lens[i] : cap;
    cap += 64;
    char *buf = malloc(cap);
    assert_non_null(buf);
    int accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        int src = (int)rng_below((size_t)nsrc);
        size_t len = lens[src];
        memcpy(buf, texts[src], len);
        mutate(buf, &len, cap);
        accepted += check_any(buf, len, shapes[src][0], shapes[src][1], shapes[src][2]);
    }
    print_message("mutations: 20000 inputs from %d texts, %d accepted\n", nsrc, accepted);
    free(buf);
    for (int i = 0; i < nsrc; i++)
        free(texts[i]);
}

int main(void)
{
    rt_rng_seed(&g_rng, 0x9e3779b97f4a7c15ULL, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_verify),
        cmocka_unit_test(test_published_one_change_fails),
        cmocka_unit_test(test_published_round_trips),
        cmocka_unit_test(test_standard_algorithm),
        cmocka_unit_test(test_failure_description),
        cmocka_unit_test(test_strassen),
        cmocka_unit_test(test_spellings),
        cmocka_unit_test(test_zero_factor_kept),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_json_strict),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, load_files, free_files);
}
