/* args.c — the tool's option parsing: numbers, "--name value" and "--name=value", and the
 * store-and-flags form of status and best. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int parse_num(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* Splits argv[*i] into an option name and its value (`--name value` or `--name=value`).
 * Returns 1 for an option, 0 for a positional argument, -1 on a missing value. */
int next_opt(int argc, char **argv, int *i, const char **name, const char **value,
                    int takes_value)
{
    char *a = argv[*i];
    if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
        return 0;
    char *eq = strchr(a, '=');
    if (eq) {
        *eq = '\0'; /* argv strings are ours to change: split "--name=value" in place */
        *name = a + 2;
        *value = eq + 1;
        return 1;
    }
    *name = a + 2;
    *value = NULL;
    if (takes_value) {
        if (*i + 1 >= argc)
            return -1;
        *value = argv[++*i];
    }
    return 1;
}

int is_flag(const char *name, const char *const *flags)
{
    for (; *flags; flags++)
        if (strcmp(name, *flags) == 0)
            return 1;
    return 0;
}

int open_store_arg(int argc, char **argv, const char *cmd, void (*help)(FILE *),
                          const char *const *flags, const char **path, int *json,
                          const char **format)
{
    *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *name, *value;
        int kind = next_opt(argc, argv, &i, &name, &value, 0);
        if (kind == 0) {
            if (*path) {
                usage_error("%s: unexpected argument '%s'", cmd, argv[i]);
                return EXIT_USAGE;
            }
            *path = argv[i];
            continue;
        }
        if (strcmp(name, "help") == 0) {
            help(stdout);
            return -1;
        }
        if (strcmp(name, "json") == 0 && is_flag(name, flags)) {
            *json = 1;
            continue;
        }
        if (strcmp(name, "format") == 0 && format && is_flag(name, flags)) {
            if (!value) {
                if (i + 1 >= argc) {
                    usage_error("%s: --format needs a value", cmd);
                    return EXIT_USAGE;
                }
                value = argv[++i];
            }
            *format = value;
            continue;
        }
        usage_error("%s: unknown option --%s (see ratchet %s --help)", cmd, name, cmd);
        return EXIT_USAGE;
    }
    if (!*path) {
        usage_error("%s: name a store file (see ratchet %s --help)", cmd, cmd);
        return EXIT_USAGE;
    }
    return 0;
}
