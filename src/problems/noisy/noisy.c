/* noisy.c — a toy problem with a noisy evaluator, for testing noise-aware acceptance.
 *
 * A candidate is a point x in {-50..50}^4; its true fitness is -|x - t|^2 for a fixed target t.
 * The evaluator never reports the true fitness: every call adds fresh Gaussian noise of standard
 * deviation --sigma (draws numbered in call order from --seed, so a process is reproducible),
 * the way a benchmark's timing varies between runs. A search that takes each measurement at its
 * word climbs on lucky draws; the engine's noise-aware acceptance (engine.c) should not.
 *
 * Text form: "x X1 X2 X3 X4\n". The true fitness is noisy_true_fitness() for tests.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"
#include "problem.h"

#define NOISY_DIM 4
#define NOISY_RANGE 50

static const int noisy_target[NOISY_DIM] = {17, -23, 8, 31};

typedef struct noisy_state {
    double sigma;
    unsigned long long seed;
    unsigned long long *draws; /* evaluations so far (heap: verify takes const state) */
    char params[96];
} noisy_state;

typedef struct noisy_genome {
    int x[NOISY_DIM];
} noisy_genome;

static const rt_param noisy_rows[] = {
    {.name = "sigma", .type = RT_PARAM_DOUBLE, RT_PARAM_AT(noisy_state, sigma), .lo = 0,
     .hi = 1e6, .expected = "0 to 1e6", .def = "10", .metavar = "S",
     .help = "standard deviation of the evaluator's noise (default 10)"},
    {.name = "seed", .type = RT_PARAM_INT, RT_PARAM_AT(noisy_state, seed), .lo = 0,
     .hi = 1000000000, .expected = "0 to 1e9", .def = "1", .metavar = "N",
     .help = "seed of the noise (default 1)"},
};

static const rt_param_table noisy_table = {
    .owner = "noisy",
    .rows = noisy_rows,
    .nrows = sizeof noisy_rows / sizeof noisy_rows[0],
    .column = 19,
    .list_unknown = 1,
};

RT_PARAM_HELP_TEXT(noisy_help, noisy_table)

static int noisy_create(void **out, const char *const *keys, const char *const *values,
                        size_t nparams, char *err, size_t errlen)
{
    noisy_state *st = calloc(1, sizeof *st);
    if (!st)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    st->draws = calloc(1, sizeof *st->draws);
    if (!st->draws) {
        free(st);
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    }
    int rc = rt_param_apply(&noisy_table, st, keys, values, nparams, err, errlen);
    if (rc) {
        free(st->draws);
        free(st);
        return rc;
    }
    snprintf(st->params, sizeof st->params, "sigma=%.17g seed=%llu", st->sigma, st->seed);
    *out = st;
    return 0;
}

static void noisy_destroy(void *state)
{
    noisy_state *st = state;
    if (!st)
        return;
    free(st->draws);
    free(st);
}

static const char *noisy_params(const void *state) { return ((const noisy_state *)state)->params; }

static void *noisy_seed(const void *state)
{
    (void)state;
    return calloc(1, sizeof(noisy_genome));
}

static void *noisy_clone(const void *state, const void *genome)
{
    (void)state;
    noisy_genome *g = malloc(sizeof *g);
    if (g)
        memcpy(g, genome, sizeof *g);
    return g;
}

static void noisy_free(void *genome) { free(genome); }

static int noisy_encode(const void *state, const void *genome, rt_buf *out)
{
    (void)state;
    const noisy_genome *g = genome;
    return rt_buf_printf(out, "x %d %d %d %d\n", g->x[0], g->x[1], g->x[2], g->x[3]);
}

/* Parses "x A B C D" (one optional final newline); 0 or RT_EUSAGE. */
static int parse(const char *text, size_t len, noisy_genome *g, char *err, size_t errlen)
{
    if (len > 200 || len < 2 || memchr(text, '\0', len))
        return rt_fail(err, errlen, RT_EUSAGE, "not a noisy candidate (expected \"x A B C D\")");
    char buf[256];
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (buf[0] != 'x' || buf[1] != ' ')
        return rt_fail(err, errlen, RT_EUSAGE, "not a noisy candidate (expected \"x A B C D\")");
    const char *s = buf + 2;
    for (int i = 0; i < NOISY_DIM; i++) {
        if (!(*s == '-' || (*s >= '0' && *s <= '9')))
            return rt_fail(err, errlen, RT_EUSAGE, "coordinate %d is not an integer in -%d..%d",
                           i + 1, NOISY_RANGE, NOISY_RANGE);
        char *end = NULL;
        long v = strtol(s, &end, 10);
        if (end == s || v < -NOISY_RANGE || v > NOISY_RANGE || (*end != ' ' && *end != '\n' &&
                                                                *end != '\0'))
            return rt_fail(err, errlen, RT_EUSAGE, "coordinate %d is not an integer in -%d..%d",
                           i + 1, NOISY_RANGE, NOISY_RANGE);
        if ((i < NOISY_DIM - 1 && *end != ' ') || (i == NOISY_DIM - 1 && *end == ' '))
            return rt_fail(err, errlen, RT_EUSAGE, "expected four coordinates, one space apart");
        g->x[i] = (int)v;
        s = end + (*end == ' ');
    }
    if (!(*s == '\0' || (s[0] == '\n' && s[1] == '\0')))
        return rt_fail(err, errlen, RT_EUSAGE, "trailing bytes after four coordinates");
    return 0;
}

static int noisy_decode(const void *state, const char *text, size_t len, void **genome,
                        char *err, size_t errlen)
{
    (void)state;
    noisy_genome g;
    int rc = parse(text, len, &g, err, errlen);
    if (rc)
        return rc;
    noisy_genome *out = malloc(sizeof *out);
    if (!out)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    *out = g;
    *genome = out;
    return 0;
}

double noisy_true_fitness(const int *x);

double noisy_true_fitness(const int *x)
{
    double f = 0;
    for (int i = 0; i < NOISY_DIM; i++)
        f -= (double)(x[i] - noisy_target[i]) * (x[i] - noisy_target[i]);
    return f;
}

/* One Gaussian draw (Box-Muller), numbered by the state's draw counter. */
static double noise(const noisy_state *st)
{
    rt_rng rng;
    rt_rng_seed(&rng, st->seed, (*st->draws)++);
    double u1 = rt_rng_unit(&rng), u2 = rt_rng_unit(&rng);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return st->sigma * sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

static void noisy_score(const void *state, const void *genome, rt_score *out)
{
    const noisy_genome *g = genome;
    out->primary = noisy_true_fitness(g->x) + noise(state);
    out->secondary = 0;
}

static void noisy_features(const void *state, const void *genome, int *coords)
{
    (void)state;
    (void)genome;
    coords[0] = coords[1] = 0; /* one cell: each island is a hill climber */
}

static int noisy_verify(const void *state, const char *text, size_t len, rt_verdict *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    snprintf(out->metric_name, sizeof out->metric_name, "fitness");
    noisy_genome g;
    int rc = parse(text, len, &g, err, errlen);
    if (rc)
        return rc;
    out->valid = 1;
    out->score = noisy_true_fitness(g.x) + noise(state);
    out->score2 = 0;
    out->metric = out->score;
    snprintf(out->summary, sizeof out->summary, "measured fitness %.4g (one noisy measurement)",
             out->score);
    return 0;
}

static int noisy_convert(const void *state, const char *text, size_t len, const char *format,
                         rt_buf *out, char *err, size_t errlen)
{
    (void)state;
    if (strcmp(format, "exp") != 0 && strcmp(format, "text") != 0)
        return rt_fail(err, errlen, RT_EUSAGE, "unknown format '%s': expected text", format);
    noisy_genome g;
    int rc = parse(text, len, &g, err, errlen);
    if (rc)
        return rc;
    return noisy_encode(state, &g, out);
}

static int op_step(const void *state, void *genome, rt_rng *rng, long long *work)
{
    (void)state;
    noisy_genome *g = genome;
    int i = (int)rt_rng_below(rng, NOISY_DIM);
    int d = rt_rng_below(rng, 2) ? 1 : -1;
    if (g->x[i] + d < -NOISY_RANGE || g->x[i] + d > NOISY_RANGE)
        return -1;
    g->x[i] += d;
    *work += 1;
    return 0;
}

static const rt_operator noisy_operators[] = {
    {"step", 1.0, op_step},
};

const rt_problem_class rt_problem_noisy = {
    .name = "noisy",
    .summary = "a toy problem whose evaluator is noisy (for testing noise-aware acceptance)",
    .params_help = noisy_help,
    .param_table = &noisy_table,
    .create = noisy_create,
    .destroy = noisy_destroy,
    .params = noisy_params,
    .seed = noisy_seed,
    .clone = noisy_clone,
    .free_genome = noisy_free,
    .encode = noisy_encode,
    .decode = noisy_decode,
    .score = noisy_score,
    .features = noisy_features,
    .verify = noisy_verify,
    .convert = noisy_convert,
    .operators = noisy_operators,
    .noperators = 1,
    .metric_lower_is_better = 0,
    .noisy = 1,
};
