/* cmd_eval.c — `ratchet eval binpack --solver FILE|STORE --instances FILE`: packs instance files
 * with a priority expression through the verifier's code path and prints the excess over L1. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

typedef struct eval_args {
    const char *problem, *solver, *instances, *packing;
    int json;
} eval_args;

#define AT(field) offsetof(eval_args, field)
static const arg_opt eval_opts[] = {
    {"solver", "S", ARG_TEXT, 0, 0, "a file, a store, bestfit or firstfit", AT(solver),
     "a file holding a priority expression, a binpack run's store\n"
     "(its best verified candidate), or bestfit / firstfit"},
    {"instances", "FILE", ARG_TEXT, 0, 0, "a file", AT(instances),
     "FunSearch-style JSON instances (ratchet gen makes them)"},
    {"packing", "OUT", ARG_TEXT, 0, 0, "a file", AT(packing),
     "write each instance's bins (lists of item indices) as JSON"},
    {"json", NULL, ARG_FLAG, 0, 0, NULL, AT(json), "print one JSON object"},
    {0},
};

static void help_eval(FILE *f)
{
    fprintf(f, "usage: ratchet eval binpack --solver FILE|STORE --instances FILE\n"
               "                            [--packing OUT] [--json]\n\n"
               "Packs every instance online with the solver's priority function, checks each\n"
               "packing (every item once, no bin over capacity) and prints the bins, the L1\n"
               "bound ceil(sum/capacity) and the excess over it, per instance and overall.\n");
    args_help(f, eval_opts, 18);
}

/* The solver's text: a store's best, a named baseline, or a file's contents. */
static int solver_text(const char *solver, char **text)
{
    if (strcmp(solver, "bestfit") == 0 || strcmp(solver, "firstfit") == 0) {
        *text = strdup(solver[0] == 'b' ? "(neg f)" : "0");
        return *text ? 0 : EXIT_FAIL;
    }
    char magic[16] = {0};
    FILE *f = fopen(solver, "rb");
    size_t got = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f)
        fclose(f);
    if (got == sizeof magic && memcmp(magic, "SQLite format 3", 16) == 0) {
        rt_error err = {0};
        rt_store *st = NULL;
        int rc = rt_store_open(&st, solver, &err);
        if (!rc && (rc = rt_store_best(st, text)) != 0)
            snprintf(err.msg, sizeof err.msg, "%s", rt_store_errmsg(st));
        rt_store_close(st);
        if (rc)
            usage_error("eval: --solver %s: %s", solver, err.msg);
        return rc ? exit_for(rc) : 0;
    }
    char msg[512];
    size_t len;
    if (input_read(solver, (size_t)1 << 20, text, &len, msg, sizeof msg)) {
        usage_error("eval: --solver: %s", msg);
        return EXIT_USAGE;
    }
    return 0;
}

static void print_rows(const rt_binpack_row *rows, size_t n, const char *solver, int json)
{
    if (!json) {
        printf("%-24s %8s %8s %8s %9s\n", "instance", "items", "bins", "L1", "excess%");
        for (size_t i = 0; i < n; i++)
            printf("%-24s %8lld %8lld %8lld %9.4f\n", rows[i].name, rows[i].items, rows[i].bins,
                   rows[i].l1, rows[i].excess);
        printf("mean bins %.4f over %zu instances\n", (double)rows[n - 1].bins / (double)(n - 1),
               n - 1);
        return;
    }
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "solver", json_string(solver));
    for (size_t i = 0; i + 1 < n; i++) {
        json_t *r = json_object();
        json_object_set_new(r, "name", json_string(rows[i].name));
        json_object_set_new(r, "items", json_integer(rows[i].items));
        json_object_set_new(r, "bins", json_integer(rows[i].bins));
        json_object_set_new(r, "l1", json_integer(rows[i].l1));
        json_object_set_new(r, "excess_percent", json_real(rows[i].excess));
        json_array_append_new(arr, r);
    }
    json_object_set_new(o, "instances", arr);
    json_object_set_new(o, "mean_bins", json_real((double)rows[n - 1].bins / (double)(n - 1)));
    json_object_set_new(o, "bins", json_integer(rows[n - 1].bins));
    json_object_set_new(o, "l1", json_integer(rows[n - 1].l1));
    json_object_set_new(o, "excess_percent", json_real(rows[n - 1].excess));
    if (print_json(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)))
        printf("{}\n");
}

static int write_packing(const char *path, const char *json)
{
    FILE *f = fopen(path, "w");
    int bad = !f || fputs(json, f) < 0;
    if (f)
        bad |= fclose(f) != 0;
    if (bad)
        usage_error("eval: cannot write --packing %s", path);
    return bad ? EXIT_USAGE : 0;
}

int cmd_eval(int argc, char **argv)
{
    static const arg_spec spec = {"eval", eval_opts, help_eval, AT(problem), NULL, NULL};
    eval_args a = {0};
    int rc = args_parse(&spec, argc, argv, &a, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.problem || strcmp(a.problem, "binpack") != 0) {
        usage_error("eval: name the problem: binpack (see ratchet eval --help)");
        return EXIT_USAGE;
    }
    if (!a.solver || !a.instances) {
        usage_error("eval: --solver and --instances are required (see ratchet eval --help)");
        return EXIT_USAGE;
    }
    char *text = NULL, *packing = NULL;
    if ((rc = solver_text(a.solver, &text)) != 0)
        return rc;
    rt_binpack_row *rows = NULL;
    size_t n = 0;
    rt_error err = {0};
    rc = rt_binpack_evaluate(text, strlen(text), a.instances, &rows, &n,
                             a.packing ? &packing : NULL, &err);
    free(text);
    if (rc) {
        usage_error("eval: %s", err.msg);
        return exit_for(rc);
    }
    print_rows(rows, n, a.solver, a.json);
    rc = a.packing ? write_packing(a.packing, packing) : 0;
    free(rows);
    free(packing);
    return rc;
}
