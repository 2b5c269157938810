/* bp_check.h — the binpack verifier: a code path of its own, sharing nothing with the search's
 * parser, compiler, evaluator or simulation (bp_expr.c, bp_sim.c).
 *
 * It re-parses the stored text into a tree, simulates the packing rule naively (every open bin
 * scored for every item), writes down which bin each item went to, and checks the packing from
 * those lists alone: every item in exactly one bin, no bin empty, no bin over capacity, sums
 * recounted in 64-bit integers. The bin count it reports is the number of bins in the checked
 * packing.
 */
#ifndef BP_CHECK_H
#define BP_CHECK_H

#include <stddef.h>

#include "problems/binpack/bp_inst.h"

typedef struct bp_ctree bp_ctree;

/* Parses a priority expression. 0, or RT_EUSAGE / RT_ETOOBIG (err says where) / RT_ENOMEM.
 * *out is caller-owned (bp_ctree_free). */
int bp_ctree_parse(const char *text, size_t len, bp_ctree **out, char *err, size_t errlen);
void bp_ctree_free(bp_ctree *t);
/* Node count. */
int bp_ctree_size(const bp_ctree *t);

/* A checked packing: bins as lists of item indices (bin b holds items[start[b] .. start[b+1])). */
typedef struct bp_packing {
    long long nbins;
    long long *start; /* nbins + 1 */
    int *items;       /* n */
} bp_packing;

void bp_packing_free(bp_packing *p);

/* Packs the instance under the expression and checks the packing. 0 (out filled, caller frees
 * with bp_packing_free), RT_EINVALID when the packing fails a check (why says which; a bug in
 * this file, since the simulation cannot produce one), RT_ENOMEM. */
int bp_check_pack(const bp_ctree *t, const bp_instance *in, bp_packing *out, char *why,
                  size_t whylen);

/* Checks a packing of in: every item index once, no empty bin, no bin over capacity.
 * 0 or RT_EINVALID with why. */
int bp_check_packing(const bp_instance *in, const bp_packing *p, char *why, size_t whylen);

/* Verifies text on every instance of set: sums the checked bin counts and the L1 bounds.
 * 0, RT_EUSAGE (malformed text), RT_EINVALID (a packing failed; why), RT_ENOMEM. */
int bp_check_set(const char *text, size_t len, const bp_set *set, long long *bins,
                 long long *l1, char *err, size_t errlen);

#endif
