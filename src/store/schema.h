/* schema.h — the store's schema in one place (for src/store/ only): what a store file is (its
 * application id, format version and format row), every table and index, the check that a file
 * is a store this ratchet reads, and the migration of older stores of this format.
 *
 * The version is written once (RT_SCHEMA_VERSION, into PRAGMA user_version at creation) and read
 * once (rt_schema_check). Changing a table's definition in schema.c changes the format: stores
 * already written must then still be read, or be refused by rt_schema_check with one line that
 * says how to migrate them. Tables added later that older stores may lack (evaluations,
 * llm_requests) are created when first needed, so that neither the version nor readers that do
 * not know them are affected. tests/test_store.c compares a new store's schema with
 * tests/data/store-schema.txt. */
#ifndef RT_STORE_SCHEMA_H
#define RT_STORE_SCHEMA_H

#include "store/db.h"

#define RT_SCHEMA_APP_ID 0x52544348 /* "RTCH" in PRAGMA application_id */
#define RT_SCHEMA_VERSION 6 /* PRAGMA user_version; 2: the lineage chain; 3: compressed texts;
                               4: packed texts, and new stores' compact rows (rt_schema_layout);
                               5: matmul's pack version 2 (matmul_pack.h), which a format-4
                               ratchet would take for damaged texts; 6: its version 3 (the C
                               factors solved from A and B), likewise for format 5 */
#define RT_SCHEMA_LINK_EVERY 64 /* a compact table stores a link at least every this many rows */
#define RT_SCHEMA_FORMAT "ratchet-store 1" /* the meta row 'format' (it predates the version) */

/* The tables a store of this format may lack, made by rt_schema_ensure when first needed. */
typedef enum rt_schema_table {
    RT_TABLE_EVALUATIONS,  /* metrics and artifacts of external evaluations (write.c) */
    RT_TABLE_LLM_REQUESTS, /* the llm proposer's requests (llm_requests.c) */
} rt_schema_table;

/* Writes a new store's identity (application id, version) and creates every table, in the
 * caller's transaction. The caller then writes the meta row 'format' (RT_SCHEMA_FORMAT) and the
 * run's configuration. Returns 0 or an RT_E* code (the handle's message says why). */
int rt_schema_create(rt_db *db);

/* Checks that the connection's file is a ratchet store of the format this ratchet reads: its
 * application id, its version (2 to 6; format 1, before the lineage chain, is refused with a
 * line that says so) and its format row. Writes nothing. Returns 0; RT_ESTORE with a line naming what the
 * file is instead; or the failure of the first read, whose SQLite code is left in *first_rc so
 * that the connection can choose WAL recovery or the immutable fallback (SQLITE_OK otherwise). */
int rt_schema_check(rt_db *db, int *first_rc);

/* Sets db->compact: 1 when the candidates table is format 4's (no prev column), 0 for the table
 * of formats 2 and 3, kept by their stores. A read; returns 0 or an error. */
int rt_schema_layout(rt_db *db);

/* A writer's migration of an older store: formats 2 and 3 become 4 (rows and tables stay as
 * they are), and
 * the tables made since it was written (evaluations) are created. Writes only what is missing. */
int rt_schema_migrate(rt_db *db);

/* Creates table t unless the store has it (CREATE TABLE IF NOT EXISTS). */
int rt_schema_ensure(rt_db *db, rt_schema_table t);

/* 1 when the store has table t, else 0 (a read, which writes nothing). */
int rt_schema_has(rt_db *db, rt_schema_table t);

#endif
