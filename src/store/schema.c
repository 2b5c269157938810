/* schema.c — the store's schema: every table, the file's identity, its check and its migration
 * (store/schema.h). The statements' text is what SQLite keeps in sqlite_master: a change here,
 * even of white space, changes the schema of new stores (tests/test_store.c notices). */
#include "store/schema.h"

#include <stdio.h>
#include <string.h>

/* The tables every store has, created with it. */
static const char *const core_sql =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE candidates("
    "  id INTEGER PRIMARY KEY,"
    "  hash BLOB NOT NULL,"                 /* SHA-256 of the text: candidates_hash */
    "  text NOT NULL,"                      /* TEXT, or a BLOB: store/codec.h */
    "  parent INTEGER,"                     /* the parent's id; NULL for a seed */
    "  operator TEXT NOT NULL,"
    "  island INTEGER NOT NULL,"
    "  generation INTEGER NOT NULL,"
    "  proxy REAL, proxy2 REAL,"
    "  valid INTEGER NOT NULL,"
    "  score REAL, score2 REAL, metric REAL,"
    "  reason TEXT,"
    "  admitted INTEGER NOT NULL,"
    "  time REAL NOT NULL,"
    "  trusted INTEGER NOT NULL DEFAULT 0," /* admitted on the proxy alone (--trust-proxy) */
    "  link BLOB);"       /* this row's link (rt_chain_link), kept at the last row of each commit
                             and every RT_SCHEMA_LINK_EVERY rows; NULL between */
    "CREATE INDEX candidates_best ON candidates(admitted, score DESC, score2 DESC);" /* + rowid */
    /* the hash's first 8 bytes (what the engine tells duplicates by): a row is found by them,
     * then by its whole hash (RT_SQL_BY_HASH); the writer refuses a hash already stored */
    "CREATE INDEX candidates_hash ON candidates(substr(hash, 1, 8));"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, time REAL NOT NULL, kind TEXT NOT NULL,"
    "  detail TEXT);"
    "CREATE TABLE checkpoint(id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL,"
    "  evaluations INTEGER NOT NULL, duplicates INTEGER NOT NULL, failed INTEGER NOT NULL,"
    "  elapsed REAL NOT NULL, sessions INTEGER NOT NULL, rng TEXT NOT NULL,"
    "  proxy_rejected INTEGER NOT NULL DEFAULT 0, chain_rows INTEGER NOT NULL DEFAULT 0,"
    "  chain_head TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE archive(island INTEGER NOT NULL, cand_id INTEGER NOT NULL"
    "  REFERENCES candidates(id), migrated INTEGER NOT NULL);";

/* The tables added after format 2 began, which older stores of the format lack. */
static const struct {
    const char *name;
    const char *sql;
} later[] = {
    /* metrics and artifacts of external evaluations (the program problem): created with every
     * new store and on every writer's open of an older one (rt_schema_migrate) */
    [RT_TABLE_EVALUATIONS] = {"evaluations",
                              "CREATE TABLE IF NOT EXISTS evaluations(cand_id INTEGER PRIMARY KEY"
                              "  REFERENCES candidates(id), metrics TEXT, artifacts TEXT);"},
    /* one row per request of the llm proposer: created when the first is stored, so that a
     * store without it reads as "no requests" */
    [RT_TABLE_LLM_REQUESTS] = {"llm_requests",
        "CREATE TABLE IF NOT EXISTS llm_requests(id INTEGER PRIMARY KEY, at REAL NOT NULL,"
        "  island INTEGER NOT NULL, generation INTEGER NOT NULL, model TEXT NOT NULL,"
        "  mode TEXT NOT NULL, tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL,"
        "  cost REAL NOT NULL, latency REAL NOT NULL, attempts INTEGER NOT NULL,"
        "  retries INTEGER NOT NULL, http_status INTEGER NOT NULL, outcome TEXT NOT NULL,"
        "  error TEXT, parent TEXT, made INTEGER NOT NULL, duplicate INTEGER NOT NULL,"
        "  valid INTEGER NOT NULL, admitted INTEGER NOT NULL, improved INTEGER NOT NULL,"
        "  parent_score REAL, child_score REAL);"},
};

int rt_schema_create(rt_db *db)
{
    char identity[128];
    snprintf(identity, sizeof identity, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
             RT_SCHEMA_APP_ID, RT_SCHEMA_VERSION);
    int rc;
    if ((rc = rt_db_exec(db, identity, "create its tables")) ||
        (rc = rt_db_exec(db, core_sql, "create its tables")) ||
        (rc = rt_db_exec(db, later[RT_TABLE_EVALUATIONS].sql, "create its tables")))
        return rc;
    return 0;
}

/* Reads one integer pragma of the file into *out; the SQLite code of the read. */
static int read_pragma(rt_db *db, const char *sql, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* Reads the meta row 'format' into out (cut to len - 1 bytes): 0, RT_ESTORE when the store
 * has none, or an error. */
static int read_format(rt_db *db, char *out, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT value FROM meta WHERE key=?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the run's configuration");
    sqlite3_bind_text(st, 1, "format", -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? RT_ESTORE
                                 : rt_db_sql_fail(db, rc, "read the run's configuration");
    }
    const unsigned char *v = sqlite3_column_text(st, 0);
    snprintf(out, len, "%s", v ? (const char *)v : "");
    sqlite3_finalize(st);
    return 0;
}

int rt_schema_check(rt_db *db, int *first_rc)
{
    int app = 0;
    int rc = read_pragma(db, "PRAGMA application_id", &app);
    *first_rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
    if (rc != SQLITE_ROW) {
        if ((rc & 0xff) == SQLITE_NOTADB)
            return rt_db_fail(db, RT_ESTORE, "%s is not a ratchet store (not an SQLite database)",
                              db->path);
        return rt_db_sql_fail(db, rc, "read it");
    }
    if (app != RT_SCHEMA_APP_ID)
        return rt_db_fail(db, RT_ESTORE,
                          "%s is not a ratchet store (an SQLite file of another kind)", db->path);
    int version = 0;
    read_pragma(db, "PRAGMA user_version", &version);
    if (version == 1)
        return rt_db_fail(db, RT_ESTORE,
                          "%s is a ratchet store of format 1, from before the lineage chain; this "
                          "ratchet reads format %d only (start a new run; an older ratchet still "
                          "reads it)",
                          db->path, RT_SCHEMA_VERSION);
    if (version < 2 || version > RT_SCHEMA_VERSION) /* 2: TEXT only; 3: compressed; 4-6: packed */
        return rt_db_fail(db, RT_ESTORE,
                          "%s is a ratchet store of format %d; this ratchet reads 2 to %d",
                          db->path, version, RT_SCHEMA_VERSION);
    char fmt[64];
    rc = read_format(db, fmt, sizeof fmt);
    if (rc)
        return rc == RT_ESTORE
                   ? rt_db_fail(db, RT_ESTORE, "%s is not a ratchet store (no format)", db->path)
                   : rc;
    if (strcmp(fmt, RT_SCHEMA_FORMAT) != 0)
        return rt_db_fail(db, RT_ESTORE, "%s has format '%s', not '%s'", db->path, fmt,
                          RT_SCHEMA_FORMAT);
    return 0;
}

int rt_schema_layout(rt_db *db)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT count(*) FROM pragma_table_info('candidates') "
                                "WHERE name='prev'",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        db->compact = sqlite3_column_int(st, 0) == 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rt_db_sql_fail(db, rc, "read its tables");
}

int rt_schema_has(rt_db *db, rt_schema_table t)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(db->sql, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, later[t].name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

int rt_schema_ensure(rt_db *db, rt_schema_table t)
{
    char what[64];
    snprintf(what, sizeof what, "create the %s table", later[t].name);
    return rt_db_exec(db, later[t].sql, what);
}

/* Formats 2 to 5 to 6: their tables stay as they are (a format-3 table keeps prev and a link on
 * every row, parents as hashes); rows written from now on may hold compressed (3) or packed (4)
 * texts (store/codec.h), packed in matmul's version 2 (5) or 3 (6), which an older ratchet would
 * misread, so the version says so. The rows already there stay as they are and are read as such. */
static int migrate_texts(rt_db *db)
{
    int version = 0;
    if (read_pragma(db, "PRAGMA user_version", &version) != SQLITE_ROW)
        return rt_db_sql_fail(db, sqlite3_errcode(db->sql), "read the store's format");
    if (version >= RT_SCHEMA_VERSION)
        return 0;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", RT_SCHEMA_VERSION);
    return rt_db_exec(db, sql, "migrate it to the current format");
}

int rt_schema_migrate(rt_db *db)
{
    int rc = migrate_texts(db);
    if (rc || rt_schema_has(db, RT_TABLE_EVALUATIONS))
        return rc;
    return rt_schema_ensure(db, RT_TABLE_EVALUATIONS);
}
