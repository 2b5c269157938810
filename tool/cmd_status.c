/* cmd_status.c — `ratchet status STORE [--json]`: summarises a run's store (read-only). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "tool.h"

typedef struct status_args {
    const char *path;
    int json;
} status_args;

static const arg_opt status_opts[] = {
    {"json", NULL, ARG_FLAG, 0, 0, NULL, offsetof(status_args, json), "print one JSON object"},
    {0},
};

static void help_status(FILE *f)
{
    fprintf(f, "usage: ratchet status STORE [--json]\n\n"
               "Summarises a run: best verified result, evaluations, time, and each island.\n");
    args_help(f, status_opts, 9);
}

/* Prints one line per operator of the bandit's state (the JSON of rt_store_bandit). */
static void print_bandit(const char *bandit)
{
    json_t *o = bandit ? json_loads(bandit, 0, NULL) : NULL;
    json_t *arms = json_object_get(o, "arms");
    size_t i;
    json_t *a;
    json_array_foreach(arms, i, a) {
        const char *op = json_string_value(json_object_get(a, "op"));
        printf("operator     %-8s p %.3f, %lld draws, %lld improved, reward/work %.3g%s\n",
               op ? op : "?",
               json_number_value(json_object_get(a, "p")),
               (long long)json_number_value(json_object_get(a, "pulls")),
               (long long)json_number_value(json_object_get(a, "wins")),
               json_number_value(json_object_get(a, "cost")) > 0
                   ? json_number_value(json_object_get(a, "reward")) /
                         json_number_value(json_object_get(a, "cost"))
                   : 0.0,
               json_is_false(json_object_get(o, "enabled")) ? " (bandit off: by weight)" : "");
    }
    json_decref(o);
}

/* The store's failure table (rt_store_failures) parsed, or NULL when it has none. */
static json_t *failures_of(rt_store *st)
{
    char *text = NULL;
    if (rt_store_failures(st, &text) || !text)
        return NULL;
    json_t *f = json_loads(text, 0, NULL);
    free(text);
    return json_is_object(f) ? f : (json_decref(f), NULL);
}

/* Prints one line per cause of failure, largest first, with the latest detail. */
static void print_failures(json_t *f)
{
    json_t *causes = json_object_get(f, "causes");
    size_t i;
    json_t *c;
    json_array_foreach(causes, i, c) {
        const char *cause = json_string_value(json_object_get(c, "cause"));
        const char *detail = json_string_value(json_object_get(c, "detail"));
        printf("failed       %lld x %s%s%s\n",
               (long long)json_integer_value(json_object_get(c, "count")), cause ? cause : "?",
               detail && *detail ? " — last: " : "", detail && *detail ? detail : "");
    }
    long long other = (long long)json_integer_value(json_object_get(f, "other"));
    long long cut = (long long)json_integer_value(json_object_get(f, "cut"));
    if (other)
        printf("failed       %lld x other causes\n", other);
    if (cut)
        printf("cut          %lld job%s stopped in flight at the end of a session\n", cut,
               cut == 1 ? "" : "s");
}

/* The islands of the summary as a JSON array. */
static json_t *islands_json(const rt_summary *s)
{
    json_t *arr = json_array();
    for (int i = 0; i < s->nislands; i++) {
        json_t *is = json_object();
        json_object_set_new(is, "island", json_integer(i));
        json_object_set_new(is, "admitted", json_integer(s->islands[i].admitted));
        json_object_set_new(is, "cells", json_integer(s->islands[i].cells));
        json_object_set_new(is, "best", s->islands[i].has_best
                                            ? json_number(s->islands[i].best_metric)
                                            : json_null());
        json_array_append_new(arr, is);
    }
    return arr;
}

/* Prints the status of the run in st as one JSON object; returns the exit status. */
static int status_json(rt_store *st, const char *path, const rt_summary *s,
                       const rt_drift *drift, const char *bandit)
{
    json_t *o = json_object();
    json_object_set_new(o, "store", json_string(path));
    json_object_set_new(o, "problem", json_string(s->problem));
    json_object_set_new(o, "params", json_string(s->params));
    json_object_set_new(o, "seed", json_integer((json_int_t)s->seed));
    json_object_set_new(o, "sessions", json_integer(s->sessions));
    json_object_set_new(o, "elapsed", json_real(s->elapsed));
    json_object_set_new(o, "evaluations", json_integer(s->evaluations));
    json_object_set_new(o, "proposals", json_integer(s->proposals));
    json_object_set_new(o, "evaluated", json_integer(s->evaluated));
    json_object_set_new(o, "failed", json_integer(s->failed));
    json_t *failures = failures_of(st);
    json_object_set_new(o, "failures", failures ? failures : json_null());
    json_object_set_new(o, "duplicates", json_integer(s->duplicates));
    json_object_set_new(o, "stored", json_integer(s->stored));
    json_object_set_new(o, "valid", json_integer(s->valid));
    json_object_set_new(o, "invalid", json_integer(s->invalid));
    json_object_set_new(o, "admitted", json_integer(s->admitted));
    if (s->has_best) {
        json_t *b = json_object();
        json_object_set_new(b, s->metric_name, json_number(s->best_metric));
        json_object_set_new(b, "hash", json_string(s->best_hash));
        json_object_set_new(b, "verified", json_string(s->best_summary));
        json_object_set_new(o, "best", b);
    } else {
        json_object_set_new(o, "best", json_null());
    }
    json_object_set_new(o, "islands", islands_json(s));
    json_object_set_new(o, "drift", drift_json(drift));
    if (bandit) {
        json_t *bj = json_loads(bandit, 0, NULL);
        json_object_set_new(o, "bandit", bj ? bj : json_null());
    }
    int rc = llm_status(st, stdout, o);
    if (rc) {
        json_decref(o);
        return exit_for(rc);
    }
    return print_json(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))
               ? EXIT_FAIL
               : 0;
}

/* Prints the status of the run in st as text; returns the exit status. */
static int status_text(rt_store *st, const char *path, const rt_summary *s,
                       const rt_drift *drift, const char *bandit)
{
    printf("store        %s\n", path);
    printf("problem      %s %s\n", s->problem, s->params);
    printf("seed         %llu (%d session%s)\n", (unsigned long long)s->seed, s->sessions,
           s->sessions == 1 ? "" : "s");
    printf("elapsed      %.1f s\n", s->elapsed);
    printf("proposals    %lld: %lld evaluated (%.0f/s), %lld duplicates dropped, %lld made no "
           "child\n", s->proposals, s->evaluated,
           s->elapsed > 0 ? (double)s->evaluated / s->elapsed : 0.0, s->duplicates, s->failed);
    json_t *failures = failures_of(st);
    print_failures(failures);
    json_decref(failures);
    printf("candidates   %lld stored: %lld verified, %lld rejected, %lld admitted\n", s->stored,
           s->valid, s->invalid, s->admitted);
    if (s->has_best)
        printf("best         %s %g — %s\n", s->metric_name, s->best_metric, s->best_summary);
    else
        printf("best         none yet\n");
    drift_print(drift);
    for (int i = 0; i < s->nislands; i++) {
        printf("island %-5d %lld admitted, %d cells", i, s->islands[i].admitted,
               s->islands[i].cells);
        if (s->islands[i].has_best)
            printf(", best %s %g", s->metric_name, s->islands[i].best_metric);
        printf("\n");
    }
    print_bandit(bandit);
    int rc = llm_status(st, stdout, NULL);
    return rc ? exit_for(rc) : 0;
}

int cmd_status(int argc, char **argv)
{
    static const arg_spec spec = {"status", status_opts, help_status,
                                  offsetof(status_args, path), NULL, NULL};
    status_args a = {0};
    int rc = args_parse(&spec, argc, argv, &a, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.path) {
        usage_error("status: name a store file (see ratchet status --help)");
        return EXIT_USAGE;
    }
    rt_error err = {0};
    rt_store *st = NULL;
    if (rt_store_open(&st, a.path, &err)) {
        usage_error("status: %s", err.msg);
        return exit_for(err.code);
    }
    rt_summary s;
    rt_drift drift;
    char *bandit = NULL;
    rc = rt_store_summary(st, &s);
    if (!rc)
        rc = rt_store_drift(st, &drift);
    if (!rc)
        rc = rt_store_bandit(st, &bandit);
    if (rc) {
        usage_error("status: %s", rt_store_errmsg(st));
        rc = exit_for(rc);
    } else if (a.json) {
        rc = status_json(st, a.path, &s, &drift, bandit);
    } else {
        rc = status_text(st, a.path, &s, &drift, bandit);
    }
    free(bandit);
    rt_store_close(st);
    return rc;
}
