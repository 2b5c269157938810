/* bp_sim.h — the search's fast simulation of online bin packing under a compiled priority
 * function, and plain C baselines (best fit, first fit) for speed and quality comparisons.
 *
 * The rule (docs/coevolution.md): items arrive in order; the priority function is evaluated for
 * every open bin the item fits in and for a fresh bin (e = 1, r = capacity); the item goes to
 * the highest priority, ties to the bin opened first (the fresh bin is last), a NaN priority
 * counting as -infinity. Since the inputs depend on a bin only through its remaining capacity,
 * the fast path keeps the open bins in buckets by remaining capacity (a min-heap of bin numbers
 * per bucket, for the tie rule) and evaluates the function once per non-empty bucket: at most
 * capacity evaluations per item however many bins are open. The verifier (bp_check.c) simulates
 * the rule naively, bin by bin, and must reach the same count.
 *
 * Not thread-safe per bp_sim; use one per thread.
 */
#ifndef BP_SIM_H
#define BP_SIM_H

#include "problems/binpack/bp_expr.h"
#include "problems/binpack/bp_inst.h"

typedef struct bp_sim bp_sim;

bp_sim *bp_sim_new(void);
void bp_sim_free(bp_sim *sim);

/* Bins used by the priority function on the instance, or -1 out of memory. *evals (if not
 * NULL) grows by the number of priority evaluations. */
long long bp_sim_run(bp_sim *sim, const bp_prog *prog, const bp_instance *in,
                     long long *evals);
/* The same count by scanning every open bin for every item (no buckets); for the speed table. */
long long bp_sim_run_scan(bp_sim *sim, const bp_prog *prog, const bp_instance *in,
                          long long *evals);

/* Plain C baselines, scanning every open bin: best fit (the fullest bin the item fits) and first
 * fit. Bins used, or -1 out of memory. */
long long bp_best_fit(const bp_instance *in);
long long bp_first_fit(const bp_instance *in);

#endif
