/* cp_check.c — exact check of a packing of 26 circles in the unit square.
 *
 * usage: cp_check FILE    (FILE: 26 lines "x y r", decimal numbers, nothing else)
 *
 * Every printed number is read as the exact rational its decimal text denotes (GMP mpq), with
 * no tolerance anywhere: each radius is positive, each circle lies inside [0,1]^2
 * (r <= x <= 1 - r, likewise y), and no two overlap ((xi-xj)^2 + (yi-yj)^2 >= (ri+rj)^2;
 * touching is allowed). Prints one JSON line {"valid": true, "score": SUM, "sum_exact": "p/q"}
 * or {"valid": false, "reason": "..."} and exits 0; exits 2 when FILE cannot be read.
 * Caps: the file is at most 64 KiB; a number at most 400 characters with |exponent| <= 400.
 * Words like nan or inf are not numbers here.
 */
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 26
#define MAX_FILE 65536
#define MAX_NUM 400

static int fail(const char *fmt, int a, int b)
{
    char msg[200];
    snprintf(msg, sizeof msg, fmt, a, b);
    printf("{\"valid\": false, \"reason\": \"%s\"}\n", msg);
    return 0;
}

/* Reads the decimal number s[0..n) exactly into q. Returns 0, or -1 when it is not one. */
static int parse_decimal(const char *s, size_t n, mpq_t q)
{
    if (n == 0 || n > MAX_NUM)
        return -1;
    size_t i = 0;
    int neg = 0;
    if (s[i] == '+' || s[i] == '-')
        neg = s[i++] == '-';
    char digits[MAX_NUM + 2];
    size_t nd = 0, frac = 0;
    int dot = 0, any = 0;
    for (; i < n && ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && !dot)); i++) {
        if (s[i] == '.') {
            dot = 1;
            continue;
        }
        digits[nd++] = s[i];
        frac += (size_t)dot;
        any = 1;
    }
    if (!any)
        return -1;
    long ex = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i >= n)
            return -1;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            ex = ex * 10 + (s[i] - '0');
            if (ex > 400)
                return -1;
        }
        if (eneg)
            ex = -ex;
    }
    if (i != n)
        return -1;
    digits[nd] = '\0';
    mpz_t num, den;
    mpz_init(num);
    mpz_init(den);
    mpz_set_str(num, digits, 10);
    long e10 = ex - (long)frac;
    mpz_ui_pow_ui(den, 10, (unsigned long)(e10 < 0 ? -e10 : e10));
    if (e10 >= 0) {
        mpz_mul(num, num, den);
        mpz_set_ui(den, 1);
    }
    if (neg)
        mpz_neg(num, num);
    mpq_set_num(q, num);
    mpq_set_den(q, den);
    mpq_canonicalize(q);
    mpz_clear(num);
    mpz_clear(den);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: cp_check FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "cp_check: cannot open %s\n", argv[1]);
        return 2;
    }
    static char buf[MAX_FILE + 1];
    size_t len = fread(buf, 1, MAX_FILE + 1, f);
    fclose(f);
    if (len > MAX_FILE)
        return fail("packing file over %d bytes", MAX_FILE, 0);
    if (memchr(buf, '\0', len))
        return fail("packing file contains a NUL byte", 0, 0);
    buf[len] = '\0';
    mpq_t v[N][3];
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 3; k++)
            mpq_init(v[i][k]);
    int count = 0, rc = 0;
    size_t at = 0;
    int line = 0;
    while (at < len) {
        char *nl = memchr(buf + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - buf) : len;
        line++;
        if (end > at) {
            if (count == N) {
                rc = fail("more than %d lines", N, 0);
                goto done;
            }
            size_t p = at;
            for (int k = 0; k < 3; k++) {
                while (p < end && buf[p] == ' ')
                    p++;
                size_t b = p;
                while (p < end && buf[p] != ' ')
                    p++;
                if (parse_decimal(buf + b, p - b, v[count][k])) {
                    rc = fail("line %d: number %d is not a decimal number", line, k + 1);
                    goto done;
                }
            }
            while (p < end && buf[p] == ' ')
                p++;
            if (p != end) {
                rc = fail("line %d: more than three numbers", line, 0);
                goto done;
            }
            count++;
        }
        at = nl ? end + 1 : len;
    }
    if (count != N) {
        rc = fail("expected %d circles, got %d", N, count);
        goto done;
    }
    mpq_t a, b, t, one, sum;
    mpq_inits(a, b, t, one, sum, NULL);
    mpq_set_ui(one, 1, 1);
    int bad = 0;
    for (int i = 0; i < N && !bad; i++) {
        mpq_t *x = &v[i][0], *y = &v[i][1], *r = &v[i][2];
        if (mpq_sgn(*r) <= 0) {
            rc = fail("circle %d: radius not positive", i + 1, 0);
            bad = 1;
            break;
        }
        mpq_add(t, *x, *r); /* x + r <= 1 */
        int out = mpq_cmp(*r, *x) > 0 || mpq_cmp(t, one) > 0;
        mpq_add(t, *y, *r);
        out = out || mpq_cmp(*r, *y) > 0 || mpq_cmp(t, one) > 0;
        if (out) {
            rc = fail("circle %d: not inside the unit square", i + 1, 0);
            bad = 1;
            break;
        }
        mpq_add(sum, sum, *r);
        for (int j = i + 1; j < N; j++) {
            mpq_sub(a, v[i][0], v[j][0]);
            mpq_mul(a, a, a);
            mpq_sub(b, v[i][1], v[j][1]);
            mpq_mul(b, b, b);
            mpq_add(a, a, b); /* squared distance */
            mpq_add(t, v[i][2], v[j][2]);
            mpq_mul(t, t, t);
            if (mpq_cmp(a, t) < 0) {
                rc = fail("circles %d and %d overlap", i + 1, j + 1);
                bad = 1;
                break;
            }
        }
    }
    if (!bad) {
        char *exact = mpq_get_str(NULL, 10, sum);
        printf("{\"valid\": true, \"score\": %.17g, \"sum_exact\": \"%s\"}\n", mpq_get_d(sum),
               exact);
        free(exact);
    }
    mpq_clears(a, b, t, one, sum, NULL);
done:
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 3; k++)
            mpq_clear(v[i][k]);
    return rc;
}
