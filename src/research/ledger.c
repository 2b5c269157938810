/* ledger.c — a research run's experiments read back from its store (rt_research_each in
 * ratchet.h) through the public view (rt_store_candidates and the reads by id): each row's
 * status (keep, discard, crash), its own figures from the evaluation's metrics, the verifier's
 * figure, and what changed from its parent. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems/research/research_int.h"
#include "research/research_store.h"
#include "store/view.h"

/* The texts seen so far by hash, for the descriptions (a run has hundreds of experiments). */
typedef struct seen_text {
    char hash[65];
    char *text;
    size_t len;
} seen_text;

typedef struct walk {
    const research_state *st;
    int (*fn)(const rt_experiment *e, void *user);
    void *user;
    seen_text *seen;
    size_t nseen, cap;
    int nomem;
} walk;

static const seen_text *find_text(const walk *w, const char *hash)
{
    for (size_t i = 0; hash && i < w->nseen; i++)
        if (strcmp(w->seen[i].hash, hash) == 0)
            return &w->seen[i];
    return NULL;
}

static int remember(walk *w, const char *hash, const char *text, size_t len)
{
    if (w->nseen == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        seen_text *p = realloc(w->seen, cap * sizeof *p);
        if (!p)
            return RT_ENOMEM;
        w->seen = p;
        w->cap = cap;
    }
    seen_text *s = &w->seen[w->nseen];
    s->text = malloc(len + 1);
    if (!s->text)
        return RT_ENOMEM;
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->len = len;
    snprintf(s->hash, sizeof s->hash, "%s", hash);
    w->nseen++;
    return 0;
}

/* A number member of a JSON object, when it has one. */
static int json_num(json_t *o, const char *key, double *v)
{
    json_t *x = o ? json_object_get(o, key) : NULL;
    if (!x || !json_is_number(x))
        return 0;
    *v = json_number_value(x);
    return 1;
}

/* The experiment's own figures from its stored metrics. */
static void read_metrics(const research_state *st, const char *metrics, rt_experiment *e)
{
    json_t *m = metrics ? json_loads(metrics, 0, NULL) : NULL;
    double seed = 0;
    e->has_value = json_num(m, st->metric, &e->value);
    e->has_test = st->test_metric[0] && json_num(m, st->test_metric, &e->test);
    json_num(m, "memory_gb", &e->memory_gb);
    json_num(m, "seconds", &e->seconds);
    if (json_num(m, "seed", &seed))
        e->seed = (long long)seed;
    json_decref(m);
}

/* The rows of the run in id order (the store's reads are made after the walk, not inside it). */
typedef struct rows {
    rt_candidate *c;
    size_t n, cap;
} rows;

static int collect_row(const rt_candidate *c, void *user)
{
    rows *r = user;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        rt_candidate *p = realloc(r->c, cap * sizeof *p);
        if (!p)
            return RT_ENOMEM;
        r->c = p;
        r->cap = cap;
    }
    r->c[r->n++] = *c;
    return 0;
}

/* One experiment from its row, metrics and text; then the caller's fn. */
static int each_row(walk *w, const rt_candidate *r, const char *metrics, const char *text,
                    size_t len)
{
    const research_state *st = w->st;
    rt_experiment e;
    memset(&e, 0, sizeof e);
    e.id = r->id;
    e.time = r->time;
    snprintf(e.hash, sizeof e.hash, "%s", r->hash);
    snprintf(e.parent, sizeof e.parent, "%s", r->parent);
    e.op = r->op;
    e.trusted = r->trusted;
    e.metric = st->metric;
    e.test_metric = st->test_metric;
    read_metrics(st, metrics, &e);
    int crashed = !r->valid && strncmp(r->reason, "evaluation failed", 17) == 0;
    e.status = r->admitted ? "keep" : crashed ? "crash" : "discard";
    e.reason = r->admitted ? "" : r->reason;
    if (r->valid && isfinite(r->score)) {
        e.has_verified = 1;
        e.verified = st->maximize ? r->score : -r->score;
    }
    const seen_text *p = find_text(w, r->parent[0] ? r->parent : NULL);
    if (p)
        rt_research_describe(p->text, p->len, text, len, e.description, sizeof e.description);
    else
        snprintf(e.description, sizeof e.description, "baseline");
    if (remember(w, r->hash, text, len)) {
        w->nomem = 1;
        return RT_ENOMEM;
    }
    return w->fn(&e, w->user);
}

/* Reads each row's metrics and text and hands the experiment to w's fn. */
static int walk_rows(rt_store *store, walk *w, const rows *r)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < r->n; i++) {
        char *metrics = NULL, *artifacts = NULL, *text = NULL;
        rc = rt_store_candidate_eval(store, r->c[i].id, &metrics, &artifacts);
        if (!rc)
            rc = rt_store_candidate_text(store, r->c[i].id, &text);
        if (!rc)
            rc = each_row(w, &r->c[i], metrics, text, strlen(text));
        free(metrics);
        free(artifacts);
        free(text);
    }
    return rc;
}

int rt_research_state_of(rt_store *store, rt_problem **problem, const research_state **st)
{
    *st = NULL;
    int rc = rt_store_problem(store, problem);
    if (rc)
        return rc;
    if (strcmp(rt_problem_name(*problem), "research") != 0) {
        rc = rt_db_fail(rt_store_db(store), RT_EUSAGE, "the store is a run of %s, not of "
                                                       "research", rt_problem_name(*problem));
        rt_problem_close(*problem);
        *problem = NULL;
        return rc;
    }
    *st = (*problem)->state;
    return 0;
}

int rt_research_each(rt_store *store, int (*fn)(const rt_experiment *e, void *user), void *user)
{
    rt_problem *problem = NULL;
    walk w = {.fn = fn, .user = user};
    int rc = rt_research_state_of(store, &problem, &w.st);
    if (rc)
        return rc;
    rows r = {0};
    rc = rt_store_candidates(store, NULL, collect_row, &r);
    if (!rc)
        rc = walk_rows(store, &w, &r);
    free(r.c);
    if (w.nomem || rc == RT_ENOMEM)
        rc = rt_db_fail(rt_store_db(store), RT_ENOMEM, "out of memory");
    for (size_t i = 0; i < w.nseen; i++)
        free(w.seen[i].text);
    free(w.seen);
    rt_problem_close(problem);
    return rc;
}
