/* llm_requests.c — the table of the llm proposer's requests (store/llm_requests.h): one row per
 * request, written by the proposer, summed per model for `ratchet llm`. */
#include "store/llm_requests.h"

#include <stdio.h>
#include <string.h>

#include "store/db.h"
#include "store/schema.h"

int rt_db_llm_insert(rt_db *db, const rt_llm_row *r)
{
    int rc = rt_schema_ensure(db, RT_TABLE_LLM_REQUESTS);
    if (rc)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(
        db->sql,
        "INSERT INTO llm_requests(at,island,generation,model,mode,tokens_in,tokens_out,cost,"
        "latency,attempts,retries,http_status,outcome,error,parent,made,duplicate,valid,admitted,"
        "improved,parent_score,child_score) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "store a model request");
    sqlite3_bind_double(st, 1, r->at);
    sqlite3_bind_int(st, 2, r->island);
    sqlite3_bind_int64(st, 3, r->generation);
    sqlite3_bind_text(st, 4, r->model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->mode, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, r->tokens_in);
    sqlite3_bind_int64(st, 7, r->tokens_out);
    sqlite3_bind_double(st, 8, r->cost);
    sqlite3_bind_double(st, 9, r->latency);
    sqlite3_bind_int(st, 10, r->attempts);
    sqlite3_bind_int(st, 11, r->retries);
    sqlite3_bind_int(st, 12, r->http_status);
    sqlite3_bind_text(st, 13, r->outcome, -1, SQLITE_STATIC);
    if (r->error && *r->error)
        sqlite3_bind_text(st, 14, r->error, -1, SQLITE_STATIC);
    if (r->parent)
        sqlite3_bind_text(st, 15, r->parent, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 16, r->made);
    sqlite3_bind_int(st, 17, r->duplicate);
    sqlite3_bind_int(st, 18, r->valid);
    sqlite3_bind_int(st, 19, r->admitted);
    sqlite3_bind_int(st, 20, r->improved);
    sqlite3_bind_double(st, 21, r->parent_score);
    if (r->valid)
        sqlite3_bind_double(st, 22, r->child_score);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "store a model request");
}

int rt_db_llm_spend(rt_db *db, rt_llm_spend *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        db->sql,
        "SELECT model, count(*), sum(tokens_in), sum(tokens_out), sum(cost), sum(retries),"
        " sum(outcome <> 'ok'), sum(improved), sum(latency) FROM llm_requests GROUP BY model"
        " ORDER BY model",
        -1, &st, NULL);
    if (rc != SQLITE_OK) /* a store without model requests */
        return (rc & 0xff) == SQLITE_ERROR ? 0 : rt_db_sql_fail(db, rc, "read model requests");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long n = sqlite3_column_int64(st, 1);
        out->requests += n;
        out->tokens_in += sqlite3_column_int64(st, 2);
        out->tokens_out += sqlite3_column_int64(st, 3);
        out->cost += sqlite3_column_double(st, 4);
        out->retries += sqlite3_column_int64(st, 5);
        out->failed += sqlite3_column_int64(st, 6);
        out->improved += sqlite3_column_int64(st, 7);
        out->latency += sqlite3_column_double(st, 8);
        if (out->nmodels < (int)(sizeof out->models / sizeof out->models[0])) {
            rt_llm_model_spend *m = &out->models[out->nmodels++];
            const unsigned char *name = sqlite3_column_text(st, 0);
            snprintf(m->model, sizeof m->model, "%s", name ? (const char *)name : "?");
            m->requests = n;
            m->tokens_in = sqlite3_column_int64(st, 2);
            m->tokens_out = sqlite3_column_int64(st, 3);
            m->cost = sqlite3_column_double(st, 4);
            m->improved = sqlite3_column_int64(st, 7);
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read model requests");
}
