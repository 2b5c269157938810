/* cmd_policy.c — `ratchet policy show [FILE] [--problem NAME ...]`: prints the default policy
 * (every layer, or the ones a run of one problem instance starts from), or FILE merged over it, as
 * canonical JSON (every knob). Uses only the public API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static void help_policy(FILE *f)
{
    fprintf(f, "usage: ratchet policy show [FILE] [--problem NAME [--PARAM VALUE]...]\n\n"
               "Prints the default policy, or FILE (JSON) merged over the defaults, with every\n"
               "knob. Unknown keys and out-of-range values in FILE are errors naming the key.\n"
               "Give the output (edited) to ratchet run --policy FILE. See docs/policy.md.\n\n"
               "  --problem NAME  the default a run of this problem instance starts from (for\n"
               "                  example --problem matmul --shape 5x5x5): a layer of\n"
               "                  policy/default.json whose scope does not hold the instance\n"
               "                  is left out. Without it: every layer (what ratchet meta\n"
               "                  starts from).\n");
}

#define MAX_PARAMS 16

int cmd_policy(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help_policy(stdout);
            return 0;
        }
    if (argc < 2 || strcmp(argv[1], "show") != 0) {
        usage_error("policy: expected 'show [FILE]' (see ratchet policy --help)");
        return EXIT_USAGE;
    }
    const char *file = NULL, *problem_name = NULL;
    const char *keys[MAX_PARAMS], *values[MAX_PARAMS];
    size_t nparams = 0;
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            if (file) {
                usage_error("policy show: one FILE at most, not also '%.100s'", argv[i]);
                return EXIT_USAGE;
            }
            file = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            usage_error("policy show: %.100s needs a value", argv[i]);
            return EXIT_USAGE;
        }
        if (strcmp(argv[i], "--problem") == 0) {
            problem_name = argv[++i];
        } else if (nparams == MAX_PARAMS) {
            usage_error("policy show: more than %d problem parameters", MAX_PARAMS);
            return EXIT_USAGE;
        } else {
            keys[nparams] = argv[i] + 2;
            values[nparams++] = argv[++i];
        }
    }
    if (nparams && !problem_name) {
        usage_error("policy show: --%.100s is a problem parameter: give --problem NAME too",
                    keys[0]);
        return EXIT_USAGE;
    }
    rt_problem *problem = NULL;
    rt_error err = {0};
    if (problem_name && rt_problem_open(&problem, problem_name, keys, values, nparams, &err)) {
        usage_error("policy show: %s", err.msg);
        return EXIT_USAGE;
    }
    char *text = NULL;
    size_t len = 0;
    char msg[512];
    if (file && input_read_policy(file, "", &text, &len, msg, sizeof msg)) {
        usage_error("policy show: %s", msg);
        rt_problem_close(problem);
        return EXIT_USAGE;
    }
    char *json = NULL;
    int rc = problem ? rt_policy_show_for(problem, text, len, &json, &err)
                     : rt_policy_show(text, len, &json, &err);
    free(text);
    rt_problem_close(problem);
    if (rc) {
        usage_error("policy show: %s%s%s", file ? file : "", file ? ": " : "", err.msg);
        return EXIT_USAGE;
    }
    fputs(json, stdout);
    free(json);
    return 0;
}
