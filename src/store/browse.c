/* browse.c — the reads behind browsing a store (store/browse.h): candidate rows without their
 * text, filtered and ordered in SQL, and the llm proposer's requests. Writes nothing. */
#include "store/browse.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store/db.h"
#include "store/schema.h"

#define CAND_COLS                                                                              \
    "id,generation,island,time,proxy,proxy2,valid,score,score2,metric,admitted,trusted,hash,"  \
    "parent,operator,COALESCE(reason,'')"

/* A real column, NaN where it is NULL. */
static double real_or_nan(sqlite3_stmt *st, int c)
{
    return sqlite3_column_type(st, c) == SQLITE_NULL ? (double)NAN : sqlite3_column_double(st, c);
}

/* Copies a text column into buf (cut to len - 1 bytes; "" for NULL). */
static void text_into(sqlite3_stmt *st, int c, char *buf, size_t len)
{
    const char *t = (const char *)sqlite3_column_text(st, c);
    snprintf(buf, len, "%s", t ? t : "");
}

/* Reads the columns of CAND_COLS at the statement's current row. */
static void read_cand(rt_db *db, sqlite3_stmt *st, rt_candidate *c)
{
    c->id = sqlite3_column_int64(st, 0);
    c->generation = sqlite3_column_int64(st, 1);
    c->island = sqlite3_column_int(st, 2);
    c->time = sqlite3_column_double(st, 3);
    c->proxy = real_or_nan(st, 4);
    c->proxy2 = real_or_nan(st, 5);
    c->valid = sqlite3_column_int(st, 6);
    c->score = c->valid ? real_or_nan(st, 7) : (double)NAN;
    c->score2 = c->valid ? real_or_nan(st, 8) : (double)NAN;
    c->metric = c->valid ? real_or_nan(st, 9) : (double)NAN;
    c->admitted = sqlite3_column_int(st, 10);
    c->trusted = sqlite3_column_int(st, 11);
    rt_db_column_hash(st, 12, c->hash); /* "" for a seed's parent */
    rt_db_column_parent(db, st, 13, c->parent);
    text_into(st, 14, c->op, sizeof c->op);
    text_into(st, 15, c->reason, sizeof c->reason);
}

/* The statement for a filter: WHERE terms bound in the order they are written. */
static int prepare_filter(rt_db *db, const rt_cand_filter *f, sqlite3_stmt **st)
{
    char where[512], sql[2048];
    int w = 0;
    where[0] = '\0';
    if (f->admitted)
        w += snprintf(where + w, sizeof where - (size_t)w, " AND admitted=%d", f->admitted > 0);
    if (f->island)
        w += snprintf(where + w, sizeof where - (size_t)w, " AND island=%d", f->island - 1);
    if (f->op)
        w += snprintf(where + w, sizeof where - (size_t)w, " AND operator=:op");
    if (f->model && !rt_schema_has(db, RT_TABLE_LLM_REQUESTS))
        snprintf(where + w, sizeof where - (size_t)w, " AND 0");
    else if (f->model)
        snprintf(where + w, sizeof where - (size_t)w,
                 " AND EXISTS(SELECT 1 FROM llm_requests r WHERE r.island=c.island AND"
                 " r.generation=c.generation AND r.made=1 AND r.model=:model)");
    int n = snprintf(sql, sizeof sql, "SELECT " CAND_COLS " FROM candidates c WHERE 1%s", where);
    if (f->top > 0)
        snprintf(sql + n, sizeof sql - (size_t)n,
                 " AND valid=1 ORDER BY score DESC, score2 DESC, id LIMIT %lld", f->top);
    else if (f->limit > 0) /* the last N rows, oldest first */
        snprintf(sql + n, sizeof sql - (size_t)n,
                 " AND id > coalesce((SELECT id FROM candidates c WHERE 1%s ORDER BY id DESC"
                 " LIMIT 1 OFFSET %lld), 0) ORDER BY id", where, f->limit);
    else
        snprintf(sql + n, sizeof sql - (size_t)n, " ORDER BY id");
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read candidates");
    if (f->op)
        sqlite3_bind_text(*st, sqlite3_bind_parameter_index(*st, ":op"), f->op, -1,
                          SQLITE_STATIC);
    if (f->model && rt_schema_has(db, RT_TABLE_LLM_REQUESTS))
        sqlite3_bind_text(*st, sqlite3_bind_parameter_index(*st, ":model"), f->model, -1,
                          SQLITE_STATIC);
    return 0;
}

int rt_db_each_candidate(rt_db *db, const rt_cand_filter *filter,
                         int (*fn)(const rt_candidate *c, void *user), void *user)
{
    static const rt_cand_filter all = {0};
    const rt_cand_filter *f = filter ? filter : &all;
    sqlite3_stmt *st = NULL;
    int rc = prepare_filter(db, f, &st);
    if (rc)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rt_candidate c;
        read_cand(db, st, &c);
        int stop = fn(&c, user);
        if (stop) {
            sqlite3_finalize(st);
            return stop;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read candidates");
}

int rt_db_candidate_info(rt_db *db, long long id, int *found, rt_candidate *out)
{
    *found = 0;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT " CAND_COLS " FROM candidates WHERE id=?", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read a candidate");
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_cand(db, st, out);
        *found = 1;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read a candidate");
}

int rt_db_id_of_hash(rt_db *db, const char *hash, long long *id)
{
    *id = 0;
    sqlite3_stmt *st = NULL;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT id FROM candidates WHERE %s", RT_SQL_BY_HASH(db->compact));
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read a candidate");
    rt_db_bind_hash(st, 1, hash);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read a candidate");
}

int rt_db_each_llm_point(rt_db *db, void (*fn)(const rt_db_llm_point *p, void *user),
                         void *user)
{
    if (!rt_schema_has(db, RT_TABLE_LLM_REQUESTS))
        return 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT at,model,tokens_in,tokens_out,cost,made,improved,admitted"
                                " FROM llm_requests ORDER BY at, id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the llm requests");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 1);
        rt_db_llm_point p = {
            .at = sqlite3_column_double(st, 0),
            .model = m ? m : "",
            .tokens_in = sqlite3_column_int64(st, 2),
            .tokens_out = sqlite3_column_int64(st, 3),
            .cost = sqlite3_column_double(st, 4),
            .made = sqlite3_column_int(st, 5),
            .improved = sqlite3_column_int(st, 6),
            .admitted = sqlite3_column_int(st, 7),
        };
        fn(&p, user);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read the llm requests");
}
