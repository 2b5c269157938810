/* bp_sim.c — fast simulation under a compiled priority function; C baselines (bp_sim.h). */
#include "problems/binpack/bp_sim.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One bucket: the open bins with one remaining capacity, as a min-heap of bin numbers. */
typedef struct bucket {
    int *heap;
    int n, alloc;
} bucket;

struct bp_sim {
    bucket *b;   /* indexed by remaining capacity, 0..nb-1 */
    int nb;
    int *rem;    /* remaining capacity per bin (scan path) */
    size_t nrem;
};

bp_sim *bp_sim_new(void) { return calloc(1, sizeof(bp_sim)); }

void bp_sim_free(bp_sim *sim)
{
    if (!sim)
        return;
    for (int i = 0; i < sim->nb; i++)
        free(sim->b[i].heap);
    free(sim->b);
    free(sim->rem);
    free(sim);
}

static int heap_push(bucket *bk, int v)
{
    if (bk->n == bk->alloc) {
        int na = bk->alloc ? 2 * bk->alloc : 8;
        int *g = realloc(bk->heap, (size_t)na * sizeof *g);
        if (!g)
            return -1;
        bk->heap = g;
        bk->alloc = na;
    }
    int i = bk->n++;
    while (i > 0 && bk->heap[(i - 1) / 2] > v) {
        bk->heap[i] = bk->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    bk->heap[i] = v;
    return 0;
}

static void heap_pop(bucket *bk)
{
    int v = bk->heap[--bk->n], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= bk->n)
            break;
        if (c + 1 < bk->n && bk->heap[c + 1] < bk->heap[c])
            c++;
        if (bk->heap[c] >= v)
            break;
        bk->heap[i] = bk->heap[c];
        i = c;
    }
    if (bk->n > 0)
        bk->heap[i] = v;
}

static int ensure_buckets(bp_sim *sim, int capacity)
{
    if (capacity > sim->nb) {
        bucket *g = realloc(sim->b, (size_t)capacity * sizeof *g);
        if (!g)
            return -1;
        memset(g + sim->nb, 0, (size_t)(capacity - sim->nb) * sizeof *g);
        sim->b = g;
        sim->nb = capacity;
    }
    for (int i = 0; i < capacity; i++)
        sim->b[i].n = 0;
    return 0;
}

static int ensure_rem(bp_sim *sim, size_t n)
{
    if (n > sim->nrem) {
        int *g = realloc(sim->rem, n * sizeof *g);
        if (!g)
            return -1;
        sim->rem = g;
        sim->nrem = n;
    }
    return 0;
}

/* Beyond this capacity the buckets cost more than a scan. */
#define BUCKET_MAX_CAPACITY 4096

long long bp_sim_run(bp_sim *sim, const bp_prog *prog, const bp_instance *in, long long *evals)
{
    const int cap = in->capacity;
    if (cap > BUCKET_MAX_CAPACITY)
        return bp_sim_run_scan(sim, prog, in, evals);
    if (ensure_buckets(sim, cap))
        return -1;
    long long nbins = 0, nev = 0, sum = 0;
    bucket *b = sim->b;
    bp_inputs x = {.c = cap};
    for (int i = 0; i < in->n; i++) {
        const int s = in->items[i];
        sum += s;
        x.s = (double)s / cap;
        x.k = (double)nbins;
        x.m = (double)sum / (i + 1) / cap;
        x.e = 0;
        double best = -INFINITY;
        long long bestidx = LLONG_MAX;
        int bestr = -1;
        for (int r = s; r < cap; r++) {
            if (b[r].n == 0)
                continue;
            x.r = (double)r / cap;
            x.f = (double)(r - s) / cap;
            double p = bp_eval(prog, &x);
            nev++;
            if (isnan(p))
                p = -INFINITY;
            if (p > best || (p == best && b[r].heap[0] < bestidx)) {
                best = p;
                bestidx = b[r].heap[0];
                bestr = r;
            }
        }
        x.r = (double)cap / cap;
        x.f = (double)(cap - s) / cap;
        x.e = 1;
        double p = bp_eval(prog, &x);
        nev++;
        if (isnan(p))
            p = -INFINITY;
        int idx, left;
        if (bestr < 0 || p > best) {
            idx = (int)nbins++;
            left = cap - s;
        } else {
            idx = (int)bestidx;
            left = bestr - s;
            heap_pop(&b[bestr]);
        }
        if (left > 0 && heap_push(&b[left], idx))
            return -1;
    }
    if (evals)
        *evals += nev;
    return nbins;
}

long long bp_sim_run_scan(bp_sim *sim, const bp_prog *prog, const bp_instance *in,
                          long long *evals)
{
    if (ensure_rem(sim, (size_t)in->n + 1))
        return -1;
    int *rem = sim->rem;
    long long nbins = 0, nev = 0, sum = 0;
    const int cap = in->capacity;
    bp_inputs x = {.c = cap};
    for (int i = 0; i < in->n; i++) {
        const int s = in->items[i];
        sum += s;
        x.s = (double)s / cap;
        x.k = (double)nbins;
        x.m = (double)sum / (i + 1) / cap;
        double best = -INFINITY;
        long long pick = -1;
        for (long long j = 0; j <= nbins; j++) {
            int r = j < nbins ? rem[j] : in->capacity;
            if (r < s)
                continue;
            x.r = (double)r / cap;
            x.f = (double)(r - s) / cap;
            x.e = j == nbins;
            double p = bp_eval(prog, &x);
            nev++;
            if (isnan(p))
                p = -INFINITY;
            if (pick < 0 || p > best) {
                best = p;
                pick = j;
            }
        }
        if (pick == nbins)
            rem[nbins++] = in->capacity;
        rem[pick] -= s;
    }
    if (evals)
        *evals += nev;
    return nbins;
}

static long long fit(const bp_instance *in, int first)
{
    int *rem = malloc(((size_t)in->n + 1) * sizeof *rem);
    if (!rem)
        return -1;
    long long nbins = 0;
    for (int i = 0; i < in->n; i++) {
        const int s = in->items[i];
        long long pick = -1;
        for (long long j = 0; j < nbins; j++) {
            if (rem[j] >= s && (pick < 0 || rem[j] < rem[pick])) {
                pick = j;
                if (first)
                    break;
            }
        }
        if (pick < 0) {
            pick = nbins++;
            rem[pick] = in->capacity;
        }
        rem[pick] -= s;
    }
    free(rem);
    return nbins;
}

long long bp_best_fit(const bp_instance *in) { return fit(in, 0); }

long long bp_first_fit(const bp_instance *in) { return fit(in, 1); }
