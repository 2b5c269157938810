/* cmd_verify.c — `ratchet verify FILE`: verifies a candidate from scratch. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define VERIFY_MAX_INPUT ((size_t)64 << 20)

typedef struct verify_args {
    const char *path, *problem;
    int json;
    arg_params params; /* the problem's parameters */
} verify_args;

static const arg_opt verify_opts[] = {
    {"problem", "NAME", ARG_TEXT, 0, 0, NULL, offsetof(verify_args, problem),
     "the problem (default matmul)"},
    {"json", NULL, ARG_FLAG, 0, 0, NULL, offsetof(verify_args, json), "print one JSON object"},
    {0},
};

static void help_verify(FILE *f)
{
    fprintf(f, "usage: ratchet verify FILE [--problem NAME] [PROBLEM OPTIONS] [--json]\n\n"
               "Verifies a candidate from scratch. FILE may be - for standard input.\n"
               "Exit 0 and the figure (for matmul the rank) when it holds, 1 naming the\n"
               "first failing check when it does not, 2 when FILE is unreadable or malformed.\n");
    args_help(f, verify_opts, 17);
    /* only what a verification reads: a search's settings (matmul's --walk, a program's
     * --command) have no say in a verdict */
    static const char *const problems[] = {"matmul", "program"};
    for (size_t i = 0; i < sizeof problems / sizeof problems[0]; i++)
        fprintf(f, "\n%s options:\n%s", problems[i],
                rt_problem_verify_params_help(problems[i]));
    fprintf(f, "\nExample:\n  ratchet verify best.exp --shape 3x3x3 --field gf2\n");
}

/* Any other option is a parameter of the problem. */
static int verify_other(void *dest, const char *name, const char *value)
{
    verify_args *a = dest;
    return args_param("verify", &a->params, name, value);
}

/* Those the problem's verification reads. */
static int verify_known(const void *dest, const char *name)
{
    const verify_args *a = dest;
    return rt_problem_has_param(a->problem, name, 1);
}

/* Prints the verdict on path: a line of text, or one JSON object. */
static void verify_print(const char *path, const rt_verdict *v, int json)
{
    if (!json) {
        if (v->valid)
            printf("valid: %s\n", v->summary);
        else
            printf("invalid: %s: %s\n", v->summary, v->reason);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "valid", json_boolean(v->valid));
    json_object_set_new(o, "file", json_string(path));
    if (v->valid)
        json_object_set_new(o, v->metric_name, json_number(v->metric));
    json_object_set_new(o, "summary", json_string(v->summary));
    if (!v->valid)
        json_object_set_new(o, "reason", json_string(v->reason));
    if (print_json(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)))
        printf("{}\n");
}

int cmd_verify(int argc, char **argv)
{
    static const arg_spec spec = {"verify", verify_opts, help_verify,
                                  offsetof(verify_args, path), verify_other, verify_known};
    args_seen peek = {.names = {"problem"}};
    args_peek(&spec, argc, argv, &peek);
    verify_args a = {.problem = peek.values[0] ? peek.values[0] : "matmul"};
    if (!peek.help && rt_problem_params_help(a.problem) == NULL) {
        usage_error("verify: unknown problem '%s'", a.problem);
        return EXIT_USAGE;
    }
    int rc = args_parse(&spec, argc, argv, &a, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.path) {
        usage_error("verify: name a file to verify (see ratchet verify --help)");
        return EXIT_USAGE;
    }
    rt_error err = {0};
    rt_problem *pb = NULL;
    if (rt_problem_open(&pb, a.problem, a.params.keys, a.params.values, a.params.n, &err)) {
        usage_error("verify: %s", err.msg);
        return EXIT_USAGE;
    }
    char *text = NULL;
    size_t len = 0;
    char msg[512];
    if (input_read(a.path, VERIFY_MAX_INPUT, &text, &len, msg, sizeof msg)) {
        usage_error("verify: %s", msg);
        rt_problem_close(pb);
        return EXIT_USAGE;
    }
    rt_verdict v;
    rc = rt_problem_verify_text(pb, text, len, &v, &err);
    free(text);
    rt_problem_close(pb);
    if (rc) {
        if (a.json && print_json(json_pack("{s:b,s:s,s:s}", "valid", 0, "error", "malformed",
                                           "reason", err.msg),
                                 JSON_COMPACT))
            printf("{}\n");
        usage_error("verify: %s: %s", a.path, err.msg);
        return EXIT_USAGE;
    }
    verify_print(a.path, &v, a.json);
    return v.valid ? 0 : EXIT_FAIL;
}
