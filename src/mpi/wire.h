/* wire.h — what travels between rank 0 and an MPI worker (docs/scaling.md): a job (the island's
 * self-contained proposal inputs) and its reply (the child's canonical text and the worker's
 * claim). Both are JSON objects; doubles travel as C99 hex floats ("%a"), so a score or a
 * generator comes back bit for bit. The decoders take arbitrary bytes (a reply is a remote
 * process's word: tests/fuzz/fuzz_wire.c) and fail with one line naming the bad field. */
#ifndef RT_MPI_WIRE_H
#define RT_MPI_WIRE_H

#include <stddef.h>

#include "problem.h"
#include "rng.h"
#include "util.h"

#define RT_WIRE_MAX_VIEWS 9 /* the parent and up to 8 inspirations (engine.c's MAX_INSPIRATIONS) */

typedef struct rt_wire_view {
    char *text; /* canonical text, NUL-terminated */
    size_t len;
    char hash[65];
    rt_score score;
    char *metrics, *artifacts; /* or NULL */
} rt_wire_view;

typedef struct rt_wire_job {
    int island;
    long long generation;
    int op_index;
    rt_rng rng;
    size_t nviews; /* >= 1: the parent first */
    rt_wire_view views[RT_WIRE_MAX_VIEWS];
} rt_wire_job;

typedef struct rt_wire_reply {
    int rc;           /* the proposer's return (negative: it failed) */
    int cut;          /* the worker was told to stop before the job was complete */
    char *child;      /* canonical text, NUL-terminated; NULL: no child */
    size_t len;
    char op[64];
    long long work;
    rt_rng rng;       /* the island's generator after the proposal */
    char reason[256], detail[256]; /* no child: why */
    int evaluated, failed;
    rt_score score;   /* the claim: the proxy score of the child's evaluation */
    char ev_reason[400], ev_detail[400];
    char *metrics, *artifacts;
} rt_wire_reply;

/* 0; RT_EUSAGE when a view's text is not UTF-8 (a JSON string cannot hold it); RT_ENOMEM. */
int rt_wire_job_encode(const rt_wire_job *job, rt_buf *out);
/* 0, or RT_EUSAGE naming the bad field (out is then empty), or RT_ENOMEM. */
int rt_wire_job_decode(const char *text, size_t len, rt_wire_job *out, char *err,
                       size_t errlen);
void rt_wire_job_free(rt_wire_job *job);

/* 0; RT_EUSAGE when the child is not UTF-8 text (a JSON string cannot hold it); RT_ENOMEM. */
int rt_wire_reply_encode(const rt_wire_reply *reply, rt_buf *out);
int rt_wire_reply_decode(const char *text, size_t len, rt_wire_reply *out, char *err,
                         size_t errlen);
void rt_wire_reply_free(rt_wire_reply *reply);

#endif
