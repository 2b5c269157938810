/* matmul.c — the matmul problem: discover schemes for multiplying an n x m matrix by an m x p
 * matrix with few multiplications, over the integers or GF(2).
 *
 * Search: packed schemes and flip-graph walks (matmul_search.c), starting from the standard
 * algorithm. Gate: the canonical .exp text, parsed and checked against the Brent equations by
 * matmul_plain.c, which shares no code with the search.
 *
 * Score: rank (fewer products is better), ties broken by the number of nonzero coefficients
 * (fewer is better: a sparser scheme needs fewer additions). Features for MAP-Elites: the rank and
 * the mean number of nonzero coefficients per product in half units, so that the archive keeps
 * dense and sparse schemes of each rank apart: flips from a sparse scheme and from a dense one
 * reach different parts of the flip graph.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"
#include "problem.h"
#include "problems/matmul/matmul_lift.h"
#include "problems/matmul/matmul_pack.h"
#include "problems/matmul/matmul_cert.h"
#include "problems/matmul/matmul_plain.h"
#include "problems/matmul/matmul_policy.h"
#include "problems/matmul/matmul_proxy.h"
#include "problems/matmul/matmul_search.h"
#include "problems/matmul/matmul_strategy.h"
#include "problems/matmul/matmul_sym.h"
#include "problems/matmul/matmul_walk.h"

/* The portfolio's strategies (docs/recursion.md), in the order of pf_operators. */
enum {
    PF_WALK,
    PF_PLUS,
    PF_LIFT,
    PF_RESTART,
    PF_SYM,
    PF_TWIN,
    PF_SYMLONG,
    PF_SPLIT,
    PF_CUBE,
    PF_COUNT
};

/* One strategy as the run's shape and policy make it. */
typedef struct mm_strategy_cfg {
    int applies;        /* the shape and field allow it (lift: over Z, small enough; symmetric:
                           square) */
    enum mm_field field; /* the field its walks are over */
    int sym;            /* 1: a symmetric run (sym_cfg), else a plain one (walk_cfg) */
    mm_walk_cfg walk_cfg;
    mm_sym_cfg sym_cfg;
} mm_strategy_cfg;

typedef struct matmul_state {
    int n, m, p;
    enum mm_field field;     /* the search's field: GF(2) with --lift 1 */
    rt_matmul_policy pol;    /* the run's policy section (defaults until configure) */
    long long walk_override; /* --walk N: walk_flips, whatever the policy says (0: none) */
    int lift;                /* --lift 1: the search walks over GF(2), the gate checks lifts */
    int proxy_sampled;       /* --proxy sampled: the cheap proxy of matmul_proxy.h */
    int symmetric;           /* 1: cyclically symmetric schemes only (matmul_sym.h); 2: also
                                invariant under the twin involution g (six-product orbits) */
    int cubes;               /* symmetric start: diagonal blocks; 0 until configured */
    int portfolio;           /* 1: no --symmetric, --lift or --proxy sampled: the strategies of
                                pf_operators, mixed by the engine's bandit */
    mm_strategy_cfg strat[PF_COUNT];
    rt_operator ops[PF_COUNT]; /* the strategies that apply and have a positive weight */
    size_t nops;
    char params[160];
} matmul_state;

static int parse_shape(const char *v, int *n, int *m, int *p)
{
    int dims[3];
    const char *s = v;
    for (int i = 0; i < 3; i++) {
        if (*s < '0' || *s > '9')
            return -1;
        long d = 0;
        while (*s >= '0' && *s <= '9') {
            d = d * 10 + (*s - '0');
            if (d > 1000)
                return -1;
            s++;
        }
        dims[i] = (int)d;
        if (i < 2) {
            if (*s != 'x' && *s != 'X')
                return -1;
            s++;
        }
    }
    if (*s)
        return -1;
    *n = dims[0];
    *m = dims[1];
    *p = dims[2];
    return 0;
}

static int shape_param(void *state, const char *v, char *err, size_t errlen)
{
    matmul_state *st = state;
    if (parse_shape(v, &st->n, &st->m, &st->p))
        return rt_fail(err, errlen, RT_EUSAGE,
                       "bad --shape '%s': expected NxMxP, for example 3x3x3", v);
    if (st->n < 1 || st->m < 1 || st->p < 1 || st->n > MM_MAX_DIM || st->m > MM_MAX_DIM ||
        st->p > MM_MAX_DIM)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "bad --shape '%s': each dimension must be between 1 and %d", v,
                       MM_MAX_DIM);
    return 0;
}

static const rt_param_choice field_choices[] = {
    {"gf2", MM_GF2}, {"z", MM_Z}, {"GF2", MM_GF2}, {"Z", MM_Z}, {NULL, 0}};
static const rt_param_choice lift_choices[] = {{"0", 0}, {"1", 1}, {NULL, 0}};
static const rt_param_choice proxy_choices[] = {{"exact", 0}, {"sampled", 1}, {NULL, 0}};

/* The parameters, in the order of the help text (docs/matmul.md). */
static const rt_param matmul_rows[] = {
    {.name = "shape", .type = RT_PARAM_CUSTOM, .parse = shape_param, .flags = RT_PARAM_REQUIRED,
     .metavar = "NxMxP", .help = "the product of an NxM and an MxP matrix, each 1..8 (required)"},
    {.name = "field", .type = RT_PARAM_CHOICE, RT_PARAM_AT(matmul_state, field),
     .choices = field_choices, .def = "z", .metavar = "F",
     .help = "gf2 or z (the integers; default)"},
    {.name = "walk", .flags = RT_PARAM_SEARCH, .type = RT_PARAM_INT, RT_PARAM_AT(matmul_state, walk_override), .lo = 1,
     .hi = 1000000000, .unit = "flips per step", .metavar = "N",
     .help = "flips budget of one walker run (default: by the rule of the\n"
             "shape, docs/recursion.md; with --lift: matmul.walk_flips,\n"
             "with --symmetric: sym_walk_flips)"},
    {.name = "lift", .flags = RT_PARAM_SEARCH, .type = RT_PARAM_CHOICE, RT_PARAM_AT(matmul_state, lift),
     .choices = lift_choices, .metavar = "1",
     .help = "with --field z: search over GF(2), admit integer lifts\n"
             "(instead of the default portfolio of strategies)"},
    {.name = "symmetric", .flags = RT_PARAM_SEARCH, .type = RT_PARAM_INT, RT_PARAM_AT(matmul_state, symmetric), .lo = 0,
     .hi = 2, .expected = "0, 1 or 2", .metavar = "1",
     .help = "only schemes invariant under (A,B,C) -> (B,C,A), square\n"
             "shapes (docs/matmul-symmetric.md); 2: also under the\n"
             "index swap (0 1)(2 3)... (six-product orbits); instead of\n"
             "the default portfolio of strategies"},
    {.name = "cubes", .flags = RT_PARAM_SEARCH, .type = RT_PARAM_INT, RT_PARAM_AT(matmul_state, cubes), .lo = 1,
     .hi = MM_MAX_DIM, .metavar = "K",
     .help = "symmetric start with K cube products (default by n)"},
    {.name = "proxy", .flags = RT_PARAM_SEARCH, .type = RT_PARAM_CHOICE, RT_PARAM_AT(matmul_state, proxy_sampled),
     .choices = proxy_choices, .metavar = "P",
     .help = "exact (default) or sampled: a cheap proxy that checks a few\n"
             "random products and can be wrong (for the --trust-proxy\n"
             "ablation; it also lets the search drop and perturb)"},
};

static const rt_param_table matmul_table = {
    .owner = "matmul",
    .rows = matmul_rows,
    .nrows = sizeof matmul_rows / sizeof matmul_rows[0],
    .column = 19,
    .list_unknown = 1,
    .missing = "matmul needs --shape NxMxP, for example 3x3x3",
};

RT_PARAM_HELP_TEXT(matmul_help, matmul_table)

/* With --symmetric 2, names the block counts that keep the twin's index pairs together. */
static int twin_blocks_error(const matmul_state *st, int parts, char *err, size_t errlen)
{
    char ok[64] = "";
    size_t used = 0;
    for (int k = 1; k <= st->n; k++) {
        if (!mm_sym_twin_blocks_ok(st->n, k))
            continue;
        int w = snprintf(ok + used, sizeof ok - used, "%s%d", used ? ", " : "", k);
        if (w > 0 && (size_t)w < sizeof ok - used)
            used += (size_t)w;
    }
    return rt_fail(err, errlen, RT_EUSAGE,
                   "bad --symmetric 2 with %d cubes: the diagonal blocks of <%d,%d,%d> must "
                   "keep the index pairs (0,1), (2,3), ... together (--cubes %s)",
                   parts, st->n, st->n, st->n, used ? ok : "none");
}

/* The checks that combine parameters; with --lift 1 the search's field becomes GF(2). */
static int check_combinations(matmul_state *st, char *err, size_t errlen)
{
    if (st->lift && st->field != MM_Z)
        return rt_fail(err, errlen, RT_EUSAGE, "--lift 1 needs --field z (it lifts GF(2) schemes)");
    if (st->lift && !mm_lift_fits(st->n, st->m, st->p, st->n * st->m * st->p))
        return rt_fail(err, errlen, RT_EUSAGE, "--lift 1: shape %dx%dx%d is too large to lift "
                       "(the linear system would pass %zu MiB)", st->n, st->m, st->p,
                       MM_LIFT_MAX_BYTES >> 20);
    if (st->lift && st->proxy_sampled)
        return rt_fail(err, errlen, RT_EUSAGE, "--lift 1 and --proxy sampled do not combine");
    if (st->lift)
        st->field = MM_GF2; /* the search's field; the gate's stays z (gate_field) */
    if (st->symmetric && (st->n != st->m || st->m != st->p))
        return rt_fail(err, errlen, RT_EUSAGE,
                       "bad --symmetric %d: symmetric search needs a square shape, not %dx%dx%d",
                       st->symmetric, st->n, st->m, st->p);
    if (st->cubes > st->n)
        return rt_fail(err, errlen, RT_EUSAGE, "bad --cubes %d: at most n = %d blocks",
                       st->cubes, st->n);
    if (st->cubes && !st->symmetric)
        return rt_fail(err, errlen, RT_EUSAGE, "--cubes needs --symmetric 1 or 2");
    if (st->symmetric && st->proxy_sampled)
        return rt_fail(err, errlen, RT_EUSAGE, "--symmetric and --proxy sampled do not combine");
    int parts = st->cubes ? st->cubes : mm_sym_default_parts(st->n);
    if (st->symmetric == 2 && !mm_sym_twin_blocks_ok(st->n, parts))
        return twin_blocks_error(st, parts, err, errlen);
    return 0;
}

/* The name of the field results are verified over (z with --lift 1, whose walks are over
 * GF(2)): the stored parameters' field and the field of the shipped default's scopes. Called
 * before check_combinations too, when st->field is still the one asked for. */
static const char *matmul_scope_field(const void *state)
{
    const matmul_state *st = state;
    return st->lift || st->field == MM_Z ? "z" : "gf2";
}

/* Writes the canonical parameter string (stored with a run: its keys, order and number formats
 * are a stored format, and a resumed run compares it byte for byte). walk is part of it only
 * when given (otherwise the run's policy says). */
static void write_params(matmul_state *st)
{
    int len = snprintf(st->params, sizeof st->params, "shape=%dx%dx%d field=%s", st->n, st->m,
                       st->p, matmul_scope_field(st));
    if (st->walk_override && len > 0 && (size_t)len < sizeof st->params)
        len += snprintf(st->params + len, sizeof st->params - (size_t)len, " walk=%lld",
                        st->walk_override);
    if (st->lift && len > 0 && (size_t)len < sizeof st->params)
        len += snprintf(st->params + len, sizeof st->params - (size_t)len, " lift=1");
    if (st->proxy_sampled && len > 0 && (size_t)len < sizeof st->params)
        len += snprintf(st->params + len, sizeof st->params - (size_t)len, " proxy=sampled");
    if (st->symmetric && len > 0 && (size_t)len < sizeof st->params) {
        if (st->cubes)
            snprintf(st->params + len, sizeof st->params - (size_t)len, " symmetric=%d cubes=%d",
                     st->symmetric, st->cubes);
        else
            snprintf(st->params + len, sizeof st->params - (size_t)len, " symmetric=%d",
                     st->symmetric);
    }
}

static int pf_build(matmul_state *st, char *err, size_t errlen);

/* The scope size of the shipped default's layers (policy/default.json): n*m*p. */
static long matmul_scope_size(const void *state)
{
    const matmul_state *st = state;
    return (long)st->n * st->m * st->p;
}

static int matmul_create(void **out, const char *const *keys, const char *const *values,
                         size_t nparams, char *err, size_t errlen)
{
    matmul_state *st = calloc(1, sizeof *st);
    if (!st)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    int rc = rt_param_apply(&matmul_table, st, keys, values, nparams, err, errlen);
    if (!rc) {
        /* the default for this shape (a layer of policy/default.json may not hold it) */
        rt_policy defaults;
        rt_policy_defaults_for(&defaults, "matmul", matmul_scope_size(st),
                               matmul_scope_field(st));
        st->pol = *mm_policy(&defaults);
        rc = check_combinations(st, err, errlen);
    }
    if (rc) {
        free(st);
        return rc;
    }
    if (st->walk_override)
        st->pol.walk_flips = st->walk_override;
    st->portfolio = !st->symmetric && !st->lift && !st->proxy_sampled;
    if (st->portfolio && (rc = pf_build(st, err, errlen))) {
        free(st);
        return rc;
    }
    write_params(st);
    *out = st;
    return 0;
}

static void matmul_destroy(void *state) { free(state); }

/* The field the gate checks: the integers with --lift 1, else the search's. */
static enum mm_field gate_field(const matmul_state *st)
{
    return st->lift ? MM_Z : st->field;
}

/* A GF(2) scheme in a run over Z (--lift 1, the portfolio's GF(2) walks) is written, verified
 * and claimed as its lift (matmul_encode, matmul_score). */
static int written_as_lift(const matmul_state *st, const mm_scheme *s)
{
    return gate_field(st) == MM_Z && s->field == MM_GF2;
}

/* One length of the rule of the shape (matmul_strategy.h): value * (n*m*p/64)^exponent, an error
 * naming the knob when it is below one flip. */
static int rule_length(const matmul_state *st, double value, const char *key, double exponent,
                       const char *expkey, long long *out, char *err, size_t errlen)
{
    *out = mm_rule_length(value, st->n, st->m, st->p, exponent);
    if (*out < 1)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "policy: %s %g gives a length below one flip for %dx%dx%d (the rule is "
                       "%s * (n*m*p/64)^%s, %s %g)",
                       key, value, st->n, st->m, st->p, key, expkey, expkey, exponent);
    return 0;
}

/* The weight of strategy k in the run's policy (matmul.op_<name>). */
static double pf_weight(const rt_matmul_policy *pol, int k)
{
    const double w[PF_COUNT] = {pol->op_walk,    pol->op_plus,  pol->op_lift,
                                pol->op_restart, pol->op_sym,   pol->op_twin,
                                pol->op_symlong, pol->op_split, pol->op_cube};
    return w[k];
}

static const rt_operator pf_operators[PF_COUNT];

/* The portfolio's operators: the strategies that apply to the shape and have a positive weight;
 * an error naming their weight knobs when there is none. */
static int pf_choose(matmul_state *st, char *err, size_t errlen)
{
    char keys[256] = "";
    size_t used = 0;
    st->nops = 0;
    for (int k = 0; k < PF_COUNT; k++) {
        if (!st->strat[k].applies)
            continue;
        int w = snprintf(keys + used, sizeof keys - used, "%smatmul.op_%s", used ? ", " : "",
                         pf_operators[k].name);
        if (w > 0 && (size_t)w < sizeof keys - used)
            used += (size_t)w;
        if (pf_weight(&st->pol, k) > 0)
            st->ops[st->nops++] = pf_operators[k];
    }
    if (st->nops == 0)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "policy: the weights of the strategies for %dx%dx%d (%s) sum to zero",
                       st->n, st->m, st->p, keys);
    return 0;
}

/* The policy's knobs of a symmetric search, shared by the portfolio and the --symmetric mode. */
static mm_sym_cfg sym_knobs(const rt_matmul_policy *pol)
{
    mm_sym_cfg c = {0};
    c.plateau = pol->sym_plateau_flips;
    c.escape_prob = pol->escape_prob;
    c.max_escapes = pol->max_escapes;
    c.stop_on_improve = pol->stop_on_improve;
    c.headroom = pol->sym_headroom;
    c.max_size = pol->sym_max_size;
    c.beta = pol->sym_beta;
    return c;
}

/* The cube products of a fresh symmetric start of side n: matmul.sym_cubes where it fits,
 * else the residue rule. */
static int sym_parts(const rt_matmul_policy *pol, int n)
{
    return pol->sym_cubes >= 1 && pol->sym_cubes <= n ? pol->sym_cubes : mm_sym_default_parts(n);
}

/* The symmetric strategies' configuration before its flips, field and kind. */
static mm_sym_cfg pf_sym_base(const matmul_state *st)
{
    const rt_matmul_policy *pol = &st->pol;
    mm_sym_cfg c = sym_knobs(pol);
    c.parts = sym_parts(pol, st->n);
    c.fresh = 1;
    c.lifts_pay = pol->pf_lifts_pay;
    return c;
}

/* Builds every strategy's configuration from the policy and the shape (docs/recursion.md): the
 * lengths by the rule, GF(2) walks that must lift for the run over Z where a lift fits. */
static int pf_build(matmul_state *st, char *err, size_t errlen)
{
    const rt_matmul_policy *pol = &st->pol;
    long long walk, plat, rflips, rplat, sym, symlong;
    int rc;
    if ((rc = rule_length(st, pol->pf_walk_flips, "matmul.pf_walk_flips", pol->flips_exp,
                          "matmul.flips_exp", &walk, err, errlen)) ||
        (rc = rule_length(st, pol->pf_plateau, "matmul.pf_plateau", pol->plateau_exp,
                          "matmul.plateau_exp", &plat, err, errlen)) ||
        (rc = rule_length(st, pol->pf_restart_flips, "matmul.pf_restart_flips", pol->flips_exp,
                          "matmul.flips_exp", &rflips, err, errlen)) ||
        (rc = rule_length(st, pol->pf_restart_plateau, "matmul.pf_restart_plateau",
                          pol->plateau_exp, "matmul.plateau_exp", &rplat, err, errlen)) ||
        (rc = rule_length(st, pol->pf_sym_flips, "matmul.pf_sym_flips", pol->flips_exp,
                          "matmul.flips_exp", &sym, err, errlen)) ||
        (rc = rule_length(st, pol->pf_symlong_flips, "matmul.pf_symlong_flips", pol->flips_exp,
                          "matmul.flips_exp", &symlong, err, errlen)))
        return rc;
    if (st->walk_override)
        walk = rflips = sym = symlong = st->walk_override;
    int square = st->n == st->m && st->m == st->p && st->n >= 2;
    int lift_ok = st->field == MM_Z && mm_lift_fits(st->n, st->m, st->p, st->n * st->m * st->p);
    enum mm_field gf = lift_ok ? MM_GF2 : st->field;
    mm_walk_cfg w = {walk,       plat,          pol->plateau_min, pol->plus_drift,
                     pol->escape_prob, pol->max_escapes, pol->restart_prob,
                     pol->stop_on_improve, 0, pol->pf_lifts_pay, 0, 0, 0, {0}};
    mm_walk_cfg lift = w, restart = {rflips, rplat, rplat / 20, pol->restart_drift, 1.0,
                                     pol->max_escapes, 1.0, 1, lift_ok, pol->pf_lifts_pay, 0, 0, 0,
                                     {0}};
    lift.need_lift = 1;
    mm_walk_cfg split = restart;
    split.split = MM_SPLIT_CUT;
    split.flips_exp = pol->flips_exp;
    split.plateau_exp = pol->plateau_exp;
    mm_sym_cfg cyc = pf_sym_base(st), twin = cyc, longrun = cyc;
    cyc.flips = twin.flips = sym;
    /* cube: split's lengths, its cube descended as a cyclic run of the cube's own size */
    int k = mm_cube_side(st->n, st->m, st->p);
    mm_walk_cfg cube = split;
    cube.split = MM_SPLIT_CUBE;
    cube.cube = pf_sym_base(st);
    cube.cube.parts = sym_parts(pol, k);
    cube.cube.flips = mm_rule_length(pol->pf_sym_flips, k, k, k, pol->flips_exp);
    cube.cube.stop_on_improve = 0;
    if (cube.cube.flips < 1) /* the knob is checked at the shape's size above; the cube is less */
        cube.cube.flips = 1;
    twin.twin = 1;
    longrun.flips = symlong;
    longrun.stop_on_improve = 0;
    longrun.need_lift = lift_ok;
    int twin_ok = square && mm_sym_twin_blocks_ok(st->n, twin.parts);
    st->strat[PF_WALK] = (mm_strategy_cfg){1, st->field, 0, w, {0}};
    st->strat[PF_PLUS] = (mm_strategy_cfg){1, st->field, 0, w, {0}};
    st->strat[PF_LIFT] = (mm_strategy_cfg){lift_ok, MM_GF2, 0, lift, {0}};
    st->strat[PF_RESTART] = (mm_strategy_cfg){1, gf, 0, restart, {0}};
    st->strat[PF_SYM] = (mm_strategy_cfg){square, st->field, 1, {0}, cyc};
    st->strat[PF_TWIN] = (mm_strategy_cfg){twin_ok, st->field, 1, {0}, twin};
    st->strat[PF_SYMLONG] = (mm_strategy_cfg){square, gf, 1, {0}, longrun};
    /* split on the shapes the symmetric strategies do not serve (docs/recursion.md) */
    st->strat[PF_SPLIT] = (mm_strategy_cfg){!square && st->n * st->m * st->p >= 2, gf, 0, split,
                                            {0}};
    /* cube on <k,k,d> (d > k >= 2, in any order): a cube and one slab */
    st->strat[PF_CUBE] = (mm_strategy_cfg){k > 0, gf, 0, cube, {0}};
    return pf_choose(st, err, errlen);
}

/* Takes the run's policy section (its ranges, the sampled proxy's included, are checked by the
 * policy's knob table): --walk still wins over walk_flips, and symmetric runs without --cubes
 * take the policy's block count (0: the residue rule). The portfolio's strategies follow the
 * policy and the shape. */
static int matmul_configure(void *state, const rt_policy *policy, char *err, size_t errlen)
{
    matmul_state *st = state;
    st->pol = *mm_policy(policy);
    if (st->walk_override)
        st->pol.walk_flips = st->walk_override;
    if (st->symmetric && !st->cubes && st->pol.sym_cubes >= 1 && st->pol.sym_cubes <= st->n)
        st->cubes = st->pol.sym_cubes;
    return st->portfolio ? pf_build(st, err, errlen) : 0;
}

static const char *matmul_params(const void *state)
{
    return ((const matmul_state *)state)->params;
}

static void *matmul_seed(const void *state)
{
    const matmul_state *st = state;
    mm_scheme *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    enum mm_field field = st->lift ? MM_GF2 : st->field;
    if (st->symmetric) {
        mm_sym sym;
        int parts = st->cubes ? st->cubes : mm_sym_default_parts(st->n);
        if (mm_sym_start(&sym, st->n, field, parts, st->symmetric == 2)) {
            free(s);
            return NULL;
        }
        int rc = mm_sym_expand(&sym, s);
        mm_sym_free(&sym);
        if (rc) {
            free(s);
            return NULL;
        }
        return s;
    }
    if (mm_scheme_standard(s, st->n, st->m, st->p, field)) {
        free(s);
        return NULL;
    }
    return s;
}

static void *matmul_clone(const void *state, const void *genome)
{
    (void)state;
    mm_scheme *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    if (mm_scheme_copy(s, genome)) {
        free(s);
        return NULL;
    }
    return s;
}

static void matmul_free_genome(void *genome)
{
    mm_scheme_free(genome);
    free(genome);
}

static int matmul_encode(const void *state, const void *genome, rt_buf *out)
{
    const matmul_state *st = state;
    const mm_scheme *s = genome;
    /* with no lift (the operators drop such children) the GF(2) text below */
    if (written_as_lift(st, s) && mm_lift_encode(genome, out) == 0)
        return 0;
    mm_scheme tmp;
    mm_plain plain = {0};
    int rc = mm_scheme_copy(&tmp, genome);
    if (rc)
        return rc;
    mm_scheme_canonicalize(&tmp);
    rc = mm_scheme_to_plain(&tmp, &plain);
    if (!rc)
        rc = mm_print_exp(&plain, out);
    mm_plain_free(&plain);
    mm_scheme_free(&tmp);
    return rc;
}

/* The portfolio over Z: a text is a scheme over Z when it reads (exactly) as one and writes back
 * to the same text; otherwise it is taken as the lift of a GF(2) scheme (the gate then checks
 * that the GF(2) scheme's lift is that text). Exact reading keeps symmetric schemes whole. */
static int decode_portfolio_z(const matmul_state *st, const mm_plain *plain, const char *text,
                              size_t len, mm_scheme *s, char *err, size_t errlen)
{
    int rc = mm_scheme_from_plain_exact(s, plain, MM_Z, err, errlen);
    if (rc == RT_ENOMEM)
        return rc;
    if (rc == 0) {
        rt_buf again;
        rt_buf_init(&again, MM_MAX_TEXT);
        rc = matmul_encode(st, s, &again);
        int same = rc == 0 && again.len == len && memcmp(again.data, text, len) == 0;
        rt_buf_free(&again);
        if (same)
            return 0;
        mm_scheme_free(s);
    }
    return mm_scheme_from_plain_exact(s, plain, MM_GF2, err, errlen);
}

static int matmul_decode(const void *state, const char *text, size_t len, void **genome,
                         char *err, size_t errlen)
{
    const matmul_state *st = state;
    mm_plain plain = {0};
    int rc = mm_parse_any(text, len, st->n, st->m, st->p, &plain, err, errlen);
    if (rc)
        return rc;
    mm_scheme *s = calloc(1, sizeof *s);
    if (!s) {
        mm_plain_free(&plain);
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    }
    /* a symmetric scheme is read exactly as written: reductions would break its symmetry, and the
     * gate requires that decoding and encoding again gives the same text */
    if (st->portfolio && st->field == MM_Z)
        rc = decode_portfolio_z(st, &plain, text, len, s, err, errlen);
    else if (st->symmetric || st->portfolio)
        rc = mm_scheme_from_plain_exact(s, &plain, st->field, err, errlen);
    else
        rc = mm_scheme_from_plain(s, &plain, st->field, err, errlen);
    mm_plain_free(&plain);
    if (rc) {
        free(s);
        return rc;
    }
    *genome = s;
    return 0;
}

static void matmul_score(const void *state, const void *genome, rt_score *out)
{
    const matmul_state *st = state;
    const mm_scheme *s = genome;
    if (st->proxy_sampled && !mm_proxy_sampled(s, st->pol.proxy_samples, st->pol.proxy_prime)) {
        out->primary = RT_PROXY_REJECT;
        out->secondary = 0;
        return;
    }
    out->primary = -(double)s->rank;
    /* the lift may have more nonzero coefficients (even ones): claim what the gate will count */
    long nnz = written_as_lift(st, s) ? mm_lift_nnz(s) : -1;
    out->secondary = -(double)(nnz >= 0 ? nnz : mm_scheme_nnz(s));
}

static void matmul_features(const void *state, const void *genome, int *coords)
{
    (void)state;
    const mm_scheme *s = genome;
    coords[0] = s->rank;
    coords[1] = s->rank ? (int)(2 * mm_scheme_nnz(s) / s->rank) : 0;
}

static int matmul_verify(const void *state, const char *text, size_t len, rt_verdict *out,
                         char *err, size_t errlen)
{
    const matmul_state *st = state;
    mm_plain plain = {0};
    mm_check check;
    memset(out, 0, sizeof *out);
    snprintf(out->metric_name, sizeof out->metric_name, "rank");
    int rc = mm_parse_any(text, len, st->n, st->m, st->p, &plain, err, errlen);
    if (rc)
        return rc;
    rc = mm_verify(&plain, gate_field(st), &check);
    if (rc) {
        mm_plain_free(&plain);
        return rt_fail(err, errlen, rc, "out of memory verifying");
    }
    const char *field = gate_field(st) == MM_GF2 ? "GF(2)" : "the integers";
    if (check.valid) {
        out->valid = 1;
        out->score = -(double)check.rank;
        out->score2 = -(double)check.nnz;
        out->metric = check.rank;
        snprintf(out->summary, sizeof out->summary,
                 "rank %d for <%d,%d,%d> over %s: all %ld Brent equations hold (%ld nonzero "
                 "coefficients)",
                 check.rank, st->n, st->m, st->p, field, check.equations, check.nnz);
    } else {
        out->valid = 0;
        out->metric = check.rank;
        mm_check_describe(&plain, &check, out->reason, sizeof out->reason);
        snprintf(out->summary, sizeof out->summary, "not a scheme for <%d,%d,%d> over %s",
                 st->n, st->m, st->p, field);
    }
    mm_plain_free(&plain);
    return 0;
}

static int matmul_convert(const void *state, const char *text, size_t len, const char *format,
                          rt_buf *out, char *err, size_t errlen)
{
    const matmul_state *st = state;
    mm_plain plain = {0};
    if (strcmp(format, "c") == 0 || strcmp(format, "lift") == 0)
        return mm_lift_convert(text, len, st->n, st->m, st->p, gate_field(st), format, out, err,
                               errlen);
    if (strcmp(format, "exp") != 0 && strcmp(format, "json") != 0)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "unknown format '%s': expected exp, json, c or lift", format);
    int rc = mm_parse_any(text, len, st->n, st->m, st->p, &plain, err, errlen);
    if (rc)
        return rc;
    rc = strcmp(format, "exp") == 0 ? mm_print_exp(&plain, out)
                                    : mm_print_json(&plain, gate_field(st), out);
    mm_plain_free(&plain);
    if (rc)
        return rt_fail(err, errlen, rc, "out of memory converting");
    return 0;
}

/* ---- operators --------------------------------------------------------------------------- */

/* The override modes' configurations (--symmetric, --lift, or the sampled proxy), straight from
 * the policy: one walker run per operator, over the search's field. */
static mm_walk_cfg legacy_walk_cfg(const matmul_state *st)
{
    const rt_matmul_policy *pol = &st->pol;
    return (mm_walk_cfg){pol->walk_flips,   pol->plateau_flips,  pol->plateau_min,
                         pol->plus_drift,   pol->escape_prob,    pol->max_escapes,
                         pol->restart_prob, pol->stop_on_improve, st->lift, 0, 0, 0, 0, {0}};
}

static mm_sym_cfg legacy_sym_cfg(const matmul_state *st)
{
    const rt_matmul_policy *pol = &st->pol;
    mm_sym_cfg c = sym_knobs(pol);
    c.flips = st->walk_override ? st->walk_override : pol->sym_walk_flips;
    c.twin = st->symmetric == 2;
    c.need_lift = st->lift;
    return c;
}

/* An override mode's walk or plus: the work is the flips and plus transitions, as before the
 * portfolio (lift attempts are not counted there). */
static int legacy_op(const matmul_state *st, mm_scheme *genome, rt_rng *rng, int plus,
                     long long *work)
{
    mm_effort e = {0};
    int rc;
    if (st->symmetric) {
        mm_sym_cfg c = legacy_sym_cfg(st);
        rc = mm_run_sym(&c, genome, rng, plus, &e);
    } else {
        mm_walk_cfg c = legacy_walk_cfg(st);
        rc = mm_run_walk(&c, genome, rng, plus, &e);
        if (rc == 0 && !mm_liftable(genome, st->lift, &e))
            rc = -1;
    }
    *work += mm_effort_flips(&e) + e.pluses;
    return rc;
}

static int op_walk(const void *state, void *genome, rt_rng *rng, long long *work)
{
    return legacy_op(state, genome, rng, 0, work);
}

static int op_plus(const void *state, void *genome, rt_rng *rng, long long *work)
{
    return legacy_op(state, genome, rng, 1, work);
}

/* A portfolio strategy's run on the genome taken over the strategy's field (a plain walk starts
 * from the reduced scheme; a symmetric one from the exact one, whose orbits a reduction would
 * break). The genome becomes the child only when the run succeeds (and, for a GF(2) walk in a
 * run over Z, lifts). The work is calibrated (mm_work_cost). */
static int pf_run(const matmul_state *st, mm_scheme *genome, rt_rng *rng, int strategy, int plus,
                  long long *work)
{
    const mm_strategy_cfg *c = &st->strat[strategy];
    mm_effort e = {0};
    mm_scheme s = {0};
    int rc = mm_scheme_to_field(genome, c->field, &s, &e);
    if (rc == 0 && c->sym) {
        rc = mm_run_sym(&c->sym_cfg, &s, rng, plus, &e);
    } else if (rc == 0) {
        mm_scheme_reduce_all(&s);
        rc = mm_run_walk(&c->walk_cfg, &s, rng, plus, &e);
        if (rc == 0 && !mm_liftable(&s, c->walk_cfg.need_lift, &e))
            rc = -1;
    }
    *work += mm_work_cost(&e, st->pol.pf_sym_work);
    if (rc) {
        mm_scheme_free(&s);
        return -1;
    }
    mm_scheme_free(genome);
    *genome = s;
    return 0;
}

/* The portfolio's operators, one per strategy (their order is matmul_state.strat's). */
#define PF_OP(name, strategy, plus)                                                               \
    static int name(const void *state, void *genome, rt_rng *rng, long long *work)                \
    {                                                                                             \
        return pf_run(state, genome, rng, strategy, plus, work);                                  \
    }
PF_OP(pf_walk, PF_WALK, 0)
PF_OP(pf_plus, PF_PLUS, 1)
PF_OP(pf_lift, PF_LIFT, 0)
PF_OP(pf_restart, PF_RESTART, 0)
PF_OP(pf_sym, PF_SYM, 0)
PF_OP(pf_twin, PF_TWIN, 0)
PF_OP(pf_symlong, PF_SYMLONG, 0)
PF_OP(pf_split, PF_SPLIT, 0)
PF_OP(pf_cube, PF_CUBE, 0)

/* Every strategy of the portfolio, in PF_ order, with its weight when the policy has none. */
static const rt_operator pf_operators[PF_COUNT] = {
    {"walk", 0.9, pf_walk},       {"plus", 0.1, pf_plus}, {"lift", 1, pf_lift},
    {"restart", 1, pf_restart},   {"sym", 1, pf_sym},     {"twin", 0.5, pf_twin},
    {"symlong", 0.5, pf_symlong}, {"split", 1, pf_split}, {"cube", 1, pf_cube},
};

static int op_drop(const void *state, void *genome, rt_rng *rng, long long *work)
{
    (void)state;
    *work += 1;
    return mm_drop(genome, rng);
}

static int op_perturb(const void *state, void *genome, rt_rng *rng, long long *work)
{
    (void)state;
    *work += 1;
    return mm_perturb(genome, rng);
}

static const rt_operator matmul_operators[] = {
    {"walk", 0.9, op_walk},
    {"plus", 0.1, op_plus},
};

/* With the sampled proxy the search also takes shortcuts that may break a scheme: nothing but
 * the proxy stands between them and the archive unless the gate does (matmul_proxy.h). */
static const rt_operator matmul_sampled_operators[] = {
    {"walk", 0.6, op_walk},
    {"plus", 0.1, op_plus},
    {"drop", 0.15, op_drop},
    {"perturb", 0.15, op_perturb},
};

/* The rule of the shape on symlong's weight: (n*m*p/64)^matmul.symlong_exp for the portfolio
 * (more long symmetric runs on large square shapes, fewer on small ones); 1 otherwise. */
static double matmul_op_scale(const void *state, const char *op)
{
    const matmul_state *st = state;
    if (!st->portfolio || strcmp(op, "symlong") != 0)
        return 1;
    return pow((double)st->n * st->m * st->p / 64.0, st->pol.symlong_exp);
}

/* symlong continues from its island's best scheme with chance matmul.symlong_best (the hand
 * mode's engine.p_best 0.9): a run from another cell, often not symmetric, starts afresh. */
static double matmul_op_best_parent(const void *state, const char *op)
{
    const matmul_state *st = state;
    return st->portfolio && strcmp(op, "symlong") == 0 ? st->pol.symlong_best : 0;
}

static const rt_operator *matmul_operators_for(const void *state, size_t *n)
{
    const matmul_state *st = state;
    if (st->portfolio) {
        *n = st->nops;
        return st->ops;
    }
    if (st->proxy_sampled) {
        *n = sizeof matmul_sampled_operators / sizeof matmul_sampled_operators[0];
        return matmul_sampled_operators;
    }
    return NULL; /* the class's table */
}

static int mm_certificate(const void *state, const char *text, size_t len, const char *dir,
                          char *err, size_t errlen)
{
    const matmul_state *st = state;
    rt_verdict v;
    int rc = matmul_verify(state, text, len, &v, err, errlen);
    if (rc)
        return rc;
    if (!v.valid)
        return rt_fail(err, errlen, RT_EINVALID, "the scheme does not verify: %s", v.reason);
    return mm_certificate_write(st->n, st->m, st->p, gate_field(st) == MM_GF2, text, len, v.summary,
                                dir, err, errlen);
}

/* The report's picture: the scheme's factors, {"kind":"matmul","scheme":{...json format...}}. */
static int mm_picture(const void *state, const char *text, size_t len, const char *metrics,
                      const char *artifacts, rt_buf *out)
{
    (void)metrics;
    (void)artifacts;
    char err[256];
    rt_buf json;
    rt_buf_init(&json, 0);
    int rc = matmul_convert(state, text, len, "json", &json, err, sizeof err);
    if (!rc && (rt_buf_puts(out, "{\"kind\":\"matmul\",\"scheme\":") ||
                rt_buf_append(out, json.data, json.len) || rt_buf_puts(out, "}")))
        rc = RT_ENOMEM;
    rt_buf_free(&json);
    return rc;
}

const rt_problem_class rt_problem_matmul = {
    .name = "matmul",
    .summary = "schemes for multiplying matrices with few multiplications (flip graphs)",
    .params_help = matmul_help,
    .param_table = &matmul_table,
    .create = matmul_create,
    .destroy = matmul_destroy,
    .params = matmul_params,
    .seed = matmul_seed,
    .clone = matmul_clone,
    .free_genome = matmul_free_genome,
    .encode = matmul_encode,
    .decode = matmul_decode,
    .score = matmul_score,
    .features = matmul_features,
    .verify = matmul_verify,
    .convert = matmul_convert,
    .configure = matmul_configure,
    .operators = matmul_operators,
    .noperators = sizeof matmul_operators / sizeof matmul_operators[0],
    .metric_lower_is_better = 1,
    .operators_for = matmul_operators_for,
    .op_scale = matmul_op_scale,
    .op_best_parent = matmul_op_best_parent,
    .scope_size = matmul_scope_size,
    .scope_field = matmul_scope_field,
    .scope_fields = "z gf2",
    .certificate = mm_certificate,
    .knobs = &mm_policy_section,
    .picture = mm_picture,
    .pack_text = mm_pack_text,
    .unpack_text = mm_unpack_text,
};
