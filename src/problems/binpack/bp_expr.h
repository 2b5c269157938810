/* bp_expr.h — the binpack problem's priority expressions: parser, canonical printer, compiler to
 * postfix bytecode, the bytecode evaluator, and the genetic-programming edits on them.
 *
 * A priority function is an S-expression (docs/coevolution.md, "The expression language"):
 *
 *     (- (neg f) (* 0.5 (< f 3)))
 *
 * Terminals: s (item size), r (the bin's remaining capacity), f (r - s, the slack left after
 * placing), m (mean size of the items seen so far, this one included), all four as fractions of
 * the capacity, so that a function means the same at any capacity; c (the capacity itself), e (1
 * for the fresh bin, 0 for an open one), k (open bins), and numeric constants. Operators: neg abs sqrt log
 * exp sq (one argument); + - * / min max < (two); if (three: b when a > 0, else c). Every
 * operator is total: / by zero is 0, sqrt and log take |x| (log(1 + |x|)), < is 1 or 0.
 *
 * A parsed expression is a prefix array of nodes (a subtree is a contiguous range), so genetic
 * operators are splices. This module is the search's side; the verifier (bp_check.c) has its
 * own parser and evaluator.
 */
#ifndef BP_EXPR_H
#define BP_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "util.h"

#define BP_MAX_NODES 160  /* nodes in an expression */
#define BP_MAX_DEPTH 32   /* nesting */
#define BP_MAX_TEXT 16384 /* bytes of text */

enum bp_op {
    /* terminals */
    BP_S, BP_R, BP_C, BP_F, BP_E, BP_K, BP_M, BP_CONST,
    /* one argument */
    BP_NEG, BP_ABS, BP_SQRT, BP_LOG, BP_EXP, BP_SQ,
    /* two */
    BP_ADD, BP_SUB, BP_MUL, BP_DIV, BP_MIN, BP_MAX, BP_LT,
    /* three */
    BP_IF,
    BP_NOPS
};

#define BP_NTERMINALS 7 /* BP_S .. BP_M */

typedef struct bp_node {
    uint8_t op;
    double value; /* BP_CONST */
} bp_node;

typedef struct bp_expr {
    int n;
    bp_node node[BP_MAX_NODES];
} bp_expr;

/* The inputs of one priority evaluation. */
typedef struct bp_inputs {
    double s, r, c, f, e, k, m;
} bp_inputs;

/* Compiled: postfix code with constants inline (ops and constant slots in one array). */
typedef struct bp_prog {
    int n;
    uint8_t op[BP_MAX_NODES];
    double value[BP_MAX_NODES];
} bp_prog;

int bp_arity(int op);
const char *bp_op_name(int op);

/* Parses text (len bytes; whitespace between tokens is free, ';' starts a comment to the end of
 * the line). 0, or RT_EUSAGE / RT_ETOOBIG with err naming the line and column. */
int bp_parse(const char *text, size_t len, bp_expr *out, char *err, size_t errlen);
/* Canonical text: "(op a b)" with single spaces, constants in the shortest form that reads
 * back to the same double, no final newline. RT_ENOMEM. */
int bp_print(const bp_expr *e, rt_buf *out);
/* End of the subtree starting at node i (one past its last node). */
int bp_subtree_end(const bp_expr *e, int i);
/* Depth of the whole expression (a terminal: 1). */
int bp_depth(const bp_expr *e);
/* Bit t set when terminal t (BP_S .. BP_M) occurs. */
unsigned bp_terminals_used(const bp_expr *e);

/* 1 when a and b are the same expression. */
int bp_equal(const bp_expr *a, const bp_expr *b);

void bp_compile(const bp_expr *e, bp_prog *out);
double bp_eval(const bp_prog *p, const bp_inputs *in);
/* The semantics of one operator on its arguments (shared by the compiled evaluator and the
 * simplifier; the verifier has its own copy). */
double bp_apply_op(int op, double a, double b, double c);

/* ---- genetic programming: each returns 0, or -1 when it could not apply (the result would be
 * over the caps, or nothing changed); e is unchanged on -1. ---- */

/* Replaces a random subtree with a random tree of depth at most 3. */
int bp_mut_subtree(bp_expr *e, rt_rng *rng);
/* Changes one node to another of the same arity (a terminal to a terminal or a constant). */
int bp_mut_point(bp_expr *e, rt_rng *rng);
/* Perturbs one constant (or turns a terminal into a constant near a typical value). */
int bp_mut_const(bp_expr *e, rt_rng *rng);
/* Adds a small random term: e becomes (+ e (* K t)) for a random tree t. */
int bp_mut_addterm(bp_expr *e, rt_rng *rng);
/* Replaces a random subtree of e with a random subtree of donor. */
int bp_crossover(bp_expr *e, const bp_expr *donor, rt_rng *rng);
/* Constant folding and identities (x+0, x*1, x*0, neg neg x, min x x, ...). */
int bp_simplify(bp_expr *e);

#endif
