/* store.h — one SQLite file per run: configuration, every candidate, events, and checkpoints of
 * the engine's state (WAL, synchronous=FULL).
 *
 * Consistency: the engine keeps one transaction open between checkpoints; candidate rows and the
 * checkpoint that accounts for them commit together. A kill at any moment leaves the last
 * committed checkpoint and every row it accounts for; a resume starts from there.
 *
 * Never carry an rt_db across fork(): open it again in the child.
 *
 * Ownership: strings handed in are copied by SQLite; strings handed out through `char **` are
 * the caller's (free()).
 */
#ifndef RT_STORE_H
#define RT_STORE_H

#include <stdint.h>

#include "problem.h"

typedef struct rt_db rt_db;

/* What a run is: written once at creation. */
typedef struct rt_run_config {
    char problem[64];
    char params[2048]; /* long enough for a program run's paths and command */
    uint64_t seed;
    int islands;
    char proposer[32];
} rt_run_config;

/* One candidate row. */
typedef struct rt_cand_row {
    const char *hash;     /* 64 hex digits of the text's SHA-256 */
    const char *text;
    size_t len;
    const char *parent;   /* parent's hash, or NULL for a seed */
    const char *op;       /* operator that made it, or "seed" */
    int island;
    long long generation;
    rt_score proxy;       /* what the search claimed */
    int valid;            /* the gate's verdict */
    rt_score verified;    /* valid only */
    double metric;        /* verified metric, valid only */
    const char *reason;   /* why it failed, invalid only */
    int admitted;         /* entered the archive */
    double time;          /* seconds since the run began (all sessions) */
    int trusted;          /* admitted on the proxy alone (--trust-proxy), not on the verdict */
    const char *metrics;  /* JSON text of an external evaluation's metrics, or NULL */
    const char *artifacts; /* JSON text of its artifacts (stderr tail, ...), or NULL */
} rt_cand_row;

/* The engine's state at a checkpoint. */
typedef struct rt_checkpoint {
    long long generation;
    long long evaluations;
    long long duplicates;
    long long failed;     /* proposals an operator could not make */
    long long proxy_rejected; /* children the proxy itself rejected (never verified or stored) */
    double elapsed;
    int sessions;
    int nislands;
    char rng[64][65];     /* per island generator state, hex */
} rt_checkpoint;

typedef struct rt_archive_row {
    int island;
    long long cand_id;
    int migrated;
} rt_archive_row;

/* Creates a new store under a temporary name (PATH.tmp-PID) with its configuration; the caller
 * writes the first checkpoint and then calls rt_db_publish, so that a store only ever appears at
 * PATH complete. Closing an unpublished store removes the temporary. Stale temporaries of killed
 * runs are removed. RT_EUSAGE if path exists. */
int rt_db_create(rt_db **out, const char *path, const rt_run_config *cfg, char *err, size_t errlen);
/* Moves a created store to its path (never replacing a file there) and reopens it for the run
 * (WAL, exclusive lock). On failure *db is closed and NULL. */
int rt_db_publish(rt_db **db, char *err, size_t errlen);
/* Opens an existing store for writing (a run), or for reading when writable is 0. Fails with
 * RT_ESTORE on a file that is not a ratchet store (or of another format), RT_EBUSY if another
 * process has it open for writing, RT_EIO if unreadable. A reader writes nothing (no migration,
 * no journaling pragma); in a folder it cannot write, where SQLite cannot create the -shm, it
 * reads the store file alone as immutable when no -wal or -journal beside it holds anything,
 * and fails with RT_EIO naming the -wal otherwise. */
int rt_db_open(rt_db **out, const char *path, int writable, char *err, size_t errlen);
void rt_db_close(rt_db *db);
/* The handle's last error message; its path as given. */
const char *rt_db_errmsg(const rt_db *db);
const char *rt_db_path(const rt_db *db);
/* Sets the handle's error message; returns code. */
int rt_db_fail(rt_db *db, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int rt_db_config(rt_db *db, rt_run_config *cfg);

/* Other keys of the run's configuration table: "policy" (the run's policy as canonical JSON,
 * written once at creation) and "bandit" (the operator bandit's state, rewritten at each
 * checkpoint). Put replaces; get sets *value to a caller-owned copy, or NULL when the key is
 * absent (stores made before the key existed). */
int rt_db_put_meta(rt_db *db, const char *key, const char *value);
int rt_db_get_meta(rt_db *db, const char *key, char **value);

int rt_db_begin(rt_db *db);
int rt_db_commit(rt_db *db);
int rt_db_rollback(rt_db *db);

/* Inserts a candidate; *id receives its row id. The row is appended to the lineage chain: it
 * carries the previous row's link (prev) and its own (rt_db_link), so that any later edit,
 * deletion or reordering of rows is detected by rt_db_audit. */
int rt_db_insert(rt_db *db, const rt_cand_row *row, long long *id);
int rt_db_event(rt_db *db, double time, const char *kind, const char *detail);

/* Replaces the checkpoint and the archive snapshot. The checkpoint also records the number of
 * rows and the chain's head link, so that rows cut from the end of the store are detected. */
int rt_db_save_checkpoint(rt_db *db, const rt_checkpoint *cp, const rt_archive_row *rows,
                          size_t nrows);
/* Loads them; *rows is caller-owned. RT_ESTORE if the store has none. */
int rt_db_load_checkpoint(rt_db *db, rt_checkpoint *cp, rt_archive_row **rows, size_t *nrows);

/* Text, hash and verified score of a candidate by id (*text caller-owned). */
int rt_db_candidate(rt_db *db, long long id, char **text, size_t *len, char hash[65],
                    rt_score *verified);

/* Calls fn for every stored candidate's text (for duplicate keys coarser than the hash). */
int rt_db_each_text(rt_db *db, void (*fn)(const char *text, size_t len, void *user), void *user);

/* Metrics and artifacts stored for a candidate (JSON texts, caller-owned; NULL when none). */
int rt_db_evaluation(rt_db *db, long long id, char **metrics, char **artifacts);

/* Calls fn for every stored hash (for the engine's duplicate filter). */
int rt_db_each_hash(rt_db *db, void (*fn)(const char *hash, void *user), void *user);

/* The best admitted candidate by verified score: id, or 0 when there is none. */
int rt_db_best(rt_db *db, long long *id);

/* One request of the llm proposer (table llm_requests, created on first use). */
typedef struct rt_llm_row {
    double at;              /* Unix time the request was sent */
    int island;
    long long generation;
    const char *model;
    const char *mode;       /* "diff" or "full" */
    long long tokens_in, tokens_out;
    double cost;            /* in the user's money unit, from the configured prices */
    double latency;         /* seconds, retries and waits included */
    int attempts, retries, http_status;
    const char *outcome;    /* rt_llm_outcome_name() */
    const char *error;      /* one line, or NULL */
    const char *parent;     /* parent's hash */
    int made, duplicate, valid, admitted, improved;
    double parent_score, child_score;
} rt_llm_row;

int rt_db_llm_insert(rt_db *db, const rt_llm_row *row);

/* Fills the public summary. */
int rt_db_summary(rt_db *db, rt_summary *out);

/* Integrity check, hash check and re-verification of every admitted row with problem. */
int rt_db_check(rt_db *db, const rt_problem *problem, long long *checked);

/* ---- the lineage chain (chain.c) ---------------------------------------------------------
 * Every candidate row, in id order, carries `prev` (the link of the row before it, NULL for the
 * first) and `link` = SHA-256 of a canonical serialization of prev and the row's fields: its
 * text's hash, its parent's hash, operator, island, generation, proxy and verified scores,
 * verdict, admission, trust and time (see docs/verification.md for the exact bytes). */
#define RT_CHAIN_TAG "ratchet-chain 2"

/* Computes a row's link (64 hex digits) from prev (NULL for the first row) and the row.
 * Returns 0 or RT_ENOMEM. */
int rt_db_link(const char *prev, const rt_cand_row *row, char link[65]);

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
