/* store.h — the store: one SQLite file per run holding its configuration, every candidate,
 * events, and checkpoints of the engine's state (WAL, synchronous=FULL). This header is the
 * handle (rt_db), its rows as C structures, and making, opening and closing it; a run's writes
 * are in store/write.h, every read is in store/query.h, the llm proposer's table in
 * store/llm_requests.h. Readers from outside a run (src/audit/, the public rt_store of
 * store/view.c) never include store/write.h.
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
/* Closes the store (a writer's uncommitted transaction is rolled back); NULL is a no-op. */
void rt_db_close(rt_db *db);
/* The handle's last error message; its path as given. */
const char *rt_db_errmsg(const rt_db *db);
const char *rt_db_path(const rt_db *db);
/* Sets the handle's error message; returns code. */
int rt_db_fail(rt_db *db, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
