/* diff.c — a unified diff of two texts, line by line (rt_text_diff in ratchet.h): Myers'
 * O(ND) shortest edit script, then hunks with three lines of context, as `diff -u` prints
 * them. Past RT_DIFF_MAX_D differing lines the script is "every old line out, every new line
 * in", which is still a correct diff, only not the shortest. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define RT_DIFF_MAX_LINES 200000
#define RT_DIFF_MAX_D 4000
#define CONTEXT 3

typedef struct line {
    const char *s;
    size_t len; /* without the newline */
    uint64_t h;
} line;

typedef struct lines {
    line *v;
    size_t n;
    int last_nl; /* the text ends with a newline (or is empty) */
} lines;

/* Splits text into lines; -1 when out of memory or over the cap (*toobig set). */
static int split(const char *text, lines *out, int *toobig)
{
    size_t cap = 16;
    out->n = 0;
    out->last_nl = 1;
    out->v = malloc(cap * sizeof *out->v);
    if (!out->v)
        return -1;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (out->n == RT_DIFF_MAX_LINES) {
            *toobig = 1;
            return -1;
        }
        if (out->n == cap) {
            line *nv = realloc(out->v, 2 * cap * sizeof *nv);
            if (!nv)
                return -1;
            out->v = nv;
            cap *= 2;
        }
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < len; i++)
            h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
        out->v[out->n++] = (line){p, len, h};
        out->last_nl = e != NULL;
        p = e ? e + 1 : p + len;
    }
    return 0;
}

static int same(const line *a, const line *b)
{
    return a->h == b->h && a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* The edit script: one byte per step, '=' keep, '-' delete from a, '+' insert from b. */
typedef struct script {
    char *op;
    size_t n;
} script;

/* Follows the stored frontiers back from the end and writes the script. trace[d][k + d] is
 * the furthest x on diagonal k after d edits. */
static int backtrack(const lines *a, const lines *b, int *const *trace, long d_end, script *out)
{
    long x = (long)a->n, y = (long)b->n;
    size_t cap = a->n + b->n + 1, at = cap;
    char *ops = malloc(cap);
    if (!ops)
        return -1;
    for (long d = d_end; d > 0; d--) {
        const int *v = trace[d - 1];
        long k = x - y, pk;
        if (k == -d || (k != d && v[k - 1 + d - 1] < v[k + 1 + d - 1]))
            pk = k + 1;
        else
            pk = k - 1;
        long px = v[pk + d - 1], py = px - pk;
        while (x > px && y > py) {
            ops[--at] = '=';
            x--, y--;
        }
        ops[--at] = x == px ? '+' : '-';
        x = px, y = py;
    }
    while (x > 0 && y > 0) {
        ops[--at] = '=';
        x--, y--;
    }
    memmove(ops, ops + at, cap - at);
    out->op = ops;
    out->n = cap - at;
    return 0;
}

/* The script that deletes all of a and inserts all of b. */
static int replace_all(const lines *a, const lines *b, script *out)
{
    out->n = a->n + b->n;
    out->op = malloc(out->n + 1);
    if (!out->op)
        return -1;
    memset(out->op, '-', a->n);
    memset(out->op + a->n, '+', b->n);
    return 0;
}

/* Myers' greedy forward pass, keeping each frontier for the backtrack. */
static int shortest_script(const lines *a, const lines *b, script *out)
{
    long n = (long)a->n, m = (long)b->n, max = n + m;
    long dmax = max < RT_DIFF_MAX_D ? max : RT_DIFF_MAX_D;
    int **trace = calloc((size_t)dmax + 1, sizeof *trace);
    int rc = -1;
    if (!trace)
        return -1;
    for (long d = 0; d <= dmax; d++) {
        int *v = malloc((size_t)(2 * d + 1) * sizeof *v);
        if (!v)
            goto done;
        trace[d] = v;
        const int *pv = d ? trace[d - 1] : NULL;
        for (long k = -d; k <= d; k += 2) {
            long x;
            if (d == 0)
                x = 0;
            else if (k == -d || (k != d && pv[k - 1 + d - 1] < pv[k + 1 + d - 1]))
                x = pv[k + 1 + d - 1];
            else
                x = pv[k - 1 + d - 1] + 1;
            long y = x - k;
            while (x < n && y < m && same(&a->v[x], &b->v[y]))
                x++, y++;
            v[k + d] = (int)x;
            if (x >= n && y >= m) {
                rc = backtrack(a, b, trace, d, out);
                goto done;
            }
        }
    }
    rc = replace_all(a, b, out); /* too different for the shortest script: still a diff */
done:
    for (long d = 0; d <= dmax; d++)
        free(trace[d]);
    free(trace);
    return rc;
}

/* The diff's text and whether an append failed (out of memory, or past the buffer's cap). */
typedef struct dbuf {
    rt_buf b;
    int failed;
} dbuf;

static void __attribute__((format(printf, 2, 3))) put(dbuf *o, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        o->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        o->failed |= rt_buf_append(&o->b, small, (size_t)n) != 0;
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        o->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    o->failed |= rt_buf_append(&o->b, big, (size_t)n) != 0;
    free(big);
}

/* Prints one line of a hunk ("\ No newline at end of file" after a last line without one). */
static void put_line(dbuf *o, char tag, const lines *t, size_t i)
{
    put(o, "%c%.*s\n", tag, (int)t->v[i].len, t->v[i].s);
    if (i + 1 == t->n && !t->last_nl)
        put(o, "\\ No newline at end of file\n");
}

/* Prints the hunk of script steps [from, to): its header and its lines. */
static void put_hunk(dbuf *o, const script *sc, size_t from, size_t to, size_t ai, size_t bi,
                     const lines *a, const lines *b)
{
    size_t na = 0, nb = 0;
    for (size_t s = from; s < to; s++) {
        na += sc->op[s] != '+';
        nb += sc->op[s] != '-';
    }
    put(o, "@@ -%zu,%zu +%zu,%zu @@\n", na ? ai + 1 : ai, na, nb ? bi + 1 : bi, nb);
    for (size_t s = from; s < to; s++) {
        char op = sc->op[s];
        if (op == '=') {
            put_line(o, ' ', a, ai++);
            bi++;
        } else if (op == '-') {
            put_line(o, '-', a, ai++);
        } else {
            put_line(o, '+', b, bi++);
        }
    }
}

/* Groups the script's changes into hunks with CONTEXT lines around them. */
static void put_hunks(dbuf *o, const script *sc, const lines *a, const lines *b)
{
    size_t s = 0, ai = 0, bi = 0;
    while (s < sc->n) {
        if (sc->op[s] == '=') {
            s++, ai++, bi++;
            continue;
        }
        size_t back = 0; /* context before the change */
        while (back < CONTEXT && back < s && sc->op[s - back - 1] == '=')
            back++;
        size_t from = s - back, end = s, equal = 0;
        while (end < sc->n) { /* extend while changes are at most 2 * CONTEXT lines apart */
            if (sc->op[end] != '=')
                equal = 0;
            else if (equal == 2 * CONTEXT)
                break;
            else
                equal++;
            end++;
        }
        size_t to = end - (equal > CONTEXT ? equal - CONTEXT : 0); /* keep CONTEXT after */
        put_hunk(o, sc, from, to, ai - back, bi - back, a, b);
        for (size_t k = s; k < to; k++) {
            ai += sc->op[k] != '+';
            bi += sc->op[k] != '-';
        }
        s = to;
    }
}

int rt_text_diff(const char *a, const char *b, const char *la, const char *lb, char **out)
{
    *out = NULL;
    lines ta = {0}, tb = {0};
    script sc = {0};
    int toobig = 0, rc = RT_ENOMEM;
    if (split(a, &ta, &toobig) || split(b, &tb, &toobig) || shortest_script(&ta, &tb, &sc))
        goto done;
    dbuf o = {0};
    rt_buf_init(&o.b, 0);
    int changed = 0;
    for (size_t s = 0; s < sc.n && !changed; s++)
        changed = sc.op[s] != '=';
    if (changed || ta.last_nl != tb.last_nl) {
        put(&o, "--- %s\n+++ %s\n", la, lb);
        put_hunks(&o, &sc, &ta, &tb);
    }
    if (o.failed) {
        rt_buf_free(&o.b);
        goto done;
    }
    *out = o.b.len ? rt_buf_take(&o.b) : calloc(1, 1);
    rc = *out ? 0 : RT_ENOMEM;
done:
    free(ta.v);
    free(tb.v);
    free(sc.op);
    return toobig ? RT_ETOOBIG : rc;
}
