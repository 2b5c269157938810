/* cmd_meta.c — `ratchet meta`: evolves policies for ratchet itself with the same engine.
 *
 * It is a run of the `policy` problem (src/problems/policy.c): candidates are policies, the proxy
 * is their cost on the training problems, verification re-runs them against their parent on the
 * held-out problems with fresh seeds, and a policy is admitted only when it beats its parent
 * there by more than the measured seed-to-seed noise. The store is an ordinary run store
 * (status, best, resume all work on it). At the end the lineage of admitted policies is printed,
 * and with --out the best policy is written as a policy file. Uses only the public API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

static void help_meta(FILE *f)
{
    fprintf(f,
            "usage: ratchet meta --train SPECS --heldout SPECS --seconds N --store FILE\n"
            "                    [--seed N] [--seeds N] [--vseeds N] [--evals N] [--work N]\n"
            "                    [--islands N] [--threads N] [--out FILE]\n"
            "       ratchet meta --resume FILE --seconds N [--out FILE]\n"
            "\n"
            "Evolves policies (every knob of ratchet, see ratchet policy show) with the same\n"
            "engine as any run. SPECS: comma-separated PROBLEM:SHAPE:FIELD[@TARGET], e.g.\n"
            "matmul:3x3x4:gf2,matmul:2x3x3:z (the target defaults to the best known rank).\n"
            "A policy's proxy is its mean log cost (work to reach the target) on the training\n"
            "problems over --seeds seeds; it is admitted only if it beats its parent on the\n"
            "held-out problems (--vseeds fresh seeds) by more than twice the standard error of\n"
            "the paired differences. Training and held-out problems must be disjoint.\n"
            "\n"
            "  --seconds N    time budget of this session (default 600)\n"
            "  --seeds N      training seeds per problem (default 3)\n"
            "  --vseeds N     held-out seeds per problem (default 5)\n"
            "  --evals N      evaluation cap of one trial run (default 2000)\n"
            "  --work N       work cap of one trial run (default 50000000)\n"
            "  --islands N    islands of the meta run (default 2; trial runs use 2)\n"
            "  --threads N    threads (default: the number of cores)\n"
            "  --out FILE     write the best policy found to FILE\n");
}

typedef struct lineage {
    long long n;
} lineage;

static int print_row(const rt_cand_info *c, void *user)
{
    lineage *l = user;
    if (l->n++ == 0)
        printf("%-4s %-6s %-6s %-9s %-14s %-14s %s\n", "#", "gen", "island", "time_s",
               "train_logcost", "heldout_cost", "hash");
    printf("%-4lld %-6lld %-6d %-9.1f %-14.4f %-14.6g %.12s\n", l->n - 1, c->generation,
           c->island, c->time, -c->proxy, c->metric, c->hash);
    return 0;
}

int cmd_meta(int argc, char **argv)
{
    const char *train = NULL, *heldout = NULL, *store = NULL, *resume = NULL, *out = NULL;
    const char *keys[8], *values[8];
    size_t np = 0;
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.islands = 2;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    opt.threads = ncpu > 0 ? (int)ncpu : 1;
    opt.seconds = 600;
    static char jobs[16];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help_meta(stdout);
            return 0;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "ratchet: meta: %s '%s' (see ratchet meta --help)\n",
                    strncmp(a, "--", 2) != 0 ? "unexpected argument" : "missing value for", a);
            return 2;
        }
        const char *name = a + 2, *v = argv[++i];
        char *end = NULL;
        if (strcmp(name, "train") == 0) {
            train = v;
        } else if (strcmp(name, "heldout") == 0) {
            heldout = v;
        } else if (strcmp(name, "store") == 0) {
            store = v;
        } else if (strcmp(name, "resume") == 0) {
            resume = v;
        } else if (strcmp(name, "out") == 0) {
            out = v;
        } else if (strcmp(name, "seconds") == 0) {
            opt.seconds = strtod(v, &end);
            if (!end || *end || !(opt.seconds > 0 && opt.seconds < 1e9)) {
                fprintf(stderr, "ratchet: meta: bad --seconds '%s': expected a positive number\n",
                        v);
                return 2;
            }
        } else if (strcmp(name, "seed") == 0) {
            opt.seed = strtoull(v, &end, 10);
            if (!end || *end || v[0] == '-' || !v[0]) {
                fprintf(stderr, "ratchet: meta: bad --seed '%s'\n", v);
                return 2;
            }
        } else if (strcmp(name, "islands") == 0 || strcmp(name, "threads") == 0) {
            long x = strtol(v, &end, 10);
            if (!end || *end || x < 1 || x > 64) {
                fprintf(stderr, "ratchet: meta: bad --%s '%s': expected 1 to 64\n", name, v);
                return 2;
            }
            if (name[0] == 'i')
                opt.islands = (int)x;
            else
                opt.threads = (int)x;
        } else if (strcmp(name, "seeds") == 0 || strcmp(name, "vseeds") == 0 ||
                   strcmp(name, "evals") == 0 || strcmp(name, "work") == 0) {
            if (np >= 6) {
                fprintf(stderr, "ratchet: meta: too many options\n");
                return 2;
            }
            keys[np] = name;
            values[np++] = v; /* checked by the policy problem */
        } else {
            fprintf(stderr, "ratchet: meta: unknown option --%s (see ratchet meta --help)\n",
                    name);
            return 2;
        }
    }
    rt_error err = {0};
    rt_problem *pb = NULL;
    rt_run *run = NULL;
    int rc;
    if (resume) {
        if (train || heldout || store || np) {
            fprintf(stderr, "ratchet: meta: --resume takes only --seconds, --threads, --out\n");
            return 2;
        }
        rc = rt_run_resume(&run, resume, NULL, &opt, &err);
        store = resume;
    } else {
        if (!train || !heldout || !store) {
            fprintf(stderr, "ratchet: meta: give --train SPECS, --heldout SPECS and --store FILE "
                            "(see ratchet meta --help)\n");
            return 2;
        }
        snprintf(jobs, sizeof jobs, "%d", opt.threads);
        keys[np] = "train";
        values[np++] = train;
        keys[np] = "heldout";
        values[np++] = heldout;
        keys[np] = "jobs";
        values[np++] = jobs;
        if ((rc = rt_problem_open(&pb, "policy", keys, values, np, &err))) {
            fprintf(stderr, "ratchet: meta: %s\n", err.msg);
            return 2;
        }
        rc = rt_run_create(&run, store, pb, &opt, &err);
        rt_problem_close(pb);
    }
    if (rc) {
        fprintf(stderr, "ratchet: meta: %s\n", err.msg);
        return rc == RT_EINVALID || rc == RT_EINTERNAL ? 1 : 2;
    }
    fprintf(stderr, "ratchet: meta: evolving policies for %.0f s (store %s)\n", opt.seconds,
            store);
    rc = rt_run_execute(run);
    if (rc) {
        fprintf(stderr, "ratchet: meta: %s\n", rt_run_errmsg(run));
        rt_run_close(run);
        return rc == RT_EINVALID || rc == RT_EINTERNAL ? 1 : 2;
    }
    rt_run_close(run);

    rt_store *st = NULL;
    if ((rc = rt_store_open(&st, store, &err))) {
        fprintf(stderr, "ratchet: meta: %s\n", err.msg);
        return 2;
    }
    lineage l = {0};
    printf("admitted policies (held-out cost: geometric mean work to reach the target):\n");
    rc = rt_store_admitted(st, print_row, &l);
    rt_summary sum;
    if (!rc)
        rc = rt_store_summary(st, &sum);
    if (!rc)
        printf("%lld policies proposed, %lld verified better than their parent, %lld rejected\n",
               sum.evaluations, sum.admitted - 1, sum.invalid);
    char *best = NULL;
    if (!rc && out)
        rc = rt_store_best(st, &best);
    if (rc) {
        fprintf(stderr, "ratchet: meta: %s\n", rt_store_errmsg(st));
        rt_store_close(st);
        return 2;
    }
    if (out) {
        rt_problem *mp = NULL;
        char *policy = NULL;
        rc = rt_store_problem(st, &mp);
        if (!rc)
            rc = rt_problem_convert(mp, best, strlen(best), "policy", &policy, &err);
        rt_problem_close(mp);
        FILE *f = rc ? NULL : fopen(out, "w");
        int bad = !f;
        if (f) {
            bad = fputs(policy, f) < 0;
            bad |= fclose(f) != 0;
        }
        if (bad) {
            fprintf(stderr, "ratchet: meta: cannot write %s\n", out);
            free(policy);
            free(best);
            rt_store_close(st);
            return 2;
        }
        printf("best policy written to %s\n", out);
        free(policy);
    }
    free(best);
    rt_store_close(st);
    return 0;
}
