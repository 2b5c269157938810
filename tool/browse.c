/* browse.c — what the browsing commands (list, show, diff, lineage, watch) share: opening a
 * store, reading a candidate id, printing a row. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

rt_store *browse_open(const char *cmd, const char *path)
{
    rt_error err = {0};
    rt_store *st = NULL;
    if (rt_store_open(&st, path, &err)) {
        usage_error("%s: %s", cmd, err.msg);
        return NULL;
    }
    return st;
}

/* The best verified candidate's id, 0 when none. */
static int best_id(const rt_candidate *c, void *user)
{
    *(long long *)user = c->id;
    return 1;
}

int browse_id(const char *cmd, rt_store *st, const char *s, long long *id)
{
    *id = 0;
    if (strcmp(s, "best") == 0) {
        rt_cand_filter f = {.top = 1};
        int rc = rt_store_candidates(st, &f, best_id, id);
        if (rc < 0) {
            usage_error("%s: %s", cmd, rt_store_errmsg(st));
            return EXIT_USAGE;
        }
        if (!*id) {
            usage_error("%s: the store has no verified candidate yet", cmd);
            return EXIT_USAGE;
        }
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !*s || *end || v <= 0) {
        usage_error("%s: bad candidate id '%s': expected a positive integer or 'best'", cmd, s);
        return EXIT_USAGE;
    }
    rt_candidate c;
    if (rt_store_candidate(st, v, &c)) {
        usage_error("%s: %s", cmd, rt_store_errmsg(st));
        return EXIT_USAGE;
    }
    *id = v;
    return 0;
}

/* A number, or null when it is NaN. */
static json_t *num_or_null(double v) { return isnan(v) ? json_null() : json_number(v); }

json_t *cand_json(const rt_candidate *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "hash", json_string(c->hash));
    json_object_set_new(o, "parent", c->parent[0] ? json_string(c->parent) : json_null());
    json_object_set_new(o, "operator", json_string(c->op));
    json_object_set_new(o, "island", json_integer(c->island));
    json_object_set_new(o, "generation", json_integer(c->generation));
    json_object_set_new(o, "time", json_real(c->time));
    json_object_set_new(o, "proxy", num_or_null(c->proxy));
    json_object_set_new(o, "proxy2", num_or_null(c->proxy2));
    json_object_set_new(o, "valid", json_boolean(c->valid));
    json_object_set_new(o, "score", num_or_null(c->score));
    json_object_set_new(o, "score2", num_or_null(c->score2));
    json_object_set_new(o, "metric", num_or_null(c->metric));
    json_object_set_new(o, "admitted", json_boolean(c->admitted));
    json_object_set_new(o, "trusted", json_boolean(c->trusted));
    json_object_set_new(o, "reason", c->reason[0] ? json_string(c->reason) : json_null());
    return o;
}

/* Prints v in a field of width 12, "-" when it is NaN (no verified figure). */
static void put_num(FILE *f, double v)
{
    if (isnan(v))
        fprintf(f, "%12s", "-");
    else
        fprintf(f, "%12.6g", v);
}

void cand_line(FILE *f, const rt_candidate *c)
{
    fprintf(f, "%8lld  %-8s ", c->id, c->admitted ? "admitted" : c->valid ? "kept-out" : "invalid");
    put_num(f, c->metric);
    fputs("  ", f);
    put_num(f, c->score);
    fputs("  ", f);
    put_num(f, c->proxy);
    fprintf(f, "  %6d  %10lld  %s\n", c->island, c->generation, c->op);
}
