/* bp_export.h — a priority expression as source code others can run: a C function
 * `double priority(s, r, c, e, k, m)` or a FunSearch-style Python `priority(item, bins)` over
 * NumPy arrays. Both compute exactly the expression's semantics (bp_expr.h). */
#ifndef BP_EXPORT_H
#define BP_EXPORT_H

#include "problems/binpack/bp_expr.h"

/* Appends the source to out; text is the canonical expression (quoted in a comment), capacity
 * the Python function's default capacity. RT_ENOMEM / RT_ETOOBIG. */
int bp_export(const bp_expr *e, const char *text, int python, int capacity, rt_buf *out);

#endif
