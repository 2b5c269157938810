/* cmd_verify.c — `ratchet verify FILE`: verifies a candidate from scratch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static void help_verify(FILE *f)
{
    fprintf(f, "usage: ratchet verify FILE [--problem NAME] [PROBLEM OPTIONS] [--json]\n\n"
               "Verifies a candidate from scratch. FILE may be - for standard input.\n"
               "Exit 0 and the figure (for matmul the rank) when it holds, 1 naming the\n"
               "first failing check when it does not, 2 when FILE is unreadable or malformed.\n"
               "  --problem NAME   the problem (default matmul)\n"
               "  --json           print one JSON object\n\n"
               "matmul options:\n%s\n"
               "Example:\n  ratchet verify best.exp --shape 3x3x3 --field gf2\n",
            rt_problem_params_help("matmul"));
}

int cmd_verify(int argc, char **argv)
{
    const char *path = NULL, *problem_name = "matmul";
    int json = 0;
    opt_list params = {.n = 0};
    for (int i = 1; i < argc; i++) {
        const char *name, *value;
        if (strcmp(argv[i], "-") == 0 && !path) {
            path = "-";
            continue;
        }
        int kind = next_opt(argc, argv, &i, &name, &value, 0);
        if (kind == 0) {
            if (path) {
                usage_error("verify: unexpected argument '%s'", argv[i]);
                return EXIT_USAGE;
            }
            path = argv[i];
            continue;
        }
        if (strcmp(name, "help") == 0) {
            help_verify(stdout);
            return 0;
        }
        if (strcmp(name, "json") == 0) {
            json = 1;
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                usage_error("verify: --%s needs a value", name);
                return EXIT_USAGE;
            }
            value = argv[++i];
        }
        if (strcmp(name, "problem") == 0) {
            problem_name = value;
        } else {
            if (params.n == MAX_PARAMS) {
                usage_error("verify: too many options");
                return EXIT_USAGE;
            }
            params.keys[params.n] = name;
            params.values[params.n] = value;
            params.n++;
        }
    }
    if (!path) {
        usage_error("verify: name a file to verify (see ratchet verify --help)");
        return EXIT_USAGE;
    }
    rt_error err = {0};
    rt_problem *pb = NULL;
    if (rt_problem_open(&pb, problem_name, params.keys, params.values, params.n, &err)) {
        usage_error("verify: %s", err.msg);
        return EXIT_USAGE;
    }
    char *text = NULL;
    size_t len = 0;
    char msg[512];
    if (read_input(path, &text, &len, msg, sizeof msg)) {
        usage_error("verify: %s", msg);
        rt_problem_close(pb);
        return EXIT_USAGE;
    }
    rt_verdict v;
    int rc = rt_problem_verify_text(pb, text, len, &v, &err);
    free(text);
    rt_problem_close(pb);
    if (rc) {
        if (json) {
            json_t *o = json_pack("{s:b,s:s,s:s}", "valid", 0, "error", "malformed", "reason",
                                  err.msg);
            char *s = json_dumps(o, JSON_COMPACT);
            printf("%s\n", s ? s : "{}");
            free(s);
            json_decref(o);
        }
        usage_error("verify: %s: %s", path, err.msg);
        return EXIT_USAGE;
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "valid", json_boolean(v.valid));
        json_object_set_new(o, "file", json_string(path));
        if (v.valid)
            json_object_set_new(o, v.metric_name, json_number(v.metric));
        json_object_set_new(o, "summary", json_string(v.summary));
        if (!v.valid)
            json_object_set_new(o, "reason", json_string(v.reason));
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        printf("%s\n", s ? s : "{}");
        free(s);
        json_decref(o);
    } else if (v.valid) {
        printf("valid: %s\n", v.summary);
    } else {
        printf("invalid: %s: %s\n", v.summary, v.reason);
    }
    return v.valid ? 0 : EXIT_FAIL;
}
