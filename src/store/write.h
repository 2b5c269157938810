/* write.h — a run's writes to its store (write.c). Only the run (engine.c) and the llm
 * proposer (store/llm_requests.h) write; a store opened for reading must not be handed here.
 * Every call returns 0 or an RT_E* code with the handle's message saying why (a full disk or a
 * file-size limit is named as such, and leaves the store intact). */
#ifndef RT_STORE_WRITE_H
#define RT_STORE_WRITE_H

#include "store/store.h"

int rt_db_begin(rt_db *db);
int rt_db_commit(rt_db *db);
/* Rolls back an open transaction (none open: nothing to do); the chain continues from the last
 * committed row. */
int rt_db_rollback(rt_db *db);

/* Keys of the run's configuration table besides those rt_db_create writes: "policy" (the run's
 * policy as canonical JSON, written once at creation) and "bandit" (the operator bandit's
 * state, rewritten at each checkpoint). Replaces the key's value. */
int rt_db_put_meta(rt_db *db, const char *key, const char *value);

/* Inserts a candidate; *id receives its row id. The row is appended to the lineage chain: it
 * carries the previous row's link (prev) and its own (rt_chain_link), so that any later edit,
 * deletion or reordering of rows is detected by the audit. Metrics and artifacts, when given,
 * go to the evaluations table. */
int rt_db_insert(rt_db *db, const rt_cand_row *row, long long *id);
int rt_db_event(rt_db *db, double time, const char *kind, const char *detail);

/* Replaces the checkpoint and the archive snapshot. The checkpoint also records the number of
 * rows and the chain's head link, so that rows cut from the end of the store are detected. */
int rt_db_save_checkpoint(rt_db *db, const rt_checkpoint *cp, const rt_archive_row *rows,
                          size_t nrows);

/* For store.c, once a writer's connection is checked: migrates a store made before a table
 * the writer fills, reads the chain's last link and prepares the writer's statements. */
int rt_db_writer_start(rt_db *db);

#endif
