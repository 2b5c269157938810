/* matmul_walk.h — the fast flip-graph walker: a scheme held together with an index from each
 * factor value to the products holding it, so that a flip partner is drawn in O(1) and
 * reductions are found as the walk makes them possible.
 *
 * Index: for each position (A, B, C) an open-addressing hash table maps a factor value, up to
 * sign over Z, to a *bucket*: the list of products holding that value at that position. Buckets
 * with two or more members are "hot"; a flip draws a hot bucket uniformly, then two distinct
 * members uniformly. Every change of a factor moves the product between buckets (O(1) expected).
 *
 * Reductions: a flip changes one factor of each of two products. A product whose factor became
 * zero is removed; a product whose new factor equals (up to sign) that of another product which
 * also agrees with it at a second position merges with it (the pair can only be in the new
 * factor's bucket, which is scanned). Merges repeat while they change the product. So the
 * walker's scheme never holds a zero factor or a mergeable pair that a walk could have created.
 *
 * Moves and their algebra are matmul_search.h's (flip, reduction, plus); the walker is a faster
 * implementation of the same random walk, not a different search. Nothing here is trusted: the
 * gate verifies every scheme from its text.
 *
 * Ownership: mm_walker owns all its arrays; mm_walker_free releases them. One walker is used by
 * one thread at a time.
 */
#ifndef RT_MATMUL_WALK_H
#define RT_MATMUL_WALK_H

#include "problems/matmul/matmul_search.h"

typedef struct mm_walker mm_walker;

/* Creates a walker holding a copy of s, with room for s->rank + extra products (plus
 * transitions add one each). Returns 0, RT_ENOMEM, or RT_EUSAGE if the rank exceeds
 * MM_MAX_RANK. */
int mm_walker_new(mm_walker **out, const mm_scheme *s, int extra);
void mm_walker_free(mm_walker *w);

/* Replaces the walker's scheme by s (same shape and field; rank <= the walker's room).
 * Applies the reductions s allows. Returns 0 or RT_EUSAGE (too many products). */
int mm_walker_load(mm_walker *w, const mm_scheme *s);

/* Copies the walker's scheme into out (an initialised scheme of any capacity). 0/RT_ENOMEM. */
int mm_walker_store(const mm_walker *w, mm_scheme *out);

int mm_walker_rank(const mm_walker *w);

/* Makes up to `flips` flips, stopping early when the rank falls below stop_below (pass 0 never
 * to stop for that) or when no two products share a factor (the scheme is isolated: returns
 * then). Accumulates into stats (may be NULL). Returns the flips made. */
long long mm_walker_run(mm_walker *w, rt_rng *rng, long long flips, int stop_below,
                        mm_walk_stats *stats);

/* One plus transition on a random pair of products sharing no factor, then reductions.
 * Returns 0, or -1 when none applies (rank < 2, no room, or every try left {-1,0,1}). */
int mm_walker_plus(mm_walker *w, rt_rng *rng);

/* Debug check of every index invariant; returns 0 when consistent, else a positive code. */
int mm_walker_check(const mm_walker *w);

#endif
