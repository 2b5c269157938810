/* cmd_policy.c — `ratchet policy show [FILE]`: prints the default policy, or FILE merged over
 * the defaults, as canonical JSON (every knob). Uses only the public API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static void help_policy(FILE *f)
{
    fprintf(f, "usage: ratchet policy show [FILE]\n\n"
               "Prints the default policy, or FILE (JSON) merged over the defaults, with every\n"
               "knob. Unknown keys and out-of-range values in FILE are errors naming the key.\n"
               "Give the output (edited) to ratchet run --policy FILE. See docs/policy.md.\n");
}

int cmd_policy(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help_policy(stdout);
            return 0;
        }
    if (argc < 2 || strcmp(argv[1], "show") != 0 || argc > 3) {
        usage_error("policy: expected 'show [FILE]' (see ratchet policy --help)");
        return EXIT_USAGE;
    }
    char *text = NULL;
    size_t len = 0;
    char msg[512];
    if (argc == 3 && input_read_policy(argv[2], "", &text, &len, msg, sizeof msg)) {
        usage_error("policy show: %s", msg);
        return EXIT_USAGE;
    }
    char *json = NULL;
    rt_error err = {0};
    int rc = rt_policy_show(text, len, &json, &err);
    free(text);
    if (rc) {
        usage_error("policy show: %s%s%s", argc == 3 ? argv[2] : "", argc == 3 ? ": " : "",
                    err.msg);
        return EXIT_USAGE;
    }
    fputs(json, stdout);
    free(json);
    return 0;
}
