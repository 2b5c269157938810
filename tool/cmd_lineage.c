/* cmd_lineage.c — `ratchet lineage STORE ID`: the candidate's ancestors back to the seed, with
 * the score at each step (read-only). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "tool.h"

typedef struct lineage_args {
    const char *pos[2]; /* STORE ID */
    int json;
} lineage_args;

static const arg_opt lineage_opts[] = {
    {"json", NULL, ARG_FLAG, 0, 0, NULL, offsetof(lineage_args, json), "one JSON array"},
    {0},
};

static void help_lineage(FILE *f)
{
    fprintf(f, "usage: ratchet lineage STORE ID [--json]\n\n"
               "Prints the chain of ancestors of candidate ID (a row id, or 'best'), from the\n"
               "seed to ID, one line each with its verified figure and score, the proxy's\n"
               "claim and the operator that made it. Read-only.\n");
    args_help(f, lineage_opts, 9);
}

/* Prints ids[n-1] (the seed) down to ids[0]. */
static int print_chain(rt_store *st, const long long *ids, size_t n, int json)
{
    json_t *arr = json ? json_array() : NULL;
    if (!json)
        printf("%8s  %-8s %12s  %12s  %12s  %6s  %10s  %s\n", "id", "gate", "metric", "score",
               "proxy", "island", "generation", "operator");
    for (size_t i = n; i-- > 0;) {
        rt_candidate c;
        if (rt_store_candidate(st, ids[i], &c)) {
            json_decref(arr);
            usage_error("lineage: %s", rt_store_errmsg(st));
            return EXIT_USAGE;
        }
        if (json)
            json_array_append_new(arr, cand_json(&c));
        else
            cand_line(stdout, &c);
    }
    if (json && print_json(arr, JSON_INDENT(1))) {
        usage_error("lineage: cannot write the lineage");
        return EXIT_USAGE;
    }
    return 0;
}

int cmd_lineage(int argc, char **argv)
{
    static const arg_spec spec = {"lineage", lineage_opts, help_lineage,
                                  offsetof(lineage_args, pos), NULL, NULL};
    lineage_args a = {0};
    int rc = args_parse_n(&spec, 1, argc, argv, &a, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.pos[1]) {
        usage_error("lineage: name a store file and a candidate id (see ratchet lineage --help)");
        return EXIT_USAGE;
    }
    rt_store *st = browse_open("lineage", a.pos[0]);
    if (!st)
        return EXIT_USAGE;
    long long id, *ids = NULL;
    size_t n = 0;
    rc = browse_id("lineage", st, a.pos[1], &id);
    if (!rc && rt_store_lineage(st, id, &ids, &n)) {
        usage_error("lineage: %s", rt_store_errmsg(st));
        rc = EXIT_USAGE;
    }
    if (!rc)
        rc = print_chain(st, ids, n, a.json);
    free(ids);
    rt_store_close(st);
    return rc;
}
