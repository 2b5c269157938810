/* args.c — a command's options from its table (tool.h, "args.c"): one loop reads them all,
 * checks numbers against their ranges, and prints the option lines of the help, so that what a
 * command accepts and what its help says come from the same rows. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/* Arguments that came from a configuration file: the string (its first len bytes hold the
 * option, also after "--name=value" is split) and where it was read ("FILE:LINE"). */
#define MAX_ORIGINS 256
static struct {
    const char *arg;
    size_t len;
    char where[200];
} origins[MAX_ORIGINS];
static int norigins;

void args_note_origin(const char *arg, const char *where)
{
    if (norigins == MAX_ORIGINS)
        return;
    origins[norigins].arg = arg;
    origins[norigins].len = strlen(arg);
    snprintf(origins[norigins].where, sizeof origins[norigins].where, "%s", where);
    norigins++;
}

const char *args_origin(const char *p)
{
    for (int i = 0; p && i < norigins; i++)
        if (p >= origins[i].arg && p <= origins[i].arg + origins[i].len)
            return origins[i].where;
    return NULL;
}

/* A usage error about the argument arg: "CMD: FILE:LINE: ..." when it came from a
 * configuration file, "CMD: ..." when it was given on the command line. */
__attribute__((format(printf, 3, 4))) static void arg_error(const char *cmd, const char *arg,
                                                            const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *where = args_origin(arg);
    usage_error("%s: %s%s%s", cmd, where ? where : "", where ? ": " : "", msg);
}

/* The row named name, or NULL. */
static const arg_opt *find_opt(const arg_opt *opts, const char *name)
{
    for (; opts->name; opts++)
        if (strcmp(opts->name, name) == 0)
            return opts;
    return NULL;
}

/* The one number parser: reads s as the row's type into dest. Returns 0, or -1 when s is not a
 * number of that type within the row's range (dest unchanged). */
static int parse_number(const arg_opt *o, const char *s, void *dest)
{
    char *end = NULL;
    errno = 0;
    if (!*s)
        return -1;
    if (o->type == ARG_SEED) {
        if (*s == '-')
            return -1;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end)
            return -1;
        *(uint64_t *)dest = v;
        return 0;
    }
    if (o->type == ARG_NUM) {
        double v = strtod(s, &end);
        if (errno || *end || !(v >= o->lo && v <= o->hi))
            return -1;
        *(double *)dest = v;
        return 0;
    }
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < (long long)o->lo || v > (long long)o->hi)
        return -1;
    if (o->type == ARG_INT)
        *(int *)dest = (int)v;
    else
        *(long long *)dest = v;
    return 0;
}

/* Stores value (NULL for a flag) as row o says. Returns 0, or EXIT_USAGE after printing why. */
static int store_value(const char *cmd, const arg_opt *o, const char *value, char *dest)
{
    void *field = dest + o->offset;
    switch (o->type) {
    case ARG_FLAG:
        *(int *)field = 1;
        return 0;
    case ARG_TEXT:
        if (o->expect && !*value) {
            arg_error(cmd, value, "--%s needs %s", o->name, o->expect);
            return EXIT_USAGE;
        }
        *(const char **)field = value;
        return 0;
    default:
        if (parse_number(o, value, field) == 0)
            return 0;
        arg_error(cmd, value, "bad --%s '%s': expected %s", o->name, value, o->expect);
        return EXIT_USAGE;
    }
}

/* A positional argument: into the first of the spec's slots that is free. */
static int take_positional(const arg_spec *spec, int more, const char *arg, char *dest)
{
    for (int k = 0; spec->positional >= 0 && k <= more; k++) {
        const char **slot = (const char **)(dest + spec->positional) + k;
        if (!*slot) {
            *slot = arg;
            return 0;
        }
    }
    arg_error(spec->cmd, arg, "unexpected argument '%s'", arg);
    return EXIT_USAGE;
}

int args_parse(const arg_spec *spec, int argc, char **argv, void *dest, int *seen)
{
    return args_parse_n(spec, 0, argc, argv, dest, seen);
}

int args_parse_n(const arg_spec *spec, int more, int argc, char **argv, void *dest, int *seen)
{
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "-h") == 0) {
            spec->help(stdout);
            return -1;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (take_positional(spec, more, a, dest))
                return EXIT_USAGE;
            continue;
        }
        const char *name = a + 2, *value = NULL;
        char *eq = strchr(a, '=');
        if (eq) {
            *eq = '\0'; /* argv strings are ours to change: split "--name=value" in place */
            value = eq + 1;
        }
        if (strcmp(name, "help") == 0) {
            spec->help(stdout);
            return -1;
        }
        const arg_opt *o = find_opt(spec->opts, name);
        if (!o && (!spec->other || (spec->known && !spec->known(dest, name)))) {
            arg_error(spec->cmd, a, "unknown option --%s (see ratchet %s --help)", name,
                      spec->cmd);
            return EXIT_USAGE;
        }
        if (o && o->type == ARG_FLAG && value) {
            arg_error(spec->cmd, a, "--%s takes no value", name);
            return EXIT_USAGE;
        }
        if (!value && !(o && o->type == ARG_FLAG)) {
            if (i + 1 >= argc) {
                const char *needs = o && o->type == ARG_TEXT && o->expect ? o->expect : "a value";
                arg_error(spec->cmd, a, "--%s needs %s", name, needs);
                return EXIT_USAGE;
            }
            value = argv[++i];
        }
        int rc = o ? store_value(spec->cmd, o, value, dest) : spec->other(dest, name, value);
        if (rc)
            return rc;
        if (o && seen)
            seen[o - spec->opts] = i;
    }
    return 0;
}

void args_help_line(FILE *f, const char *head, const char *help, int width)
{
    fprintf(f, "  %-*s ", width - 1, head);
    for (const char *line = help; *line;) {
        size_t n = strcspn(line, "\n");
        fprintf(f, "%.*s\n", (int)n, line);
        line += n;
        if (*line == '\n' && *++line)
            fprintf(f, "  %*s", width, "");
    }
}

void args_help(FILE *f, const arg_opt *opts, int width)
{
    for (; opts->name; opts++) {
        if (!opts->help)
            continue;
        char head[64];
        snprintf(head, sizeof head, "--%s%s%s", opts->name, opts->value ? " " : "",
                 opts->value ? opts->value : "");
        args_help_line(f, head, opts->help, width);
    }
}

int args_param(const char *cmd, arg_params *params, const char *name, const char *value)
{
    if (params->n == ARG_MAX_PARAMS) {
        usage_error("%s: too many options", cmd);
        return EXIT_USAGE;
    }
    params->keys[params->n] = name;
    params->values[params->n] = value;
    params->n++;
    return 0;
}

/* 1 when the argument a is the option --name, in either form ("--name", "--name=value"). */
static int is_option(const char *a, const char *name)
{
    size_t k = strlen(name);
    return strncmp(a, "--", 2) == 0 && strncmp(a + 2, name, k) == 0 &&
           (a[2 + k] == '=' || a[2 + k] == '\0');
}

void args_peek(const arg_spec *spec, int argc, char **argv, args_seen *out)
{
    out->help = 0;
    out->positional = NULL;
    for (int n = 0; n < ARGS_PEEK_MAX; n++)
        out->values[n] = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            out->help = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (!out->positional)
                out->positional = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t k = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        const arg_opt *o = spec->opts;
        while (o->name && (strlen(o->name) != k || strncmp(o->name, a + 2, k) != 0))
            o++;
        const char *value = eq ? eq + 1 : NULL;
        if (!eq && !(o->name && o->type == ARG_FLAG) && i + 1 < argc)
            value = argv[++i];
        for (int n = 0; n < ARGS_PEEK_MAX && out->names[n]; n++)
            if (is_option(a, out->names[n]))
                out->values[n] = value;
    }
}
