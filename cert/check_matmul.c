/* check_scheme.c — a standalone checker for a matrix multiplication scheme in .exp form.
 *
 * Written for ratchet's certificates, but it uses nothing from ratchet: plain C99 and the
 * standard library. Build and run:
 *
 *     cc -std=c99 -O2 -o check_scheme check_scheme.c
 *     ./check_scheme N M P FIELD scheme.exp
 *
 * N, M, P: the product of an N x M matrix A by an M x P matrix B (each 1..8).
 * FIELD: z (the integers) or gf2 (arithmetic modulo 2).
 *
 * The file holds one product per line, for example (a11+a22)*(b11+b22)*(c11+c22): a factor is a
 * variable or a parenthesized sum of terms, a term is [sign][integer[*]]variable; a product may
 * carry a sign or an integer factor of its own. Variables: aIJ is A's entry (I,J), bJK is B's
 * entry (J,K), cKI names the output entry (I,K) of C = AB. Blank lines and lines starting with
 * '#' are skipped.
 *
 * The scheme is correct when, for every choice of indices, the sum over products t of
 * u_t[i,j] * v_t[j',k] * w_t[k',i'] equals 1 if j==j', k==k', i==i', and 0 otherwise (the Brent
 * equations), where u_t, v_t, w_t are the coefficients of the a, b and c variables in product t.
 * Every one of the (NM)(MP)(PN) equations is checked exactly.
 *
 * Exit status: 0 valid, 1 invalid (the first failing equation is named), 2 unreadable or
 * malformed input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIM 8
#define MAX_PRODUCTS 4096
#define MAX_COEF 1000
#define MAX_LINE 65536

static int dims[3]; /* n, m, p */
static int gf2;
static long rank_count;
/* coefficients: per product, A (n*m, index i*m+j), B (m*p, index j*p+k), C (p*n, index k*n+i) */
static long *U, *V, *W;

static int die(int code, long line, const char *what)
{
    if (line > 0)
        fprintf(stderr, "check_scheme: line %ld: %s\n", line, what);
    else
        fprintf(stderr, "check_scheme: %s\n", what);
    exit(code);
}

static const char *skip(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    return s;
}

/* Parses an optional integer; returns 1 and *out when there is one. */
static int parse_int(const char **sp, long *out, long line)
{
    const char *s = *sp;
    if (*s < '0' || *s > '9')
        return 0;
    long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > MAX_COEF)
            die(2, line, "coefficient too large (this checker takes up to 1000)");
        s++;
    }
    *sp = s;
    *out = v;
    return 1;
}

/* Parses a variable like a12; returns its letter's index (0,1,2) and the entry index. */
static int parse_var(const char **sp, int *entry, long line)
{
    const char *s = *sp;
    int letter = *s == 'a' ? 0 : *s == 'b' ? 1 : *s == 'c' ? 2 : -1;
    if (letter < 0)
        die(2, line, "expected a variable (a, b or c followed by two digits)");
    if (s[1] < '1' || s[1] > '9' || s[2] < '1' || s[2] > '9')
        die(2, line, "a variable needs two digits from 1 to 9");
    int x = s[1] - '1', y = s[2] - '1';
    int n = dims[0], m = dims[1], p = dims[2];
    int rows = letter == 0 ? n : letter == 1 ? m : p;
    int cols = letter == 0 ? m : letter == 1 ? p : n;
    if (x >= rows || y >= cols)
        die(2, line, "a variable's index is outside the shape");
    *entry = x * cols + y;
    *sp = s + 3;
    return letter;
}

static long *row_of(int letter, long t)
{
    int n = dims[0], m = dims[1], p = dims[2];
    if (letter == 0)
        return U + t * n * m;
    if (letter == 1)
        return V + t * m * p;
    return W + t * p * n;
}

/* The matching ')' of the '(' at s, or NULL. */
static const char *closing(const char *s)
{
    int depth = 0;
    for (; *s; s++) {
        if (*s == '(')
            depth++;
        else if (*s == ')' && --depth == 0)
            return s;
    }
    return NULL;
}

/* 1 when the group [s, e) names variables of more than one matrix (a nested product). */
static int is_product_group(const char *s, const char *e)
{
    int seen[3] = {0, 0, 0};
    for (; s < e; s++)
        if ((*s == 'a' || *s == 'b' || *s == 'c') && s[1] >= '1' && s[1] <= '9')
            seen[*s - 'a'] = 1;
    return seen[0] + seen[1] + seen[2] > 1;
}

/* Parses the factors of product t in [s, e): each a variable, a parenthesized sum, a number
 * (followed by '*'), or a parenthesized product; signs and numbers multiply *scalar. Factors may
 * be separated by '*', spaces or nothing. */
static void parse_factors(const char *s, const char *e, long t, long line, long *scalar,
                          int *have)
{
    for (;;) {
        s = skip(s);
        while (s < e && (*s == '-' || *s == '+')) {
            if (*s == '-')
                *scalar = -*scalar;
            s = skip(s + 1);
        }
        if (s >= e)
            die(2, line, "a product ends where a factor should be");
        long k;
        if (parse_int(&s, &k, line)) {
            *scalar *= k;
            s = skip(s);
            if (*s != '*')
                die(2, line, "expected '*' after a number");
            s++;
            continue;
        }
        if (*s == '(') {
            const char *close = closing(s);
            if (!close || close >= e)
                die(2, line, "unbalanced parentheses");
            if (is_product_group(s + 1, close)) {
                parse_factors(s + 1, close, t, line, scalar, have);
                s = close + 1;
            } else {
                s = skip(s + 1);
                int letter = -1;
                for (;;) {
                    long c = 1;
                    while (*s == '-' || *s == '+') {
                        if (*s == '-')
                            c = -c;
                        s = skip(s + 1);
                    }
                    if (parse_int(&s, &k, line)) { /* `2*a11`, or `2 a11` */
                        c *= k;
                        s = skip(s);
                        if (*s == '*')
                            s = skip(s + 1);
                    }
                    int entry;
                    int l = parse_var(&s, &entry, line);
                    if (letter >= 0 && l != letter)
                        die(2, line, "a factor mixes variables of different matrices");
                    if (letter < 0) {
                        letter = l;
                        if (have[l])
                            die(2, line, "a product has two factors of the same matrix");
                        have[l] = 1;
                    }
                    row_of(l, t)[entry] += c;
                    s = skip(s);
                    if (*s == ')') {
                        s++;
                        break;
                    }
                    if (*s != '+' && *s != '-')
                        die(2, line, "expected '+', '-' or ')' in a factor");
                }
            }
        } else {
            int entry;
            int l = parse_var(&s, &entry, line);
            if (have[l])
                die(2, line, "a product has two factors of the same matrix");
            have[l] = 1;
            row_of(l, t)[entry] += 1;
        }
        s = skip(s);
        if (s >= e || *s == '\n')
            return;
        if (*s == '*')
            s++;
    }
}

static void parse_product(const char *s, long t, long line)
{
    long scalar = 1;
    int have[3] = {0, 0, 0};
    const char *e = s + strlen(s);
    while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
    parse_factors(s, e, t, line, &scalar, have);
    if (!have[0] || !have[1] || !have[2])
        die(2, line, "a product needs one factor each of a, b and c");
    long *w = row_of(2, t);
    for (int x = 0; x < dims[2] * dims[0]; x++)
        w[x] *= scalar;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: check_scheme N M P z|gf2 FILE\n");
        return 2;
    }
    for (int d = 0; d < 3; d++) {
        char *end = NULL;
        long v = strtol(argv[1 + d], &end, 10);
        if (!end || *end || v < 1 || v > MAX_DIM)
            die(2, 0, "N, M and P must be numbers from 1 to 8");
        dims[d] = (int)v;
    }
    if (strcmp(argv[4], "z") == 0)
        gf2 = 0;
    else if (strcmp(argv[4], "gf2") == 0)
        gf2 = 1;
    else
        die(2, 0, "FIELD must be z or gf2");
    int n = dims[0], m = dims[1], p = dims[2];
    U = calloc((size_t)MAX_PRODUCTS * (size_t)(n * m), sizeof *U);
    V = calloc((size_t)MAX_PRODUCTS * (size_t)(m * p), sizeof *V);
    W = calloc((size_t)MAX_PRODUCTS * (size_t)(p * n), sizeof *W);
    if (!U || !V || !W)
        die(2, 0, "out of memory");
    FILE *f = fopen(argv[5], "r");
    if (!f)
        die(2, 0, "cannot open the scheme file");
    static char buf[MAX_LINE];
    long line = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        if (!strchr(buf, '\n') && !feof(f))
            die(2, line, "line too long");
        const char *s = skip(buf);
        if (*s == '\0' || *s == '\n' || *s == '#')
            continue;
        if (rank_count == MAX_PRODUCTS)
            die(2, line, "more than 4096 products");
        parse_product(s, rank_count, line);
        rank_count++;
    }
    fclose(f);
    long equations = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            for (int j2 = 0; j2 < m; j2++)
                for (int k = 0; k < p; k++)
                    for (int k2 = 0; k2 < p; k2++)
                        for (int i2 = 0; i2 < n; i2++) {
                            long long sum = 0;
                            for (long t = 0; t < rank_count; t++) {
                                long u = U[t * n * m + i * m + j];
                                long v = V[t * m * p + j2 * p + k];
                                long w = W[t * p * n + k2 * n + i2];
                                if (u && v && w)
                                    sum += (long long)u * v * w;
                            }
                            long long want = (j == j2 && k == k2 && i == i2) ? 1 : 0;
                            long long got = sum;
                            if (gf2) {
                                got = ((sum % 2) + 2) % 2;
                            }
                            equations++;
                            if (got != want) {
                                printf("INVALID: equation a%d%d*b%d%d*c%d%d: the coefficient is "
                                       "%lld, it must be %lld\n",
                                       i + 1, j + 1, j2 + 1, k + 1, k2 + 1, i2 + 1, got, want);
                                return 1;
                            }
                        }
    printf("VALID: %ld products multiply a %dx%d by a %dx%d matrix over %s; all %ld Brent "
           "equations hold\n",
           rank_count, n, m, m, p, gf2 ? "GF(2)" : "the integers", equations);
    return 0;
}
