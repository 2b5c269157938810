/* cmd_gen.c — `ratchet gen binpack --family or|weibull --items N --count K --seed S`: writes
 * generated bin packing instances in FunSearch's JSON format. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

typedef struct gen_args {
    const char *problem, *family, *out;
    int items, count;
    uint64_t seed;
} gen_args;

#define AT(field) offsetof(gen_args, field)
static const arg_opt gen_opts[] = {
    {"family", "F", ARG_TEXT, 0, 0, "or or weibull", AT(family),
     "or: sizes uniform in 20..100, capacity 150 (OR1..OR4 have\n"
     "120, 250, 500, 1000 items); weibull: Weibull scale 45,\n"
     "shape 3, rounded, clipped to 1..100, capacity 100"},
    {"items", "N", ARG_INT, 1, 1000000, "1 to 1000000", AT(items), "items per instance"},
    {"count", "K", ARG_INT, 1, 100000, "1 to 100000", AT(count), "instances (default 1)"},
    {"seed", "S", ARG_SEED, 0, 0, NULL, AT(seed), "random seed (default 1)"},
    {"out", "FILE", ARG_TEXT, 0, 0, "a file", AT(out), "write there instead of standard output"},
    {0},
};

static void help_gen(FILE *f)
{
    fprintf(f, "usage: ratchet gen binpack --family or|weibull --items N [--count K] [--seed S]\n"
               "                           [--out FILE]\n\n"
               "Writes generated bin packing instances as FunSearch's JSON: an object mapping\n"
               "each instance's name to {\"capacity\", \"num_items\", \"items\"}.\n");
    args_help(f, gen_opts, 13);
    fprintf(f, "\nExample (an OR3-style set of 20 instances of 500 items):\n"
               "  ratchet gen binpack --family or --items 500 --count 20 --seed 7 --out or3.json\n");
}

static int write_out(const char *path, const char *json)
{
    FILE *f = path ? fopen(path, "w") : stdout;
    if (!f) {
        usage_error("gen: cannot write %s", path);
        return EXIT_USAGE;
    }
    int bad = fputs(json, f) < 0;
    bad |= path ? fclose(f) != 0 : fflush(f) != 0;
    if (bad) {
        usage_error("gen: cannot write %s", path ? path : "standard output");
        return EXIT_USAGE;
    }
    return 0;
}

int cmd_gen(int argc, char **argv)
{
    static const arg_spec spec = {"gen", gen_opts, help_gen, AT(problem), NULL, NULL};
    gen_args a = {.count = 1, .seed = 1};
    int rc = args_parse(&spec, argc, argv, &a, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.problem || strcmp(a.problem, "binpack") != 0) {
        usage_error("gen: name the problem: binpack (see ratchet gen --help)");
        return EXIT_USAGE;
    }
    if (!a.family || !a.items) {
        usage_error("gen: --family and --items are required (see ratchet gen --help)");
        return EXIT_USAGE;
    }
    char *json = NULL;
    rt_error err = {0};
    if (rt_binpack_generate(a.family, a.items, a.count, a.seed, &json, &err)) {
        usage_error("gen: %s", err.msg);
        return exit_for(err.code);
    }
    rc = write_out(a.out, json);
    free(json);
    return rc;
}
