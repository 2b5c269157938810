/* cmd_policy.c — `ratchet policy show [FILE]`: prints the default policy, or FILE merged over
 * the defaults, as canonical JSON (every knob). Uses only the public API. */
#include <errno.h>
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

/* Reads at most 64 KiB + 1 of path into a fresh string; -1 (message on stderr) on failure. */
static int slurp(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ratchet: policy show: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536 + 1;
    char *buf = malloc(cap + 1);
    size_t n = buf ? fread(buf, 1, cap, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad || n == cap || memchr(buf, '\0', n)) {
        fprintf(stderr, "ratchet: policy show: %s: %s\n", path,
                bad ? "cannot read it" : n == cap ? "over 64 KiB" : "contains a NUL byte");
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int cmd_policy(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        help_policy(stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "show") != 0 || argc > 3) {
        fprintf(stderr, "ratchet: policy: expected 'show [FILE]' (see ratchet policy --help)\n");
        return 2;
    }
    char *text = NULL;
    size_t len = 0;
    if (argc == 3 && slurp(argv[2], &text, &len))
        return 2;
    char *json = NULL;
    rt_error err = {0};
    int rc = rt_policy_show(text, len, &json, &err);
    free(text);
    if (rc) {
        fprintf(stderr, "ratchet: policy show: %s%s%s\n", argc == 3 ? argv[2] : "",
                argc == 3 ? ": " : "", err.msg);
        return 2;
    }
    fputs(json, stdout);
    free(json);
    return 0;
}
