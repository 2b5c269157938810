/* browse.h — the reads behind `list`, `show`, `lineage`, `watch` and the HTML report
 * (browse.c): candidate rows without their text, one row by id or hash, the llm requests in
 * time order. Like query.h it writes nothing. Candidate text is read only through query.h
 * (rt_db_candidate), so how the text column is stored stays query.c's business.
 * Each returns 0 or an RT_E* code with the handle's message saying why. */
#ifndef RT_STORE_BROWSE_H
#define RT_STORE_BROWSE_H

#include "ratchet.h"
#include "store/store.h"

/* Calls fn for every row that passes the filter (NULL: every row), in id order, or best first
 * when filter->top is set; a nonzero return from fn stops the walk and is returned. The row's
 * reason is valid only during the callback. */
int rt_db_each_candidate(rt_db *db, const rt_cand_filter *filter,
                         int (*fn)(const rt_candidate *c, void *user), void *user);

/* The row with this id (*found 0 when there is none); out->reason is cut to its buffer. */
int rt_db_candidate_info(rt_db *db, long long id, int *found, rt_candidate *out);

/* The id of the row with this hash, 0 when there is none. */
int rt_db_id_of_hash(rt_db *db, const char *hash, long long *id);

/* One request of the llm proposer, for the report's spend and model curves. */
typedef struct rt_db_llm_point {
    double at;             /* seconds since the run began */
    const char *model;     /* valid during the callback */
    long long tokens_in, tokens_out;
    double cost;
    int made, improved, admitted;
} rt_db_llm_point;

/* Calls fn for every stored request in time order (nothing for a run without the table). */
int rt_db_each_llm_point(rt_db *db, void (*fn)(const rt_db_llm_point *p, void *user),
                         void *user);

#endif
