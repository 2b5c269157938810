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

#include "problems/matmul/matmul_plain.h"
#include "problems/matmul/matmul_policy.h"
#include "problems/matmul/matmul_search.h"
#include "problems/matmul/matmul_walk.h"
#include "problem.h"
#include "testutil.h"

static int walker_verified_rank(const mm_walker *w)
{
    mm_scheme s = {0};
    assert_int_equal(mm_walker_store(w, &s), 0);
    int r = tu_mm_verified_rank(&s);
    mm_scheme_free(&s);
    return r;
}

/* Short bursts of flips with an index check and a verification after each; plus transitions in
 * between; ranks never rise except by one at a plus. The shapes give hash tables from under 5
 * (<4,4,4> with room for 40 more products) to about 10 slots per possible bucket, and <1,2,8>,
 * whose 16 products share 3 (GF(2)) or 4 (Z) possible A factors, makes buckets outgrow the 8
 * members of the pool. */
static void index_consistent_and_schemes_valid(void **state)
{
    (void)state;
    static const int shapes[][3] = {{2, 2, 2}, {2, 3, 4}, {3, 3, 3}, {4, 4, 4}, {3, 2, 5},
                                    {1, 2, 8}};
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
    assert_int_equal(tu_mm_verified_rank(&s), 9);
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

/* The operators through the problem class, under a policy with short plateaus and certain
 * escapes: every child's canonical text passes the gate's verifier, a walk child never has a
 * higher rank than its parent and a plus child at most one more; the policy's knobs reach the
 * problem through configure, and --walk overrides the flips budget. */
static void operators_follow_policy(void **state)
{
    (void)state;
    const rt_problem_class *cls = &rt_problem_matmul;
    const char *keys[] = {"shape", "field"};
    const char *values[] = {"3x3x3", "z"};
    char err[256];
    void *st = NULL;
    assert_int_equal(cls->create(&st, keys, values, 2, err, sizeof err), 0);
    rt_policy pol;
    rt_policy_defaults(&pol);
    rt_matmul_policy *mm = mm_policy_mut(&pol);
    mm->walk_flips = 20000;
    mm->plateau_flips = 1000;
    mm->escape_prob = 1.0;
    mm->restart_prob = 0.1;
    mm->stop_on_improve = 0;
    assert_int_equal(cls->configure(st, &pol, err, sizeof err), 0);
    void *g = cls->seed(st);
    assert_non_null(g);
    rt_rng rng;
    rt_rng_seed(&rng, 5, 0);
    for (int i = 0; i < 40; i++) {
        const rt_operator *op = &cls->operators[i % 5 == 4 ? 1 : 0];
        int before = ((mm_scheme *)g)->rank;
        long long work = 0;
        void *child = cls->clone(st, g);
        assert_non_null(child);
        if (op->apply(st, child, &rng, &work) != 0) {
            cls->free_genome(child);
            continue;
        }
        assert_true(work > 0 && work <= 20000 + 1001);
        int after = ((mm_scheme *)child)->rank;
        /* a walk never raises the rank, a plus by one; a restart starts again from 27 */
        assert_true(after <= (strcmp(op->name, "walk") == 0 ? before : before + 1) ||
                    after <= 28);
        rt_buf text;
        rt_buf_init(&text, 0);
        assert_int_equal(cls->encode(st, child, &text), 0);
        rt_verdict v;
        assert_int_equal(cls->verify(st, text.data, text.len, &v, err, sizeof err), 0);
        assert_true(v.valid);
        assert_int_equal((int)v.metric, after);
        rt_buf_free(&text);
        cls->free_genome(g);
        g = child;
    }
    assert_true(((mm_scheme *)g)->rank < 27);
    cls->free_genome(g);
    cls->destroy(st);

    /* --walk 500: a run makes at most 500 flips whatever the policy says */
    const char *k2[] = {"shape", "walk"};
    const char *v2[] = {"2x2x2", "500"};
    assert_int_equal(cls->create(&st, k2, v2, 2, err, sizeof err), 0);
    mm->walk_flips = 1000000;
    mm->restart_prob = 0;
    assert_int_equal(cls->configure(st, &pol, err, sizeof err), 0);
    assert_non_null(strstr(cls->params(st), "walk=500"));
    g = cls->seed(st);
    long long work = 0;
    cls->operators[0].apply(st, g, &rng, &work);
    assert_true(work <= 500);
    cls->free_genome(g);
    cls->destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(index_consistent_and_schemes_valid),
        cmocka_unit_test(walks_reduce_rank),
        cmocka_unit_test(load_merges_and_isolation_stops),
        cmocka_unit_test(walks_are_reproducible),
        cmocka_unit_test(operators_follow_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
