/* ledger.h — the store read as a research ledger (src/research/): every candidate row in id
 * order with what its evaluation left. Read-only, like store/query.h. */
#ifndef RT_STORE_LEDGER_H
#define RT_STORE_LEDGER_H

#include "store/store.h"

/* One candidate row with its evaluation's metrics and artifacts (JSON texts, NULL when the row
 * has none). Valid only during the callback. */
typedef struct rt_db_experiment {
    long long id;
    double time;
    const char *hash, *parent, *op; /* parent NULL for the seed */
    const char *text;
    size_t len;
    int valid, admitted, trusted;
    double score;  /* verified primary score (NaN when invalid) */
    const char *reason;
    const char *metrics, *artifacts;
} rt_db_experiment;

/* Calls fn for every candidate row in id order; a nonzero return from fn stops the walk and is
 * returned. 0, or an RT_E* code with the handle's message saying why. */
int rt_db_each_experiment(rt_db *db, int (*fn)(const rt_db_experiment *e, void *user),
                          void *user);

#endif
