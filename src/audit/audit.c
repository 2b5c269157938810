/* audit.c — re-checks a store from its file alone (rt_store_audit in ratchet.h): hashes, the
 * lineage chain, the checkpoint's account of it, and every admitted candidate decoded,
 * re-encoded, re-scored and re-verified from its stored text. Every failure is counted; the
 * first RT_AUDIT_MAX_FAILURES are described. */
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "store/chain.h"
#include "store/query.h"

static void add_failure(rt_audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_failure(rt_audit *a, const char *fmt, ...)
{
    a->nfailures++;
    if (a->nlisted >= RT_AUDIT_MAX_FAILURES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->failures[a->nlisted++], sizeof a->failures[0], fmt, ap);
    va_end(ap);
}

/* ---- a set of hashes (the admitted rows seen so far) ----------------------------------- */

typedef struct hset {
    char (*slots)[65];
    size_t cap, count;
} hset;

static size_t hslot(const char *h, size_t cap)
{
    uint64_t k = 1469598103934665603ULL;
    for (const char *s = h; *s; s++)
        k = (k ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)k & (cap - 1);
}

static int hset_has(const hset *s, const char *h)
{
    if (!s->cap)
        return 0;
    for (size_t j = hslot(h, s->cap); s->slots[j][0]; j = (j + 1) & (s->cap - 1))
        if (strcmp(s->slots[j], h) == 0)
            return 1;
    return 0;
}

static int hset_add(hset *s, const char *h)
{
    if (strlen(h) != 64 || hset_has(s, h))
        return 0;
    if (2 * (s->count + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        char(*slots)[65] = calloc(cap, sizeof *slots);
        if (!slots)
            return RT_ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slots[i][0])
                continue;
            size_t j = hslot(s->slots[i], cap);
            while (slots[j][0])
                j = (j + 1) & (cap - 1);
            memcpy(slots[j], s->slots[i], 65);
        }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t j = hslot(h, s->cap);
    while (s->slots[j][0])
        j = (j + 1) & (s->cap - 1);
    memcpy(s->slots[j], h, 65);
    s->count++;
    return 0;
}

/* ---- the audit ----------------------------------------------------------------------------- */

static const char *col_text(sqlite3_stmt *st, int c)
{
    return sqlite3_column_type(st, c) == SQLITE_NULL ? NULL
                                                      : (const char *)sqlite3_column_text(st, c);
}

static double col_real(sqlite3_stmt *st, int c)
{
    return sqlite3_column_type(st, c) == SQLITE_NULL ? (double)NAN : sqlite3_column_double(st, c);
}

/* Re-checks one admitted row from its text. Returns 0 or RT_ENOMEM. */
static int audit_admitted(rt_audit *a, const rt_problem *pb, long long id, const char *text,
                          size_t len, const rt_cand_row *row)
{
    rt_verdict v;
    char err[400] = "";
    int rc = pb->cls->verify(pb->state, text, len, &v, err, sizeof err);
    if (rc == RT_ENOMEM)
        return rc;
    const char *trust = row->trusted ? " (it was admitted on the proxy alone, --trust-proxy)" : "";
    if (rc) {
        add_failure(a, "admitted row %lld is malformed%s: %s", id, trust, err);
        return 0;
    }
    if (!v.valid) {
        add_failure(a, "admitted row %lld does not verify%s: %s", id, trust, v.reason);
        return 0;
    }
    a->reverified++;
    if (!row->valid)
        add_failure(a, "admitted row %lld verifies now but is stored as invalid", id);
    else if (!pb->cls->noisy &&
             (v.score != row->verified.primary || v.score2 != row->verified.secondary))
        add_failure(a, "admitted row %lld: stored verified score %.17g differs from "
                       "re-verification's %.17g",
                    id, row->verified.primary, v.score);
    char why[400];
    rc = rt_gate_roundtrip(pb, text, len, row->proxy, why, sizeof why);
    if (rc == RT_ENOMEM)
        return rc;
    if (rc)
        add_failure(a, "admitted row %lld: %s", id, why);
    return 0;
}

int rt_db_audit(rt_db *db, const rt_problem *pb, rt_audit *a)
{
    memset(a, 0, sizeof *a);
    sqlite3 *sql = rt_db_handle(db);
    sqlite3_stmt *st = NULL;
    hset admitted = {0};
    int out = 0;
    int rc = sqlite3_prepare_v2(sql, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_error(db, rc, "check integrity");
    rc = sqlite3_step(st);
    const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (!res || strcmp(res, "ok") != 0)
        add_failure(a, "SQLite's integrity check fails: %s", res ? res : sqlite3_errmsg(sql));
    sqlite3_finalize(st);

    rc = sqlite3_prepare_v2(sql,
                            "SELECT id,hash,text,parent,operator,island,generation,proxy,proxy2,"
                            "valid,score,score2,metric,reason,admitted,time,trusted,prev,link"
                            " FROM candidates ORDER BY id",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_error(db, rc, "read candidates");
    char last[65] = "";
    long long last_id = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        const char *hash = col_text(st, 1);
        const char *text = col_text(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);
        const char *prev = col_text(st, 17), *link = col_text(st, 18);
        rt_cand_row row = {
            .hash = hash ? hash : "",
            .parent = col_text(st, 3),
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
        };
        a->rows++;
        char hex[65];
        rt_sha256_hex(text ? text : "", text ? len : 0, hex);
        if (!hash || strcmp(hex, hash) != 0)
            add_failure(a, "row %lld: its text does not match its hash (the text was edited)", id);
        if (strcmp(prev ? prev : "", last) != 0) {
            if (last_id)
                add_failure(a, "row %lld: the chain is broken: its prev is not the link of row "
                               "%lld before it (a row was deleted, inserted or moved)",
                            id, last_id);
            else
                add_failure(a, "row %lld: the chain is broken: the first row has a prev (rows "
                               "before it were deleted)",
                            id);
        }
        char again[65];
        if ((out = rt_chain_link(prev, &row, again)))
            goto done;
        if (!link || strcmp(link, again) != 0)
            add_failure(a, "row %lld: its fields do not match its link (the row was edited)", id);
        else if (strcmp(prev ? prev : "", last) == 0)
            a->links++;
        snprintf(last, sizeof last, "%s", link ? link : "");
        last_id = id;
        if (row.parent && !hset_has(&admitted, row.parent))
            add_failure(a, "row %lld: its parent %.16s... is not an earlier admitted row", id,
                        row.parent);
        if (!row.admitted)
            continue;
        a->admitted++;
        if (row.trusted)
            a->trusted++;
        if ((out = hset_add(&admitted, row.hash)))
            goto done;
        if ((out = audit_admitted(a, pb, id, text ? text : "", text ? len : 0, &row)))
            goto done;
    }
    if (rc != SQLITE_DONE) {
        out = rt_db_sql_error(db, rc, "read candidates");
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    snprintf(a->head, sizeof a->head, "%s", last);

    /* the checkpoint's account: rows cut from the end leave a chain that is whole but short */
    rc = sqlite3_prepare_v2(sql, "SELECT chain_rows, chain_head FROM checkpoint WHERE id=1", -1,
                            &st, NULL);
    if (rc != SQLITE_OK) {
        out = rt_db_sql_error(db, rc, "read the checkpoint");
        goto done;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        long long n = sqlite3_column_int64(st, 0);
        const char *head = col_text(st, 1);
        if (n != a->rows || strcmp(head ? head : "", last) != 0)
            add_failure(a, "the checkpoint accounts for %lld rows ending in link %.16s..., the "
                           "store holds %lld ending in %.16s... (rows cut from the end, or added "
                           "after it)",
                        n, head ? head : "", a->rows, last);
    } else if (rc == SQLITE_DONE) {
        add_failure(a, "the store has no checkpoint");
    } else {
        out = rt_db_sql_error(db, rc, "read the checkpoint");
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;

    rc = sqlite3_prepare_v2(sql,
                            "SELECT a.cand_id FROM archive a LEFT JOIN candidates c ON "
                            "c.id=a.cand_id WHERE c.id IS NULL OR c.admitted=0",
                            -1, &st, NULL);
    if (rc != SQLITE_OK) {
        out = rt_db_sql_error(db, rc, "read the archive");
        goto done;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        add_failure(a, "the archive names row %lld, which is not an admitted row",
                    (long long)sqlite3_column_int64(st, 0));
    if (rc != SQLITE_DONE)
        out = rt_db_sql_error(db, rc, "read the archive");
done:
    sqlite3_finalize(st);
    free(admitted.slots);
    if (out == RT_ENOMEM)
        rt_db_fail(db, out, "out of memory");
    return out;
}
