/* db.h — the inside of the store's handle, for the files of src/store/ only: the structure of
 * an rt_db and the helpers every store file uses to talk to SQLite and to report its failures.
 * Outside src/store/ an rt_db is opaque (store/store.h) and nobody includes <sqlite3.h>.
 *
 * The handle's life: rt_db_new (a handle for a path, no connection yet), a connection opened by
 * store.c (rt_db_create or rt_db_open), rt_db_release (finalizes the writer's statements,
 * closes the connection, removes an unpublished temporary, drops the writer's lock, frees). */
#ifndef RT_STORE_DB_H
#define RT_STORE_DB_H

#include <sqlite3.h>

#include "store/store.h"

struct rt_db {
    sqlite3 *sql;
    char path[4096]; /* the store's path, as the user named it (for messages) */
    char tmp[4096];  /* while being created: the temporary file SQLite writes; else "" */
    int lock_fd; /* flock held by a writer; closed only after sqlite3_close */
    char last_link[65]; /* a writer: the chain link of the last row inserted, "" before any */
    int needs_recovery; /* a reader found a WAL that only a writer can recover */
    int needs_immutable; /* a reader could neither open nor create the WAL index (-shm) or the
                            WAL beside the store: a folder it cannot write */
    sqlite3_stmt *ins_cand; /* the writer's statements (write.c) */
    sqlite3_stmt *ins_event;
    sqlite3_stmt *ins_eval;
    struct rt_text_cache *texts; /* decoded texts and zstd's contexts (store/codec.h), or NULL */
    int compact;     /* the table of format 4 (rt_schema_layout): no prev, parents as row ids,
                        links stored at some rows only (docs/store.md) */
    int since_link;  /* a writer of a compact table: rows inserted since the last stored link */
    long long unlinked_id; /* ... the last of them, whose link rt_db_commit stores; 0: none */
    sqlite3_stmt *hash_of_id; /* rt_db_column_parent's, prepared on first use */
    sqlite3_stmt *id_of_hash; /* the writer's lookup by hash (write.c), prepared on first use */
    char errmsg[512];
};

/* A handle for path (cut at 4095 bytes), without a connection; NULL when out of memory. */
rt_db *rt_db_new(const char *path);
/* Ends a handle (see above); NULL is a no-op. */
void rt_db_release(rt_db *db);

/* Maps an SQLite failure to a ratchet code and a one-line message naming the store and what
 * could not be done (what: "read candidates"); a full disk or a file-size limit is named as
 * such. Returns the code. */
int rt_db_sql_fail(rt_db *db, int sqlite_rc, const char *what);
/* Runs statements without results; 0, or rt_db_sql_fail's code. */
int rt_db_exec(rt_db *db, const char *sql, const char *what);
/* Copies a text column (NULL for SQL NULL) into a caller-owned string; sets *nomem when out of
 * memory. */
char *rt_db_column_dup(sqlite3_stmt *st, int col, int *nomem);

/* Hashes (a candidate's, its parent's, the chain's links) are 64 hex digits in C and, from
 * format 3 on, 32-byte BLOBs in the store (format-2 rows keep TEXT; both are read). */
/* Binds hex as a 32-byte BLOB (as TEXT when it is not 64 hex digits; NULL when hex is NULL). */
void rt_db_bind_hash(sqlite3_stmt *st, int col, const char *hex);
/* A hash column as 64 hex digits into out (a TEXT value copied, cut to 64 bytes); returns out,
 * or NULL (out then "") when the value is NULL. */
const char *rt_db_column_hash(sqlite3_stmt *st, int col, char out[65]);
/* A row by its hash ?1 (a 32-byte BLOB): in a compact table through candidates_hash (the
 * expression must be the index's), in an older one through its UNIQUE column. */
#define RT_SQL_BY_HASH(compact)                                                                 \
    ((compact) ? "substr(hash, 1, 8)=substr(?1, 1, 8) AND hash=?1" : "hash=?1")

/* A parent column as its hash (64 hex digits) into out: an integer (format 4) is the parent's
 * row id, looked up; a hash as rt_db_column_hash. Returns out, or NULL (out then "") for a seed
 * (NULL) or a row id that names no row. */
const char *rt_db_column_parent(rt_db *db, sqlite3_stmt *st, int col, char out[65]);

#endif
