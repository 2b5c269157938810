/* matmul_plain.c — the .exp and JSON forms of matrix multiplication schemes, and the exact
 * verifier of the Brent equations.
 *
 * The .exp parser reads one line at a time with a small recursive-descent grammar:
 *
 *     line    := sum                                 (blank lines and '#' comments skipped)
 *     sum     := prod (('+' | '-') prod)*
 *     prod    := unary (('*' | juxtaposition) unary)*
 *     unary   := ['+' | '-'] primary
 *     primary := '(' sum ')' | term
 *     term    := [digits ['*']] var                   var := ('a' | 'b' | 'c') digit digit
 *
 * Each node evaluates to a single term, a linear form in one letter (a factor), or a product of
 * factors of distinct letters. Sums may only join forms of one letter; products may only join
 * factors of distinct letters; a line must end as a product with one factor each of a, b and c.
 * This accepts every form in the published files: `2*a11`, `-a11`, factors separated by `*`,
 * by spaces or by nothing (`(..)(..)`), `-(...)` around a whole product, bare variables as
 * factors, and CRLF (a CR is whitespace). Parentheses nest at most EXP_MAX_DEPTH deep, numbers
 * and accumulated coefficients are capped at MM_MAX_COEF, so no arithmetic here can overflow.
 * The parser never reads past len and does not need a NUL terminator.
 */
#include "problems/matmul/matmul_plain.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXP_MAX_DEPTH 8   /* parentheses nesting in one line */
#define JSON_MAX_DEPTH 16 /* arrays and objects nesting; the format needs 5 */
#define MM_MAX_VEC (MM_MAX_DIM * MM_MAX_DIM)

/* See the header. On failure *s is left empty (coef NULL), so mm_plain_free is still safe. */
int mm_plain_init(mm_plain *s, int n, int m, int p, int rank)
{
    s->n = s->m = s->p = 0;
    s->rank = 0;
    s->coef = NULL;
    if (n < 1 || n > MM_MAX_DIM || m < 1 || m > MM_MAX_DIM || p < 1 || p > MM_MAX_DIM ||
        rank < 0 || rank > MM_MAX_RANK)
        return RT_EUSAGE;
    size_t cells = (size_t)rank * (size_t)mm_plain_width(n, m, p);
    s->coef = calloc(cells ? cells : 1, sizeof *s->coef);
    if (!s->coef)
        return RT_ENOMEM;
    s->n = n;
    s->m = m;
    s->p = p;
    s->rank = rank;
    return 0;
}

/* Releases the coefficients; safe on an empty or NULL scheme, and twice. */
void mm_plain_free(mm_plain *s)
{
    if (!s)
        return;
    free(s->coef);
    s->coef = NULL;
    s->rank = 0;
}

/* Returns 1 if every dimension is in 1..MM_MAX_DIM. */
static int shape_ok(int n, int m, int p)
{
    return n >= 1 && n <= MM_MAX_DIM && m >= 1 && m <= MM_MAX_DIM && p >= 1 && p <= MM_MAX_DIM;
}

/* Entry counts of the three factors: A (n x m), B (m x p), C (p x n). */
static void factor_widths(int n, int m, int p, int w[3])
{
    w[0] = n * m;
    w[1] = m * p;
    w[2] = p * n;
}

/* Writes the 1-based file name of entry idx of factor letter (0 = a, 1 = b, 2 = c). */
static void var_name(int n, int m, int p, int letter, int idx, char *buf, size_t len)
{
    int cols = letter == 0 ? m : letter == 1 ? p : n;
    snprintf(buf, len, "%c%d%d", 'a' + letter, idx / cols + 1, idx % cols + 1);
}

/* ---- .exp parser ------------------------------------------------------------------------ */

enum { PV_TERM, PV_LIN, PV_PROD };

/* The value of a parse node. A term keeps (letter, idx, c) only; its vector is written out
 * (materialised) when it is combined, which keeps parsing cheap. */
typedef struct pval {
    int kind;
    int letter;                        /* PV_TERM, PV_LIN */
    int idx;                           /* PV_TERM */
    int64_t c;                         /* PV_TERM */
    unsigned char present[3];          /* PV_PROD: which factors are set */
    int64_t coef[3][MM_MAX_VEC];       /* PV_LIN: coef[letter]; PV_PROD: present rows */
} pval;

typedef struct exp_parser {
    const char *s;
    size_t pos;        /* next byte */
    size_t end;        /* end of the current line (exclusive) */
    size_t line_start;
    long line;         /* 1-based */
    int n, m, p;
    int rows[3], cols[3]; /* index bounds per letter: a n x m, b m x p, c p x n */
    int width[3];
    int depth;
    char *err;
    size_t errlen;
} exp_parser;

/* The byte at the cursor, or -1 at the end of the line. */
static int ep_peek(const exp_parser *ps)
{
    return ps->pos < ps->end ? (unsigned char)ps->s[ps->pos] : -1;
}

/* 1-based column of the cursor, for messages. */
static size_t ep_col(const exp_parser *ps)
{
    return ps->pos - ps->line_start + 1;
}

/* Blanks inside a line; a CR is one, so CRLF and CR CR LF line ends read as LF. */
static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void ep_skip_space(exp_parser *ps)
{
    while (is_space(ep_peek(ps)))
        ps->pos++;
}

/* Writes a readable name for byte c (-1: end of line) into buf. */
static const char *byte_name(int c, char *buf, size_t len)
{
    if (c < 0)
        snprintf(buf, len, "end of line");
    else if (c > 0x20 && c < 0x7f)
        snprintf(buf, len, "'%c'", c);
    else if (c == ' ')
        snprintf(buf, len, "a space");
    else
        snprintf(buf, len, "byte 0x%02x", (unsigned)c);
    return buf;
}

/* Formats "line L: <message>" into the parser's error buffer and returns code. */
static int ep_fail(exp_parser *ps, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ep_fail(exp_parser *ps, int code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rt_fail(ps->err, ps->errlen, code, "line %ld: %s", ps->line, msg);
}

/* Fails with a message naming the byte at the cursor, which was not expected there. */
static int ep_unexpected(exp_parser *ps, const char *where)
{
    char b[24];
    int c = ep_peek(ps);
    if (c < 0)
        return ep_fail(ps, RT_EUSAGE, "line ends where %s was expected", where);
    return ep_fail(ps, RT_EUSAGE, "unexpected %s at column %zu where %s was expected",
                   byte_name(c, b, sizeof b), ep_col(ps), where);
}

/* Turns a PV_TERM into a PV_LIN with its vector written out. */
static void pv_materialise(const exp_parser *ps, pval *v)
{
    if (v->kind != PV_TERM)
        return;
    memset(v->coef[v->letter], 0, (size_t)ps->width[v->letter] * sizeof(int64_t));
    v->coef[v->letter][v->idx] = v->c;
    v->kind = PV_LIN;
}

/* v = -v; a product is negated through its first factor. */
static void pv_negate(const exp_parser *ps, pval *v)
{
    int letter = v->letter;
    if (v->kind == PV_TERM) {
        v->c = -v->c;
        return;
    }
    if (v->kind == PV_PROD) {
        letter = 0;
        while (letter < 2 && !v->present[letter])
            letter++;
    }
    for (int i = 0; i < ps->width[letter]; i++)
        v->coef[letter][i] = -v->coef[letter][i];
}

/* acc += item (both linear forms of one letter); col is where the operator stood. */
static int pv_add(exp_parser *ps, pval *acc, pval *item, size_t col)
{
    if (acc->kind == PV_PROD || item->kind == PV_PROD)
        return ep_fail(ps, RT_EUSAGE,
                       "the '+' or '-' at column %zu adds whole products; a line must be one "
                       "product of an a-, a b- and a c-factor", col);
    if (acc->letter != item->letter)
        return ep_fail(ps, RT_EUSAGE, "a factor mixes %c- and %c-variables (at column %zu)",
                       'a' + acc->letter, 'a' + item->letter, col);
    pv_materialise(ps, acc);
    int letter = acc->letter;
    int lo = 0, hi = ps->width[letter];
    if (item->kind == PV_TERM) {
        lo = item->idx;
        hi = lo + 1;
    }
    for (int i = lo; i < hi; i++) {
        int64_t add = item->kind == PV_TERM ? item->c : item->coef[letter][i];
        int64_t sum = acc->coef[letter][i] + add; /* both within MM_MAX_COEF: no overflow */
        if (sum > MM_MAX_COEF || sum < -MM_MAX_COEF) {
            char name[32];
            var_name(ps->n, ps->m, ps->p, letter, i, name, sizeof name);
            return ep_fail(ps, RT_EUSAGE, "the coefficient of %s exceeds %ld (at column %zu)",
                           name, (long)MM_MAX_COEF, col);
        }
        acc->coef[letter][i] = sum;
    }
    return 0;
}

/* acc *= item (joins factors of distinct letters); col is where item began. */
static int pv_mul(exp_parser *ps, pval *acc, pval *item, size_t col)
{
    if (acc->kind != PV_PROD) {
        pv_materialise(ps, acc);
        memset(acc->present, 0, sizeof acc->present);
        acc->present[acc->letter] = 1;
        acc->kind = PV_PROD;
    }
    unsigned char has[3] = {0, 0, 0};
    if (item->kind == PV_PROD) {
        memcpy(has, item->present, sizeof has);
    } else {
        pv_materialise(ps, item);
        has[item->letter] = 1;
    }
    for (int letter = 0; letter < 3; letter++) {
        if (!has[letter])
            continue;
        if (acc->present[letter])
            return ep_fail(ps, RT_EUSAGE,
                           "a second %c-factor at column %zu (a product has one factor each of "
                           "a, b and c)", 'a' + letter, col);
        memcpy(acc->coef[letter], item->coef[letter], (size_t)ps->width[letter] * sizeof(int64_t));
        acc->present[letter] = 1;
    }
    return 0;
}

/* var := ('a' | 'b' | 'c') digit digit; the cursor is on the letter. */
static int ep_var(exp_parser *ps, int64_t c, pval *out)
{
    size_t col = ep_col(ps);
    int letter = ep_peek(ps) - 'a';
    ps->pos++;
    size_t first = ps->pos;
    while (is_digit(ep_peek(ps)) && ps->pos - first < 3)
        ps->pos++;
    size_t ndigits = ps->pos - first;
    if (ndigits == 0) {
        char b[24];
        return ep_fail(ps, RT_EUSAGE, "expected two index digits after '%c' at column %zu, found %s",
                       'a' + letter, col, byte_name(ep_peek(ps), b, sizeof b));
    }
    if (ndigits != 2)
        return ep_fail(ps, RT_EUSAGE,
                       "the variable at column %zu needs exactly two index digits, like %c12",
                       col, 'a' + letter);
    int r = ps->s[first] - '0', q = ps->s[first + 1] - '0';
    if (r == 0 || q == 0)
        return ep_fail(ps, RT_EUSAGE, "index 0 in %c%d%d at column %zu (indices start at 1)",
                       'a' + letter, r, q, col);
    if (r > ps->rows[letter] || q > ps->cols[letter])
        return ep_fail(ps, RT_EUSAGE,
                       "%c%d%d at column %zu is outside the shape %dx%dx%d (%c-indices run up to "
                       "%c%d%d)", 'a' + letter, r, q, col, ps->n, ps->m, ps->p, 'a' + letter,
                       'a' + letter, ps->rows[letter], ps->cols[letter]);
    out->kind = PV_TERM;
    out->letter = letter;
    out->idx = (r - 1) * ps->cols[letter] + (q - 1);
    out->c = c;
    return 0;
}

/* term := [digits ['*']] var */
static int ep_term(exp_parser *ps, pval *out)
{
    int64_t c = 1;
    if (is_digit(ep_peek(ps))) {
        size_t col = ep_col(ps);
        int64_t v = 0;
        int over = 0;
        while (is_digit(ep_peek(ps))) {
            if (!over) {
                v = v * 10 + (ps->s[ps->pos] - '0');
                if (v > MM_MAX_COEF)
                    over = 1;
            }
            ps->pos++;
        }
        if (over)
            return ep_fail(ps, RT_EUSAGE, "the coefficient at column %zu exceeds %ld", col,
                           (long)MM_MAX_COEF);
        c = v;
        ep_skip_space(ps);
        if (ep_peek(ps) == '*') { /* `2*a11`, or `2 a11` as some files write it */
            ps->pos++;
            ep_skip_space(ps);
        }
    }
    int ch = ep_peek(ps);
    if (ch == 'a' || ch == 'b' || ch == 'c')
        return ep_var(ps, c, out);
    if (is_alpha(ch))
        return ep_fail(ps, RT_EUSAGE, "unknown variable letter '%c' at column %zu (expected a, b or c)",
                       ch, ep_col(ps));
    return ep_unexpected(ps, "a variable");
}

static int ep_sum(exp_parser *ps, pval *acc);

/* primary := '(' sum ')' | term */
static int ep_primary(exp_parser *ps, pval *out)
{
    int c = ep_peek(ps);
    if (c == '(') {
        size_t open_col = ep_col(ps);
        if (ps->depth >= EXP_MAX_DEPTH)
            return ep_fail(ps, RT_EUSAGE, "parentheses nested more than %d deep at column %zu",
                           EXP_MAX_DEPTH, open_col);
        ps->pos++;
        ep_skip_space(ps);
        if (ep_peek(ps) == ')')
            return ep_fail(ps, RT_EUSAGE, "empty parentheses at column %zu", open_col);
        ps->depth++;
        int rc = ep_sum(ps, out);
        ps->depth--;
        if (rc)
            return rc;
        ep_skip_space(ps);
        if (ep_peek(ps) < 0)
            return ep_fail(ps, RT_EUSAGE, "unbalanced parentheses: the '(' at column %zu is not closed",
                           open_col);
        if (ep_peek(ps) != ')')
            return ep_unexpected(ps, "')', '+', '-' or a factor");
        ps->pos++;
        return 0;
    }
    if (is_digit(c) || is_alpha(c))
        return ep_term(ps, out);
    if (c == ')')
        return ep_fail(ps, RT_EUSAGE, "unexpected ')' at column %zu where a factor or term was expected",
                       ep_col(ps));
    return ep_unexpected(ps, "a factor or term");
}

/* unary := ['+' | '-'] primary */
static int ep_unary(exp_parser *ps, pval *out)
{
    int negative = 0;
    int c = ep_peek(ps);
    if (c == '+' || c == '-') {
        negative = c == '-';
        ps->pos++;
        ep_skip_space(ps);
        c = ep_peek(ps);
        if (c == '+' || c == '-')
            return ep_fail(ps, RT_EUSAGE, "two signs in a row at column %zu", ep_col(ps));
    }
    int rc = ep_primary(ps, out);
    if (rc)
        return rc;
    if (negative)
        pv_negate(ps, out);
    return 0;
}

/* prod := unary (('*' | juxtaposition) unary)* */
static int ep_prod(exp_parser *ps, pval *acc)
{
    int rc = ep_unary(ps, acc);
    if (rc)
        return rc;
    pval item;
    for (;;) {
        ep_skip_space(ps);
        int c = ep_peek(ps);
        if (c == '*') {
            ps->pos++;
            ep_skip_space(ps);
        } else if (!(c == '(' || is_digit(c) || is_alpha(c))) {
            return 0;
        }
        size_t col = ep_col(ps);
        rc = ep_unary(ps, &item);
        if (rc)
            return rc;
        rc = pv_mul(ps, acc, &item, col);
        if (rc)
            return rc;
    }
}

/* sum := prod (('+' | '-') prod)* */
static int ep_sum(exp_parser *ps, pval *acc)
{
    int rc = ep_prod(ps, acc);
    if (rc)
        return rc;
    pval item;
    for (;;) {
        ep_skip_space(ps);
        int c = ep_peek(ps);
        if (c != '+' && c != '-')
            return 0;
        size_t col = ep_col(ps);
        ps->pos++;
        ep_skip_space(ps);
        int next = ep_peek(ps);
        if (next == '+' || next == '-')
            return ep_fail(ps, RT_EUSAGE, "two signs in a row at column %zu", ep_col(ps));
        rc = ep_prod(ps, &item);
        if (rc)
            return rc;
        if (c == '-')
            pv_negate(ps, &item);
        rc = pv_add(ps, acc, &item, col);
        if (rc)
            return rc;
    }
}

/* Parses the product on the current line into row (width entries). */
static int ep_line(exp_parser *ps, pval *val, int64_t *row)
{
    ps->depth = 0;
    int rc = ep_sum(ps, val);
    if (rc)
        return rc;
    ep_skip_space(ps);
    int c = ep_peek(ps);
    if (c == ')')
        return ep_fail(ps, RT_EUSAGE,
                       "unbalanced parentheses: the ')' at column %zu has no matching '('", ep_col(ps));
    if (c >= 0)
        return ep_unexpected(ps, "the end of the product");
    if (val->kind != PV_PROD) {
        return ep_fail(ps, RT_EUSAGE,
                       "the line has only a %c-factor; a product needs an a-, a b- and a c-factor",
                       'a' + val->letter);
    }
    for (int letter = 0; letter < 3; letter++)
        if (!val->present[letter])
            return ep_fail(ps, RT_EUSAGE, "the product has no %c-factor", 'a' + letter);
    int off = 0;
    for (int letter = 0; letter < 3; letter++) {
        memcpy(row + off, val->coef[letter], (size_t)ps->width[letter] * sizeof(int64_t));
        off += ps->width[letter];
    }
    return 0;
}

/* Grows s->coef to hold want rows of width entries (capacity in *cap). */
static int grow_rows(mm_plain *s, int width, int *cap, int want)
{
    if (want <= *cap)
        return 0;
    int ncap = *cap ? *cap : 16;
    while (ncap < want)
        ncap *= 2;
    if (ncap > MM_MAX_RANK)
        ncap = MM_MAX_RANK;
    int64_t *p = realloc(s->coef, (size_t)ncap * (size_t)width * sizeof(int64_t));
    if (!p)
        return RT_ENOMEM;
    s->coef = p;
    *cap = ncap;
    return 0;
}

/* Common start of both parsers: empties *out and checks the shape and the size of the text.
 * where prefixes the error message ("line 1" or "JSON"). */
static int parse_begin(const char *text, size_t len, int n, int m, int p, mm_plain *out,
                       const char *where, char *err, size_t errlen)
{
    out->n = n;
    out->m = m;
    out->p = p;
    out->rank = 0;
    out->coef = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!shape_ok(n, m, p))
        return rt_fail(err, errlen, RT_EUSAGE, "%s: shape %dx%dx%d is outside 1..%d", where, n,
                       m, p, MM_MAX_DIM);
    if (!text && len)
        return rt_fail(err, errlen, RT_EUSAGE, "%s: no text", where);
    if (len > MM_MAX_TEXT)
        return rt_fail(err, errlen, RT_ETOOBIG, "%s: the text has %zu bytes, over the cap of %zu",
                       where, len, MM_MAX_TEXT);
    return 0;
}

/* Parses .exp text; see the header. *out is overwritten (not freed first); on failure it is left
 * empty (coef NULL, rank 0). */
int mm_parse_exp(const char *text, size_t len, int n, int m, int p, mm_plain *out, char *err,
                 size_t errlen)
{
    int rc0 = parse_begin(text, len, n, m, p, out, "line 1", err, errlen);
    if (rc0)
        return rc0;

    int rc = 0;
    int cap = 0;
    int width = mm_plain_width(n, m, p);
    mm_plain s = {n, m, p, 0, NULL};
    pval *val = malloc(sizeof *val);
    if (!val) {
        rc = rt_fail(err, errlen, RT_ENOMEM, "line 1: out of memory");
        goto fail;
    }
    exp_parser ps;
    memset(&ps, 0, sizeof ps);
    ps.s = text;
    ps.n = n;
    ps.m = m;
    ps.p = p;
    ps.rows[0] = n;
    ps.cols[0] = m;
    ps.rows[1] = m;
    ps.cols[1] = p;
    ps.rows[2] = p;
    ps.cols[2] = n;
    factor_widths(n, m, p, ps.width);
    ps.err = err;
    ps.errlen = errlen;
    ps.line = 0;

    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        ps.line++;
        ps.line_start = ps.pos = pos;
        ps.end = end;
        pos = end + 1;
        ep_skip_space(&ps);
        int c = ep_peek(&ps);
        if (c < 0 || c == '#')
            continue;
        if (s.rank >= MM_MAX_RANK) {
            rc = ep_fail(&ps, RT_ETOOBIG, "more than %d products", MM_MAX_RANK);
            goto fail;
        }
        rc = grow_rows(&s, width, &cap, s.rank + 1);
        if (rc) {
            rc = ep_fail(&ps, rc, "out of memory");
            goto fail;
        }
        rc = ep_line(&ps, val, s.coef + (size_t)s.rank * (size_t)width);
        if (rc)
            goto fail;
        s.rank++;
    }
    if (s.rank == 0) {
        rc = rt_fail(err, errlen, RT_EUSAGE, "line %ld: no products", ps.line > 0 ? ps.line : 1L);
        goto fail;
    }
    free(val);
    *out = s;
    return 0;

fail:
    free(val);
    mm_plain_free(&s);
    return rc;
}

/* ---- JSON parser ------------------------------------------------------------------------ */

/* Returns 1 if arrays and objects in text nest at most max deep (strings skipped). */
static int json_depth_ok(const char *text, size_t len, int max)
{
    int depth = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                return 0;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 1;
}

/* Reads an integer JSON value in [lo, hi]; returns 0 or RT_EUSAGE (no message). */
static int json_int_in(const json_t *v, long long lo, long long hi, long long *out)
{
    if (!json_is_integer(v))
        return RT_EUSAGE;
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return RT_EUSAGE;
    *out = x;
    return 0;
}

/* Reads product t's matrix (rows x cols integers) into dst in row-major order. */
static int json_matrix(const json_t *mat, int rows, int cols, int64_t *dst, long t, char letter,
                       char *err, size_t errlen)
{
    if (!json_is_array(mat) || json_array_size(mat) != (size_t)rows)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "JSON: product %ld: the %c-matrix must be an array of %d rows", t + 1,
                       letter, rows);
    for (int r = 0; r < rows; r++) {
        const json_t *row = json_array_get(mat, (size_t)r);
        if (!json_is_array(row) || json_array_size(row) != (size_t)cols)
            return rt_fail(err, errlen, RT_EUSAGE,
                           "JSON: product %ld: row %d of the %c-matrix must be an array of %d "
                           "integers", t + 1, r + 1, letter, cols);
        for (int q = 0; q < cols; q++) {
            long long x;
            if (json_int_in(json_array_get(row, (size_t)q), -MM_MAX_COEF, MM_MAX_COEF, &x))
                return rt_fail(err, errlen, RT_EUSAGE,
                               "JSON: product %ld: %c[%d][%d] must be an integer of at most %ld "
                               "in absolute value", t + 1, letter, r, q, (long)MM_MAX_COEF);
            dst[r * cols + q] = (int64_t)x;
        }
    }
    return 0;
}

/* Parses the JSON form; see the header. *out is overwritten; on failure it is left empty. */
/* Checks the keys, "format", "shape" (against n, m, p) and "field" of a scheme's JSON object.
 * Returns 0 or RT_EUSAGE. */
static int json_header(json_t *root, int n, int m, int p, char *err, size_t errlen)
{
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        if (strcmp(key, "format") && strcmp(key, "shape") && strcmp(key, "field") &&
            strcmp(key, "rank") && strcmp(key, "products"))
            return rt_fail(err, errlen, RT_EUSAGE, "JSON: unknown key \"%.40s\"", key);
    }
    const json_t *format = json_object_get(root, "format");
    if (!json_is_string(format) || strcmp(json_string_value(format), "ratchet-matmul") != 0)
        return rt_fail(err, errlen, RT_EUSAGE, "JSON: \"format\" must be \"ratchet-matmul\"");
    const json_t *shape = json_object_get(root, "shape");
    long long dims[3];
    if (!json_is_array(shape) || json_array_size(shape) != 3 ||
        json_int_in(json_array_get(shape, 0), 1, MM_MAX_DIM, &dims[0]) ||
        json_int_in(json_array_get(shape, 1), 1, MM_MAX_DIM, &dims[1]) ||
        json_int_in(json_array_get(shape, 2), 1, MM_MAX_DIM, &dims[2]))
        return rt_fail(err, errlen, RT_EUSAGE, "JSON: \"shape\" must be [n,m,p] with each in 1..%d",
                       MM_MAX_DIM);
    if (dims[0] != n || dims[1] != m || dims[2] != p)
        return rt_fail(err, errlen, RT_EUSAGE, "JSON: the shape is %lldx%lldx%lld, expected %dx%dx%d",
                       dims[0], dims[1], dims[2], n, m, p);
    const json_t *field = json_object_get(root, "field");
    if (!json_is_string(field) || (strcmp(json_string_value(field), "z") != 0 &&
                                   strcmp(json_string_value(field), "gf2") != 0))
        return rt_fail(err, errlen, RT_EUSAGE, "JSON: \"field\" must be \"z\" or \"gf2\"");
    return 0;
}

/* The number of products, which "rank" must repeat. Returns 0, RT_EUSAGE or RT_ETOOBIG. */
static int json_count_products(json_t *root, size_t *count, char *err, size_t errlen)
{
    const json_t *products = json_object_get(root, "products");
    if (!json_is_array(products))
        return rt_fail(err, errlen, RT_EUSAGE, "JSON: \"products\" must be an array");
    *count = json_array_size(products);
    if (*count == 0)
        return rt_fail(err, errlen, RT_EUSAGE, "JSON: no products");
    if (*count > MM_MAX_RANK)
        return rt_fail(err, errlen, RT_ETOOBIG, "JSON: more than %d products", MM_MAX_RANK);
    long long rank;
    if (json_int_in(json_object_get(root, "rank"), 0, MM_MAX_RANK, &rank) ||
        rank != (long long)*count)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "JSON: \"rank\" must be an integer equal to the number of products (%zu)",
                       *count);
    return 0;
}

/* Reads each product [A,B,C] of the array into s (initialised for them). Returns 0 or
 * RT_EUSAGE naming the product. */
static int json_products(const json_t *products, mm_plain *s, char *err, size_t errlen)
{
    int n = s->n, m = s->m, p = s->p, w[3];
    factor_widths(n, m, p, w);
    int width = w[0] + w[1] + w[2];
    for (size_t t = 0; t < (size_t)s->rank; t++) {
        const json_t *prod = json_array_get(products, t);
        if (!json_is_array(prod) || json_array_size(prod) != 3)
            return rt_fail(err, errlen, RT_EUSAGE,
                           "JSON: product %zu must be an array of three matrices [A,B,C]", t + 1);
        int64_t *row = s->coef + t * (size_t)width;
        int rc = json_matrix(json_array_get(prod, 0), n, m, row, (long)t, 'A', err, errlen);
        if (!rc)
            rc = json_matrix(json_array_get(prod, 1), m, p, row + w[0], (long)t, 'B', err, errlen);
        if (!rc)
            rc = json_matrix(json_array_get(prod, 2), p, n, row + w[0] + w[1], (long)t, 'C', err,
                             errlen);
        if (rc)
            return rc;
    }
    return 0;
}

int mm_parse_json(const char *text, size_t len, int n, int m, int p, mm_plain *out, char *err,
                  size_t errlen)
{
    int rc0 = parse_begin(text, len, n, m, p, out, "JSON", err, errlen);
    if (rc0)
        return rc0;
    if (!json_depth_ok(text, len, JSON_MAX_DEPTH))
        return rt_fail(err, errlen, RT_EUSAGE, "JSON: arrays and objects nest more than %d deep",
                       JSON_MAX_DEPTH);

    int rc = 0;
    mm_plain s = {n, m, p, 0, NULL};
    json_error_t jerr;
    size_t count = 0;
    json_t *root = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = rt_fail(err, errlen, RT_EUSAGE, "line %d: invalid JSON: %s", jerr.line > 0 ? jerr.line : 1,
                     jerr.text[0] ? jerr.text : "parse error");
        goto fail;
    }
    if (!json_is_object(root)) {
        rc = rt_fail(err, errlen, RT_EUSAGE, "JSON: the top level must be an object");
        goto fail;
    }
    if ((rc = json_header(root, n, m, p, err, errlen)) ||
        (rc = json_count_products(root, &count, err, errlen)))
        goto fail;
    rc = mm_plain_init(&s, n, m, p, (int)count);
    if (rc) {
        rc = rt_fail(err, errlen, rc, "JSON: out of memory");
        goto fail;
    }
    if ((rc = json_products(json_object_get(root, "products"), &s, err, errlen)))
        goto fail;
    json_decref(root);
    *out = s;
    return 0;

fail:
    json_decref(root);
    mm_plain_free(&s);
    out->n = n;
    out->m = m;
    out->p = p;
    return rc;
}

/* Picks the reader by the first non-blank byte; see the header. */
int mm_parse_any(const char *text, size_t len, int n, int m, int p, mm_plain *out, char *err,
                 size_t errlen)
{
    size_t i = 0;
    while (text && i < len && (is_space((unsigned char)text[i]) || text[i] == '\n'))
        i++;
    if (text && i < len && text[i] == '{')
        return mm_parse_json(text, len, n, m, p, out, err, errlen);
    return mm_parse_exp(text, len, n, m, p, out, err, errlen);
}

/* ---- printers --------------------------------------------------------------------------- */

/* Appends one factor: "(a11-2*a12)"; an all-zero factor is written "(0*a11)" so that it reads
 * back as the same zero factor. */
static int print_factor(const mm_plain *s, int letter, const int64_t *v, int width, rt_buf *out)
{
    char name[32];
    int rc = rt_buf_append(out, "(", 1);
    int first = 1;
    for (int i = 0; i < width && !rc; i++) {
        int64_t c = v[i];
        if (c == 0)
            continue;
        var_name(s->n, s->m, s->p, letter, i, name, sizeof name);
        const char *sign = c < 0 ? "-" : first ? "" : "+";
        /* |c| fits in long long: coefficients from parsers are capped; a caller's INT64_MIN is
         * printed through unsigned arithmetic */
        unsigned long long mag = c < 0 ? 0ULL - (unsigned long long)c : (unsigned long long)c;
        if (mag == 1)
            rc = rt_buf_printf(out, "%s%s", sign, name);
        else
            rc = rt_buf_printf(out, "%s%llu*%s", sign, mag, name);
        first = 0;
    }
    if (!rc && first) {
        var_name(s->n, s->m, s->p, letter, 0, name, sizeof name);
        rc = rt_buf_printf(out, "0*%s", name);
    }
    if (!rc)
        rc = rt_buf_append(out, ")", 1);
    return rc;
}

/* Appends canonical .exp (see the header). Returns 0, RT_EUSAGE for a malformed scheme, or the
 * buffer's RT_ETOOBIG / RT_ENOMEM (the buffer then holds a partial text). */
int mm_print_exp(const mm_plain *s, rt_buf *out)
{
    if (!shape_ok(s->n, s->m, s->p) || s->rank < 0 || (s->rank > 0 && !s->coef))
        return RT_EUSAGE;
    int w[3];
    factor_widths(s->n, s->m, s->p, w);
    int width = w[0] + w[1] + w[2];
    for (int t = 0; t < s->rank; t++) {
        const int64_t *row = s->coef + (size_t)t * (size_t)width;
        int off = 0;
        for (int letter = 0; letter < 3; letter++) {
            if (letter) {
                int rc = rt_buf_append(out, "*", 1);
                if (rc)
                    return rc;
            }
            int rc = print_factor(s, letter, row + off, w[letter], out);
            if (rc)
                return rc;
            off += w[letter];
        }
        int rc = rt_buf_append(out, "\n", 1);
        if (rc)
            return rc;
    }
    return 0;
}

/* Appends a rows x cols matrix as nested JSON arrays. */
static int print_matrix(const int64_t *v, int rows, int cols, rt_buf *out)
{
    int rc = rt_buf_append(out, "[", 1);
    for (int r = 0; r < rows && !rc; r++) {
        rc = rt_buf_puts(out, r ? ",[" : "[");
        for (int q = 0; q < cols && !rc; q++)
            rc = rt_buf_printf(out, q ? ",%lld" : "%lld", (long long)v[r * cols + q]);
        if (!rc)
            rc = rt_buf_append(out, "]", 1);
    }
    if (!rc)
        rc = rt_buf_append(out, "]", 1);
    return rc;
}

/* Appends the JSON form (see the header); same returns as mm_print_exp. */
int mm_print_json(const mm_plain *s, enum mm_field field, rt_buf *out)
{
    if (!shape_ok(s->n, s->m, s->p) || s->rank < 0 || (s->rank > 0 && !s->coef) ||
        (field != MM_Z && field != MM_GF2))
        return RT_EUSAGE;
    int w[3];
    factor_widths(s->n, s->m, s->p, w);
    int width = w[0] + w[1] + w[2];
    int rc = rt_buf_printf(out,
                           "{\"format\":\"ratchet-matmul\",\"shape\":[%d,%d,%d],\"field\":\"%s\","
                           "\"rank\":%d,\"products\":[",
                           s->n, s->m, s->p, field == MM_GF2 ? "gf2" : "z", s->rank);
    for (int t = 0; t < s->rank && !rc; t++) {
        const int64_t *row = s->coef + (size_t)t * (size_t)width;
        rc = rt_buf_puts(out, t ? ",\n[" : "\n[");
        if (!rc)
            rc = print_matrix(row, s->n, s->m, out);
        if (!rc)
            rc = rt_buf_append(out, ",", 1);
        if (!rc)
            rc = print_matrix(row + w[0], s->m, s->p, out);
        if (!rc)
            rc = rt_buf_append(out, ",", 1);
        if (!rc)
            rc = print_matrix(row + w[0] + w[1], s->p, s->n, out);
        if (!rc)
            rc = rt_buf_append(out, "]", 1);
    }
    if (!rc)
        rc = rt_buf_puts(out, "]}\n");
    return rc;
}

/* ---- verifier --------------------------------------------------------------------------- */

typedef struct nz_entry {
    int idx;
    int64_t c;
} nz_entry;

/* Collects the nonzero entries of v (odd ones, as 1, for GF(2)); returns how many. */
static int collect_nonzero(const int64_t *v, int width, enum mm_field field, nz_entry *out)
{
    int k = 0;
    for (int i = 0; i < width; i++) {
        int64_t c = field == MM_GF2 ? (v[i] % 2 != 0) : v[i];
        if (c != 0) {
            out[k].idx = i;
            out[k].c = c;
            k++;
        }
    }
    return k;
}

/* Clamps x to the range of long long (for mm_check.got). */
static long long saturate(__int128 x)
{
    if (x > (__int128)INT64_MAX)
        return INT64_MAX;
    if (x < (__int128)INT64_MIN)
        return INT64_MIN;
    return (long long)x;
}

/* Checks the Brent equations; see the header. Also returns RT_EUSAGE for a malformed scheme (a
 * shape outside 1..8, a missing coefficient array, or a coefficient over MM_MAX_COEF, which the
 * parsers never produce). out->got is saturated to the range of long long. */
int mm_verify(const mm_plain *s, enum mm_field field, mm_check *out)
{
    memset(out, 0, sizeof *out);
    out->fail_a = out->fail_b = out->fail_c = -1;
    if (!shape_ok(s->n, s->m, s->p) || s->rank < 0 || s->rank > MM_MAX_RANK ||
        (s->rank > 0 && !s->coef) || (field != MM_Z && field != MM_GF2))
        return RT_EUSAGE;
    int n = s->n, m = s->m, p = s->p;
    int w[3];
    factor_widths(n, m, p, w);
    int width = w[0] + w[1] + w[2];
    size_t cells = (size_t)w[0] * (size_t)w[1] * (size_t)w[2];
    for (size_t i = 0; i < (size_t)s->rank * (size_t)width; i++)
        if (s->coef[i] > MM_MAX_COEF || s->coef[i] < -MM_MAX_COEF)
            return RT_EUSAGE;

    __int128 *tensor = calloc(cells, sizeof *tensor);
    if (!tensor)
        return RT_ENOMEM;
    nz_entry nz[3][MM_MAX_VEC];
    for (int t = 0; t < s->rank; t++) {
        const int64_t *row = s->coef + (size_t)t * (size_t)width;
        int k[3];
        int off = 0;
        for (int letter = 0; letter < 3; letter++) {
            k[letter] = collect_nonzero(row + off, w[letter], field, nz[letter]);
            out->nnz += k[letter];
            off += w[letter];
        }
        if (k[0] == 0 || k[1] == 0 || k[2] == 0)
            continue;
        out->rank++;
        for (int x = 0; x < k[0]; x++) {
            for (int y = 0; y < k[1]; y++) {
                int64_t uv = nz[0][x].c * nz[1][y].c; /* |uv| <= 2^40 */
                size_t base = ((size_t)nz[0][x].idx * (size_t)w[1] + (size_t)nz[1][y].idx) *
                              (size_t)w[2];
                for (int z = 0; z < k[2]; z++)
                    tensor[base + (size_t)nz[2][z].idx] += (__int128)(uv * nz[2][z].c);
            }
        }
    }

    out->equations = (long)cells;
    out->valid = 1;
    size_t cell = 0;
    for (int a = 0; a < w[0] && out->valid; a++) {
        int i = a / m, j = a % m;
        for (int b = 0; b < w[1] && out->valid; b++) {
            int j2 = b / p, k = b % p;
            for (int c = 0; c < w[2]; c++, cell++) {
                int k2 = c / n, i2 = c % n;
                __int128 got = tensor[cell];
                if (field == MM_GF2)
                    got = got % 2 != 0;
                long long expected = j == j2 && k == k2 && i == i2;
                if (got != expected) {
                    out->valid = 0;
                    out->fail_a = a;
                    out->fail_b = b;
                    out->fail_c = c;
                    out->got = saturate(got);
                    out->expected = expected;
                    break;
                }
            }
        }
    }
    free(tensor);
    return 0;
}

/* Describes c in one line (see the header); a valid check reads "all N equations hold". */
void mm_check_describe(const mm_plain *s, const mm_check *c, char *buf, size_t len)
{
    if (!buf || !len)
        return;
    if (c->valid) {
        snprintf(buf, len, "all %ld equations hold", c->equations);
        return;
    }
    if (!shape_ok(s->n, s->m, s->p) || c->fail_a < 0 || c->fail_b < 0 || c->fail_c < 0) {
        snprintf(buf, len, "the scheme was not checked");
        return;
    }
    char va[32], vb[32], vc[32];
    var_name(s->n, s->m, s->p, 0, c->fail_a, va, sizeof va);
    var_name(s->n, s->m, s->p, 1, c->fail_b, vb, sizeof vb);
    var_name(s->n, s->m, s->p, 2, c->fail_c, vc, sizeof vc);
    const char *bound = c->got == INT64_MAX ? "at least " : c->got == INT64_MIN ? "at most " : "";
    snprintf(buf, len, "equation %s*%s*%s: coefficient is %s%lld, must be %lld", va, vb, vc, bound,
             c->got, c->expected);
}
