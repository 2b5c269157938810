/* matmul_search.h — the search side of the matmul problem: schemes packed in machine words and
 * the flip-graph moves of Kauers and Moosbauer ("Flip graphs for matrix multiplication", 2022).
 *
 * A factor is a vector of at most 64 coefficients packed in two words: bit e of `p` set means
 * coefficient +1 at entry e, bit e of `n` set means -1. Over GF(2) `n` is always 0 and addition is
 * XOR. Over the integers the search keeps coefficients in {-1, 0, 1}: a move whose result would
 * leave that range is not made. Entry numbering is matmul_plain.h's: A (i*m+j), B (j*p+k),
 * C (k*n+i).
 *
 * Moves:
 * - flip: two products sharing a factor x (up to sign) trade terms:
 *     x*y*z + x*y'*z' = x*(y+y')*z + x*y'*(z'-z)
 *   The tensor is unchanged; so is the rank, unless a factor becomes zero.
 * - reduction: a product with a zero factor disappears; two products equal (up to sign) in two
 *   positions merge into one. Walks apply reductions as soon as a flip makes one possible.
 * - plus: two products become three (rank + 1), an escape from a plateau:
 *     a*b*c + a'*b'*c' = (a-a')*b*c + a'*(b-b')*c + a'*b'*(c+c')
 *
 * Ownership: mm_scheme owns its product array; mm_scheme_free releases it.
 */
#ifndef RT_MATMUL_SEARCH_H
#define RT_MATMUL_SEARCH_H

#include <stdint.h>

#include "rng.h"
#include "problems/matmul/matmul_plain.h"

typedef struct mm_vec {
    uint64_t p, n;
} mm_vec;

/* ---- factor arithmetic, shared by the search, the indexed walker and the symmetric search ---- */

static inline int mm_vec_zero(mm_vec a) { return !(a.p | a.n); }
static inline mm_vec mm_vec_neg(mm_vec a) { return (mm_vec){a.n, a.p}; }

/* +1 if a == b, -1 if a == -b (nonzero, over Z), 0 otherwise. */
static inline int mm_vec_match(mm_vec a, mm_vec b)
{
    if (a.p == b.p && a.n == b.n)
        return 1;
    if (a.p == b.n && a.n == b.p && (a.p | a.n))
        return -1;
    return 0;
}

/* out = a + sign*b. Returns 0, or -1 if a coefficient would leave {-1,0,1} (over Z). */
static inline int mm_vec_add(enum mm_field field, mm_vec a, mm_vec b, int sign, mm_vec *out)
{
    if (field == MM_GF2) {
        out->p = a.p ^ b.p;
        out->n = 0;
        return 0;
    }
    if (sign < 0)
        b = mm_vec_neg(b);
    if ((a.p & b.p) | (a.n & b.n))
        return -1;
    uint64_t cancel = (a.p & b.n) | (a.n & b.p);
    out->p = (a.p | b.p) & ~cancel;
    out->n = (a.n | b.n) & ~cancel;
    return 0;
}

typedef struct mm_prod {
    mm_vec f[3]; /* A, B and C factors */
} mm_prod;

typedef struct mm_scheme {
    int n, m, p;
    enum mm_field field;
    int rank;
    int cap;
    mm_prod *prod;
} mm_scheme;

typedef struct mm_walk_stats {
    long long flips;     /* flips made */
    long long attempts;  /* flip attempts, including ones without a partner or out of range */
    long long reductions;
} mm_walk_stats;

/* The standard algorithm: n*m*p products a_ij * b_jk * c_ki. Returns 0 or RT_ENOMEM. */
int mm_scheme_standard(mm_scheme *s, int n, int m, int p, enum mm_field field);
int mm_scheme_copy(mm_scheme *dst, const mm_scheme *src);
/* The direct sum of two schemes that differ only along `axis` (0: n, 1: m, 2: p): a computes the
 * block of the first a.dims[axis] indices of that dimension, b the rest, and out, of the summed
 * shape, is a's products followed by b's (rank a.rank + b.rank). Cutting the shared dimension m
 * splits A's columns and B's rows; n, A's and C's rows; p, B's and C's columns. Returns 0,
 * RT_EUSAGE (shapes or fields that do not fit) or RT_ENOMEM. */
int mm_scheme_direct_sum(const mm_scheme *a, const mm_scheme *b, int axis, mm_scheme *out);
void mm_scheme_free(mm_scheme *s);

/* Converts from plain form. RT_EUSAGE (err says why) if a coefficient is outside the search's
 * range ({-1,0,1} over Z; any integer, taken modulo 2, over GF(2)). Applies all reductions. */
int mm_scheme_from_plain(mm_scheme *s, const mm_plain *plain, enum mm_field field, char *err,
                         size_t errlen);
/* The same without reductions: the products exactly as given (symmetric schemes keep products
 * that share two factors, since merging them would break the symmetry). */
int mm_scheme_from_plain_exact(mm_scheme *s, const mm_plain *plain, enum mm_field field,
                               char *err, size_t errlen);
int mm_scheme_to_plain(const mm_scheme *s, mm_plain *out);

/* Puts the scheme in canonical form without changing the tensor it computes: over Z the first
 * nonzero coefficient of the A and B factors made positive, then products sorted. Two schemes
 * that are the same set of products get identical forms. */
void mm_scheme_canonicalize(mm_scheme *s);

/* Applies reductions until none is left; returns how many products were removed. */
int mm_scheme_reduce_all(mm_scheme *s);

/* A random walk of `flips` flips with reductions as they appear. Stops early when no product
 * shares a factor with another (the scheme is isolated). Accumulates into stats (may be NULL).
 * Runs the indexed walker of matmul_walk.h (O(1) per flip). */
void mm_walk(mm_scheme *s, rt_rng *rng, long long flips, mm_walk_stats *stats);

/* The same walk by the first kernel: each flip scans all products for a partner (O(rank)).
 * Kept as the baseline of `make bench` and as an independent implementation for tests. */
void mm_walk_scan(mm_scheme *s, rt_rng *rng, long long flips, mm_walk_stats *stats);

/* One plus transition on a random pair of products that share no factor, then reductions.
 * Returns 0, or -1 when no pair allows one (rank < 2, or every try left the coefficient range). */
int mm_plus(mm_scheme *s, rt_rng *rng);

/* Total number of nonzero coefficients. */
long mm_scheme_nnz(const mm_scheme *s);

#endif
