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

#define RT_STORE_FORMAT "ratchet-store 1"

/* What a run is: written once at creation. */
typedef struct rt_run_config {
    char problem[64];
    char params[256];
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
} rt_cand_row;

/* The engine's state at a checkpoint. */
typedef struct rt_checkpoint {
    long long generation;
    long long evaluations;
    long long duplicates;
    long long failed;     /* proposals an operator could not make */
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
/* Opens an existing store for writing (a run). Fails with RT_ESTORE on a file that is not a
 * ratchet store, RT_EBUSY if another process has it open for writing, RT_EIO if unreadable. */
int rt_db_open(rt_db **out, const char *path, int writable, char *err, size_t errlen);
void rt_db_close(rt_db *db);
const char *rt_db_errmsg(const rt_db *db);

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

/* Inserts a candidate; *id receives its row id. */
int rt_db_insert(rt_db *db, const rt_cand_row *row, long long *id);
int rt_db_event(rt_db *db, double time, const char *kind, const char *detail);

/* Replaces the checkpoint and the archive snapshot. */
int rt_db_save_checkpoint(rt_db *db, const rt_checkpoint *cp, const rt_archive_row *rows,
                          size_t nrows);
/* Loads them; *rows is caller-owned. RT_ESTORE if the store has none. */
int rt_db_load_checkpoint(rt_db *db, rt_checkpoint *cp, rt_archive_row **rows, size_t *nrows);

/* Text, hash and verified score of a candidate by id (*text caller-owned). */
int rt_db_candidate(rt_db *db, long long id, char **text, size_t *len, char hash[65],
                    rt_score *verified);

/* Calls fn for every stored hash (for the engine's duplicate filter). */
int rt_db_each_hash(rt_db *db, void (*fn)(const char *hash, void *user), void *user);

/* The best admitted candidate by verified score: id, or 0 when there is none. */
int rt_db_best(rt_db *db, long long *id);

/* Fills the public summary. */
int rt_db_summary(rt_db *db, rt_summary *out);

/* Integrity check, hash check and re-verification of every admitted row with problem. */
int rt_db_check(rt_db *db, const rt_problem *problem, long long *checked);

#endif
