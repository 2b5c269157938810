/* problem.c — the registry of built-in problems and the public rt_problem_* functions.
 * A new problem adds one line to `registry` below. */
#include "problem.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const rt_problem_class *const registry[] = {
    &rt_problem_matmul,
    &rt_problem_noisy,
    &rt_problem_program,
    &rt_problem_policy,
    &rt_problem_research,
    &rt_problem_binpack,
};

#define NREGISTRY (sizeof registry / sizeof registry[0])

int rt_score_cmp(rt_score a, rt_score b)
{
    if (a.primary != b.primary)
        return a.primary > b.primary ? 1 : -1;
    if (a.secondary != b.secondary)
        return a.secondary > b.secondary ? 1 : -1;
    return 0;
}

const rt_problem_class *rt_problem_class_find(const char *name)
{
    for (size_t i = 0; i < NREGISTRY; i++)
        if (name && strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const rt_problem_class *rt_problem_class_at(size_t i) { return i < NREGISTRY ? registry[i] : NULL; }

size_t rt_problem_count(void) { return NREGISTRY; }

const char *rt_problem_name_at(size_t i) { return i < NREGISTRY ? registry[i]->name : NULL; }

const char *rt_problem_summary_at(size_t i)
{
    return i < NREGISTRY ? registry[i]->summary : NULL;
}

const char *rt_problem_params_help(const char *name)
{
    const rt_problem_class *cls = rt_problem_class_find(name);
    return cls ? cls->params_help : NULL;
}

static int open_class(rt_problem **out, const rt_problem_class *cls, const char *const *keys,
                      const char *const *values, size_t n, char *err, size_t errlen)
{
    rt_problem *pb = calloc(1, sizeof *pb);
    if (!pb)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    pb->cls = cls;
    int rc = cls->create(&pb->state, keys, values, n, err, errlen);
    if (rc) {
        free(pb);
        return rc;
    }
    *out = pb;
    return 0;
}

int rt_problem_open(rt_problem **out, const char *name, const char *const *keys,
                    const char *const *values, size_t nparams, rt_error *err)
{
    *out = NULL;
    err->code = 0;
    err->msg[0] = '\0';
    const rt_problem_class *cls = rt_problem_class_find(name);
    if (!cls) {
        err->code = rt_fail(err->msg, sizeof err->msg, RT_EUSAGE, "unknown problem '%s'",
                            name ? name : "");
        return err->code;
    }
    err->code = open_class(out, cls, keys, values, nparams, err->msg, sizeof err->msg);
    return err->code;
}

#define MAX_CANON_PARAMS 16

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Undoes the %XX escapes a problem's canonical string uses for spaces and '%' in values (a
 * program's command line, paths with spaces), in place. Returns 0, or -1 on a bad escape. */
static int percent_decode(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        int hi = hex_digit(r[1]), lo = hi < 0 ? -1 : hex_digit(r[2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return -1;
        *w++ = (char)(hi * 16 + lo);
        r += 2;
    }
    *w = '\0';
    return 0;
}

/* Splits a canonical parameter string into key/value pairs pointing into copy (which it
 * overwrites; cap bytes). Returns 0, or RT_ESTORE with the reason in err. */
static int split_params(const char *params, char *copy, size_t cap, const char **keys,
                        const char **values, size_t *n, char *err, size_t errlen)
{
    *n = 0;
    if (strlen(params) >= cap)
        return rt_fail(err, errlen, RT_ESTORE, "parameters too long");
    memcpy(copy, params, strlen(params) + 1);
    char *s = copy;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        if (*n == MAX_CANON_PARAMS)
            return rt_fail(err, errlen, RT_ESTORE, "too many parameters in '%s'", params);
        char *word = s;
        while (*s && *s != ' ')
            s++;
        if (*s)
            *s++ = '\0';
        char *eq = strchr(word, '=');
        if (!eq)
            return rt_fail(err, errlen, RT_ESTORE, "bad parameter '%s'", word);
        *eq = '\0';
        if (percent_decode(eq + 1))
            return rt_fail(err, errlen, RT_ESTORE, "bad escape in parameter '%s'", word);
        keys[*n] = word;
        values[*n] = eq + 1;
        (*n)++;
    }
    return 0;
}

/* Splits a canonical parameter string and opens cls with it. */
static int open_with_params(rt_problem **out, const rt_problem_class *cls, const char *params,
                            char *err, size_t errlen)
{
    char copy[2048];
    const char *keys[MAX_CANON_PARAMS], *values[MAX_CANON_PARAMS];
    size_t n = 0;
    int rc = split_params(params, copy, sizeof copy, keys, values, &n, err, errlen);
    return rc ? rc : open_class(out, cls, keys, values, n, err, errlen);
}

int rt_problem_open_canonical(rt_problem **out, const char *name, const char *params,
                              char *err, size_t errlen)
{
    *out = NULL;
    const rt_problem_class *cls = rt_problem_class_find(name);
    if (!cls)
        return rt_fail(err, errlen, RT_ESTORE, "problem '%s' is not known to this ratchet",
                       name);
    return open_with_params(out, cls, params, err, errlen);
}

int rt_problem_reopen(const rt_problem *src, rt_problem **out, char *err, size_t errlen)
{
    *out = NULL;
    return open_with_params(out, src->cls, rt_problem_params(src), err, errlen);
}

void rt_problem_close(rt_problem *problem)
{
    if (!problem)
        return;
    problem->cls->destroy(problem->state);
    free(problem);
}

const char *rt_problem_name(const rt_problem *problem) { return problem->cls->name; }

const char *rt_problem_params(const rt_problem *problem)
{
    return problem->cls->params(problem->state);
}

int rt_problem_verify_text(const rt_problem *problem, const char *text, size_t len,
                           rt_verdict *out, rt_error *err)
{
    err->msg[0] = '\0';
    err->code = rt_problem_verify(problem, text, len, out, err->msg, sizeof err->msg);
    return err->code;
}

int rt_problem_convert(const rt_problem *problem, const char *text, size_t len,
                       const char *format, char **out, rt_error *err)
{
    rt_buf b;
    rt_buf_init(&b, 0);
    err->msg[0] = '\0';
    err->code = problem->cls->convert(problem->state, text, len, format, &b, err->msg,
                                      sizeof err->msg);
    if (err->code) {
        rt_buf_free(&b);
        *out = NULL;
        return err->code;
    }
    *out = rt_buf_take(&b);
    return 0;
}

/* ---- calling a problem ------------------------------------------------------------------- */

void *rt_problem_seed(const rt_problem *problem) { return problem->cls->seed(problem->state); }

void *rt_problem_clone(const rt_problem *problem, const void *genome)
{
    return problem->cls->clone(problem->state, genome);
}

void rt_problem_free_genome(const rt_problem *problem, void *genome)
{
    if (genome)
        problem->cls->free_genome(genome);
}

int rt_problem_encode(const rt_problem *problem, const void *genome, rt_buf *out)
{
    return problem->cls->encode(problem->state, genome, out);
}

int rt_problem_decode(const rt_problem *problem, const char *text, size_t len, void **genome,
                      char *err, size_t errlen)
{
    return problem->cls->decode(problem->state, text, len, genome, err, errlen);
}

void rt_problem_score(const rt_problem *problem, const void *genome, rt_score *out)
{
    problem->cls->score(problem->state, genome, out);
}

void rt_problem_features(const rt_problem *problem, const void *genome, int *coords)
{
    problem->cls->features(problem->state, genome, coords);
}

int rt_problem_verify(const rt_problem *problem, const char *text, size_t len, rt_verdict *out,
                      char *err, size_t errlen)
{
    return problem->cls->verify(problem->state, text, len, out, err, errlen);
}

int rt_problem_configure(const rt_problem *problem, const rt_policy *policy, char *err,
                         size_t errlen)
{
    if (problem->cls->configure)
        return problem->cls->configure(problem->state, policy, err, errlen);
    return 0;
}

const rt_operator *rt_problem_operators(const rt_problem *problem, size_t *n)
{
    const rt_problem_class *cls = problem->cls;
    if (cls->operators_for) {
        const rt_operator *ops = cls->operators_for(problem->state, n);
        if (ops)
            return ops;
    }
    *n = cls->noperators;
    return cls->operators;
}

double rt_problem_op_scale(const rt_problem *problem, const char *op)
{
    const rt_problem_class *cls = problem->cls;
    double f = cls->op_scale ? cls->op_scale(problem->state, op) : 1;
    return f > 0 && f < 1e300 ? f : 1;
}

long rt_problem_scope_size(const rt_problem *problem)
{
    const rt_problem_class *cls = problem->cls;
    long n = cls->scope_size ? cls->scope_size(problem->state) : 0;
    return n > 0 ? n : 0;
}

const char *rt_problem_scope_field(const rt_problem *problem)
{
    const rt_problem_class *cls = problem->cls;
    return cls->scope_field ? cls->scope_field(problem->state) : NULL;
}

void rt_problem_defaults(const rt_problem *problem, rt_policy *p)
{
    if (problem->cls->defaults_head)
        rt_policy_defaults(p);
    else
        rt_policy_defaults_for(p, problem->cls->name, rt_problem_scope_size(problem),
                              rt_problem_scope_field(problem));
}

int rt_policy_show_for(const rt_problem *problem, const char *text, size_t len, char **json,
                       rt_error *err)
{
    rt_policy p;
    rt_problem_defaults(problem, &p);
    return rt_policy_show_over(&p, text, len, json, err);
}

double rt_problem_op_best_parent(const rt_problem *problem, const char *op)
{
    const rt_problem_class *cls = problem->cls;
    double q = cls->op_best_parent ? cls->op_best_parent(problem->state, op) : 0;
    return q > 0 ? (q < 1 ? q : 1) : 0;
}

const char *rt_problem_operators_idle(const rt_problem *problem)
{
    const rt_problem_class *cls = problem->cls;
    return cls->operators_idle ? cls->operators_idle(problem->state) : NULL;
}

int rt_problem_apply(const rt_problem *problem, const rt_operator *op, void *genome, rt_rng *rng,
                     long long *work)
{
    return op->apply(problem->state, genome, rng, work);
}

int rt_problem_evaluate(const rt_problem *problem, void *genome, rt_evaluation *out)
{
    assert(problem->cls->evaluate);
    return problem->cls->evaluate(problem->state, genome, out);
}

void rt_problem_annotations(const rt_problem *problem, const void *genome, const char **metrics,
                            const char **artifacts)
{
    *metrics = *artifacts = NULL;
    if (problem->cls->annotations)
        problem->cls->annotations(problem->state, genome, metrics, artifacts);
}

void rt_problem_shown(const rt_problem *problem, const void *genome, const char **metrics,
                      const char **artifacts)
{
    if (!problem->cls->shown) {
        rt_problem_annotations(problem, genome, metrics, artifacts);
        return;
    }
    *metrics = *artifacts = NULL;
    problem->cls->shown(problem->state, genome, metrics, artifacts);
}

void rt_problem_restore_annotations(const rt_problem *problem, void *genome, char *metrics,
                                    char *artifacts)
{
    if (!problem->cls->restore_annotations) {
        free(metrics);
        free(artifacts);
        return;
    }
    problem->cls->restore_annotations(problem->state, genome, metrics, artifacts);
}

int rt_problem_takes_claims(const rt_problem *problem)
{
    return !problem->cls->evaluate || problem->cls->claim;
}

void rt_problem_claim(const rt_problem *problem, void *genome, int failed, const rt_score *score,
                      char *metrics, char *artifacts)
{
    if (problem->cls->claim) {
        problem->cls->claim(problem->state, genome, failed, score, metrics, artifacts);
        return;
    }
    free(metrics);
    free(artifacts);
}

int rt_problem_dedupe_text(const rt_problem *problem, const char *text, size_t len, rt_buf *out)
{
    assert(problem->cls->dedupe_text);
    return problem->cls->dedupe_text(problem->state, text, len, out);
}

int rt_problem_certificate(const rt_problem *problem, const char *text, size_t len,
                           const char *dir, char *err, size_t errlen)
{
    if (!problem->cls->certificate)
        return rt_fail(err, errlen, RT_EUSAGE, "problem %s has no certificates",
                       problem->cls->name);
    return problem->cls->certificate(problem->state, text, len, dir, err, errlen);
}

int rt_problem_picture(const rt_problem *problem, const char *text, size_t len,
                       const char *metrics, const char *artifacts, rt_buf *out)
{
    if (!problem->cls->picture)
        return RT_EUSAGE;
    return problem->cls->picture(problem->state, text, len, metrics, artifacts, out);
}

int rt_problem_is_noisy(const rt_problem *problem) { return problem->cls->noisy != 0; }

int rt_problem_evaluates(const rt_problem *problem) { return problem->cls->evaluate != NULL; }

int rt_problem_verify_dear(const rt_problem *problem)
{
    return problem->cls->verify_dear || rt_problem_evaluates(problem);
}

const char *rt_problem_metric_name(const rt_problem *problem)
{
    const char *name = problem->cls->metric_name ? problem->cls->metric_name(problem->state) : NULL;
    return name && name[0] ? name : "metric";
}

int rt_problem_annotated(const rt_problem *problem)
{
    return problem->cls->restore_annotations != NULL;
}

int rt_problem_dedupes(const rt_problem *problem) { return problem->cls->dedupe_text != NULL; }

int rt_problem_lower_is_better(const rt_problem *problem)
{
    return problem->cls->metric_lower_is_better != 0;
}

int rt_problem_reproduces(const rt_problem *problem, double stored, double fresh)
{
    if (stored == fresh || (isnan(stored) && isnan(fresh)))
        return 1;
    double tol = problem->cls->reproduce_tolerance
                     ? problem->cls->reproduce_tolerance(problem->state)
                     : 0;
    return tol > 0 && fabs(fresh - stored) <= tol * fmax(1.0, fabs(stored));
}

double rt_problem_score_tolerance(const char *name)
{
    const rt_problem_class *cls = rt_problem_class_find(name);
    return cls ? cls->score_tolerance : 0;
}

int rt_problem_pack_text(const char *name, const char *text, size_t len, rt_buf *out)
{
    const rt_problem_class *cls = name ? rt_problem_class_find(name) : NULL;
    return cls && cls->pack_text ? cls->pack_text(text, len, out) : RT_EUSAGE;
}

int rt_problem_unpack_text(const char *name, const unsigned char *in, size_t n, rt_buf *out)
{
    const rt_problem_class *cls = name ? rt_problem_class_find(name) : NULL;
    return cls && cls->unpack_text ? cls->unpack_text(in, n, out) : RT_EUSAGE;
}

int rt_problem_unpacks_text(const char *name)
{
    const rt_problem_class *cls = name ? rt_problem_class_find(name) : NULL;
    return cls && cls->unpack_text;
}

int rt_problem_has_param(const char *name, const char *key, int for_verify)
{
    const rt_problem_class *cls = rt_problem_class_find(name);
    if (!cls || !cls->param_table)
        return 0;
    return rt_param_known(cls->param_table, key, for_verify ? RT_PARAM_SEARCH : 0);
}

const char *rt_problem_verify_params_help(const char *name)
{
    /* written on first use; the texts are small and few (one per class) */
    static char texts[NREGISTRY][RT_PARAM_HELP_MAX];
    for (size_t i = 0; i < NREGISTRY; i++) {
        if (!name || strcmp(registry[i]->name, name) != 0)
            continue;
        if (!registry[i]->param_table)
            return registry[i]->params_help;
        if (!texts[i][0])
            rt_param_help_rows(registry[i]->param_table, RT_PARAM_SEARCH, texts[i],
                               sizeof texts[i]);
        return texts[i];
    }
    return NULL;
}

/* The value of key among the n pairs (the last one given), or NULL. */
static const char *pair_value(const char *const *keys, const char *const *values, size_t n,
                              const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0)
            v = values[i];
    return v;
}

/* Compares the canonical values of the given keys in two canonical strings: *differ is the
 * index of the first given key whose values differ (-1: none), was/now its values. */
static int compare_canonical(const char *stored, const char *merged, const char *const *keys,
                             size_t n, int *differ, char *was, char *now, size_t len,
                             rt_error *err)
{
    char c1[2048], c2[2048];
    const char *k1[MAX_CANON_PARAMS], *v1[MAX_CANON_PARAMS];
    const char *k2[MAX_CANON_PARAMS], *v2[MAX_CANON_PARAMS];
    size_t n1 = 0, n2 = 0;
    int rc = split_params(stored, c1, sizeof c1, k1, v1, &n1, err->msg, sizeof err->msg);
    if (!rc)
        rc = split_params(merged, c2, sizeof c2, k2, v2, &n2, err->msg, sizeof err->msg);
    if (rc)
        return err->code = rc;
    for (size_t i = 0; i < n && *differ < 0; i++) {
        const char *a = pair_value(k1, v1, n1, keys[i]), *b = pair_value(k2, v2, n2, keys[i]);
        if ((a || b) && (!a || !b || strcmp(a, b) != 0)) {
            *differ = (int)i;
            snprintf(was, len, "%s", a ? a : "");
            snprintf(now, len, "%s", b ? b : "");
        }
    }
    /* a given key that changed another one's canonical value (none of ours does today) */
    if (*differ < 0 && n && strcmp(stored, merged) != 0) {
        *differ = 0;
        snprintf(was, len, "%s", stored);
        snprintf(now, len, "%s", merged);
    }
    return 0;
}

int rt_problem_params_compare(const char *name, const char *params, const char *const *keys,
                              const char *const *values, size_t n, int *differ, char *was,
                              char *now, size_t len, rt_error *err)
{
    *differ = -1;
    err->code = 0;
    err->msg[0] = '\0';
    const rt_problem_class *cls = rt_problem_class_find(name);
    if (!cls) {
        err->code = rt_fail(err->msg, sizeof err->msg, RT_ESTORE,
                            "problem '%s' is not known to this ratchet", name ? name : "");
        return err->code;
    }
    char copy[2048];
    const char *k[2 * MAX_CANON_PARAMS], *v[2 * MAX_CANON_PARAMS];
    size_t m = 0;
    int rc = split_params(params, copy, sizeof copy, k, v, &m, err->msg, sizeof err->msg);
    if (rc)
        return err->code = rc;
    if (n > MAX_CANON_PARAMS) {
        err->code = rt_fail(err->msg, sizeof err->msg, RT_EUSAGE, "too many parameters");
        return err->code;
    }
    for (size_t i = 0; i < n; i++, m++) { /* the given ones after the stored: they win */
        k[m] = keys[i];
        v[m] = values[i];
    }
    rt_problem *merged = NULL;
    if ((rc = open_class(&merged, cls, k, v, m, err->msg, sizeof err->msg)))
        return err->code = rc;
    rc = compare_canonical(params, rt_problem_params(merged), keys, n, differ, was, now, len,
                           err);
    rt_problem_close(merged);
    return rc;
}
