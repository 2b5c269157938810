/* proposer.h — what makes children: the interface every proposer implements.
 *
 * A proposer turns a parent genome into a child genome. `builtin` applies the problem's own
 * operators; later proposers (a language model, an external command) implement the same table.
 * Adding a proposer is one file in src/proposers/ plus one line in the registry in proposer.c.
 *
 * propose() is called from worker threads, one call per island at a time: it may read its state
 * but must not change it without its own locking.
 *
 * Ownership: the parent is borrowed and not modified; the child belongs to the caller.
 */
#ifndef RT_PROPOSER_H
#define RT_PROPOSER_H

#include "problem.h"

typedef struct rt_proposal {
    int op_index;       /* in: the operator the engine's bandit chose (index into the
                         * problem's operators); a proposer that makes children another way
                         * may ignore it */
    void *child;        /* NULL when the proposer could not make one */
    const char *op;     /* name of what made it (static string) */
    long long work;     /* problem-specific units of work done (matmul: flips) */
} rt_proposal;

typedef struct rt_proposer_class {
    const char *name;
    int (*create)(void **state, const rt_problem *problem, char *err, size_t errlen);
    void (*destroy)(void *state);
    /* Makes a child of parent; returns 0 (out->child may still be NULL if nothing applied) or a
     * negative code on a failure that should stop the run. */
    int (*propose)(void *state, const rt_problem *problem, const void *parent, rt_rng *rng,
                   rt_proposal *out);
} rt_proposer_class;

const rt_proposer_class *rt_proposer_find(const char *name);

extern const rt_proposer_class rt_proposer_builtin;

#endif
