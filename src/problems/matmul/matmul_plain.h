/* matmul_plain.h — matrix multiplication schemes in plain integer form: the .exp and JSON file
 * formats, and the exact verifier (the Brent equations, checked from scratch).
 *
 * This module is the gate's side of the matmul problem. It shares no code with the search
 * (matmul_search.c): a scheme found by the search is printed to canonical text, and only that
 * text is parsed back and checked here.
 *
 * The tensor <n,m,p>: A is n x m, B is m x p; the third factor's variable `cki` carries the index
 * pair (k,i). A scheme of rank r is r products (u_t, v_t, w_t) with
 *     sum_t u_t[i,j] v_t[j',k] w_t[k',i'] = [j==j'][k==k'][i==i']   for all indices
 * (over the integers, or modulo 2 for GF(2)).
 *
 * Ownership: mm_plain owns coef; mm_plain_free releases it. Parsers never keep pointers into
 * their input.
 */
#ifndef RT_MATMUL_PLAIN_H
#define RT_MATMUL_PLAIN_H

#include <stdint.h>

#include "util.h"

#define MM_MAX_DIM 8            /* 1 <= n, m, p <= 8 */
#define MM_MAX_RANK 4096        /* products in one scheme */
#define MM_MAX_COEF (1L << 20)  /* |coefficient| in files */
#define MM_MAX_TEXT ((size_t)16 << 20) /* bytes of scheme text */

enum mm_field { MM_Z = 0, MM_GF2 = 2 };

typedef struct mm_plain {
    int n, m, p;
    int rank;
    int64_t *coef; /* rank rows of mm_plain_width() entries: A entries (i*m+j), then B (j*p+k),
                      then C (k*n+i), all 0-based */
} mm_plain;

static inline int mm_plain_width(int n, int m, int p) { return n * m + m * p + p * n; }

/* Returns a zeroed scheme of the given shape and rank (0 on success, RT_ENOMEM/RT_EUSAGE). */
int mm_plain_init(mm_plain *s, int n, int m, int p, int rank);
void mm_plain_free(mm_plain *s);

/* Parses the .exp text format (one product per line, e.g. `(a11+a12)*(b21)*(c11-2*c22)`; factors
 * separated by `*` or spaces; `-(...)` negates a product; CRLF and blank lines accepted; lines
 * starting with '#' are comments). Indices must fit the shape. Returns 0, or RT_EUSAGE /
 * RT_ETOOBIG with "line L: what is wrong" in err. */
int mm_parse_exp(const char *text, size_t len, int n, int m, int p, mm_plain *out, char *err,
                 size_t errlen);

/* Parses the JSON form written by mm_print_json. The shape in the file must equal (n,m,p). */
int mm_parse_json(const char *text, size_t len, int n, int m, int p, mm_plain *out, char *err,
                  size_t errlen);

/* Parses either format: JSON if the first non-blank byte is '{', else .exp. */
int mm_parse_any(const char *text, size_t len, int n, int m, int p, mm_plain *out, char *err,
                 size_t errlen);

/* Appends the canonical .exp text: one product per line, every factor in parentheses, terms in
 * index order, coefficients written `a11`, `-a11`, `2*a11`. Products are printed in the order
 * given (canonical ordering is the caller's business). */
int mm_print_exp(const mm_plain *s, rt_buf *out);

/* Appends the JSON form: {"format":"ratchet-matmul","shape":[n,m,p],"field":"z"|"gf2",
 * "rank":r,"products":[[A,B,C],...]} with A an n x m, B an m x p and C a p x n matrix of
 * integers (C[k][i] is the coefficient of c(k+1)(i+1)). */
int mm_print_json(const mm_plain *s, enum mm_field field, rt_buf *out);

typedef struct mm_check {
    int valid;
    int rank;           /* products, not counting ones with a zero factor */
    long nnz;           /* nonzero coefficients (modulo 2 for GF(2)) */
    long equations;     /* equations checked: (nm)(mp)(pn) */
    /* first failing equation (valid == 0): 0-based entry indices into A, B and C */
    int fail_a, fail_b, fail_c;
    long long got, expected;
} mm_check;

/* Checks the Brent equations exactly over the field (integers, or modulo 2). Never fails on
 * well-formed input; returns RT_ENOMEM only. */
int mm_verify(const mm_plain *s, enum mm_field field, mm_check *out);

/* Writes a one-line description of a failing equation, e.g.
 * "equation a12*b21*c11: coefficient is 0, must be 1". */
void mm_check_describe(const mm_plain *s, const mm_check *c, char *buf, size_t len);

#endif
