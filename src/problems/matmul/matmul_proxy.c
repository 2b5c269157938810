/* matmul_proxy.c — the sampled proxy and the breaking moves (see matmul_proxy.h). */
#include "problems/matmul/matmul_proxy.h"

#include <string.h>

#define PROXY_SEED 0x70726f7879ULL /* "proxy": fixed, so the proxy is deterministic */

/* The coefficient of entry e in factor v: 1, -1 or 0. */
static inline int coef(mm_vec v, int e)
{
    return (int)((v.p >> e) & 1) - (int)((v.n >> e) & 1);
}

/* Sum of coef(v,e)*x[e] over e < width, modulo q, in [0, q). */
static long long dot_mod(mm_vec v, const long long *x, int width, long long q)
{
    long long acc = 0;
    for (int e = 0; e < width; e++) {
        int c = coef(v, e);
        if (c)
            acc += c * x[e];
    }
    acc %= q;
    return acc < 0 ? acc + q : acc;
}

int mm_proxy_sampled(const mm_scheme *s, int samples, int prime)
{
    long long q = s->field == MM_GF2 ? 2 : prime;
    if (q < 2)
        q = 2;
    int n = s->n, m = s->m, p = s->p;
    long long A[MM_MAX_DIM * MM_MAX_DIM], B[MM_MAX_DIM * MM_MAX_DIM];
    long long want[MM_MAX_DIM * MM_MAX_DIM], got[MM_MAX_DIM * MM_MAX_DIM];
    if (samples > MM_PROXY_MAX_SAMPLES)
        samples = MM_PROXY_MAX_SAMPLES;
    for (int smp = 0; smp < samples; smp++) {
        rt_rng rng;
        rt_rng_seed(&rng, PROXY_SEED, (uint64_t)smp);
        for (int e = 0; e < n * m; e++)
            A[e] = rt_rng_below(&rng, (uint32_t)q);
        for (int e = 0; e < m * p; e++)
            B[e] = rt_rng_below(&rng, (uint32_t)q);
        /* C entry k*n+i carries the index pair (k,i): it collects (AB)[i][k] */
        for (int k = 0; k < p; k++)
            for (int i = 0; i < n; i++) {
                long long acc = 0;
                for (int j = 0; j < m; j++)
                    acc = (acc + A[i * m + j] * B[j * p + k]) % q;
                want[k * n + i] = acc;
            }
        memset(got, 0, sizeof got);
        for (int t = 0; t < s->rank; t++) {
            const mm_prod *pr = &s->prod[t];
            long long alpha = dot_mod(pr->f[0], A, n * m, q);
            long long beta = dot_mod(pr->f[1], B, m * p, q);
            long long ab = alpha * beta % q;
            if (!ab)
                continue;
            for (int e = 0; e < p * n; e++) {
                int c = coef(pr->f[2], e);
                if (c)
                    got[e] = ((got[e] + c * ab) % q + q) % q;
            }
        }
        for (int e = 0; e < p * n; e++)
            if (got[e] != want[e])
                return 0;
    }
    return 1;
}

int mm_drop(mm_scheme *s, rt_rng *rng)
{
    if (s->rank < 2)
        return -1;
    int t = (int)rt_rng_below(rng, (uint32_t)s->rank);
    s->prod[t] = s->prod[s->rank - 1];
    s->rank--;
    return 0;
}

int mm_perturb(mm_scheme *s, rt_rng *rng)
{
    if (s->rank < 1)
        return -1;
    int widths[3] = {s->n * s->m, s->m * s->p, s->p * s->n};
    mm_prod *pr = &s->prod[rt_rng_below(rng, (uint32_t)s->rank)];
    int f = (int)rt_rng_below(rng, 3);
    int e = (int)rt_rng_below(rng, (uint32_t)widths[f]);
    uint64_t bit = 1ULL << e;
    mm_vec *v = &pr->f[f];
    if (s->field == MM_GF2) {
        v->p ^= bit;
    } else {
        int c = coef(*v, e);
        int to = (c + 1 + 1 + (int)rt_rng_below(rng, 2)) % 3 - 1; /* one of the two others */
        v->p &= ~bit;
        v->n &= ~bit;
        if (to > 0)
            v->p |= bit;
        else if (to < 0)
            v->n |= bit;
    }
    mm_scheme_reduce_all(s);
    return s->rank > 0 ? 0 : -1;
}
