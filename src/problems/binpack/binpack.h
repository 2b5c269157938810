/* binpack.h — what the binpack problem shares with its commands and the co-evolution
 * (docs/coevolution.md). */
#ifndef BP_BINPACK_H
#define BP_BINPACK_H

#include "problems/binpack/bp_expr.h"
#include "problems/binpack/bp_inst.h"
#include "problems/binpack/bp_poser.h"

/* A genome of the problem: a solver's expression, or (posers=1) a poser's spec. */
typedef struct bp_genome {
    int poser;
    bp_expr expr;
    bp_spec spec;
} bp_genome;

/* Every poser's score is this plus best fit's gap (percent) over its reference packing. */
#define BP_POSER_SCORE_BASE (-1000.0)

double bp_poser_score(const bp_poser_facts *f);
/* The training set of a binpack problem (owned by it). */
struct rt_problem;
const bp_set *bp_problem_training(const struct rt_problem *problem);

/* 1 when text's first word is "poser". */
int bp_text_is_poser(const char *text, size_t len);

/* 100 * (bins - l1) / l1 (0 when l1 is 0). */
double bp_excess_percent(long long bins, long long l1);

/* The proxy's count: bins and L1 summed over the set under the compiled expression; *evals (if
 * not NULL) grows by the priority evaluations. 0 or RT_ENOMEM. */
int bp_score_set(const bp_expr *e, const bp_set *set, long long *bins, long long *l1,
                 long long *evals);

/* The baselines by name: "bestfit" is (neg f), "firstfit" is 0 (every tie goes to the earliest
 * bin). NULL for other names. */
const char *bp_named_solver(const char *name);

#endif
