/* archive.h — islands of MAP-Elites grids: where admitted candidates live during a run.
 *
 * Each island is a sparse grid keyed by the problem's feature coordinates; a cell holds one
 * elite. A candidate enters a cell that is empty, or whose elite it matches or beats (ties
 * replace: on a plateau of equal scores the search keeps moving instead of restarting from the
 * same point). An island never holds the same candidate (by hash) twice. Migration copies each
 * island's best elite, once per elite, to the next island in a ring.
 *
 * Only the gate (gate.c) calls rt_archive_offer, for the candidates it admits; migration, inside
 * this module, copies elites that are already in.
 *
 * Ownership: an offered genome passes to the archive when rt_archive_offer returns 1, and stays
 * the caller's otherwise. Elites returned by the select/best functions are borrowed.
 */
#ifndef RT_ARCHIVE_H
#define RT_ARCHIVE_H

#include "problem.h"

typedef struct rt_elite {
    int coords[RT_MAX_FEATURES];
    rt_score score;   /* verified */
    void *genome;
    char hash[65];
    long long cand_id; /* row in the store */
    int migrated;     /* already sent to the next island */
} rt_elite;

typedef struct rt_island {
    rt_elite *cells;
    int ncells, cap;
    int best; /* index of the best elite, -1 when empty */
} rt_island;

typedef struct rt_archive {
    const rt_problem *problem;
    int nislands;
    rt_island *islands;
} rt_archive;

int rt_archive_init(rt_archive *a, const rt_problem *problem, int nislands);
void rt_archive_free(rt_archive *a);

/* Offers a verified candidate to an island. Returns 1 if admitted (genome now owned by the
 * archive; *slot, if slot is not NULL, is its cell until the island next changes), 0 if not,
 * RT_ENOMEM. */
int rt_archive_offer(rt_archive *a, int island, void *genome, rt_score score,
                     const int *coords, const char *hash, long long cand_id, rt_elite **slot);

/* Picks a parent on an island: the island's best elite with probability p_best, otherwise an
 * elite chosen uniformly over occupied cells. NULL when the island is empty. */
const rt_elite *rt_archive_select(const rt_archive *a, int island, rt_rng *rng, double p_best);

/* Copies each island's best elite to the next island if it was not sent before. Returns the
 * number of elites that moved in, or RT_ENOMEM. */
int rt_archive_migrate(rt_archive *a);

/* The elite in the island's cell at coords, or NULL when the cell is empty. */
const rt_elite *rt_archive_cell(const rt_archive *a, int island, const int *coords);

/* The best elite over all islands (ties: the lowest island), or NULL. */
const rt_elite *rt_archive_best(const rt_archive *a);

#endif
