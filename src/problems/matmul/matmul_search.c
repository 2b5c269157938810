/* matmul_search.c — packed schemes, flips, reductions and plus transitions.
 *
 * Everything here is bookkeeping for the search: nothing it computes is trusted. The engine
 * prints a scheme to text and the gate verifies that text with matmul_plain.c.
 */
#include "problems/matmul/matmul_search.h"

#include <stdlib.h>
#include <string.h>

/* ---- factor arithmetic (the shared part is in matmul_search.h) --------------------------- */

static inline int vec_eq(mm_vec a, mm_vec b) { return a.p == b.p && a.n == b.n; }

static inline int vec_popcount(mm_vec a) { return __builtin_popcountll(a.p | a.n); }

/* ---- scheme storage ---------------------------------------------------------------------- */

static int scheme_alloc(mm_scheme *s, int n, int m, int p, enum mm_field field, int cap)
{
    s->n = n;
    s->m = m;
    s->p = p;
    s->field = field;
    s->rank = 0;
    s->cap = cap < 4 ? 4 : cap;
    s->prod = calloc((size_t)s->cap, sizeof *s->prod);
    return s->prod ? 0 : RT_ENOMEM;
}

static int scheme_reserve(mm_scheme *s, int need)
{
    if (need <= s->cap)
        return 0;
    int cap = s->cap * 2;
    while (cap < need)
        cap *= 2;
    mm_prod *np = realloc(s->prod, (size_t)cap * sizeof *np);
    if (!np)
        return RT_ENOMEM;
    s->prod = np;
    s->cap = cap;
    return 0;
}

int mm_scheme_standard(mm_scheme *s, int n, int m, int p, enum mm_field field)
{
    if (n < 1 || m < 1 || p < 1 || n > MM_MAX_DIM || m > MM_MAX_DIM || p > MM_MAX_DIM)
        return RT_EUSAGE;
    int rc = scheme_alloc(s, n, m, p, field, n * m * p + 8);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            for (int k = 0; k < p; k++) {
                mm_prod *t = &s->prod[s->rank++];
                t->f[0] = (mm_vec){1ULL << (i * m + j), 0};
                t->f[1] = (mm_vec){1ULL << (j * p + k), 0};
                t->f[2] = (mm_vec){1ULL << (k * n + i), 0};
            }
    return 0;
}

/* A factor of a part moved to the full shape's entries: entry e of the part's block q (A, B or
 * C, numbered with the part's dimensions) goes to the entry of the full shape at the offsets. */
static mm_vec embed_vec(mm_vec v, int q, const int pd[3], const int fd[3], const int off[3])
{
    mm_vec out = {0, 0};
    /* block q is indexed by (dims a, b): A (n, m), B (m, p), C (p, n); entry = x * db + y */
    int a = q, b = (q + 1) % 3;
    for (int e = 0; e < pd[a] * pd[b]; e++) {
        uint64_t bit = 1ULL << e;
        if (!((v.p | v.n) & bit))
            continue;
        int x = e / pd[b] + off[a], y = e % pd[b] + off[b];
        uint64_t to = 1ULL << (x * fd[b] + y);
        if (v.p & bit)
            out.p |= to;
        else
            out.n |= to;
    }
    return out;
}

int mm_scheme_direct_sum(const mm_scheme *a, const mm_scheme *b, int axis, mm_scheme *out)
{
    int ad[3] = {a->n, a->m, a->p}, bd[3] = {b->n, b->m, b->p}, fd[3] = {a->n, a->m, a->p};
    if (axis < 0 || axis > 2 || a->field != b->field)
        return RT_EUSAGE;
    for (int q = 0; q < 3; q++)
        if (q != axis && ad[q] != bd[q])
            return RT_EUSAGE;
    fd[axis] += bd[axis];
    if (fd[axis] > MM_MAX_DIM || fd[0] * fd[1] > 64 || fd[1] * fd[2] > 64 || fd[2] * fd[0] > 64)
        return RT_EUSAGE;
    int rc = scheme_alloc(out, fd[0], fd[1], fd[2], a->field, fd[0] * fd[1] * fd[2] + 8);
    if (rc)
        return rc;
    if (a->rank + b->rank > out->cap && (rc = scheme_reserve(out, a->rank + b->rank))) {
        mm_scheme_free(out);
        return rc;
    }
    const int zero[3] = {0, 0, 0};
    int off[3] = {0, 0, 0};
    off[axis] = ad[axis];
    for (int part = 0; part < 2; part++) {
        const mm_scheme *s = part ? b : a;
        for (int t = 0; t < s->rank; t++) {
            mm_prod *to = &out->prod[out->rank++];
            for (int q = 0; q < 3; q++)
                to->f[q] = embed_vec(s->prod[t].f[q], q, part ? bd : ad, fd, part ? off : zero);
        }
    }
    return 0;
}

int mm_scheme_copy(mm_scheme *dst, const mm_scheme *src)
{
    int rc = scheme_alloc(dst, src->n, src->m, src->p, src->field, src->cap);
    if (rc)
        return rc;
    memcpy(dst->prod, src->prod, (size_t)src->rank * sizeof *src->prod);
    dst->rank = src->rank;
    return 0;
}

void mm_scheme_free(mm_scheme *s)
{
    if (!s)
        return;
    free(s->prod);
    s->prod = NULL;
    s->rank = s->cap = 0;
}

/* Removes product t by moving the last product into its slot. */
static inline void scheme_remove(mm_scheme *s, int t)
{
    s->prod[t] = s->prod[--s->rank];
}

long mm_scheme_nnz(const mm_scheme *s)
{
    long nnz = 0;
    for (int t = 0; t < s->rank; t++)
        for (int q = 0; q < 3; q++)
            nnz += vec_popcount(s->prod[t].f[q]);
    return nnz;
}

/* ---- conversion -------------------------------------------------------------------------- */

static int from_plain(mm_scheme *s, const mm_plain *plain, enum mm_field field, int reduce,
                      char *err, size_t errlen)
{
    int w[3] = {plain->n * plain->m, plain->m * plain->p, plain->p * plain->n};
    int width = w[0] + w[1] + w[2];
    int rc = scheme_alloc(s, plain->n, plain->m, plain->p, field, plain->rank + 8);
    if (rc)
        return rc;
    for (int t = 0; t < plain->rank; t++) {
        const int64_t *row = plain->coef + (size_t)t * (size_t)width;
        mm_prod *pr = &s->prod[s->rank];
        int off = 0;
        for (int q = 0; q < 3; q++) {
            mm_vec v = {0, 0};
            for (int e = 0; e < w[q]; e++) {
                int64_t c = row[off + e];
                if (field == MM_GF2) {
                    if (c & 1)
                        v.p |= 1ULL << e;
                } else if (c == 1) {
                    v.p |= 1ULL << e;
                } else if (c == -1) {
                    v.n |= 1ULL << e;
                } else if (c != 0) {
                    mm_scheme_free(s);
                    return rt_fail(err, errlen, RT_EUSAGE,
                                   "product %d has coefficient %lld; the integer search keeps "
                                   "coefficients in {-1,0,1}",
                                   t + 1, (long long)c);
                }
            }
            pr->f[q] = v;
            off += w[q];
        }
        s->rank++;
    }
    if (reduce)
        mm_scheme_reduce_all(s);
    return 0;
}

int mm_scheme_from_plain(mm_scheme *s, const mm_plain *plain, enum mm_field field, char *err,
                         size_t errlen)
{
    return from_plain(s, plain, field, 1, err, errlen);
}

int mm_scheme_from_plain_exact(mm_scheme *s, const mm_plain *plain, enum mm_field field,
                               char *err, size_t errlen)
{
    return from_plain(s, plain, field, 0, err, errlen);
}

int mm_scheme_to_plain(const mm_scheme *s, mm_plain *out)
{
    int rc = mm_plain_init(out, s->n, s->m, s->p, s->rank);
    if (rc)
        return rc;
    int w[3] = {s->n * s->m, s->m * s->p, s->p * s->n};
    int width = w[0] + w[1] + w[2];
    for (int t = 0; t < s->rank; t++) {
        int64_t *row = out->coef + (size_t)t * (size_t)width;
        int off = 0;
        for (int q = 0; q < 3; q++) {
            mm_vec v = s->prod[t].f[q];
            for (int e = 0; e < w[q]; e++)
                row[off + e] = ((v.p >> e) & 1) ? 1 : ((v.n >> e) & 1) ? -1 : 0;
            off += w[q];
        }
    }
    return 0;
}

/* ---- canonical form ---------------------------------------------------------------------- */

/* Makes the lowest nonzero coefficient of v positive; returns the sign applied (+1/-1). */
static int normalize_sign(mm_vec *v)
{
    uint64_t any = v->p | v->n;
    if (!any)
        return 1;
    uint64_t low = any & (~any + 1);
    if (v->n & low) {
        *v = mm_vec_neg(*v);
        return -1;
    }
    return 1;
}

static int cmp_word(uint64_t a, uint64_t b) { return a < b ? -1 : a > b; }

static int cmp_prod(const void *x, const void *y)
{
    const mm_prod *a = x, *b = y;
    for (int q = 0; q < 3; q++) {
        int c = cmp_word(a->f[q].p, b->f[q].p);
        if (!c)
            c = cmp_word(a->f[q].n, b->f[q].n);
        if (c)
            return c;
    }
    return 0;
}

void mm_scheme_canonicalize(mm_scheme *s)
{
    if (s->field == MM_Z) {
        for (int t = 0; t < s->rank; t++) {
            mm_prod *pr = &s->prod[t];
            int sign = normalize_sign(&pr->f[0]) * normalize_sign(&pr->f[1]);
            if (sign < 0)
                pr->f[2] = mm_vec_neg(pr->f[2]);
        }
    }
    qsort(s->prod, (size_t)s->rank, sizeof *s->prod, cmp_prod);
}

/* ---- reductions and walks ---------------------------------------------------------------- */

/* Merges product *idx, whose factor at position c just changed, with a product that now agrees
 * with it (up to sign) at c and one other position; repeats while merges change it. Only pairs
 * that include the changed position can have become mergeable. Removes the product if the
 * changed factor is zero. Returns products removed; *idx follows it (-1 if it vanished). */
static int settle(mm_scheme *s, int *idx, int c)
{
    int removed = 0;
    for (;;) {
        int a = *idx;
        mm_prod *pa = &s->prod[a];
        if (mm_vec_zero(pa->f[c])) {
            scheme_remove(s, a);
            *idx = -1;
            return removed + 1;
        }
        int merged = 0;
        for (int q = 0; q < s->rank && !merged; q++) {
            if (q == a)
                continue;
            int m = mm_vec_match(s->prod[q].f[c], pa->f[c]);
            if (!m)
                continue;
            for (int k = 1; k <= 2; k++) {
                int o = (c + k) % 3, third = (c + 3 - k) % 3;
                int m2 = mm_vec_match(s->prod[q].f[o], pa->f[o]);
                if (!m2)
                    continue;
                mm_vec sum;
                if (mm_vec_add(s->field, pa->f[third], s->prod[q].f[third], m * m2, &sum))
                    continue;
                pa->f[third] = sum;
                if (a == s->rank - 1)
                    a = q; /* a moves into q's slot when q is removed */
                scheme_remove(s, q);
                removed++;
                *idx = a;
                c = third;
                merged = 1;
                break;
            }
        }
        if (!merged)
            return removed;
    }
}

int mm_scheme_reduce_all(mm_scheme *s)
{
    int removed = 0;
    for (int t = s->rank - 1; t >= 0; t--)
        if (mm_vec_zero(s->prod[t].f[0]) || mm_vec_zero(s->prod[t].f[1]) || mm_vec_zero(s->prod[t].f[2])) {
            scheme_remove(s, t);
            removed++;
        }
    /* settling each product at positions 0 and 1 looks at every pair of positions */
    int changed = 1;
    while (changed) {
        changed = 0;
        for (int t = 0; t < s->rank && !changed; t++)
            for (int c = 0; c < 2 && !changed; c++) {
                int ti = t;
                int r = settle(s, &ti, c);
                removed += r;
                changed = r > 0;
            }
    }
    return removed;
}

/* Index of the product equal to *v in all three factors, or -1. */
static int find_prod(const mm_scheme *s, const mm_prod *v)
{
    for (int t = 0; t < s->rank; t++)
        if (vec_eq(s->prod[t].f[0], v->f[0]) && vec_eq(s->prod[t].f[1], v->f[1]) &&
            vec_eq(s->prod[t].f[2], v->f[2]))
            return t;
    return -1;
}

void mm_walk_scan(mm_scheme *s, rt_rng *rng, long long flips, mm_walk_stats *stats)
{
    long long done = 0, attempts = 0, reductions = 0, misses = 0;
    const enum mm_field field = s->field;
    int *partners = malloc((size_t)(s->rank > 0 ? s->rank : 1) * sizeof *partners);
    if (!partners)
        return;
    while (done < flips && s->rank >= 2) {
        attempts++;
        if (__builtin_expect((attempts & 0xfffff) == 0, 0) && rt_work_cut())
            break; /* the session is over (util.h) */
        int a = (int)rt_rng_below(rng, (uint32_t)s->rank);
        int x = (int)rt_rng_below(rng, 3);
        mm_vec xa = s->prod[a].f[x];
        /* the products sharing factor x with a, up to sign */
        int k = 0;
        if (field == MM_GF2) {
            for (int t = 0; t < s->rank; t++)
                if (s->prod[t].f[x].p == xa.p)
                    partners[k++] = t;
        } else {
            for (int t = 0; t < s->rank; t++)
                if (mm_vec_match(s->prod[t].f[x], xa))
                    partners[k++] = t;
        }
        if (k < 2) { /* a itself is always among them */
            /* give up on a scheme that shows no flips after many tries */
            if (++misses > 64LL * s->rank + 1024)
                break;
            continue;
        }
        misses = 0;
        /* uniform over the partners other than a: if the draw hits a, take the last entry
         * instead (which is not a, since a appears once and was not last then) */
        int j = (int)rt_rng_below(rng, (uint32_t)(k - 1));
        int b = partners[j] == a ? partners[k - 1] : partners[j];
        int sigma = mm_vec_match(s->prod[b].f[x], xa);
        int y = (x + 1) % 3, z = (x + 2) % 3;
        if (rt_rng_below(rng, 2)) {
            int tmp = y;
            y = z;
            z = tmp;
        }
        int eps = (field == MM_Z && rt_rng_below(rng, 2)) ? -1 : 1;
        mm_vec ny, nz;
        /* a: y += eps*sigma*y_b ; b: z -= eps*z_a */
        if (mm_vec_add(field, s->prod[a].f[y], s->prod[b].f[y], eps * sigma, &ny) ||
            mm_vec_add(field, s->prod[b].f[z], s->prod[a].f[z], -eps, &nz))
            continue;
        s->prod[a].f[y] = ny;
        s->prod[b].f[z] = nz;
        done++;
        /* settle the two changed products; a removal moves the last product into the gap, so
         * after one b is found again by value (a product equal in all three factors to another
         * would have merged with it, so the value identifies it) */
        mm_prod b_val = s->prod[b];
        int ia = a, ib = b;
        int r = settle(s, &ia, y);
        reductions += r;
        if (r)
            ib = find_prod(s, &b_val);
        if (ib >= 0)
            reductions += settle(s, &ib, z);
    }
    free(partners);
    if (stats) {
        stats->flips += done;
        stats->attempts += attempts;
        stats->reductions += reductions;
    }
}

/* ---- plus transitions -------------------------------------------------------------------- */

int mm_plus(mm_scheme *s, rt_rng *rng)
{
    if (s->rank < 2 || scheme_reserve(s, s->rank + 1))
        return -1;
    for (int tries = 0; tries < 64; tries++) {
        int i = (int)rt_rng_below(rng, (uint32_t)s->rank);
        int j = (int)rt_rng_below(rng, (uint32_t)(s->rank - 1));
        if (j >= i)
            j++;
        mm_prod *ps = &s->prod[i], *pt = &s->prod[j];
        if (mm_vec_match(ps->f[0], pt->f[0]) || mm_vec_match(ps->f[1], pt->f[1]) ||
            mm_vec_match(ps->f[2], pt->f[2]))
            continue;
        /* roles: a = position ra, b = rb, c = rc, a random rotation of (A,B,C) */
        int ra = (int)rt_rng_below(rng, 3), rb = (ra + 1) % 3, rc = (ra + 2) % 3;
        mm_vec a_minus, b_minus, c_plus;
        if (mm_vec_add(s->field, ps->f[ra], pt->f[ra], -1, &a_minus) ||
            mm_vec_add(s->field, ps->f[rb], pt->f[rb], -1, &b_minus) ||
            mm_vec_add(s->field, ps->f[rc], pt->f[rc], 1, &c_plus))
            continue;
        mm_prod s_old = *ps, t_old = *pt;
        mm_prod p1, p2, p3;
        p1.f[ra] = a_minus;
        p1.f[rb] = s_old.f[rb];
        p1.f[rc] = s_old.f[rc];
        p2.f[ra] = t_old.f[ra];
        p2.f[rb] = b_minus;
        p2.f[rc] = s_old.f[rc];
        p3.f[ra] = t_old.f[ra];
        p3.f[rb] = t_old.f[rb];
        p3.f[rc] = c_plus;
        s->prod[i] = p1;
        s->prod[j] = p2;
        s->prod[s->rank++] = p3;
        mm_scheme_reduce_all(s);
        return 0;
    }
    return -1;
}
