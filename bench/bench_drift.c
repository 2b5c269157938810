/* bench_drift.c — the --trust-proxy ablation (docs/verification.md).
 *
 * matmul <3,3,3> over GF(2) with the sampled proxy (two random products modulo 2; the search
 * may then also drop products and perturb coefficients). For each seed, the same run twice:
 * gated (every child verified against the Brent equations before admission) and with
 * --trust-proxy (admitted on the proxy's word; the verifier still runs, for the record). For each
 * run: invalid candidates admitted, the run's own recorded best (the best admitted candidate by
 * the score it was admitted with) and whether it verifies, the best verified rank, drift (share
 * of candidates whose proxy claimed more than verification gave) overall and per tenth of the
 * run, and what `ratchet audit` finds. Then the totals over seeds.
 *
 * usage: bench_drift [--quick] [--seeds N] [--evaluations N]
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ratchet.h"

typedef struct result {
    long long admitted, invalid_admitted, candidates, overclaims, false_passes, proxy_rejected;
    double claimed_rank;      /* -proxy of the recorded best */
    int claimed_valid;
    double verified_rank;     /* best verified rank (0 if none) */
    long long audit_failures;
    double tenth_share[10];
    int nbuckets;
    char claimed_per_tenth[10][16]; /* recorded best rank at the end of each tenth, '*' invalid */
    double seconds;
} result;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The recorded best among rows of generation < g_end, as "rank" or "rank*" (invalid). */
static void claimed_until(sqlite3 *db, long long g_end, char *out, size_t len)
{
    sqlite3_stmt *st = NULL;
    snprintf(out, len, "-");
    if (sqlite3_prepare_v2(db,
                           "SELECT proxy, valid, CASE WHEN trusted=1 THEN proxy ELSE score END AS s,"
                           " CASE WHEN trusted=1 THEN proxy2 ELSE score2 END AS s2 FROM candidates"
                           " WHERE admitted=1 AND generation<? ORDER BY s DESC, s2 DESC, id LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, g_end);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, len, "%.0f%s", -sqlite3_column_double(st, 0),
                 sqlite3_column_int(st, 1) ? "" : "*");
    sqlite3_finalize(st);
}

static int one_run(const char *dir, uint64_t seed, int trust, long long evaluations, result *r)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s-%llu.db", dir, trust ? "trusted" : "gated",
             (unsigned long long)seed);
    unlink(path);
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field", "walk", "proxy"};
    const char *values[] = {"3x3x3", "gf2", "2000", "sampled"};
    if (rt_problem_open(&pb, "matmul", keys, values, 4, &err)) {
        fprintf(stderr, "bench_drift: %s\n", err.msg);
        return -1;
    }
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.seed = seed;
    opt.evaluations = evaluations;
    opt.trust_proxy = trust;
    rt_run *run = NULL;
    double t0 = now_s();
    if (rt_run_create(&run, path, pb, &opt, &err)) {
        fprintf(stderr, "bench_drift: %s\n", err.msg);
        rt_problem_close(pb);
        return -1;
    }
    rt_problem_close(pb);
    if (rt_run_execute(run)) {
        fprintf(stderr, "bench_drift: %s\n", rt_run_errmsg(run));
        rt_run_close(run);
        return -1;
    }
    rt_run_close(run);
    r->seconds = now_s() - t0;

    rt_store *st = NULL;
    if (rt_store_open(&st, path, &err)) {
        fprintf(stderr, "bench_drift: %s\n", err.msg);
        return -1;
    }
    rt_drift d;
    rt_summary s;
    rt_audit a;
    if (rt_store_drift(st, &d) || rt_store_summary(st, &s) || rt_store_audit(st, &a)) {
        fprintf(stderr, "bench_drift: %s\n", rt_store_errmsg(st));
        rt_store_close(st);
        return -1;
    }
    rt_store_close(st);
    r->admitted = s.admitted;
    r->invalid_admitted = d.invalid_admitted;
    r->candidates = d.candidates;
    r->overclaims = d.overclaims;
    r->false_passes = d.false_passes;
    r->proxy_rejected = d.proxy_rejected;
    r->claimed_rank = -d.claimed_best_proxy;
    r->claimed_valid = d.claimed_best_valid;
    r->verified_rank = s.has_best ? s.best_metric : 0;
    r->audit_failures = a.nfailures;
    r->nbuckets = d.nbuckets;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -1;
    for (int b = 0; b < d.nbuckets; b++) {
        r->tenth_share[b] = d.buckets[b].candidates
                                ? 100.0 * (double)d.buckets[b].overclaims /
                                      (double)d.buckets[b].candidates
                                : 0;
        claimed_until(db, d.buckets[b].generation_to, r->claimed_per_tenth[b],
                      sizeof r->claimed_per_tenth[b]);
    }
    sqlite3_close(db);
    return 0;
}

static void print_run(const char *what, uint64_t seed, const result *r)
{
    printf("%-8s seed %-3llu %5lld cand, %4lld admitted, %4lld INVALID admitted | recorded best "
           "rank %2.0f (%s) | best verified rank %2.0f | drift %5.1f%% (%lld failed "
           "verification, %lld proxy-rejected) | audit: %lld failures | %.1f s\n",
           what, (unsigned long long)seed, r->candidates, r->admitted, r->invalid_admitted,
           r->claimed_rank, r->claimed_valid ? "verifies" : "INVALID", r->verified_rank,
           r->candidates ? 100.0 * (double)r->overclaims / (double)r->candidates : 0.0,
           r->false_passes, r->proxy_rejected, r->audit_failures, r->seconds);
    printf("         drift per tenth:");
    for (int b = 0; b < r->nbuckets; b++)
        printf(" %3.0f%%", r->tenth_share[b]);
    printf("\n         recorded best at the end of each tenth (* = fails verification):");
    for (int b = 0; b < r->nbuckets; b++)
        printf(" %s", r->claimed_per_tenth[b]);
    printf("\n");
}

int main(int argc, char **argv)
{
    int seeds = 5;
    long long evaluations = 1500;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            seeds = 2;
            evaluations = 400;
        } else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) {
            seeds = (int)strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--evaluations") == 0 && i + 1 < argc) {
            evaluations = strtoll(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: bench_drift [--quick] [--seeds N] [--evaluations N]\n");
            return 2;
        }
    }
    if (seeds < 1 || seeds > 100 || evaluations < 1) {
        fprintf(stderr, "bench_drift: bad --seeds or --evaluations\n");
        return 2;
    }
    char dir[] = "/tmp/ratchet-bench-drift-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    printf("bench_drift: matmul 3x3x3 gf2, sampled proxy (2 random products mod 2), walk 2000, "
           "%lld evaluations per run, %d seeds; gated vs --trust-proxy on the same seeds\n\n",
           evaluations, seeds);
    long long tot[2][4] = {{0}}; /* admitted, invalid admitted, candidates, overclaims */
    int invalid_best[2] = {0, 0}, audit_failed[2] = {0, 0};
    int rc = 0;
    for (int k = 0; k < seeds && !rc; k++) {
        uint64_t seed = (uint64_t)k + 1;
        for (int trust = 0; trust < 2; trust++) {
            result r;
            memset(&r, 0, sizeof r);
            if (one_run(dir, seed, trust, evaluations, &r)) {
                rc = 1;
                break;
            }
            print_run(trust ? "trusted" : "gated", seed, &r);
            tot[trust][0] += r.admitted;
            tot[trust][1] += r.invalid_admitted;
            tot[trust][2] += r.candidates;
            tot[trust][3] += r.overclaims;
            invalid_best[trust] += !r.claimed_valid;
            audit_failed[trust] += r.audit_failures > 0;
        }
    }
    if (!rc) {
        printf("\ntotals over %d seeds:\n", seeds);
        for (int trust = 0; trust < 2; trust++)
            printf("  %-8s %lld admitted, %lld of them INVALID; recorded best invalid in %d of %d "
                   "runs; audit failed %d of %d; drift %.1f%% of %lld candidates\n",
                   trust ? "trusted" : "gated", tot[trust][0], tot[trust][1], invalid_best[trust],
                   seeds, audit_failed[trust], seeds,
                   tot[trust][2] ? 100.0 * (double)tot[trust][3] / (double)tot[trust][2] : 0.0,
                   tot[trust][2]);
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_drift: could not remove %s\n", dir);
    return rc;
}
