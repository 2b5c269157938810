/* cmd_list.c — `ratchet list STORE`: the store's candidates, filtered (read-only). */
#include <stddef.h>
#include <stdio.h>

#include "tool.h"

typedef struct list_args {
    const char *path, *op, *model;
    int admitted, rejected, json, island;
    long long top, last;
} list_args;

#define AT(field) offsetof(list_args, field)
static const arg_opt list_opts[] = {
    {"admitted", NULL, ARG_FLAG, 0, 0, NULL, AT(admitted), "only candidates admitted to the archive"},
    {"rejected", NULL, ARG_FLAG, 0, 0, NULL, AT(rejected),
     "only candidates not admitted (invalid, or kept out)"},
    {"island", "N", ARG_INT, 0, 63, "0 to 63", AT(island), "only island N"},
    {"operator", "NAME", ARG_TEXT, 0, 0, "an operator name", AT(op),
     "only children of operator NAME (walk, llm-diff, ...)"},
    {"model", "NAME", ARG_TEXT, 0, 0, "a model name", AT(model),
     "only children written by language model NAME"},
    {"top", "N", ARG_LONG, 1, 1e9, "1 to 1000000000", AT(top),
     "the N best by verified score, best first"},
    {"last", "N", ARG_LONG, 1, 1e9, "1 to 1000000000", AT(last), "only the last N that pass"},
    {"json", NULL, ARG_FLAG, 0, 0, NULL, AT(json), "one JSON object per line"},
    {0},
};

static void help_list(FILE *f)
{
    fprintf(f, "usage: ratchet list STORE [--admitted|--rejected] [--island N] [--operator NAME]\n"
               "                    [--model NAME] [--top N] [--last N] [--json]\n\n"
               "Lists the store's candidates in the order they were found: id, the gate's\n"
               "decision, verified figure, verified score, proxy claim, island, generation and\n"
               "operator. Read-only.\n");
    args_help(f, list_opts, 16);
}

static int print_row(const rt_candidate *c, void *user)
{
    if (*(int *)user) {
        json_t *o = cand_json(c);
        return print_json(o, JSON_COMPACT) ? 1 : 0;
    }
    cand_line(stdout, c);
    return 0;
}

int cmd_list(int argc, char **argv)
{
    static const arg_spec spec = {"list", list_opts, help_list, AT(path), NULL, NULL};
    list_args a = {.island = -1};
    int rc = args_parse(&spec, argc, argv, &a, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.path) {
        usage_error("list: name a store file (see ratchet list --help)");
        return EXIT_USAGE;
    }
    if (a.admitted && a.rejected) {
        usage_error("list: --admitted and --rejected exclude each other");
        return EXIT_USAGE;
    }
    rt_store *st = browse_open("list", a.path);
    if (!st)
        return EXIT_USAGE;
    rt_cand_filter f = {.admitted = a.admitted ? 1 : a.rejected ? -1 : 0,
                        .island = a.island + 1, .op = a.op, .model = a.model, .top = a.top,
                        .limit = a.last};
    if (!a.json)
        printf("%8s  %-8s %12s  %12s  %12s  %6s  %10s  %s\n", "id", "gate", "metric", "score",
               "proxy", "island", "generation", "operator");
    rc = rt_store_candidates(st, &f, print_row, &a.json);
    if (rc > 0)
        usage_error("list: cannot write the list");
    else if (rc)
        usage_error("list: %s", rt_store_errmsg(st));
    rt_store_close(st);
    return rc ? EXIT_USAGE : 0;
}
