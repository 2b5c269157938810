/* audit.c — re-checks a store from its file alone, over the store's query interface
 * (store/query.h):
 * - rt_store_audit (ratchet.h): hashes, the lineage chain, the checkpoint's account of it, and
 *   every admitted candidate decoded, re-encoded, re-scored and re-verified from its stored text.
 *   Every failure is counted; the first RT_AUDIT_MAX_FAILURES are described.
 * - rt_store_check: SQLite's integrity check, every hash, and every admitted candidate
 *   re-verified; it stops at the first failure. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "hashset.h"
#include "store/chain.h"
#include "store/query.h"
#include "store/view.h"

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

/* ---- the audit ----------------------------------------------------------------------------- */

/* Re-checks one admitted row from its text. Returns 0 or RT_ENOMEM. */
static int audit_admitted(rt_audit *a, const rt_problem *pb, long long id, const char *text,
                          size_t len, const rt_cand_row *row)
{
    rt_verdict v;
    char err[400] = "";
    int rc = rt_problem_verify(pb, text, len, &v, err, sizeof err);
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
    else if (!rt_problem_is_noisy(pb) &&
             (!rt_problem_reproduces(pb, row->verified.primary, v.score) ||
              !rt_problem_reproduces(pb, row->verified.secondary, v.score2)))
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

/* The walk over the rows in id order. */
typedef struct audit_walk {
    rt_audit *a;
    const rt_problem *pb;
    rt_hashset admitted; /* the hashes of the admitted rows seen so far (64 hex digits) */
    char last[65];  /* the link of the row before, "" before the first */
    long long last_id;
    long long pending; /* a compact table: rows since the last stored link */
} audit_walk;

/* The chain at one row of a compact table (format 4), which stores no prev and a link at some
 * rows only: the link is recomputed at every row from the one before, and checked where one is
 * stored. An edited, deleted, inserted or moved row changes every link after it, so the next
 * stored link (at most RT_SCHEMA_LINK_EVERY rows on, or the checkpoint's head) no longer
 * matches; row ids run 1, 2, 3, ... so a deleted row is also named by the gap. */
static int audit_chain_implicit(audit_walk *w, const rt_db_row *r, const rt_cand_row *row)
{
    rt_audit *a = w->a;
    long long id = r->id;
    if (id != w->last_id + 1)
        add_failure(a, "row %lld: the chain is broken: rows %lld to %lld before it are missing",
                    id, w->last_id + 1, id - 1);
    char again[65];
    int rc = rt_chain_link(w->last[0] ? w->last : NULL, row, again);
    if (rc)
        return rc;
    w->pending++;
    snprintf(w->last, sizeof w->last, "%s", again);
    w->last_id = id;
    if (!r->link)
        return 0;
    if (strcmp(r->link, again) == 0)
        a->links += w->pending;
    else if (w->pending == 1)
        add_failure(a, "row %lld: its fields do not match its link (the row was edited)", id);
    else
        add_failure(a, "rows %lld to %lld: the chain is broken: they do not match its link at "
                       "row %lld (a row among them was edited, deleted, inserted or moved)",
                    id - w->pending + 1, id, id);
    snprintf(w->last, sizeof w->last, "%s", r->link); /* the next rows follow the stored link */
    w->pending = 0;
    return 0;
}

/* The chain at one row (row.hash never NULL): its prev must be the link of the row before it,
 * and its link must match its fields. Returns 0 or RT_ENOMEM. */
static int audit_chain(audit_walk *w, const rt_db_row *r, const rt_cand_row *row)
{
    if (r->implicit_prev)
        return audit_chain_implicit(w, r, row);
    rt_audit *a = w->a;
    long long id = r->id;
    const char *prev = r->prev, *link = r->link;
    if (strcmp(prev ? prev : "", w->last) != 0) {
        if (w->last_id)
            add_failure(a, "row %lld: the chain is broken: its prev is not the link of row "
                           "%lld before it (a row was deleted, inserted or moved)",
                        id, w->last_id);
        else
            add_failure(a, "row %lld: the chain is broken: the first row has a prev (rows "
                           "before it were deleted)",
                        id);
    }
    char again[65];
    int rc = rt_chain_link(prev, row, again);
    if (rc)
        return rc;
    if (!link || strcmp(link, again) != 0)
        add_failure(a, "row %lld: its fields do not match its link (the row was edited)", id);
    else if (strcmp(prev ? prev : "", w->last) == 0)
        a->links++;
    snprintf(w->last, sizeof w->last, "%s", link ? link : "");
    w->last_id = id;
    return 0;
}

/* One row: its hash, its place in the chain, its parent, and, admitted, its re-check. */
static int audit_row(const rt_db_row *r, void *user)
{
    audit_walk *w = user;
    rt_audit *a = w->a;
    long long id = r->id;
    const char *hash = r->row.hash, *text = r->row.text;
    size_t len = text ? r->row.len : 0;
    rt_cand_row row = r->row;
    row.hash = hash ? hash : "";
    a->rows++;
    char hex[65];
    rt_sha256_hex(text ? text : "", len, hex);
    if (!hash || strcmp(hex, hash) != 0)
        add_failure(a, "row %lld: its text does not match its hash (the text was edited)", id);
    int rc = audit_chain(w, r, &row);
    if (rc)
        return rc;
    if (row.parent && !(strlen(row.parent) == 64 && rt_hashset_has(&w->admitted, row.parent)))
        add_failure(a, "row %lld: its parent %.16s... is not an earlier admitted row", id,
                    row.parent);
    if (!row.admitted)
        return 0;
    a->admitted++;
    if (row.trusted)
        a->trusted++;
    if (strlen(row.hash) == 64 && rt_hashset_add(&w->admitted, row.hash) < 0)
        return RT_ENOMEM;
    return audit_admitted(a, w->pb, id, text ? text : "", len, &row);
}

/* The checkpoint's account: rows cut from the end leave a chain that is whole but short. */
static int audit_account(rt_db *db, rt_audit *a)
{
    int found;
    long long n;
    char head[80];
    int rc = rt_db_chain_account(db, &found, &n, head, sizeof head);
    if (rc)
        return rc;
    if (!found)
        add_failure(a, "the store has no checkpoint");
    else if (n != a->rows || strcmp(head, a->head) != 0)
        add_failure(a, "the checkpoint accounts for %lld rows ending in link %.16s..., the "
                       "store holds %lld ending in %.16s... (rows cut from the end, or added "
                       "after it)",
                    n, head, a->rows, a->head);
    return 0;
}

static void audit_stray(long long cand_id, void *user)
{
    add_failure(user, "the archive names row %lld, which is not an admitted row", cand_id);
}

/* Everything rt_store_audit promises, on db with its problem. */
static int audit_store(rt_db *db, const rt_problem *pb, rt_audit *a)
{
    memset(a, 0, sizeof *a);
    audit_walk w = {.a = a, .pb = pb};
    rt_hashset_init(&w.admitted, 64);
    char result[512];
    int out = rt_db_integrity(db, result, sizeof result);
    if (out)
        return out;
    if (strcmp(result, "ok") != 0)
        add_failure(a, "SQLite's integrity check fails: %s", result);
    if (!(out = rt_db_each_row(db, audit_row, &w))) {
        if (w.pending) /* a writer ends every commit on a row with its link */
            add_failure(a, "rows %lld to %lld: no link is stored at or after them (the last "
                           "row's link was removed)",
                        w.last_id - w.pending + 1, w.last_id);
        snprintf(a->head, sizeof a->head, "%s", w.last);
        if (!(out = audit_account(db, a)))
            out = rt_db_each_stray(db, audit_stray, a);
    }
    rt_hashset_free(&w.admitted);
    if (out == RT_ENOMEM)
        rt_db_fail(db, out, "out of memory");
    return out;
}

int rt_store_audit(rt_store *store, rt_audit *out)
{
    rt_problem *pb = NULL;
    memset(out, 0, sizeof *out);
    int rc = rt_store_problem(store, &pb);
    if (rc)
        return rc;
    rc = audit_store(rt_store_db(store), pb, out);
    rt_problem_close(pb);
    return rc;
}

/* ---- the check ----------------------------------------------------------------------------- */

typedef struct check_walk {
    rt_db *db;
    const rt_problem *problem;
    long long *checked;
} check_walk;

/* One row: its hash and, admitted, its re-verification. 0, or RT_EINVALID naming the row. */
static int check_row(const rt_db_row *r, void *user)
{
    check_walk *w = user;
    const rt_cand_row *row = &r->row;
    const char *text = row->text ? row->text : "";
    char hex[65];
    rt_sha256_hex(text, row->len, hex);
    if (!row->hash || strcmp(hex, row->hash) != 0)
        return rt_db_fail(w->db, RT_EINVALID,
                          "candidate %lld: stored hash does not match its text", r->id);
    if (!row->admitted)
        return 0;
    rt_verdict v;
    char err[512];
    int vr = rt_problem_verify(w->problem, text, row->len, &v, err, sizeof err);
    if (vr || !v.valid)
        return rt_db_fail(w->db, RT_EINVALID, "admitted candidate %lld does not verify: %s",
                          r->id, vr ? err : v.reason);
    /* a score stored as NULL compares as 0, as SQLite reads it */
    double score = isnan(row->verified.primary) ? 0 : row->verified.primary;
    double score2 = isnan(row->verified.secondary) ? 0 : row->verified.secondary;
    if (!row->valid || !rt_problem_reproduces(w->problem, score, v.score) ||
        !rt_problem_reproduces(w->problem, score2, v.score2))
        return rt_db_fail(w->db, RT_EINVALID,
                          "admitted candidate %lld: stored verdict differs from re-verification",
                          r->id);
    (*w->checked)++;
    return 0;
}

int rt_store_check(rt_store *store, long long *checked)
{
    rt_problem *pb = NULL;
    rt_db *db = rt_store_db(store);
    int rc = rt_store_problem(store, &pb);
    if (rc)
        return rc;
    *checked = 0;
    char result[512];
    if (!(rc = rt_db_integrity(db, result, sizeof result)) && strcmp(result, "ok") != 0)
        rc = rt_db_fail(db, RT_EINVALID, "store %s fails SQLite's integrity check: %s",
                        rt_db_path(db), result);
    if (!rc) {
        check_walk w = {.db = db, .problem = pb, .checked = checked};
        rc = rt_db_each_row(db, check_row, &w);
    }
    rt_problem_close(pb);
    return rc;
}
