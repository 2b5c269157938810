/* matmul_lift.c — Hensel lifting of GF(2) schemes to the integers (see matmul_lift.h).
 *
 * Variables: the coefficients of the scheme, in mm_plain's layout (product t, then A, B and C
 * entries), V = rank * width of them. Equations: the Brent equations, one per (a, b, c) entry
 * triple, E = |A| |B| |C| of them, index (a |B| + b) |C| + c.
 *
 * The Jacobian J of F(U,V,W) = sum_t U_t (x) V_t (x) W_t at the GF(2) scheme has a 1 in row
 * (a,b,c) and column U_t[a] exactly when V_t[b] W_t[c] = 1 (mod 2), and likewise for the other two
 * factors. Rows that are zero are left out of the elimination (their right-hand sides must be 0).
 *
 * Elimination: Gauss-Jordan on the rows, column by column. When column c gets pivot row i, every
 * other row j with a 1 in column c becomes row j + row i; the set of such rows j is recorded as
 * a bit mask, so that a right-hand side can later be transformed the same way in R * E / 64 word
 * operations. Only words from c / 64 on are updated: columns before c are pivot columns (already
 * zero outside their pivot rows) or free columns, whose entries do not matter because the free
 * variables' corrections are always zero.
 *
 * Lifting: X starts as the GF(2) scheme with each odd coefficient +1 or -1 (a sign pattern).
 * Step k computes the residual T - F(X) in 64-bit wrap-around arithmetic (exact modulo 2^64),
 * whose bits below k are zero; bit k is the right-hand side. The solution corrects the pivot
 * variables by 2^k; then X is replaced by its symmetric residues modulo 2^(k+1), which keeps the
 * free variables at their starting values and lets a lift with small integer coefficients show
 * up as a residual that is zero outright. That candidate is checked with mm_verify over the
 * integers, the only judge of success.
 */
#include "problems/matmul/matmul_lift.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "problems/matmul/matmul_codegen.h"
#include "problems/matmul/matmul_search.h"

#define LIFT_DEFAULT_BITS 40
#define LIFT_DEFAULT_TRIES 64
#define LIFT_DEFAULT_ORDERS 4
#define LIFT_MAX_ORDERS 64
#define LIFT_MAX_TRIES 100000
#define LIFT_QCHECK_BOUND ((int64_t)1 << 36) /* |scaled coefficient| in the rational check */

void mm_lift_options_init(mm_lift_options *o)
{
    o->bits = LIFT_DEFAULT_BITS;
    o->tries = LIFT_DEFAULT_TRIES;
    o->orders = LIFT_DEFAULT_ORDERS;
    o->seed = 1;
}

typedef struct lift_sys {
    int w[3], width;
    int rank;     /* products kept */
    int nvar;     /* rank * width */
    int neq;      /* all equations */
    int nrows;    /* equations with a nonzero Jacobian row */
    int vwords;   /* words per Jacobian row */
    int ewords;   /* words per right-hand side (over the nonzero rows) */
    int npiv;     /* rank of J */
    int natural;  /* columns in variable order (else odd coefficients first) */
    uint64_t shuffle; /* nonzero: columns shuffled within each kind, with this seed */
    unsigned char *x0;  /* nvar: the GF(2) scheme, 0 or 1 */
    unsigned char *kind; /* nvar: 2 odd, 1 odd and a product's sign gauge, 0 even */
    int *guess;          /* nguess: free odd variables that are not gauge: their signs are tried */
    int nguess;
    unsigned char *tgt; /* neq: the matrix multiplication tensor, 0 or 1 */
    int *row_of;        /* neq: compact row index, or -1 for a zero row */
    int *col_of;        /* nvar: the variable's column; odd coefficients come first */
    int *piv_col;       /* npiv: the pivot's variable */
    int *piv_row;       /* npiv */
    uint64_t *masks;    /* npiv rows of ewords: rows updated by each pivot */
    uint64_t *free_rows; /* ewords: the rows without a pivot */
} lift_sys;

/* Frees what sys_build made, so that it can run again in another column order. */
static void sys_clear(lift_sys *s)
{
    free(s->row_of);
    free(s->col_of);
    free(s->piv_col);
    free(s->piv_row);
    free(s->masks);
    free(s->free_rows);
    free(s->guess);
    s->guess = NULL;
    s->nguess = 0;
    s->row_of = s->col_of = s->piv_col = s->piv_row = NULL;
    s->masks = s->free_rows = NULL;
    s->npiv = 0;
}

static void sys_free(lift_sys *s)
{
    sys_clear(s);
    free(s->kind);
    free(s->x0);
    free(s->tgt);
    memset(s, 0, sizeof *s);
}

/* The scheme's support in factor q of product t: indices with an odd coefficient. */
static int support(const lift_sys *s, int t, int q, int *out)
{
    int off = q == 0 ? 0 : q == 1 ? s->w[0] : s->w[0] + s->w[1];
    const unsigned char *v = s->x0 + (size_t)t * (size_t)s->width + (size_t)off;
    int k = 0;
    for (int i = 0; i < s->w[q]; i++)
        if (v[i])
            out[k++] = i;
    return k;
}

/* Calls visit(eq, var) for every 1 of the Jacobian; mode 0 marks rows, mode 1 sets bits. */
static void jacobian_walk(lift_sys *s, uint64_t *mat, int mode)
{
    int sup[3][MM_MAX_DIM * MM_MAX_DIM];
    int k[3];
    int w1 = s->w[1], w2 = s->w[2];
    for (int t = 0; t < s->rank; t++) {
        for (int q = 0; q < 3; q++)
            k[q] = support(s, t, q, sup[q]);
        int base = t * s->width;
        for (int q = 0; q < 3; q++) {
            /* variable: factor q, entry e; the other two factors range over their supports */
            int q1 = (q + 1) % 3, q2 = (q + 2) % 3;
            int off = q == 0 ? 0 : q == 1 ? s->w[0] : s->w[0] + s->w[1];
            for (int e = 0; e < s->w[q]; e++) {
                int var = base + off + e;
                for (int x = 0; x < k[q1]; x++)
                    for (int y = 0; y < k[q2]; y++) {
                        int idx[3];
                        idx[q] = e;
                        idx[q1] = sup[q1][x];
                        idx[q2] = sup[q2][y];
                        int eq = (idx[0] * w1 + idx[1]) * w2 + idx[2];
                        if (mode == 0) {
                            s->row_of[eq] = 0;
                        } else {
                            uint64_t *row = mat + (size_t)s->row_of[eq] * (size_t)s->vwords;
                            int col = s->col_of[var];
                            row[col >> 6] |= 1ULL << (col & 63);
                        }
                    }
            }
        }
    }
}

/* Numbers the equations whose Jacobian row is not zero (s->row_of, s->nrows). Returns 0 or
 * RT_ENOMEM. */
static int sys_number_rows(lift_sys *s, char *why, size_t len)
{
    s->row_of = malloc((size_t)s->neq * sizeof *s->row_of);
    if (!s->row_of)
        return rt_fail(why, len, RT_ENOMEM, "out of memory");
    for (int e = 0; e < s->neq; e++)
        s->row_of[e] = -1;
    jacobian_walk(s, NULL, 0);
    s->nrows = 0;
    for (int e = 0; e < s->neq; e++)
        if (s->row_of[e] >= 0)
            s->row_of[e] = s->nrows++;
    return 0;
}

/* Orders the columns into var_of (column -> variable) and s->col_of (its inverse). The odd
 * coefficients come first, so that they become pivots (set by the equations) and the free
 * variables, held at their starting values, are mostly the even ones, which stay 0: the sparse
 * lift a search over {-1,0,1} would have found. s->natural: variable order; s->shuffle: the
 * columns of each kind shuffled with that seed. */
static void sys_order_columns(lift_sys *s, int *var_of)
{
    int ncol = 0;
    for (int pass = 2; pass >= 0; pass--)
        for (int v = 0; v < s->nvar; v++)
            if (s->natural ? pass == 2 : s->kind[v] == pass)
                var_of[ncol++] = v;
    if (s->shuffle) {
        rt_rng r;
        rt_rng_seed(&r, s->shuffle, 0x636f6c73 /* "cols" */);
        for (int lo = 0; lo < ncol;) {
            int hi = lo;
            while (hi < ncol && s->kind[var_of[hi]] == s->kind[var_of[lo]])
                hi++;
            for (int i = hi - 1; i > lo; i--) {
                int j = lo + (int)rt_rng_below(&r, (uint32_t)(i - lo + 1));
                int tmp = var_of[i];
                var_of[i] = var_of[j];
                var_of[j] = tmp;
            }
            lo = hi;
        }
    }
    for (int c = 0; c < ncol; c++)
        s->col_of[var_of[c]] = c;
}

/* Gauss-Jordan elimination of mat (nrows rows of vwords words) over GF(2), at most maxpiv
 * pivots: fills s->masks, s->piv_col, s->piv_row, s->npiv and is_piv (rows with a pivot).
 * cw and act are scratch arrays of nrows + 1.
 *
 * Columns are taken 64 at a time: cw[i] holds word `word` of row act[i], for the rows whose
 * word is nonzero (no other row can change in this block), so that finding the rows with a 1 in
 * a column reads one short contiguous array instead of one word per row. */
static void sys_eliminate(lift_sys *s, uint64_t *mat, const int *var_of, int maxpiv,
                          unsigned char *is_piv, uint64_t *cw, int *act)
{
    size_t vw = (size_t)s->vwords;
    s->npiv = 0;
    for (size_t word = 0; word < vw && s->npiv < maxpiv; word++) {
        /* only rows with a 1 in this block can change in it: list them once */
        int nact = 0;
        for (int j = 0; j < s->nrows; j++) {
            uint64_t v = mat[(size_t)j * vw + word];
            if (v) {
                cw[nact] = v;
                act[nact++] = j;
            }
        }
        for (int b = 0; b < 64 && s->npiv < maxpiv; b++) {
            int c = (int)word * 64 + b;
            if (c >= s->nvar)
                break;
            uint64_t bit = 1ULL << b;
            int pa = -1;
            for (int i = 0; i < nact; i++)
                if ((cw[i] & bit) && !is_piv[act[i]]) {
                    pa = i;
                    break;
                }
            if (pa < 0)
                continue;
            int pr = act[pa];
            is_piv[pr] = 1;
            uint64_t *mask = s->masks + (size_t)s->npiv * (size_t)s->ewords;
            const uint64_t *prow = mat + (size_t)pr * vw;
            uint64_t pw = cw[pa];
            for (int i = 0; i < nact; i++) {
                if (!(cw[i] & bit) || i == pa)
                    continue;
                int j = act[i];
                uint64_t *row = mat + (size_t)j * vw;
                for (size_t q = word + 1; q < vw; q++)
                    row[q] ^= prow[q];
                cw[i] ^= pw;
                mask[j >> 6] |= 1ULL << (j & 63);
            }
            s->piv_col[s->npiv] = var_of[c];
            s->piv_row[s->npiv] = pr;
            s->npiv++;
        }
    }
    for (int i = 0; i < s->nrows; i++)
        if (!is_piv[i])
            s->free_rows[i >> 6] |= 1ULL << (i & 63);
}

/* The free odd variables other than the sign gauges (s->guess): their signs are what tries
 * vary. Returns 0 or RT_ENOMEM. */
static int sys_find_guesses(lift_sys *s, char *why, size_t len)
{
    s->guess = malloc(((size_t)s->nvar + 1) * sizeof *s->guess);
    unsigned char *pivvar = calloc((size_t)s->nvar + 1, 1);
    if (!s->guess || !pivvar) {
        free(pivvar);
        return rt_fail(why, len, RT_ENOMEM, "out of memory");
    }
    for (int k = 0; k < s->npiv; k++)
        pivvar[s->piv_col[k]] = 1;
    for (int v = 0; v < s->nvar; v++)
        if (s->x0[v] && !pivvar[v] && (s->natural || s->kind[v] == 2))
            s->guess[s->nguess++] = v;
    free(pivvar);
    return 0;
}

/* Builds and eliminates the Jacobian. Returns 0, RT_ETOOBIG or RT_ENOMEM. */
static int sys_build(lift_sys *s, char *why, size_t len)
{
    uint64_t *mat = NULL, *cw = NULL;
    unsigned char *is_piv = NULL;
    int *var_of = NULL, *act = NULL;
    int rc = sys_number_rows(s, why, len);
    if (rc)
        return rc;
    s->col_of = malloc(((size_t)s->nvar + 1) * sizeof *s->col_of);
    var_of = malloc(((size_t)s->nvar + 1) * sizeof *var_of);
    if (!s->col_of || !var_of) {
        rc = rt_fail(why, len, RT_ENOMEM, "out of memory");
        goto done;
    }
    sys_order_columns(s, var_of);
    s->vwords = (s->nvar + 63) / 64;
    s->ewords = (s->nrows + 63) / 64;
    int maxpiv = s->nvar < s->nrows ? s->nvar : s->nrows;
    double bytes = 8.0 * ((double)s->nrows * s->vwords + (double)maxpiv * s->ewords);
    if (bytes > (double)MM_LIFT_MAX_BYTES) {
        rc = rt_fail(why, len, RT_ETOOBIG,
                     "the linear system (%d equations, %d unknowns) needs %.0f MiB, over the "
                     "%zu MiB cap", s->nrows, s->nvar, bytes / 1048576.0, MM_LIFT_MAX_BYTES >> 20);
        goto done;
    }
    mat = calloc((size_t)s->nrows * (size_t)s->vwords + 1, sizeof *mat);
    s->masks = calloc((size_t)maxpiv * (size_t)s->ewords + 1, sizeof *s->masks);
    s->piv_col = malloc(((size_t)maxpiv + 1) * sizeof *s->piv_col);
    s->piv_row = malloc(((size_t)maxpiv + 1) * sizeof *s->piv_row);
    s->free_rows = calloc((size_t)s->ewords + 1, sizeof *s->free_rows);
    is_piv = calloc((size_t)s->nrows + 1, 1);
    cw = malloc(((size_t)s->nrows + 1) * sizeof *cw);
    act = malloc(((size_t)s->nrows + 1) * sizeof *act);
    if (!mat || !s->masks || !s->piv_col || !s->piv_row || !s->free_rows || !is_piv || !cw ||
        !act) {
        rc = rt_fail(why, len, RT_ENOMEM, "out of memory");
        goto done;
    }
    jacobian_walk(s, mat, 1);
    sys_eliminate(s, mat, var_of, maxpiv, is_piv, cw, act);
    rc = sys_find_guesses(s, why, len);
done:
    free(mat);
    free(cw);
    free(act);
    free(is_piv);
    free(var_of);
    return rc;
}

/* Solves J d = rhs (rhs over the nonzero rows, transformed in place); writes the pivot
 * variables' bits into d (free ones are 0). Returns 0, or -1 when the system is inconsistent. */
static int sys_solve(const lift_sys *s, uint64_t *rhs, unsigned char *d)
{
    size_t ew = (size_t)s->ewords;
    for (int k = 0; k < s->npiv; k++) {
        int pr = s->piv_row[k];
        if (!(rhs[pr >> 6] & (1ULL << (pr & 63))))
            continue;
        const uint64_t *mask = s->masks + (size_t)k * ew;
        for (size_t q = 0; q < ew; q++)
            rhs[q] ^= mask[q];
    }
    for (size_t q = 0; q < ew; q++)
        if (rhs[q] & s->free_rows[q])
            return -1;
    memset(d, 0, (size_t)s->nvar);
    for (int k = 0; k < s->npiv; k++) {
        int pr = s->piv_row[k];
        d[s->piv_col[k]] = (unsigned char)((rhs[pr >> 6] >> (pr & 63)) & 1);
    }
    return 0;
}

/* resid = T - F(X) modulo 2^64 over all equations. */
static void residual(const lift_sys *s, const int64_t *x, uint64_t *resid)
{
    int w0 = s->w[0], w1 = s->w[1], w2 = s->w[2];
    for (int e = 0; e < s->neq; e++)
        resid[e] = s->tgt[e];
    for (int t = 0; t < s->rank; t++) {
        const int64_t *u = x + (size_t)t * (size_t)s->width;
        const int64_t *v = u + w0, *w = v + w1;
        for (int a = 0; a < w0; a++) {
            if (!u[a])
                continue;
            for (int b = 0; b < w1; b++) {
                if (!v[b])
                    continue;
                uint64_t uv = (uint64_t)u[a] * (uint64_t)v[b];
                uint64_t *r = resid + ((size_t)a * (size_t)w1 + (size_t)b) * (size_t)w2;
                for (int c = 0; c < w2; c++)
                    r[c] -= uv * (uint64_t)w[c];
            }
        }
    }
}

/* x modulo 2^bits as the residue in (-2^(bits-1), 2^(bits-1)]. bits <= 62. */
static int64_t sym_mod(int64_t x, int bits)
{
    uint64_t mod = 1ULL << bits;
    uint64_t r = (uint64_t)x & (mod - 1);
    if (r > mod / 2)
        return (int64_t)r - (int64_t)mod;
    return (int64_t)r;
}

/* Copies x into a fresh plain scheme of the system's shape and checks it exactly over Z. Returns
 * 1 (valid, *out set), 0 (not valid or a coefficient over the file cap), or RT_ENOMEM. */
static int check_integer(const lift_sys *s, const mm_plain *shape, const int64_t *x, mm_plain *out)
{
    for (int v = 0; v < s->nvar; v++)
        if (x[v] > MM_MAX_COEF || x[v] < -MM_MAX_COEF)
            return 0;
    mm_plain cand;
    int rc = mm_plain_init(&cand, shape->n, shape->m, shape->p, s->rank);
    if (rc)
        return RT_ENOMEM;
    memcpy(cand.coef, x, (size_t)s->nvar * sizeof *x);
    mm_check chk;
    rc = mm_verify(&cand, MM_Z, &chk);
    if (rc || !chk.valid || chk.rank != s->rank) {
        mm_plain_free(&cand);
        return rc ? RT_ENOMEM : 0;
    }
    *out = cand;
    return 1;
}

/* Rational reconstruction: finds num/den with |num| <= bound, 0 < den <= bound, den odd and
 * num == a * den (mod 2^bits). Returns 0, or -1 when there is none. bits <= 60. */
static int ratrec(int64_t a, int bits, int64_t bound, int64_t *num, int64_t *den)
{
    __int128 mod = (__int128)1 << bits;
    __int128 r0 = mod, r1 = ((__int128)a % mod + mod) % mod;
    __int128 t0 = 0, t1 = 1;
    while (r1 > bound) {
        __int128 q = r0 / r1;
        __int128 r2 = r0 - q * r1, t2 = t0 - q * t1;
        r0 = r1;
        r1 = r2;
        t0 = t1;
        t1 = t2;
    }
    if (t1 < 0) {
        t1 = -t1;
        r1 = -r1;
    }
    if (t1 == 0 || t1 > bound || (t1 & 1) == 0)
        return -1;
    *num = (int64_t)r1;
    *den = (int64_t)t1;
    return 0;
}

static int64_t gcd64(int64_t a, int64_t b)
{
    if (a < 0)
        a = -a;
    if (b < 0)
        b = -b;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Scales factor q of a product (2-adic row, `bits` bits) to integers: sc = l * value with l the
 * lcm of the reconstructed denominators. Returns l, or 0 when a coefficient has no small
 * rational form or the scaled values leave the check's bounds. */
static int64_t scale_factor(const int64_t *row, int width, int bits, int64_t *sc, int64_t *maxden)
{
    int64_t bound = (int64_t)1 << ((bits - 2) / 2);
    int64_t nums[MM_MAX_DIM * MM_MAX_DIM], dens[MM_MAX_DIM * MM_MAX_DIM];
    int64_t l = 1;
    for (int e = 0; e < width; e++) {
        if (ratrec(row[e], bits, bound, &nums[e], &dens[e]))
            return 0;
        if (dens[e] > *maxden)
            *maxden = dens[e];
        l = l / gcd64(l, dens[e]) * dens[e];
        if (l > (1 << 12))
            return 0;
    }
    for (int e = 0; e < width; e++) {
        int64_t v = nums[e] * (l / dens[e]);
        if (v > LIFT_QCHECK_BOUND || v < -LIFT_QCHECK_BOUND)
            return 0;
        sc[e] = v;
    }
    return l;
}

/* Reads x (2-adic to `bits` bits) as rationals with odd denominators and checks the Brent
 * equations exactly over Q: with each factor scaled to integers (product t scaled by D_t) and
 * L the lcm of the D_t, sum_t (L / D_t) * scaled product must equal L * T. Returns 1 when it
 * holds (the largest denominator in *maxden), 0 otherwise, RT_ENOMEM. */
static int check_rational(const lift_sys *s, const int64_t *x, int bits, int64_t *maxden)
{
    int w0 = s->w[0], w1 = s->w[1], w2 = s->w[2];
    __int128 *acc = calloc((size_t)s->neq, sizeof *acc);
    int64_t *sc = malloc((size_t)s->nvar * sizeof *sc + 1);
    __int128 *dprod = malloc(((size_t)s->rank + 1) * sizeof *dprod);
    int ok = 0;
    if (!acc || !sc || !dprod) {
        ok = RT_ENOMEM;
        goto done;
    }
    *maxden = 1;
    __int128 lcm_all = 1;
    for (int t = 0; t < s->rank; t++) {
        const int64_t *row = x + (size_t)t * (size_t)s->width;
        int64_t *srow = sc + (size_t)t * (size_t)s->width;
        __int128 dt = 1;
        int off = 0;
        for (int q = 0; q < 3; q++) {
            int64_t l = scale_factor(row + off, s->w[q], bits, srow + off, maxden);
            if (!l)
                goto done;
            dt *= l;
            off += s->w[q];
        }
        dprod[t] = dt;
        __int128 g = lcm_all, h = dt;
        while (h) {
            __int128 r = g % h;
            g = h;
            h = r;
        }
        lcm_all = lcm_all / g * dt;
        if (lcm_all > ((__int128)1 << 40))
            goto done;
    }
    for (int t = 0; t < s->rank; t++) {
        const int64_t *u = sc + (size_t)t * (size_t)s->width;
        const int64_t *v = u + w0, *w = v + w1;
        __int128 f = lcm_all / dprod[t]; /* <= 2^40 */
        for (int a = 0; a < w0; a++) {
            if (!u[a])
                continue;
            for (int b = 0; b < w1; b++) {
                if (!v[b])
                    continue;
                __int128 uv = (__int128)u[a] * v[b]; /* < 2^72 */
                __int128 *r = acc + ((size_t)a * (size_t)w1 + (size_t)b) * (size_t)w2;
                for (int c = 0; c < w2; c++) {
                    if (!w[c])
                        continue;
                    __int128 term = uv * w[c]; /* < 2^108 */
                    if (f != 1) {
                        if (term > ((__int128)1 << 70) || term < -((__int128)1 << 70))
                            goto done;
                        term *= f;
                    }
                    r[c] += term; /* at most 4096 terms under 2^120: no overflow */
                }
            }
        }
    }
    ok = 1;
    for (int e = 0; e < s->neq; e++)
        if (acc[e] != (s->tgt[e] ? lcm_all : 0)) {
            ok = 0;
            break;
        }
done:
    free(acc);
    free(sc);
    free(dprod);
    return ok;
}

/* Turns a rational lift into an integer one where the rationals come only from how the three
 * factors of a product share a scalar: each factor is written as (content / lcm of denominators)
 * times a primitive integer vector, and when the product of the three scalars is an integer it
 * is moved into the C factor. Writes the integer coefficients into xi. Returns 1 when every
 * product allows it, 0 otherwise. The result still reduces to the GF(2) scheme modulo 2 (every
 * content and denominator involved is odd); the caller checks it exactly. */
static int rational_to_integer(const lift_sys *s, const int64_t *x, int bits, int64_t *xi)
{
    int64_t maxden = 0;
    for (int t = 0; t < s->rank; t++) {
        const int64_t *row = x + (size_t)t * (size_t)s->width;
        int64_t *dst = xi + (size_t)t * (size_t)s->width;
        int64_t num = 1, den = 1;
        int off = 0;
        for (int q = 0; q < 3; q++) {
            int64_t l = scale_factor(row + off, s->w[q], bits, dst + off, &maxden);
            if (!l)
                return 0;
            int64_t c = 0;
            for (int e = 0; e < s->w[q]; e++)
                c = gcd64(c, dst[off + e]);
            if (c == 0)
                return 0;
            for (int e = 0; e < s->w[q]; e++)
                dst[off + e] /= c;
            /* scalar c / l; num and den stay below 2^36 * 2^12 per factor, reduced each time */
            int64_t g1 = gcd64(c, den), g2 = gcd64(l, num);
            __int128 nn = (__int128)(num / g2) * (c / g1), dd = (__int128)(den / g1) * (l / g2);
            if (nn > MM_MAX_COEF || nn < -MM_MAX_COEF || dd > MM_MAX_COEF)
                return 0;
            num = (int64_t)nn;
            den = (int64_t)dd;
            off += s->w[q];
        }
        if (den < 0) {
            den = -den;
            num = -num;
        }
        if (den != 1)
            return 0;
        int64_t *cf = dst + s->w[0] + s->w[1];
        for (int e = 0; e < s->w[2]; e++) {
            __int128 v = (__int128)cf[e] * num;
            if (v > MM_MAX_COEF || v < -MM_MAX_COEF)
                return 0;
            cf[e] = (int64_t)v;
        }
    }
    return 1;
}

/* Fills s from the GF(2) scheme: keeps products whose three factors are nonzero mod 2. */
static int sys_init(lift_sys *s, const mm_plain *g, char *why, size_t len)
{
    memset(s, 0, sizeof *s);
    s->w[0] = g->n * g->m;
    s->w[1] = g->m * g->p;
    s->w[2] = g->p * g->n;
    s->width = s->w[0] + s->w[1] + s->w[2];
    s->neq = s->w[0] * s->w[1] * s->w[2];
    s->x0 = calloc((size_t)g->rank * (size_t)s->width + 1, 1);
    s->tgt = calloc((size_t)s->neq, 1);
    if (!s->x0 || !s->tgt)
        return rt_fail(why, len, RT_ENOMEM, "out of memory");
    for (int t = 0; t < g->rank; t++) {
        const int64_t *row = g->coef + (size_t)t * (size_t)s->width;
        unsigned char *dst = s->x0 + (size_t)s->rank * (size_t)s->width;
        int nz[3] = {0, 0, 0}, off = 0;
        for (int q = 0; q < 3; q++) {
            for (int e = 0; e < s->w[q]; e++) {
                dst[off + e] = (unsigned char)(row[off + e] & 1);
                nz[q] |= dst[off + e];
            }
            off += s->w[q];
        }
        if (nz[0] && nz[1] && nz[2])
            s->rank++;
        else
            memset(dst, 0, (size_t)s->width);
    }
    s->nvar = s->rank * s->width;
    /* kinds: the first odd entry of each product's A and B factors is a sign gauge (the
     * product is unchanged when both factors change sign), so it may stay +1 */
    s->kind = calloc((size_t)s->nvar + 1, 1);
    if (!s->kind)
        return rt_fail(why, len, RT_ENOMEM, "out of memory");
    for (int t = 0; t < s->rank; t++) {
        int off = 0;
        for (int q = 0; q < 3; q++) {
            int gauge_done = q == 2;
            for (int e = 0; e < s->w[q]; e++) {
                size_t v = (size_t)t * (size_t)s->width + (size_t)(off + e);
                if (!s->x0[v])
                    continue;
                s->kind[v] = gauge_done ? 2 : 1;
                gauge_done = 1;
            }
            off += s->w[q];
        }
    }
    int n = g->n, m = g->m, p = g->p;
    for (int a = 0; a < s->w[0]; a++)
        for (int b = 0; b < s->w[1]; b++)
            for (int c = 0; c < s->w[2]; c++) {
                int i = a / m, j = a % m, j2 = b / p, k = b % p, k2 = c / n, i2 = c % n;
                s->tgt[(a * s->w[1] + b) * s->w[2] + c] = j == j2 && k == k2 && i == i2;
            }
    return 0;
}

/* One attempt from a sign pattern. Returns 1 (lifted: *out set), 0 (stopped: *stop_bit is the
 * precision that failed, or `bits` when no integer form was found), RT_ENOMEM. */
static int lift_try(const lift_sys *s, const mm_plain *g, rt_rng *rng, long pattern, int bits,
                    int64_t *x, uint64_t *resid, uint64_t *rhs, unsigned char *d, mm_plain *out,
                    int *stop_bit)
{
    /* pattern >= 0: bit i is the sign of guess i (all of them enumerated in turn when there are
     * few); pattern < 0: random signs */
    for (int v = 0; v < s->nvar; v++)
        x[v] = s->x0[v];
    for (int i = 0; i < s->nguess; i++) {
        int neg = pattern < 0 ? (int)(rt_rng_next(rng) >> 63) : i < 62 && ((pattern >> i) & 1);
        x[s->guess[i]] = neg ? -1 : 1;
    }
    for (int k = 1; k < bits; k++) {
        residual(s, x, resid);
        int zero = 1;
        for (int e = 0; e < s->neq && zero; e++)
            zero = resid[e] == 0;
        if (zero) {
            int rc = check_integer(s, g, x, out);
            if (rc)
                return rc;
        }
        memset(rhs, 0, (size_t)s->ewords * sizeof *rhs);
        for (int e = 0; e < s->neq; e++) {
            uint64_t bit = (resid[e] >> k) & 1;
            if ((resid[e] & ((1ULL << k) - 1)) != 0) { /* cannot happen: the step invariant */
                *stop_bit = -1;
                return 0;
            }
            if (!bit)
                continue;
            int r = s->row_of[e];
            if (r < 0) {
                *stop_bit = k + 1;
                return 0;
            }
            rhs[r >> 6] |= 1ULL << (r & 63);
        }
        if (sys_solve(s, rhs, d)) {
            *stop_bit = k + 1;
            return 0;
        }
        for (int v = 0; v < s->nvar; v++)
            x[v] = sym_mod(x[v] + ((int64_t)d[v] << k), k + 1);
    }
    residual(s, x, resid);
    int zero = 1;
    for (int e = 0; e < s->neq && zero; e++)
        zero = resid[e] == 0;
    if (zero) {
        int rc = check_integer(s, g, x, out);
        if (rc)
            return rc;
    }
    *stop_bit = bits;
    return 0;
}

/* The largest |coefficient| of x[0..n). */
static int64_t max_abs(const int64_t *x, int n)
{
    int64_t most = 0;
    for (int v = 0; v < n; v++) {
        int64_t a = x[v] < 0 ? -x[v] : x[v];
        if (a > most)
            most = a;
    }
    return most;
}

/* Checks the options' ranges and that gf2 is a scheme over GF(2). Returns 0, or RT_EUSAGE /
 * RT_ENOMEM with the reason in why. */
static int lift_check_input(const mm_plain *gf2, const mm_lift_options *o, char *why, size_t len)
{
    if (o->bits < 2 || o->bits > MM_LIFT_MAX_BITS || o->tries < 1 || o->tries > LIFT_MAX_TRIES ||
        o->orders < 1 || o->orders > LIFT_MAX_ORDERS)
        return rt_fail(why, len, RT_EUSAGE,
                       "lift options out of range (bits 2..%d, tries 1..%d, orders 1..%d)",
                       MM_LIFT_MAX_BITS, LIFT_MAX_TRIES, LIFT_MAX_ORDERS);
    mm_check chk;
    int rc = mm_verify(gf2, MM_GF2, &chk);
    if (rc)
        return rt_fail(why, len, rc, rc == RT_ENOMEM ? "out of memory" : "malformed scheme");
    if (!chk.valid) {
        char desc[256];
        mm_check_describe(gf2, &chk, desc, sizeof desc);
        return rt_fail(why, len, RT_EUSAGE, "not a scheme over GF(2): %s", desc);
    }
    return 0;
}

/* The search of mm_lift_ex: its scratch arrays (nvar, neq and ewords long) and what the tries
 * found so far. */
typedef struct lift_search {
    int64_t *x;
    uint64_t *resid, *rhs;
    unsigned char *d;
    int best_stop;  /* the highest precision a try reached */
    int rational;   /* a try's 2-adic solution is a rational one */
    int64_t maxden; /* its largest denominator */
} lift_search;

/* A try that reached full precision without an integer lift: its coefficients may still be
 * small rationals written 2-adically, scaled to integers (a lift), or rationals (reported).
 * Returns 1 lifted (*out set, ls->x the lift), 0 not, or RT_ENOMEM. */
static int lift_at_full_precision(const lift_sys *s, const mm_plain *gf2, int bits,
                                  lift_search *ls, mm_plain *out)
{
    int64_t *xi = malloc(((size_t)s->nvar + 1) * sizeof *xi);
    if (!xi)
        return RT_ENOMEM;
    int got = rational_to_integer(s, ls->x, bits, xi) ? check_integer(s, gf2, xi, out) : 0;
    if (got == 1)
        memcpy(ls->x, xi, (size_t)s->nvar * sizeof *ls->x);
    free(xi);
    if (got)
        return got;
    if (!ls->rational) {
        int q = check_rational(s, ls->x, bits, &ls->maxden);
        if (q < 0)
            return q;
        ls->rational = q;
    }
    return 0;
}

/* Judges one try that did not lift outright (it stopped at precision stop). Returns 1 when
 * it lifted after all (*out set), 0 to go on trying, or an error with why set: RT_EINVALID
 * (a proof that no lift exists), RT_EINTERNAL, RT_ENOMEM. */
static int lift_judge_try(const lift_sys *s, const mm_plain *gf2, const mm_lift_options *o,
                          int stop, lift_search *ls, mm_lift_info *info, mm_plain *out,
                          char *why, size_t len)
{
    if (stop == -1)
        return rt_fail(why, len, RT_EINTERNAL, "lifting invariant broken (a bug in ratchet)");
    if (stop == 2) {
        info->proof = 1;
        info->bits = 2;
        return rt_fail(why, len, RT_EINVALID,
                       "cannot be lifted: the Brent equations have no solution modulo 4 that "
                       "reduces to this scheme modulo 2 (the linearised system J d = (T - F)/2 "
                       "over GF(2) is inconsistent, whatever the integer representatives), so "
                       "no lift to the integers, the 2-adic integers or the rationals with odd "
                       "denominators exists; the scheme is valid only in characteristic 2");
    }
    if (stop > ls->best_stop)
        ls->best_stop = stop;
    if (stop != o->bits)
        return 0;
    int rc = lift_at_full_precision(s, gf2, o->bits, ls, out);
    if (rc == 1)
        info->bits = o->bits;
    else if (rc < 0)
        return rt_fail(why, len, rc, "out of memory");
    return rc;
}

/* Why no lift was found (RT_EINVALID, with the reason in why), once every try failed. */
static int lift_none_found(const lift_search *ls, const mm_lift_options *o, mm_lift_info *info,
                           char *why, size_t len)
{
    info->bits = ls->best_stop;
    info->rational = ls->rational;
    if (ls->rational)
        return rt_fail(why, len, RT_EINVALID,
                       "no integer lift found in %d tries, but a lift over the rationals holds "
                       "(odd denominators up to %lld), which the .exp format cannot write",
                       info->tries, (long long)ls->maxden);
    if (ls->best_stop >= o->bits)
        return rt_fail(why, len, RT_EINVALID,
                       "no lift found in %d tries: the scheme lifts 2-adically to %d bits, but "
                       "the coefficients are neither small integers nor small rationals; this "
                       "does not prove that no lift exists", info->tries, o->bits);
    return rt_fail(why, len, RT_EINVALID,
                   "no lift found in %d tries: the scheme lifts modulo 4, but every try stopped "
                   "by modulo 2^%d (the free coefficients chosen earlier admit no further "
                   "step); this does not prove that no lift exists", info->tries, ls->best_stop);
}

/* The tries. They are shared among column orders: odd coefficients first, then the natural
 * order, then odd-first orders shuffled within each kind; the first order gets the remainder.
 * In each order the sign patterns of the guessed variables are enumerated when they all fit in
 * its tries, else the all-plus pattern comes first and then random ones. Returns 0 with the lift
 * in *out, or an error as mm_lift_ex. */
static int lift_search_run(lift_sys *s, const mm_plain *gf2, const mm_lift_options *o,
                           lift_search *ls, mm_lift_info *info, mm_plain *out, char *why,
                           size_t len)
{
    rt_rng rng;
    rt_rng_seed(&rng, o->seed, 0x6c696674 /* "lift" */);
    int orders = o->orders < o->tries ? o->orders : o->tries;
    int per_order = o->tries / orders, next_switch = per_order + o->tries % orders;
    int order = 0, phase_start = 0;
    for (int attempt = 0; attempt < o->tries && !rt_work_cut(); attempt++) {
        int stop = 0, rc;
        if (attempt == next_switch) {
            order++;
            phase_start = attempt;
            next_switch = attempt + per_order;
            sys_clear(s);
            s->natural = order == 1;
            s->shuffle = order >= 2 ? rt_rng_next(&rng) | 1 : 0;
            if ((rc = sys_build(s, why, len)))
                return rc;
        }
        long idx = attempt - phase_start, phase_len = next_switch - phase_start;
        if (s->nguess < 30 && idx >= ((long)1 << s->nguess))
            continue; /* every pattern of this order tried */
        long pattern = s->nguess < 30 && ((long)1 << s->nguess) <= phase_len ? idx
                       : idx == 0                                            ? 0
                                                                             : -1;
        info->tries++;
        rc = lift_try(s, gf2, &rng, pattern, o->bits, ls->x, ls->resid, ls->rhs, ls->d, out,
                      &stop);
        if (rc == 1)
            info->bits = 0;
        else if (rc == 0)
            rc = lift_judge_try(s, gf2, o, stop, ls, info, out, why, len);
        if (rc == 1) {
            info->max_coef = max_abs(ls->x, s->nvar);
            return 0;
        }
        if (rc < 0)
            return rc;
    }
    return lift_none_found(ls, o, info, why, len);
}

int mm_lift_ex(const mm_plain *gf2, const mm_lift_options *o, mm_plain *out, mm_lift_info *info,
               char *why, size_t len)
{
    mm_lift_options defaults;
    mm_lift_info dummy;
    lift_sys s;
    lift_search ls = {0};
    double t0 = rt_now();
    memset(&s, 0, sizeof s);
    if (!o) {
        mm_lift_options_init(&defaults);
        o = &defaults;
    }
    if (!info)
        info = &dummy;
    memset(info, 0, sizeof *info);
    int rc = lift_check_input(gf2, o, why, len);
    if (rc)
        return rc;
    rc = sys_init(&s, gf2, why, len);
    if (!rc)
        rc = sys_build(&s, why, len);
    if (rc)
        goto done;
    info->variables = s.nvar;
    info->equations = s.nrows;
    info->jacobian_rank = s.npiv;
    info->free_odd = s.nguess;
    ls.x = malloc(((size_t)s.nvar + 1) * sizeof *ls.x);
    ls.resid = malloc((size_t)s.neq * sizeof *ls.resid);
    ls.rhs = malloc(((size_t)s.ewords + 1) * sizeof *ls.rhs);
    ls.d = malloc((size_t)s.nvar + 1);
    if (!ls.x || !ls.resid || !ls.rhs || !ls.d) {
        rc = rt_fail(why, len, RT_ENOMEM, "out of memory");
        goto done;
    }
    rc = lift_search_run(&s, gf2, o, &ls, info, out, why, len);
done:
    info->seconds = rt_now() - t0;
    free(ls.x);
    free(ls.resid);
    free(ls.rhs);
    free(ls.d);
    sys_free(&s);
    return rc;
}

int mm_lift_fits(int n, int m, int p, int rank)
{
    double rows = (double)(n * m) * (double)(m * p) * (double)(p * n);
    double vars = (double)rank * (double)(n * m + m * p + p * n);
    double piv = vars < rows ? vars : rows;
    double bytes = 8.0 * (rows * ((vars + 63) / 64) + piv * ((rows + 63) / 64));
    return bytes <= (double)MM_LIFT_MAX_BYTES;
}

int mm_lift(const mm_plain *gf2, mm_plain *out, char *why, size_t len)
{
    return mm_lift_ex(gf2, NULL, out, NULL, why, len);
}

/* ---- conversions and the search's encoder --------------------------------------------------- */

int mm_lift_convert(const char *text, size_t len, int n, int m, int p, enum mm_field field,
                    const char *format, rt_buf *out, char *err, size_t errlen)
{
    mm_plain plain = {0}, lifted = {0};
    int is_lift = strcmp(format, "lift") == 0;
    if (!is_lift && strcmp(format, "c") != 0)
        return rt_fail(err, errlen, RT_EUSAGE, "unknown format '%s'", format);
    int rc = mm_parse_any(text, len, n, m, p, &plain, err, errlen);
    if (rc)
        return rc;
    if (is_lift) {
        rc = mm_lift(&plain, &lifted, err, errlen);
        if (!rc && mm_print_exp(&lifted, out))
            rc = rt_fail(err, errlen, RT_ENOMEM, "out of memory writing the lift");
    } else if (mm_print_c(&plain, field, NULL, out)) {
        rc = rt_fail(err, errlen, RT_ENOMEM, "out of memory writing C");
    }
    mm_plain_free(&lifted);
    mm_plain_free(&plain);
    return rc;
}

/* The per-thread cache of mm_lift_encode: the last GF(2) scheme (canonical products) and the
 * outcome, at most one scheme and one text per thread, freed when the thread exits. */
typedef struct lift_cache {
    mm_prod *prod;
    int rank, cap;
    int n, m, p;
    int rc;
    rt_buf text;
} lift_cache;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_key_ok;

static void cache_destroy(void *v)
{
    lift_cache *c = v;
    free(c->prod);
    rt_buf_free(&c->text);
    free(c);
}

static void cache_key_make(void)
{
    cache_key_ok = pthread_key_create(&cache_key, cache_destroy) == 0;
}

/* This thread's cache, created on first use; NULL when it cannot be (then nothing is cached). */
static lift_cache *cache_get(void)
{
    pthread_once(&cache_once, cache_key_make);
    if (!cache_key_ok)
        return NULL;
    lift_cache *c = pthread_getspecific(cache_key);
    if (c)
        return c;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    rt_buf_init(&c->text, MM_MAX_TEXT);
    if (pthread_setspecific(cache_key, c)) {
        free(c);
        return NULL;
    }
    return c;
}

int mm_lift_encode(const mm_scheme *s, rt_buf *out)
{
    mm_scheme tmp;
    mm_plain plain = {0}, lifted = {0};
    int rc = mm_scheme_copy(&tmp, s);
    if (rc)
        return rc;
    mm_scheme_canonicalize(&tmp);
    lift_cache *c = cache_get();
    if (c && c->prod && c->rank == tmp.rank && c->n == tmp.n && c->m == tmp.m && c->p == tmp.p &&
        memcmp(c->prod, tmp.prod, (size_t)tmp.rank * sizeof *tmp.prod) == 0) {
        mm_scheme_free(&tmp);
        if (c->rc)
            return c->rc;
        return rt_buf_append(out, c->text.data, c->text.len);
    }
    rc = mm_scheme_to_plain(&tmp, &plain);
    int cuts = rt_work_cuts();
    if (!rc) {
        char why[512];
        mm_lift_options o; /* cheaper than the defaults: this runs once per child */
        mm_lift_options_init(&o);
        o.tries = 16;
        o.orders = 2;
        rc = mm_lift_ex(&plain, &o, &lifted, NULL, why, sizeof why);
        if (rc == RT_EUSAGE || rc == RT_ETOOBIG)
            rc = RT_EINVALID;
    }
    if (c && (rc == 0 || rc == RT_EINVALID) && rt_work_cuts() == cuts) {
        /* remember the outcome (not one of a search cut short by the end of the session); a
         * failure to cache only costs a second lift later */
        if (c->cap < tmp.rank) {
            mm_prod *np = realloc(c->prod, (size_t)tmp.rank * sizeof *np);
            if (np) {
                c->prod = np;
                c->cap = tmp.rank;
            }
        }
        if (c->prod && c->cap >= tmp.rank) {
            rt_buf_reset(&c->text);
            int crc = rc == 0 ? mm_print_exp(&lifted, &c->text) : 0;
            if (crc == 0) {
                memcpy(c->prod, tmp.prod, (size_t)tmp.rank * sizeof *tmp.prod);
                c->rank = tmp.rank;
                c->n = tmp.n;
                c->m = tmp.m;
                c->p = tmp.p;
                c->rc = rc;
            } else {
                c->rank = -1;
            }
        }
    }
    if (rc == 0)
        rc = mm_print_exp(&lifted, out);
    mm_plain_free(&lifted);
    mm_plain_free(&plain);
    mm_scheme_free(&tmp);
    return rc;
}

long mm_lift_nnz(const mm_scheme *s)
{
    rt_buf text;
    rt_buf_init(&text, MM_MAX_TEXT);
    mm_plain plain = {0};
    char err[256];
    long nnz = -1;
    if (mm_lift_encode(s, &text) == 0 &&
        mm_parse_any(text.data, text.len, s->n, s->m, s->p, &plain, err, sizeof err) == 0) {
        nnz = 0;
        size_t cells = (size_t)plain.rank * (size_t)mm_plain_width(s->n, s->m, s->p);
        for (size_t i = 0; i < cells; i++)
            nnz += plain.coef[i] != 0;
    }
    mm_plain_free(&plain);
    rt_buf_free(&text);
    return nnz;
}
