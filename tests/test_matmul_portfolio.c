/* test_matmul_portfolio.c — the default matmul run is a portfolio of strategies
 * (docs/recursion.md): which strategies a shape gets, the overrides that turn it off, every
 * strategy's child verified through the gate and read back to the same text, the rule of the
 * shape (lengths, and symlong's weight as the bandit sees it), and the bad policies that exit 2
 * with one line naming the key. Tiny shapes and short
 * walks only: seconds in all. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bandit.h"
#include "policy.h"
#include "problem.h"
#include "problems/matmul/matmul_policy.h"
#include "problems/matmul/matmul_search.h"
#include "problems/matmul/matmul_strategy.h"
#include "problems/matmul/matmul_sym.h"
#include "problems/matmul/matmul_walk.h"
#include "testutil.h"

static const rt_problem_class *cls = &rt_problem_matmul;

/* A matmul state for the given parameters (NULL-terminated key, value pairs), configured with
 * pol; asserts that both succeed. */
static void *make(const rt_policy *pol, const char *const *kv)
{
    const char *keys[8], *values[8];
    size_t n = 0;
    for (; kv[2 * n]; n++) {
        keys[n] = kv[2 * n];
        values[n] = kv[2 * n + 1];
    }
    char err[256];
    void *st = NULL;
    assert_int_equal(cls->create(&st, keys, values, n, err, sizeof err), 0);
    assert_int_equal(cls->configure(st, pol, err, sizeof err), 0);
    return st;
}

/* The operator names of a state, comma-separated. */
static void op_names(void *st, char *out, size_t len)
{
    size_t n = 0;
    const rt_operator *ops = cls->operators_for(st, &n);
    if (!ops) {
        ops = cls->operators;
        n = cls->noperators;
    }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strncat(out, ops[i].name, len - strlen(out) - 1);
        if (i + 1 < n)
            strncat(out, ",", len - strlen(out) - 1);
    }
}

/* Which strategies each shape and field gets, and the overrides that leave only walk and plus. */
static void strategies_by_shape(void **state)
{
    (void)state;
    rt_policy pol;
    rt_policy_defaults(&pol);
    char names[256];
    void *st = make(&pol, (const char *[]){"shape", "3x3x3", "field", "z", NULL});
    op_names(st, names, sizeof names);
    assert_string_equal(names, "walk,plus,lift,restart,sym,twin,symlong");
    cls->destroy(st);
    st = make(&pol, (const char *[]){"shape", "4x4x4", "field", "z", NULL});
    op_names(st, names, sizeof names);
    assert_string_equal(names, "walk,plus,lift,restart,sym,twin,symlong");
    cls->destroy(st);
    st = make(&pol, (const char *[]){"shape", "2x3x4", "field", "gf2", NULL});
    op_names(st, names, sizeof names);
    assert_string_equal(names, "walk,plus,restart,split"); /* no lift over GF(2), no symmetry */
    cls->destroy(st);
    st = make(&pol, (const char *[]){"shape", "3x4x4", "field", "z", NULL});
    op_names(st, names, sizeof names);
    assert_string_equal(names, "walk,plus,lift,restart,split"); /* split where no symmetry */
    cls->destroy(st);
    st = make(&pol, (const char *[]){"shape", "4x3x3", "field", "z", NULL});
    op_names(st, names, sizeof names);
    assert_string_equal(names, "walk,plus,lift,restart,split,cube"); /* <k,k,d>: cube too */
    cls->destroy(st);
    st = make(&pol, (const char *[]){"shape", "1x1x4", "field", "z", NULL});
    op_names(st, names, sizeof names);
    assert_string_equal(names, "walk,plus,lift,restart,split"); /* k = 1: no cube */
    cls->destroy(st);
    /* the overrides: the operators of before the portfolio */
    st = make(&pol, (const char *[]){"shape", "3x3x4", "field", "z", "lift", "1", NULL});
    op_names(st, names, sizeof names);
    assert_string_equal(names, "walk,plus");
    cls->destroy(st);
    st = make(&pol, (const char *[]){"shape", "4x4x4", "symmetric", "1", NULL});
    op_names(st, names, sizeof names);
    assert_string_equal(names, "walk,plus");
    cls->destroy(st);
    /* a weight of 0 takes a strategy out (the bandit's floor would otherwise still draw it) */
    rt_matmul_policy *mm = mm_policy_mut(&pol);
    mm->op_sym = 0;
    mm->op_plus = 0;
    st = make(&pol, (const char *[]){"shape", "3x3x3", NULL});
    op_names(st, names, sizeof names);
    assert_string_equal(names, "walk,lift,restart,twin,symlong");
    cls->destroy(st);
}

/* Encodes child, checks that the gate accepts it over Z at its rank, that the exact proxy
 * claimed what the verifier counts (rank and nonzero coefficients: a GF(2) child is verified as
 * its lift, which can have more nonzeros than the GF(2) scheme), and that the text reads back to
 * a candidate that writes the same text (what the gate demands). Returns 1 when child is a
 * GF(2) scheme whose lift has more nonzeros than it. */
static int assert_round_trip(void *st, void *child)
{
    char err[256];
    rt_buf text, again;
    rt_buf_init(&text, 0);
    rt_buf_init(&again, 0);
    assert_int_equal(cls->encode(st, child, &text), 0);
    rt_verdict v;
    assert_int_equal(cls->verify(st, text.data, text.len, &v, err, sizeof err), 0);
    assert_true(v.valid);
    assert_int_equal((int)v.metric, ((mm_scheme *)child)->rank);
    rt_score claim;
    cls->score(st, child, &claim);
    assert_true(claim.primary == v.score);
    assert_true(claim.secondary == v.score2);
    int grew = ((mm_scheme *)child)->field == MM_GF2 &&
               -v.score2 > (double)mm_scheme_nnz((mm_scheme *)child);
    void *back = NULL;
    assert_int_equal(cls->decode(st, text.data, text.len, &back, err, sizeof err), 0);
    assert_int_equal(cls->encode(st, back, &again), 0);
    assert_int_equal(again.len, text.len);
    assert_memory_equal(again.data, text.data, text.len);
    cls->free_genome(back);
    rt_buf_free(&text);
    rt_buf_free(&again);
    return grew;
}

/* Every strategy of <3,3,3> over Z, applied in turn along a chain of children (so GF(2) lifts,
 * symmetric schemes and plain ones follow each other as parents): each child verifies, reads
 * back to itself, and the chain gets below the standard algorithm. The lift and symmetric
 * strategies leave a GF(2) genome and a symmetric one on the way. */
static void every_strategy_verifies(void **state)
{
    (void)state;
    rt_policy pol;
    rt_policy_defaults(&pol);
    rt_matmul_policy *mm = mm_policy_mut(&pol);
    mm->flips_exp = 0; /* short runs at every size */
    mm->pf_walk_flips = mm->pf_restart_flips = mm->pf_sym_flips = mm->pf_symlong_flips = 20000;
    void *st = make(&pol, (const char *[]){"shape", "3x3x3", "field", "z", NULL});
    size_t nops = 0;
    const rt_operator *ops = cls->operators_for(st, &nops);
    assert_int_equal(nops, 7);
    void *g = cls->seed(st);
    assert_non_null(g);
    rt_rng rng;
    rt_rng_seed(&rng, 3, 0);
    int applied[8] = {0}, saw_gf2 = 0, grew = 0;
    for (int i = 0; i < 60; i++) {
        size_t k = (size_t)i % nops;
        void *child = cls->clone(st, g);
        long long work = 0;
        if (ops[k].apply(st, child, &rng, &work) != 0) {
            cls->free_genome(child);
            continue;
        }
        applied[k]++;
        assert_true(work > 0);
        saw_gf2 |= ((mm_scheme *)child)->field == MM_GF2;
        grew += assert_round_trip(st, child);
        cls->free_genome(g);
        g = child;
    }
    for (size_t k = 0; k < nops; k++)
        assert_true(applied[k] > 0);
    assert_true(saw_gf2);
    assert_true(grew > 0); /* the claim above was checked where the lift adds nonzeros */
    assert_true(((mm_scheme *)g)->rank < 27);
    cls->free_genome(g);
    cls->destroy(st);
}

/* The standard algorithm of <n,n,n> is itself cyclic symmetric, with n cubes; a walk never
 * changes the cubes, so from it the symmetric strategies could only reach ranks of that class
 * (<4,4,4>: never 49, which needs one cube). Each symmetric strategy, applied to the seed of
 * <4,4,4> over Z, starts instead from the fresh symmetric start with the residue rule's cube
 * count (mm_sym_default_parts: 1), and its child keeps it. */
static void sym_strategies_take_the_rule_cubes(void **state)
{
    (void)state;
    rt_policy pol;
    rt_policy_defaults(&pol);
    rt_matmul_policy *mm = mm_policy_mut(&pol);
    mm->pf_sym_flips = mm->pf_symlong_flips = 20000; /* short runs: milliseconds */
    void *st = make(&pol, (const char *[]){"shape", "4x4x4", "field", "z", NULL});
    size_t nops = 0;
    const rt_operator *ops = cls->operators_for(st, &nops);
    void *seed = cls->seed(st);
    mm_sym sym;
    assert_int_equal(mm_sym_from_scheme(&sym, seed, NULL, 0), 0);
    assert_int_equal(sym.ncube, 4); /* the seed: symmetric, with the wrong cubes */
    mm_sym_free(&sym);
    rt_rng rng;
    rt_rng_seed(&rng, 5, 0);
    int checked = 0;
    for (size_t k = 0; k < nops; k++) {
        if (strcmp(ops[k].name, "sym") && strcmp(ops[k].name, "twin") &&
            strcmp(ops[k].name, "symlong"))
            continue;
        for (int rep = 0; rep < 3; rep++) {
            void *child = cls->clone(st, seed);
            long long work = 0;
            if (ops[k].apply(st, child, &rng, &work) == 0) {
                assert_int_equal(mm_sym_from_scheme(&sym, child, NULL, 0), 0);
                assert_int_equal(sym.ncube, mm_sym_default_parts(4));
                mm_sym_free(&sym);
                checked++;
            }
            cls->free_genome(child);
        }
    }
    assert_true(checked >= 3);
    cls->free_genome(seed);
    cls->destroy(st);
}

/* The portfolio's reader (a text over Z, or the lift of a GF(2) scheme) on mutated scheme texts:
 * it answers 0 or an error, and what it accepts writes out again and verifies or not, without
 * a crash. */
static void decode_survives_mutations(void **state)
{
    (void)state;
    rt_policy pol;
    rt_policy_defaults(&pol);
    void *st = make(&pol, (const char *[]){"shape", "2x2x2", "field", "z", NULL});
    void *g = cls->seed(st);
    rt_buf text;
    rt_buf_init(&text, 0);
    assert_int_equal(cls->encode(st, g, &text), 0);
    rt_rng rng;
    rt_rng_seed(&rng, 11, 0);
    char buf[4096], err[256];
    assert_true(text.len < sizeof buf);
    int accepted = 0;
    for (int i = 0; i < 20000; i++) {
        memcpy(buf, text.data, text.len);
        size_t len = text.len;
        for (int k = 0; k < 1 + (int)rt_rng_below(&rng, 4); k++)
            buf[rt_rng_below(&rng, (uint32_t)len)] = "01-+ *\nabc()x2"[rt_rng_below(&rng, 15)];
        if (rt_rng_below(&rng, 8) == 0)
            len = rt_rng_below(&rng, (uint32_t)len + 1);
        void *back = NULL;
        int rc = cls->decode(st, buf, len, &back, err, sizeof err);
        assert_true(rc == 0 || rc < 0);
        if (rc)
            continue;
        accepted++;
        rt_buf again;
        rt_buf_init(&again, 0);
        (void)cls->encode(st, back, &again);
        rt_verdict v;
        if (again.len)
            assert_int_equal(cls->verify(st, again.data, again.len, &v, err, sizeof err), 0);
        rt_buf_free(&again);
        cls->free_genome(back);
    }
    assert_true(accepted > 0);
    rt_buf_free(&text);
    cls->free_genome(g);
    cls->destroy(st);
}

static int brent_holds(const mm_scheme *s);

/* The rule of the shape: value * (nmp/64)^exponent, below one flip is 0; the work weights. */
static void rule_and_work(void **state)
{
    (void)state;
    assert_int_equal(mm_rule_length(1000, 4, 4, 4, 3), 1000);
    assert_int_equal(mm_rule_length(1000, 4, 4, 8, 1), 2000);
    assert_int_equal(mm_rule_length(1000, 2, 2, 2, 3), 2); /* 1000 / 512 */
    assert_int_equal(mm_rule_length(1000, 1, 1, 1, 3), 0);
    assert_int_equal(mm_rule_length(30000, 3, 3, 4, 0), 30000);
    mm_effort z = {.flips_z = 1000000}, gf2 = {.flips_gf2 = 1000000};
    assert_true(mm_work_cost(&gf2, 0) < mm_work_cost(&z, 0));
    /* a symmetric flip moves an orbit: at its measured cost (pf_sym_work 1) dearer than a plain
     * flip of its field, twin dearest; at 0 priced as the plain flip; in between, in between */
    mm_effort cyc_z = {.sym_flips = {{1000000, 0}}}, cyc_gf2 = {.sym_flips = {{0, 1000000}}};
    mm_effort twin_z = {.sym_flips = {{0}, {1000000, 0}}};
    assert_true(mm_work_cost(&cyc_z, 1) > 3 * mm_work_cost(&z, 1) / 2);
    assert_true(mm_work_cost(&cyc_gf2, 1) > 3 * mm_work_cost(&gf2, 1) / 2);
    assert_true(mm_work_cost(&twin_z, 1) > mm_work_cost(&cyc_z, 1));
    assert_int_equal(mm_work_cost(&cyc_z, 0), mm_work_cost(&z, 0));
    assert_int_equal(mm_work_cost(&twin_z, 0), mm_work_cost(&z, 0));
    assert_int_equal(mm_work_cost(&cyc_gf2, 0), mm_work_cost(&gf2, 0));
    assert_true(mm_work_cost(&cyc_z, 0.5) > mm_work_cost(&cyc_z, 0) &&
                mm_work_cost(&cyc_z, 0.5) < mm_work_cost(&cyc_z, 1));
    /* and a symmetric run books its flips as symmetric ones, of its kind and field */
    for (int twin = 0; twin <= 1; twin++) {
        mm_sym_cfg c;
        memset(&c, 0, sizeof c);
        c.flips = c.plateau = 20000;
        c.fresh = 1;
        c.parts = mm_sym_default_parts(4);
        c.twin = twin;
        c.max_size = 1000;
        mm_scheme s;
        assert_int_equal(mm_scheme_standard(&s, 4, 4, 4, MM_GF2), 0);
        mm_effort e = {0};
        rt_rng rng;
        rt_rng_seed(&rng, 5, 0);
        assert_int_equal(mm_run_sym(&c, &s, &rng, 0, &e), 0);
        assert_true(brent_holds(&s));
        assert_true(e.sym_flips[twin][1] > 0);
        assert_true(e.sym_flips[!twin][1] == 0 && e.sym_flips[0][0] == 0 &&
                    e.sym_flips[1][0] == 0 && e.flips_z == 0 && e.flips_gf2 == 0);
        mm_effort plain = {.flips_gf2 = e.sym_flips[twin][1]};
        assert_true(mm_work_cost(&e, 1) > mm_work_cost(&plain, 1));
        assert_int_equal(mm_work_cost(&e, 0), mm_work_cost(&plain, 0));
        mm_scheme_free(&s);
    }
    /* a lift attempt's work grows with the shape (measured: 1.5 ms at <3,3,3>, 0.57 s at
     * <5,5,5>), and is counted when a lift is tried */
    assert_true(mm_lift_work(4, 4, 4) > 500000);
    assert_true(mm_lift_work(5, 5, 5) > 5 * mm_lift_work(4, 4, 4));
    assert_true(mm_lift_work(3, 3, 3) < mm_lift_work(4, 4, 4) / 10);
    mm_scheme s;
    assert_int_equal(mm_scheme_standard(&s, 3, 4, 5, MM_GF2), 0);
    mm_effort lift = {0};
    (void)mm_liftable(&s, 1, &lift);
    assert_int_equal(lift.lifts, 1);
    assert_true(mm_work_cost(&lift, 0) >= (long long)mm_lift_work(3, 4, 5));
    mm_scheme_free(&s);
}

/* A portfolio run pays its lift attempts from its flips budget: a walk over GF(2) whose
 * improvements must lift, with a budget far below one lift's work, stops after its first lift
 * attempt instead of trying a lift at every improvement (at <5,5,5> a lift attempt costs half a
 * second, and runs that tried one at every rank below their parent held a generation for
 * minutes). The override modes (lifts_pay 0) keep the old rule. */
/* The bandit's prior of an operator of the default run for shape under pol; -1 when absent. */
/* matmul over Z at shape, configured with pol. */
static rt_problem *open_configured(const rt_policy *pol, const char *shape)
{
    const char *keys[] = {"shape", "field"}, *values[] = {shape, "z"};
    rt_problem *pb = NULL;
    rt_error perr = {0};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 2, &perr), 0);
    char err[256];
    assert_int_equal(rt_problem_configure(pb, pol, err, sizeof err), 0);
    return pb;
}

static double prior_of(const rt_policy *pol, const char *shape, const char *op)
{
    rt_problem *pb = open_configured(pol, shape);
    char err[256];
    rt_bandit b;
    assert_int_equal(rt_bandit_init(&b, pb, pol, err, sizeof err), 0);
    double prior = -1;
    for (int k = 0; k < b.narms; k++)
        if (strcmp(b.arms[k].name, op) == 0)
            prior = b.arms[k].prior;
    rt_problem_close(pb);
    return prior;
}

/* symlong's weight follows the rule of the shape, (n*m*p/64)^matmul.symlong_exp: more long
 * symmetric runs at <5,5,5>, fewer at <3,3,3>, as given at <4,4,4>; the other weights do not. */
static void symlong_weight_by_shape(void **state)
{
    (void)state;
    rt_policy pol;
    rt_policy_defaults(&pol);
    const rt_matmul_policy *mp = mm_policy(&pol);
    double w = mp->op_symlong, e = mp->symlong_exp;
    assert_true(e > 0);
    assert_true(fabs(prior_of(&pol, "4x4x4", "symlong") - w) < 1e-12);
    assert_true(fabs(prior_of(&pol, "5x5x5", "symlong") - w * pow(125 / 64.0, e)) < 1e-9);
    assert_true(fabs(prior_of(&pol, "3x3x3", "symlong") - w * pow(27 / 64.0, e)) < 1e-12);
    assert_true(prior_of(&pol, "5x5x5", "symlong") > 3 * w);
    assert_true(fabs(prior_of(&pol, "5x5x5", "walk") - mp->op_walk) < 1e-12);
    assert_true(prior_of(&pol, "3x4x4", "symlong") < 0); /* not square: no symlong */
    mm_policy_mut(&pol)->symlong_exp = 0;
    assert_true(fabs(prior_of(&pol, "5x5x5", "symlong") - w) < 1e-12);
}

/* symlong continues from its island's best with chance matmul.symlong_best; no other strategy
 * asks for the best. */
static void symlong_continues_from_the_best(void **state)
{
    (void)state;
    rt_policy pol;
    rt_policy_defaults(&pol);
    rt_problem *pb = open_configured(&pol, "5x5x5");
    char err[256];
    double q = mm_policy(&pol)->symlong_best;
    assert_true(q > 0.5 && q <= 1);
    assert_true(fabs(rt_problem_op_best_parent(pb, "symlong") - q) < 1e-12);
    assert_true(rt_problem_op_best_parent(pb, "walk") == 0);
    assert_true(rt_problem_op_best_parent(pb, "sym") == 0);
    mm_policy_mut(&pol)->symlong_best = 0.25;
    assert_int_equal(rt_problem_configure(pb, &pol, err, sizeof err), 0);
    assert_true(fabs(rt_problem_op_best_parent(pb, "symlong") - 0.25) < 1e-12);
    rt_problem_close(pb);
}

static void lifts_paid_from_budget(void **state)
{
    (void)state;
    mm_scheme start;
    assert_int_equal(mm_scheme_standard(&start, 4, 4, 5, MM_GF2), 0);
    mm_walker *w = NULL;
    assert_int_equal(mm_walker_new(&w, &start, 2), 0);
    rt_rng rng;
    rt_rng_seed(&rng, 7, 0);
    (void)mm_walker_run(w, &rng, 3000000, 0, NULL); /* a parent below the standard algorithm
                                                       (72), whose improvements lift rarely */
    assert_int_equal(mm_walker_store(w, &start), 0);
    mm_walker_free(w);
    assert_true(start.rank < 80);
    long long attempts[2];
    for (int pay = 0; pay <= 1; pay++) {
        mm_scheme s;
        assert_int_equal(mm_scheme_copy(&s, &start), 0);
        mm_walk_cfg c = {1000000, 1000000, 0, 1, 0.9, 100, 0, 1, 1, pay, 0, 0, 0, {0}};
        mm_effort e = {0};
        rt_rng_seed(&rng, 3, 0);
        (void)mm_run_walk(&c, &s, &rng, 0, &e);
        attempts[pay] = e.lifts;
        if (pay)
            assert_true(mm_work_cost(&e, 0) <=
                        1000000 + (long long)mm_lift_work(4, 4, 5) + 1000);
        mm_scheme_free(&s);
    }
    mm_scheme_free(&start);
    assert_int_equal(attempts[1], 1);
    assert_true(attempts[0] > 1); /* the free rule tries more (for this seed: 2, 3.8e6 work) */
}

/* The Brent equations of s, checked by the plain verifier (an independent code path). */
static int brent_holds(const mm_scheme *s)
{
    mm_plain plain = {0};
    mm_check chk;
    assert_int_equal(mm_scheme_to_plain(s, &plain), 0);
    assert_int_equal(mm_verify(&plain, s->field, &chk), 0);
    mm_plain_free(&plain);
    return chk.valid && chk.rank == s->rank;
}

/* One strategy of a fresh start (split or cube) alone, every other weight 0 and restart's
 * lengths short, on shape over Z: a child is any scheme the run ended on (the engine keeps only
 * the better ones, as here); every child verifies through the gate and reads back, and some of
 * a few runs improve (up to 24, so the test does not hang on one stream of the rng), the best
 * below rank `below`. */
static void alone_through_gate(const char *strategy, const char *shape, int below, rt_rng *rng)
{
    rt_policy pol;
    rt_policy_defaults(&pol);
    rt_matmul_policy *mm = mm_policy_mut(&pol);
    mm->op_walk = mm->op_plus = mm->op_lift = mm->op_restart = mm->op_split = mm->op_cube = 0;
    *(strcmp(strategy, "split") == 0 ? &mm->op_split : &mm->op_cube) = 1;
    mm->pf_restart_flips = 3e5;
    void *st = make(&pol, (const char *[]){"shape", shape, "field", "z", NULL});
    size_t nops = 0;
    const rt_operator *ops = cls->operators_for(st, &nops);
    assert_int_equal(nops, 1);
    assert_string_equal(ops[0].name, strategy);
    void *g = cls->seed(st);
    int done = 0;
    for (int i = 0; i < 24 && done < 2; i++) {
        void *child = cls->clone(st, g);
        long long work = 0;
        if (ops[0].apply(st, child, rng, &work) != 0) {
            cls->free_genome(child);
            continue;
        }
        assert_true(work > 0);
        (void)assert_round_trip(st, child);
        if (((mm_scheme *)child)->rank >= ((mm_scheme *)g)->rank) {
            cls->free_genome(child);
            continue;
        }
        cls->free_genome(g);
        g = child;
        done++;
    }
    assert_true(done > 0);
    assert_true(((mm_scheme *)g)->rank < below);
    cls->free_genome(g);
    cls->destroy(st);
}

/* The split strategy's start: the direct sum of two schemes along each axis verifies at the sum
 * of their ranks: over GF(2) for parts that walks took below the standard algorithm, over Z for
 * parts that flips gave coefficients -1; shapes or fields that do not fit are refused. Then the
 * split strategy alone takes <3,4,5> over Z below the standard algorithm's 60, every child
 * verified through the gate. */
static void split_direct_sum(void **state)
{
    (void)state;
    const int full[3] = {3, 4, 5};
    rt_rng rng;
    rt_rng_seed(&rng, 11, 0);
    int negatives = 0;
    for (int axis = 0; axis < 3; axis++) {
        int da[3] = {full[0], full[1], full[2]}, db[3] = {full[0], full[1], full[2]};
        da[axis] = 1 + axis; /* cuts 1|2 in n, 2|2 in m, 3|2 in p */
        db[axis] = full[axis] - da[axis];
        mm_scheme part[2][2], sum;
        for (int k = 0; k < 2; k++) {
            const int *d = k ? db : da;
            assert_int_equal(mm_scheme_standard(&part[k][0], d[0], d[1], d[2], MM_Z), 0);
            assert_int_equal(mm_scheme_standard(&part[k][1], d[0], d[1], d[2], MM_GF2), 0);
            mm_walk_cfg c = {1000000, 50000, 0, 4, 1.0, 1000, 0, 0, 0, 0, 0, 0, 0, {0}};
            mm_effort e = {0};
            (void)mm_run_walk(&c, &part[k][1], &rng, 0, &e);
            assert_true(brent_holds(&part[k][1]));
        }
        /* GF(2): walked parts */
        assert_int_equal(mm_scheme_direct_sum(&part[0][1], &part[1][1], axis, &sum), 0);
        assert_int_equal(sum.n, full[0]);
        assert_int_equal(sum.m, full[1]);
        assert_int_equal(sum.p, full[2]);
        assert_int_equal(sum.rank, part[0][1].rank + part[1][1].rank);
        assert_true(sum.rank < 60);
        assert_true(brent_holds(&sum));
        mm_scheme_free(&sum);
        /* Z: parts that flips over Z gave coefficients -1 (flips from the standard algorithm
         * rarely reduce over Z, so the rank is not asserted) */
        for (int k = 0; k < 2; k++)
            mm_walk(&part[k][0], &rng, 20000, NULL);
        assert_int_equal(mm_scheme_direct_sum(&part[0][0], &part[1][0], axis, &sum), 0);
        assert_int_equal(sum.rank, part[0][0].rank + part[1][0].rank);
        assert_true(brent_holds(&sum));
        for (int t = 0; t < sum.rank; t++)
            for (int q = 0; q < 3; q++)
                negatives += sum.prod[t].f[q].n != 0;
        mm_scheme_free(&sum);
        /* the same parts along another axis, or of two fields, are refused */
        assert_int_equal(mm_scheme_direct_sum(&part[0][1], &part[1][1], (axis + 1) % 3, &sum),
                         RT_EUSAGE);
        assert_int_equal(mm_scheme_direct_sum(&part[0][0], &part[1][1], axis, &sum), RT_EUSAGE);
        for (int k = 0; k < 2; k++) {
            mm_scheme_free(&part[k][0]);
            mm_scheme_free(&part[k][1]);
        }
    }
    assert_true(negatives > 0);
    /* a split run starts from a direct sum: with restart_prob 1 every run builds one (a run
     * that kept its parent, as when split_start fails, counts none), and without split none */
    for (int split = 0; split < 2; split++) {
        mm_walk_cfg c;
        memset(&c, 0, sizeof c);
        c.flips = 20000;
        c.plateau_hi = 2000;
        c.drift = 1;
        c.restart_prob = 1;
        c.split = split;
        c.flips_exp = c.plateau_exp = 1;
        mm_scheme s;
        assert_int_equal(mm_scheme_standard(&s, 3, 4, 5, MM_GF2), 0);
        mm_effort e;
        memset(&e, 0, sizeof e);
        rt_rng own; /* the strategy below keeps its stream */
        rt_rng_seed(&own, 12, 0);
        for (int i = 0; i < 3; i++) {
            (void)mm_run_walk(&c, &s, &own, 0, &e);
            assert_true(brent_holds(&s));
        }
        assert_int_equal(e.split_starts, split ? 3 : 0);
        mm_scheme_free(&s);
    }
    /* the strategy: only split, short lengths; children verify through the gate */
    alone_through_gate("split", "3x4x5", 60, &rng);
}

/* The cube strategy's start: <4,4,5> is <4,4,4>, descended by a symmetric run, beside the
 * standard <4,4,1> (16 products); over both fields it verifies and lies below the standard
 * algorithm's 80 by what the symmetric run took off the cube (a start with the standard cube
 * is 80). Its symmetric flips are booked as such. A square shape, one with two dimensions
 * above the third or one of side 1 has no cube start (the run keeps its parent). Then the
 * strategy alone through the gate: <3,3,4> over Z below its standard 36, every child
 * verified. */
static void cube_start(void **state)
{
    (void)state;
    rt_rng rng;
    rt_rng_seed(&rng, 21, 0);
    for (int f = 0; f < 2; f++) {
        enum mm_field field = f ? MM_GF2 : MM_Z;
        mm_walk_cfg c;
        memset(&c, 0, sizeof c);
        c.flips = 0; /* no walk after the start, none in the slab: the start itself */
        c.restart_prob = 1;
        c.split = MM_SPLIT_CUBE;
        c.flips_exp = 3;
        c.plateau_exp = 2;
        c.cube.flips = 300000;
        c.cube.plateau = 5000;
        c.cube.escape_prob = 0.9;
        c.cube.max_escapes = 1000;
        c.cube.headroom = 1;
        c.cube.parts = 1;
        c.cube.fresh = 1;
        mm_scheme s;
        assert_int_equal(mm_scheme_standard(&s, 4, 4, 5, field), 0);
        mm_effort e;
        memset(&e, 0, sizeof e);
        (void)mm_run_walk(&c, &s, &rng, 0, &e);
        assert_int_equal(e.split_starts, 1);
        assert_true(e.sym_flips[0][f] > 0);
        assert_int_equal(e.flips_z + e.flips_gf2, 0);
        assert_int_equal(s.n * 100 + s.m * 10 + s.p, 445);
        assert_true(brent_holds(&s));
        assert_true(s.rank <= 16 + 58); /* the cube below 64 */
        mm_scheme_free(&s);
        /* no cube start for <4,4,4>, <3,4,4> nor <1,1,4> */
        const int shapes[3][3] = {{4, 4, 4}, {3, 4, 4}, {1, 1, 4}};
        for (int k = 0; k < 3; k++) {
            assert_int_equal(
                mm_scheme_standard(&s, shapes[k][0], shapes[k][1], shapes[k][2], field), 0);
            int before = s.rank;
            memset(&e, 0, sizeof e);
            (void)mm_run_walk(&c, &s, &rng, 0, &e);
            assert_int_equal(e.split_starts, 0);
            assert_int_equal(s.rank, before);
            mm_scheme_free(&s);
        }
    }
    /* the strategy alone through the gate */
    alone_through_gate("cube", "3x3x4", 36, &rng);
}

/* A policy that cannot serve the shape: configure fails with RT_EUSAGE naming the key. */
static void bad_policies(void **state)
{
    (void)state;
    char err[256];
    const char *keys[] = {"shape", "field"};
    const char *values[] = {"2x3x4", "z"};
    void *st = NULL;
    assert_int_equal(cls->create(&st, keys, values, 2, err, sizeof err), 0);
    rt_policy pol;
    rt_policy_defaults(&pol);
    rt_matmul_policy *mm = mm_policy_mut(&pol);
    mm->op_walk = mm->op_plus = mm->op_lift = mm->op_restart = mm->op_split = 0; /* sym and
                                                                   cube stay, but 2x3x4 */
    assert_int_equal(cls->configure(st, &pol, err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "matmul.op_split"));
    assert_non_null(strstr(err, "sum to zero"));
    rt_policy_defaults(&pol);
    mm->pf_plateau = 1;
    assert_int_equal(cls->configure(st, &pol, err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "matmul.pf_plateau"));
    rt_policy_defaults(&pol);
    assert_int_equal(cls->configure(st, &pol, err, sizeof err), 0);
    cls->destroy(st);
}

/* Runs the tool with argv (under `timeout 60`); returns its exit code, its output (standard
 * error, then standard output) in err. */
static int run_tool(const char *const *argv, char *err, size_t errlen)
{
    char dir[128], path[192];
    assert_int_equal(tu_tempdir(dir, sizeof dir, "pfcli"), 0);
    snprintf(path, sizeof path, "%s/stderr", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *f = freopen(path, "w", stderr);
        if (!f || dup2(fileno(f), 1) < 0)
            _exit(127);
        const char *args[32] = {"timeout", "60"};
        size_t n = 2;
        for (; argv[n - 2] && n < 31; n++)
            args[n] = argv[n - 2];
        args[n] = NULL;
        execvp("timeout", (char *const *)args);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    size_t len = 0;
    char *text = tu_slurp(path, &len);
    snprintf(err, errlen, "%s", text ? text : "");
    free(text);
    tu_rmtree(dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Writes text to a policy file in dir. */
static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The tool: bad policies exit 2 with one line naming the key; the default run reaches <3,3,3>
 * 23 over Z with no strategy flags. */
static void tool_exit_codes(void **state)
{
    (void)state;
    const char *tool = tu_tool();
    assert_non_null(tool);
    char dir[128], pol[192], store[192], err[4096];
    assert_int_equal(tu_tempdir(dir, sizeof dir, "portfolio"), 0);
    snprintf(pol, sizeof pol, "%s/p.json", dir);
    snprintf(store, sizeof store, "%s/run.db", dir);
    const struct {
        const char *policy, *key;
    } bad[] = {
        {"{\"matmul\": {\"op_anneal\": 1}}", "op_anneal"},
        {"{\"matmul\": {\"op_walk\": 0, \"op_plus\": 0, \"op_lift\": 0, \"op_restart\": 0, "
         "\"op_sym\": 0, \"op_twin\": 0, \"op_symlong\": 0, \"op_split\": 0, \"op_cube\": 0}}",
         "matmul.op_cube"},
        {"{\"matmul\": {\"pf_walk_flips\": 10, \"flips_exp\": 4}}", "matmul.pf_walk_flips"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(pol, bad[i].policy);
        unlink(store);
        const char *argv[] = {tool,    "run",     "matmul",  "--shape", "2x2x3", "--policy",
                              pol,     "--store", store,     "--seconds", "5",   NULL};
        assert_int_equal(run_tool(argv, err, sizeof err), 2);
        assert_non_null(strstr(err, bad[i].key));
        size_t lines = 0;
        for (const char *c = err; *c; c++)
            lines += *c == '\n';
        assert_int_equal(lines, 1);
    }
    unlink(store);
    const char *argv[] = {tool,      "run",     "matmul", "--shape", "3x3x3", "--target", "23",
                          "--seed",  "1",       "--seconds", "60", "--store", store, NULL};
    assert_int_equal(run_tool(argv, err, sizeof err), 0);
    assert_non_null(strstr(err, "best verified rank 23"));
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strategies_by_shape), cmocka_unit_test(every_strategy_verifies),
        cmocka_unit_test(decode_survives_mutations),
        cmocka_unit_test(sym_strategies_take_the_rule_cubes),
        cmocka_unit_test(rule_and_work),       cmocka_unit_test(lifts_paid_from_budget),       cmocka_unit_test(bad_policies),
        cmocka_unit_test(symlong_weight_by_shape), cmocka_unit_test(symlong_continues_from_the_best),
        cmocka_unit_test(split_direct_sum),
        cmocka_unit_test(cube_start),
        cmocka_unit_test(tool_exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
