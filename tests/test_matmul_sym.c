/* test_matmul_sym.c — cyclically symmetric schemes (src/problems/matmul_sym.c): the symmetric
 * start verifies, every move keeps the expanded scheme valid and invariant under the rotation
 * (A,B,C) -> (B,C,A), small shapes reach their known ranks quickly, asymmetric schemes are
 * refused, and the published records are symmetric in this convention. Validity is always
 * decided by the gate's verifier (matmul_plain.c); invariance by comparing canonical texts of
 * the expanded scheme and of its rotation (matmul_search.c's canonical form), not by the module
 * under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "problem.h"
#include "problems/matmul/matmul_plain.h"
#include "problems/matmul/matmul_search.h"
#include "problems/matmul/matmul_sym.h"
#include "testutil.h"

/* 1 if s and its image (which this frees) are the same multiset of products, compared by
 * canonical text. */
static int same_products(const mm_scheme *s, mm_scheme *image)
{
    char *a = tu_mm_canonical_text(s), *b = tu_mm_canonical_text(image);
    int same = strcmp(a, b) == 0;
    free(a);
    free(b);
    mm_scheme_free(image);
    return same;
}

/* 1 if the product multiset of s equals that of its rotation (a,b,c) -> (b,c,a). */
static int rotation_invariant(const mm_scheme *s)
{
    mm_scheme rot;
    assert_int_equal(mm_scheme_copy(&rot, s), 0);
    for (int t = 0; t < rot.rank; t++) {
        mm_prod p = rot.prod[t];
        rot.prod[t].f[0] = p.f[1];
        rot.prod[t].f[1] = p.f[2];
        rot.prod[t].f[2] = p.f[0];
    }
    return same_products(s, &rot);
}

/* pi of matmul_sym.h's twin symmetry, written out here independently: swaps 2i and 2i+1, fixes
 * the last index of an odd n. */
static uint64_t twin_image(int n, uint64_t m)
{
    uint64_t out = 0;
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++)
            if (m >> (r * n + c) & 1) {
                int pr = (r % 2 == 0 && r + 1 < n) ? r + 1 : (r % 2 ? r - 1 : r);
                int pc = (c % 2 == 0 && c + 1 < n) ? c + 1 : (c % 2 ? c - 1 : c);
                out |= 1ULL << (pr * n + pc);
            }
    return out;
}

/* 1 if the product multiset of s equals that of its image under the twin involution. */
static int twin_invariant(const mm_scheme *s)
{
    mm_scheme img;
    assert_int_equal(mm_scheme_copy(&img, s), 0);
    for (int t = 0; t < img.rank; t++)
        for (int k = 0; k < 3; k++) {
            img.prod[t].f[k].p = twin_image(s->n, s->prod[t].f[k].p);
            img.prod[t].f[k].n = twin_image(s->n, s->prod[t].f[k].n);
        }
    return same_products(s, &img);
}

/* Expands, checks validity, invariance and the rank; returns the verified rank. */
static int check_sym(const mm_sym *s)
{
    mm_scheme full;
    assert_int_equal(mm_sym_expand(s, &full), 0);
    int rank = tu_mm_verified_rank(&full);
    assert_int_equal(rank, mm_sym_rank(s));
    assert_true(rotation_invariant(&full));
    /* and the orbits come back from the expanded form */
    mm_sym back;
    char err[160];
    assert_int_equal(mm_sym_from_scheme_twin(&back, &full, s->twin, err, sizeof err), 0);
    assert_int_equal(mm_sym_rank(&back), rank);
    assert_int_equal(back.ncube, s->ncube);
    mm_sym_free(&back);
    if (s->twin)
        assert_true(twin_invariant(&full));
    mm_scheme_free(&full);
    return rank;
}

static void trivial_schemes_verify(void **state)
{
    (void)state;
    for (int n = 1; n <= 6; n++)
        for (int parts = 1; parts <= n; parts++)
            for (int f = 0; f < 2; f++) {
                mm_sym s;
                assert_int_equal(mm_sym_trivial(&s, n, f ? MM_GF2 : MM_Z, parts), 0);
                int rank = check_sym(&s);
                assert_int_equal(rank % 3, parts % 3);
                assert_int_equal(s.ncube, parts);
                if (parts == n)
                    assert_int_equal(rank, n * n * n); /* the standard algorithm, regrouped */
                mm_sym_free(&s);
            }
    mm_sym s;
    assert_int_equal(mm_sym_trivial(&s, 3, MM_Z, 4), RT_EUSAGE);
    assert_int_equal(mm_sym_trivial(&s, 9, MM_Z, 1), RT_EUSAGE);
    assert_int_equal(mm_sym_trivial(&s, 3, MM_Z, 0), RT_EUSAGE);
}

/* One plus transition (or none, when no pair allows one): the rank rises by one orbit's products
 * (3, or 6 with twin symmetry) and the scheme stays valid and symmetric. */
static void plus_and_check(mm_sym *s, rt_rng *rng)
{
    int before = mm_sym_rank(s);
    int rc = mm_sym_plus(s, rng);
    assert_true(rc == 0 || rc == -1);
    assert_int_equal(mm_sym_rank(s), before + (rc == 0 ? (s->twin ? 6 : 3) : 0));
    check_sym(s);
}

/* Many short walks and plus transitions on 3x3x3 and 4x4x4, both fields: after each move the
 * expanded scheme verifies and is invariant; walks never raise the rank, a plus raises it by 3. */
static void moves_keep_symmetry(void **state)
{
    (void)state;
    rt_rng rng;
    rt_rng_seed(&rng, 7, 0);
    for (int n = 3; n <= 4; n++)
        for (int f = 0; f < 2; f++) {
            mm_sym s;
            assert_int_equal(mm_sym_trivial(&s, n, f ? MM_GF2 : MM_Z, mm_sym_default_parts(n)), 0);
            for (int round = 0; round < 40; round++) {
                int before = mm_sym_rank(&s);
                mm_sym_stats st = {0};
                assert_int_equal(mm_sym_walk(&s, &rng, 1 + (long long)rt_rng_below(&rng, 3000), &st), 0);
                assert_true(mm_sym_rank(&s) <= before);
                assert_int_equal(before - mm_sym_rank(&s), 3 * (int)st.reductions);
                check_sym(&s);
                if (round % 4 == 3)
                    plus_and_check(&s, &rng);
            }
            mm_sym_free(&s);
        }
}

/* Walks with plus escapes from the symmetric start until the target rank; returns the rank
 * reached within the flip budget. */
static int search(int n, enum mm_field field, int target, uint64_t seed, long long budget)
{
    rt_rng rng;
    rt_rng_seed(&rng, seed, 0);
    mm_sym s;
    assert_int_equal(mm_sym_trivial(&s, n, field, mm_sym_default_parts(n)), 0);
    long long used = 0;
    while (mm_sym_rank(&s) > target && used < budget) {
        mm_sym_stats st = {0};
        int before = mm_sym_rank(&s);
        assert_int_equal(mm_sym_walk_to(&s, &rng, 100000, target, 0, &st), 0);
        used += st.attempts;
        if (mm_sym_rank(&s) >= before && mm_sym_plus(&s, &rng) < 0)
            break;
    }
    int rank = check_sym(&s);
    mm_sym_free(&s);
    return rank;
}

static void small_shapes_reach_known_ranks(void **state)
{
    (void)state;
    double t0 = tu_now();
    for (uint64_t seed = 1; seed <= 3; seed++) {
        assert_int_equal(search(2, MM_Z, 7, seed, 1000000), 7);
        assert_int_equal(search(2, MM_GF2, 7, seed, 1000000), 7);
        assert_int_equal(search(3, MM_Z, 23, seed, 20000000), 23);
    }
    /* a few seconds at most even on a loaded machine: 23 takes about 10^4 flips */
    assert_true(tu_now() - t0 < 60);
}

/* Walker runs with plateaus and plus escapes keep schemes valid and symmetric, never end above
 * their lowest rank, and reach <3,3,3> rank 23. */
static void plateau_runs(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++)
        for (int f = 0; f < 2; f++) {
            rt_rng rng;
            rt_rng_seed(&rng, seed, 5);
            mm_sym s;
            assert_int_equal(mm_sym_trivial(&s, 3, f ? MM_GF2 : MM_Z, 2), 0);
            mm_sym_run_opts o = {300000, 2000, 0.9, 100, 0, 0, 0, 0, 0};
            for (int round = 0; round < 20 && mm_sym_rank(&s) > 23; round++) {
                int before = mm_sym_rank(&s);
                mm_sym_stats st = {0};
                assert_int_equal(mm_sym_run(&s, &rng, &o, &st), 0);
                assert_true(mm_sym_rank(&s) <= before);
                check_sym(&s);
            }
            if (f == 0)
                assert_int_equal(check_sym(&s), 23);
            mm_sym_free(&s);
        }
}

/* Runs with headroom (plus transitions on the current scheme while it is less than `headroom`
 * plus transitions above the run's best, never going back) return their lowest-rank scheme
 * valid and symmetric and reach <4,4,4> 49 over GF(2) within a few runs. The product-size cap:
 * from the standard algorithm (every product of size 1) a cap of 1 allows no flip at all, since
 * every flip makes a factor with two nonzero coefficients, while without the cap, or with a cap
 * of 8, the same walk flips. */
static void headroom_runs(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        rt_rng rng;
        rt_rng_seed(&rng, seed, 6);
        mm_sym s;
        assert_int_equal(mm_sym_trivial(&s, 4, MM_GF2, 1), 0);
        mm_sym_run_opts o = {2000000, 3000, 0, 0, 0, 0, 1, 0, 0};
        int round = 0;
        for (; round < 20 && mm_sym_rank(&s) > 49; round++) {
            int before = mm_sym_rank(&s);
            mm_sym_stats st = {0};
            assert_int_equal(mm_sym_run(&s, &rng, &o, &st), 0);
            assert_true(mm_sym_rank(&s) <= before);
            /* the budget is spent unless no flip is left */
            check_sym(&s);
        }
        assert_int_equal(check_sym(&s), 49);
        mm_sym_free(&s);
    }
    /* the headroom rule itself, on <5,5,5> (far from isolated schemes): with escapes off
     * (escape_prob 0), a headroom-0 run ends at its first plateau, a headroom-1 run makes its
     * plus transitions anyway and spends its whole budget */
    for (int h = 0; h <= 1; h++) {
        rt_rng rng;
        rt_rng_seed(&rng, 4, 7);
        mm_sym s;
        assert_int_equal(mm_sym_trivial(&s, 5, MM_GF2, 3), 0);
        mm_sym_run_opts o = {300000, 2000, 0, 0, 0, 0, h, 0, 0};
        mm_sym_stats st = {0};
        assert_int_equal(mm_sym_run(&s, &rng, &o, &st), 0);
        if (h)
            assert_int_equal(st.flips, o.flips);
        else
            assert_true(st.flips < o.flips);
        check_sym(&s);
        mm_sym_free(&s);
    }
    for (int f = 0; f < 2; f++)
        for (int cap = 0; cap <= 8; cap += cap ? 7 : 1) { /* 0 (none), 1, 8 */
            rt_rng rng;
            rt_rng_seed(&rng, 9, (uint64_t)f);
            mm_sym s;
            assert_int_equal(mm_sym_trivial(&s, 3, f ? MM_GF2 : MM_Z, 3), 0);
            mm_sym_stats st = {0};
            assert_int_equal(mm_sym_walk_capped(&s, &rng, 20000, -1, 0, cap, &st), 0);
            if (cap == 1)
                assert_int_equal(st.flips, 0);
            else
                assert_true(st.flips > 1000);
            check_sym(&s);
            mm_sym_free(&s);
        }
}

/* Twin symmetry (six-product orbits): the start verifies with rank 6k + cubes, walks and plus
 * transitions keep the expanded scheme valid and invariant under both the rotation and the
 * involution (checked with this file's own copy of pi), <4,4,4> reaches 49 over both fields, and
 * blocks that the involution does not preserve are refused. */
#ifndef TWIN_SEEDS
#define TWIN_SEEDS 2
#endif
static void twin_symmetry(void **state)
{
    (void)state;
    mm_sym s;
    assert_int_equal(mm_sym_start(&s, 5, MM_GF2, 5, 1), RT_EUSAGE); /* blocks {0},{1}: split */
    assert_int_equal(mm_sym_start(&s, 4, MM_Z, 3, 1), RT_EUSAGE);
    static const struct {
        int n, parts, start;
    } starts[] = {{2, 1, 13}, {3, 2, 32}, {4, 1, 121}, {4, 2, 122}, {5, 3, 135}, {6, 3, 231}};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
        for (int f = 0; f < 2; f++) {
            int n = starts[i].n;
            assert_int_equal(mm_sym_start(&s, n, f ? MM_GF2 : MM_Z, starts[i].parts, 1), 0);
            assert_int_equal(mm_sym_rank(&s) % 6, starts[i].parts % 6);
            int rank = check_sym(&s);
            assert_true(rank <= starts[i].start);
            rt_rng rng;
            rt_rng_seed(&rng, (uint64_t)(10 * i + (size_t)f), 1);
            for (int round = 0; round < 6; round++) {
                int before = mm_sym_rank(&s);
                mm_sym_stats st = {0};
                assert_int_equal(mm_sym_walk(&s, &rng, 20000, &st), 0);
                assert_true(mm_sym_rank(&s) <= before);
                assert_true((mm_sym_rank(&s) - s.ncube) % 6 == 0);
                check_sym(&s);
                plus_and_check(&s, &rng);
            }
            mm_sym_free(&s);
        }
    /* a cyclic walk breaks the twin symmetry: the twin recovery refuses it */
    rt_rng rng;
    rt_rng_seed(&rng, 4, 2);
    assert_int_equal(mm_sym_trivial(&s, 4, MM_GF2, 1), 0);
    assert_int_equal(mm_sym_walk(&s, &rng, 5000, NULL), 0);
    mm_scheme full;
    assert_int_equal(mm_sym_expand(&s, &full), 0);
    mm_sym back;
    char err[160];
    assert_int_equal(mm_sym_from_scheme_twin(&back, &full, 1, err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "twin"));
    assert_false(twin_invariant(&full));
    mm_scheme_free(&full);
    mm_sym_free(&s);
    /* <4,4,4> 49 over both fields from the twin start */
    for (int f = 0; f < 2; f++)
        for (uint64_t seed = 1; seed <= TWIN_SEEDS; seed++) {
            rt_rng_seed(&rng, seed, 3);
            assert_int_equal(mm_sym_start(&s, 4, f ? MM_GF2 : MM_Z, 1, 1), 0);
            mm_sym_run_opts o = {2000000, 5000, 1.0, 1000, 1, 0, 1, 0, 0};
            int round = 0;
            for (; round < 100 && mm_sym_rank(&s) > 49; round++) {
                mm_sym_stats st = {0};
                assert_int_equal(mm_sym_run(&s, &rng, &o, &st), 0);
            }
            print_message("twin <4,4,4> field %d seed %d: rank %d after %d runs\n", f,
                          (int)seed, mm_sym_rank(&s), round);
            assert_int_equal(check_sym(&s), 49);
            mm_sym_free(&s);
        }
}

static void asymmetric_schemes_are_refused(void **state)
{
    (void)state;
    char err[160];
    mm_sym s;
    mm_scheme full;
    /* not square */
    assert_int_equal(mm_scheme_standard(&full, 2, 3, 4, MM_Z), 0);
    assert_int_equal(mm_sym_from_scheme(&s, &full, err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "square"));
    mm_scheme_free(&full);
    /* the standard algorithm is symmetric: n cubes E_ii^3 and orbits of (i,j,k) */
    assert_int_equal(mm_scheme_standard(&full, 3, 3, 3, MM_Z), 0);
    assert_int_equal(mm_sym_from_scheme(&s, &full, err, sizeof err), 0);
    assert_int_equal(s.ncube, 3);
    assert_int_equal(mm_sym_rank(&s), 27);
    mm_sym_free(&s);
    mm_scheme_free(&full);
    /* one product replaced by an equivalent pair breaks the symmetry: a11*b11*c11 =
     * a11*(b11+b12)*c11 - a11*b12*c11 (still a valid scheme) */
    assert_int_equal(mm_scheme_standard(&full, 3, 3, 3, MM_Z), 0);
    full.prod[0].f[1].p |= 2; /* b11 + b12 */
    full.prod[full.rank++] = (mm_prod){{{1, 0}, {2, 0}, {0, 1}}};
    assert_int_equal(tu_mm_verified_rank(&full), 28);
    assert_false(rotation_invariant(&full));
    assert_int_equal(mm_sym_from_scheme(&s, &full, err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "not cyclically symmetric"));
    mm_scheme_free(&full);
}

/* The problem's parameters: --symmetric needs a square shape, --cubes needs --symmetric. */
static void problem_parameters(void **state)
{
    (void)state;
    const rt_problem_class *cls = rt_problem_class_find("matmul");
    assert_non_null(cls);
    void *st = NULL;
    char err[256];
    const char *k1[] = {"shape", "symmetric"}, *v1[] = {"2x2x3", "1"};
    assert_int_equal(cls->create(&st, k1, v1, 2, err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "square"));
    const char *k2[] = {"shape", "cubes"}, *v2[] = {"3x3x3", "2"};
    assert_int_equal(cls->create(&st, k2, v2, 2, err, sizeof err), RT_EUSAGE);
    const char *k3[] = {"shape", "symmetric", "cubes"}, *v3[] = {"3x3x3", "1", "4"};
    assert_int_equal(cls->create(&st, k3, v3, 3, err, sizeof err), RT_EUSAGE);
    const char *v5[] = {"5x5x5", "2", "5"}; /* blocks of one index: pi splits them */
    assert_int_equal(cls->create(&st, k3, v5, 3, err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "--symmetric 2"));
    const char *v6[] = {"3x3x3", "3", "1"};
    assert_int_equal(cls->create(&st, k3, v6, 3, err, sizeof err), RT_EUSAGE);
    const char *v7[] = {"4x4x4", "2", "2"};
    assert_int_equal(cls->create(&st, k3, v7, 3, err, sizeof err), 0);
    assert_string_equal(cls->params(st), "shape=4x4x4 field=z symmetric=2 cubes=2");
    cls->destroy(st);
    const char *v4[] = {"3x3x3", "1", "2"};
    assert_int_equal(cls->create(&st, k3, v4, 3, err, sizeof err), 0);
    assert_string_equal(cls->params(st), "shape=3x3x3 field=z symmetric=1 cubes=2");
    /* the seed is the symmetric start: rank 32 = 3 * 10 + 2 for two blocks */
    mm_scheme *seed = cls->seed(st);
    assert_non_null(seed);
    assert_int_equal(tu_mm_verified_rank(seed), 32);
    assert_true(rotation_invariant(seed));
    /* operators keep the genome symmetric and valid */
    rt_rng rng;
    rt_rng_seed(&rng, 3, 0);
    for (size_t i = 0; i < cls->noperators; i++)
        for (int r = 0; r < 5; r++) {
            long long work = 0;
            int rc = cls->operators[i].apply(st, seed, &rng, &work);
            assert_true(rc == 0 || rc == -1);
            assert_true(tu_mm_verified_rank(seed) > 0);
            assert_true(rotation_invariant(seed));
        }
    cls->free_genome(seed);
    cls->destroy(st);
}

/* The published record schemes are invariant under exactly this rotation, with diagonal-block
 * cubes: this checks the convention (no transposition) against real data. <4,4,4> rank 47 over
 * GF(2) is not. Skipped when the shared schemes folder is absent. */
/* A symmetric run through the engine and its gate (which decodes every stored text and requires
 * that it encodes back to the same text), then a resume: the run admits its symmetric start,
 * reaches its target rank, nothing fails the gate, the resumed walks still produce children (the
 * store grows) and the resumed store checks out. Once with cyclic symmetry on <3,3,3> 23, once
 * with twin symmetry on <4,4,4> 49. */
static void run_and_resume(const char *shape, const char *symmetric, int target, int evaluations)
{
    char dir[128], path[256];
    assert_int_equal(tu_tempdir(dir, sizeof dir, "sym"), 0);
    snprintf(path, sizeof path, "%s/run.db", dir);
    const char *keys[] = {"shape", "field", "symmetric"}, *vals[] = {shape, "z", symmetric};
    rt_problem *pb = NULL;
    rt_error err = {0};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, vals, 3, &err), 0);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.seed = 3;
    opt.evaluations = evaluations; /* the target ends the run first */
    opt.has_target = 1;
    opt.target = target;
    rt_run *run = NULL;
    if (rt_run_create(&run, path, pb, &opt, &err))
        fail_msg("create: %s", err.msg);
    if (rt_run_execute(run))
        fail_msg("run: %s", rt_run_errmsg(run));
    rt_run_close(run);
    rt_store *st = NULL;
    rt_summary sum;
    assert_int_equal(rt_store_open(&st, path, &err), 0);
    assert_int_equal(rt_store_summary(st, &sum), 0);
    long long stored_before = sum.stored;
    rt_store_close(st);
    opt.has_target = 0;
    opt.evaluations = 8;
    if (rt_run_resume(&run, path, pb, &opt, &err))
        fail_msg("resume: %s", err.msg);
    if (rt_run_execute(run))
        fail_msg("resumed run: %s", rt_run_errmsg(run));
    rt_run_close(run);
    assert_int_equal(rt_store_open(&st, path, &err), 0);
    assert_int_equal(rt_store_summary(st, &sum), 0);
    assert_true(sum.has_best);
    assert_true(sum.best_metric <= target);
    assert_true(sum.stored > stored_before); /* the resumed walks made children */
    assert_int_equal(sum.invalid, 0); /* nothing failed the gate: every text round-trips */
    long long checked = 0;
    if (rt_store_check(st, &checked))
        fail_msg("store check: %s", rt_store_errmsg(st));
    rt_store_close(st);
    rt_problem_close(pb);
    tu_rmtree(dir);
}

static void runs_and_resumes_through_the_gate(void **state)
{
    (void)state;
    run_and_resume("3x3x3", "1", 23, 40);
    run_and_resume("4x4x4", "2", 49, 400);
}

static void published_schemes_are_symmetric(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int n, gf2, symmetric, cubes, orbits;
    } cases[] = {
        {"555-93-mod2.exp", 5, 1, 1, 3, 30},
        {"666-153-mod2.exp", 6, 1, 1, 3, 50},
        {"444-47-mod2.exp", 4, 1, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", tu_schemes_dir(), cases[i].name);
        size_t len;
        char *text = tu_slurp(path, &len);
        if (!text)
            continue;
        int n = cases[i].n;
        mm_plain plain = {0};
        char err[256];
        assert_int_equal(mm_parse_any(text, len, n, n, n, &plain, err, sizeof err), 0);
        mm_scheme full;
        assert_int_equal(mm_scheme_from_plain(&full, &plain, MM_GF2, err, sizeof err), 0);
        mm_sym s;
        int rc = mm_sym_from_scheme(&s, &full, err, sizeof err);
        if (cases[i].symmetric) {
            assert_int_equal(rc, 0);
            assert_int_equal(s.ncube, cases[i].cubes);
            assert_int_equal(s.norb, cases[i].orbits);
            check_sym(&s);
            /* each cube is a sum of diagonal entries E_ii */
            uint64_t diag = 0;
            for (int d = 0; d < n; d++)
                diag |= 1ULL << (d * n + d);
            for (int c = 0; c < s.ncube; c++)
                assert_int_equal(s.cube[c].p & ~diag, 0);
            mm_sym_free(&s);
        } else {
            assert_int_equal(rc, RT_EUSAGE);
        }
        mm_scheme_free(&full);
        mm_plain_free(&plain);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trivial_schemes_verify),
        cmocka_unit_test(moves_keep_symmetry),
        cmocka_unit_test(small_shapes_reach_known_ranks),
        cmocka_unit_test(plateau_runs),
        cmocka_unit_test(headroom_runs),
        cmocka_unit_test(twin_symmetry),
        cmocka_unit_test(asymmetric_schemes_are_refused),
        cmocka_unit_test(problem_parameters),
        cmocka_unit_test(published_schemes_are_symmetric),
        cmocka_unit_test(runs_and_resumes_through_the_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
