/* bp_export.c — a priority expression as a C function or a FunSearch-style Python function
 * (bp_export.h). */
#include "problems/binpack/bp_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const c_var[BP_NTERMINALS] = {"s", "r", "c", "f", "e", "k", "m"};
static const char *const py_var[BP_NTERMINALS] = {"s", "r", "c", "f", "e", "k", "m"};

static int emit(const bp_expr *e, int *i, int py, rt_buf *out);

static int emit_args(const bp_expr *e, int *i, int py, int n, rt_buf *out)
{
    int rc = 0;
    for (int k = 0; !rc && k < n; k++) {
        if (k)
            rc = rt_buf_puts(out, ", ");
        if (!rc)
            rc = emit(e, i, py, out);
    }
    return rc ? rc : rt_buf_puts(out, ")");
}

static const char *fn_name(int op, int py)
{
    static const char *const c_fn[BP_NOPS] = {
        [BP_NEG] = "-(", [BP_ABS] = "fabs(", [BP_SQRT] = "sqrt(fabs(", [BP_LOG] = "log(1.0 + fabs(",
        [BP_EXP] = "exp(", [BP_SQ] = "bp_sq(", [BP_DIV] = "bp_div(", [BP_MIN] = "bp_min(",
        [BP_MAX] = "bp_max(", [BP_LT] = "bp_lt(", [BP_IF] = "bp_if("};
    static const char *const py_fn[BP_NOPS] = {
        [BP_NEG] = "-(", [BP_ABS] = "np.abs(", [BP_SQRT] = "np.sqrt(np.abs(",
        [BP_LOG] = "np.log(1.0 + np.abs(", [BP_EXP] = "np.exp(", [BP_SQ] = "np.square(",
        [BP_DIV] = "_div(", [BP_MIN] = "_min(", [BP_MAX] = "_max(", [BP_LT] = "_lt(",
        [BP_IF] = "np.where(0 < "};
    return py ? py_fn[op] : c_fn[op];
}

static int emit(const bp_expr *e, int *i, int py, rt_buf *out)
{
    const bp_node *nd = &e->node[(*i)++];
    if (nd->op == BP_CONST)
        return rt_buf_printf(out, "%.17g", nd->value);
    if (nd->op < BP_NTERMINALS)
        return rt_buf_puts(out, py ? py_var[nd->op] : c_var[nd->op]);
    if (nd->op >= BP_ADD && nd->op <= BP_MUL) {
        const char *sym = nd->op == BP_ADD ? " + " : nd->op == BP_SUB ? " - " : " * ";
        int rc = rt_buf_puts(out, "(");
        if (!rc)
            rc = emit(e, i, py, out);
        if (!rc)
            rc = rt_buf_puts(out, sym);
        if (!rc)
            rc = emit(e, i, py, out);
        return rc ? rc : rt_buf_puts(out, ")");
    }
    int rc = rt_buf_puts(out, fn_name(nd->op, py));
    if (!rc)
        rc = emit_args(e, i, py, bp_arity(nd->op), out);
    if (!rc && (nd->op == BP_SQRT || nd->op == BP_LOG))
        rc = rt_buf_puts(out, ")");
    return rc;
}

static const char c_head[] =
    "/* Online bin packing priority, exported by ratchet (docs/coevolution.md).\n"
    " * Expression: %s\n"
    " * Arguments as plain numbers: s item size, r the bin's remaining capacity, c capacity,\n"
    " * e 1 for a fresh bin, k open bins, m mean size of the items seen so far (this one\n"
    " * included); the expression sees s, r, r - s and m as fractions of c. The item goes to the\n"
    " * bin of highest priority among those it fits (ties to the earliest bin, the fresh bin\n"
    " * last; NaN counts as -infinity). */\n"
    "#include <math.h>\n\n"
    "static inline double bp_sq(double a) { return a * a; }\n"
    "static inline double bp_div(double a, double b) { return b == 0 ? 0.0 : a / b; }\n"
    "static inline double bp_min(double a, double b) { return a < b ? a : b; }\n"
    "static inline double bp_max(double a, double b) { return a > b ? a : b; }\n"
    "static inline double bp_lt(double a, double b) { return a < b ? 1.0 : 0.0; }\n"
    "static inline double bp_if(double a, double b, double c) { return a > 0 ? b : c; }\n\n"
    "double priority(double s, double r, double c, double e, double k, double m)\n"
    "{\n"
    "    const double f = (r - s) / c;\n"
    "    s = s / c;\n"
    "    r = r / c;\n"
    "    m = m / c;\n"
    "    (void)s, (void)r, (void)c, (void)e, (void)k, (void)m, (void)f;\n"
    "    return ";

static const char py_head[] =
    "# Online bin packing priority, exported by ratchet (docs/coevolution.md).\n"
    "# Expression: %s\n"
    "import numpy as np\n\n\n"
    "def _div(a, b):\n"
    "    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))\n"
    "    return np.where(b != 0, a / np.where(b != 0, b, 1.0), 0.0)\n\n\n"
    "def _min(a, b):\n"
    "    return np.where(a < b, a, b)\n\n\n"
    "def _max(a, b):\n"
    "    return np.where(a > b, a, b)\n\n\n"
    "def _lt(a, b):\n"
    "    return np.where(a < b, 1.0, 0.0)\n\n\n"
    "def priority(item: float, bins: np.ndarray, capacity: float = %d,\n"
    "             open_bins: float = 0.0, mean_size: float = None) -> np.ndarray:\n"
    "    \"\"\"Priority of each bin in `bins` (remaining capacities of the bins the item fits;\n"
    "    a bin with the whole capacity left is a fresh one), as FunSearch's harness calls it.\n"
    "    open_bins and mean_size are the aggregates k and m (pass them if the expression\n"
    "    uses them; mean_size defaults to the item size).\"\"\"\n"
    "    c = float(capacity)\n"
    "    b = np.asarray(bins, dtype=float)\n"
    "    e = np.where(b == c, 1.0, 0.0)\n"
    "    f = (b - float(item)) / c  # s, r, f and m as fractions of the capacity\n"
    "    s = float(item) / c\n"
    "    r = b / c\n"
    "    k = float(open_bins)\n"
    "    m = (float(item) if mean_size is None else float(mean_size)) / c\n"
    "    with np.errstate(all='ignore'):\n"
    "        p = ";

int bp_export(const bp_expr *e, const char *text, int python, int capacity, rt_buf *out)
{
    int rc = python ? rt_buf_printf(out, py_head, text, capacity)
                    : rt_buf_printf(out, c_head, text);
    int i = 0;
    if (!rc)
        rc = emit(e, &i, python, out);
    if (rc)
        return rc;
    if (python)
        return rt_buf_puts(out, "\n    p = np.broadcast_to(np.asarray(p, dtype=float), "
                                "r.shape).copy()\n"
                                "    p[np.isnan(p)] = -np.inf\n"
                                "    return p\n");
    return rt_buf_puts(out, ";\n}\n");
}
