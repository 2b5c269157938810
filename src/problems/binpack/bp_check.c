/* bp_check.c — the binpack verifier's own parser, tree evaluator, naive packing and checks
 * (bp_check.h). Deliberately written apart from bp_expr.c and bp_sim.c. */
#include "problems/binpack/bp_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CK_MAX_NODES 160
#define CK_MAX_DEPTH 32
#define CK_MAX_TEXT 16384

typedef struct cnode {
    char kind;   /* 'v' variable, 'k' constant, 'o' operator */
    char var;    /* s r c f e k m */
    int op;      /* index into ck_ops */
    double value;
    struct cnode *arg[3];
} cnode;

struct bp_ctree {
    int n;
    cnode nodes[CK_MAX_NODES];
};

static const struct {
    const char *name;
    int arity;
} ck_ops[] = {
    {"neg", 1}, {"abs", 1}, {"sqrt", 1}, {"log", 1}, {"exp", 1}, {"sq", 1},
    {"+", 2}, {"-", 2}, {"*", 2}, {"/", 2}, {"min", 2}, {"max", 2}, {"<", 2},
    {"if", 3},
};
#define CK_NOPS ((int)(sizeof ck_ops / sizeof ck_ops[0]))

typedef struct ckparse {
    const char *s;
    size_t i, len;
    bp_ctree *t;
    char *err;
    size_t errlen;
} ckparse;

static int ck_fail(ckparse *p, const char *what)
{
    return rt_fail(p->err, p->errlen, RT_EUSAGE, "expression byte %zu: %s", p->i + 1, what);
}

static void ck_space(ckparse *p)
{
    while (p->i < p->len) {
        char ch = p->s[p->i];
        if (ch == ';')
            while (p->i < p->len && p->s[p->i] != '\n')
                p->i++;
        else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
            p->i++;
        else
            return;
    }
}

static size_t ck_word(const ckparse *p)
{
    size_t k = p->i;
    while (k < p->len && !strchr("() \t\n\r;", p->s[k]))
        k++;
    return k - p->i;
}

static int ck_leaf(ckparse *p, cnode *nd, size_t w)
{
    if (w == 1 && strchr("srcfekm", p->s[p->i])) {
        nd->kind = 'v';
        nd->var = p->s[p->i];
        p->i++;
        return 0;
    }
    char buf[64];
    if (w == 0 || w >= sizeof buf)
        return ck_fail(p, "expected a terminal or a number");
    memcpy(buf, p->s + p->i, w);
    buf[w] = '\0';
    if (strspn(buf, "0123456789.eE+-") != w)
        return ck_fail(p, "unknown name");
    char *end;
    double v = strtod(buf, &end);
    if (*end || !isfinite(v))
        return ck_fail(p, "not a finite number");
    nd->kind = 'k';
    nd->value = v == 0 ? 0 : v;
    p->i += w;
    return 0;
}

static int ck_node(ckparse *p, int depth, cnode **out)
{
    if (depth > CK_MAX_DEPTH)
        return rt_fail(p->err, p->errlen, RT_ETOOBIG, "expression too deep");
    if (p->t->n >= CK_MAX_NODES)
        return rt_fail(p->err, p->errlen, RT_ETOOBIG, "expression has too many nodes");
    cnode *nd = &p->t->nodes[p->t->n++];
    memset(nd, 0, sizeof *nd);
    *out = nd;
    ck_space(p);
    if (p->i >= p->len)
        return ck_fail(p, "expression ends early");
    if (p->s[p->i] != '(')
        return ck_leaf(p, nd, ck_word(p));
    p->i++;
    ck_space(p);
    size_t w = ck_word(p);
    nd->kind = 'o';
    nd->op = -1;
    for (int k = 0; k < CK_NOPS; k++)
        if (strlen(ck_ops[k].name) == w && strncmp(ck_ops[k].name, p->s + p->i, w) == 0)
            nd->op = k;
    if (nd->op < 0)
        return ck_fail(p, "unknown operator");
    p->i += w;
    for (int a = 0; a < ck_ops[nd->op].arity; a++) {
        int rc = ck_node(p, depth + 1, &nd->arg[a]);
        if (rc)
            return rc;
    }
    ck_space(p);
    if (p->i >= p->len || p->s[p->i] != ')')
        return ck_fail(p, "expected ')'");
    p->i++;
    return 0;
}

int bp_ctree_parse(const char *text, size_t len, bp_ctree **out, char *err, size_t errlen)
{
    *out = NULL;
    if (len > CK_MAX_TEXT)
        return rt_fail(err, errlen, RT_ETOOBIG, "expression longer than %d bytes", CK_MAX_TEXT);
    if (memchr(text, '\0', len))
        return rt_fail(err, errlen, RT_EUSAGE, "expression contains a NUL byte");
    bp_ctree *t = malloc(sizeof *t);
    if (!t)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    t->n = 0;
    ckparse p = {text, 0, len, t, err, errlen};
    cnode *root;
    int rc = ck_node(&p, 1, &root);
    if (!rc) {
        ck_space(&p);
        if (p.i != len)
            rc = ck_fail(&p, "text after the expression");
    }
    if (rc) {
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void bp_ctree_free(bp_ctree *t) { free(t); }

int bp_ctree_size(const bp_ctree *t) { return t->n; }

typedef struct ckenv {
    double s, r, c, f, e, k, m;
} ckenv;

static double ck_eval(const cnode *nd, const ckenv *v)
{
    if (nd->kind == 'k')
        return nd->value;
    if (nd->kind == 'v') {
        switch (nd->var) {
        case 's': return v->s;
        case 'r': return v->r;
        case 'c': return v->c;
        case 'f': return v->f;
        case 'e': return v->e;
        case 'k': return v->k;
        default: return v->m;
        }
    }
    double a = ck_eval(nd->arg[0], v);
    if (nd->op == 13) /* if: only the branch taken is evaluated */
        return a > 0 ? ck_eval(nd->arg[1], v) : ck_eval(nd->arg[2], v);
    double b = ck_ops[nd->op].arity > 1 ? ck_eval(nd->arg[1], v) : 0.0;
    switch (nd->op) { /* the order of ck_ops */
    case 0: return -a;
    case 1: return fabs(a);
    case 2: return sqrt(fabs(a));
    case 3: return log(1.0 + fabs(a));
    case 4: return exp(a);
    case 5: return a * a;
    case 6: return a + b;
    case 7: return a - b;
    case 8: return a * b;
    case 9: return b == 0 ? 0.0 : a / b;
    case 10: return a < b ? a : b;
    case 11: return a > b ? a : b;
    default: return a < b ? 1.0 : 0.0;
    }
}

/* The naive rule, bin by bin: assign[i] is the bin item i went to; returns the bins opened, -1
 * out of memory. Within one item a bin's priority depends only on its remaining capacity (an open
 * bin has less than the capacity left; the fresh bin has all of it), so each value is computed
 * once per item and remembered in memo[r] (stamped with the item). */
static long long ck_simulate(const bp_ctree *t, const bp_instance *in, int *assign)
{
    long long *rem = malloc(((size_t)in->n + 1) * sizeof *rem), nbins = 0, sum = 0;
    double *memo = malloc(((size_t)in->capacity + 1) * sizeof *memo);
    int *stamp = malloc(((size_t)in->capacity + 1) * sizeof *stamp);
    if (!rem || !memo || !stamp) {
        free(rem);
        free(memo);
        free(stamp);
        return -1;
    }
    for (int r = 0; r <= in->capacity; r++)
        stamp[r] = -1;
    const double cap = in->capacity; /* s, r, f and m are fractions of it */
    ckenv v = {.c = cap};
    for (int i = 0; i < in->n; i++) {
        sum += in->items[i];
        v.s = in->items[i] / cap;
        v.k = (double)nbins;
        v.m = (double)sum / (i + 1) / cap;
        long long pick = -1;
        double best = 0;
        for (long long j = 0; j <= nbins; j++) {
            long long r = j < nbins ? rem[j] : in->capacity;
            if (r < in->items[i])
                continue;
            if (stamp[r] != i) {
                v.r = (double)r / cap;
                v.f = (double)(r - in->items[i]) / cap;
                v.e = j == nbins ? 1 : 0;
                double pr = ck_eval(&t->nodes[0], &v);
                memo[r] = pr != pr ? -INFINITY : pr;
                stamp[r] = i;
            }
            double pr = memo[r];
            if (pick < 0 || pr > best) {
                pick = j;
                best = pr;
            }
        }
        if (pick == nbins)
            rem[nbins++] = in->capacity;
        rem[pick] -= in->items[i];
        assign[i] = (int)pick;
    }
    free(rem);
    free(memo);
    free(stamp);
    return nbins;
}

void bp_packing_free(bp_packing *p)
{
    if (!p)
        return;
    free(p->start);
    free(p->items);
    memset(p, 0, sizeof *p);
}

int bp_check_packing(const bp_instance *in, const bp_packing *p, char *why, size_t whylen)
{
    char *seen = calloc((size_t)in->n + 1, 1);
    if (!seen)
        return rt_fail(why, whylen, RT_ENOMEM, "out of memory");
    int rc = 0;
    long long placed = 0;
    for (long long b = 0; !rc && b < p->nbins; b++) {
        long long load = 0;
        if (p->start[b + 1] <= p->start[b])
            rc = rt_fail(why, whylen, RT_EINVALID, "bin %lld is empty", b);
        for (long long j = p->start[b]; !rc && j < p->start[b + 1]; j++) {
            int it = p->items[j];
            if (it < 0 || it >= in->n || seen[it])
                rc = rt_fail(why, whylen, RT_EINVALID, "item %d is out of range or packed twice",
                             it);
            else
                seen[it] = 1, load += in->items[it], placed++;
        }
        if (!rc && load > in->capacity)
            rc = rt_fail(why, whylen, RT_EINVALID, "bin %lld holds %lld > capacity %d", b, load,
                         in->capacity);
    }
    if (!rc && placed != in->n)
        rc = rt_fail(why, whylen, RT_EINVALID, "%lld of %d items packed", placed, in->n);
    free(seen);
    return rc;
}

/* Lists the items of each bin from the assignment (a counting sort). */
static int ck_lists(const bp_instance *in, const int *assign, long long nbins, bp_packing *out)
{
    out->nbins = nbins;
    out->start = calloc((size_t)nbins + 2, sizeof *out->start);
    out->items = malloc(((size_t)in->n + 1) * sizeof *out->items);
    if (!out->start || !out->items)
        return RT_ENOMEM;
    for (int i = 0; i < in->n; i++)
        out->start[assign[i] + 2]++;
    for (long long b = 0; b < nbins; b++)
        out->start[b + 2] += out->start[b + 1];
    for (int i = 0; i < in->n; i++)
        out->items[out->start[assign[i] + 1]++] = i;
    return 0;
}

int bp_check_pack(const bp_ctree *t, const bp_instance *in, bp_packing *out, char *why,
                  size_t whylen)
{
    memset(out, 0, sizeof *out);
    int *assign = malloc(((size_t)in->n + 1) * sizeof *assign);
    if (!assign)
        return rt_fail(why, whylen, RT_ENOMEM, "out of memory");
    long long nbins = ck_simulate(t, in, assign);
    int rc = nbins < 0 ? RT_ENOMEM : ck_lists(in, assign, nbins, out);
    free(assign);
    if (rc) {
        bp_packing_free(out);
        return rt_fail(why, whylen, RT_ENOMEM, "out of memory");
    }
    rc = bp_check_packing(in, out, why, whylen);
    if (rc)
        bp_packing_free(out);
    return rc;
}

int bp_check_set(const char *text, size_t len, const bp_set *set, long long *bins,
                 long long *l1, char *err, size_t errlen)
{
    bp_ctree *t = NULL;
    int rc = bp_ctree_parse(text, len, &t, err, errlen);
    *bins = *l1 = 0;
    for (int k = 0; !rc && k < set->n; k++) {
        const bp_instance *in = &set->inst[k];
        bp_packing p;
        char why[200];
        rc = bp_check_pack(t, in, &p, why, sizeof why);
        if (rc) {
            rt_fail(err, errlen, rc, "instance '%s': %s", in->name, why);
            break;
        }
        long long sum = 0;
        for (int i = 0; i < in->n; i++)
            sum += in->items[i];
        *bins += p.nbins;
        *l1 += (sum + in->capacity - 1) / in->capacity;
        bp_packing_free(&p);
    }
    bp_ctree_free(t);
    return rc;
}
