/* bench_meta.c — the evidence for the meta level: how fast ratchet reaches matmul targets on
 * HELD-OUT shapes with the shipped default policy versus the policies a meta run admitted.
 *
 * usage: bench_meta META_STORE [TEST_SEEDS [POLICY_FILE...]]
 *
 * Reads the meta run's store (made by `ratchet meta`), takes its held-out problems from the
 * run's parameters, and runs every admitted policy of the lineage, in the order admitted (the
 * first is the default the meta run started from), on each held-out problem with TEST_SEEDS
 * (default 5) seeds 2000001.. — fresh seeds, used neither in training (1..) nor in the meta
 * run's verification (1000001..). For each policy and problem it prints the median and range
 * of the evaluations, the work (flips) and the wall time to reach the target, and how many runs
 * reached it within the caps. Wall times are noisy on a shared machine; evaluations and work
 * are exact for a seed. Policy files named after TEST_SEEDS (for example a candidate the gate
 * rejected) are run the same way after the lineage, numbered on.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"
#include "policy.h"
#include "ratchet.h"

#define MAX_LINEAGE 64 /* admitted policies and policy files together */
#define MAX_SEEDS 64

typedef struct lineage {
    long long ids[MAX_LINEAGE];
    double metric[MAX_LINEAGE];
    long long generation[MAX_LINEAGE];
    int n;
} lineage;

static int collect(const rt_cand_info *c, void *user)
{
    lineage *l = user;
    if (l->n < MAX_LINEAGE - 8) {
        l->ids[l->n] = c->id;
        l->metric[l->n] = c->metric;
        l->generation[l->n] = c->generation;
        l->n++;
    }
    return 0;
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

/* Reads "key=VALUE" out of a canonical parameter string into buf. */
static int param(const char *params, const char *key, char *buf, size_t len)
{
    size_t k = strlen(key);
    for (const char *s = params; s && *s;) {
        if (strncmp(s, key, k) == 0 && s[k] == '=') {
            size_t n = strcspn(s + k + 1, " ");
            if (n >= len)
                return -1;
            memcpy(buf, s + k + 1, n);
            buf[n] = '\0';
            return 0;
        }
        s = strchr(s, ' ');
        if (s)
            s++;
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_meta META_STORE [TEST_SEEDS [POLICY_FILE...]]\n");
        return 2;
    }
    int nseeds = argc >= 3 ? (int)strtol(argv[2], NULL, 10) : 5;
    int nextra = argc > 3 ? argc - 3 : 0;
    if (nseeds < 1 || nseeds > MAX_SEEDS || nextra > 8) {
        fprintf(stderr, "bench_meta: TEST_SEEDS must be 1 to %d\n", MAX_SEEDS);
        return 2;
    }
    rt_error err = {0};
    rt_store *st = NULL;
    if (rt_store_open(&st, argv[1], &err)) {
        fprintf(stderr, "bench_meta: %s\n", err.msg);
        return 2;
    }
    rt_summary sum;
    lineage l = {0};
    rt_problem *mp = NULL;
    if (rt_store_summary(st, &sum) || strcmp(sum.problem, "policy") != 0 ||
        rt_store_admitted(st, collect, &l) || rt_store_problem(st, &mp)) {
        fprintf(stderr, "bench_meta: %s is not a meta run's store\n", argv[1]);
        return 2;
    }
    char held[256], train[256], buf[64];
    rt_meta_spec specs[RT_META_MAX_SPECS];
    int nspecs = 0;
    rt_meta_caps caps = {2000, 50000000, 2};
    char msg[400];
    if (param(sum.params, "heldout", held, sizeof held) ||
        param(sum.params, "train", train, sizeof train) ||
        rt_meta_parse_specs(held, specs, &nspecs, msg, sizeof msg)) {
        fprintf(stderr, "bench_meta: cannot read the held-out problems of %s\n", argv[1]);
        return 2;
    }
    if (!param(sum.params, "evals", buf, sizeof buf))
        caps.evaluations = strtoll(buf, NULL, 10);
    if (!param(sum.params, "work", buf, sizeof buf))
        caps.work = strtoll(buf, NULL, 10);
    if (!param(sum.params, "islands", buf, sizeof buf))
        caps.islands = (int)strtol(buf, NULL, 10);
    char tmp[4096];
    if (rt_meta_tmpdir(tmp, sizeof tmp, msg, sizeof msg)) {
        fprintf(stderr, "bench_meta: %s\n", msg);
        return 2;
    }
    printf("meta store %s: %lld policies proposed, %d admitted (the first is the default)\n",
           argv[1], sum.evaluations, l.n);
    printf("training problems: %s\nheld-out problems: %s\n", train, held);
    printf("test seeds: %d per problem (2000001..%d), caps per run: %lld evaluations, %lld "
           "flips\n\n", nseeds, 2000000 + nseeds, caps.evaluations, caps.work);
    printf("%-3s %-5s %-16s %-22s %-8s %-22s %-22s %-18s %s\n", "pol", "gen", "meta_heldout",
           "problem", "reached", "median evals [min-max]", "median flips [min-max]",
           "median s [min-max]", "geomean cost");
    double first_cost = 0;
    int rc = 0;
    for (int k = 0; k < l.n + nextra && !rc; k++) {
        char *text = NULL, *pjson = NULL;
        rt_policy pol;
        rt_policy_defaults(&pol);
        if (k >= l.n) {
            size_t len = 0;
            FILE *f = fopen(argv[3 + k - l.n], "rb");
            text = f ? malloc(RT_POLICY_MAX_BYTES + 1) : NULL;
            if (text)
                len = fread(text, 1, RT_POLICY_MAX_BYTES, f);
            if (f)
                fclose(f);
            if (!text || rt_policy_parse(&pol, text, len, msg, sizeof msg)) {
                fprintf(stderr, "bench_meta: cannot read policy %s\n", argv[3 + k - l.n]);
                free(text);
                rc = 2;
                break;
            }
            free(text);
            text = NULL;
            l.generation[k] = -1;
            l.metric[k] = 0;
            printf("%-3d policy file %s\n", k, argv[3 + k - l.n]);
        } else if (rt_store_candidate_text(st, l.ids[k], &text) ||
                   rt_problem_convert(mp, text, strlen(text), "policy", &pjson, &err) ||
                   rt_policy_parse(&pol, pjson, strlen(pjson), msg, sizeof msg)) {
            fprintf(stderr, "bench_meta: cannot read admitted policy %d\n", k);
            free(text);
            free(pjson);
            rc = 2;
            break;
        }
        free(text);
        free(pjson);
        double all_log = 0;
        int all_n = 0;
        for (int s = 0; s < nspecs; s++) {
            double ev[MAX_SEEDS], wk[MAX_SEEDS], sec[MAX_SEEDS];
            int reached = 0;
            for (int i = 0; i < nseeds; i++) {
                rt_meta_trial t;
                if (rt_meta_run_trial(&pol, &specs[s], 2000001u + (uint64_t)i, &caps, tmp, &t,
                                      msg, sizeof msg)) {
                    fprintf(stderr, "bench_meta: %s\n", msg);
                    rc = 2;
                    break;
                }
                ev[i] = (double)t.evaluations;
                wk[i] = (double)t.work;
                sec[i] = t.seconds;
                reached += t.reached;
                all_log += log(t.cost);
                all_n++;
            }
            if (rc)
                break;
            char e[40], w[40], tt[40];
            double me = median(ev, nseeds), mw = median(wk, nseeds), ms = median(sec, nseeds);
            snprintf(e, sizeof e, "%.0f [%.0f-%.0f]", me, ev[0], ev[nseeds - 1]);
            snprintf(w, sizeof w, "%.3g [%.2g-%.2g]", mw, wk[0], wk[nseeds - 1]);
            snprintf(tt, sizeof tt, "%.2f [%.2f-%.2f]", ms, sec[0], sec[nseeds - 1]);
            printf("%-3d %-5lld %-16.6g %-22s %d/%-6d %-22s %-22s %-18s\n", k, l.generation[k],
                   l.metric[k], specs[s].text, reached, nseeds, e, w, tt);
        }
        if (rc)
            break;
        double g = exp(all_log / all_n);
        if (k == 0)
            first_cost = g;
        printf("%-3d %-5lld all held-out problems: geometric mean cost %.4g (%.2fx the default)\n",
               k, l.generation[k], g, first_cost / g);
    }
    rt_problem_close(mp);
    rt_store_close(st);
    rt_meta_tmpdir_remove(tmp);
    return rc;
}
