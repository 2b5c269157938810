/* test_matmul_walk.c — the indexed walker (matmul_walk.c): its index stays consistent with its
 * scheme through flips, merges and plus transitions, every scheme it holds verifies through the
 * independent checker, it finds the reductions the scan kernel finds, and it reports isolation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "problems/matmul_plain.h"
#include "problems/matmul_search.h"
#include "problems/matmul_walk.h"

static int verified_rank(const mm_scheme *s)
{
    mm_plain plain = {0};
    assert_int_equal(mm_scheme_to_plain(s, &plain), 0);
    mm_check c;
    assert_int_equal(mm_verify(&plain, s->field, &c), 0);
    mm_plain_free(&plain);
    return c.valid ? c.rank : -1;
}

static int walker_verified_rank(const mm_walker *w)
{
    mm_scheme s = {0};
    assert_int_equal(mm_walker_store(w, &s), 0);
    int r = verified_rank(&s);
    mm_scheme_free(&s);
    return r;
}

/* Short bursts of flips with an index check and a verification after each; plus transitions in
 * between; ranks never rise except by one at a plus. */
static void index_consistent_and_schemes_valid(void **state)
{
    (void)state;
    static const int shapes[][3] = {{2, 2, 2}, {2, 3, 4}, {3, 3, 3}, {4, 4, 4}, {3, 2, 5}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int f = 0; f < 2; f++) {
            enum mm_field field = f ? MM_GF2 : MM_Z;
            mm_scheme s;
            assert_int_equal(mm_scheme_standard(&s, shapes[i][0], shapes[i][1], shapes[i][2], field), 0);
            mm_walker *w = NULL;
            assert_int_equal(mm_walker_new(&w, &s, 40), 0);
            assert_int_equal(mm_walker_check(w), 0);
            rt_rng rng;
            rt_rng_seed(&rng, 7, i * 2 + (size_t)f);
            long long flips = 0;
            int pluses = 0;
            for (int round = 0; round < 300; round++) {
                int before = mm_walker_rank(w);
                mm_walk_stats st = {0};
                flips += mm_walker_run(w, &rng, 1 + round % 37, 0, &st);
                assert_int_equal(mm_walker_check(w), 0);
                assert_true(mm_walker_rank(w) <= before);
                assert_true(st.reductions >= before - mm_walker_rank(w));
                if (round % 10 == 9) {
                    assert_int_equal(walker_verified_rank(w), mm_walker_rank(w));
                    if (round % 30 == 29 && mm_walker_rank(w) + 1 <= s.rank + 30) {
                        int r0 = mm_walker_rank(w);
                        if (mm_walker_plus(w, &rng) == 0) {
                            pluses++;
                            assert_true(mm_walker_rank(w) <= r0 + 1);
                            assert_int_equal(mm_walker_check(w), 0);
                            assert_int_equal(walker_verified_rank(w), mm_walker_rank(w));
                        }
                    }
                }
            }
            assert_true(flips > 1000);
            assert_true(pluses > 0);
            mm_walker_free(w);
            mm_scheme_free(&s);
        }
}

/* Long walks reach the ranks the scan kernel reaches: <2,2,2> 7 (Strassen's rank), <3,3,3> 23
 * over GF(2) and the integers within a bounded number of flips and plus transitions. */
static void walks_reduce_rank(void **state)
{
    (void)state;
    static const struct {
        int n, m, p, field, target;
    } cases[] = {{2, 2, 2, MM_Z, 7}, {2, 2, 2, MM_GF2, 7}, {3, 3, 3, MM_GF2, 23}, {3, 3, 3, MM_Z, 23}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mm_scheme s;
        assert_int_equal(mm_scheme_standard(&s, cases[c].n, cases[c].m, cases[c].p,
                                            (enum mm_field)cases[c].field), 0);
        mm_walker *w = NULL;
        assert_int_equal(mm_walker_new(&w, &s, 8), 0);
        rt_rng rng;
        rt_rng_seed(&rng, 3, c);
        for (int round = 0; round < 2000 && mm_walker_rank(w) > cases[c].target; round++) {
            mm_walker_run(w, &rng, 20000, cases[c].target + 1, NULL);
            if (mm_walker_rank(w) > cases[c].target && round % 20 == 19)
                mm_walker_plus(w, &rng);
        }
        assert_int_equal(mm_walker_rank(w), cases[c].target);
        assert_int_equal(mm_walker_check(w), 0);
        assert_int_equal(walker_verified_rank(w), cases[c].target);
        mm_walker_free(w);
        mm_scheme_free(&s);
    }
}

/* Loading merges what the scheme allows; a scheme with no shared factor makes no flip. */
static void load_merges_and_isolation_stops(void **state)
{
    (void)state;
    /* the standard <2,2,2> over Z with its first product x*y*c split in two, x*y*(c + c') and
     * x*y*(-c'): rank 9, and the two halves agree at A and B, so loading merges them */
    mm_scheme s;
    assert_int_equal(mm_scheme_standard(&s, 2, 2, 2, MM_Z), 0);
    mm_prod first = s.prod[0];
    uint64_t c = first.f[2].p;
    uint64_t other = (c == 1) ? 2 : 1;
    s.prod[0].f[2] = (mm_vec){c | other, 0};
    s.prod[s.rank] = first;
    s.prod[s.rank].f[2] = (mm_vec){0, other};
    s.rank++;
    assert_int_equal(verified_rank(&s), 9);
    mm_walker *w = NULL;
    assert_int_equal(mm_walker_new(&w, &s, 0), 0);
    assert_int_equal(mm_walker_rank(w), 8);
    assert_int_equal(mm_walker_check(w), 0);
    assert_int_equal(walker_verified_rank(w), 8);
    mm_walker_free(w);
    mm_scheme_free(&s);

    /* one product alone: nothing to flip */
    assert_int_equal(mm_scheme_standard(&s, 1, 1, 1, MM_GF2), 0);
    assert_int_equal(mm_walker_new(&w, &s, 0), 0);
    rt_rng rng;
    rt_rng_seed(&rng, 1, 0);
    assert_int_equal(mm_walker_run(w, &rng, 1000, 0, NULL), 0);
    mm_walker_free(w);
    mm_scheme_free(&s);
}

/* The same seed gives the same walk. */
static void walks_are_reproducible(void **state)
{
    (void)state;
    mm_scheme a, b;
    assert_int_equal(mm_scheme_standard(&a, 3, 3, 3, MM_Z), 0);
    assert_int_equal(mm_scheme_standard(&b, 3, 3, 3, MM_Z), 0);
    rt_rng r1, r2;
    rt_rng_seed(&r1, 9, 0);
    rt_rng_seed(&r2, 9, 0);
    mm_walk(&a, &r1, 50000, NULL);
    mm_walk(&b, &r2, 50000, NULL);
    assert_int_equal(a.rank, b.rank);
    assert_memory_equal(a.prod, b.prod, (size_t)a.rank * sizeof *a.prod);
    mm_scheme_free(&a);
    mm_scheme_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(index_consistent_and_schemes_valid),
        cmocka_unit_test(walks_reduce_rank),
        cmocka_unit_test(load_merges_and_isolation_stops),
        cmocka_unit_test(walks_are_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
