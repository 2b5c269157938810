/* bench_meta2.c — the evidence for level 2 (docs/recursion.md): level 1 (a meta run) under the
 * default meta policy against level 1 under other meta policies (a level-2 run's output), on a
 * held-out suite, several level-1 runs per arm on common seeds.
 *
 * usage: bench_meta2 SUITE RUNS STEPS L1WORK [POLICY_FILE...]
 *
 * SUITE: 2 to 4 problem specs (meta.h); the level-1 runs train on the first half and gate on
 * the rest. The arms are the POLICY_FILEs (each merged over the shipped defaults; the name
 * "default" is the shipped defaults themselves), or the defaults alone when none is given; arm 0
 * is the baseline of the paired comparisons. Each arm makes
 * RUNS level-1 runs with seeds 2000001.. (used by no level-2 run: those use 1.. for training and
 * 1000001.. for the gate) of STEPS meta steps each, or L1WORK level-0 cost. Level-0 trials use
 * the caps of `make bench-meta2` (evaluations 1000, work 4e7, 2 islands; level 1: 2 training
 * seeds, 3 held-out seeds); L0WORK=N sets the level-0 work cap and L1VSEEDS=N the held-out
 * seeds, to match a level-2 run made with other --work or --l1vseeds.
 *
 * Per arm it prints how many runs reached a verified improvement, the level-0 trials, cost and
 * CPU seconds (of this thread) each run spent until its first one (all it spent, on a miss),
 * and the curve of the level-1 held-out cost (the geometric mean level-0 cost of the run's
 * best admitted policy on the suite's held-out problems) against the meta step: the mean of its
 * log over the runs with a 95% t-interval, given back as geometric means. Against arm 0 it
 * prints the paired log-ratios (same seeds) with their t-intervals. Costs and trial counts are
 * exact for a seed; CPU seconds depend on the machine's load (compare arms of one run only).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"
#include "policy.h"
#include "ratchet.h"

#define MAX_RUNS 32
#define MAX_ARMS 5

typedef struct arm {
    rt_policy policy;
    const char *name;
    rt_meta1_trial runs[MAX_RUNS];
} arm;

/* The 0.975 quantile of Student's t with df degrees of freedom. */
static double t975(int df)
{
    static const double t[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
                               2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101,
                               2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052,
                               2.048, 2.045, 2.042};
    return df < 1 ? 0 : df <= 30 ? t[df - 1] : 1.96;
}

/* Mean and 95% t half-width of v[0..n). */
static void mean_ci(const double *v, int n, double *mean, double *half)
{
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    *mean = s / n;
    for (int i = 0; i < n; i++)
        s2 += (v[i] - *mean) * (v[i] - *mean);
    *half = n > 1 ? t975(n - 1) * sqrt(s2 / (n - 1) / n) : 0;
}

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

static int load_policy(const char *path, rt_policy *p)
{
    rt_policy_defaults(p);
    FILE *f = fopen(path, "rb");
    char *text = f ? malloc(RT_POLICY_MAX_BYTES + 1) : NULL;
    size_t len = text ? fread(text, 1, RT_POLICY_MAX_BYTES, f) : 0;
    char msg[400];
    int rc = !text || rt_policy_parse(p, text, len, msg, sizeof msg);
    if (rc)
        fprintf(stderr, "bench_meta2: cannot read policy %s\n", path);
    if (f)
        fclose(f);
    free(text);
    return rc;
}

static void print_arm(const arm *a, int k, int runs, int steps)
{
    double v[MAX_RUNS], m, h;
    int reached = 0;
    for (int r = 0; r < runs; r++)
        reached += a->runs[r].reached;
    printf("arm %d (%s): %d/%d runs reached a verified improvement\n", k, a->name, reached,
           runs);
    const char *what[] = {"trials", "level-0 cost", "CPU s", "meta steps"};
    for (int w = 0; w < 4; w++) {
        for (int r = 0; r < runs; r++) {
            const rt_meta1_trial *t = &a->runs[r];
            v[r] = w == 0 ? (double)t->trials : w == 1 ? t->work : w == 2 ? t->cpu
                                                                          : (double)t->proposals;
        }
        double lo = v[0], hi = v[0];
        for (int r = 1; r < runs; r++) {
            lo = v[r] < lo ? v[r] : lo;
            hi = v[r] > hi ? v[r] : hi;
        }
        printf("  to the first improvement (a miss: all it spent), %-12s median %.4g [%.4g-%.4g]\n",
               what[w], median(v, runs), lo, hi);
    }
    for (int r = 0; r < runs; r++)
        v[r] = log(a->runs[r].cost);
    mean_ci(v, runs, &m, &h);
    printf("  level-1 cost (level-0 cost to the first improvement, a miss 2 x L1WORK): geometric "
           "mean %.4g, 95%% CI [%.4g, %.4g]\n", exp(m), exp(m - h), exp(m + h));
    printf("  held-out cost against meta step (geometric mean over runs [95%% CI]):\n");
    for (int s = 0; s <= steps; s++) {
        if (s > 6 && s != steps && s % (steps / 6 > 0 ? steps / 6 : 1) != 0)
            continue;
        for (int r = 0; r < runs; r++)
            v[r] = log(a->runs[r].curve[s < a->runs[r].ncurve ? s : a->runs[r].ncurve - 1]);
        mean_ci(v, runs, &m, &h);
        printf("    step %-4d %.4g [%.4g, %.4g]\n", s, exp(m), exp(m - h), exp(m + h));
    }
}

static void print_paired(const arm *a, const arm *base, int k, int runs, int steps)
{
    double v[MAX_RUNS], m, h;
    for (int r = 0; r < runs; r++)
        v[r] = log(base->runs[r].cost) - log(a->runs[r].cost);
    mean_ci(v, runs, &m, &h);
    printf("arm %d vs arm 0, paired over %d seeds (log-ratio > 0: arm %d better):\n", k, runs, k);
    printf("  level-1 cost log-ratio %.3f [%.3f, %.3f] (%.2fx)\n", m, m - h, m + h, exp(m));
    for (int r = 0; r < runs; r++) {
        int i = a->runs[r].ncurve - 1, j = base->runs[r].ncurve - 1;
        (void)steps;
        v[r] = log(base->runs[r].curve[j]) - log(a->runs[r].curve[i]);
    }
    mean_ci(v, runs, &m, &h);
    printf("  final held-out cost log-ratio %.3f [%.3f, %.3f] (%.2fx)\n", m, m - h, m + h,
           exp(m));
    for (int r = 0; r < runs; r++)
        v[r] = base->runs[r].cpu - a->runs[r].cpu;
    mean_ci(v, runs, &m, &h);
    printf("  CPU s saved to the first improvement %.2f [%.2f, %.2f]\n", m, m - h, m + h);
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 5 + MAX_ARMS) {
        fprintf(stderr, "usage: bench_meta2 SUITE RUNS STEPS L1WORK [POLICY_FILE...]\n");
        return 2;
    }
    rt_meta_spec specs[RT_META_MAX_SPECS];
    rt_meta_suite suite;
    int nspecs = 0;
    char msg[400], tmp[4096];
    int runs = (int)strtol(argv[2], NULL, 10), steps = (int)strtol(argv[3], NULL, 10);
    double l1work = strtod(argv[4], NULL);
    if (rt_meta_parse_specs(argv[1], specs, &nspecs, msg, sizeof msg) ||
        rt_meta_suite_make(specs, nspecs, &suite, msg, sizeof msg)) {
        fprintf(stderr, "bench_meta2: SUITE: %s\n", msg);
        return 2;
    }
    if (runs < 2 || runs > MAX_RUNS || steps < 1 || steps > RT_META1_MAX_PROPOSALS ||
        !(l1work >= 1)) {
        fprintf(stderr, "bench_meta2: RUNS 2 to %d, STEPS 1 to %d, L1WORK >= 1\n", MAX_RUNS,
                RT_META1_MAX_PROPOSALS);
        return 2;
    }
    int narms = argc > 5 ? argc - 5 : 1;
    arm *arms = calloc((size_t)narms, sizeof *arms);
    if (!arms)
        return 1;
    for (int k = 0; k < narms; k++) {
        arms[k].name = argc > 5 ? argv[5 + k] : "default";
        rt_policy_defaults(&arms[k].policy);
        if (strcmp(arms[k].name, "default") != 0 && load_policy(arms[k].name, &arms[k].policy))
            return 2;
    }
    if (rt_meta_tmpdir(tmp, sizeof tmp, msg, sizeof msg)) {
        fprintf(stderr, "bench_meta2: %s\n", msg);
        return 2;
    }
    rt_meta1_caps caps = {.seeds = 2, .vseeds = 3, .proposals = steps, .work = l1work,
                          .trial = {1000, 40000000, 2}};
    /* the caps of a level-2 run that set them otherwise (its --work and --l1vseeds) */
    const char *w = getenv("L0WORK"), *v = getenv("L1VSEEDS");
    double x;
    if (w) {
        if (rt_parse_double(w, 1e3, 1e12, &x)) {
            fprintf(stderr, "bench_meta2: L0WORK '%s' is not a number in 1e3..1e12\n", w);
            return 2;
        }
        caps.trial.work = (long long)x;
    }
    if (v) {
        if (rt_parse_double(v, 1, 100, &x) || x != (int)x) {
            fprintf(stderr, "bench_meta2: L1VSEEDS '%s' is not an integer in 1..100\n", v);
            return 2;
        }
        caps.vseeds = (int)x;
    }
    printf("suite: level 1 trains on %s, gates on %s\n", suite.train_text, suite.heldout_text);
    printf("%d level-1 runs per arm (seeds 2000001..), %d meta steps or %.3g level-0 cost each; "
           "level-0 work cap %.3g, %d held-out seeds\n",
           runs, steps, l1work, (double)caps.trial.work, caps.vseeds);
    int rc = 0;
    for (int k = 0; k < narms && !rc; k++)
        for (int r = 0; r < runs && !rc; r++) {
            rt_meta1_trial *t = &arms[k].runs[r];
            rc = rt_meta1_run_trial(&arms[k].policy, &suite, 2000001u + (uint64_t)r, &caps, tmp,
                                    t, msg, sizeof msg);
            if (rc)
                fprintf(stderr, "bench_meta2: %s\n", msg);
            else
                printf("arm %d run %d: reached %d, %lld steps, %lld trials, cost %.4g, %.2f CPU "
                       "s, held-out cost %.4g -> %.4g\n", k, r, t->reached, t->proposals,
                       t->trials, t->work, t->cpu, t->curve[0], t->curve[t->ncurve - 1]);
            for (int i = 0; !rc && i < t->ncurve; i++)
                printf("%s%.4g%s", i ? " " : "  curve:", t->curve[i], i + 1 < t->ncurve ? "" : "\n");
            fflush(stdout);
        }
    for (int k = 0; k < narms && !rc; k++)
        print_arm(&arms[k], k, runs, steps);
    for (int k = 1; k < narms && !rc; k++)
        print_paired(&arms[k], &arms[0], k, runs, steps);
    rt_meta_tmpdir_remove(tmp);
    free(arms);
    return rc ? 1 : 0;
}
