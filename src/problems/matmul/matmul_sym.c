/* matmul_sym.c — cyclically symmetric schemes for <n,n,n>: the trivial symmetric start, orbit
 * recovery from a full scheme, expansion, and the symmetric flip graph (see matmul_sym.h).
 *
 * The walk keeps an index from factor value (up to sign) to the orbit slots holding it, so that
 * a flip partner is drawn in O(1): a random value held by at least two slots ("flippable"), then
 * a random ordered pair of its slots. Slot 3o+k is position k of orbit o's representative.
 * Nothing here is trusted: the engine expands the scheme and the gate verifies the text.
 */
#include "problems/matmul/matmul_sym.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- factor arithmetic (the shared part is in matmul_search.h) --------------------------- */

static inline int v_eq(mm_vec a, mm_vec b) { return a.p == b.p && a.n == b.n; }
static inline mm_vec v_sign(mm_vec a, int sign) { return sign < 0 ? mm_vec_neg(a) : a; }

/* The representative of {v, -v} whose lowest nonzero coefficient is positive; *sign is the sign
 * with v = sign * key. */
static inline mm_vec v_norm(mm_vec v, int *sign)
{
    uint64_t any = v.p | v.n;
    uint64_t low = any & (~any + 1);
    if (v.n & low) {
        *sign = -1;
        return mm_vec_neg(v);
    }
    *sign = 1;
    return v;
}

/* ---- storage ------------------------------------------------------------------------------ */

static int sym_alloc(mm_sym *s, int n, enum mm_field field, int ncube, int cap)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->field = field;
    s->cap = cap < 4 ? 4 : cap;
    s->f = calloc((size_t)s->cap * 3, sizeof *s->f);
    s->cube = calloc((size_t)(ncube > 0 ? ncube : 1), sizeof *s->cube);
    if (!s->f || !s->cube) {
        mm_sym_free(s);
        return RT_ENOMEM;
    }
    return 0;
}

static int sym_reserve(mm_sym *s, int need)
{
    if (need <= s->cap)
        return 0;
    if (need > MM_SYM_MAX_ORBITS)
        return RT_ETOOBIG;
    int cap = s->cap * 2;
    while (cap < need)
        cap *= 2;
    mm_vec *nf = realloc(s->f, (size_t)cap * 3 * sizeof *nf);
    if (!nf)
        return RT_ENOMEM;
    memset(nf + 3 * (size_t)s->cap, 0, (size_t)(cap - s->cap) * 3 * sizeof *nf);
    s->f = nf;
    s->cap = cap;
    return 0;
}

void mm_sym_free(mm_sym *s)
{
    if (!s)
        return;
    free(s->f);
    free(s->cube);
    s->f = NULL;
    s->cube = NULL;
    s->norb = s->cap = s->ncube = 0;
}

int mm_sym_copy(mm_sym *dst, const mm_sym *src)
{
    int rc = sym_alloc(dst, src->n, src->field, src->ncube, src->cap);
    if (rc)
        return rc;
    memcpy(dst->f, src->f, (size_t)src->norb * 3 * sizeof *src->f);
    memcpy(dst->cube, src->cube, (size_t)src->ncube * sizeof *src->cube);
    dst->norb = src->norb;
    dst->ncube = src->ncube;
    dst->twin = src->twin;
    return 0;
}

static inline int orbit_live(const mm_sym *s, int o) { return !mm_vec_zero(s->f[3 * o]); }

/* Products per orbit. */
static inline int orbit_size(const mm_sym *s) { return s->twin ? 6 : 3; }

int mm_sym_rank(const mm_sym *s)
{
    int live = 0;
    for (int o = 0; o < s->norb; o++)
        live += orbit_live(s, o);
    return orbit_size(s) * live + s->ncube;
}

/* ---- the twin involution g ---------------------------------------------------------------- */

/* pi: swaps 2i and 2i+1, fixes the last index of an odd n. */
static inline int twin_pi(int n, int i) { return (i ^ 1) < n ? i ^ 1 : i; }

static uint64_t g_mask_slow(int n, uint64_t m)
{
    uint64_t out = 0;
    while (m) {
        int e = __builtin_ctzll(m);
        m &= m - 1;
        out |= 1ULL << (twin_pi(n, e / n) * n + twin_pi(n, e % n));
    }
    return out;
}

mm_vec mm_sym_g(int n, mm_vec v) { return (mm_vec){g_mask_slow(n, v.p), g_mask_slow(n, v.n)}; }

/* g by byte tables, for the walk: t[b][x] is the image of byte value x at byte b. */
typedef struct gtab {
    int nbytes;
    uint64_t t[8][256];
} gtab;

static void gtab_init(gtab *g, int n)
{
    g->nbytes = (n * n + 7) / 8;
    for (int b = 0; b < g->nbytes; b++)
        for (int x = 0; x < 256; x++)
            g->t[b][x] = g_mask_slow(n, (uint64_t)x << (8 * b));
}

static inline uint64_t g_mask(const gtab *g, uint64_t m)
{
    uint64_t out = 0;
    for (int b = 0; b < g->nbytes; b++)
        out |= g->t[b][(m >> (8 * b)) & 255];
    return out;
}

static inline mm_vec g_vec(const gtab *g, enum mm_field field, mm_vec v)
{
    return (mm_vec){g_mask(g, v.p), field == MM_Z ? g_mask(g, v.n) : 0};
}

/* Drops dead orbits, keeping the order of the live ones. */
static void sym_compact(mm_sym *s)
{
    int k = 0;
    for (int o = 0; o < s->norb; o++)
        if (orbit_live(s, o)) {
            if (k != o)
                memcpy(&s->f[3 * k], &s->f[3 * o], 3 * sizeof *s->f);
            k++;
        }
    memset(&s->f[3 * k], 0, (size_t)(s->norb - k) * 3 * sizeof *s->f);
    s->norb = k;
}

/* ---- the trivial symmetric scheme --------------------------------------------------------- */

int mm_sym_default_parts(int n)
{
    switch (n) {
    case 2: return 1; /* 7 = 3*2 + 1 */
    case 3: return 2; /* 23 = 3*7 + 2 */
    case 4: return 1; /* 49 = 3*16 + 1 */
    case 5: return 3; /* 93 = 3*30 + 3 */
    case 6: return 3; /* 153 = 3*50 + 3 */
    default: return n;
    }
}

/* Bit of entry (r,c) of an n x n factor. */
static inline uint64_t ebit(int n, int r, int c) { return 1ULL << (r * n + c); }

/* The least rotation of the index triple (i,j,k), as i*n*n + j*n + k. */
static int least_rotation(int n, int i, int j, int k)
{
    int a = (i * n + j) * n + k, b = (j * n + k) * n + i, c = (k * n + i) * n + j;
    int m = a < b ? a : b;
    return m < c ? m : c;
}

int mm_sym_trivial(mm_sym *s, int n, enum mm_field field, int parts)
{
    return mm_sym_start(s, n, field, parts, 0);
}

/* The block of each diagonal index for `parts` contiguous blocks whose sizes differ by <= 1
 * (1 <= parts <= n <= MM_MAX_DIM). */
static void diag_blocks(int n, int parts, int block[MM_MAX_DIM])
{
    for (int b = 0, i = 0; b < parts; b++) {
        int size = n / parts + (b < n % parts);
        for (int t = 0; t < size; t++)
            block[i++] = b;
    }
}

int mm_sym_twin_blocks_ok(int n, int parts)
{
    if (n < 1 || n > MM_MAX_DIM || parts < 1 || parts > n)
        return 0;
    int block[MM_MAX_DIM];
    diag_blocks(n, parts, block);
    for (int i = 0; i < n; i++)
        if (block[twin_pi(n, i)] != block[i])
            return 0;
    return 1;
}

int mm_sym_start(mm_sym *s, int n, enum mm_field field, int parts, int twin)
{
    if (n < 1 || n > MM_MAX_DIM || parts < 1 || parts > n || (field != MM_Z && field != MM_GF2) ||
        (twin != 0 && twin != 1) || (twin && !mm_sym_twin_blocks_ok(n, parts)))
        return RT_EUSAGE;
    int block[MM_MAX_DIM];
    diag_blocks(n, parts, block);
    int rc = sym_alloc(s, n, field, parts, n * n * n + 8);
    if (rc)
        return rc;
    s->twin = twin;
    s->ncube = parts;
    for (int i = 0; i < n; i++)
        s->cube[block[i]].p |= ebit(n, i, i);
    /* standard terms with (i,j,k) not all equal, one per rotation class: the class's least
     * rotation is (i,j,k) */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            for (int k = 0; k < n; k++) {
                if (i == j && j == k)
                    continue;
                int self = (i * n + j) * n + k;
                if (least_rotation(n, i, j, k) != self)
                    continue;
                if (twin) { /* one orbit of each pair {orbit, its image under g} */
                    int img = least_rotation(n, twin_pi(n, i), twin_pi(n, j), twin_pi(n, k));
                    if (img == self) {
                        mm_sym_free(s);
                        return RT_EUSAGE;
                    }
                    if (img < self)
                        continue;
                }
                mm_vec *r = &s->f[3 * s->norb++];
                r[0] = (mm_vec){ebit(n, i, j), 0};
                r[1] = (mm_vec){ebit(n, j, k), 0};
                r[2] = (mm_vec){ebit(n, k, i), 0};
                /* correction terms -(E_ii, E_jj, E_kk) for i,j,k in one block */
                if (block[i] == block[j] && block[j] == block[k]) {
                    r = &s->f[3 * s->norb++];
                    uint64_t a = ebit(n, i, i);
                    r[0] = field == MM_Z ? (mm_vec){0, a} : (mm_vec){a, 0};
                    r[1] = (mm_vec){ebit(n, j, j), 0};
                    r[2] = (mm_vec){ebit(n, k, k), 0};
                }
            }
    return 0;
}

/* ---- expansion and recovery --------------------------------------------------------------- */

int mm_sym_expand(const mm_sym *s, mm_scheme *out)
{
    int rank = mm_sym_rank(s);
    memset(out, 0, sizeof *out);
    out->n = out->m = out->p = s->n;
    out->field = s->field;
    out->cap = rank + 8;
    out->prod = calloc((size_t)out->cap, sizeof *out->prod);
    if (!out->prod)
        return RT_ENOMEM;
    for (int c = 0; c < s->ncube; c++) {
        mm_prod *pr = &out->prod[out->rank++];
        pr->f[0] = pr->f[1] = pr->f[2] = s->cube[c];
    }
    for (int o = 0; o < s->norb; o++) {
        if (!orbit_live(s, o))
            continue;
        mm_vec r[6];
        for (int k = 0; k < 3; k++) {
            r[k] = s->f[3 * o + k];
            r[3 + k] = s->twin ? mm_sym_g(s->n, r[k]) : r[k];
        }
        for (int t = 0; t < (s->twin ? 6 : 3); t += 3)
            for (int k = 0; k < 3; k++) {
                mm_prod *pr = &out->prod[out->rank++];
                pr->f[0] = r[t + k];
                pr->f[1] = r[t + (k + 1) % 3];
                pr->f[2] = r[t + (k + 2) % 3];
            }
    }
    return 0;
}

/* A product as a tensor: the first two factors sign-normalised, the third carrying the sign. */
static mm_prod prod_norm(enum mm_field field, mm_vec a, mm_vec b, mm_vec c)
{
    mm_prod out = {{a, b, c}};
    if (field == MM_Z) {
        int s0, s1;
        out.f[0] = v_norm(a, &s0);
        out.f[1] = v_norm(b, &s1);
        out.f[2] = v_sign(c, s0 * s1);
    }
    return out;
}

static int prod_cmp(const mm_prod *a, const mm_prod *b)
{
    for (int q = 0; q < 3; q++) {
        if (a->f[q].p != b->f[q].p)
            return a->f[q].p < b->f[q].p ? -1 : 1;
        if (a->f[q].n != b->f[q].n)
            return a->f[q].n < b->f[q].n ? -1 : 1;
    }
    return 0;
}

typedef struct keyed {
    mm_prod key;
    int idx;
} keyed;

static int keyed_cmp(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    int c = prod_cmp(&a->key, &b->key);
    return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

/* Index into sorted[0..count) of an unused product equal to key, or -1. */
static int find_unused(const keyed *sorted, int count, const unsigned char *used, const mm_prod *key)
{
    int lo = 0, hi = count;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (prod_cmp(&sorted[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int i = lo; i < count && prod_cmp(&sorted[i].key, key) == 0; i++)
        if (!used[i])
            return i;
    return -1;
}

/* Whether orbit representative b, rotated by some r, is the same three products as a. */
static int same_orbit(enum mm_field field, const mm_vec *a, const mm_vec *b)
{
    mm_prod pa = prod_norm(field, a[0], a[1], a[2]);
    for (int r = 0; r < 3; r++) {
        mm_prod pb = prod_norm(field, b[r], b[(r + 1) % 3], b[(r + 2) % 3]);
        if (prod_cmp(&pa, &pb) == 0)
            return 1;
    }
    return 0;
}

/* Pairs the orbits and the cubes of s (a plain cyclic scheme) with their images under g and
 * keeps one orbit of each pair. Returns 0 or RT_EUSAGE (err says why). */
static int pair_twins(mm_sym *s, char *err, size_t errlen)
{
    int n = s->n;
    for (int c = 0; c < s->ncube; c++) {
        mm_vec img = mm_sym_g(n, s->cube[c]);
        int found = 0;
        for (int d = 0; d < s->ncube && !found; d++)
            found = v_eq(s->cube[d], img);
        if (!found)
            return rt_fail(err, errlen, RT_EUSAGE,
                           "cube %d has no image under the twin involution: the scheme is not "
                           "twin-symmetric", c + 1);
    }
    unsigned char *paired = calloc((size_t)(s->norb > 0 ? s->norb : 1), 1);
    if (!paired)
        return RT_ENOMEM;
    for (int o = 0; o < s->norb; o++) {
        if (paired[o])
            continue;
        mm_vec img[3];
        for (int k = 0; k < 3; k++)
            img[k] = mm_sym_g(n, s->f[3 * o + k]);
        int twin = -1;
        for (int t = o + 1; t < s->norb && twin < 0; t++)
            if (!paired[t] && same_orbit(s->field, img, &s->f[3 * t]))
                twin = t;
        if (twin < 0) {
            free(paired);
            return rt_fail(err, errlen, RT_EUSAGE,
                           "an orbit has no image under the twin involution: the scheme is not "
                           "twin-symmetric");
        }
        paired[o] = paired[twin] = 1;
        memset(&s->f[3 * twin], 0, 3 * sizeof *s->f);
    }
    free(paired);
    sym_compact(s);
    s->twin = 1;
    return 0;
}

int mm_sym_from_scheme(mm_sym *s, const mm_scheme *full, char *err, size_t errlen)
{
    return mm_sym_from_scheme_twin(s, full, 0, err, errlen);
}

int mm_sym_from_scheme_twin(mm_sym *s, const mm_scheme *full, int twin, char *err,
                            size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (full->n != full->m || full->m != full->p)
        return rt_fail(err, errlen, RT_EUSAGE, "symmetric schemes need a square shape, not %dx%dx%d",
                       full->n, full->m, full->p);
    enum mm_field field = full->field;
    int count = 0;
    keyed *sorted = malloc((size_t)(full->rank > 0 ? full->rank : 1) * sizeof *sorted);
    unsigned char *used = calloc((size_t)(full->rank > 0 ? full->rank : 1), 1);
    int rc = sym_alloc(s, full->n, field, full->rank, full->rank / 3 + 8);
    if (!sorted || !used || rc) {
        rc = RT_ENOMEM;
        goto fail;
    }
    for (int t = 0; t < full->rank; t++) {
        const mm_prod *pr = &full->prod[t];
        if (mm_vec_zero(pr->f[0]) || mm_vec_zero(pr->f[1]) || mm_vec_zero(pr->f[2]))
            continue; /* contributes nothing */
        sorted[count].key = prod_norm(field, pr->f[0], pr->f[1], pr->f[2]);
        sorted[count].idx = t;
        count++;
    }
    qsort(sorted, (size_t)count, sizeof *sorted, keyed_cmp);
    for (int i = 0; i < count; i++) {
        if (used[i])
            continue;
        used[i] = 1;
        const mm_prod *pr = &full->prod[sorted[i].idx];
        mm_vec a = pr->f[0], b = pr->f[1], c = pr->f[2];
        int m1 = mm_vec_match(a, b), m2 = mm_vec_match(a, c);
        if (m1 && m2) { /* a (x) m1 a (x) m2 a = (m1 m2 a)^3 */
            s->cube[s->ncube++] = v_sign(a, m1 * m2);
            continue;
        }
        mm_prod r1 = prod_norm(field, b, c, a), r2 = prod_norm(field, c, a, b);
        int j1 = find_unused(sorted, count, used, &r1);
        if (j1 >= 0)
            used[j1] = 1;
        int j2 = j1 >= 0 ? find_unused(sorted, count, used, &r2) : -1;
        if (j2 < 0) {
            rc = rt_fail(err, errlen, RT_EUSAGE,
                         "product %d has no rotated partner: the scheme is not cyclically symmetric",
                         sorted[i].idx + 1);
            goto fail;
        }
        used[j2] = 1;
        rc = sym_reserve(s, s->norb + 1);
        if (rc)
            goto fail;
        mm_vec *r = &s->f[3 * s->norb++];
        r[0] = a;
        r[1] = b;
        r[2] = c;
    }
    free(sorted);
    free(used);
    sorted = NULL;
    used = NULL;
    if (twin && (rc = pair_twins(s, err, errlen)))
        goto fail;
    return 0;
fail:
    free(sorted);
    free(used);
    mm_sym_free(s);
    return rc;
}

/* ---- the walk's index --------------------------------------------------------------------- */

typedef struct walker {
    mm_sym *s;
    enum mm_field field;
    int nslot;          /* 3 * s->norb */
    int live;           /* live orbits */
    int32_t *slot_b;    /* bucket of each slot; -1 when its factor is zero */
    int32_t *slot_at;   /* where the slot sits in its bucket's member list */
    mm_vec *bkey;       /* bucket b holds the slots whose factor is +-bkey[b] */
    int32_t *bcount;
    int16_t *bmem;      /* bucket b's members: bmem[b*nslot ...] */
    int32_t *bfree;
    int nfree;
    int32_t *table;     /* open addressing by key: bucket id or -1 */
    uint32_t tmask;
    int32_t *flip;      /* buckets with at least two members */
    int32_t *flip_at;
    int nflip;
    long long reductions;
    uint32_t *bhome;    /* bucket b's home position in the table (its key's hash) */
    uint32_t *bpos;     /* where bucket b sits in the table */
    gtab *g;            /* twin symmetry: g's tables; NULL otherwise */
    uint8_t *bfixed;    /* twin: bucket b's key is fixed by g (up to sign) */
} walker;

static inline uint32_t key_hash(mm_vec k)
{
    uint64_t h = k.p * 0x9e3779b97f4a7c15ULL ^ (k.n + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
    return (uint32_t)(h ^ (h >> 32));
}

static void walker_free(walker *w)
{
    free(w->slot_b);
    free(w->slot_at);
    free(w->bkey);
    free(w->bcount);
    free(w->bmem);
    free(w->bfree);
    free(w->table);
    free(w->flip);
    free(w->flip_at);
    free(w->g);
    free(w->bfixed);
    free(w->bhome);
    free(w->bpos);
    memset(w, 0, sizeof *w);
}

/* Removes the entry at table position i (backward-shift deletion for linear probing), keeping
 * bpos of the entries it moves. */
static void table_delete(walker *w, uint32_t i)
{
    uint32_t j = i;
    w->table[i] = -1;
    for (;;) {
        j = (j + 1) & w->tmask;
        int bj = w->table[j];
        if (bj < 0)
            return;
        uint32_t home = w->bhome[bj];
        /* the entry at j may move to i if its home is not cyclically in (i, j] */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            w->table[i] = bj;
            w->bpos[bj] = i;
            w->table[j] = -1;
            i = j;
        }
    }
}

static inline int v_less(mm_vec a, mm_vec b) { return a.p < b.p || (a.p == b.p && a.n < b.n); }

/* The index key of a nonzero factor: v up to sign, and with twin symmetry also up to g (the
 * lesser of the two normalised values); *fixed says whether g maps v to +-v. */
static inline mm_vec idx_key(const walker *w, mm_vec v, int *fixed)
{
    int sign;
    mm_vec k = w->field == MM_Z ? v_norm(v, &sign) : v;
    *fixed = 0;
    if (!w->g)
        return k;
    mm_vec gv = g_vec(w->g, w->field, v);
    mm_vec k2 = w->field == MM_Z ? v_norm(gv, &sign) : gv;
    *fixed = v_eq(k, k2);
    return v_less(k2, k) ? k2 : k;
}

static inline __attribute__((always_inline)) void idx_add(walker *w, int slot, mm_vec v)
{
    if (mm_vec_zero(v)) {
        w->slot_b[slot] = -1;
        return;
    }
    int fixed;
    mm_vec key = idx_key(w, v, &fixed);
    uint32_t home = key_hash(key) & w->tmask, ti = home;
    while (w->table[ti] >= 0 && !v_eq(w->bkey[w->table[ti]], key))
        ti = (ti + 1) & w->tmask;
    int b = w->table[ti];
    if (b < 0) {
        b = w->bfree[--w->nfree];
        w->bkey[b] = key;
        w->bcount[b] = 0;
        w->table[ti] = b;
        w->bhome[b] = home;
        w->bpos[b] = ti;
        if (w->bfixed)
            w->bfixed[b] = (uint8_t)fixed;
    }
    int c = w->bcount[b]++;
    w->bmem[(size_t)b * (size_t)w->nslot + (size_t)c] = (int16_t)slot;
    w->slot_at[slot] = c;
    w->slot_b[slot] = b;
    if (c == 1) {
        w->flip_at[b] = w->nflip;
        w->flip[w->nflip++] = b;
    }
}

static inline __attribute__((always_inline)) void idx_del(walker *w, int slot)
{
    int b = w->slot_b[slot];
    if (b < 0)
        return;
    int16_t *mem = &w->bmem[(size_t)b * (size_t)w->nslot];
    int c = --w->bcount[b];
    int16_t last = mem[c];
    mem[w->slot_at[slot]] = last;
    w->slot_at[last] = w->slot_at[slot];
    w->slot_b[slot] = -1;
    if (c == 1) {
        int at = w->flip_at[b];
        int moved = w->flip[--w->nflip];
        w->flip[at] = moved;
        w->flip_at[moved] = at;
    } else if (c == 0) {
        table_delete(w, w->bpos[b]);
        w->bfree[w->nfree++] = b;
    }
}

static inline void set_slot(walker *w, int slot, mm_vec v)
{
    idx_del(w, slot);
    w->s->f[slot] = v;
    idx_add(w, slot, v);
}

static void kill_orbit(walker *w, int o)
{
    for (int k = 0; k < 3; k++) {
        idx_del(w, 3 * o + k);
        w->s->f[3 * o + k] = (mm_vec){0, 0};
    }
    w->live--;
    w->reductions++;
}

static int walker_init(walker *w, mm_sym *s)
{
    memset(w, 0, sizeof *w);
    w->s = s;
    w->field = s->field;
    w->nslot = 3 * (s->norb > 0 ? s->norb : 1); /* a walk never adds orbits */
    size_t ns = (size_t)w->nslot;
    uint32_t tsize = 16;
    while (tsize < 4 * ns)
        tsize *= 2;
    w->tmask = tsize - 1;
    w->slot_b = malloc(ns * sizeof *w->slot_b);
    w->slot_at = malloc(ns * sizeof *w->slot_at);
    w->bkey = malloc(ns * sizeof *w->bkey);
    w->bcount = calloc(ns, sizeof *w->bcount);
    w->bmem = malloc(ns * ns * sizeof *w->bmem);
    w->bfree = malloc(ns * sizeof *w->bfree);
    w->table = malloc(tsize * sizeof *w->table);
    w->flip = malloc(ns * sizeof *w->flip);
    w->flip_at = malloc(ns * sizeof *w->flip_at);
    w->bhome = malloc(ns * sizeof *w->bhome);
    w->bpos = malloc(ns * sizeof *w->bpos);
    if (s->twin) {
        w->g = malloc(sizeof *w->g);
        w->bfixed = calloc(ns, 1);
    }
    if (!w->slot_b || !w->slot_at || !w->bkey || !w->bcount || !w->bmem || !w->bfree ||
        !w->table || !w->flip || !w->flip_at || !w->bhome || !w->bpos ||
        (s->twin && (!w->g || !w->bfixed))) {
        walker_free(w);
        return RT_ENOMEM;
    }
    if (w->g)
        gtab_init(w->g, s->n);
    memset(w->table, 0xff, tsize * sizeof *w->table);
    for (int b = 0; b < w->nslot; b++)
        w->bfree[b] = w->nslot - 1 - b;
    w->nfree = w->nslot;
    for (int slot = 0; slot < 3 * s->norb; slot++)
        idx_add(w, slot, s->f[slot]);
    for (int o = 0; o < s->norb; o++)
        w->live += orbit_live(s, o);
    return 0;
}

/* Orbit os's representative in the frame where its slot t holds v up to sign: as stored, or
 * (twin symmetry) its image under g. F gets the three factors, *twisted whether g was applied;
 * returns the sign with F[t % 3] = sign * v, or 0 when neither frame holds v. When both frames
 * hold v (g fixes it), prefer_twisted picks the image. */
static inline int frame(const walker *w, int t, mm_vec v, int prefer_twisted, mm_vec F[3],
                        int *twisted)
{
    const mm_vec *r = &w->s->f[3 * (t / 3)];
    int m = prefer_twisted ? 0 : mm_vec_match(r[t % 3], v);
    if (!m && w->g) {
        mm_vec img[3];
        for (int k = 0; k < 3; k++)
            img[k] = g_vec(w->g, w->field, r[k]);
        int mt = mm_vec_match(img[t % 3], v);
        if (mt) {
            *twisted = 1;
            memcpy(F, img, sizeof img);
            return mt;
        }
        if (prefer_twisted)
            m = mm_vec_match(r[t % 3], v);
    }
    *twisted = 0;
    for (int k = 0; k < 3; k++)
        F[k] = r[k];
    return m;
}

/* Twin symmetry: removes orbit o if its image under g is the same three products up to an
 * overall sign that cancels them (over GF(2) any; over Z a sign of -1). Only reached when the
 * index says it can be: the three factors in one bucket, or all three fixed by g. */
static void twin_cancel(walker *w, int o)
{
    mm_sym *s = w->s;
    const mm_vec *r = &s->f[3 * o];
    int b0 = w->slot_b[3 * o], b1 = w->slot_b[3 * o + 1], b2 = w->slot_b[3 * o + 2];
    if (b0 < 0 || b1 < 0 || b2 < 0)
        return;
    if (!(b0 == b1 && b1 == b2) && !(w->bfixed[b0] && w->bfixed[b1] && w->bfixed[b2]))
        return;
    mm_vec G[3];
    for (int k = 0; k < 3; k++)
        G[k] = g_vec(w->g, w->field, r[k]);
    for (int rot = 0; rot < 3; rot++) {
        int sign = 1;
        for (int k = 0; k < 3 && sign; k++)
            sign *= mm_vec_match(G[k], r[(k + rot) % 3]);
        if (sign && (w->field == MM_GF2 || sign < 0)) {
            kill_orbit(w, o);
            return;
        }
    }
}

/* Slot c of a live orbit just changed: removes the orbit if that factor is zero, else merges
 * into it every orbit that now agrees with it (up to sign, after rotation) at c and one more
 * position, repeating while merges change it. */
static void settle(walker *w, int c)
{
    mm_sym *s = w->s;
    for (;;) {
        int o = c / 3, kc = c % 3;
        mm_vec v = s->f[c];
        if (mm_vec_zero(v)) {
            kill_orbit(w, o);
            return;
        }
        int b = w->slot_b[c];
        const int16_t *mem = &w->bmem[(size_t)b * (size_t)w->nslot];
        int next = -1;
        for (int i = 0; i < w->bcount[b] && next < 0; i++) {
            int t = mem[i], os = t / 3, ks = t % 3;
            if (os == o)
                continue;
            mm_vec F[3];
            int twisted;
            int m0 = frame(w, t, v, 0, F, &twisted);
            if (!m0)
                continue;
            for (int d = 1; d <= 2; d++) {
                int e = 3 - d;
                int m = mm_vec_match(F[(ks + d) % 3], s->f[3 * o + (kc + d) % 3]);
                if (!m)
                    continue;
                int target = 3 * o + (kc + e) % 3;
                mm_vec add = F[(ks + e) % 3], sum;
                if (mm_vec_add(w->field, s->f[target], add, m0 * m, &sum))
                    continue;
                kill_orbit(w, os);
                set_slot(w, target, sum);
                next = target;
                break;
            }
        }
        if (next < 0) {
            if (w->g && orbit_live(s, o))
                twin_cancel(w, o);
            return;
        }
        c = next;
    }
}

/* Settles every live slot (after a plus, or on a scheme from outside). */
static void settle_all(walker *w)
{
    for (int o = 0; o < w->s->norb; o++)
        for (int k = 0; k < 3 && orbit_live(w->s, o); k++)
            settle(w, 3 * o + k);
}

static inline int v_pop(mm_vec a) { return __builtin_popcountll(a.p | a.n); }

#define DENSITY_MAX 256 /* |change in nonzero coefficients| of one flip is below 4 * 64 */

static int walk(mm_sym *s, rt_rng *rng, long long flips, int target, double beta, int max_size,
                mm_sym_stats *stats)
{
    /* accept[d]: probability of taking a flip that adds d nonzero coefficients */
    double accept[DENSITY_MAX];
    if (beta > 0) /* read only then; a run calls this once per plateau */
        for (int d = 0; d < DENSITY_MAX; d++)
            accept[d] = exp(-beta * d);
    walker w;
    int rc = walker_init(&w, s);
    if (rc)
        return rc;
    const enum mm_field field = s->field;
    const int osize = orbit_size(s);
    long long done = 0, attempts = 0, misses = 0;
    settle_all(&w);
    while (done < flips && w.nflip > 0 && osize * w.live + s->ncube > target) {
        attempts++;
        /* give up on a scheme where no flip can be made (its only shared factors are inside
         * orbits, or every flip would leave the range or the size cap); or the session is over */
        if (++misses > 64LL * w.nflip + 1024 || ((attempts & 0xfffff) == 0 && rt_work_cut()))
            break;
        /* one 64-bit draw picks the bucket (its high half, multiply-shift) and the pair (16-bit
         * multiply-shifts on the low half: the bias, below members / 2^16, is negligible for
         * buckets of at most a few hundred slots) */
        uint64_t r = rt_rng_next(rng);
        int b = w.flip[((r >> 32) * (uint64_t)w.nflip) >> 32];
        int cnt = w.bcount[b];
        const int16_t *mem = &w.bmem[(size_t)b * (size_t)w.nslot];
        int i = (int)(((r & 0xffff) * (uint64_t)cnt) >> 16);
        int j = (int)((((r >> 16) & 0xffff) * (uint64_t)(cnt - 1)) >> 16);
        if (j >= i)
            j++;
        int p = mem[i], q = mem[j];
        int o1 = p / 3, o2 = q / 3;
        if (o1 == o2)
            continue;
        r = rt_rng_next(rng); /* its bits 0-2: the twin frame, the variant, the sign */
        int k1 = p % 3, k2 = q % 3;
        /* the second orbit in the frame where its slot q holds the shared factor: as stored,
         * or (twin symmetry) its image under g, which is also in the scheme */
        const mm_vec *Q = &s->f[3 * o2];
        mm_vec QF[3];
        int sigma, twisted = 0;
        if (!w.g) {
            sigma = mm_vec_match(s->f[p], s->f[q]);
        } else {
            /* a value g fixes is held by both frames: either, at random */
            sigma = frame(&w, q, s->f[p], w.bfixed[b] && (r & 1), QF, &twisted);
            if (!sigma)
                continue;
            Q = QF;
        }
        /* the variant (which of the other two positions takes the sum) and, over Z, the sign */
        int a = 1 + (int)(r >> 1 & 1), bb = 3 - a;
        int eps = (field == MM_Z && (r >> 2 & 1)) ? -1 : 1;
        static const int8_t next3[3][3] = {{0, 1, 2}, {1, 2, 0}, {2, 0, 1}}; /* (k + d) % 3 */
        int sa1 = 3 * o1 + next3[k1][a], qa = next3[k2][a];
        int sb1 = 3 * o1 + next3[k1][bb], qb = next3[k2][bb], sb2 = 3 * o2 + qb;
        mm_vec na, nb;
        /* x(y + eps*sigma*y')z + x'y'(z' - eps*z), in the frame where x leads both products */
        if (mm_vec_add(field, s->f[sa1], Q[qa], eps * sigma, &na) ||
            mm_vec_add(field, Q[qb], s->f[sb1], -eps, &nb))
            continue;
        if (max_size > 0) { /* both new products stay within the size cap */
            int wx = v_pop(s->f[p]);
            if (wx * v_pop(na) * v_pop(s->f[sb1]) > max_size ||
                wx * v_pop(Q[qa]) * v_pop(nb) > max_size)
                continue;
        }
        if (beta > 0) {
            int d = v_pop(na) - v_pop(s->f[sa1]) + v_pop(nb) - v_pop(Q[qb]);
            if (d > 0 && rt_rng_unit(rng) >= accept[d])
                continue;
        }
        set_slot(&w, sa1, na);
        set_slot(&w, sb2, twisted ? g_vec(w.g, field, nb) : nb);
        done++;
        misses = 0;
        /* a zero factor removes its orbit at once; two orbits that agree in two positions are
         * merged by any flip between them (one of the two sums is zero), and settle_all below
         * merges what is left when the walk ends */
        if (mm_vec_zero(na))
            kill_orbit(&w, o1);
        if (mm_vec_zero(nb))
            kill_orbit(&w, o2);
        if (w.g) {
            if (orbit_live(s, o1))
                twin_cancel(&w, o1);
            if (orbit_live(s, o2))
                twin_cancel(&w, o2);
        }
    }
    settle_all(&w);
    if (stats) {
        stats->flips += done;
        stats->attempts += attempts;
        stats->reductions += w.reductions;
    }
    walker_free(&w);
    sym_compact(s);
    return 0;
}

int mm_sym_walk(mm_sym *s, rt_rng *rng, long long flips, mm_sym_stats *stats)
{
    return walk(s, rng, flips, -1, 0, 0, stats);
}

int mm_sym_walk_to(mm_sym *s, rt_rng *rng, long long flips, int target_rank, double beta,
                   mm_sym_stats *stats)
{
    return walk(s, rng, flips, target_rank, beta, 0, stats);
}

int mm_sym_walk_capped(mm_sym *s, rt_rng *rng, long long flips, int target_rank, double beta,
                       int max_size, mm_sym_stats *stats)
{
    return walk(s, rng, flips, target_rank, beta, max_size, stats);
}

/* ---- plus transitions --------------------------------------------------------------------- */

int mm_sym_plus(mm_sym *s, rt_rng *rng)
{
    sym_compact(s);
    if (s->norb < 2)
        return -1;
    int rc = sym_reserve(s, s->norb + 1);
    if (rc)
        return rc;
    const enum mm_field field = s->field;
    for (int tries = 0; tries < 64; tries++) {
        int o1 = (int)rt_rng_below(rng, (uint32_t)s->norb);
        int o2 = (int)rt_rng_below(rng, (uint32_t)(s->norb - 1));
        if (o2 >= o1)
            o2++;
        int rot = (int)rt_rng_below(rng, 3);
        /* twin symmetry: the second product may as well come from o2's image under g */
        int twisted = s->twin && rt_rng_below(rng, 2);
        mm_vec P[3], Q[3];
        int shared = 0;
        for (int j = 0; j < 3; j++) {
            P[j] = s->f[3 * o1 + j];
            Q[j] = s->f[3 * o2 + (j + rot) % 3];
            if (twisted)
                Q[j] = mm_sym_g(s->n, Q[j]);
            shared |= mm_vec_match(P[j], Q[j]) != 0;
        }
        if (shared)
            continue;
        int ra = (int)rt_rng_below(rng, 3), rb = (ra + 1) % 3, rcp = (ra + 2) % 3;
        mm_vec a_minus, b_minus, c_plus;
        /* abc + a'b'c' = (a-a')bc + a'(b-b')c + a'b'(c+c') */
        if (mm_vec_add(field, P[ra], Q[ra], -1, &a_minus) || mm_vec_add(field, P[rb], Q[rb], -1, &b_minus) ||
            mm_vec_add(field, P[rcp], Q[rcp], 1, &c_plus))
            continue;
        mm_vec *r1 = &s->f[3 * o1], *r2 = &s->f[3 * o2], *r3 = &s->f[3 * s->norb++];
        r1[ra] = a_minus;
        r1[rb] = P[rb];
        r1[rcp] = P[rcp];
        r2[ra] = Q[ra];
        r2[rb] = b_minus;
        r2[rcp] = P[rcp];
        if (twisted) /* stored as its image under g, which stands for the same six products */
            for (int j = 0; j < 3; j++)
                r2[j] = mm_sym_g(s->n, r2[j]);
        r3[ra] = Q[ra];
        r3[rb] = Q[rb];
        r3[rcp] = c_plus;
        return 0;
    }
    return -1;
}

/* ---- walker runs with plateaus ------------------------------------------------------------ */

int mm_sym_run(mm_sym *s, rt_rng *rng, const mm_sym_run_opts *o, mm_sym_stats *stats)
{
    if (o->plateau <= 0)
        return walk(s, rng, o->flips, -1, o->beta, o->max_size, stats);
    mm_sym best;
    int rc = mm_sym_copy(&best, s);
    if (rc)
        return rc;
    int parent_rank = o->stop_rank > 0 ? o->stop_rank : mm_sym_rank(s);
    int best_rank = mm_sym_rank(s), escapes = 0;
    long long done = 0, since = 0;
    while (done < o->flips && !rt_work_cut()) {
        long long chunk = o->flips - done;
        if (chunk > o->plateau - since)
            chunk = o->plateau - since;
        int r0 = mm_sym_rank(s);
        mm_sym_stats ls = {0};
        rc = walk(s, rng, chunk, r0 - 1, o->beta, o->max_size, &ls);
        if (rc)
            goto done;
        if (stats) {
            stats->flips += ls.flips;
            stats->attempts += ls.attempts;
            stats->reductions += ls.reductions;
        }
        done += ls.flips;
        since += ls.flips;
        int r = mm_sym_rank(s);
        if (r < r0) {
            since = 0;
            if (r <= best_rank) {
                best_rank = r;
                mm_sym_free(&best);
                if ((rc = mm_sym_copy(&best, s)))
                    goto done;
            }
            if (o->stop_on_improve && best_rank < parent_rank)
                break;
            continue;
        }
        if (since < o->plateau)
            break; /* budget spent, or no flip left */
        if (o->headroom > 0) {
            since = 0;
            if (r >= best_rank + o->headroom * orbit_size(s))
                continue; /* at the ceiling: walk on until a reduction */
        } else {
            if (escapes >= o->max_escapes || rt_rng_unit(rng) >= o->escape_prob)
                break;
            if (r > best_rank) {
                mm_sym_free(s);
                if ((rc = mm_sym_copy(s, &best)))
                    goto done;
            }
        }
        rc = mm_sym_plus(s, rng);
        if (rc == -1) {
            rc = 0;
            break;
        }
        if (rc)
            goto done;
        escapes++;
        since = 0;
    }
    if (best_rank < mm_sym_rank(s)) {
        mm_sym_free(s);
        *s = best;
        return 0;
    }
done:
    mm_sym_free(&best);
    return rc;
}
