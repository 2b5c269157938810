/* query.h — every read of a store (query.c): what a run reads back when it resumes, and the
 * questions readers from outside a run ask (the public view, the audit, drift). Nothing here
 * writes, so every call works on a store opened for reading. Each returns 0 or an RT_E* code
 * with the handle's message saying why; results handed out through `char **` and `**rows` are
 * the caller's (free()). */
#ifndef RT_STORE_QUERY_H
#define RT_STORE_QUERY_H

#include "store/store.h"

/* The run's configuration, as rt_db_create wrote it. RT_ESTORE when a key is missing or bad. */
int rt_db_config(rt_db *db, rt_run_config *cfg);
/* Another key of the configuration table ("policy", "bandit": store/write.h): *value is a
 * copy, or NULL when the key is absent (stores made before the key existed). */
int rt_db_get_meta(rt_db *db, const char *key, char **value);

/* The checkpoint and the archive snapshot (*rows caller-owned). RT_ESTORE if the store has none. */
int rt_db_load_checkpoint(rt_db *db, rt_checkpoint *cp, rt_archive_row **rows, size_t *nrows);

/* Text, hash and verified score of a candidate by id (*text caller-owned). */
int rt_db_candidate(rt_db *db, long long id, char **text, size_t *len, char hash[65],
                    rt_score *verified);
/* Metrics and artifacts stored for a candidate (JSON texts, caller-owned; NULL when none). */
int rt_db_evaluation(rt_db *db, long long id, char **metrics, char **artifacts);
/* Calls fn for every stored candidate's text (for duplicate keys coarser than the hash). */
int rt_db_each_text(rt_db *db, void (*fn)(const char *text, size_t len, void *user), void *user);
/* Calls fn for every stored hash (for the engine's duplicate filter). */
int rt_db_each_hash(rt_db *db, void (*fn)(const char *hash, void *user), void *user);

/* The best admitted candidate by verified score: id, or 0 when there is none. */
int rt_db_best(rt_db *db, long long *id);
/* Fills the public summary from the store alone (the best's metric name and summary, which
 * need the problem, are the view's: store/view.c). */
int rt_db_summary(rt_db *db, rt_summary *out);

/* Calls fn for every admitted candidate in id order (the public rt_store_admitted); a nonzero
 * return from fn stops the walk and is returned. */
int rt_db_each_admitted(rt_db *db, int (*fn)(const rt_cand_info *info, void *user), void *user);

/* Integrity check, hash check and re-verification of every admitted row with problem. */
int rt_db_check(rt_db *db, const rt_problem *problem, long long *checked);

/* ---- for modules that read the store directly (drift.c, audit.c) ----------------------- */
struct sqlite3;
struct sqlite3 *rt_db_handle(rt_db *db);
/* Maps an SQLite failure to a ratchet code and message (what: "read candidates"). */
int rt_db_sql_error(rt_db *db, int sqlite_rc, const char *what);

/* Drift statistics (drift.c): the public rt_drift for this store. */
int rt_db_drift(rt_db *db, rt_drift *out);
/* The audit (audit.c): everything rt_store_audit promises, with problem. */
int rt_db_audit(rt_db *db, const rt_problem *problem, rt_audit *out);

#endif
