/* matmul_solve.c — the C factors of a scheme solved from its A and B factors (matmul_solve.h).
 *
 * Gaussian elimination over the integers modulo q, one row of the system at a time: a row is
 * reduced by the basis rows kept so far (each with its leading 1 in its own column, zeros before
 * it) and kept when something is left, until r rows are kept. Then back substitution gives each
 * of the p*n right-hand sides. The rows are the n*m * m*p pairs (x, y), those of fewer products
 * first (feed_rows); a row of no product is all zero and skipped, which is most of them in a
 * sparse scheme. Modulo 2 the rows are bits and a reduction is a XOR. */
#include "problems/matmul/matmul_solve.h"

#include <stdlib.h>
#include <string.h>

#define MODP 2147483647u /* 2^31 - 1, prime */
#define WORDS ((MM_SOLVE_MAX_RANK + 63) / 64) /* a set of products, one bit each */

/* A row modulo 2 as bits: the products' columns, then the right-hand sides (p*n <= 64). */
typedef struct bitrow {
    uint64_t lhs[WORDS], rhs;
} bitrow;

typedef struct linsys {
    uint64_t q;          /* the modulus */
    int r, z, w;         /* unknowns, right-hand sides, row width r + z */
    uint64_t *basis;     /* r rows of w residues: row c has its leading 1 in column c */
    unsigned char *have; /* have[c]: basis row c is set */
    uint64_t *row;       /* the row being reduced */
    bitrow *b2;          /* modulo 2: the basis as bits instead (basis is then unused) */
    int kept;
} linsys;

/* x mod q for x < 2^62: q is 2 or the Mersenne prime MODP, whose reduction is two folds. */
static inline uint64_t fold(uint64_t x, uint64_t q)
{
    if (q == 2)
        return x & 1;
    x = (x & MODP) + (x >> 31);
    x = (x & MODP) + (x >> 31);
    return x >= MODP ? x - MODP : x;
}

/* a - f*b mod q, every value below q */
static inline uint64_t sub_mul(uint64_t a, uint64_t f, uint64_t b, uint64_t q)
{
    uint64_t v = fold(f * b, q);
    return a >= v ? a - v : a + q - v;
}

static uint64_t residue(int64_t v, uint64_t q)
{
    int64_t m = v % (int64_t)q;
    return (uint64_t)(m < 0 ? m + (int64_t)q : m);
}

static uint64_t inverse(uint64_t a, uint64_t q)
{
    uint64_t r = 1;
    for (uint64_t e = q - 2; e; e >>= 1, a = fold(a * a, q))
        if (e & 1)
            r = fold(r * a, q);
    return r;
}

/* Reduces sys->row by the basis and keeps what is left as a new basis row. */
static void reduce_and_keep(linsys *sys)
{
    uint64_t q = sys->q, *row = sys->row;
    int lead = -1;
    for (int c = 0; c < sys->r && lead < 0; c++) {
        if (!row[c])
            continue;
        if (!sys->have[c]) { /* the leading entry: zeros before it, so the row is kept here */
            lead = c;
            break;
        }
        uint64_t f = row[c], *b = sys->basis + (size_t)c * (size_t)sys->w;
        for (int k = c; k < sys->w; k++)
            if (b[k])
                row[k] = sub_mul(row[k], f, b[k], q);
    }
    if (lead < 0)
        return;
    /* columns after lead that have basis rows need no clearing: back substitution uses them */
    uint64_t inv = inverse(row[lead], q), *b = sys->basis + (size_t)lead * (size_t)sys->w;
    for (int k = 0; k < sys->w; k++)
        b[k] = k < lead ? 0 : fold(row[k] * inv, q);
    sys->have[lead] = 1;
    sys->kept++;
}

/* Modulo 2: reduces row by the basis (a XOR per basis row) and keeps what is left. */
static void reduce_bits(linsys *sys, bitrow row)
{
    for (int w = 0; w < WORDS; w++)
        while (row.lhs[w]) {
            int c = 64 * w + __builtin_ctzll(row.lhs[w]);
            if (!sys->have[c]) { /* the leading bit */
                sys->b2[c] = row;
                sys->have[c] = 1;
                sys->kept++;
                return;
            }
            const bitrow *b = &sys->b2[c];
            for (int k = 0; k < WORDS; k++)
                row.lhs[k] ^= b->lhs[k];
            row.rhs ^= b->rhs;
        }
}

/* The residues of one factor's entries, entry-major (res[e * r + t]), and for each entry the set
 * of products where it is nonzero (bits[e][word]). */
static int factor_residues(const linsys *sys, const mm_plain *s, int at, int entries,
                           uint64_t **res, uint64_t (**bits)[WORDS])
{
    int width = mm_plain_width(s->n, s->m, s->p);
    *res = calloc((size_t)entries * (size_t)sys->r, sizeof **res);
    *bits = calloc((size_t)entries, sizeof **bits);
    if (!*res || !*bits)
        return RT_ENOMEM;
    for (int t = 0; t < sys->r; t++)
        for (int e = 0; e < entries; e++) {
            uint64_t v = residue(s->coef[(size_t)t * (size_t)width + (size_t)(at + e)], sys->q);
            (*res)[(size_t)e * (size_t)sys->r + (size_t)t] = v;
            if (v)
                (*bits)[e][t / 64] |= 1ULL << (t % 64);
        }
    return 0;
}

/* Feeds the rows (x, y) of s's system until r are kept: first those with one product whose
 * entries x and y are both nonzero, then two, and so on (a row of few products is cheap to reduce
 * and seldom dependent); a row of none is all zero and skipped. */
static int feed_rows(linsys *sys, const mm_plain *s)
{
    int n = s->n, m = s->m, p = s->p;
    uint64_t *ua = NULL, *vb = NULL, (*ab)[WORDS] = NULL, (*bb)[WORDS] = NULL;
    int rc = factor_residues(sys, s, 0, n * m, &ua, &ab);
    if (!rc)
        rc = factor_residues(sys, s, n * m, m * p, &vb, &bb);
    int rows = n * m * m * p, most = 0;
    unsigned char *count = rc ? NULL : calloc((size_t)rows, 1);
    rc = rc ? rc : count ? 0 : RT_ENOMEM;
    for (int xy = 0; xy < rows && !rc; xy++) {
        int c = 0;
        for (int k = 0; k < WORDS; k++)
            c += __builtin_popcountll(ab[xy / (m * p)][k] & bb[xy % (m * p)][k]);
        count[xy] = (unsigned char)(c > 255 ? 255 : c);
        most = count[xy] > most ? count[xy] : most;
    }
    for (int pass = 1; pass <= most && !rc && sys->kept < sys->r; pass++)
        for (int xy = 0; xy < rows && sys->kept < sys->r; xy++) {
            if (count[xy] != pass)
                continue;
            int x = xy / (m * p), y = xy % (m * p), i = x / m, j = x % m, jj = y / p, k = y % p;
            if (sys->q == 2) { /* the row's bits are the products where both entries are odd */
                bitrow b = {.rhs = j == jj ? 1ULL << (k * n + i) : 0};
                for (int w = 0; w < WORDS; w++)
                    b.lhs[w] = ab[x][w] & bb[y][w];
                reduce_bits(sys, b);
                continue;
            }
            const uint64_t *u = ua + (size_t)x * (size_t)sys->r;
            const uint64_t *v = vb + (size_t)y * (size_t)sys->r;
            for (int t = 0; t < sys->r; t++)
                sys->row[t] = fold(u[t] * v[t], sys->q);
            memset(sys->row + sys->r, 0, (size_t)sys->z * sizeof *sys->row);
            if (j == jj) /* the product a_ij b_jk belongs to C entry (i,k): variable c_ki */
                sys->row[sys->r + k * n + i] = 1;
            reduce_and_keep(sys);
        }
    free(count);
    free(ua);
    free(vb);
    free(ab);
    free(bb);
    return rc;
}

/* Back substitution into s's C factors; RT_EUSAGE when a value is beyond MM_MAX_COEF. */
static int substitute(linsys *sys, mm_plain *s)
{
    int width = mm_plain_width(s->n, s->m, s->p), off = s->n * s->m + s->m * s->p;
    uint64_t q = sys->q;
    uint64_t *x = calloc((size_t)sys->r * (size_t)sys->z, sizeof *x);
    if (!x)
        return RT_ENOMEM;
    for (int c = sys->r - 1; c >= 0 && sys->b2; c--) { /* modulo 2: every right-hand side at once */
        uint64_t v = sys->b2[c].rhs;
        for (int c2 = c + 1; c2 < sys->r; c2++)
            if (sys->b2[c].lhs[c2 / 64] >> (c2 % 64) & 1)
                for (int zz = 0; zz < sys->z; zz++)
                    v ^= x[(size_t)c2 * (size_t)sys->z + (size_t)zz] << zz;
        for (int zz = 0; zz < sys->z; zz++)
            x[(size_t)c * (size_t)sys->z + (size_t)zz] = v >> zz & 1;
    }
    for (int c = sys->r - 1; c >= 0 && !sys->b2; c--) {
        const uint64_t *b = sys->basis + (size_t)c * (size_t)sys->w;
        uint64_t *xc = x + (size_t)c * (size_t)sys->z;
        memcpy(xc, b + sys->r, (size_t)sys->z * sizeof *xc);
        for (int c2 = c + 1; c2 < sys->r; c2++) {
            const uint64_t *x2 = x + (size_t)c2 * (size_t)sys->z;
            for (int zz = 0; zz < sys->z && b[c2]; zz++)
                xc[zz] = sub_mul(xc[zz], b[c2], x2[zz], q);
        }
    }
    int rc = 0;
    for (size_t i = 0; i < (size_t)sys->r * (size_t)sys->z; i++) {
        int64_t v = q == 2 || x[i] <= q / 2 ? (int64_t)x[i] : (int64_t)x[i] - (int64_t)q;
        if (v > MM_MAX_COEF || v < -MM_MAX_COEF)
            rc = RT_EUSAGE;
    }
    for (int t = 0; t < sys->r && !rc; t++)
        for (int zz = 0; zz < sys->z; zz++) {
            uint64_t v = x[(size_t)t * (size_t)sys->z + (size_t)zz];
            s->coef[(size_t)t * (size_t)width + (size_t)(off + zz)] =
                q == 2 || v <= q / 2 ? (int64_t)v : (int64_t)v - (int64_t)q;
        }
    free(x);
    return rc;
}

int mm_solve_third(mm_plain *s, enum mm_solve_mod mod)
{
    if (s->rank < 1 || s->rank > MM_SOLVE_MAX_RANK ||
        s->n * s->m * s->m * s->p > MM_SOLVE_MAX_ROWS || (mod != MM_SOLVE_MOD2 && mod != MM_SOLVE_MODP))
        return RT_EUSAGE;
    linsys sys = {.q = mod == MM_SOLVE_MOD2 ? 2 : MODP, .r = s->rank, .z = s->p * s->n};
    sys.w = sys.r + sys.z;
    if (sys.q == 2)
        sys.b2 = calloc((size_t)sys.r, sizeof *sys.b2);
    else
        sys.basis = calloc((size_t)sys.r * (size_t)sys.w, sizeof *sys.basis);
    sys.have = calloc((size_t)sys.r, 1);
    sys.row = calloc((size_t)sys.w, sizeof *sys.row);
    int rc = (sys.basis || sys.b2) && sys.have && sys.row ? 0 : RT_ENOMEM;
    if (!rc)
        rc = feed_rows(&sys, s);
    if (!rc && sys.kept < sys.r)
        rc = RT_EUSAGE;
    if (!rc)
        rc = substitute(&sys, s);
    free(sys.basis);
    free(sys.b2);
    free(sys.have);
    free(sys.row);
    return rc;
}
