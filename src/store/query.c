/* query.c — every read of a store (store/query.h): what a run reads back when it resumes, and
 * what readers from outside a run ask. Writes nothing. */
#include "store/query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/codec.h"
#include "store/db.h"

/* Reads a configuration key into value (cut to len - 1 bytes); RT_ESTORE when it is missing. */
static int meta_get(rt_db *db, const char *key, char *value, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT value FROM meta WHERE key=?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the run's configuration");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return rt_db_fail(db, RT_ESTORE, "store %s: configuration has no '%s'", db->path, key);
        return rt_db_sql_fail(db, rc, "read the run's configuration");
    }
    const unsigned char *v = sqlite3_column_text(st, 0);
    snprintf(value, len, "%s", v ? (const char *)v : "");
    sqlite3_finalize(st);
    return 0;
}

int rt_db_get_meta(rt_db *db, const char *key, char **value)
{
    *value = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT value FROM meta WHERE key=?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the run's configuration");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rt_db_sql_fail(db, rc, "read the run's configuration");
    }
    const unsigned char *v = sqlite3_column_text(st, 0);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    *value = malloc(n + 1);
    if (!*value) {
        sqlite3_finalize(st);
        return rt_db_fail(db, RT_ENOMEM, "out of memory");
    }
    if (n)
        memcpy(*value, v, n);
    (*value)[n] = '\0';
    sqlite3_finalize(st);
    return 0;
}

int rt_db_config(rt_db *db, rt_run_config *cfg)
{
    char buf[64];
    int rc;
    memset(cfg, 0, sizeof *cfg);
    if ((rc = meta_get(db, "problem", cfg->problem, sizeof cfg->problem)) ||
        (rc = meta_get(db, "params", cfg->params, sizeof cfg->params)) ||
        (rc = meta_get(db, "proposer", cfg->proposer, sizeof cfg->proposer)))
        return rc;
    if ((rc = meta_get(db, "seed", buf, sizeof buf)))
        return rc;
    char *end = NULL;
    cfg->seed = strtoull(buf, &end, 10);
    if (!end || *end)
        return rt_db_fail(db, RT_ESTORE, "store %s: bad seed '%s'", db->path, buf);
    if ((rc = meta_get(db, "islands", buf, sizeof buf)))
        return rc;
    long v;
    if (rt_parse_long(buf, 1, 64, &v))
        return rt_db_fail(db, RT_ESTORE, "store %s: bad island count '%s'", db->path, buf);
    cfg->islands = (int)v;
    return 0;
}

int rt_db_load_checkpoint(rt_db *db, rt_checkpoint *cp, rt_archive_row **rows, size_t *nrows)
{
    *rows = NULL;
    *nrows = 0;
    memset(cp, 0, sizeof *cp);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT generation,evaluations,duplicates,failed,elapsed,sessions,"
                                "rng,proxy_rejected FROM checkpoint WHERE id=1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the checkpoint");
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return rt_db_fail(db, RT_ESTORE, "store %s has no checkpoint to resume from", db->path);
        return rt_db_sql_fail(db, rc, "read the checkpoint");
    }
    cp->generation = sqlite3_column_int64(st, 0);
    cp->evaluations = sqlite3_column_int64(st, 1);
    cp->duplicates = sqlite3_column_int64(st, 2);
    cp->failed = sqlite3_column_int64(st, 3);
    cp->elapsed = sqlite3_column_double(st, 4);
    cp->sessions = sqlite3_column_int(st, 5);
    cp->proxy_rejected = sqlite3_column_int64(st, 7);
    const char *rng = (const char *)sqlite3_column_text(st, 6);
    int n = 0;
    while (rng && *rng && n < 64) {
        const char *comma = strchr(rng, ',');
        size_t len = comma ? (size_t)(comma - rng) : strlen(rng);
        if (len != 64)
            break;
        memcpy(cp->rng[n], rng, 64);
        cp->rng[n][64] = '\0';
        n++;
        rng = comma ? comma + 1 : rng + len;
    }
    cp->nislands = n;
    sqlite3_finalize(st);

    rc = sqlite3_prepare_v2(db->sql, "SELECT island,cand_id,migrated FROM archive ORDER BY rowid",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the archive");
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*nrows == cap) {
            cap = cap ? 2 * cap : 64;
            rt_archive_row *nr = realloc(*rows, cap * sizeof *nr);
            if (!nr) {
                sqlite3_finalize(st);
                return rt_db_fail(db, RT_ENOMEM, "out of memory");
            }
            *rows = nr;
        }
        rt_archive_row *r = &(*rows)[(*nrows)++];
        r->island = sqlite3_column_int(st, 0);
        r->cand_id = sqlite3_column_int64(st, 1);
        r->migrated = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rt_db_sql_fail(db, rc, "read the archive");
    return 0;
}

int rt_db_candidate(rt_db *db, long long id, char **text, size_t *len, char hash[65],
                    rt_score *verified)
{
    *text = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT hash,score,score2 FROM candidates WHERE id=?",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read a candidate");
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return rt_db_fail(db, RT_ESTORE, "store %s: candidate %lld is missing", db->path, id);
        return rt_db_sql_fail(db, rc, "read a candidate");
    }
    rt_db_column_hash(st, 0, hash);
    verified->primary = sqlite3_column_double(st, 1);
    verified->secondary = sqlite3_column_double(st, 2);
    sqlite3_finalize(st);
    return rt_db_text(db, id, text, len);
}

int rt_db_each_text(rt_db *db, void (*fn)(const char *text, size_t len, void *user), void *user)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT id, text FROM candidates", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read candidates");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char *t = NULL;
        size_t n = 0;
        int trc = rt_db_text_value(db, sqlite3_column_int64(st, 0), sqlite3_column_value(st, 1),
                                   &t, &n);
        if (trc) {
            sqlite3_finalize(st);
            return trc;
        }
        fn(t, n, user);
        free(t);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read candidates");
}

int rt_db_evaluation(rt_db *db, long long id, char **metrics, char **artifacts)
{
    *metrics = *artifacts = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT metrics,artifacts FROM evaluations WHERE cand_id=?", -1,
                                &st, NULL);
    if (rc != SQLITE_OK) /* a store from before the table: nothing stored */
        return (rc & 0xff) == SQLITE_ERROR ? 0 : rt_db_sql_fail(db, rc, "read an evaluation");
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    int nomem = 0;
    if (rc == SQLITE_ROW) {
        *metrics = rt_db_column_dup(st, 0, &nomem);
        *artifacts = rt_db_column_dup(st, 1, &nomem);
    }
    sqlite3_finalize(st);
    if (nomem) {
        free(*metrics);
        free(*artifacts);
        *metrics = *artifacts = NULL;
        return rt_db_fail(db, RT_ENOMEM, "out of memory");
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read an evaluation");
}

int rt_db_each_hash(rt_db *db, void (*fn)(const char *hash, void *user), void *user)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT hash FROM candidates", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read hashes");
    char hash[65];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(rt_db_column_hash(st, 0, hash) ? hash : NULL, user);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read hashes");
}

int rt_db_best(rt_db *db, long long *id)
{
    *id = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT id FROM candidates WHERE admitted=1 AND valid=1 "
                                "ORDER BY score DESC, score2 DESC, id LIMIT 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "find the best candidate");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rt_db_sql_fail(db, rc, "find the best candidate");
    return 0;
}

/* Runs a query returning one integer. */
static int query_ll(rt_db *db, const char *sql, long long *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the store");
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : rt_db_sql_fail(db, rc, "read the store");
}

int rt_db_summary(rt_db *db, rt_summary *out)
{
    memset(out, 0, sizeof *out);
    rt_run_config cfg;
    int rc = rt_db_config(db, &cfg);
    if (rc)
        return rc;
    snprintf(out->problem, sizeof out->problem, "%s", cfg.problem);
    snprintf(out->params, sizeof out->params, "%s", cfg.params);
    out->seed = cfg.seed;
    rt_checkpoint cp;
    rt_archive_row *rows = NULL;
    size_t nrows = 0;
    rc = rt_db_load_checkpoint(db, &cp, &rows, &nrows);
    if (rc == 0) {
        out->sessions = cp.sessions;
        out->elapsed = cp.elapsed;
        out->evaluations = out->proposals = cp.evaluations;
        out->duplicates = cp.duplicates;
        out->failed = cp.failed;
        out->evaluated = cp.proxy_rejected;
    } else if (rc != RT_ESTORE) {
        return rc;
    }
    if ((rc = query_ll(db, "SELECT count(*) FROM candidates", &out->stored)) ||
        (rc = query_ll(db, "SELECT count(*) FROM candidates WHERE valid=1", &out->valid)) ||
        (rc = query_ll(db, "SELECT count(*) FROM candidates WHERE valid=0", &out->invalid)) ||
        (rc = query_ll(db, "SELECT count(*) FROM candidates WHERE admitted=1", &out->admitted))) {
        free(rows);
        return rc;
    }
    out->evaluated += out->stored > 0 ? out->stored - 1 : 0; /* the seed is not an evaluation */
    snprintf(out->metric_name, sizeof out->metric_name, "score");
    long long best = 0;
    if ((rc = rt_db_best(db, &best))) {
        free(rows);
        return rc;
    }
    sqlite3_stmt *st = NULL;
    if (best) {
        rc = sqlite3_prepare_v2(db->sql, "SELECT metric,hash FROM candidates WHERE id=?", -1, &st,
                                NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, best);
            if (sqlite3_step(st) == SQLITE_ROW) {
                out->has_best = 1;
                out->best_metric = sqlite3_column_double(st, 0);
                char hash[65];
                rt_db_column_hash(st, 1, hash);
                snprintf(out->best_hash, sizeof out->best_hash, "%s", hash);
            }
        }
        sqlite3_finalize(st);
    }
    out->nislands = cfg.islands > 64 ? 64 : cfg.islands;
    for (int i = 0; i < out->nislands; i++) {
        rt_island_summary *is = &out->islands[i];
        is->island = i;
        rc = sqlite3_prepare_v2(db->sql,
                                "SELECT count(*) FROM candidates WHERE admitted=1 AND island=?",
                                -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int(st, 1, i);
            if (sqlite3_step(st) == SQLITE_ROW)
                is->admitted = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
        rc = sqlite3_prepare_v2(db->sql,
                                "SELECT c.metric FROM archive a JOIN candidates c ON c.id=a.cand_id"
                                " WHERE a.island=? ORDER BY c.score DESC, c.score2 DESC LIMIT 1",
                                -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int(st, 1, i);
            if (sqlite3_step(st) == SQLITE_ROW) {
                is->has_best = 1;
                is->best_metric = sqlite3_column_double(st, 0);
            }
        }
        sqlite3_finalize(st);
    }
    for (size_t r = 0; r < nrows; r++)
        if (rows[r].island >= 0 && rows[r].island < out->nislands)
            out->islands[rows[r].island].cells++;
    free(rows);
    return 0;
}

int rt_db_each_admitted(rt_db *db, int (*fn)(const rt_cand_info *info, void *user), void *user)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT id,generation,island,time,proxy,metric,hash,"
                                "parent,operator FROM candidates WHERE admitted=1 "
                                "ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the admitted candidates");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rt_cand_info info;
        memset(&info, 0, sizeof info);
        info.id = sqlite3_column_int64(st, 0);
        info.generation = sqlite3_column_int64(st, 1);
        info.island = sqlite3_column_int(st, 2);
        info.time = sqlite3_column_double(st, 3);
        info.proxy = sqlite3_column_double(st, 4);
        info.metric = sqlite3_column_double(st, 5);
        char h[65], p[65];
        rt_db_column_hash(st, 6, h);
        rt_db_column_parent(db, st, 7, p);
        const char *o = (const char *)sqlite3_column_text(st, 8);
        snprintf(info.hash, sizeof info.hash, "%s", h);
        snprintf(info.parent, sizeof info.parent, "%s", p);
        snprintf(info.op, sizeof info.op, "%s", o ? o : "");
        int stop = fn(&info, user);
        if (stop) {
            sqlite3_finalize(st);
            return stop;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read the admitted candidates");
}

/* ---- for the checks from outside a run (src/audit/) -------------------------------------- */

int rt_db_integrity(rt_db *db, char *result, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "check integrity");
    rc = sqlite3_step(st);
    const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    snprintf(result, len, "%s", res ? res : sqlite3_errmsg(db->sql));
    sqlite3_finalize(st);
    return 0;
}

/* A text column, NULL where it is NULL. */
static const char *col_text(sqlite3_stmt *st, int c)
{
    return sqlite3_column_type(st, c) == SQLITE_NULL ? NULL
                                                      : (const char *)sqlite3_column_text(st, c);
}

/* A real column, NaN where it is NULL (where the writer stored NaN, or no score). */
static double col_real(sqlite3_stmt *st, int c)
{
    return sqlite3_column_type(st, c) == SQLITE_NULL ? (double)NAN : sqlite3_column_double(st, c);
}

int rt_db_each_row(rt_db *db, int (*fn)(const rt_db_row *r, void *user), void *user)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                db->compact
                                    ? "SELECT id,hash,text,parent,operator,island,generation,"
                                      "proxy,proxy2,valid,score,score2,metric,reason,admitted,"
                                      "time,trusted,NULL,link FROM candidates ORDER BY id"
                                    : "SELECT id,hash,text,parent,operator,island,generation,"
                                      "proxy,proxy2,valid,score,score2,metric,reason,admitted,"
                                      "time,trusted,prev,link FROM candidates ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read candidates");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        char *text = NULL; /* NULL when it cannot be decoded or fails its hash: the audit says so */
        size_t len = 0;
        if (sqlite3_column_type(st, 2) != SQLITE_NULL &&
            rt_db_text_value(db, id, sqlite3_column_value(st, 2), &text, &len) == RT_ENOMEM) {
            sqlite3_finalize(st);
            return RT_ENOMEM;
        }
        char hash[65], parent[65], prev[65], link[65];
        rt_db_row r = {
            .id = id,
            .row =
                {
                    .hash = rt_db_column_hash(st, 1, hash),
                    .text = text,
                    .len = len,
                    .parent = rt_db_column_parent(db, st, 3, parent),
                    .op = col_text(st, 4),
                    .island = sqlite3_column_int(st, 5),
                    .generation = sqlite3_column_int64(st, 6),
                    .proxy = {col_real(st, 7), col_real(st, 8)},
                    .valid = sqlite3_column_int(st, 9),
                    .verified = {col_real(st, 10), col_real(st, 11)},
                    .metric = col_real(st, 12),
                    .reason = col_text(st, 13),
                    .admitted = sqlite3_column_int(st, 14),
                    .time = col_real(st, 15),
                    .trusted = sqlite3_column_int(st, 16),
                },
            .prev = rt_db_column_hash(st, 17, prev),
            .link = rt_db_column_hash(st, 18, link),
            .implicit_prev = db->compact,
        };
        int stop = fn(&r, user);
        free(text);
        if (stop) {
            sqlite3_finalize(st);
            return stop;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read candidates");
}

int rt_db_chain_account(rt_db *db, int *found, long long *rows, char *head, size_t len)
{
    *found = 0;
    *rows = 0;
    head[0] = '\0';
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT chain_rows, chain_head FROM checkpoint WHERE id=1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the checkpoint");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *h = col_text(st, 1);
        *found = 1;
        *rows = sqlite3_column_int64(st, 0);
        snprintf(head, len, "%s", h ? h : "");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rt_db_sql_fail(db, rc, "read the checkpoint");
    return 0;
}

int rt_db_each_stray(rt_db *db, void (*fn)(long long cand_id, void *user), void *user)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT a.cand_id FROM archive a LEFT JOIN candidates c ON "
                                "c.id=a.cand_id WHERE c.id IS NULL OR c.admitted=0",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the archive");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(sqlite3_column_int64(st, 0), user);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read the archive");
}

/* ---- the proxy against the verdict (audit/drift.c) ---------------------------------------- */

/* A row overclaims when it failed verification, or verified below its proxy score by more than
 * the tolerance ?1 (relative to the verified figure, at least 1 in absolute terms). With ?1 = 0
 * this is proxy > score, or proxy = score and proxy2 > score2. */
#define TOL_SQL(x) "?1*max(1.0,abs(" x "))"
#define ABOVE_SQL "proxy>score+" TOL_SQL("score")
#define OVERCLAIM_SQL                                                                             \
    "(valid=0 OR " ABOVE_SQL " OR (proxy>=score-" TOL_SQL("score") " AND proxy2>score2+"        \
    TOL_SQL("score2") "))"
#define GAP_SQL "(CASE WHEN valid=1 AND " ABOVE_SQL " THEN proxy-score ELSE NULL END)"

/* Runs a query returning one integer into *out (0 when it returns no row); tol is bound to ?1
 * when the query has it. */
static int claims_ll(rt_db *db, const char *sql, double tol, long long *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read drift statistics");
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_double(st, 1, tol);
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rt_db_sql_fail(db, rc, "read drift statistics");
    return 0;
}

int rt_db_claims_total(rt_db *db, double tol, rt_db_claims *out)
{
    memset(out, 0, sizeof *out);
    int rc;
    if ((rc = claims_ll(db, "SELECT count(*) FROM candidates", tol, &out->rows)) ||
        (rc = claims_ll(db, "SELECT count(*) FROM candidates WHERE valid=0", tol, &out->invalid)) ||
        (rc = claims_ll(db, "SELECT count(*) FROM candidates WHERE " OVERCLAIM_SQL, tol,
                        &out->overclaims)) ||
        (rc = claims_ll(db, "SELECT count(" GAP_SQL ") FROM candidates", tol, &out->gapped)) ||
        (rc = claims_ll(db, "SELECT coalesce(max(generation),0) FROM candidates", tol,
                        &out->last_generation)) ||
        (rc = claims_ll(db, "SELECT coalesce(max(proxy_rejected),0) FROM checkpoint", tol,
                        &out->proxy_rejected)) ||
        (rc = claims_ll(db, "SELECT count(*) FROM events WHERE kind='trust-proxy'", tol,
                        &out->trust_sessions)) ||
        (rc = claims_ll(db, "SELECT count(*) FROM candidates WHERE admitted=1 AND trusted=1",
                        tol, &out->trusted_admitted)) ||
        (rc = claims_ll(db, "SELECT count(*) FROM candidates WHERE admitted=1 AND valid=0",
                        tol, &out->invalid_admitted)))
        return rc;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db->sql, "SELECT avg(" GAP_SQL "), max(" GAP_SQL ") FROM candidates",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read drift statistics");
    sqlite3_bind_double(st, 1, tol);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        out->mean_gap = sqlite3_column_double(st, 0);
        out->max_gap = sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rt_db_sql_fail(db, rc, "read drift statistics");
}

int rt_db_each_generation(rt_db *db, double tol,
                          void (*fn)(const rt_db_generation *g, void *user), void *user)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT generation, count(*), sum(valid=0), sum(" OVERCLAIM_SQL "),"
                                " sum(" GAP_SQL "), max(" GAP_SQL "), count(" GAP_SQL ")"
                                " FROM candidates"
                                " GROUP BY generation",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read drift statistics");
    sqlite3_bind_double(st, 1, tol);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rt_db_generation g = {
            .generation = sqlite3_column_int64(st, 0),
            .rows = sqlite3_column_int64(st, 1),
            .invalid = sqlite3_column_int64(st, 2),
            .overclaims = sqlite3_column_int64(st, 3),
            .gap_sum = sqlite3_column_double(st, 4),
            .max_gap = sqlite3_column_double(st, 5),
            .gapped = sqlite3_column_int64(st, 6),
        };
        fn(&g, user);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read drift statistics");
}

int rt_db_claimed_best(rt_db *db, int *found, char hash[65], double *proxy, int *valid)
{
    *found = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        db->sql,
        "SELECT hash, proxy, valid,"
        " CASE WHEN trusted=1 THEN proxy ELSE score END AS s,"
        " CASE WHEN trusted=1 THEN proxy2 ELSE score2 END AS s2"
        " FROM candidates WHERE admitted=1 ORDER BY s DESC, s2 DESC, id LIMIT 1",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read drift statistics");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found = 1;
        rt_db_column_hash(st, 0, hash);
        *proxy = sqlite3_column_double(st, 1);
        *valid = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rt_db_sql_fail(db, rc, "read drift statistics");
    return 0;
}
