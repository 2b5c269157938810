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

/* ---- for the checks from outside a run (src/audit/) --------------------------------------- */

/* SQLite's integrity check: *result receives "ok" or the first problem found (cut to len - 1
 * bytes; SQLite's message when the check stops). Fails only when the check cannot start. */
int rt_db_integrity(rt_db *db, char *result, size_t len);

/* One candidate row as read back, for the audit: the row's columns in rt_cand_row (hash, text,
 * parent, op and reason NULL where the column is NULL; a real stored as NULL, which is how the
 * writer stores NaN and the scores of an invalid row, reads as NaN; no metrics or artifacts),
 * its id and its chain links. Valid only during the callback. */
typedef struct rt_db_row {
    long long id;
    rt_cand_row row;
    const char *prev; /* the link of the row before it, NULL for the first */
    const char *link; /* NULL where the store keeps none (implicit_prev) */
    int implicit_prev; /* format 4's table: no prev column (prev is NULL); a row's prev is by
                          definition the link of the row before it, and links are stored at
                          some rows only (the last of each commit, at least every
                          RT_SCHEMA_LINK_EVERY rows): a reader recomputes them (audit.c) */
} rt_db_row;

/* Calls fn for every candidate row in id order; a nonzero return from fn stops the walk and is
 * returned. */
int rt_db_each_row(rt_db *db, int (*fn)(const rt_db_row *r, void *user), void *user);

/* The checkpoint's account of the chain: *found is 0 when the store has no checkpoint, else
 * *rows and head are the number of rows and the last link it recorded (cut to len - 1 bytes). */
int rt_db_chain_account(rt_db *db, int *found, long long *rows, char *head, size_t len);

/* Calls fn with the candidate id of every archive entry that names no admitted row. */
int rt_db_each_stray(rt_db *db, void (*fn)(long long cand_id, void *user), void *user);

/* What the rows claimed against what was verified, for drift (audit/drift.c). A row overclaims
 * when it failed verification or verified below its proxy score (proxy, then proxy2 on a tie)
 * by more than the problem's tolerance tol (relative: tol * max(1, |verified|); 0 for exact
 * problems); its gap is proxy - score when it overclaims by its primary score. A valid row that
 * overclaims only on the tie-break (proxy2 above score2) has no gap. */
typedef struct rt_db_claims {
    long long rows;             /* candidates stored */
    long long invalid;          /* of them, failed verification */
    long long overclaims;
    long long gapped;           /* of them, valid and below the proxy by the primary score */
    long long last_generation;  /* 0 when none */
    long long proxy_rejected;   /* the checkpoint's count of children the proxy rejected */
    long long trust_sessions;   /* sessions run with --trust-proxy (their events) */
    long long trusted_admitted; /* admitted on the proxy alone */
    long long invalid_admitted; /* admitted although verification failed */
    double mean_gap, max_gap;   /* over the rows with a gap; 0 when none */
} rt_db_claims;

int rt_db_claims_total(rt_db *db, double tol, rt_db_claims *out);

/* The same for the rows of one generation. */
typedef struct rt_db_generation {
    long long generation, rows, invalid, overclaims, gapped;
    double gap_sum, max_gap; /* over the gapped rows; 0 when none */
} rt_db_generation;

/* Calls fn for every generation that has rows. */
int rt_db_each_generation(rt_db *db, double tol,
                          void (*fn)(const rt_db_generation *g, void *user), void *user);

/* The best admitted row by the score it was admitted with (its proxy score when admitted on the
 * proxy alone, else its verified score): *found is 0 when no row was admitted, else hash, its
 * proxy score and its verdict. */
int rt_db_claimed_best(rt_db *db, int *found, char hash[65], double *proxy, int *valid);

#endif
