/* bench_binpack.c — the binpack problem's speed (docs/coevolution.md, "Speed"): priority
 * evaluations per second of the compiled expressions, and whole Weibull-5k instances per second
 * through the search's bucketed simulation, the same rule scanning every bin, and the verifier,
 * each against a plain C best fit timed in the same run. Times are process CPU seconds (robust to
 * a loaded machine), the median of REPS repetitions.
 *
 * usage: bench_binpack [REPS]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "problems/binpack/bp_check.h"
#include "problems/binpack/bp_expr.h"
#include "problems/binpack/bp_sim.h"
#include "util.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static const char *const exprs[] = {
    "(neg f)",
    "(+ (neg f) (* 0.01 (if (< f 5) (sqrt (* s k)) (/ m (+ (abs (- r 1)) (max e 2))))))",
};

/* Priority evaluations per second of one expression over a sweep of inputs. */
static double evals_per_second(const bp_expr *e, int reps)
{
    bp_prog prog;
    bp_compile(e, &prog);
    double t[16], sink = 0;
    const long n = 20000000;
    for (int k = 0; k < reps; k++) {
        double t0 = cpu_now();
        bp_inputs x = {.c = 100, .k = 40, .m = 40};
        for (long i = 0; i < n; i++) {
            x.s = (double)(1 + i % 97);
            x.r = (double)(1 + i % 100);
            x.f = x.r - x.s;
            x.e = x.r == 100;
            sink += bp_eval(&prog, &x);
        }
        t[k] = cpu_now() - t0;
    }
    if (sink == 12345.678)
        printf("%g\n", sink);
    return (double)n / median(t, reps);
}

typedef long long (*packer)(const bp_expr *e, const bp_instance *in, bp_sim *sim);

static long long run_bucketed(const bp_expr *e, const bp_instance *in, bp_sim *sim)
{
    bp_prog p;
    bp_compile(e, &p);
    return bp_sim_run(sim, &p, in, NULL);
}

static long long run_scan(const bp_expr *e, const bp_instance *in, bp_sim *sim)
{
    bp_prog p;
    bp_compile(e, &p);
    return bp_sim_run_scan(sim, &p, in, NULL);
}

static long long run_verifier(const bp_expr *e, const bp_instance *in, bp_sim *sim)
{
    (void)sim;
    rt_buf text;
    rt_buf_init(&text, 0);
    bp_print(e, &text);
    bp_ctree *t = NULL;
    char err[200];
    long long n = -1;
    bp_packing p;
    if (bp_ctree_parse(text.data, text.len, &t, err, sizeof err) == 0 &&
        bp_check_pack(t, in, &p, err, sizeof err) == 0) {
        n = p.nbins;
        bp_packing_free(&p);
    }
    bp_ctree_free(t);
    rt_buf_free(&text);
    return n;
}

static long long run_c_bestfit(const bp_expr *e, const bp_instance *in, bp_sim *sim)
{
    (void)e;
    (void)sim;
    return bp_best_fit(in);
}

/* Instances per second of one way of packing, on the set, median over reps. */
static double instances_per_second(packer fn, const bp_expr *e, const bp_set *set, int reps,
                                   long long *bins)
{
    bp_sim *sim = bp_sim_new();
    double t[16];
    for (int k = 0; k < reps; k++) {
        double t0 = cpu_now();
        *bins = 0;
        for (int i = 0; i < set->n; i++)
            *bins += fn(e, &set->inst[i], sim);
        t[k] = cpu_now() - t0;
    }
    bp_sim_free(sim);
    return set->n / median(t, reps);
}

int main(int argc, char **argv)
{
    long given = 5;
    if (argc > 1 && rt_parse_long(argv[1], 1, 16, &given))
        given = 5;
    int reps = (int)given;
    bp_set set;
    char err[256];
    if (bp_generate(&set, "weibull", 5000, 5, 1001, 0, 0, 0, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    long long bf_bins;
    double bf = instances_per_second(run_c_bestfit, NULL, &set, reps, &bf_bins);
    printf("Weibull 5k (5 instances of 5000 items), CPU seconds, median of %d\n", reps);
    printf("%-34s %12.1f instances/s  (bins %lld)\n", "plain C best fit (scan)", bf, bf_bins);
    static const struct {
        const char *name;
        packer fn;
    } ways[] = {{"expression, buckets (the search)", run_bucketed},
                {"expression, scan of every bin", run_scan},
                {"verifier (tree, naive, checked)", run_verifier}};
    for (size_t x = 0; x < sizeof exprs / sizeof exprs[0]; x++) {
        bp_expr e;
        if (bp_parse(exprs[x], strlen(exprs[x]), &e, err, sizeof err))
            return 1;
        printf("\n%s  (%d nodes)\n", exprs[x], e.n);
        printf("  %-32s %12.3g evaluations/s\n", "compiled priority", evals_per_second(&e, reps));
        for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
            long long bins;
            double ips = instances_per_second(ways[w].fn, &e, &set, reps, &bins);
            printf("  %-32s %12.1f instances/s  %6.2fx C best fit  (bins %lld)\n", ways[w].name,
                   ips, ips / bf, bins);
        }
    }
    bp_set_free(&set);
    return 0;
}
