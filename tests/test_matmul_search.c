/* test_matmul_search.c — the flip-graph moves keep schemes valid, and canonical text identifies
 * a scheme. Every check goes through the independent verifier in matmul_plain.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "problems/matmul/matmul_plain.h"
#include "problems/matmul/matmul_search.h"
#include "testutil.h"

static void standard_schemes_verify(void **state)
{
    (void)state;
    static const int shapes[][3] = {{1, 1, 1}, {2, 2, 2}, {2, 3, 4}, {3, 3, 3}, {4, 2, 5}, {8, 8, 8}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int f = 0; f < 2; f++) {
            mm_scheme s;
            enum mm_field field = f ? MM_GF2 : MM_Z;
            assert_int_equal(mm_scheme_standard(&s, shapes[i][0], shapes[i][1], shapes[i][2], field), 0);
            assert_int_equal(tu_mm_verified_rank(&s), shapes[i][0] * shapes[i][1] * shapes[i][2]);
            mm_scheme_free(&s);
        }
    mm_scheme s;
    assert_int_equal(mm_scheme_standard(&s, 9, 1, 1, MM_Z), RT_EUSAGE);
    assert_int_equal(mm_scheme_standard(&s, 0, 1, 1, MM_Z), RT_EUSAGE);
}

/* Many short walks and plus transitions: after each, the scheme still verifies, walks never
 * raise the rank and a plus raises it by at most one. */
static void moves_keep_schemes_valid(void **state)
{
    (void)state;
    static const int shapes[][3] = {{2, 2, 2}, {2, 3, 4}, {3, 3, 3}, {4, 4, 4}, {3, 2, 5}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int f = 0; f < 2; f++) {
            enum mm_field field = f ? MM_GF2 : MM_Z;
            mm_scheme s;
            assert_int_equal(mm_scheme_standard(&s, shapes[i][0], shapes[i][1], shapes[i][2], field), 0);
            rt_rng rng;
            rt_rng_seed(&rng, 42, i * 2 + (size_t)f);
            mm_walk_stats st = {0};
            for (int round = 0; round < 40; round++) {
                int before = s.rank;
                mm_walk(&s, &rng, 500, &st);
                assert_true(s.rank <= before);
                assert_int_equal(tu_mm_verified_rank(&s), s.rank);
                if (round % 4 == 3) {
                    before = s.rank;
                    if (mm_plus(&s, &rng) == 0) {
                        assert_true(s.rank <= before + 1);
                        assert_int_equal(tu_mm_verified_rank(&s), s.rank);
                    }
                }
            }
            assert_true(st.flips > 0);
            mm_scheme_free(&s);
        }
}

/* Reordering products or moving signs between factors changes nothing in canonical text. */
static void canonical_form_identifies_scheme(void **state)
{
    (void)state;
    for (int f = 0; f < 2; f++) {
        enum mm_field field = f ? MM_GF2 : MM_Z;
        mm_scheme s;
        assert_int_equal(mm_scheme_standard(&s, 3, 3, 3, field), 0);
        rt_rng rng;
        rt_rng_seed(&rng, 7, 0);
        mm_walk(&s, &rng, 20000, NULL);
        char *a = tu_mm_canonical_text(&s);
        mm_scheme t;
        assert_int_equal(mm_scheme_copy(&t, &s), 0);
        for (int k = t.rank - 1; k > 0; k--) { /* shuffle */
            int j = (int)rt_rng_below(&rng, (uint32_t)(k + 1));
            mm_prod tmp = t.prod[k];
            t.prod[k] = t.prod[j];
            t.prod[j] = tmp;
        }
        if (field == MM_Z)
            for (int k = 0; k < t.rank; k += 2) { /* -u * v * -w is the same product */
                mm_vec *u = &t.prod[k].f[0], *w = &t.prod[k].f[2];
                *u = (mm_vec){u->n, u->p};
                *w = (mm_vec){w->n, w->p};
            }
        char *b = tu_mm_canonical_text(&t);
        assert_string_equal(a, b);
        /* and a different scheme gives different text */
        mm_walk(&t, &rng, 1000, NULL);
        char *c = tu_mm_canonical_text(&t);
        assert_string_not_equal(a, c);
        free(a);
        free(b);
        free(c);
        mm_scheme_free(&s);
        mm_scheme_free(&t);
    }
}

static void plain_round_trip_and_range(void **state)
{
    (void)state;
    mm_scheme s;
    assert_int_equal(mm_scheme_standard(&s, 2, 3, 3, MM_Z), 0);
    rt_rng rng;
    rt_rng_seed(&rng, 3, 0);
    mm_walk(&s, &rng, 5000, NULL);
    mm_plain plain = {0};
    assert_int_equal(mm_scheme_to_plain(&s, &plain), 0);
    mm_scheme back;
    char err[256];
    assert_int_equal(mm_scheme_from_plain(&back, &plain, MM_Z, err, sizeof err), 0);
    char *a = tu_mm_canonical_text(&s), *b = tu_mm_canonical_text(&back);
    assert_string_equal(a, b);
    free(a);
    free(b);
    mm_scheme_free(&back);
    /* the integer search keeps coefficients in {-1,0,1}: a 2 is refused with a reason */
    plain.coef[0] = 2;
    assert_int_equal(mm_scheme_from_plain(&back, &plain, MM_Z, err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "coefficient 2"));
    /* over GF(2) it is 0 */
    assert_int_equal(mm_scheme_from_plain(&back, &plain, MM_GF2, err, sizeof err), 0);
    mm_scheme_free(&back);
    mm_plain_free(&plain);
    mm_scheme_free(&s);
}

/* reduce_all merges products equal in two factors (up to sign) and drops zero products,
 * whichever two positions agree. */
static void reduce_all_merges_every_pair_of_positions(void **state)
{
    (void)state;
    for (int f = 0; f < 2; f++) {
        enum mm_field field = f ? MM_GF2 : MM_Z;
        for (int differ = 0; differ < 3; differ++) {
            mm_scheme s;
            assert_int_equal(mm_scheme_standard(&s, 2, 2, 2, field), 0);
            assert_true(s.cap >= s.rank + 2);
            /* split product 0 in two along one position: x = (x - e) + e, where e has two
             * terms (so neither part equals a factor of another standard product); the tensor is
             * unchanged and the rank goes up by one */
            mm_prod extra = s.prod[0];
            mm_vec x = s.prod[0].f[differ];
            mm_vec e = {0, 0};
            for (int b = 0; __builtin_popcountll(e.p) < 2; b++)
                if (!((x.p >> b) & 1))
                    e.p |= 1ULL << b;
            extra.f[differ] = e;
            if (field == MM_GF2)
                s.prod[0].f[differ] = (mm_vec){x.p ^ e.p, 0};
            else
                s.prod[0].f[differ] = (mm_vec){x.p, e.p}; /* x - e */
            if (field == MM_Z && differ == 1) { /* and move a sign: -a * -b * c is the same */
                extra.f[0] = (mm_vec){extra.f[0].n, extra.f[0].p};
                extra.f[1] = (mm_vec){extra.f[1].n, extra.f[1].p};
            }
            s.prod[s.rank++] = extra;
            /* and a product with a zero factor, which computes nothing */
            mm_prod zero = s.prod[1];
            zero.f[2] = (mm_vec){0, 0};
            s.prod[s.rank++] = zero;
            assert_int_equal(s.rank, 10);
            assert_int_equal(mm_scheme_reduce_all(&s), 2);
            assert_int_equal(s.rank, 8);
            assert_int_equal(tu_mm_verified_rank(&s), 8);
            mm_scheme_free(&s);
        }
    }
}

/* The walk finds reductions: from the standard algorithm a seeded search reaches Strassen's 7
 * for 2x2 and 23 for 3x3 (over GF(2)). Deterministic for the seed. */
static void walks_reduce_rank(void **state)
{
    (void)state;
    static const struct { int n, target; enum mm_field field; } cases[] = {
        {2, 7, MM_GF2}, {2, 7, MM_Z}, {3, 23, MM_GF2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mm_scheme s;
        int n = cases[i].n;
        assert_int_equal(mm_scheme_standard(&s, n, n, n, cases[i].field), 0);
        rt_rng rng;
        rt_rng_seed(&rng, 1, 0);
        for (int round = 0; round < 400 && s.rank > cases[i].target; round++) {
            mm_walk(&s, &rng, 20000, NULL);
            if (round % 20 == 19 && s.rank > cases[i].target)
                mm_plus(&s, &rng);
        }
        assert_int_equal(s.rank, cases[i].target);
        assert_int_equal(tu_mm_verified_rank(&s), cases[i].target);
        mm_scheme_free(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(standard_schemes_verify),
        cmocka_unit_test(moves_keep_schemes_valid),
        cmocka_unit_test(canonical_form_identifies_scheme),
        cmocka_unit_test(plain_round_trip_and_range),
        cmocka_unit_test(reduce_all_merges_every_pair_of_positions),
        cmocka_unit_test(walks_reduce_rank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
