/* matmul_pack.c — scheme texts packed as coefficient masks for the store (matmul_pack.h has the
 * layout). */
#include "problems/matmul/matmul_pack.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "problems/matmul/matmul_plain.h"
#include "problems/matmul/matmul_solve.h"

#define PACK_V1 1 /* masks per factor (read only) */
#define PACK_V2 2 /* all nonzero masks, then one sign bit per nonzero (written) */
#define PACK_V3 3 /* version 2 of the A and B factors; C solved from them (written) */

/* The shape the indices of s (parsed at the largest shape) span: every dimension at least 1. */
static void spanned_shape(const mm_plain *s, int dims[3])
{
    const int D = MM_MAX_DIM;
    int w = mm_plain_width(D, D, D);
    dims[0] = dims[1] = dims[2] = 1;
    for (int t = 0; t < s->rank; t++) {
        const int64_t *row = s->coef + (size_t)t * (size_t)w;
        for (int i = 0; i < D * D; i++) {
            int r = i / D + 1, c = i % D + 1;
            if (row[i]) { /* a(r)(c): n, m */
                dims[0] = r > dims[0] ? r : dims[0];
                dims[1] = c > dims[1] ? c : dims[1];
            }
            if (row[D * D + i]) { /* b(r)(c): m, p */
                dims[1] = r > dims[1] ? r : dims[1];
                dims[2] = c > dims[2] ? c : dims[2];
            }
            if (row[2 * D * D + i]) { /* c(r)(c): p, n */
                dims[2] = r > dims[2] ? r : dims[2];
                dims[0] = c > dims[0] ? c : dims[0];
            }
        }
    }
}

/* Copies s (at the largest shape) into out at shape dims. Returns 0 or RT_ENOMEM/RT_EUSAGE. */
static int reshape(const mm_plain *s, const int dims[3], mm_plain *out)
{
    const int D = MM_MAX_DIM;
    int rc = mm_plain_init(out, dims[0], dims[1], dims[2], s->rank);
    if (rc)
        return rc;
    int n = dims[0], m = dims[1], p = dims[2];
    int win = mm_plain_width(D, D, D), wout = mm_plain_width(n, m, p);
    for (int t = 0; t < s->rank; t++) {
        const int64_t *a = s->coef + (size_t)t * (size_t)win;
        int64_t *o = out->coef + (size_t)t * (size_t)wout;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                o[i * m + j] = a[i * D + j];
        for (int j = 0; j < m; j++)
            for (int k = 0; k < p; k++)
                o[n * m + j * p + k] = a[D * D + j * D + k];
        for (int k = 0; k < p; k++)
            for (int i = 0; i < n; i++)
                o[n * m + m * p + k * n + i] = a[2 * D * D + k * D + i];
    }
    return 0;
}

/* Appends factor letter of s (entries v[0..width)) as mm_print_exp writes it: "(a11-2*a23)",
 * "(0*a11)" when it is zero. Written by hand (no printf): the store prints every text it packs
 * and reads. */
static int print_factor(const mm_plain *s, int letter, const int64_t *v, int width, rt_buf *out)
{
    char buf[32 * 8 * 8 + 8];
    size_t k = 0;
    int cols = letter == 0 ? s->m : letter == 1 ? s->p : s->n;
    buf[k++] = '(';
    for (int i = 0; i < width; i++) {
        if (!v[i])
            continue;
        if (v[i] < 0)
            buf[k++] = '-';
        else if (k > 1)
            buf[k++] = '+';
        uint64_t mag = v[i] < 0 ? 0 - (uint64_t)v[i] : (uint64_t)v[i];
        if (mag != 1) {
            char digits[24];
            int nd = 0;
            for (; mag; mag /= 10)
                digits[nd++] = (char)('0' + mag % 10);
            while (nd)
                buf[k++] = digits[--nd];
            buf[k++] = '*';
        }
        buf[k++] = (char)('a' + letter);
        buf[k++] = (char)('1' + i / cols);
        buf[k++] = (char)('1' + i % cols);
    }
    if (k == 1) {
        memcpy(buf + k, "0*a11", 5);
        buf[k + 2] = (char)('a' + letter);
        k += 5;
    }
    buf[k++] = ')';
    return rt_buf_append(out, buf, k);
}

/* Appends s as mm_print_exp writes it (one product a line). */
static int print_scheme(const mm_plain *s, rt_buf *out)
{
    int w[3] = {s->n * s->m, s->m * s->p, s->p * s->n};
    int width = w[0] + w[1] + w[2], rc = 0;
    for (int t = 0; t < s->rank && !rc; t++) {
        const int64_t *row = s->coef + (size_t)t * (size_t)width;
        rc = print_factor(s, 0, row, w[0], out);
        rc = rc ? rc : rt_buf_append(out, "*", 1);
        rc = rc ? rc : print_factor(s, 1, row + w[0], w[1], out);
        rc = rc ? rc : rt_buf_append(out, "*", 1);
        rc = rc ? rc : print_factor(s, 2, row + w[0] + w[1], w[2], out);
        rc = rc ? rc : rt_buf_append(out, "\n", 1);
    }
    return rc;
}

static int put_varint(rt_buf *out, uint64_t v)
{
    unsigned char b[10];
    size_t k = 0;
    do {
        b[k] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            b[k] |= 0x80;
        k++;
    } while (v);
    return rt_buf_append(out, b, k);
}

/* Appends one factor's masks (and magnitudes) in the given mode. */
static int put_factor(rt_buf *out, const int64_t *v, int width, int mode)
{
    unsigned char mask[3][8];
    size_t bytes = (size_t)(width + 7) / 8;
    memset(mask, 0, sizeof mask);
    for (int i = 0; i < width; i++) {
        unsigned char bit = (unsigned char)(1u << (i % 8));
        if (v[i])
            mask[0][i / 8] |= bit;
        if (v[i] < 0)
            mask[1][i / 8] |= bit;
        if (v[i] > 1 || v[i] < -1)
            mask[2][i / 8] |= bit;
    }
    int rc = 0;
    for (int k = 0; k <= mode && !rc; k++)
        rc = rt_buf_append(out, mask[k], bytes);
    for (int i = 0; i < width && !rc && mode == 2; i++)
        if (v[i] > 1 || v[i] < -1)
            rc = put_varint(out, (uint64_t)(v[i] < 0 ? -v[i] : v[i]) - 2);
    return rc;
}

/* The entries of each product that a form stores: all of them, or (version 3) those of A and B. */
static int stored_cols(const mm_plain *s, int version)
{
    return version == PACK_V3 ? s->n * s->m + s->m * s->p : mm_plain_width(s->n, s->m, s->p);
}

/* The mode the stored entries of s need: 0 when every one is 0 or 1, 1 when they are in -1..1,
 * else 2. */
static int mode_of(const mm_plain *s, int cols)
{
    int mode = 0, width = mm_plain_width(s->n, s->m, s->p);
    for (int t = 0; t < s->rank; t++)
        for (int i = 0; i < cols; i++) {
            int64_t v = s->coef[(size_t)t * (size_t)width + (size_t)i];
            if (v < 0 && mode < 1)
                mode = 1;
            if (v > 1 || v < -1)
                return 2;
        }
    return mode;
}

/* Appends one bit per nonzero stored coefficient of s (the first cols entries of each product),
 * in entry order, least significant bit first: negative (what 0) or of magnitude above 1 (what
 * 1), padded with zero bits to a whole byte. */
static int put_nonzero_bits(const mm_plain *s, int cols, int what, rt_buf *out)
{
    int width = mm_plain_width(s->n, s->m, s->p);
    unsigned char chunk[256];
    size_t k = 0; /* bits in chunk */
    int rc = 0;
    memset(chunk, 0, sizeof chunk);
    for (int t = 0; t < s->rank && !rc; t++)
        for (int i = 0; i < cols && !rc; i++) {
            int64_t v = s->coef[(size_t)t * (size_t)width + (size_t)i];
            if (!v)
                continue;
            unsigned bit = what == 0 ? v < 0 : (v > 1 || v < -1);
            chunk[k / 8] |= (unsigned char)(bit << (k % 8));
            if (++k == 8 * sizeof chunk) {
                rc = rt_buf_append(out, chunk, sizeof chunk);
                memset(chunk, 0, sizeof chunk);
                k = 0;
            }
        }
    return rc || !k ? rc : rt_buf_append(out, chunk, (k + 7) / 8);
}

/* Packs s into out in version 2, or 3 with the C factors' modulus solve (see the header). */
static int pack_plain(const mm_plain *s, int version, int solve, rt_buf *out)
{
    int cols = stored_cols(s, version), mode = mode_of(s, cols);
    unsigned char head[5] = {(unsigned char)version, (unsigned char)s->n, (unsigned char)s->m,
                             (unsigned char)s->p, (unsigned char)mode};
    int rc = rt_buf_append(out, head, sizeof head);
    if (!rc)
        rc = put_varint(out, (uint64_t)s->rank);
    unsigned char how = (unsigned char)solve;
    if (!rc && version == PACK_V3)
        rc = rt_buf_append(out, &how, 1);
    int w[3] = {s->n * s->m, s->m * s->p, s->p * s->n};
    int width = w[0] + w[1] + w[2];
    for (int t = 0; t < s->rank && !rc; t++) {
        const int64_t *row = s->coef + (size_t)t * (size_t)width;
        for (int f = 0, at = 0; f < 3 && !rc && at < cols; at += w[f], f++)
            rc = put_factor(out, row + at, w[f], 0);
    }
    for (int what = 0; what < mode && !rc; what++)
        rc = put_nonzero_bits(s, cols, what, out);
    for (int t = 0; t < s->rank && !rc && mode == 2; t++)
        for (int i = 0; i < cols && !rc; i++) {
            int64_t v = s->coef[(size_t)t * (size_t)width + (size_t)i];
            if (v > 1 || v < -1)
                rc = put_varint(out, (uint64_t)(v < 0 ? -v : v) - 2);
        }
    return rc;
}

/* The modulus by which s's C factors are solved back from its A and B factors exactly, or 0
 * when neither gives them (an invalid scheme, or a system without a unique solution). */
static int solvable(const mm_plain *s)
{
    if (s->rank > MM_SOLVE_MAX_RANK || s->n * s->m * s->m * s->p > MM_SOLVE_MAX_ROWS)
        return 0;
    size_t cells = (size_t)s->rank * (size_t)mm_plain_width(s->n, s->m, s->p);
    mm_plain t = *s;
    if (!(t.coef = malloc(cells * sizeof *t.coef)))
        return 0;
    /* GF(2) texts (every coefficient 1) try modulo 2 first, which is the likelier field */
    int order[2] = {MM_SOLVE_MOD2, MM_SOLVE_MODP}, first = mode_of(s, stored_cols(s, 2)) ? 1 : 0;
    int found = 0;
    for (int k = first; k < 2 && !found; k++) {
        memcpy(t.coef, s->coef, cells * sizeof *t.coef);
        if (!mm_solve_third(&t, (enum mm_solve_mod)order[k]) &&
            !memcmp(t.coef, s->coef, cells * sizeof *t.coef))
            found = order[k];
    }
    free(t.coef);
    return found;
}

int mm_pack_text(const char *text, size_t len, rt_buf *out)
{
    mm_plain big = {0}, s = {0};
    const int D = MM_MAX_DIM;
    if (mm_parse_exp(text, len, D, D, D, &big, NULL, 0) || big.rank < 1) {
        mm_plain_free(&big);
        return RT_EUSAGE;
    }
    int dims[3];
    spanned_shape(&big, dims);
    int rc = reshape(&big, dims, &s);
    mm_plain_free(&big);
    rt_buf again;
    rt_buf_init(&again, len + 1);
    if (!rc) /* exact or nothing: the text must be what mm_print_exp writes */
        rc = print_scheme(&s, &again);
    if (!rc && (again.len != len || memcmp(again.data, text, len) != 0))
        rc = RT_EUSAGE;
    rt_buf_free(&again);
    size_t start = out->len;
    int solve = rc ? 0 : solvable(&s);
    if (!rc)
        rc = pack_plain(&s, solve ? PACK_V3 : PACK_V2, solve, out);
    if (rc)
        out->len = start;
    mm_plain_free(&s);
    return rc == RT_ETOOBIG ? RT_EUSAGE : rc;
}

/* A reader over the packed bytes: every read checks what is left. */
typedef struct unpacker {
    const unsigned char *in;
    size_t n, at;
} unpacker;

static int get_varint(unpacker *u, uint64_t *v)
{
    *v = 0;
    for (int i = 0; i < 9 && u->at < u->n; i++) {
        unsigned char b = u->in[u->at++];
        *v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            return 0;
    }
    return RT_EUSAGE;
}

/* Reads one factor's masks (and magnitudes) into v. */
static int get_factor(unpacker *u, int64_t *v, int width, int mode)
{
    size_t bytes = (size_t)(width + 7) / 8;
    if (u->n - u->at < bytes * (size_t)(mode + 1))
        return RT_EUSAGE;
    const unsigned char *m0 = u->in + u->at, *m1 = m0 + bytes, *m2 = m1 + bytes;
    u->at += bytes * (size_t)(mode + 1);
    for (int i = 0; i < width; i++) {
        unsigned char bit = (unsigned char)(1u << (i % 8));
        int nz = (m0[i / 8] & bit) != 0;
        int neg = mode >= 1 && (m1[i / 8] & bit);
        int big = mode == 2 && (m2[i / 8] & bit);
        if (!nz && (neg || big))
            return RT_EUSAGE;
        int64_t mag = nz;
        if (big) {
            uint64_t extra;
            if (get_varint(u, &extra) || extra > (uint64_t)MM_MAX_COEF - 2)
                return RT_EUSAGE;
            mag = (int64_t)extra + 2;
        }
        v[i] = neg ? -mag : mag;
    }
    return 0;
}

/* Reads version 1's products into s (every factor's masks in turn). */
static int unpack_v1(unpacker *u, mm_plain *s, int mode)
{
    int w[3] = {s->n * s->m, s->m * s->p, s->p * s->n};
    int width = w[0] + w[1] + w[2], rc = 0;
    for (int t = 0; t < s->rank && !rc; t++) {
        int64_t *row = s->coef + (size_t)t * (size_t)width;
        rc = get_factor(u, row, w[0], mode);
        if (!rc)
            rc = get_factor(u, row + w[0], w[1], mode);
        if (!rc)
            rc = get_factor(u, row + w[0] + w[1], w[2], mode);
    }
    return rc;
}

/* Reads the bits of the nonzero stored coefficients (nz of them; the first cols entries of each
 * product) of s: what 0 negates the marked ones, what 1 marks those of magnitude above 1 (set to
 * 2 for now, keeping the sign). The padding bits must be zero: one text, one packed form. */
static int get_nonzero_bits(unpacker *u, mm_plain *s, int cols, size_t nz, int what)
{
    size_t bytes = (nz + 7) / 8;
    if (u->n - u->at < bytes)
        return RT_EUSAGE;
    const unsigned char *bits = u->in + u->at;
    u->at += bytes;
    int width = mm_plain_width(s->n, s->m, s->p);
    size_t k = 0;
    for (int t = 0; t < s->rank; t++)
        for (int i = 0; i < cols; i++) {
            int64_t *v = &s->coef[(size_t)t * (size_t)width + (size_t)i];
            if (!*v)
                continue;
            if (bits[k / 8] & (1u << (k % 8)))
                *v = what == 0 ? -*v : 2 * *v;
            k++;
        }
    for (; k < bytes * 8; k++)
        if (bits[k / 8] & (1u << (k % 8)))
            return RT_EUSAGE;
    return 0;
}

/* Reads the magnitudes above 1 of the stored coefficients (those set to 2 or -2 so far). */
static int get_magnitudes(unpacker *u, mm_plain *s, int cols)
{
    int width = mm_plain_width(s->n, s->m, s->p);
    for (int t = 0; t < s->rank; t++)
        for (int i = 0; i < cols; i++) {
            int64_t *v = &s->coef[(size_t)t * (size_t)width + (size_t)i];
            if (*v != 2 && *v != -2)
                continue;
            uint64_t extra;
            if (get_varint(u, &extra) || extra > (uint64_t)MM_MAX_COEF - 2)
                return RT_EUSAGE;
            *v = *v < 0 ? -(int64_t)extra - 2 : (int64_t)extra + 2;
        }
    return 0;
}

/* Reads version 2's or 3's products into s: the nonzero masks of the stored factors, then the
 * sign bits, then the magnitude bits and magnitudes; version 3 then solves the C factors. */
static int unpack_v2(unpacker *u, mm_plain *s, int version, int mode)
{
    int w[3] = {s->n * s->m, s->m * s->p, s->p * s->n};
    int width = w[0] + w[1] + w[2], cols = stored_cols(s, version), rc = 0, solve = 0;
    if (version == PACK_V3) {
        solve = u->at < u->n ? u->in[u->at++] : 0;
        if (solve != MM_SOLVE_MOD2 && solve != MM_SOLVE_MODP)
            return RT_EUSAGE;
    }
    for (int t = 0; t < s->rank && !rc; t++) {
        int64_t *row = s->coef + (size_t)t * (size_t)width;
        for (int f = 0, at = 0; f < 3 && !rc && at < cols; at += w[f], f++)
            rc = get_factor(u, row + at, w[f], 0);
    }
    size_t nz = 0;
    for (int t = 0; t < s->rank; t++)
        for (int i = 0; i < cols; i++)
            nz += s->coef[(size_t)t * (size_t)width + (size_t)i] != 0;
    for (int what = 0; what < mode && !rc; what++)
        rc = get_nonzero_bits(u, s, cols, nz, what);
    if (!rc && mode == 2)
        rc = get_magnitudes(u, s, cols);
    if (!rc && solve) /* RT_ENOMEM, or RT_EUSAGE: no unique solution, not a stored form */
        rc = mm_solve_third(s, (enum mm_solve_mod)solve);
    return rc;
}

/* Reads the header and products into s. */
static int unpack_plain(unpacker *u, mm_plain *s)
{
    int version = u->n ? u->in[0] : 0;
    if (u->n < 6 || version < PACK_V1 || version > PACK_V3 || u->in[4] > 2)
        return RT_EUSAGE;
    int n = u->in[1], m = u->in[2], p = u->in[3], mode = u->in[4];
    u->at = 5;
    uint64_t rank;
    if (get_varint(u, &rank) || rank < 1 || rank > MM_MAX_RANK || n < 1 || n > MM_MAX_DIM ||
        m < 1 || m > MM_MAX_DIM || p < 1 || p > MM_MAX_DIM)
        return RT_EUSAGE;
    if (version == PACK_V3 && (rank > MM_SOLVE_MAX_RANK || n * m * m * p > MM_SOLVE_MAX_ROWS))
        return RT_EUSAGE; /* never written: the solve's cost is bounded */
    int w[3] = {n * m, m * p, version == PACK_V3 ? 0 : p * n};
    size_t per = (size_t)((w[0] + 7) / 8 + (w[1] + 7) / 8 + (w[2] + 7) / 8);
    size_t least = (size_t)rank * per * (size_t)(version == PACK_V1 ? mode + 1 : 1);
    if (u->n - u->at < least) /* before allocating for a claimed rank */
        return RT_EUSAGE;
    int rc = mm_plain_init(s, n, m, p, (int)rank);
    if (!rc)
        rc = version == PACK_V1 ? unpack_v1(u, s, mode) : unpack_v2(u, s, version, mode);
    if (!rc && u->at != u->n)
        rc = RT_EUSAGE;
    return rc;
}

int mm_unpack_text(const unsigned char *in, size_t n, rt_buf *out)
{
    unpacker u = {in, n, 0};
    mm_plain s = {0};
    int rc = unpack_plain(&u, &s);
    if (!rc)
        rc = print_scheme(&s, out);
    mm_plain_free(&s);
    return rc;
}
