/* matmul_walk.c — the fast flip-graph walker (see matmul_walk.h for the index and its
 * invariants).
 *
 * Layout: products in one array; for each product and position the bucket it sits in and its
 * index in that bucket's member list (so removal is a swap with the bucket's last member). Hash
 * slots never move: a slot whose bucket empties keeps its key as a tombstone (a later product
 * with that value reuses it) and the table is rebuilt from the live buckets when half its slots
 * are used. Buckets are recycled through a free list and keep their member arrays.
 */
#include "matmul_walk.h"

#include <stdlib.h>
#include <string.h>

#define SLOT_EMPTY (-1)
#define SLOT_TOMB (-2)

typedef struct mw_slot {
    uint64_t kp, kn; /* key: the factor with its lowest coefficient made positive */
    int32_t bid;     /* bucket, SLOT_EMPTY (never used) or SLOT_TOMB (key kept, no bucket) */
} mw_slot;

typedef struct mw_bucket {
    uint64_t kp, kn;
    int32_t cnt, cap, slot, hot; /* hot: index in the hot list, -1 if cnt < 2 */
    int32_t *mem;
} mw_bucket;

typedef struct mw_table {
    mw_slot *slot;
    uint32_t mask;
    int32_t used; /* non-empty slots, tombstones included */
    mw_bucket *bucket;
    int32_t *freeb;
    int32_t nfree;
} mw_table;

struct mm_walker {
    int n, m, p;
    enum mm_field field;
    int rank, cap;
    mm_prod *prod;
    int32_t *bk; /* bk[3*t+q]: bucket of product t at position q */
    int32_t *bi; /* bi[3*t+q]: index of t in that bucket's members */
    mw_table tab[3];
    int32_t *hot; /* q * cap + bucket, for every bucket with >= 2 members */
    int32_t nhot;
    int32_t watch[2]; /* product indices kept up to date across removals (-1: none) */
};

/* ---- factor arithmetic (as in matmul_search.c) ------------------------------------------- */

static inline int vzero(mm_vec a) { return !(a.p | a.n); }
static inline mm_vec vneg(mm_vec a) { return (mm_vec){a.n, a.p}; }

static inline int vmatch(mm_vec a, mm_vec b)
{
    if (a.p == b.p && a.n == b.n)
        return 1;
    if (a.p == b.n && a.n == b.p && (a.p | a.n))
        return -1;
    return 0;
}

static inline int vadd(enum mm_field field, mm_vec a, mm_vec b, int sign, mm_vec *out)
{
    if (field == MM_GF2) {
        out->p = a.p ^ b.p;
        out->n = 0;
        return 0;
    }
    if (sign < 0)
        b = vneg(b);
    if ((a.p & b.p) | (a.n & b.n))
        return -1;
    uint64_t cancel = (a.p & b.n) | (a.n & b.p);
    out->p = (a.p | b.p) & ~cancel;
    out->n = (a.n | b.n) & ~cancel;
    return 0;
}

static inline mm_vec vcanon(mm_vec v)
{
    uint64_t any = v.p | v.n;
    uint64_t low = any & (~any + 1);
    return (v.n & low) ? vneg(v) : v;
}

static inline uint32_t khash(uint64_t p, uint64_t n)
{
    uint64_t h = (p ^ (n * 0xc2b2ae3d27d4eb4fULL)) * 0x9e3779b97f4a7c15ULL;
    return (uint32_t)(h >> 32);
}

/* ---- allocation -------------------------------------------------------------------------- */

static int table_init(mw_table *t, int cap)
{
    uint32_t size = 1024;
    while (size < 16u * (uint32_t)cap)
        size *= 2;
    t->slot = malloc(size * sizeof *t->slot);
    t->bucket = calloc((size_t)cap, sizeof *t->bucket);
    t->freeb = malloc((size_t)cap * sizeof *t->freeb);
    if (!t->slot || !t->bucket || !t->freeb)
        return RT_ENOMEM;
    t->mask = size - 1;
    return 0;
}

static void table_clear(mw_table *t, int cap)
{
    for (uint32_t i = 0; i <= t->mask; i++)
        t->slot[i].bid = SLOT_EMPTY;
    t->used = 0;
    t->nfree = 0;
    for (int b = cap - 1; b >= 0; b--) {
        t->bucket[b].cnt = 0;
        t->bucket[b].hot = -1;
        t->freeb[t->nfree++] = b;
    }
}

void mm_walker_free(mm_walker *w)
{
    if (!w)
        return;
    for (int q = 0; q < 3; q++) {
        if (w->tab[q].bucket)
            for (int b = 0; b < w->cap; b++)
                free(w->tab[q].bucket[b].mem);
        free(w->tab[q].slot);
        free(w->tab[q].bucket);
        free(w->tab[q].freeb);
    }
    free(w->prod);
    free(w->bk);
    free(w->bi);
    free(w->hot);
    free(w);
}

int mm_walker_new(mm_walker **out, const mm_scheme *s, int extra)
{
    if (s->rank < 0 || s->rank > MM_MAX_RANK || extra < 0 || extra > MM_MAX_RANK)
        return RT_EUSAGE;
    mm_walker *w = calloc(1, sizeof *w);
    if (!w)
        return RT_ENOMEM;
    w->n = s->n;
    w->m = s->m;
    w->p = s->p;
    w->field = s->field;
    w->cap = s->rank + extra + 2;
    size_t cap = (size_t)w->cap;
    w->prod = malloc(cap * sizeof *w->prod);
    w->bk = malloc(3 * cap * sizeof *w->bk);
    w->bi = malloc(3 * cap * sizeof *w->bi);
    w->hot = malloc(3 * cap * sizeof *w->hot);
    if (!w->prod || !w->bk || !w->bi || !w->hot)
        goto fail;
    for (int q = 0; q < 3; q++)
        if (table_init(&w->tab[q], w->cap))
            goto fail;
    if (mm_walker_load(w, s))
        goto fail;
    *out = w;
    return 0;
fail:
    mm_walker_free(w);
    return RT_ENOMEM;
}

/* ---- the index --------------------------------------------------------------------------- */

static inline void hot_add(mm_walker *w, int q, int32_t b)
{
    mw_bucket *bu = &w->tab[q].bucket[b];
    bu->hot = w->nhot;
    w->hot[w->nhot++] = q * w->cap + b;
}

static inline void hot_del(mm_walker *w, int q, int32_t b)
{
    mw_bucket *bu = &w->tab[q].bucket[b];
    int32_t h = bu->hot, last = w->hot[--w->nhot];
    w->hot[h] = last;
    w->tab[last / w->cap].bucket[last % w->cap].hot = h;
    bu->hot = -1;
}

static void table_rebuild(mw_table *t, int cap)
{
    for (uint32_t i = 0; i <= t->mask; i++)
        t->slot[i].bid = SLOT_EMPTY;
    t->used = 0;
    for (int b = 0; b < cap; b++) {
        mw_bucket *bu = &t->bucket[b];
        if (bu->cnt <= 0)
            continue;
        uint32_t i = khash(bu->kp, bu->kn) & t->mask;
        while (t->slot[i].bid != SLOT_EMPTY)
            i = (i + 1) & t->mask;
        t->slot[i] = (mw_slot){bu->kp, bu->kn, b};
        bu->slot = (int32_t)i;
        t->used++;
    }
}

/* Puts product t (factor at q nonzero) into its bucket. 0 or RT_ENOMEM. */
static int index_add(mm_walker *w, int t, int q)
{
    mw_table *tb = &w->tab[q];
    mm_vec k = vcanon(w->prod[t].f[q]);
    uint32_t i = khash(k.p, k.n) & tb->mask;
    mw_slot *sl;
    for (;;) {
        sl = &tb->slot[i];
        if (sl->bid == SLOT_EMPTY || (sl->kp == k.p && sl->kn == k.n))
            break;
        i = (i + 1) & tb->mask;
    }
    int32_t b = sl->bid;
    if (b < 0) {
        if (b == SLOT_EMPTY) {
            if (2 * (uint32_t)(tb->used + 1) > tb->mask) {
                table_rebuild(tb, w->cap);
                return index_add(w, t, q);
            }
            tb->used++;
            sl->kp = k.p;
            sl->kn = k.n;
        }
        b = tb->freeb[--tb->nfree];
        sl->bid = b;
        mw_bucket *nb = &tb->bucket[b];
        nb->kp = k.p;
        nb->kn = k.n;
        nb->slot = (int32_t)i;
        nb->cnt = 0;
        nb->hot = -1;
    }
    mw_bucket *bu = &tb->bucket[b];
    if (bu->cnt == bu->cap) {
        int32_t nc = bu->cap ? 2 * bu->cap : 8;
        int32_t *nm = realloc(bu->mem, (size_t)nc * sizeof *nm);
        if (!nm)
            return RT_ENOMEM;
        bu->mem = nm;
        bu->cap = nc;
    }
    w->bk[3 * t + q] = b;
    w->bi[3 * t + q] = bu->cnt;
    bu->mem[bu->cnt++] = t;
    if (bu->cnt == 2)
        hot_add(w, q, b);
    return 0;
}

static void index_del(mm_walker *w, int t, int q)
{
    mw_table *tb = &w->tab[q];
    int32_t b = w->bk[3 * t + q], i = w->bi[3 * t + q];
    mw_bucket *bu = &tb->bucket[b];
    int32_t last = bu->mem[--bu->cnt];
    bu->mem[i] = last;
    w->bi[3 * last + q] = i;
    if (bu->cnt == 1)
        hot_del(w, q, b);
    else if (bu->cnt == 0) {
        tb->slot[bu->slot].bid = SLOT_TOMB;
        tb->freeb[tb->nfree++] = b;
    }
}

/* Removes product t (not indexed at position `skip`, or -1 if indexed at all three), moving
 * the last product into its place. */
static void prod_remove(mm_walker *w, int t, int skip)
{
    for (int q = 0; q < 3; q++)
        if (q != skip)
            index_del(w, t, q);
    int last = --w->rank;
    if (t != last) {
        w->prod[t] = w->prod[last];
        for (int q = 0; q < 3; q++) {
            int32_t b = w->bk[3 * last + q], i = w->bi[3 * last + q];
            w->bk[3 * t + q] = b;
            w->bi[3 * t + q] = i;
            w->tab[q].bucket[b].mem[i] = t;
        }
    }
    for (int k = 0; k < 2; k++) {
        if (w->watch[k] == t)
            w->watch[k] = -1;
        else if (w->watch[k] == last)
            w->watch[k] = t;
    }
}

/* Sets factor q of product t to v, keeping the index. Returns 1 if the product vanished (v was
 * zero), 0, or RT_ENOMEM (negative). */
static int set_factor(mm_walker *w, int t, int q, mm_vec v)
{
    index_del(w, t, q);
    w->prod[t].f[q] = v;
    if (vzero(v)) {
        prod_remove(w, t, q);
        return 1;
    }
    return index_add(w, t, q) ? RT_ENOMEM : 0;
}

/* Product t's factor at q has just changed: merge it with any product that now agrees with it
 * (up to sign) at q and at a second position, repeatedly. Returns products removed; t is
 * followed through w->watch[0]. */
static int settle(mm_walker *w, int q)
{
    int removed = 0;
    for (;;) {
        int t = w->watch[0];
        if (t < 0)
            return removed;
        const mw_bucket *bu = &w->tab[q].bucket[w->bk[3 * t + q]];
        int merged = 0;
        for (int32_t k = 0; k < bu->cnt && !merged; k++) {
            int u = bu->mem[k];
            if (u == t)
                continue;
            int m = w->field == MM_GF2 ? 1 : vmatch(w->prod[u].f[q], w->prod[t].f[q]);
            for (int d = 1; d <= 2; d++) {
                int o = (q + d) % 3, third = (q + 3 - d) % 3;
                int m2 = vmatch(w->prod[u].f[o], w->prod[t].f[o]);
                if (!m2)
                    continue;
                mm_vec sum;
                if (vadd(w->field, w->prod[t].f[third], w->prod[u].f[third], m * m2, &sum))
                    continue;
                prod_remove(w, u, -1);
                removed++;
                t = w->watch[0];
                int rc = set_factor(w, t, third, sum);
                if (rc < 0)
                    return removed; /* out of memory: the index lost t; see mm_walker_check */
                removed += rc;
                q = third;
                merged = 1;
                break;
            }
        }
        if (!merged)
            return removed;
    }
}

/* Settles product t after its factor q changed (t may be -1: nothing to do); keeps the other
 * watched product w->watch[1] up to date. */
static int settle_prod(mm_walker *w, int t, int q)
{
    if (t < 0)
        return 0;
    w->watch[0] = t;
    int r = settle(w, q);
    w->watch[0] = -1;
    return r;
}

/* Merges every mergeable pair: settles each product at A and at B (a pair agreeing at B and C
 * is found from B), starting over after a removal, since indices move (loads and plus only). */
static void settle_all(mm_walker *w)
{
    for (int t = 0; t < w->rank; t++)
        for (int q = 0; q < 2; q++)
            if (settle_prod(w, t, q)) {
                t = -1;
                break;
            }
}

int mm_walker_load(mm_walker *w, const mm_scheme *s)
{
    if (s->rank > w->cap - 2)
        return RT_EUSAGE;
    w->rank = 0;
    w->nhot = 0;
    w->watch[0] = w->watch[1] = -1;
    for (int q = 0; q < 3; q++)
        table_clear(&w->tab[q], w->cap);
    for (int t = 0; t < s->rank; t++) {
        const mm_prod *pr = &s->prod[t];
        if (vzero(pr->f[0]) || vzero(pr->f[1]) || vzero(pr->f[2]))
            continue;
        int i = w->rank++;
        w->prod[i] = *pr;
        for (int q = 0; q < 3; q++)
            if (index_add(w, i, q))
                return RT_ENOMEM;
    }
    settle_all(w);
    return 0;
}

int mm_walker_store(const mm_walker *w, mm_scheme *out)
{
    if (out->cap < w->rank) {
        mm_prod *np = realloc(out->prod, (size_t)w->rank * sizeof *np);
        if (!np)
            return RT_ENOMEM;
        out->prod = np;
        out->cap = w->rank;
    }
    memcpy(out->prod, w->prod, (size_t)w->rank * sizeof *w->prod);
    out->rank = w->rank;
    out->n = w->n;
    out->m = w->m;
    out->p = w->p;
    out->field = w->field;
    return 0;
}

int mm_walker_rank(const mm_walker *w) { return w->rank; }

/* ---- the walk ---------------------------------------------------------------------------- */

/* One flip on a random hot bucket. Returns 1 if made, 0 if the coefficients left {-1,0,1}
 * (nothing changed), -1 when nothing is hot. *red accumulates reductions. */
static inline int flip_once(mm_walker *w, rt_rng *rng, enum mm_field field, long long *red)
{
    if (w->nhot == 0)
        return -1;
    uint64_t r = rt_rng_next(rng);
    int32_t h = w->hot[(uint32_t)(((r & 0xffffffffu) * (uint64_t)(uint32_t)w->nhot) >> 32)];
    int x = h / w->cap;
    const mw_bucket *bu = &w->tab[x].bucket[h % w->cap];
    uint32_t cnt = (uint32_t)bu->cnt;
    uint32_t i = (uint32_t)((((r >> 32) & 0xffffu) * cnt) >> 16);
    uint32_t j = (uint32_t)((((r >> 48) & 0x3fffu) * (cnt - 1)) >> 14);
    j += j >= i;
    int a = bu->mem[i], b = bu->mem[j];
    int y = (r >> 62) & 1 ? (x + 1) % 3 : (x + 2) % 3;
    int z = 3 - x - y;
    mm_prod *pa = &w->prod[a], *pb = &w->prod[b];
    mm_vec ny, nz;
    if (field == MM_GF2) {
        ny.p = pa->f[y].p ^ pb->f[y].p;
        ny.n = 0;
        nz.p = pb->f[z].p ^ pa->f[z].p;
        nz.n = 0;
    } else {
        int sigma = vmatch(pb->f[x], pa->f[x]);
        int eps = (r >> 63) ? -1 : 1;
        if (vadd(field, pa->f[y], pb->f[y], eps * sigma, &ny) ||
            vadd(field, pb->f[z], pa->f[z], -eps, &nz))
            return 0;
    }
    /* a: y changes; b: z changes. Both changes are made before any merge: a merge of a with b
     * must see b's new factor. Removals move products, so both are followed through watch. */
    w->watch[0] = a;
    w->watch[1] = b;
    int rc = set_factor(w, a, y, ny);
    if (rc < 0)
        return -1;
    *red += rc;
    b = w->watch[1];
    if (b >= 0) {
        rc = set_factor(w, b, z, nz);
        if (rc < 0)
            return -1;
        *red += rc;
    }
    a = w->watch[0];
    w->watch[0] = -1;
    *red += settle_prod(w, a, y);
    b = w->watch[1];
    w->watch[1] = -1;
    *red += settle_prod(w, b, z);
    return 1;
}

static long long run_field(mm_walker *w, rt_rng *rng, long long flips, int stop_below,
                           enum mm_field field, long long *attempts, long long *red)
{
    long long done = 0, tries = 0;
    while (done < flips) {
        tries++;
        int f = flip_once(w, rng, field, red);
        if (f < 0)
            break;
        done += f;
        if (w->rank < stop_below)
            break;
    }
    *attempts += tries;
    return done;
}

long long mm_walker_run(mm_walker *w, rt_rng *rng, long long flips, int stop_below,
                        mm_walk_stats *stats)
{
    long long attempts = 0, red = 0, done;
    /* two copies of the loop, each with the field a constant */
    if (w->field == MM_GF2)
        done = run_field(w, rng, flips, stop_below, MM_GF2, &attempts, &red);
    else
        done = run_field(w, rng, flips, stop_below, MM_Z, &attempts, &red);
    if (stats) {
        stats->flips += done;
        stats->attempts += attempts;
        stats->reductions += red;
    }
    return done;
}

int mm_walker_plus(mm_walker *w, rt_rng *rng)
{
    if (w->rank < 2 || w->rank + 1 > w->cap)
        return -1;
    for (int tries = 0; tries < 64; tries++) {
        int i = (int)rt_rng_below(rng, (uint32_t)w->rank);
        int j = (int)rt_rng_below(rng, (uint32_t)(w->rank - 1));
        if (j >= i)
            j++;
        const mm_prod *ps = &w->prod[i], *pt = &w->prod[j];
        if (vmatch(ps->f[0], pt->f[0]) || vmatch(ps->f[1], pt->f[1]) ||
            vmatch(ps->f[2], pt->f[2]))
            continue;
        int ra = (int)rt_rng_below(rng, 3), rb = (ra + 1) % 3, rc = (ra + 2) % 3;
        mm_vec a_minus, b_minus, c_plus;
        if (vadd(w->field, ps->f[ra], pt->f[ra], -1, &a_minus) ||
            vadd(w->field, ps->f[rb], pt->f[rb], -1, &b_minus) ||
            vadd(w->field, ps->f[rc], pt->f[rc], 1, &c_plus))
            continue;
        /* s t  ->  (a-a')bc + a'(b-b')c + a'b'(c+c') */
        mm_prod s_old = *ps, t_old = *pt;
        mm_prod p3;
        p3.f[ra] = t_old.f[ra];
        p3.f[rb] = t_old.f[rb];
        p3.f[rc] = c_plus;
        /* i: a -> a - a' ; j: (a', b - b', c) */
        int k = w->rank++;
        w->prod[k] = p3;
        for (int q = 0; q < 3; q++)
            if (index_add(w, k, q))
                return -1;
        /* the factors differ (no position matched), so none of these is zero */
        if (set_factor(w, i, ra, a_minus) < 0 || set_factor(w, j, rb, b_minus) < 0 ||
            set_factor(w, j, rc, s_old.f[rc]) < 0)
            return -1;
        /* any pair made mergeable includes a changed product: settle them all (rare move) */
        settle_all(w);
        (void)t_old;
        return 0;
    }
    return -1;
}

/* ---- consistency check (tests) ----------------------------------------------------------- */

int mm_walker_check(const mm_walker *w)
{
    int hot = 0;
    for (int q = 0; q < 3; q++) {
        const mw_table *tb = &w->tab[q];
        for (int t = 0; t < w->rank; t++) {
            int32_t b = w->bk[3 * t + q], i = w->bi[3 * t + q];
            const mw_bucket *bu = &tb->bucket[b];
            if (vzero(w->prod[t].f[q]))
                return 1;
            if (i >= bu->cnt || bu->mem[i] != t)
                return 2;
            mm_vec k = vcanon(w->prod[t].f[q]);
            if (k.p != bu->kp || k.n != bu->kn)
                return 3;
            if (tb->slot[bu->slot].bid != b)
                return 4;
        }
        int live = 0;
        for (int b = 0; b < w->cap; b++) {
            const mw_bucket *bu = &tb->bucket[b];
            if (bu->cnt > 0)
                live += bu->cnt;
            if (bu->cnt >= 2) {
                hot++;
                if (bu->hot < 0 || w->hot[bu->hot] != q * w->cap + b)
                    return 5;
            }
        }
        if (live != w->rank)
            return 6;
    }
    if (hot != w->nhot)
        return 7;
    return 0;
}

/* ---- the scheme-level walk --------------------------------------------------------------- */

void mm_walk(mm_scheme *s, rt_rng *rng, long long flips, mm_walk_stats *stats)
{
    mm_walker *w = NULL;
    if (mm_walker_new(&w, s, 0)) {
        mm_walk_scan(s, rng, flips, stats); /* no memory for the index: the slow kernel */
        return;
    }
    mm_walker_run(w, rng, flips, 0, stats);
    (void)mm_walker_store(w, s); /* on failure (no memory) s stays as it was: still valid */
    mm_walker_free(w);
}
