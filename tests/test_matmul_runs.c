/* test_matmul_runs.c — matmul walker runs under the knobs that shape them (plus_drift,
 * plateau_min, restart_prob): every child verifies through the gate, a walk child never has a
 * higher rank than its parent even when the walker drifted above its best, and a restarted run
 * (a fresh descent from the standard algorithm) ends early only below its parent's rank. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "problem.h"
#include "problems/matmul/matmul_policy.h"
#include "problems/matmul/matmul_search.h"
#include "testutil.h"

static void *make_state(const char *shape, const char *field, const rt_policy *pol)
{
    const rt_problem_class *cls = &rt_problem_matmul;
    const char *keys[] = {"shape", "field"};
    const char *values[] = {shape, field};
    char err[256];
    void *st = NULL;
    assert_int_equal(cls->create(&st, keys, values, 2, err, sizeof err), 0);
    assert_int_equal(cls->configure(st, pol, err, sizeof err), 0);
    return st;
}

static void assert_child_verifies(void *st, void *child)
{
    const rt_problem_class *cls = &rt_problem_matmul;
    char err[256];
    rt_buf text;
    rt_buf_init(&text, 0);
    assert_int_equal(cls->encode(st, child, &text), 0);
    rt_verdict v;
    assert_int_equal(cls->verify(st, text.data, text.len, &v, err, sizeof err), 0);
    assert_true(v.valid);
    assert_int_equal((int)v.metric, ((mm_scheme *)child)->rank);
    rt_buf_free(&text);
}

/* Drifting escapes and random plateau lengths, over both fields: a chain of walk children whose
 * ranks never rise, all valid, that gets below the standard algorithm's 27. */
static void drift_and_random_plateaus(void **state)
{
    (void)state;
    const rt_problem_class *cls = &rt_problem_matmul;
    const char *fields[] = {"gf2", "z"};
    for (int f = 0; f < 2; f++) {
        rt_policy pol;
        rt_policy_defaults(&pol);
        rt_matmul_policy *mm = mm_policy_mut(&pol);
        mm->walk_flips = 20000;
        mm->plateau_flips = 2000;
        mm->plateau_min = 100;
        mm->plus_drift = 4;
        mm->escape_prob = 1.0;
        mm->restart_prob = 0;
        mm->stop_on_improve = 0; /* whole runs: the walker drifts above its best */
        void *st = make_state("3x3x3", fields[f], &pol);
        void *g = cls->seed(st);
        assert_non_null(g);
        rt_rng rng;
        rt_rng_seed(&rng, 11, (uint64_t)f);
        for (int i = 0; i < 12; i++) {
            int before = ((mm_scheme *)g)->rank;
            long long work = 0;
            void *child = cls->clone(st, g);
            assert_non_null(child);
            if (cls->operators[0].apply(st, child, &rng, &work) != 0) {
                cls->free_genome(child);
                continue;
            }
            /* the flips budget plus at most one unit per escape (one per 100 flips at most) */
            assert_true(work > 0 && work <= 20000 + 20000 / 100 + 1);
            assert_true(((mm_scheme *)child)->rank <= before);
            assert_child_verifies(st, child);
            cls->free_genome(g);
            g = child;
        }
        assert_true(((mm_scheme *)g)->rank < 27);
        cls->free_genome(g);
        cls->destroy(st);
    }
}

/* restart_prob 1: every run starts again from the standard algorithm (rank 27) but, with
 * stop_on_improve, stops early only below its parent's rank: a run that ends before its budget
 * is spent has beaten the parent. (A run that stopped one rank below the standard algorithm
 * would end at 26 after a few hundred flips, which is not below a parent of rank 26.) */
static void restart_must_beat_parent(void **state)
{
    (void)state;
    const rt_problem_class *cls = &rt_problem_matmul;
    rt_policy pol;
    rt_policy_defaults(&pol);
    rt_matmul_policy *mm = mm_policy_mut(&pol);
    mm->walk_flips = 300000;
    mm->restart_prob = 0;
    void *st = make_state("3x3x3", "gf2", &pol);
    void *g = cls->seed(st);
    rt_rng rng;
    rt_rng_seed(&rng, 3, 0);
    long long work = 0;
    /* a parent of rank 25 or 26 */
    while (((mm_scheme *)g)->rank > 26) {
        void *child = cls->clone(st, g);
        if (cls->operators[0].apply(st, child, &rng, &work) == 0 &&
            ((mm_scheme *)child)->rank < ((mm_scheme *)g)->rank) {
            cls->free_genome(g);
            g = child;
        } else {
            cls->free_genome(child);
        }
    }
    int parent = ((mm_scheme *)g)->rank;
    cls->destroy(st);
    mm->restart_prob = 1.0;
    mm->stop_on_improve = 1;
    st = make_state("3x3x3", "gf2", &pol);
    for (int i = 0; i < 6; i++) {
        void *child = cls->clone(st, g);
        work = 0;
        if (cls->operators[0].apply(st, child, &rng, &work) == 0) {
            int after = ((mm_scheme *)child)->rank;
            assert_true(after < parent || work >= mm->walk_flips);
            assert_true(after < 27);
            assert_child_verifies(st, child);
        }
        cls->free_genome(child);
    }
    cls->free_genome(g);
    cls->destroy(st);
}

/* The new knobs' ranges are the policy table's: plus_drift 1..16, plateau_min 0..1e9. */
static void knob_ranges(void **state)
{
    (void)state;
    char err[256];
    const char *bad[] = {"{\"matmul\": {\"plus_drift\": 0}}", "{\"matmul\": {\"plus_drift\": 17}}",
                         "{\"matmul\": {\"plateau_min\": -1}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rt_policy p;
        rt_policy_defaults(&p);
        assert_int_not_equal(rt_policy_parse(&p, bad[i], strlen(bad[i]), err, sizeof err), 0);
        assert_non_null(strstr(err, strstr(bad[i], "plus_drift") ? "plus_drift" : "plateau_min"));
    }
    rt_policy p;
    rt_policy_defaults(&p);
    assert_int_equal(mm_policy(&p)->plus_drift, 1);
    assert_true(mm_policy(&p)->plateau_min == 0);
    const char *good = "{\"matmul\": {\"plus_drift\": 4, \"plateau_min\": 5000}}";
    assert_int_equal(rt_policy_parse(&p, good, strlen(good), err, sizeof err), 0);
    assert_int_equal(mm_policy(&p)->plus_drift, 4);
    assert_true(mm_policy(&p)->plateau_min == 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drift_and_random_plateaus),
        cmocka_unit_test(restart_must_beat_parent),
        cmocka_unit_test(knob_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
