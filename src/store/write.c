/* write.c — the run's writes (store/write.h): transactions, candidate rows on the lineage
 * chain with their evaluations, events, checkpoints with the archive, and the meta rows. */
#include "store/write.h"

#include <stdio.h>
#include <string.h>

#include "store/chain.h"
#include "store/codec.h"
#include "store/db.h"
#include "store/schema.h"

int rt_db_put_meta(rt_db *db, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "INSERT OR REPLACE INTO meta(key,value) VALUES(?,?)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : rt_db_sql_fail(db, rc, "write the run's configuration");
}

/* Reads the link of the store's last row into db->last_link ("" when it has none). */
static int load_last_link(rt_db *db)
{
    sqlite3_stmt *st = NULL;
    db->last_link[0] = '\0';
    int rc = sqlite3_prepare_v2(db->sql, "SELECT link FROM candidates ORDER BY id DESC LIMIT 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the lineage chain");
    rc = sqlite3_step(st);
    int unlinked = rc == SQLITE_ROW && !rt_db_column_hash(st, 0, db->last_link);
    sqlite3_finalize(st);
    db->since_link = 0;
    db->unlinked_id = 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rt_db_sql_fail(db, rc, "read the lineage chain");
    if (unlinked) /* every commit ends on a row with its link (rt_db_commit) */
        return rt_db_fail(db, RT_ESTORE, "store %s: its last row has no chain link (the store "
                                         "was changed outside ratchet)", db->path);
    return 0;
}

/* Prepares the writer's statements, after the migration of a store made before a table it
 * writes. */
static int prepare_writes(rt_db *db)
{
    int rc = rt_schema_migrate(db);
    if (rc)
        return rc;
    rc = sqlite3_prepare_v2(db->sql,
                            "INSERT INTO evaluations(cand_id,metrics,artifacts) VALUES(?,?,?)",
                            -1, &db->ins_eval, NULL);
    if (rc == SQLITE_OK) /* a compact table has no prev: ?17 is then the link */
        rc = sqlite3_prepare_v2(
            db->sql,
            db->compact
                ? "INSERT INTO candidates(hash,text,parent,operator,island,generation,proxy,proxy2,"
                  "valid,score,score2,metric,reason,admitted,time,trusted,link)"
                  " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                : "INSERT INTO candidates(hash,text,parent,operator,island,generation,proxy,proxy2,"
                  "valid,score,score2,metric,reason,admitted,time,trusted,prev,link)"
                  " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            -1, &db->ins_cand, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->sql, "INSERT INTO events(time,kind,detail) VALUES(?,?,?)",
                                -1, &db->ins_event, NULL);
    return rc == SQLITE_OK ? 0 : rt_db_sql_fail(db, rc, "prepare statements");
}

int rt_db_begin(rt_db *db) { return rt_db_exec(db, "BEGIN IMMEDIATE", "begin a transaction"); }

/* A compact table: stores the link of the last row inserted when it has none yet, so that every
 * commit ends on a row with its link. */
static int store_last_link(rt_db *db)
{
    if (!db->compact || !db->unlinked_id)
        return 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "UPDATE candidates SET link=? WHERE id=?", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rt_db_bind_hash(st, 1, db->last_link);
        sqlite3_bind_int64(st, 2, db->unlinked_id);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rt_db_sql_fail(db, rc, "store a chain link");
    db->unlinked_id = 0;
    db->since_link = 0;
    return 0;
}

int rt_db_commit(rt_db *db)
{
    int rc = store_last_link(db);
    return rc ? rc : rt_db_exec(db, "COMMIT", "commit");
}

int rt_db_rollback(rt_db *db)
{
    int rc = 0;
    if (!sqlite3_get_autocommit(db->sql))
        rc = rt_db_exec(db, "ROLLBACK", "roll back");
    if (!rc) /* rows of the abandoned transaction (or of a failed commit) are gone: so are their
                links, and the texts held as bases for the next rows */
        rc = load_last_link(db);
    rt_db_text_forget(db, 0);
    return rc;
}

static void bind_score(sqlite3_stmt *st, int col, int valid, double v)
{
    if (valid)
        sqlite3_bind_double(st, col, v);
    else
        sqlite3_bind_null(st, col);
}

/* Binds the row's text as column col (store/codec.h): packed by the problem when it can be, and
 * compressed against the parent's text (or packed form) when the writer holds it in the same
 * form, else alone; short texts as they are. *depth: the row's depth; *packed: its packed form
 * (pk's bytes), or NULL. */
static int bind_text(rt_db *db, sqlite3_stmt *st, int col, const rt_cand_row *r, rt_buf *pk,
                     int *depth, const unsigned char **packed)
{
    *depth = 0;
    *packed = NULL;
    rt_text_cache *c = rt_db_text_cache(db);
    if (!c)
        return RT_ENOMEM;
    if (r->len < RT_CODEC_MIN_LEN) {
        sqlite3_bind_text(st, col, r->text, (int)r->len, SQLITE_STATIC);
        return 0;
    }
    int rc = rt_db_text_pack(db, r->text, r->len, pk);
    if (rc == RT_ENOMEM)
        return rc;
    if (!rc)
        *packed = (const unsigned char *)pk->data;
    const rt_text_entry *base = rt_db_text_find(db, r->parent);
    if (!base && r->parent && rt_db_text_fetch(db, r->parent) == 0)
        base = rt_db_text_find(db, r->parent);
    if (base && (base->depth >= RT_CODEC_MAX_DEPTH || (*packed != NULL) != (base->packed != NULL)))
        base = NULL;
    size_t n = 0;
    if (*packed)
        rc = rt_codec_encode(c, 1, pk->data, pk->len, base ? base->packed : NULL,
                             base ? base->plen : 0, base ? base->id : 0, &n);
    else
        rc = rt_codec_encode(c, 0, r->text, r->len, base ? base->text : NULL,
                             base ? base->len : 0, base ? base->id : 0, &n);
    if (rc)
        return rc;
    *depth = base ? base->depth + 1 : 0;
    sqlite3_bind_blob(st, col, c->out, (int)n, SQLITE_STATIC);
    return 0;
}

/* The id of the row whose hash is hash into *id (0: none). Returns 0 or an error. */
static int stored_id(rt_db *db, const char *hash, long long *id)
{
    *id = 0;
    if (!db->id_of_hash) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT id FROM candidates WHERE %s",
                 RT_SQL_BY_HASH(db->compact));
        int rc = sqlite3_prepare_v2(db->sql, sql, -1, &db->id_of_hash, NULL);
        if (rc != SQLITE_OK)
            return rt_db_sql_fail(db, rc, "read a candidate");
    }
    rt_db_bind_hash(db->id_of_hash, 1, hash);
    int rc = sqlite3_step(db->id_of_hash);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(db->id_of_hash, 0);
    sqlite3_reset(db->id_of_hash);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read a candidate");
}

/* Binds the parent as column col: in a compact table its row id (held by the writer's cache, else
 * looked up by hash), in an older table (or for a parent not found) its hash. */
static void bind_parent(rt_db *db, sqlite3_stmt *st, int col, const char *parent)
{
    long long pid = 0;
    if (db->compact && parent) {
        const rt_text_entry *e = rt_db_text_find(db, parent);
        if (e)
            pid = e->id;
        else if (stored_id(db, parent, &pid))
            pid = 0;
    }
    if (pid > 0)
        sqlite3_bind_int64(st, col, pid);
    else
        rt_db_bind_hash(st, col, parent);
}

int rt_db_insert(rt_db *db, const rt_cand_row *r, long long *id)
{
    char link[65];
    int lrc = rt_chain_link(db->last_link[0] ? db->last_link : NULL, r, link);
    if (lrc)
        return rt_db_fail(db, lrc, "out of memory");
    long long same = 0; /* a compact table's hash index is not unique: the writer refuses */
    if (db->compact && (lrc = stored_id(db, r->hash, &same)))
        return lrc;
    if (same)
        return rt_db_fail(db, RT_ESTORE, "store %s: cannot store a candidate: row %lld has the "
                                         "same hash %.16s...", db->path, same, r->hash);
    sqlite3_stmt *st = db->ins_cand;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    rt_db_bind_hash(st, 1, r->hash);
    int depth = 0;
    const unsigned char *packed = NULL;
    rt_buf pk;
    rt_buf_init(&pk, 0);
    if (bind_text(db, st, 2, r, &pk, &depth, &packed)) {
        rt_buf_free(&pk);
        return rt_db_fail(db, RT_ENOMEM, "out of memory");
    }
    bind_parent(db, st, 3, r->parent);
    sqlite3_bind_text(st, 4, r->op, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, r->island);
    sqlite3_bind_int64(st, 6, r->generation);
    sqlite3_bind_double(st, 7, r->proxy.primary);
    sqlite3_bind_double(st, 8, r->proxy.secondary);
    sqlite3_bind_int(st, 9, r->valid);
    bind_score(st, 10, r->valid, r->verified.primary);
    bind_score(st, 11, r->valid, r->verified.secondary);
    bind_score(st, 12, r->valid, r->metric);
    if (r->reason && *r->reason)
        sqlite3_bind_text(st, 13, r->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 14, r->admitted);
    sqlite3_bind_double(st, 15, r->time);
    sqlite3_bind_int(st, 16, r->trusted);
    /* a compact table keeps the link every RT_SCHEMA_LINK_EVERY rows and at each commit (and on
     * a row written outside a transaction, which commits at once) */
    int keep_link = !db->compact || sqlite3_get_autocommit(db->sql) ||
                    db->since_link + 1 >= RT_SCHEMA_LINK_EVERY;
    if (!db->compact)
        rt_db_bind_hash(st, 17, db->last_link[0] ? db->last_link : NULL);
    if (keep_link)
        rt_db_bind_hash(st, db->compact ? 17 : 18, link);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    long long rowid = sqlite3_last_insert_rowid(db->sql);
    if (rc == SQLITE_DONE && r->len >= RT_CODEC_MIN_LEN)
        rt_db_text_remember(db, rowid, r->hash, depth, r->text, r->len, packed, pk.len);
    rt_buf_free(&pk);
    if (rc != SQLITE_DONE)
        return rt_db_sql_fail(db, rc, "store a candidate");
    memcpy(db->last_link, link, sizeof link);
    db->since_link = keep_link ? 0 : db->since_link + 1;
    db->unlinked_id = keep_link ? 0 : rowid;
    if (id)
        *id = rowid;
    if (r->metrics || r->artifacts) {
        st = db->ins_eval;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        sqlite3_bind_int64(st, 1, rowid);
        if (r->metrics)
            sqlite3_bind_text(st, 2, r->metrics, -1, SQLITE_STATIC);
        if (r->artifacts)
            sqlite3_bind_text(st, 3, r->artifacts, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return rt_db_sql_fail(db, rc, "store a candidate's evaluation");
    }
    return 0;
}

int rt_db_event(rt_db *db, double time, const char *kind, const char *detail)
{
    sqlite3_stmt *st = db->ins_event;
    sqlite3_reset(st);
    sqlite3_bind_double(st, 1, time);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    if (detail)
        sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "store an event");
}

int rt_db_save_checkpoint(rt_db *db, const rt_checkpoint *cp, const rt_archive_row *rows,
                          size_t nrows)
{
    char rng[64 * 66];
    size_t off = 0;
    rng[0] = '\0';
    for (int i = 0; i < cp->nislands && i < 64; i++)
        off += (size_t)snprintf(rng + off, sizeof rng - off, "%s%s", i ? "," : "", cp->rng[i]);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "INSERT OR REPLACE INTO checkpoint(id,generation,evaluations,"
                                "duplicates,failed,elapsed,sessions,rng,proxy_rejected,"
                                "chain_rows,chain_head) VALUES(1,?,?,?,?,?,?,?,?,"
                                "(SELECT count(*) FROM candidates),?)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "save a checkpoint");
    sqlite3_bind_int64(st, 1, cp->generation);
    sqlite3_bind_int64(st, 2, cp->evaluations);
    sqlite3_bind_int64(st, 3, cp->duplicates);
    sqlite3_bind_int64(st, 4, cp->failed);
    sqlite3_bind_double(st, 5, cp->elapsed);
    sqlite3_bind_int(st, 6, cp->sessions);
    sqlite3_bind_text(st, 7, rng, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, cp->proxy_rejected);
    sqlite3_bind_text(st, 9, db->last_link, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rt_db_sql_fail(db, rc, "save a checkpoint");
    if ((rc = rt_db_exec(db, "DELETE FROM archive", "save the archive")))
        return rc;
    rc = sqlite3_prepare_v2(db->sql, "INSERT INTO archive(island,cand_id,migrated) VALUES(?,?,?)",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "save the archive");
    for (size_t i = 0; i < nrows; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int(st, 1, rows[i].island);
        sqlite3_bind_int64(st, 2, rows[i].cand_id);
        sqlite3_bind_int(st, 3, rows[i].migrated);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(st);
            return rt_db_sql_fail(db, rc, "save the archive");
        }
    }
    sqlite3_finalize(st);
    return 0;
}

int rt_db_writer_start(rt_db *db)
{
    int rc = load_last_link(db);
    return rc ? rc : prepare_writes(db);
}
