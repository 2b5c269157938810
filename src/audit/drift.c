/* drift.c — proxy against verdict over a store's rows (rt_store_drift in ratchet.h). */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/query.h"

/* A row overclaims when it failed verification, or verified below its proxy score. */
#define OVERCLAIM_SQL "(valid=0 OR proxy>score OR (proxy=score AND proxy2>score2))"
#define GAP_SQL "(CASE WHEN valid=1 AND proxy>score THEN proxy-score ELSE NULL END)"

static int one_ll(rt_db *db, const char *sql, long long *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(rt_db_handle(db), sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_error(db, rc, "read drift statistics");
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0
                                                   : rt_db_sql_error(db, rc, "read drift statistics");
}

int rt_db_drift(rt_db *db, rt_drift *out)
{
    memset(out, 0, sizeof *out);
    sqlite3 *sql = rt_db_handle(db);
    sqlite3_stmt *st = NULL;
    long long last_gen = 0, sessions = 0;
    int rc;
    if ((rc = one_ll(db, "SELECT count(*) FROM candidates", &out->candidates)) ||
        (rc = one_ll(db, "SELECT count(*) FROM candidates WHERE valid=0", &out->false_passes)) ||
        (rc = one_ll(db, "SELECT count(*) FROM candidates WHERE " OVERCLAIM_SQL,
                     &out->overclaims)) ||
        (rc = one_ll(db, "SELECT coalesce(max(generation),0) FROM candidates", &last_gen)) ||
        (rc = one_ll(db, "SELECT coalesce(max(proxy_rejected),0) FROM checkpoint",
                     &out->proxy_rejected)) ||
        (rc = one_ll(db, "SELECT count(*) FROM events WHERE kind='trust-proxy'", &sessions)) ||
        (rc = one_ll(db, "SELECT count(*) FROM candidates WHERE admitted=1 AND trusted=1",
                     &out->trusted_admitted)) ||
        (rc = one_ll(db, "SELECT count(*) FROM candidates WHERE admitted=1 AND valid=0",
                     &out->invalid_admitted)))
        return rc;
    out->trusted_sessions = (int)sessions;
    out->score_overclaims = out->overclaims - out->false_passes;

    rc = sqlite3_prepare_v2(sql, "SELECT avg(" GAP_SQL "), max(" GAP_SQL ") FROM candidates", -1,
                            &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_error(db, rc, "read drift statistics");
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        out->mean_gap = sqlite3_column_double(st, 0);
        out->max_gap = sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return rt_db_sql_error(db, rc, "read drift statistics");

    /* tenths of the run, by generation */
    long long span = last_gen + 1;
    out->nbuckets = span < 10 ? (int)span : 10;
    if (out->candidates == 0)
        out->nbuckets = 0;
    for (int b = 0; b < out->nbuckets; b++) {
        out->buckets[b].generation_from = span * b / out->nbuckets;
        out->buckets[b].generation_to = span * (b + 1) / out->nbuckets;
    }
    rc = sqlite3_prepare_v2(sql,
                            "SELECT generation, count(*), sum(valid=0), sum(" OVERCLAIM_SQL "),"
                            " sum(" GAP_SQL "), max(" GAP_SQL ") FROM candidates GROUP BY generation",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_error(db, rc, "read drift statistics");
    double gap_sum[10] = {0};
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long g = sqlite3_column_int64(st, 0);
        if (out->nbuckets == 0 || g < 0 || g >= span)
            continue;
        int b = (int)(g * out->nbuckets / span);
        rt_drift_bucket *k = &out->buckets[b];
        k->candidates += sqlite3_column_int64(st, 1);
        k->false_passes += sqlite3_column_int64(st, 2);
        k->overclaims += sqlite3_column_int64(st, 3);
        gap_sum[b] += sqlite3_column_double(st, 4);
        double mx = sqlite3_column_double(st, 5);
        if (mx > k->max_gap)
            k->max_gap = mx;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rt_db_sql_error(db, rc, "read drift statistics");
    for (int b = 0; b < out->nbuckets; b++) {
        long long n = out->buckets[b].overclaims - out->buckets[b].false_passes;
        out->buckets[b].mean_gap = n > 0 ? gap_sum[b] / (double)n : 0;
    }

    /* the best admitted row by the score it was admitted with */
    rc = sqlite3_prepare_v2(sql,
                            "SELECT hash, proxy, valid,"
                            " CASE WHEN trusted=1 THEN proxy ELSE score END AS s,"
                            " CASE WHEN trusted=1 THEN proxy2 ELSE score2 END AS s2"
                            " FROM candidates WHERE admitted=1 ORDER BY s DESC, s2 DESC, id LIMIT 1",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_error(db, rc, "read drift statistics");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(st, 0);
        out->has_claimed_best = 1;
        snprintf(out->claimed_best_hash, sizeof out->claimed_best_hash, "%s", h ? h : "");
        out->claimed_best_proxy = sqlite3_column_double(st, 1);
        out->claimed_best_valid = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rt_db_sql_error(db, rc, "read drift statistics");
    return 0;
}
