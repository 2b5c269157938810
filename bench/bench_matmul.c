/* bench_matmul.c — figures for the matmul search, printed with their baselines.
 *
 * 1. Flips per second on one core on the <3,3,3> rank-23 plateau (GF(2) and Z), median of 5 timed
 *    walks, for the first kernel (mm_walk_scan: an O(rank) scan for each flip partner) and the
 *    indexed walker (mm_walk, matmul_walk.c) in the same run, so that their ratio holds on a
 *    loaded machine; the scan kernel walks a quarter as many flips. Each rate is given per
 *    second of wall time and per second of the thread's CPU time: on a shared machine the CPU
 *    figure is the one that does not depend on how often the walk was descheduled.
 * 2. Time to reach rank 23 for <3,3,3> from the standard algorithm over 10 seeds: the bare search
 *    kernel (walks and plus transitions, nothing stored or verified) next to the full verified
 *    loop (`ratchet run` through the library: 4 islands, encode, hash, verify, store, one thread).
 *    The two follow different schedules (the loop's islands explore more widely, the kernel walks
 *    one scheme), so their ratio mixes the cost of verification and storage with the effect of
 *    the search strategy.
 *
 * 3. With --walk FIELD FLIPS: only one walk of FLIPS flips from the same plateau, in the function
 *    plateau_walk, for instruction counts that do not depend on the machine's load:
 *      valgrind --tool=callgrind --toggle-collect=plateau_walk bench_matmul --walk z 1000000
 *    (Ir divided by FLIPS; the walker's set-up and copy-back are a few thousand instructions).
 *
 * 4. What a flip costs by kind, the basis of the work weights (mm_work_cost) the in-run bandit
 *    prices strategies with: CPU nanoseconds per flip of a plain walker run, a cyclic symmetric
 *    run and a twin symmetric run (mm_run_walk, mm_run_sym from a fresh symmetric start), each
 *    over Z and GF(2), on the square shapes <3,3,3> to <6,6,6> where the symmetric strategies
 *    run; median of 5 runs, as a ratio to the plain Z flip of the same shape beside the weight
 *    mm_work_cost gives the kind with matmul.pf_sym_work 1 (the measured weights, 7 Dec 2026)
 *    and 0 (the default: a plain flip of the field). A measured ratio far from its weight at 1
 *    means the weights no longer hold on this machine.
 *
 * 5. The start of a fresh descent at <4,4,5> over GF(2): split's (a random cut, both parts
 *    descended) against cube's (<4,4,4> descended by a cyclic symmetric run of 2e6 flips, beside
 *    <4,4,1>), each followed by the same walker run (restart's lengths at <4,4,5>: 9.2e7 flips,
 *    plateaus log-uniform in [1.4e4, 2.8e5], drift 4, no early stop); per start, the best rank
 *    of the run over 10 seeds (3 with --quick) and the median CPU seconds a run took. Before
 *    cube every strategy of the default stalled at 63-64 on this shape (docs/recursion.md).
 *
 * usage: bench_matmul [--quick | --walk gf2|z FLIPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "problems/matmul/matmul_search.h"
#include "problems/matmul/matmul_strategy.h"
#include "problems/matmul/matmul_sym.h"
#include "ratchet.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The kernel's search loop: walks of 20000 flips, a plus transition every 20 walks. */
static long long reach(mm_scheme *s, rt_rng *rng, int target, long long max_flips)
{
    mm_walk_stats st = {0};
    int round = 0;
    while (s->rank > target && st.flips < max_flips) {
        mm_walk(s, rng, 20000, &st);
        if (++round % 20 == 0 && s->rank > target)
            mm_plus(s, rng);
    }
    return st.flips;
}

typedef void (*walk_fn)(mm_scheme *, rt_rng *, long long, mm_walk_stats *);

/* CPU time of the calling thread, in seconds. */
static double cpu_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return rt_now();
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double plateau_rate(enum mm_field field, const char *name, walk_fn walk, long long flips,
                           int reps)
{
    mm_scheme s;
    rt_rng rng;
    rt_rng_seed(&rng, 1, 0);
    if (mm_scheme_standard(&s, 3, 3, 3, field))
        exit(1);
    reach(&s, &rng, 23, 1LL << 40);
    double rate[16], crate[16];
    long long done = 0;
    for (int r = 0; r < reps; r++) {
        mm_walk_stats st = {0};
        double t0 = rt_now(), c0 = cpu_now();
        walk(&s, &rng, flips, &st);
        double dt = rt_now() - t0, dc = cpu_now() - c0;
        rate[r] = (double)st.flips / dt;
        crate[r] = (double)st.flips / dc;
        done += st.flips;
    }
    double med = median(rate, reps), cmed = median(crate, reps);
    printf("  %-4s %-16s rank %d  %lld flips  median %.2f M flips/s (wall), %.2f (cpu)\n",
           field == MM_GF2 ? "gf2" : "z", name, s.rank, done, med / 1e6, cmed / 1e6);
    mm_scheme_free(&s);
    return cmed;
}

static double engine_time(uint64_t seed, enum mm_field field)
{
    char dir[] = "/tmp/rt-bench-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    char path[256];
    snprintf(path, sizeof path, "%s/run.db", dir);
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field"};
    const char *values[] = {"3x3x3", field == MM_GF2 ? "gf2" : "z"};
    if (rt_problem_open(&pb, "matmul", keys, values, 2, &err))
        exit(1);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.seed = seed;
    opt.threads = 1;
    opt.has_target = 1;
    opt.target = 23;
    opt.seconds = 120;
    rt_run *run = NULL;
    double t0 = rt_now();
    if (rt_run_create(&run, path, pb, &opt, &err) || rt_run_execute(run)) {
        fprintf(stderr, "bench: %s\n", run ? rt_run_errmsg(run) : err.msg);
        exit(1);
    }
    double dt = rt_now() - t0;
    rt_run_close(run);
    rt_problem_close(pb);
    rt_store *st = NULL;
    rt_summary sum;
    if (rt_store_open(&st, path, &err) || rt_store_summary(st, &sum) || sum.best_metric > 23) {
        fprintf(stderr, "bench: seed %llu did not reach 23\n", (unsigned long long)seed);
        exit(1);
    }
    rt_store_close(st);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: could not remove %s\n", dir);
    return dt;
}

static void time_to_23(enum mm_field field, int seeds)
{
    double kt[32], et[32];
    for (int i = 0; i < seeds; i++) {
        mm_scheme s;
        rt_rng rng;
        rt_rng_seed(&rng, (uint64_t)i + 1, 0);
        if (mm_scheme_standard(&s, 3, 3, 3, field))
            exit(1);
        double t0 = rt_now();
        reach(&s, &rng, 23, 1LL << 40);
        kt[i] = rt_now() - t0;
        mm_scheme_free(&s);
        et[i] = engine_time((uint64_t)i + 1, field);
    }
    double kworst = 0, eworst = 0;
    for (int i = 0; i < seeds; i++) {
        kworst = kt[i] > kworst ? kt[i] : kworst;
        eworst = et[i] > eworst ? et[i] : eworst;
    }
    double km = median(kt, seeds), em = median(et, seeds);
    printf("  %-4s  bare kernel: median %.3f s, worst %.3f s | verified loop: median %.3f s, "
           "worst %.3f s | loop/kernel %.2fx (median)\n",
           field == MM_GF2 ? "gf2" : "z", km, kworst, em, eworst, em / km);
}

/* One walk of `flips` flips (kept out of line: callgrind's --toggle-collect names it). */
static __attribute__((noinline)) void plateau_walk(mm_scheme *s, rt_rng *rng, long long flips,
                                                   mm_walk_stats *st)
{
    mm_walk(s, rng, flips, st);
}

/* --walk FIELD FLIPS: the plateau of part 1, then one walk; prints what it did. */
static int walk_only(const char *field_name, const char *flips_text)
{
    enum mm_field field;
    if (strcmp(field_name, "gf2") == 0)
        field = MM_GF2;
    else if (strcmp(field_name, "z") == 0)
        field = MM_Z;
    else {
        fprintf(stderr, "bench: --walk: field must be gf2 or z, not '%s'\n", field_name);
        return 2;
    }
    char *end = NULL;
    long long flips = strtoll(flips_text, &end, 10);
    if (!end || *end || flips < 1 || flips > (1LL << 40)) {
        fprintf(stderr, "bench: --walk: flips must be 1..2^40, not '%s'\n", flips_text);
        return 2;
    }
    mm_scheme s;
    rt_rng rng;
    rt_rng_seed(&rng, 1, 0);
    if (mm_scheme_standard(&s, 3, 3, 3, field))
        return 1;
    reach(&s, &rng, 23, 1LL << 40);
    mm_walk_stats st = {0};
    double c0 = cpu_now();
    plateau_walk(&s, &rng, flips, &st);
    double dc = cpu_now() - c0;
    printf("%s rank %d: %lld flips, %lld attempts, %lld reductions, %.2f M flips/s (cpu)\n",
           field_name, s.rank, st.flips, st.attempts, st.reductions, (double)st.flips / dc / 1e6);
    mm_scheme_free(&s);
    return 0;
}

/* CPU nanoseconds per flip of one kind of run (0 plain, 1 cyclic, 2 twin) on <n,n,n>: the median
 * of `reps` runs of `flips` flips from the standard algorithm or a fresh symmetric start. */
static double flip_ns(int n, enum mm_field field, int kind, long long flips, int reps,
                      mm_effort *one)
{
    double ns[16];
    for (int r = 0; r < reps; r++) {
        mm_scheme s;
        rt_rng rng;
        rt_rng_seed(&rng, (uint64_t)r + 1, 0);
        if (mm_scheme_standard(&s, n, n, n, field))
            exit(1);
        mm_effort e = {0};
        double c0 = cpu_now();
        if (kind == 0) {
            mm_walk_cfg c = {0};
            c.flips = c.plateau_hi = flips;
            (void)mm_run_walk(&c, &s, &rng, 0, &e);
        } else {
            mm_sym_cfg c = {0};
            c.flips = c.plateau = flips;
            c.fresh = 1;
            c.parts = mm_sym_default_parts(n);
            c.twin = kind == 2;
            (void)mm_run_sym(&c, &s, &rng, 0, &e);
        }
        double dc = cpu_now() - c0;
        long long done = mm_effort_flips(&e);
        ns[r] = done > 0 ? 1e9 * dc / (double)done : 0;
        if (r == 0) { /* the same flips, counted once, for the weight */
            *one = e;
            one->lifts = 0;
            one->lift_work = 0;
            one->pluses = 0;
        }
        mm_scheme_free(&s);
    }
    return median(ns, reps);
}

static void flip_costs(long long flips, int reps)
{
    static const char *kinds[] = {"plain", "cyclic", "twin"};
    printf("CPU ns per flip by kind, square shapes (median of %d runs of %lld flips), as a ratio "
           "to the plain Z flip of the shape | mm_work_cost's weight at pf_sym_work 1, 0:\n",
           reps, flips);
    for (int n = 3; n <= 6; n++) {
        double base = 0;
        for (int f = 0; f < 2; f++) {
            enum mm_field field = f ? MM_GF2 : MM_Z;
            printf("  <%d,%d,%d> %-4s", n, n, n, f ? "gf2" : "z");
            for (int kind = 0; kind < 3; kind++) {
                mm_effort e;
                double ns = flip_ns(n, field, kind, flips, reps, &e);
                if (f == 0 && kind == 0)
                    base = ns;
                long long done = mm_effort_flips(&e);
                double w1 = done > 0 ? (double)mm_work_cost(&e, 1) / (double)done : 0;
                double w0 = done > 0 ? (double)mm_work_cost(&e, 0) / (double)done : 0;
                printf("  %s %.0f ns %.2f | %.2f, %.2f", kinds[kind], ns,
                       base > 0 ? ns / base : 0, w1, w0);
            }
            printf("\n");
        }
    }
}

static void fresh_starts(int seeds)
{
    static const char *names[] = {"split", "cube"};
    printf("fresh descents at <4,4,5> over GF(2) (restart's walk after each start, %d seeds): "
           "best rank of each run, median CPU s per run:\n",
           seeds);
    for (int arm = 0; arm < 2; arm++) {
        double cpu[32];
        int low = 0;
        printf("  %-5s", names[arm]);
        for (int r = 0; r < seeds; r++) {
            mm_walk_cfg c = {0};
            c.flips = 92000000;
            c.plateau_hi = 280000;
            c.plateau_min = c.plateau_hi / 20;
            c.drift = 4;
            c.escape_prob = 1;
            c.max_escapes = 1000;
            c.restart_prob = 1;
            c.split = arm ? MM_SPLIT_CUBE : MM_SPLIT_CUT;
            c.flips_exp = 3;
            c.plateau_exp = 2;
            c.cube.flips = 2000000;
            c.cube.plateau = 5000;
            c.cube.escape_prob = 0.9;
            c.cube.max_escapes = 1000;
            c.cube.headroom = 1;
            c.cube.parts = mm_sym_default_parts(4);
            c.cube.fresh = 1;
            mm_scheme s;
            rt_rng rng;
            rt_rng_seed(&rng, (uint64_t)r + 1, 5);
            if (mm_scheme_standard(&s, 4, 4, 5, MM_GF2))
                exit(1);
            mm_effort e = {0};
            double c0 = cpu_now();
            (void)mm_run_walk(&c, &s, &rng, 0, &e);
            cpu[r] = cpu_now() - c0;
            low += s.rank <= 62;
            printf(" %d", s.rank);
            fflush(stdout);
            mm_scheme_free(&s);
        }
        printf("  | at 62 or less: %d of %d, %.1f CPU s per run\n", low, seeds,
               median(cpu, seeds));
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--walk") == 0) {
        if (argc != 4) {
            fprintf(stderr, "bench: usage: bench_matmul --walk gf2|z FLIPS\n");
            return 2;
        }
        return walk_only(argv[2], argv[3]);
    }
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    long long flips = quick ? 1000000 : 5000000;
    int seeds = quick ? 3 : 10;
    printf("ratchet %s bench: matmul <3,3,3>, one core\n", RT_VERSION);
    printf("flips per second on the rank-23 plateau (5 timed walks of %lld flips):\n", flips);
    for (int f = 0; f < 2; f++) {
        enum mm_field field = f ? MM_Z : MM_GF2;
        double old = plateau_rate(field, "scan (old)", mm_walk_scan, flips / 4, 5);
        double neu = plateau_rate(field, "indexed (new)", mm_walk, flips, 5);
        printf("  %-4s new/old %.2fx; new/15 M (the public C++ figure on an idle core, quoted, not "
               "measured here) %.2fx (cpu rates)\n",
               field == MM_GF2 ? "gf2" : "z", neu / old, neu / 15e6);
    }
    printf("time to reach rank 23 from the standard algorithm (27), %d seeds:\n", seeds);
    time_to_23(MM_GF2, seeds);
    time_to_23(MM_Z, seeds);
    flip_costs(quick ? 500000 : 2000000, quick ? 3 : 5);
    fresh_starts(quick ? 3 : 10);
    return 0;
}
