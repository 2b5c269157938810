/* matmul_walk.c — the fast flip-graph walker (see matmul_walk.h for the index and its
 * invariants).
 *
 * Layout: products in one array, each with, for each position, the bucket it sits in and its
 * index in that bucket's member list (so removal is a swap with the bucket's last member). The
 * buckets of the three positions share one array, so a bucket is one number everywhere (the hot
 * list, the products) and knows its position. Each position has a linear-probing hash table
 * whose slots hold the key itself (the factor up to sign: of v and -v the one with the larger
 * plus mask) beside the bucket, so a probe compares keys without a second load; a zero plus mask
 * marks an empty slot (a zero factor is never indexed). A table has at least four slots per
 * possible bucket of its position, and up to sixteen while the tables fit in MW_TABLE_BYTES, so
 * it is at most a quarter full and usually far less; a slot whose bucket empties is deleted by
 * backward shifting, so there are no tombstones and no rebuilds. Buckets are recycled through a
 * free list and keep their member arrays.
 *
 * Speed (docs/matmul.md has the figures): the flip loop copies the array pointers (which never
 * move) into a local context, so the compiler need not reload them after every store, and is
 * compiled once per field. Over Z both signs of a flip are tested at once on two-lane vectors
 * (p, n), where negation is a lane swap, and the choice between them is made without a branch:
 * the one data-dependent branch left is "neither sign stays in {-1,0,1}". The sparse tables make
 * the probe's branches predictable.
 *
 * Determinism: with the same seed and the same scheme the walk is the same, move for move, as
 * the first layout's (commit 12927a3): the same random bits choose the same bucket, members,
 * positions and sign, because the hot list and the member lists change in the same order; only
 * the hash layout differs.
 */
#include "problems/matmul/matmul_walk.h"

#include <stdlib.h>
#include <string.h>

#define SLOT_EMPTY (-1)

/* A key: a nonzero factor up to sign, in canonical form (p > n as unsigned integers: of v and
 * -v, the one whose plus mask is the larger; over GF(2) n = 0). p == 0 marks an empty slot. */
typedef struct mw_key {
    uint64_t p, n;
} mw_key;

typedef struct mw_bucket {
    int32_t cnt, cap;
    int32_t slot; /* in its position's table */
    int32_t hot;  /* index in the hot list, -1 if cnt < 2 */
    int32_t q;    /* position (0 A, 1 B, 2 C) */
    int32_t own;  /* mem was allocated for this bucket (else: the walker's pool) */
    int32_t *mem;
} mw_bucket;

#define MW_POOL 8 /* members each bucket holds in the pool before it allocates */
#define MW_TABLE_BYTES (48 * 1024) /* the most the three hash tables may take when sparse */

typedef struct mw_loc {
    int32_t b; /* bucket */
    int32_t i; /* index in the bucket's members */
} mw_loc;

/* A product with, for each position, where it sits in the index (one base pointer for both). */
typedef struct mw_prod {
    mm_vec f[3];
    mw_loc l[3];
} mw_prod;

/* The arrays, fixed from creation to free (a bucket's member array moves, the bucket does not). */
typedef struct mw_ctx {
    mw_prod *prod;
    mw_bucket *bk;   /* 3 * cap buckets, all positions */
    mw_key *key[3];  /* per position: the table's keys */
    int32_t *bid[3]; /* per position: the table's buckets (read only where the key is not empty) */
    int32_t *hot;    /* every bucket with >= 2 members */
    int32_t *freeb;  /* free buckets */
    uint32_t mask;   /* table size - 1 */
} mw_ctx;

struct mm_walker {
    int n, m, p;
    enum mm_field field;
    int rank, cap;
    mw_ctx c;
    void *block; /* one allocation: buckets, tables, free list, hot list, member pool */
    int32_t nhot, nfree;
    int32_t watch[2]; /* product indices kept up to date across removals (-1: none) */
};

/* ---- factor arithmetic (the shared part is in matmul_search.h) --------------------------- */

/* The canonical key of a nonzero factor; over GF(2) the factor itself. */
static inline mw_key kcanon(mm_vec v, enum mm_field field)
{
    if (field == MM_GF2)
        return (mw_key){v.p, 0};
    /* a conditional swap by masks: the comparison is a coin toss, so no branch */
    uint64_t d = (v.p ^ v.n) & -(uint64_t)(v.p < v.n);
    return (mw_key){v.p ^ d, v.n ^ d};
}

static inline uint32_t khash(mw_key k)
{
    uint64_t h = (k.p ^ (k.n * 0xc2b2ae3d27d4eb4fULL)) * 0x9e3779b97f4a7c15ULL;
    return (uint32_t)(h >> 32);
}

/* Whether a == b up to sign (both nonzero). */
static inline int eq_pm(mm_vec a, mm_vec b)
{
    return !((a.p ^ b.p) | (a.n ^ b.n)) || !((a.p ^ b.n) | (a.n ^ b.p));
}

/* ---- allocation -------------------------------------------------------------------------- */

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

/* Empties the index: all tables empty, all buckets free. */
static void index_clear(mm_walker *w)
{
    mw_ctx *c = &w->c;
    for (int q = 0; q < 3; q++)
        for (uint32_t i = 0; i <= c->mask; i++) {
            c->key[q][i] = (mw_key){0, 0};
            c->bid[q][i] = SLOT_EMPTY;
        }
    w->nfree = 0;
    w->nhot = 0;
    for (int b = 3 * w->cap - 1; b >= 0; b--) {
        c->bk[b].cnt = 0;
        c->bk[b].hot = -1;
        c->freeb[w->nfree++] = b;
    }
}

void mm_walker_free(mm_walker *w)
{
    if (!w)
        return;
    if (w->c.bk)
        for (int b = 0; b < 3 * w->cap; b++)
            if (w->c.bk[b].own)
                free(w->c.bk[b].mem);
    free(w->block);
    free(w->c.prod);
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
    size_t cap = (size_t)w->cap, nb = 3 * cap;
    /* at least four slots per possible bucket; up to sixteen while the three tables stay
     * within MW_TABLE_BYTES: a sparse table makes "is the next slot empty?" and "is the key
     * here?" predictable branches (measured: fewer mispredictions, faster flips) */
    uint32_t size = 64;
    while (size < 4u * (uint32_t)cap)
        size *= 2;
    while (size < 16u * (uint32_t)cap &&
           3 * 2 * (size_t)size * (sizeof(mw_key) + sizeof(int32_t)) <= MW_TABLE_BYTES)
        size *= 2;
    w->c.mask = size - 1;
    w->c.prod = malloc(cap * sizeof *w->c.prod);
    /* buckets first (8-byte aligned), then keys (16), then the int32 arrays */
    size_t sz_bk = nb * sizeof(mw_bucket), sz_key = 3 * (size_t)size * sizeof(mw_key);
    size_t sz_bid = 3 * (size_t)size * sizeof(int32_t), sz_int = nb * sizeof(int32_t);
    size_t sz_pool = nb * MW_POOL * sizeof(int32_t);
    char *block = malloc(sz_bk + sz_key + sz_bid + 2 * sz_int + sz_pool);
    w->block = block;
    if (!w->c.prod || !block)
        goto fail;
    memset(block, 0, sz_bk);
    w->c.bk = (mw_bucket *)block;
    mw_key *keys = (mw_key *)(block + sz_bk);
    int32_t *bids = (int32_t *)(block + sz_bk + sz_key);
    for (int q = 0; q < 3; q++) {
        w->c.key[q] = keys + (size_t)q * size;
        w->c.bid[q] = bids + (size_t)q * size;
    }
    w->c.hot = (int32_t *)(block + sz_bk + sz_key + sz_bid);
    w->c.freeb = w->c.hot + nb;
    int32_t *pool = w->c.freeb + nb;
    for (size_t b = 0; b < nb; b++) {
        w->c.bk[b].mem = pool + b * MW_POOL;
        w->c.bk[b].cap = MW_POOL;
    }
    if (mm_walker_load(w, s))
        goto fail;
    *out = w;
    return 0;
fail:
    mm_walker_free(w);
    return RT_ENOMEM;
}

/* ---- the index --------------------------------------------------------------------------- */

/* The functions on the flip path are forced inline with the field as a parameter, so that the
 * walk loop compiles once per field with the field a constant; they take the arrays from a
 * context the loop keeps in locals. */
#define MW_INLINE static inline __attribute__((always_inline))

/* Indices on the flip path are unsigned 32-bit (no sign extension in address arithmetic); the
 * arrays hold them as int32_t. */
MW_INLINE void hot_add(mm_walker *w, const mw_ctx *c, uint32_t b)
{
    c->bk[b].hot = w->nhot;
    c->hot[w->nhot++] = (int32_t)b;
}

MW_INLINE void hot_del(mm_walker *w, const mw_ctx *c, uint32_t b)
{
    mw_bucket *bu = &c->bk[b];
    uint32_t h = (uint32_t)bu->hot;
    int32_t last = c->hot[--w->nhot];
    c->hot[h] = last;
    c->bk[(uint32_t)last].hot = (int32_t)h;
    bu->hot = -1;
}

/* Deletes slot i of position q's table by backward shifting (linear probing): later entries of
 * the same probe run move up so that lookups still find them. */
MW_INLINE void slot_delete(const mw_ctx *c, uint32_t q, uint32_t i)
{
    mw_key *key = c->key[q];
    int32_t *bid = c->bid[q];
    uint32_t mask = c->mask, j = i;
    for (;;) {
        j = (j + 1) & mask;
        mw_key kj = key[j];
        if (!kj.p)
            break;
        uint32_t home = khash(kj) & mask;
        /* kj may move to i if its home is not in the cyclic range (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            int32_t b = bid[j];
            key[i] = kj;
            bid[i] = b;
            c->bk[(uint32_t)b].slot = (int32_t)i;
            i = j;
        }
    }
    key[i].p = 0; /* empty; the rest of an empty slot is never read */
}

/* Looks up key k (hash h) in position q's table: returns the slot holding its bucket (*b the
 * bucket), or the empty slot where it would go (*b SLOT_EMPTY). */
MW_INLINE uint32_t table_probe(const mw_ctx *c, uint32_t q, mw_key k, uint32_t h,
                               enum mm_field field, int32_t *b)
{
    const mw_key *key = c->key[q];
    uint32_t mask = c->mask, i = h & mask;
    for (;;) {
        mw_key s = key[i];
        if (s.p == k.p && (field == MM_GF2 || s.n == k.n)) {
            *b = c->bid[q][i];
            return i;
        }
        if (!s.p) {
            *b = SLOT_EMPTY;
            return i;
        }
        i = (i + 1) & mask;
    }
}

/* Appends product t (position q) to bucket b; the bucket becomes hot at two members. Returns
 * the bucket's new size, or RT_ENOMEM. */
MW_INLINE int bucket_append(mm_walker *w, const mw_ctx *c, uint32_t t, uint32_t q, uint32_t b)
{
    mw_bucket *bu = &c->bk[b];
    if (__builtin_expect(bu->cnt == bu->cap, 0) && bucket_grow(bu))
        return RT_ENOMEM;
    c->prod[t].l[q] = (mw_loc){(int32_t)b, bu->cnt};
    bu->mem[(uint32_t)bu->cnt++] = (int32_t)t;
    if (bu->cnt == 2)
        hot_add(w, c, b);
    return bu->cnt;
}

/* Puts product t into the bucket of key k (hash h) at position q, creating the bucket if the
 * key has none. Returns the bucket's new size (>= 1), or RT_ENOMEM (negative). */
MW_INLINE int index_put(mm_walker *w, const mw_ctx *c, uint32_t t, uint32_t q, mw_key k,
                        uint32_t h, enum mm_field field)
{
    int32_t b;
    uint32_t i = table_probe(c, q, k, h, field, &b);
    if (b == SLOT_EMPTY) {
        b = c->freeb[--w->nfree];
        c->key[q][i] = k;
        c->bid[q][i] = b;
        mw_bucket *nb = &c->bk[(uint32_t)b];
        nb->slot = (int32_t)i;
        nb->q = (int32_t)q;
        nb->cnt = 0;
        nb->hot = -1;
    }
    return bucket_append(w, c, t, q, (uint32_t)b);
}

MW_INLINE int index_add(mm_walker *w, const mw_ctx *c, uint32_t t, uint32_t q,
                        enum mm_field field)
{
    mw_key k = kcanon(c->prod[t].f[q], field);
    return index_put(w, c, t, q, k, khash(k), field);
}

MW_INLINE void index_del(mm_walker *w, const mw_ctx *c, uint32_t t, uint32_t q)
{
    mw_loc l = c->prod[t].l[q];
    mw_bucket *bu = &c->bk[(uint32_t)l.b];
    int32_t last = bu->mem[(uint32_t)--bu->cnt];
    bu->mem[(uint32_t)l.i] = last;
    c->prod[(uint32_t)last].l[q].i = l.i;
    if (bu->cnt == 1)
        hot_del(w, c, (uint32_t)l.b);
    else if (bu->cnt == 0) {
        slot_delete(c, q, (uint32_t)bu->slot);
        c->freeb[w->nfree++] = l.b;
    }
}

/* Removes product t (not indexed at position `skip`, or -1 if indexed at all three), moving
 * the last product into its place. */
static void prod_remove(mm_walker *w, int t, int skip)
{
    const mw_ctx *c = &w->c;
    for (int q = 0; q < 3; q++)
        if (q != skip)
            index_del(w, c, (uint32_t)t, (uint32_t)q);
    int last = --w->rank;
    if (t != last) {
        c->prod[t] = c->prod[last];
        for (int q = 0; q < 3; q++) {
            mw_loc l = c->prod[t].l[q];
            c->bk[l.b].mem[l.i] = t;
        }
    }
    for (int k = 0; k < 2; k++) {
        if (w->watch[k] == t)
            w->watch[k] = -1;
        else if (w->watch[k] == last)
            w->watch[k] = t;
    }
}

/* Factor q of product t became zero: the product goes. Returns 1. */
static __attribute__((noinline)) int factor_zero(mm_walker *w, int t, int q)
{
    index_del(w, &w->c, (uint32_t)t, (uint32_t)q);
    w->c.prod[t].f[q] = (mm_vec){0, 0};
    prod_remove(w, t, q);
    return 1;
}

/* Sets factor q of product t to v, keeping the index. Returns 1 if the product vanished (v was
 * zero), 0 if it is alone with that factor, 2 if it shares it (a merge may be possible), or
 * RT_ENOMEM (negative). */
MW_INLINE int set_factor(mm_walker *w, const mw_ctx *c, uint32_t t, uint32_t q, mm_vec v,
                         enum mm_field field)
{
    if (__builtin_expect(mm_vec_zero(v), 0))
        return factor_zero(w, (int)t, (int)q);
    mw_key k = kcanon(v, field);
    uint32_t h = khash(k);
    mw_prod *pt = &c->prod[t];
    uint32_t ob = (uint32_t)pt->l[q].b;
    mw_bucket *obu = &c->bk[ob];
    if (field == MM_GF2)
        pt->f[q].p = v.p; /* n stays 0 */
    else
        pt->f[q] = v;
    if (obu->cnt == 1) {
        /* alone with its old value (the usual case): the bucket moves to the new key unless
         * that key has a bucket already */
        slot_delete(c, q, (uint32_t)obu->slot);
        int32_t b;
        uint32_t i = table_probe(c, q, k, h, field, &b);
        if (b == SLOT_EMPTY) {
            c->key[q][i] = k;
            c->bid[q][i] = (int32_t)ob;
            obu->slot = (int32_t)i;
            return 0;
        }
        /* the key has a bucket: free the old one (after the append, which may fail) */
        int rc = bucket_append(w, c, t, q, (uint32_t)b);
        if (rc < 0)
            return rc;
        obu->cnt = 0;
        c->freeb[w->nfree++] = (int32_t)ob;
        return 2;
    }
    index_del(w, c, t, q);
    int n = index_put(w, c, t, q, k, h, field);
    return n < 0 ? RT_ENOMEM : n > 1 ? 2 : 0;
}

/* Product t's factor at q has just changed: merge it with any product that now agrees with it
 * (up to sign) at q and at a second position, repeatedly. Returns products removed; t is
 * followed through w->watch[0]. */
static __attribute__((noinline)) int settle(mm_walker *w, int q)
{
    const mw_ctx *c = &w->c;
    mw_prod *prod = c->prod;
    int removed = 0;
    for (;;) {
        int t = w->watch[0];
        if (t < 0)
            return removed;
        const mw_bucket *bu = &c->bk[c->prod[t].l[q].b];
        int merged = 0;
        for (int32_t k = 0; k < bu->cnt && !merged; k++) {
            int u = bu->mem[k];
            if (u == t)
                continue;
            int m = w->field == MM_GF2 ? 1 : mm_vec_match(prod[u].f[q], prod[t].f[q]);
            for (int d = 1; d <= 2; d++) {
                int o = (q + d) % 3, third = 3 - q - o;
                int m2 = mm_vec_match(prod[u].f[o], prod[t].f[o]);
                if (!m2)
                    continue;
                mm_vec sum;
                if (mm_vec_add(w->field, prod[t].f[third], prod[u].f[third], m * m2, &sum))
                    continue;
                prod_remove(w, u, -1);
                removed++;
                t = w->watch[0];
                int rc = set_factor(w, c, (uint32_t)t, (uint32_t)third, sum, w->field);
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

/* Whether product t shares its factor at q with a product that also agrees with it (up to
 * sign) at another position: the test that lets a flip skip settle() (the usual answer is no). */
MW_INLINE int may_merge(const mw_ctx *c, int t, int q, enum mm_field field)
{
    const mw_bucket *bu = &c->bk[c->prod[t].l[q].b];
    if (bu->cnt < 2)
        return 0;
    int o1 = q == 0 ? 1 : 0, o2 = q == 2 ? 1 : 2;
    mm_vec t1 = c->prod[t].f[o1], t2 = c->prod[t].f[o2];
    for (int32_t k = 0; k < bu->cnt; k++) {
        int u = bu->mem[k];
        const mw_prod *pu = &c->prod[u];
        if (field == MM_GF2) {
            if ((pu->f[o1].p == t1.p || pu->f[o2].p == t2.p) && u != t)
                return 1;
        } else if ((eq_pm(pu->f[o1], t1) || eq_pm(pu->f[o2], t2)) && u != t) {
            return 1;
        }
    }
    return 0;
}

/* Settles product t after its factor q changed (t may be -1: nothing to do). Returns the
 * products removed; the other watched product w->watch[1] is kept up to date. */
MW_INLINE int settle_prod(mm_walker *w, const mw_ctx *c, int t, int q, enum mm_field field)
{
    if (t < 0 || !may_merge(c, t, q, field))
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
            if (settle_prod(w, &w->c, t, q, w->field)) {
                t = -1;
                break;
            }
}

int mm_walker_load(mm_walker *w, const mm_scheme *s)
{
    if (s->rank > w->cap - 2)
        return RT_EUSAGE;
    w->rank = 0;
    w->watch[0] = w->watch[1] = -1;
    index_clear(w);
    for (int t = 0; t < s->rank; t++) {
        const mm_prod *pr = &s->prod[t];
        if (mm_vec_zero(pr->f[0]) || mm_vec_zero(pr->f[1]) || mm_vec_zero(pr->f[2]))
            continue;
        int i = w->rank++;
        for (int q = 0; q < 3; q++)
            w->c.prod[i].f[q] = pr->f[q];
        for (int q = 0; q < 3; q++)
            if (index_add(w, &w->c, (uint32_t)i, (uint32_t)q, w->field) < 0)
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
    for (int t = 0; t < w->rank; t++)
        for (int q = 0; q < 3; q++)
            out->prod[t].f[q] = w->c.prod[t].f[q];
    out->rank = w->rank;
    out->n = w->n;
    out->m = w->m;
    out->p = w->p;
    out->field = w->field;
    return 0;
}

int mm_walker_rank(const mm_walker *w) { return w->rank; }

/* ---- the walk ---------------------------------------------------------------------------- */

/* Two-lane vectors (GCC/Clang vector extensions; SSE2 on x86-64, NEON on arm64, plain words
 * elsewhere): a factor as (p, n). */
typedef uint64_t mw_v2 __attribute__((vector_size(16)));

static inline mw_v2 v2_load(const mm_vec *v)
{
    mw_v2 r;
    memcpy(&r, v, sizeof r); /* one unaligned 16-byte load */
    return r;
}
static inline mw_v2 v2_swap(mw_v2 v) { return (mw_v2){v[1], v[0]}; }
static inline uint64_t v2_any(mw_v2 v) { return v[0] | v[1]; }

/* -v where the mask is all ones, v where it is zero. */
static inline mw_v2 v2_neg_if(mw_v2 v, uint64_t mask)
{
    mw_v2 m = {mask, mask};
    return v ^ ((v ^ v2_swap(v)) & m);
}

/* u + v when no coefficient leaves {-1,0,1}: the union of each sign, less the cancellations. */
static inline mw_v2 v2_add_ok(mw_v2 u, mw_v2 v)
{
    mw_v2 s = u | v;
    return s & ~v2_swap(s);
}

/* The walk loop for one field (a constant after inlining). Each attempt draws one 64-bit
 * number: bits 0-31 choose the hot bucket, 32-47 the first member, 48-61 the second, 62 which
 * of the two other positions the first member changes, 63 the sign (over Z). Over Z, when the
 * drawn sign leaves {-1,0,1} the other sign is used, and when both do the attempt makes no
 * change. Returns the flips made; *attempts and *red accumulate attempts and reductions. */
MW_INLINE long long run_field(mm_walker *w, rt_rng *rng, long long flips, int stop_below,
                              enum mm_field field, long long *attempts, long long *red)
{
    const mw_ctx c = w->c;
    rt_rng g = *rng; /* a local copy the compiler may keep in registers; written back at the end */
    long long done = 0, tries = 0, reds = 0;
    while (done < flips) {
        uint32_t nhot = (uint32_t)w->nhot;
        tries++; /* an attempt that finds nothing hot counts too (the scheme is isolated) */
        if (__builtin_expect((tries & 0xfffff) == 0, 0) && rt_work_cut())
            break; /* the session is over (util.h): every 2^20 attempts, a few ms */
        if (nhot == 0)
            break;
        uint64_t r = rt_rng_next(&g);
        const mw_bucket *bu = &c.bk[(uint32_t)c.hot[(uint32_t)(((r & 0xffffffffu) * nhot) >> 32)]];
        uint32_t x = (uint32_t)bu->q;
        uint32_t cnt = (uint32_t)bu->cnt;
        uint32_t i = (uint32_t)((((r >> 32) & 0xffffu) * cnt) >> 16);
        uint32_t j = (uint32_t)((((r >> 48) & 0x3fffu) * (cnt - 1)) >> 14);
        j += j >= i;
        uint32_t a = (uint32_t)bu->mem[i], b = (uint32_t)bu->mem[j];
        /* y: the position after x (bit 62 clear) or the one after that, read from a table
         * of 2-bit entries indexed by 2x + bit (1 2 | 2 0 | 0 1); z: the third */
        uint32_t y = (0x429u >> (4 * x + 2 * (uint32_t)((r >> 62) & 1))) & 3;
        uint32_t z = 3 - x - y;
        const mw_prod *pa = &c.prod[a], *pb = &c.prod[b];
        mm_vec ny, nz;
        if (field == MM_GF2) {
            ny = (mm_vec){pa->f[y].p ^ pb->f[y].p, 0};
            nz = (mm_vec){pb->f[z].p ^ pa->f[z].p, 0};
        } else {
            /* a: y += eps*sigma*b.y; b: z -= eps*a.z, where b.x = sigma*a.x. Vectors of two
             * lanes (p, n): a lane swap is a negation, so both signs are tested with a few
             * 128-bit operations. */
            mw_v2 ay = v2_load(&pa->f[y]), az = v2_load(&pa->f[z]), bz = v2_load(&pb->f[z]);
            mw_v2 by = v2_load(&pb->f[y]);
            uint64_t ms = -(uint64_t)(pa->f[x].p != pb->f[x].p);
            by = v2_neg_if(by, ms);
            /* eps = +1: y gets ay + by, z gets bz - az; eps = -1: ay - by, bz + az */
            uint64_t bad_plus = v2_any((ay & by) | (bz & v2_swap(az)));
            uint64_t bad_minus = v2_any((ay & v2_swap(by)) | (bz & az));
            if (bad_plus && bad_minus)
                continue; /* neither sign stays in range: no change */
            /* the drawn sign (bit 63 set: eps = -1) if it stays in range, else the other one;
             * chosen without a branch */
            uint64_t neg = (uint64_t)(bad_plus != 0) | ((uint64_t)(bad_minus == 0) & (r >> 63));
            uint64_t mneg = -neg;
            mw_v2 vy = v2_add_ok(ay, v2_neg_if(by, mneg));
            mw_v2 vz = v2_add_ok(bz, v2_neg_if(az, ~mneg));
            ny = (mm_vec){vy[0], vy[1]};
            nz = (mm_vec){vz[0], vz[1]};
        }
        /* a: y changes; b: z changes. Both changes are made before any merge: a merge of a with
         * b must see b's new factor. Removals move products, so both are followed through
         * watch. */
        w->watch[0] = (int)a;
        w->watch[1] = (int)b;
        int ra = set_factor(w, &c, a, y, ny, field);
        if (ra < 0)
            goto out;
        int rb = 0;
        if (__builtin_expect(ra != 1, 1) || w->watch[1] >= 0) {
            if (ra == 1)
                b = (uint32_t)w->watch[1];
            rb = set_factor(w, &c, b, z, nz, field);
            if (rb < 0)
                goto out;
        }
        done++;
        if (ra == 2 || rb == 2 || ra == 1 || rb == 1) {
            int removed = (ra == 1) + (rb == 1);
            /* a product alone in its new bucket has nothing to merge with; if a merge of a
             * later puts a next to b, settling a sees the pair */
            if (ra == 2) {
                int ta = w->watch[0];
                w->watch[0] = -1;
                removed += settle_prod(w, &c, ta, (int)y, field);
            }
            if (rb == 2)
                removed += settle_prod(w, &c, w->watch[1], (int)z, field);
            reds += removed;
            if (removed && w->rank < stop_below) {
                w->watch[0] = w->watch[1] = -1;
                break;
            }
        }
        w->watch[0] = w->watch[1] = -1;
    }
out:
    *rng = g;
    w->watch[0] = w->watch[1] = -1;
    *attempts += tries;
    *red += reds;
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
    const mw_ctx *c = &w->c;
    for (int tries = 0; tries < 64; tries++) {
        int i = (int)rt_rng_below(rng, (uint32_t)w->rank);
        int j = (int)rt_rng_below(rng, (uint32_t)(w->rank - 1));
        if (j >= i)
            j++;
        const mw_prod *ps = &c->prod[i], *pt = &c->prod[j];
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
        mm_vec s_rc = ps->f[rc];
        /* i: a -> a - a' ; j: (a', b - b', c) ; new: a'b'(c+c') */
        int k = w->rank++;
        c->prod[k].f[ra] = pt->f[ra];
        c->prod[k].f[rb] = pt->f[rb];
        c->prod[k].f[rc] = c_plus;
        for (int q = 0; q < 3; q++)
            if (index_add(w, c, (uint32_t)k, (uint32_t)q, w->field) < 0)
                return -1;
        /* the factors differ (no position matched), so none of these is zero */
        if (set_factor(w, c, (uint32_t)i, (uint32_t)ra, a_minus, w->field) < 0 ||
            set_factor(w, c, (uint32_t)j, (uint32_t)rb, b_minus, w->field) < 0 ||
            set_factor(w, c, (uint32_t)j, (uint32_t)rc, s_rc, w->field) < 0)
            return -1;
        /* any pair made mergeable includes a changed product: settle them all (rare move) */
        settle_all(w);
        return 0;
    }
    return -1;
}

/* ---- consistency check (tests) ----------------------------------------------------------- */

int mm_walker_check(const mm_walker *w)
{
    const mw_ctx *c = &w->c;
    int hot = 0, live = 0;
    for (int q = 0; q < 3; q++) {
        for (int t = 0; t < w->rank; t++) {
            int32_t b = c->prod[t].l[q].b, i = c->prod[t].l[q].i;
            if (b < 0 || b >= 3 * w->cap)
                return 2;
            const mw_bucket *bu = &c->bk[b];
            if (mm_vec_zero(c->prod[t].f[q]))
                return 1;
            if (bu->q != q || i < 0 || i >= bu->cnt || bu->mem[i] != t)
                return 2;
            mw_key k = kcanon(c->prod[t].f[q], w->field);
            if (bu->slot < 0 || (uint32_t)bu->slot > c->mask)
                return 4;
            mw_key sk = c->key[q][bu->slot];
            if (k.p != sk.p || k.n != sk.n)
                return 3;
            if (c->bid[q][bu->slot] != b)
                return 4;
        }
        /* every occupied slot is reachable from its home (no empty slot on its probe path) */
        for (uint32_t i = 0; i <= c->mask; i++) {
            if (!c->key[q][i].p)
                continue;
            for (uint32_t s = khash(c->key[q][i]) & c->mask; s != i; s = (s + 1) & c->mask)
                if (!c->key[q][s].p)
                    return 8;
        }
    }
    for (int b = 0; b < 3 * w->cap; b++) {
        const mw_bucket *bu = &c->bk[b];
        if (bu->cnt > 0)
            live += bu->cnt;
        if (bu->cnt >= 2) {
            hot++;
            if (bu->hot < 0 || bu->hot >= w->nhot || c->hot[bu->hot] != b)
                return 5;
        }
    }
    if (live != 3 * w->rank)
        return 6;
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
