/* binpack.c — the binpack problem: online bin packing priority functions (docs/coevolution.md).
 *
 * A candidate is a priority expression (bp_expr.h); its canonical text is the expression printed
 * canonically. The training set is generated from the parameters (family, items, count, seed)
 * or read from a FunSearch-style JSON file (instances=FILE, its SHA-256 kept in the canonical
 * parameters). The proxy compiles the expression and runs the bucketed simulation (bp_sim.c);
 * the verifier re-parses the text and packs naively with checks (bp_check.c). Both score
 * -(excess over L1, in percent of the summed L1 bounds); the metric is that excess.
 *
 * With posers=1 (the co-evolution's stores, bp_coevo.c) a candidate may also be a poser
 * (bp_poser.h): its verified facts come from bp_poser_check, and its score is
 * BP_POSER_SCORE_BASE plus best fit's gap over the checked reference packing, so that every
 * poser ranks below every solver and `best` is always a solver.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"
#include "problem.h"
#include "problems/binpack/binpack.h"
#include "problems/binpack/bp_check.h"
#include "problems/binpack/bp_export.h"
#include "problems/binpack/bp_poser.h"
#include "problems/binpack/bp_sim.h"

#define POOL_SIZE 16

/* The donors of crossover: the best-scoring expressions the proxy has seen (the engine scores
 * children on its own thread in island order, so the pool evolves reproducibly). */
typedef struct bp_pool {
    pthread_mutex_t lock;
    int n;
    double score[POOL_SIZE];
    bp_expr expr[POOL_SIZE];
} bp_pool;

typedef struct bp_state {
    const char *family, *instances, *sha_given;
    int items, count, capacity, lo, hi, posers;
    long long seed;
    bp_set train;
    char sha[65];
    char params[2048];
    bp_pool *pool;
} bp_state;

static const rt_param bp_rows[] = {
    {.name = "family", .type = RT_PARAM_STRING, RT_PARAM_AT(bp_state, family), .def = "or",
     .metavar = "F", .help = "training instances: or, weibull or uniform (default or)"},
    {.name = "items", .type = RT_PARAM_INT, RT_PARAM_AT(bp_state, items), .lo = 1,
     .hi = 100000, .def = "250", .metavar = "N", .help = "items per training instance (250)"},
    {.name = "count", .type = RT_PARAM_INT, RT_PARAM_AT(bp_state, count), .lo = 1, .hi = 1000,
     .def = "5", .metavar = "K", .help = "training instances (default 5)"},
    {.name = "train-seed", .type = RT_PARAM_INT, RT_PARAM_AT(bp_state, seed), .lo = 0,
     .hi = 1000000000, .def = "1", .metavar = "S", .help = "seed of the training instances (1)"},
    {.name = "capacity", .type = RT_PARAM_INT, RT_PARAM_AT(bp_state, capacity), .lo = 1,
     .hi = 100000, .def = "100", .metavar = "C", .help = "uniform family: capacity (100)"},
    {.name = "lo", .type = RT_PARAM_INT, RT_PARAM_AT(bp_state, lo), .lo = 1, .hi = 100000,
     .def = "1", .metavar = "L", .help = "uniform family: smallest size (1)"},
    {.name = "hi", .type = RT_PARAM_INT, RT_PARAM_AT(bp_state, hi), .lo = 1, .hi = 100000,
     .def = "100", .metavar = "H", .help = "uniform family: largest size (100)"},
    {.name = "posers", .type = RT_PARAM_INT, RT_PARAM_AT(bp_state, posers), .lo = 0, .hi = 1,
     .def = "0", .metavar = "0|1", .help = "1: posers are candidates too (co-evolution stores)"},
    {.name = "instances", .type = RT_PARAM_STRING, RT_PARAM_AT(bp_state, instances),
     .flags = RT_PARAM_EMPTY_UNSET, .metavar = "FILE",
     .help = "train on a FunSearch-style JSON file instead"},
    {.name = "instances-sha256", .type = RT_PARAM_STRING, RT_PARAM_AT(bp_state, sha_given),
     .flags = RT_PARAM_EMPTY_UNSET, .metavar = "HEX",
     .help = "the file's SHA-256 (set in stored runs; checked)"},
};

static const rt_param_table bp_table = {
    .owner = "binpack",
    .rows = bp_rows,
    .nrows = sizeof bp_rows / sizeof bp_rows[0],
    .column = 27,
    .list_unknown = 1,
};

RT_PARAM_HELP_TEXT(bp_help, bp_table)

static int load_file(bp_state *st, char *err, size_t errlen)
{
    if (strpbrk(st->instances, " \t\n"))
        return rt_fail(err, errlen, RT_EUSAGE, "bad --instances: the path has white space");
    char *text = NULL;
    size_t len = 0;
    int rc = rt_read_file(st->instances, (size_t)BP_MAX_FILE, &text, &len, err, errlen);
    if (rc)
        return rc;
    rt_sha256_hex(text, len, st->sha);
    if (st->sha_given && strcmp(st->sha_given, st->sha) != 0)
        rc = rt_fail(err, errlen, RT_EUSAGE, "%s has changed since the run began (SHA-256 %s, "
                     "expected %s)", st->instances, st->sha, st->sha_given);
    if (!rc)
        rc = bp_read_json(text, len, st->instances, &st->train, err, errlen);
    free(text);
    if (!rc)
        snprintf(st->params, sizeof st->params, "instances=%s instances-sha256=%s",
                 st->instances, st->sha);
    return rc;
}

static int load_training(bp_state *st, char *err, size_t errlen)
{
    if (st->instances)
        return load_file(st, err, errlen);
    int rc = bp_generate(&st->train, st->family, st->items, st->count, (uint64_t)st->seed,
                         st->capacity, st->lo, st->hi, err, errlen);
    if (rc)
        return rc;
    int n = snprintf(st->params, sizeof st->params, "family=%s items=%d count=%d train-seed=%lld",
                     st->family, st->items, st->count, st->seed);
    if (strcmp(st->family, "uniform") == 0)
        snprintf(st->params + n, sizeof st->params - (size_t)n, " capacity=%d lo=%d hi=%d",
                 st->capacity, st->lo, st->hi);
    return 0;
}

static void bp_destroy(void *state)
{
    bp_state *st = state;
    if (!st)
        return;
    bp_set_free(&st->train);
    if (st->pool)
        pthread_mutex_destroy(&st->pool->lock);
    free(st->pool);
    free(st);
}

static int bp_create(void **out, const char *const *keys, const char *const *values,
                     size_t nparams, char *err, size_t errlen)
{
    bp_state *st = calloc(1, sizeof *st);
    if (!st)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    st->pool = calloc(1, sizeof *st->pool);
    if (!st->pool) {
        free(st);
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&st->pool->lock, NULL);
    int rc = rt_param_apply(&bp_table, st, keys, values, nparams, err, errlen);
    if (!rc)
        rc = load_training(st, err, errlen);
    size_t used = strlen(st->params);
    if (!rc && st->posers)
        snprintf(st->params + used, sizeof st->params - used, " posers=1");
    /* the values given are borrowed: keep nothing that points into them */
    st->family = st->instances = st->sha_given = NULL;
    if (rc) {
        bp_destroy(st);
        return rc;
    }
    *out = st;
    return 0;
}

static const char *bp_params(const void *state) { return ((const bp_state *)state)->params; }

static void *bp_seed(const void *state)
{
    (void)state;
    bp_genome *g = calloc(1, sizeof *g);
    if (g) { /* best fit: the smallest slack wins, (neg f) */
        g->expr.n = 2;
        g->expr.node[0].op = BP_NEG;
        g->expr.node[1].op = BP_F;
    }
    return g;
}

static void *bp_clone(const void *state, const void *genome)
{
    (void)state;
    bp_genome *g = malloc(sizeof *g);
    if (g)
        memcpy(g, genome, sizeof *g);
    return g;
}

static void bp_free(void *genome) { free(genome); }

static int bp_encode(const void *state, const void *genome, rt_buf *out)
{
    (void)state;
    const bp_genome *g = genome;
    if (g->poser)
        return bp_spec_print(&g->spec, out);
    int rc = bp_print(&g->expr, out);
    return rc ? rc : rt_buf_puts(out, "\n");
}

int bp_text_is_poser(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    return len - i >= 5 && memcmp(text + i, "poser", 5) == 0;
}

static int bp_decode(const void *state, const char *text, size_t len, void **genome, char *err,
                     size_t errlen)
{
    const bp_state *st = state;
    bp_genome *g = calloc(1, sizeof *g);
    if (!g)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    int rc;
    if (st->posers && bp_text_is_poser(text, len)) {
        g->poser = 1;
        rc = bp_spec_parse(text, len, &g->spec, err, errlen);
    } else {
        rc = bp_parse(text, len, &g->expr, err, errlen);
    }
    if (rc) {
        free(g);
        return rc;
    }
    *genome = g;
    return 0;
}

double bp_excess_percent(long long bins, long long l1)
{
    return l1 > 0 ? 100.0 * (double)(bins - l1) / (double)l1 : 0.0;
}

static void pool_offer(bp_pool *pool, const bp_expr *e, double score)
{
    pthread_mutex_lock(&pool->lock);
    int worst = 0;
    for (int i = 0; i < pool->n; i++) {
        if (bp_equal(&pool->expr[i], e))
            goto done;
        if (pool->score[i] < pool->score[worst])
            worst = i;
    }
    if (pool->n < POOL_SIZE)
        worst = pool->n++;
    else if (!(score > pool->score[worst]))
        goto done;
    pool->expr[worst] = *e;
    pool->score[worst] = score;
done:
    pthread_mutex_unlock(&pool->lock);
}

int bp_score_set(const bp_expr *e, const bp_set *set, long long *bins, long long *l1,
                 long long *evals)
{
    bp_prog prog;
    bp_compile(e, &prog);
    bp_sim *sim = bp_sim_new();
    if (!sim)
        return RT_ENOMEM;
    *bins = *l1 = 0;
    for (int k = 0; k < set->n; k++) {
        long long b = bp_sim_run(sim, &prog, &set->inst[k], evals);
        if (b < 0) {
            bp_sim_free(sim);
            return RT_ENOMEM;
        }
        *bins += b;
        *l1 += bp_l1(&set->inst[k]);
    }
    bp_sim_free(sim);
    return 0;
}

const bp_set *bp_problem_training(const rt_problem *problem)
{
    return &((const bp_state *)problem->state)->train;
}

double bp_poser_score(const bp_poser_facts *f)
{
    return BP_POSER_SCORE_BASE + bp_excess_percent(f->best_fit, f->reference);
}

/* A poser's score from its facts (the same function of the text as its verdict). */
static void poser_score(const bp_genome *g, rt_score *out)
{
    rt_buf text;
    rt_buf_init(&text, 0);
    bp_poser_facts f;
    char err[200];
    out->secondary = 0;
    out->primary = RT_PROXY_REJECT;
    if (bp_spec_print(&g->spec, &text) == 0 &&
        bp_poser_check(text.data, text.len, &f, NULL, err, sizeof err) == 0)
        out->primary = bp_poser_score(&f);
    rt_buf_free(&text);
}

static void bp_score(const void *state, const void *genome, rt_score *out)
{
    const bp_state *st = state;
    const bp_genome *g = genome;
    if (g->poser) {
        poser_score(g, out);
        return;
    }
    long long bins, l1;
    out->secondary = -(double)g->expr.n;
    if (bp_score_set(&g->expr, &st->train, &bins, &l1, NULL)) {
        out->primary = RT_PROXY_REJECT;
        return;
    }
    out->primary = -bp_excess_percent(bins, l1);
    pool_offer(st->pool, &g->expr, out->primary + 1e-6 * out->secondary);
}

static void bp_features(const void *state, const void *genome, int *coords)
{
    (void)state;
    const bp_genome *g = genome;
    if (g->poser) { /* posers in a row of their own */
        coords[0] = g->spec.nmix;
        coords[1] = 100 + g->spec.order;
        return;
    }
    const bp_expr *e = &g->expr;
    int size = e->n / 6;
    coords[0] = size > 15 ? 15 : size;
    coords[1] = __builtin_popcount(bp_terminals_used(e));
}

static int poser_verify(const char *text, size_t len, rt_verdict *out, char *err,
                        size_t errlen)
{
    snprintf(out->metric_name, sizeof out->metric_name, "bf-gap%%");
    bp_poser_facts f;
    char why[300];
    int rc = bp_poser_check(text, len, &f, NULL, why, sizeof why);
    if (rc == RT_EINVALID) {
        snprintf(out->reason, sizeof out->reason, "%s", why);
        return 0;
    }
    if (rc)
        return rt_fail(err, errlen, rc, "%s", why);
    out->valid = 1;
    out->score = bp_poser_score(&f);
    out->metric = out->score - BP_POSER_SCORE_BASE;
    snprintf(out->summary, sizeof out->summary, "poser: instance generated and checked; "
             "reference packing %lld bins (%s), lower bound %lld, best fit %lld", f.reference,
             f.optimal ? "a proven optimum" : "checked", f.lower, f.best_fit);
    return 0;
}

static int bp_verify(const void *state, const char *text, size_t len, rt_verdict *out,
                     char *err, size_t errlen)
{
    const bp_state *st = state;
    memset(out, 0, sizeof *out);
    if (st->posers && bp_text_is_poser(text, len))
        return poser_verify(text, len, out, err, errlen);
    snprintf(out->metric_name, sizeof out->metric_name, "excess%%");
    long long bins, l1;
    char why[400];
    int rc = bp_check_set(text, len, &st->train, &bins, &l1, why, sizeof why);
    if (rc == RT_EINVALID) {
        snprintf(out->reason, sizeof out->reason, "%s", why);
        return 0;
    }
    if (rc)
        return rt_fail(err, errlen, rc, "%s", why);
    bp_ctree *t = NULL;
    if (bp_ctree_parse(text, len, &t, err, errlen))
        return RT_EUSAGE;
    out->valid = 1;
    out->metric = bp_excess_percent(bins, l1);
    out->score = -out->metric;
    out->score2 = -(double)bp_ctree_size(t);
    bp_ctree_free(t);
    snprintf(out->summary, sizeof out->summary, "%d instances packed and checked: %lld bins, "
             "L1 %lld, excess %.4f%%", st->train.n, bins, l1, out->metric);
    return 0;
}

static int bp_convert(const void *state, const char *text, size_t len, const char *format,
                      rt_buf *out, char *err, size_t errlen)
{
    const bp_state *st = state;
    int python = strcmp(format, "python") == 0;
    if (!python && strcmp(format, "text") != 0 && strcmp(format, "c") != 0)
        return rt_fail(err, errlen, RT_EUSAGE, "unknown format '%s': expected text, c or python",
                       format);
    bp_genome *g = NULL;
    int rc = bp_decode(state, text, len, (void **)&g, err, errlen);
    if (rc)
        return rc;
    if (strcmp(format, "text") == 0 || g->poser) {
        rc = g->poser && strcmp(format, "text") != 0
                 ? rt_fail(err, errlen, RT_EUSAGE, "a poser has only the text format")
                 : bp_encode(state, g, out);
        free(g);
        return rc;
    }
    bp_expr e = g->expr;
    free(g);
    rt_buf canon;
    rt_buf_init(&canon, 0);
    rc = bp_print(&e, &canon);
    if (!rc)
        rc = bp_export(&e, rt_buf_cstr(&canon), python,
                       st->train.n ? st->train.inst[0].capacity : 100, out);
    rt_buf_free(&canon);
    return rc ? rt_fail(err, errlen, rc, "out of memory") : 0;
}

/* ---- operators ---------------------------------------------------------------------------- */

static int after(int rc, long long *work)
{
    *work += 1;
    return rc;
}

/* The expression of a solver genome; NULL for a poser (the operators are the solvers'). */
static bp_expr *expr_of(void *genome)
{
    bp_genome *g = genome;
    return g->poser ? NULL : &g->expr;
}

static int op_subtree(const void *s, void *g, rt_rng *rng, long long *w)
{
    (void)s;
    bp_expr *e = expr_of(g);
    return e ? after(bp_mut_subtree(e, rng), w) : -1;
}

static int op_point(const void *s, void *g, rt_rng *rng, long long *w)
{
    (void)s;
    bp_expr *e = expr_of(g);
    return e ? after(bp_mut_point(e, rng), w) : -1;
}

static int op_const(const void *s, void *g, rt_rng *rng, long long *w)
{
    (void)s;
    bp_expr *e = expr_of(g);
    return e ? after(bp_mut_const(e, rng), w) : -1;
}

static int op_addterm(const void *s, void *g, rt_rng *rng, long long *w)
{
    (void)s;
    bp_expr *e = expr_of(g);
    return e ? after(bp_mut_addterm(e, rng), w) : -1;
}

static int op_simplify(const void *s, void *g, rt_rng *rng, long long *w)
{
    (void)s;
    (void)rng;
    bp_expr *e = expr_of(g);
    return e ? after(bp_simplify(e), w) : -1;
}

static int op_cross(const void *state, void *g, rt_rng *rng, long long *w)
{
    const bp_state *st = state;
    bp_expr donor;
    pthread_mutex_lock(&st->pool->lock);
    int n = st->pool->n;
    if (n)
        donor = st->pool->expr[rt_rng_below(rng, (uint32_t)n)];
    pthread_mutex_unlock(&st->pool->lock);
    bp_expr *e = expr_of(g);
    if (!n || !e)
        return -1;
    return after(bp_crossover(e, &donor, rng), w);
}

static const rt_operator bp_operators[] = {
    {"subtree", 1.0, op_subtree}, {"point", 1.0, op_point},      {"const", 1.5, op_const},
    {"addterm", 1.0, op_addterm}, {"cross", 1.0, op_cross},      {"simplify", 0.3, op_simplify},
};

const rt_problem_class rt_problem_binpack = {
    .name = "binpack",
    .summary = "online bin packing priority functions (FunSearch's problem), verified packings",
    .params_help = bp_help,
    .param_table = &bp_table,
    .create = bp_create,
    .destroy = bp_destroy,
    .params = bp_params,
    .seed = bp_seed,
    .clone = bp_clone,
    .free_genome = bp_free,
    .encode = bp_encode,
    .decode = bp_decode,
    .score = bp_score,
    .features = bp_features,
    .verify = bp_verify,
    .convert = bp_convert,
    .operators = bp_operators,
    .noperators = sizeof bp_operators / sizeof bp_operators[0],
    .metric_lower_is_better = 1,
};
