/* matmul_walk.c — the fast flip-graph walker (see matmul_walk.h for the index and its
 * invariants).
 *
 * Layout: products in one array; for each product and position the bucket it sits in and its
 * index in that bucket's member list (so removal is a swap with the bucket's last member). The
 * hash table is linear probing over 8-byte slots (the key's 32-bit hash and the bucket; the key
 * itself is in the bucket), at most a quarter full (a table has four slots per possible bucket),
 * so it stays in L1 cache; a slot whose bucket empties is deleted by backward shifting, so there
 * are no tombstones and no rebuilds. Buckets are recycled through a free list and keep their
 * member arrays. Hot buckets are named (position << 24) | bucket.
 */
#include "matmul_walk.h"

#include <stdlib.h>
#include <string.h>

#define SLOT_EMPTY (-1)
#define HOT_SHIFT 24

typedef struct mw_slot {
    uint32_t hash; /* of the key: the factor with its lowest coefficient made positive */
    int32_t bid;   /* bucket, or SLOT_EMPTY */
} mw_slot;

typedef struct mw_bucket {
    uint64_t kp, kn;
    int32_t cnt, cap, slot, hot; /* hot: index in the hot list, -1 if cnt < 2 */
    int32_t own;                 /* mem was allocated for this bucket (else: the table's pool) */
    int32_t *mem;
} mw_bucket;

#define MW_POOL 8 /* members each bucket holds in the table's pool before it allocates */

typedef struct mw_table {
    void *block; /* one allocation: buckets, slots, free list, member pool */
    mw_slot *slot;
    uint32_t mask;
    mw_bucket *bucket;
    int32_t *freeb;
    int32_t nfree;
} mw_table;

typedef struct mw_loc {
    int32_t b; /* bucket */
    int32_t i; /* index in the bucket's members */
} mw_loc;

struct mm_walker {
    int n, m, p;
    enum mm_field field;
    int rank, cap;
    mm_prod *prod;
    mw_loc *loc; /* loc[3*t+q]: where product t sits at position q */
    mw_table tab[3];
    int32_t *hot; /* q * cap + bucket, for every bucket with >= 2 members */
    int32_t nhot;
    int32_t watch[2]; /* product indices kept up to date across removals (-1: none) */
};

/* ---- factor arithmetic (the shared part is in matmul_search.h) --------------------------- */


static inline mm_vec vcanon(mm_vec v)
{
    uint64_t any = v.p | v.n;
    uint64_t low = any & (~any + 1);
    return (v.n & low) ? mm_vec_neg(v) : v;
}

static inline uint32_t khash(uint64_t p, uint64_t n)
{
    uint64_t h = (p ^ (n * 0xc2b2ae3d27d4eb4fULL)) * 0x9e3779b97f4a7c15ULL;
    return (uint32_t)(h >> 32);
}

/* ---- allocation -------------------------------------------------------------------------- */

static int table_init(mw_table *t, int cap)
{
    uint32_t size = 64;
    while (size < 4u * (uint32_t)cap)
        size *= 2;
    size_t nb = (size_t)cap * sizeof(mw_bucket), ns = size * sizeof(mw_slot);
    size_t nf = (size_t)cap * sizeof(int32_t), np = (size_t)cap * MW_POOL * sizeof(int32_t);
    char *block = calloc(1, nb + ns + nf + np);
    if (!block)
        return RT_ENOMEM;
    t->block = block;
    t->bucket = (mw_bucket *)block;
    t->slot = (mw_slot *)(block + nb);
    t->freeb = (int32_t *)(block + nb + ns);
    int32_t *pool = (int32_t *)(block + nb + ns + nf);
    for (int b = 0; b < cap; b++) {
        t->bucket[b].mem = pool + (size_t)b * MW_POOL;
        t->bucket[b].cap = MW_POOL;
    }
    t->mask = size - 1;
    return 0;
}

/* Doubles a bucket's member array (moving it out of the pool the first time). 0 or RT_ENOMEM. */
static __attribute__((noinline)) int bucket_grow(mw_bucket *bu)
{
    int32_t nc = 2 * bu->cap;
    int32_t *nm = bu->own ? realloc(bu->mem, (size_t)nc * sizeof *nm)
                          : malloc((size_t)nc * sizeof *nm);
    if (!nm)
        return RT_ENOMEM;
    if (!bu->own)
        memcpy(nm, bu->mem, (size_t)bu->cnt * sizeof *nm);
    bu->mem = nm;
    bu->cap = nc;
    bu->own = 1;
    return 0;
}

static void table_clear(mw_table *t, int cap)
{
    for (uint32_t i = 0; i <= t->mask; i++)
        t->slot[i].bid = SLOT_EMPTY;
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
                if (w->tab[q].bucket[b].own)
                    free(w->tab[q].bucket[b].mem);
        free(w->tab[q].block);
    }
    free(w->prod);
    free(w->loc);
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
    w->loc = malloc(3 * cap * sizeof *w->loc);
    w->hot = malloc(3 * cap * sizeof *w->hot);
    if (!w->prod || !w->loc || !w->hot)
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
    w->hot[w->nhot++] = (q << HOT_SHIFT) | b;
}

static inline void hot_del(mm_walker *w, int q, int32_t b)
{
    mw_bucket *bu = &w->tab[q].bucket[b];
    int32_t h = bu->hot, last = w->hot[--w->nhot];
    w->hot[h] = last;
    w->tab[last >> HOT_SHIFT].bucket[last & ((1 << HOT_SHIFT) - 1)].hot = h;
    bu->hot = -1;
}

/* Deletes slot i by backward shifting (linear probing): later entries of the same probe run
 * move up so that lookups still find them. */
static inline __attribute__((always_inline)) void slot_delete(mw_table *t, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        mw_slot sj = t->slot[j];
        if (sj.bid == SLOT_EMPTY)
            break;
        uint32_t home = sj.hash & t->mask;
        /* sj may move to i if its home is not in the cyclic range (i, j] */
        if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
            t->slot[i] = sj;
            t->bucket[sj.bid].slot = (int32_t)i;
            i = j;
        }
    }
    t->slot[i].bid = SLOT_EMPTY;
}

/* The functions on the flip path are forced inline with the field as a parameter, so that the
 * walk loop compiles once per field with the field a constant. */
#define MW_INLINE static inline __attribute__((always_inline))

/* Looks up key k in tb: returns the slot holding its bucket (*b the bucket), or the empty slot
 * where it would go (*b SLOT_EMPTY); *hh receives the key's hash. */
MW_INLINE uint32_t table_probe(const mw_table *tb, mm_vec k, enum mm_field field, uint32_t *hh,
                               int32_t *b)
{
    uint32_t h = khash(k.p, k.n), i = h & tb->mask;
    for (;;) {
        int32_t x = tb->slot[i].bid;
        if (x == SLOT_EMPTY || (tb->slot[i].hash == h && tb->bucket[x].kp == k.p &&
                                (field == MM_GF2 || tb->bucket[x].kn == k.n))) {
            *hh = h;
            *b = x;
            return i;
        }
        i = (i + 1) & tb->mask;
    }
}

/* Appends product t (position q) to bucket b of its table; the bucket becomes hot at two
 * members. Returns the bucket's new size, or RT_ENOMEM. */
MW_INLINE int bucket_append(mm_walker *w, int t, int q, int32_t b)
{
    mw_bucket *bu = &w->tab[q].bucket[b];
    if (__builtin_expect(bu->cnt == bu->cap, 0) && bucket_grow(bu))
        return RT_ENOMEM;
    w->loc[3 * t + q].b = b;
    w->loc[3 * t + q].i = bu->cnt;
    bu->mem[bu->cnt++] = t;
    if (bu->cnt == 2)
        hot_add(w, q, b);
    return bu->cnt;
}

/* Puts product t (factor at q nonzero) into its bucket. Returns the bucket's new size (>= 1),
 * or RT_ENOMEM (negative). */
MW_INLINE int index_add(mm_walker *w, int t, int q, enum mm_field field)
{
    mw_table *tb = &w->tab[q];
    mm_vec k = field == MM_GF2 ? w->prod[t].f[q] : vcanon(w->prod[t].f[q]);
    uint32_t hh;
    int32_t b;
    uint32_t i = table_probe(tb, k, field, &hh, &b);
    if (b == SLOT_EMPTY) {
        b = tb->freeb[--tb->nfree];
        tb->slot[i].hash = hh;
        tb->slot[i].bid = b;
        mw_bucket *nb = &tb->bucket[b];
        nb->kp = k.p;
        nb->kn = k.n;
        nb->slot = (int32_t)i;
        nb->cnt = 0;
        nb->hot = -1;
    }
    return bucket_append(w, t, q, b);
}

MW_INLINE void index_del(mm_walker *w, int t, int q)
{
    mw_table *tb = &w->tab[q];
    int32_t b = w->loc[3 * t + q].b, i = w->loc[3 * t + q].i;
    mw_bucket *bu = &tb->bucket[b];
    int32_t last = bu->mem[--bu->cnt];
    bu->mem[i] = last;
    w->loc[3 * last + q].i = i;
    if (bu->cnt == 1)
        hot_del(w, q, b);
    else if (bu->cnt == 0) {
        slot_delete(tb, (uint32_t)bu->slot);
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
            mw_loc l = w->loc[3 * last + q];
            w->loc[3 * t + q] = l;
            w->tab[q].bucket[l.b].mem[l.i] = t;
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
 * zero), 0 if it is alone with that factor, 2 if it shares it (a merge may be possible), or
 * RT_ENOMEM (negative). */
MW_INLINE int set_factor(mm_walker *w, int t, int q, mm_vec v, enum mm_field field)
{
    mw_table *tb = &w->tab[q];
    int32_t ob = w->loc[3 * t + q].b;
    mw_bucket *obu = &tb->bucket[ob];
    if (obu->cnt == 1 && !mm_vec_zero(v)) {
        /* alone with its old value (the usual case): the bucket moves to the new key unless
         * that key has a bucket already */
        slot_delete(tb, (uint32_t)obu->slot);
        w->prod[t].f[q] = v;
        mm_vec k = field == MM_GF2 ? v : vcanon(v);
        uint32_t hh;
        int32_t b;
        uint32_t i = table_probe(tb, k, field, &hh, &b);
        if (b == SLOT_EMPTY) {
            tb->slot[i].hash = hh;
            tb->slot[i].bid = ob;
            obu->kp = k.p;
            obu->kn = k.n;
            obu->slot = (int32_t)i;
            return 0;
        }
        /* the key has a bucket: free the old one (after the append, which may fail) */
        int rc = bucket_append(w, t, q, b);
        if (rc < 0)
            return rc;
        obu->cnt = 0;
        tb->freeb[tb->nfree++] = ob;
        return 2;
    }
    index_del(w, t, q);
    w->prod[t].f[q] = v;
    if (__builtin_expect(mm_vec_zero(v), 0)) {
        prod_remove(w, t, q);
        return 1;
    }
    int c = index_add(w, t, q, field);
    return c < 0 ? RT_ENOMEM : c > 1 ? 2 : 0;
}

/* Product t's factor at q has just changed: merge it with any product that now agrees with it
 * (up to sign) at q and at a second position, repeatedly. Returns products removed; t is
 * followed through w->watch[0]. */
static __attribute__((noinline)) int settle(mm_walker *w, int q)
{
    int removed = 0;
    for (;;) {
        int t = w->watch[0];
        if (t < 0)
            return removed;
        const mw_bucket *bu = &w->tab[q].bucket[w->loc[3 * t + q].b];
        int merged = 0;
        for (int32_t k = 0; k < bu->cnt && !merged; k++) {
            int u = bu->mem[k];
            if (u == t)
                continue;
            int m = w->field == MM_GF2 ? 1 : mm_vec_match(w->prod[u].f[q], w->prod[t].f[q]);
            for (int d = 1; d <= 2; d++) {
                int o = (q + d) % 3, third = 3 - q - o;
                int m2 = mm_vec_match(w->prod[u].f[o], w->prod[t].f[o]);
                if (!m2)
                    continue;
                mm_vec sum;
                if (mm_vec_add(w->field, w->prod[t].f[third], w->prod[u].f[third], m * m2, &sum))
                    continue;
                prod_remove(w, u, -1);
                removed++;
                t = w->watch[0];
                int rc = set_factor(w, t, third, sum, w->field);
                if (rc < 0)
                    return removed; /* out of memory: the index lost t; see mm_walker_check */
                removed += rc == 1;
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
/* Whether product t shares its factor at q with a product that also agrees with it (up to
 * sign) at another position: the test that lets a flip skip settle() (the usual answer is no). */
MW_INLINE int may_merge(const mm_walker *w, int t, int q, enum mm_field field)
{
    const mw_bucket *bu = &w->tab[q].bucket[w->loc[3 * t + q].b];
    if (bu->cnt < 2)
        return 0;
    int o1 = q == 0 ? 1 : 0, o2 = q == 2 ? 1 : 2;
    mm_vec t1 = w->prod[t].f[o1], t2 = w->prod[t].f[o2];
    for (int32_t k = 0; k < bu->cnt; k++) {
        int u = bu->mem[k];
        const mm_prod *pu = &w->prod[u];
        if (field == MM_GF2) {
            if ((pu->f[o1].p == t1.p || pu->f[o2].p == t2.p) && u != t)
                return 1;
        } else if ((mm_vec_match(pu->f[o1], t1) || mm_vec_match(pu->f[o2], t2)) && u != t) {
            return 1;
        }
    }
    return 0;
}

MW_INLINE int settle_prod(mm_walker *w, int t, int q, enum mm_field field)
{
    if (t < 0 || !may_merge(w, t, q, field))
        return 0; /* nothing to merge with (the usual case) */
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
            if (settle_prod(w, t, q, w->field)) {
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
        if (mm_vec_zero(pr->f[0]) || mm_vec_zero(pr->f[1]) || mm_vec_zero(pr->f[2]))
            continue;
        int i = w->rank++;
        w->prod[i] = *pr;
        for (int q = 0; q < 3; q++)
            if (index_add(w, i, q, w->field) < 0)
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
MW_INLINE int flip_once(mm_walker *w, rt_rng *rng, enum mm_field field, long long *red)
{
    if (w->nhot == 0)
        return -1;
    uint64_t r = rt_rng_next(rng);
    int32_t h = w->hot[(uint32_t)(((r & 0xffffffffu) * (uint64_t)(uint32_t)w->nhot) >> 32)];
    int x = h >> HOT_SHIFT;
    const mw_bucket *bu = &w->tab[x].bucket[h & ((1 << HOT_SHIFT) - 1)];
    uint32_t cnt = (uint32_t)bu->cnt;
    uint32_t i = (uint32_t)((((r >> 32) & 0xffffu) * cnt) >> 16);
    uint32_t j = (uint32_t)((((r >> 48) & 0x3fffu) * (cnt - 1)) >> 14);
    j += j >= i;
    int a = bu->mem[i], b = bu->mem[j];
    static const int8_t other[3][2] = {{1, 2}, {2, 0}, {0, 1}};
    int y = other[x][(r >> 62) & 1];
    int z = 3 - x - y;
    mm_prod *pa = &w->prod[a], *pb = &w->prod[b];
    mm_vec ny, nz;
    if (field == MM_GF2) {
        ny.p = pa->f[y].p ^ pb->f[y].p;
        ny.n = 0;
        nz.p = pb->f[z].p ^ pa->f[z].p;
        nz.n = 0;
    } else {
        int sigma = mm_vec_match(pb->f[x], pa->f[x]);
        int eps = (r >> 63) ? -1 : 1;
        /* the drawn sign first; if that leaves {-1,0,1}, the other one */
        if (mm_vec_add(field, pa->f[y], pb->f[y], eps * sigma, &ny) ||
            mm_vec_add(field, pb->f[z], pa->f[z], -eps, &nz)) {
            eps = -eps;
            if (mm_vec_add(field, pa->f[y], pb->f[y], eps * sigma, &ny) ||
                mm_vec_add(field, pb->f[z], pa->f[z], -eps, &nz))
                return 0;
        }
    }
    /* a: y changes; b: z changes. Both changes are made before any merge: a merge of a with b
     * must see b's new factor. Removals move products, so both are followed through watch. */
    w->watch[0] = a;
    w->watch[1] = b;
    int ra = set_factor(w, a, y, ny, field);
    if (ra < 0)
        return -1;
    int rb = 0;
    b = w->watch[1];
    if (b >= 0) {
        rb = set_factor(w, b, z, nz, field);
        if (rb < 0)
            return -1;
    }
    *red += (ra == 1) + (rb == 1);
    /* a product alone in its new bucket has nothing to merge with; if a merge of a later puts
     * a next to b, settling a sees the pair */
    if (ra == 2) {
        a = w->watch[0];
        w->watch[0] = -1;
        *red += settle_prod(w, a, y, field);
    }
    if (rb == 2)
        *red += settle_prod(w, w->watch[1], z, field);
    w->watch[0] = w->watch[1] = -1;
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
        if (mm_vec_match(ps->f[0], pt->f[0]) || mm_vec_match(ps->f[1], pt->f[1]) ||
            mm_vec_match(ps->f[2], pt->f[2]))
            continue;
        int ra = (int)rt_rng_below(rng, 3), rb = (ra + 1) % 3, rc = (ra + 2) % 3;
        mm_vec a_minus, b_minus, c_plus;
        if (mm_vec_add(w->field, ps->f[ra], pt->f[ra], -1, &a_minus) ||
            mm_vec_add(w->field, ps->f[rb], pt->f[rb], -1, &b_minus) ||
            mm_vec_add(w->field, ps->f[rc], pt->f[rc], 1, &c_plus))
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
            if (index_add(w, k, q, w->field) < 0)
                return -1;
        /* the factors differ (no position matched), so none of these is zero */
        if (set_factor(w, i, ra, a_minus, w->field) < 0 ||
            set_factor(w, j, rb, b_minus, w->field) < 0 ||
            set_factor(w, j, rc, s_old.f[rc], w->field) < 0)
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
            int32_t b = w->loc[3 * t + q].b, i = w->loc[3 * t + q].i;
            const mw_bucket *bu = &tb->bucket[b];
            if (mm_vec_zero(w->prod[t].f[q]))
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
                if (bu->hot < 0 || w->hot[bu->hot] != ((q << HOT_SHIFT) | b))
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
