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
#include "problems/matmul/matmul_cert.h"
#include "problems/matmul/matmul_plain.h"
#include "problems/matmul/matmul_policy.h"
#include "problems/matmul/matmul_proxy.h"
#include "problems/matmul/matmul_search.h"
#include "problems/matmul/matmul_sym.h"
#include "problems/matmul/matmul_walk.h"

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
     .help = "flips budget of one walker run (default: the policy's\n"
             "matmul.walk_flips, 2000000; symmetric: sym_walk_flips)"},
    {.name = "lift", .flags = RT_PARAM_SEARCH, .type = RT_PARAM_CHOICE, RT_PARAM_AT(matmul_state, lift),
     .choices = lift_choices, .metavar = "1",
     .help = "with --field z: search over GF(2), admit integer lifts"},
    {.name = "symmetric", .flags = RT_PARAM_SEARCH, .type = RT_PARAM_INT, RT_PARAM_AT(matmul_state, symmetric), .lo = 0,
     .hi = 2, .expected = "0, 1 or 2", .metavar = "1",
     .help = "only schemes invariant under (A,B,C) -> (B,C,A), square\n"
             "shapes (docs/matmul-symmetric.md); 2: also under the\n"
             "index swap (0 1)(2 3)... (six-product orbits)"},
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

/* Writes the canonical parameter string (stored with a run: its keys, order and number formats
 * are a stored format, and a resumed run compares it byte for byte). walk is part of it only
 * when given (otherwise the run's policy says). */
static void write_params(matmul_state *st)
{
    int len = snprintf(st->params, sizeof st->params, "shape=%dx%dx%d field=%s", st->n, st->m,
                       st->p, st->lift || st->field == MM_Z ? "z" : "gf2");
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

static int matmul_create(void **out, const char *const *keys, const char *const *values,
                         size_t nparams, char *err, size_t errlen)
{
    matmul_state *st = calloc(1, sizeof *st);
    if (!st)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    rt_policy defaults;
    rt_policy_defaults(&defaults);
    st->pol = *mm_policy(&defaults);
    int rc = rt_param_apply(&matmul_table, st, keys, values, nparams, err, errlen);
    if (!rc)
        rc = check_combinations(st, err, errlen);
    if (rc) {
        free(st);
        return rc;
    }
    if (st->walk_override)
        st->pol.walk_flips = st->walk_override;
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

/* Takes the run's policy section (its ranges, the sampled proxy's included, are checked by the
 * policy's knob table): --walk still wins over walk_flips, and symmetric runs without --cubes
 * take the policy's block count (0: the residue rule). */
static void matmul_configure(void *state, const rt_policy *policy)
{
    matmul_state *st = state;
    st->pol = *mm_policy(policy);
    if (st->walk_override)
        st->pol.walk_flips = st->walk_override;
    if (st->symmetric && !st->cubes && st->pol.sym_cubes >= 1 && st->pol.sym_cubes <= st->n)
        st->cubes = st->pol.sym_cubes;
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
    if (st->lift && mm_lift_encode(genome, out) == 0)
        return 0; /* else (no lift: the operators drop such children) the GF(2) text below */
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

static int matmul_decode(const void *state, const char *text, size_t len, void **genome,
                         char *err, size_t errlen)
{
    const matmul_state *st = state;
    mm_plain plain = {0};
    int rc = mm_parse_any(text, len, st->n, st->m, st->p, &plain, err, errlen);
    if (rc)
        return rc;
    mm_scheme *s = malloc(sizeof *s);
    if (!s) {
        mm_plain_free(&plain);
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    }
    /* a symmetric scheme is read exactly as written: reductions would break its symmetry, and the
     * gate requires that decoding and encoding again gives the same text */
    rc = st->symmetric ? mm_scheme_from_plain_exact(s, &plain, st->field, err, errlen)
                       : mm_scheme_from_plain(s, &plain, st->field, err, errlen);
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
    out->secondary = -(double)mm_scheme_nnz(s);
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

/* With --lift 1, a child enters only if its GF(2) scheme lifts (the lift is kept for encode). */
static int liftable(const matmul_state *st, const void *genome)
{
    if (!st->lift)
        return 1;
    rt_buf tmp;
    rt_buf_init(&tmp, MM_MAX_TEXT);
    int ok = mm_lift_encode(genome, &tmp) == 0;
    rt_buf_free(&tmp);
    return ok;
}

/* The symmetric operators: recover the orbits, walk (after a plus when plus is set), expand
 * back into the genome. The walk's length is sym_walk_flips (or --walk). -1 when the genome is
 * not symmetric or nothing could be done. With --lift 1 the child must lift: a run that ends
 * below its start on a scheme that does not lift goes on from there with the rest of its budget
 * (a lower rank that lifts is often a few reductions further on), and the child is dropped (-1)
 * only when the budget ends without a liftable scheme below the parent. */
static int op_sym(const matmul_state *st, mm_scheme *genome, rt_rng *rng, int plus,
                  long long *work)
{
    mm_sym sym;
    mm_scheme out = {0};
    mm_sym_stats ss = {0};
    long long flips = st->walk_override ? st->walk_override : st->pol.sym_walk_flips;
    if (mm_sym_from_scheme_twin(&sym, genome, st->symmetric == 2, NULL, 0))
        return -1;
    int parent_rank = mm_sym_rank(&sym);
    int rc = plus ? mm_sym_plus(&sym, rng) : 0, ok = 0;
    mm_sym_run_opts ro = {flips,
                          st->pol.sym_plateau_flips,
                          st->pol.escape_prob,
                          st->pol.max_escapes,
                          st->pol.stop_on_improve,
                          st->pol.sym_beta,
                          st->pol.sym_headroom,
                          st->pol.sym_max_size,
                          0};
    while (!rc) {
        long long before = ss.flips;
        ro.flips = flips - ss.flips;
        /* after a plus, the run aims below the parent, not below the plus */
        ro.stop_rank = mm_sym_rank(&sym) > parent_rank ? parent_rank : 0;
        rc = mm_sym_run(&sym, rng, &ro, &ss);
        if (!rc) {
            mm_scheme_free(&out);
            rc = mm_sym_expand(&sym, &out);
        }
        if (rc)
            break;
        ok = (ss.flips > 0 || plus) && liftable(st, &out);
        /* without --lift every run is final; with it, an unliftable improvement walks on */
        if (ok || !st->lift || mm_sym_rank(&sym) >= parent_rank || ss.flips >= flips ||
            ss.flips == before)
            break;
    }
    mm_sym_free(&sym);
    *work += ss.flips + plus;
    if (rc || !ok) {
        mm_scheme_free(&out);
        return -1;
    }
    mm_scheme_free(genome);
    *genome = out;
    return 0;
}

/* The length of the next plateau: plateau_flips, or (plateau_min > 0) drawn log-uniformly from
 * [plateau_min, plateau_flips] each time, so that one run mixes short and long plateaus. */
static long long plateau_length(const rt_matmul_policy *pol, rt_rng *rng, long long budget)
{
    long long hi = pol->plateau_flips > 0 ? pol->plateau_flips : budget;
    long long lo = pol->plateau_min;
    if (lo <= 0 || lo >= hi)
        return hi;
    double len = (double)lo * exp(rt_rng_unit(rng) * log((double)hi / (double)lo));
    return len < (double)lo ? lo : len > (double)hi ? hi : (long long)len;
}

/* One walker run from the genome (see docs/policy.md, matmul). The walker flips until the budget
 * (walk_flips) is spent. A plateau is plateau_flips flips in a row without a rank reduction (or a
 * length drawn per plateau, plateau_length). There the walker escapes (probability escape_prob,
 * at most max_escapes times per run) by a plus transition, made from its current scheme while
 * that is less than plus_drift above the lowest rank of this run, else from that lowest-rank
 * scheme (plus_drift 1: always from a scheme of the lowest rank); otherwise the run ends. With
 * stop_on_improve the run ends as soon as its rank is below the parent's, so that the engine
 * admits the improvement at once and every island can build on it; with --lift 1 only a scheme
 * that lifts ends it: from one that does not, the walk goes on (its plus escapes and the
 * reductions after them reach other schemes of that rank, which may lift; a scheme is tried when
 * a reduction reaches it, not at every flip, since one lift costs about 10^5 flips). The genome becomes
 * the lowest-rank scheme of the run (the latest one reached). With probability restart_prob the
 * run starts from the standard algorithm instead of the parent, and still ends early only below
 * the parent's rank: a fresh descent, not one step down from the top. */
static int walker_run(const matmul_state *st, mm_scheme *s, rt_rng *rng, int plus_first,
                      long long *work)
{
    const rt_matmul_policy *pol = &st->pol;
    int parent_rank = -1; /* a restart's run still has to beat the parent's rank to stop early */
    if (pol->restart_prob > 0 && rt_rng_unit(rng) < pol->restart_prob) {
        mm_scheme fresh;
        if (mm_scheme_standard(&fresh, st->n, st->m, st->p, st->lift ? MM_GF2 : st->field) == 0) {
            parent_rank = s->rank;
            mm_scheme_free(s);
            *s = fresh;
        }
    }
    int drift = pol->plus_drift > 0 ? pol->plus_drift : 1;
    mm_walker *w = NULL;
    if (mm_walker_new(&w, s, drift + 1))
        return -1;
    mm_scheme best = {0};
    int rc = -1, escapes = 0, lifted = 0;
    int best_rank = mm_walker_rank(w);
    if (parent_rank < 0)
        parent_rank = best_rank;
    if (mm_walker_store(w, &best))
        goto done;
    if (plus_first) {
        if (mm_walker_plus(w, rng))
            goto done;
        escapes++;
        (*work)++;
    }
    long long budget = pol->walk_flips, done_flips = 0, since = 0;
    long long plateau = plateau_length(pol, rng, budget);
    while (done_flips < budget) {
        long long chunk = budget - done_flips;
        if (chunk > plateau - since)
            chunk = plateau - since;
        int r0 = mm_walker_rank(w);
        long long f = mm_walker_run(w, rng, chunk, r0, NULL);
        done_flips += f;
        since += f;
        if (mm_walker_rank(w) < r0) {
            since = 0;
            if (mm_walker_rank(w) <= best_rank) {
                best_rank = mm_walker_rank(w);
                if (mm_walker_store(w, &best))
                    goto done;
            }
            if (pol->stop_on_improve && best_rank < parent_rank &&
                mm_walker_rank(w) == best_rank && (lifted = liftable(st, &best)))
                break;
            continue;
        }
        if (since < plateau)
            break; /* budget spent, or isolated (no flip left) */
        if (escapes >= pol->max_escapes || rt_rng_unit(rng) >= pol->escape_prob)
            break;
        if (mm_walker_rank(w) >= best_rank + drift && mm_walker_load(w, &best))
            goto done;
        if (mm_walker_plus(w, rng))
            break;
        escapes++;
        (*work)++;
        since = 0;
        plateau = plateau_length(pol, rng, budget);
    }
    *work += done_flips;
    if (lifted || best_rank < mm_walker_rank(w)) {
        mm_scheme_free(s);
        *s = best;
        best.prod = NULL;
    } else if (mm_walker_store(w, s)) {
        goto done;
    }
    rc = done_flips > 0 || escapes > 0 ? 0 : -1;
done:
    mm_scheme_free(&best);
    mm_walker_free(w);
    return rc;
}

static int op_walk(const void *state, void *genome, rt_rng *rng, long long *work)
{
    const matmul_state *st = state;
    if (st->symmetric)
        return op_sym(st, genome, rng, 0, work);
    int rc = walker_run(st, genome, rng, 0, work);
    return rc == 0 && liftable(st, genome) ? 0 : -1;
}

static int op_plus(const void *state, void *genome, rt_rng *rng, long long *work)
{
    const matmul_state *st = state;
    if (st->symmetric)
        return op_sym(st, genome, rng, 1, work);
    int rc = walker_run(st, genome, rng, 1, work);
    return rc == 0 && liftable(st, genome) ? 0 : -1;
}

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

static const rt_operator *matmul_operators_for(const void *state, size_t *n)
{
    const matmul_state *st = state;
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
    .certificate = mm_certificate,
    .knobs = &mm_policy_section,
    .picture = mm_picture,
};
