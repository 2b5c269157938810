/* llm_requests.h — the llm proposer's table (llm_requests.c): one row per request to a
 * language model, written by the proposer as it goes (in the run's open transaction, so rows
 * commit with the checkpoint) and summed per model by `ratchet llm` (rt_store_llm_spend). The
 * table is created when the first request is stored, so a store without it reads as "no
 * requests". */
#ifndef RT_STORE_LLM_REQUESTS_H
#define RT_STORE_LLM_REQUESTS_H

#include "store/store.h"

/* One request of the llm proposer. */
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

/* Stores one request (a writer's handle). Returns 0 or an RT_E* code. */
int rt_db_llm_insert(rt_db *db, const rt_llm_row *row);

/* Sums the requests per model into the public rt_llm_spend (zero when the store has none). */
int rt_db_llm_spend(rt_db *db, rt_llm_spend *out);

#endif
