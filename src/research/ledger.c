/* ledger.c — a research run's experiments read back from its store (rt_research_each in
 * ratchet.h): each row's status (keep, discard, crash), its own figures from the evaluation's
 * metrics, the verifier's figure, and what changed from its parent. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems/research/research_int.h"
#include "research/research_store.h"
#include "store/ledger.h"
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

static int remember(walk *w, const rt_db_experiment *r)
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
    s->text = malloc(r->len + 1);
    if (!s->text)
        return RT_ENOMEM;
    memcpy(s->text, r->text, r->len);
    s->text[r->len] = '\0';
    s->len = r->len;
    snprintf(s->hash, sizeof s->hash, "%s", r->hash);
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

static int each_row(const rt_db_experiment *r, void *user)
{
    walk *w = user;
    const research_state *st = w->st;
    rt_experiment e;
    memset(&e, 0, sizeof e);
    e.id = r->id;
    e.time = r->time;
    snprintf(e.hash, sizeof e.hash, "%s", r->hash);
    snprintf(e.parent, sizeof e.parent, "%s", r->parent ? r->parent : "");
    e.op = r->op;
    e.trusted = r->trusted;
    e.metric = st->metric;
    e.test_metric = st->test_metric;
    read_metrics(st, r->metrics, &e);
    int crashed = !r->valid && r->reason && strncmp(r->reason, "evaluation failed", 17) == 0;
    e.status = r->admitted ? "keep" : crashed ? "crash" : "discard";
    e.reason = r->admitted ? "" : r->reason ? r->reason : "";
    if (r->valid && isfinite(r->score)) {
        e.has_verified = 1;
        e.verified = st->maximize ? r->score : -r->score;
    }
    const seen_text *p = find_text(w, r->parent);
    if (p)
        rt_research_describe(p->text, p->len, r->text, r->len, e.description,
                             sizeof e.description);
    else
        snprintf(e.description, sizeof e.description, "baseline");
    if (remember(w, r)) {
        w->nomem = 1;
        return RT_ENOMEM;
    }
    return w->fn(&e, w->user);
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
    rc = rt_db_each_experiment(rt_store_db(store), each_row, &w);
    if (w.nomem)
        rc = rt_db_fail(rt_store_db(store), RT_ENOMEM, "out of memory");
    for (size_t i = 0; i < w.nseen; i++)
        free(w.seen[i].text);
    free(w.seen);
    rt_problem_close(problem);
    return rc;
}
