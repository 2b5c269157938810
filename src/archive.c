/* archive.c — islands of MAP-Elites grids. Grids are sparse: a small array of occupied cells
 * searched linearly (a few hundred cells at most per island), paid once per candidate. */
#include "archive.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rt_archive_init(rt_archive *a, const rt_problem *problem, int nislands)
{
    a->problem = problem;
    a->nislands = nislands;
    a->islands = calloc((size_t)nislands, sizeof *a->islands);
    if (!a->islands)
        return RT_ENOMEM;
    for (int i = 0; i < nislands; i++)
        a->islands[i].best = -1;
    return 0;
}

void rt_archive_free(rt_archive *a)
{
    if (!a->islands)
        return;
    for (int i = 0; i < a->nislands; i++) {
        rt_island *is = &a->islands[i];
        for (int c = 0; c < is->ncells; c++)
            rt_problem_free_genome(a->problem, is->cells[c].genome);
        free(is->cells);
    }
    free(a->islands);
    a->islands = NULL;
}

static int find_cell(const rt_island *is, const int *coords)
{
    for (int c = 0; c < is->ncells; c++)
        if (memcmp(is->cells[c].coords, coords, sizeof is->cells[c].coords) == 0)
            return c;
    return -1;
}

const rt_elite *rt_archive_cell(const rt_archive *a, int island, const int *coords)
{
    assert(island >= 0 && island < a->nislands);
    const rt_island *is = &a->islands[island];
    int c = find_cell(is, coords);
    return c >= 0 ? &is->cells[c] : NULL;
}

static int holds_hash(const rt_island *is, const char *hash)
{
    for (int c = 0; c < is->ncells; c++)
        if (strcmp(is->cells[c].hash, hash) == 0)
            return 1;
    return 0;
}

static void update_best(rt_island *is, int c)
{
    if (is->best < 0 || rt_score_cmp(is->cells[c].score, is->cells[is->best].score) > 0)
        is->best = c;
}

int rt_archive_offer(rt_archive *a, int island, void *genome, rt_score score,
                     const int *coords, const char *hash, long long cand_id, rt_elite **slot)
{
    assert(island >= 0 && island < a->nislands && genome);
    rt_island *is = &a->islands[island];
    if (holds_hash(is, hash))
        return 0;
    int c = find_cell(is, coords);
    if (c >= 0) {
        if (rt_score_cmp(score, is->cells[c].score) < 0)
            return 0;
        rt_problem_free_genome(a->problem, is->cells[c].genome);
    } else {
        if (is->ncells == is->cap) {
            int cap = is->cap ? 2 * is->cap : 16;
            rt_elite *nc = realloc(is->cells, (size_t)cap * sizeof *nc);
            if (!nc)
                return RT_ENOMEM;
            is->cells = nc;
            is->cap = cap;
        }
        c = is->ncells++;
    }
    rt_elite *e = &is->cells[c];
    memcpy(e->coords, coords, sizeof e->coords);
    e->score = score;
    e->genome = genome;
    snprintf(e->hash, sizeof e->hash, "%s", hash);
    e->cand_id = cand_id;
    e->migrated = 0;
    update_best(is, c); /* a replaced best cell was replaced by an equal or better elite */
    if (slot)
        *slot = e;
    return 1;
}

const rt_elite *rt_archive_select(const rt_archive *a, int island, rt_rng *rng, double p_best)
{
    assert(island >= 0 && island < a->nislands);
    const rt_island *is = &a->islands[island];
    if (is->ncells == 0)
        return NULL;
    assert(is->best >= 0 && is->best < is->ncells);
    if (rt_rng_unit(rng) < p_best)
        return &is->cells[is->best];
    return &is->cells[rt_rng_below(rng, (uint32_t)is->ncells)];
}

int rt_archive_migrate(rt_archive *a)
{
    if (a->nislands < 2)
        return 0;
    /* pick every source first, so an elite that arrives this round is not forwarded at once */
    int moved = 0;
    int *src = malloc((size_t)a->nislands * sizeof *src);
    if (!src)
        return RT_ENOMEM;
    for (int i = 0; i < a->nislands; i++) {
        const rt_island *is = &a->islands[i];
        src[i] = (is->best >= 0 && !is->cells[is->best].migrated) ? is->best : -1;
    }
    for (int i = 0; i < a->nislands; i++) {
        if (src[i] < 0)
            continue;
        rt_elite *e = &a->islands[i].cells[src[i]];
        e->migrated = 1;
        int to = (i + 1) % a->nislands;
        void *copy = rt_problem_clone(a->problem, e->genome);
        if (!copy) {
            free(src);
            return RT_ENOMEM;
        }
        rt_elite *arrived = NULL;
        int rc = rt_archive_offer(a, to, copy, e->score, e->coords, e->hash, e->cand_id,
                                  &arrived);
        if (rc != 1)
            rt_problem_free_genome(a->problem, copy);
        if (rc < 0) {
            free(src);
            return rc;
        }
        if (rc == 1) {
            arrived->migrated = 1; /* an elite that arrived by migration is not sent on again */
            moved++;
        }
    }
    free(src);
    return moved;
}

const rt_elite *rt_archive_best(const rt_archive *a)
{
    const rt_elite *best = NULL;
    for (int i = 0; i < a->nislands; i++) {
        const rt_island *is = &a->islands[i];
        if (is->best >= 0 && (!best || rt_score_cmp(is->cells[is->best].score, best->score) > 0))
            best = &is->cells[is->best];
    }
    return best;
}
