/* drift.c — proxy against verdict over a store's rows (rt_store_drift in ratchet.h): totals,
 * and the run in tenths by generation, from the counts of the store's query interface
 * (rt_db_claims_total and the calls after it in store/query.h, which say what an overclaim and
 * a gap are). */
#include <string.h>

#include "problem.h"
#include "store/query.h"
#include "store/store.h"
#include "store/view.h"

/* Adding up generations into the tenths of the run. */
typedef struct tenths {
    rt_drift *out;
    long long span;    /* generations 0 .. span - 1 */
    double gap_sum[10];
    long long gapped[10];
} tenths;

static void add_generation(const rt_db_generation *g, void *user)
{
    tenths *t = user;
    rt_drift *out = t->out;
    if (out->nbuckets == 0 || g->generation < 0 || g->generation >= t->span)
        return;
    int b = (int)(g->generation * out->nbuckets / t->span);
    rt_drift_bucket *k = &out->buckets[b];
    k->candidates += g->rows;
    k->false_passes += g->invalid;
    k->overclaims += g->overclaims;
    t->gap_sum[b] += g->gap_sum;
    t->gapped[b] += g->gapped;
    if (g->max_gap > k->max_gap)
        k->max_gap = g->max_gap;
}

int rt_store_drift(rt_store *store, rt_drift *out)
{
    rt_db *db = rt_store_db(store);
    memset(out, 0, sizeof *out);
    /* the problem's own tolerance: float round-off between two programs is not an overclaim */
    rt_run_config cfg;
    int rc = rt_db_config(db, &cfg);
    if (rc)
        return rc;
    double tol = rt_problem_score_tolerance(cfg.problem);
    rt_db_claims all;
    rc = rt_db_claims_total(db, tol, &all);
    if (rc)
        return rc;
    out->candidates = all.rows;
    out->false_passes = all.invalid;
    out->overclaims = all.overclaims;
    out->proxy_rejected = all.proxy_rejected;
    out->trusted_sessions = (int)all.trust_sessions;
    out->trusted_admitted = all.trusted_admitted;
    out->invalid_admitted = all.invalid_admitted;
    out->score_overclaims = all.gapped;
    out->tie_overclaims = out->overclaims - out->false_passes - all.gapped;
    out->mean_gap = all.mean_gap;
    out->max_gap = all.max_gap;

    /* tenths of the run, by generation */
    tenths t = {.out = out, .span = all.last_generation + 1};
    out->nbuckets = t.span < 10 ? (int)t.span : 10;
    if (out->candidates == 0)
        out->nbuckets = 0;
    for (int b = 0; b < out->nbuckets; b++) {
        out->buckets[b].generation_from = t.span * b / out->nbuckets;
        out->buckets[b].generation_to = t.span * (b + 1) / out->nbuckets;
    }
    if ((rc = rt_db_each_generation(db, tol, add_generation, &t)))
        return rc;
    for (int b = 0; b < out->nbuckets; b++)
        out->buckets[b].mean_gap = t.gapped[b] > 0 ? t.gap_sum[b] / (double)t.gapped[b] : 0;

    /* the best admitted row by the score it was admitted with */
    return rt_db_claimed_best(db, &out->has_claimed_best, out->claimed_best_hash,
                              &out->claimed_best_proxy, &out->claimed_best_valid);
}
