/* bp_expr.c — priority expressions: parser, printer, compiler, evaluator, GP edits (bp_expr.h). */
#include "problems/binpack/bp_expr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const op_names[BP_NOPS] = {
    "s", "r", "c", "f", "e", "k", "m", "",
    "neg", "abs", "sqrt", "log", "exp", "sq",
    "+", "-", "*", "/", "min", "max", "<",
    "if",
};

int bp_arity(int op)
{
    if (op <= BP_CONST)
        return 0;
    if (op <= BP_SQ)
        return 1;
    if (op <= BP_LT)
        return 2;
    return 3;
}

const char *bp_op_name(int op) { return op >= 0 && op < BP_NOPS ? op_names[op] : "?"; }

double bp_apply_op(int op, double a, double b, double c)
{
    switch (op) {
    case BP_NEG: return -a;
    case BP_ABS: return fabs(a);
    case BP_SQRT: return sqrt(fabs(a));
    case BP_LOG: return log(1.0 + fabs(a));
    case BP_EXP: return exp(a);
    case BP_SQ: return a * a;
    case BP_ADD: return a + b;
    case BP_SUB: return a - b;
    case BP_MUL: return a * b;
    case BP_DIV: return b == 0 ? 0.0 : a / b;
    case BP_MIN: return a < b ? a : b;
    case BP_MAX: return a > b ? a : b;
    case BP_LT: return a < b ? 1.0 : 0.0;
    case BP_IF: return a > 0 ? b : c;
    default: return 0.0;
    }
}

/* ---- parsing ---------------------------------------------------------------------------- */

typedef struct parser {
    const char *p, *end, *start;
    bp_expr *out;
    char *err;
    size_t errlen;
} parser;

static int perr(parser *ps, const char *what)
{
    int line = 1, col = 1;
    for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    return rt_fail(ps->err, ps->errlen, RT_EUSAGE, "expression line %d column %d: %s", line, col,
                   what);
}

static void skip_space(parser *ps)
{
    while (ps->p < ps->end) {
        char ch = *ps->p;
        if (ch == ';') {
            while (ps->p < ps->end && *ps->p != '\n')
                ps->p++;
        } else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            ps->p++;
        } else {
            break;
        }
    }
}

static int is_delim(char ch)
{
    return ch == '(' || ch == ')' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
           ch == ';';
}

/* The next atom's extent [p, q). */
static size_t atom_len(const parser *ps)
{
    size_t k = 0;
    while (ps->p + k < ps->end && !is_delim(ps->p[k]))
        k++;
    return k;
}

static int lookup(const char *word, size_t len, int lo, int hi)
{
    for (int op = lo; op <= hi; op++)
        if (op != BP_CONST && strlen(op_names[op]) == len && memcmp(op_names[op], word, len) == 0)
            return op;
    return -1;
}

static int push(parser *ps, int op, double value)
{
    if (ps->out->n >= BP_MAX_NODES)
        return rt_fail(ps->err, ps->errlen, RT_ETOOBIG, "expression has more than %d nodes",
                       BP_MAX_NODES);
    ps->out->node[ps->out->n].op = (uint8_t)op;
    ps->out->node[ps->out->n].value = value;
    ps->out->n++;
    return 0;
}

static int parse_number(parser *ps, size_t len)
{
    char buf[64];
    if (len >= sizeof buf)
        return perr(ps, "number too long");
    memcpy(buf, ps->p, len);
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789.eE+-", buf[i]))
            return perr(ps, "unknown name (terminals: s r c f e k m)");
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + len || !isfinite(v))
        return perr(ps, "not a finite number");
    if (v == 0)
        v = 0; /* no negative zero */
    ps->p += len;
    return push(ps, BP_CONST, v);
}

static int parse_node(parser *ps, int depth);

static int parse_call(parser *ps, int depth)
{
    ps->p++; /* '(' */
    skip_space(ps);
    size_t len = atom_len(ps);
    int op = lookup(ps->p, len, BP_NEG, BP_IF);
    if (op < 0)
        return perr(ps, len ? "unknown operator" : "expected an operator after '('");
    ps->p += len;
    int rc = push(ps, op, 0);
    for (int i = 0; !rc && i < bp_arity(op); i++)
        rc = parse_node(ps, depth + 1);
    if (rc)
        return rc;
    skip_space(ps);
    if (ps->p >= ps->end || *ps->p != ')')
        return perr(ps, "expected ')' (wrong number of arguments?)");
    ps->p++;
    return 0;
}

static int parse_node(parser *ps, int depth)
{
    if (depth > BP_MAX_DEPTH)
        return rt_fail(ps->err, ps->errlen, RT_ETOOBIG, "expression nested deeper than %d",
                       BP_MAX_DEPTH);
    skip_space(ps);
    if (ps->p >= ps->end)
        return perr(ps, "unexpected end of expression");
    if (*ps->p == '(')
        return parse_call(ps, depth);
    if (*ps->p == ')')
        return perr(ps, "unexpected ')'");
    size_t len = atom_len(ps);
    int op = lookup(ps->p, len, BP_S, BP_M);
    if (op >= 0) {
        ps->p += len;
        return push(ps, op, 0);
    }
    return parse_number(ps, len);
}

int bp_parse(const char *text, size_t len, bp_expr *out, char *err, size_t errlen)
{
    if (len > BP_MAX_TEXT)
        return rt_fail(err, errlen, RT_ETOOBIG, "expression longer than %d bytes", BP_MAX_TEXT);
    if (memchr(text, '\0', len))
        return rt_fail(err, errlen, RT_EUSAGE, "expression contains a NUL byte");
    parser ps = {text, text + len, text, out, err, errlen};
    out->n = 0;
    int rc = parse_node(&ps, 1);
    if (rc)
        return rc;
    skip_space(&ps);
    if (ps.p != ps.end)
        return perr(&ps, "trailing text after the expression");
    return 0;
}

/* ---- printing --------------------------------------------------------------------------- */

static int print_node(const bp_expr *e, int *i, rt_buf *out)
{
    const bp_node *nd = &e->node[(*i)++];
    if (nd->op == BP_CONST) {
        char buf[40];
        rt_format_real(nd->value, buf, sizeof buf);
        return rt_buf_printf(out, "%s", buf);
    }
    if (bp_arity(nd->op) == 0)
        return rt_buf_printf(out, "%s", op_names[nd->op]);
    int rc = rt_buf_printf(out, "(%s", op_names[nd->op]);
    for (int k = 0; !rc && k < bp_arity(nd->op); k++) {
        rc = rt_buf_printf(out, " ");
        if (!rc)
            rc = print_node(e, i, out);
    }
    return rc ? rc : rt_buf_printf(out, ")");
}

int bp_print(const bp_expr *e, rt_buf *out)
{
    int i = 0;
    return print_node(e, &i, out);
}

int bp_subtree_end(const bp_expr *e, int i)
{
    int need = 1;
    while (need > 0 && i < e->n) {
        need += bp_arity(e->node[i].op) - 1;
        i++;
    }
    return i;
}

static int depth_at(const bp_expr *e, int *i)
{
    int op = e->node[(*i)++].op, d = 0;
    for (int k = 0; k < bp_arity(op); k++) {
        int dk = depth_at(e, i);
        if (dk > d)
            d = dk;
    }
    return d + 1;
}

int bp_depth(const bp_expr *e)
{
    int i = 0;
    return e->n ? depth_at(e, &i) : 0;
}

unsigned bp_terminals_used(const bp_expr *e)
{
    unsigned mask = 0;
    for (int i = 0; i < e->n; i++)
        if (e->node[i].op < BP_NTERMINALS)
            mask |= 1u << e->node[i].op;
    return mask;
}

/* ---- compiling and evaluating ------------------------------------------------------------ */

void bp_compile(const bp_expr *e, bp_prog *out)
{
    /* prefix to postfix: reversed prefix order of arguments is postfix when read backwards, so
     * emit in reverse and evaluate from the end with operands popped in argument order */
    out->n = e->n;
    for (int i = 0; i < e->n; i++) {
        out->op[i] = e->node[e->n - 1 - i].op;
        out->value[i] = e->node[e->n - 1 - i].value;
    }
}

double bp_eval(const bp_prog *p, const bp_inputs *in)
{
    double st[BP_MAX_NODES];
    int sp = 0;
    for (int i = 0; i < p->n; i++) {
        double a, b;
        switch (p->op[i]) {
        case BP_S: st[sp++] = in->s; break;
        case BP_R: st[sp++] = in->r; break;
        case BP_C: st[sp++] = in->c; break;
        case BP_F: st[sp++] = in->f; break;
        case BP_E: st[sp++] = in->e; break;
        case BP_K: st[sp++] = in->k; break;
        case BP_M: st[sp++] = in->m; break;
        case BP_CONST: st[sp++] = p->value[i]; break;
        case BP_NEG: st[sp - 1] = -st[sp - 1]; break;
        case BP_ABS: st[sp - 1] = fabs(st[sp - 1]); break;
        case BP_SQRT: st[sp - 1] = sqrt(fabs(st[sp - 1])); break;
        case BP_LOG: st[sp - 1] = log(1.0 + fabs(st[sp - 1])); break;
        case BP_EXP: st[sp - 1] = exp(st[sp - 1]); break;
        case BP_SQ: st[sp - 1] = st[sp - 1] * st[sp - 1]; break;
        case BP_ADD: a = st[--sp]; st[sp - 1] = a + st[sp - 1]; break;
        case BP_SUB: a = st[--sp]; st[sp - 1] = a - st[sp - 1]; break;
        case BP_MUL: a = st[--sp]; st[sp - 1] = a * st[sp - 1]; break;
        case BP_DIV: a = st[--sp]; b = st[sp - 1]; st[sp - 1] = b == 0 ? 0.0 : a / b; break;
        case BP_MIN: a = st[--sp]; b = st[sp - 1]; st[sp - 1] = a < b ? a : b; break;
        case BP_MAX: a = st[--sp]; b = st[sp - 1]; st[sp - 1] = a > b ? a : b; break;
        case BP_LT: a = st[--sp]; st[sp - 1] = a < st[sp - 1] ? 1.0 : 0.0; break;
        default: /* BP_IF */
            a = st[--sp];
            b = st[--sp];
            st[sp - 1] = a > 0 ? b : st[sp - 1];
            break;
        }
    }
    return st[0];
}

/* ---- genetic programming ----------------------------------------------------------------- */

static const double typical[] = {0.5, 1, 2, 3, 5, 10, 0.1, 0.25};

/* The terminals the GP operators draw: all but k, whose values grow with the length of the
 * stream, so that evolved functions do not learn the training instances' length (measured:
 * solvers using k packed held-out sets of other lengths at 20-150% over L1). A text may still
 * use k. */
static const uint8_t gp_terminals[] = {BP_S, BP_R, BP_C, BP_F, BP_E, BP_M};
#define GP_NTERMINALS ((uint32_t)(sizeof gp_terminals / sizeof gp_terminals[0]))

static int random_tree(bp_node *buf, int cap, int depth, rt_rng *rng)
{
    if (cap < 1)
        return -1;
    if (depth <= 1 || rt_rng_below(rng, 3) == 0) {
        if (rt_rng_below(rng, 4) == 0) {
            buf[0].op = BP_CONST;
            buf[0].value = typical[rt_rng_below(rng, 8)];
        } else {
            buf[0].op = gp_terminals[rt_rng_below(rng, GP_NTERMINALS)];
            buf[0].value = 0;
        }
        return 1;
    }
    int op = BP_NEG + (int)rt_rng_below(rng, BP_NOPS - BP_NEG);
    buf[0].op = (uint8_t)op;
    buf[0].value = 0;
    int n = 1;
    for (int k = 0; k < bp_arity(op); k++) {
        int m = random_tree(buf + n, cap - n, depth - 1, rng);
        if (m < 0)
            return -1;
        n += m;
    }
    return n;
}

/* Replaces nodes [a, b) of e with the n nodes of sub; -1 over the caps. */
static int splice(bp_expr *e, int a, int b, const bp_node *sub, int n)
{
    int total = e->n - (b - a) + n;
    if (total > BP_MAX_NODES || total < 1)
        return -1;
    bp_expr t = *e;
    memcpy(t.node + a, sub, (size_t)n * sizeof *sub);
    memcpy(t.node + a + n, e->node + b, (size_t)(e->n - b) * sizeof *sub);
    t.n = total;
    if (bp_depth(&t) > BP_MAX_DEPTH)
        return -1;
    *e = t;
    return 0;
}

int bp_mut_subtree(bp_expr *e, rt_rng *rng)
{
    bp_node sub[BP_MAX_NODES];
    int a = (int)rt_rng_below(rng, (uint32_t)e->n), b = bp_subtree_end(e, a);
    int n = random_tree(sub, BP_MAX_NODES, 1 + (int)rt_rng_below(rng, 3), rng);
    return n < 0 ? -1 : splice(e, a, b, sub, n);
}

int bp_mut_point(bp_expr *e, rt_rng *rng)
{
    int i = (int)rt_rng_below(rng, (uint32_t)e->n), ar = bp_arity(e->node[i].op);
    int lo = ar == 0 ? BP_S : ar == 1 ? BP_NEG : ar == 2 ? BP_ADD : BP_IF;
    int hi = ar == 0 ? BP_CONST : ar == 1 ? BP_SQ : ar == 2 ? BP_LT : BP_IF;
    if (lo == hi)
        return -1;
    int op = lo + (int)rt_rng_below(rng, (uint32_t)(hi - lo + 1));
    if (ar == 0) /* a GP terminal or a constant */
        op = rt_rng_below(rng, GP_NTERMINALS + 1) == 0 ? BP_CONST
                                                       : gp_terminals[rt_rng_below(rng, GP_NTERMINALS)];
    if (op == e->node[i].op)
        return -1;
    e->node[i].op = (uint8_t)op;
    e->node[i].value = op == BP_CONST ? typical[rt_rng_below(rng, 8)] : 0;
    return 0;
}

/* A standard normal draw (Box-Muller). */
static double gauss(rt_rng *rng)
{
    double u1 = rt_rng_unit(rng), u2 = rt_rng_unit(rng);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

/* v rounded to 4 significant digits (keeps texts short and readable). */
static double round4(double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.4g", v);
    double r = strtod(buf, NULL);
    return isfinite(r) && r != 0 ? r : 0;
}

int bp_mut_const(bp_expr *e, rt_rng *rng)
{
    int idx[BP_MAX_NODES], n = 0;
    for (int i = 0; i < e->n; i++)
        if (e->node[i].op == BP_CONST)
            idx[n++] = i;
    if (n == 0)
        return -1;
    bp_node *nd = &e->node[idx[rt_rng_below(rng, (uint32_t)n)]];
    double v = nd->value, g = gauss(rng);
    double nv = rt_rng_below(rng, 2) ? v * exp(0.3 * g) : v + g;
    nv = round4(nv);
    if (nv == v)
        return -1;
    nd->value = nv;
    return 0;
}

int bp_mut_addterm(bp_expr *e, rt_rng *rng)
{
    bp_node sub[BP_MAX_NODES];
    sub[0].op = BP_ADD;
    sub[0].value = 0;
    memcpy(sub + 1, e->node, (size_t)e->n * sizeof *sub);
    int n = 1 + e->n;
    if (n + 2 > BP_MAX_NODES)
        return -1;
    sub[n].op = BP_MUL;
    sub[n].value = 0;
    sub[n + 1].op = BP_CONST;
    sub[n + 1].value = round4((rt_rng_below(rng, 2) ? 1 : -1) * 0.1 * exp(2 * gauss(rng)));
    n += 2;
    int m = random_tree(sub + n, BP_MAX_NODES - n, 1 + (int)rt_rng_below(rng, 2), rng);
    if (m < 0)
        return -1;
    return splice(e, 0, e->n, sub, n + m);
}

int bp_crossover(bp_expr *e, const bp_expr *donor, rt_rng *rng)
{
    int a = (int)rt_rng_below(rng, (uint32_t)e->n), b = bp_subtree_end(e, a);
    int da = (int)rt_rng_below(rng, (uint32_t)donor->n), db = bp_subtree_end(donor, da);
    return splice(e, a, b, donor->node + da, db - da);
}

/* ---- simplification ---------------------------------------------------------------------- */

static int is_const(const bp_node *nd, double v) { return nd->op == BP_CONST && nd->value == v; }

/* Simplifies the subtree at src[*i] into dst (appending); returns its root index in dst. */
static int simp(const bp_expr *src, int *i, bp_expr *dst)
{
    int root = dst->n, op = src->node[*i].op;
    dst->node[dst->n++] = src->node[(*i)++];
    int arg[3] = {0, 0, 0}, allconst = 1;
    for (int k = 0; k < bp_arity(op); k++) {
        arg[k] = simp(src, i, dst);
        allconst &= dst->node[arg[k]].op == BP_CONST;
    }
    if (bp_arity(op) == 0)
        return root;
    const bp_node *a = &dst->node[arg[0]], *b = &dst->node[arg[1]];
    int keep = -1; /* the argument the node reduces to */
    if (allconst) {
        double v = bp_apply_op(op, a->value, bp_arity(op) > 1 ? b->value : 0,
                               bp_arity(op) > 2 ? dst->node[arg[2]].value : 0);
        if (isfinite(v)) {
            dst->n = root + 1;
            dst->node[root].op = BP_CONST;
            dst->node[root].value = v == 0 ? 0 : v;
            return root;
        }
    }
    if ((op == BP_ADD && is_const(a, 0)) || (op == BP_MUL && is_const(a, 1)))
        keep = 1;
    else if (((op == BP_ADD || op == BP_SUB) && is_const(b, 0)) ||
             ((op == BP_MUL || op == BP_DIV) && is_const(b, 1)))
        keep = 0;
    else if (op == BP_IF && a->op == BP_CONST)
        keep = a->value > 0 ? 1 : 2;
    else if (op == BP_NEG && a->op == BP_NEG)
        keep = 3; /* the grandchild */
    if (keep < 0)
        return root;
    int from = keep == 3 ? arg[0] + 1 : arg[keep];
    int end = bp_subtree_end(dst, from);
    memmove(dst->node + root, dst->node + from, (size_t)(end - from) * sizeof dst->node[0]);
    dst->n = root + (end - from);
    return root;
}

int bp_equal(const bp_expr *a, const bp_expr *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (a->node[i].op != b->node[i].op ||
            (a->node[i].op == BP_CONST && a->node[i].value != b->node[i].value))
            return 0;
    return 1;
}

int bp_simplify(bp_expr *e)
{
    bp_expr out;
    out.n = 0;
    int i = 0;
    simp(e, &i, &out);
    if (bp_equal(&out, e))
        return -1;
    *e = out;
    return 0;
}
