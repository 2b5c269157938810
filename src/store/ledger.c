/* ledger.c — the store read as a research ledger (contract in ledger.h). */
#include "store/ledger.h"

#include <math.h>
#include <string.h>

#include "store/db.h"

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

int rt_db_each_experiment(rt_db *db, int (*fn)(const rt_db_experiment *e, void *user),
                          void *user)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT c.id,c.time,c.hash,c.parent,c.operator,c.text,c.valid,"
                                "c.admitted,c.trusted,c.score,c.reason,e.metrics,e.artifacts "
                                "FROM candidates c LEFT JOIN evaluations e ON e.cand_id=c.id "
                                "ORDER BY c.id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the experiments");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rt_db_experiment e;
        memset(&e, 0, sizeof e);
        e.id = sqlite3_column_int64(st, 0);
        e.time = sqlite3_column_double(st, 1);
        e.hash = col_text(st, 2);
        e.parent = col_text(st, 3);
        e.op = col_text(st, 4);
        e.text = col_text(st, 5);
        e.len = (size_t)sqlite3_column_bytes(st, 5);
        e.valid = sqlite3_column_int(st, 6);
        e.admitted = sqlite3_column_int(st, 7);
        e.trusted = sqlite3_column_int(st, 8);
        e.score = sqlite3_column_type(st, 9) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 9);
        e.reason = col_text(st, 10);
        e.metrics = col_text(st, 11);
        e.artifacts = col_text(st, 12);
        if (!e.hash || !e.op || !e.text) {
            sqlite3_finalize(st);
            return rt_db_fail(db, RT_ESTORE, "store %s: candidate %lld lacks its hash, operator "
                                             "or text", db->path, e.id);
        }
        int stop = fn(&e, user);
        if (stop) {
            sqlite3_finalize(st);
            return stop;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read the experiments");
}
