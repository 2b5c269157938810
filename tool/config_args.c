/* config_args.c — reads a run's configuration file into extra command-line options.
 * Uses only the public API (rt_config_read). */
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

#define MAX_CONFIG_ARGS 256

/* Keys whose values are paths, taken relative to the file's folder. Which keys exist is
 * args_parse's to say (with the file's place in its message), as for flags. */
static const char *const path_keys[] = {"initial", "evaluator", "verifier", "store", "resume",
                                        "policy", "llm-prompts", NULL};
/* Keys a file cannot set: the file itself, and the help. */
static const char *const refused_keys[] = {"config", "help", NULL};

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static char *join(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

typedef struct collect {
    const char *path;
    char dir[4096];
    const arg_opt *opts; /* run's table: which keys are flags */
    char *args[MAX_CONFIG_ARGS];
    int lines[MAX_CONFIG_ARGS];
    int n;
    rt_error *err;
} collect;

/* Fills err with "FILE:LINE: what" and returns RT_EUSAGE. */
__attribute__((format(printf, 3, 4))) static int entry_error(collect *c, int line,
                                                             const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    c->err->code = RT_EUSAGE;
    snprintf(c->err->msg, sizeof c->err->msg, "%s:%d: %s", c->path, line, what);
    return RT_EUSAGE;
}

/* 1 when key is a flag of run's table. */
static int is_flag(const collect *c, const char *key)
{
    for (const arg_opt *o = c->opts; o->name; o++)
        if (strcmp(o->name, key) == 0)
            return o->type == ARG_FLAG;
    return 0;
}

/* A flag's entry: "--key" for true, nothing (*arg NULL, 0) for false. */
static int flag_arg(collect *c, const char *key, const char *value, int line, char **arg)
{
    *arg = NULL;
    if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0) {
        *arg = join("--", key, "");
        return *arg ? 0 : RT_ENOMEM;
    }
    if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
        return 0;
    return entry_error(c, line, "%s must be true or false, not '%.60s'", key, value);
}


/* --visible=PATH[:PATH...] with each relative path taken from dir (the file's folder), or NULL
 * when memory runs out. */
static char *visible_arg(const char *dir, const char *value)
{
    size_t cap = strlen("--visible=") + strlen(value) + 1;
    for (const char *p = value; *p; p++)
        if (*p == ':')
            cap += strlen(dir) + 1;
    cap += strlen(dir) + 1;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t w = (size_t)snprintf(out, cap, "--visible=");
    for (const char *p = value;;) {
        size_t len = strcspn(p, ":");
        if (len && p[0] != '/')
            w += (size_t)snprintf(out + w, cap - w, "%s/", dir);
        w += (size_t)snprintf(out + w, cap - w, "%.*s", (int)len, p);
        if (!p[len])
            break;
        w += (size_t)snprintf(out + w, cap - w, ":");
        p += len + 1;
    }
    return out;
}

static int on_entry(const char *key, const char *value, int line, void *user)
{
    collect *c = user;
    if (in_list(key, refused_keys))
        return entry_error(c, line, "'%s' cannot be set in a configuration file", key);
    if (c->n == MAX_CONFIG_ARGS)
        return entry_error(c, line, "more than %d entries", MAX_CONFIG_ARGS);
    char *arg = NULL;
    if (is_flag(c, key)) {
        int rc = flag_arg(c, key, value, line, &arg);
        if (rc || !arg)
            return rc;
    } else if (strcmp(key, "visible") == 0) {
        arg = visible_arg(c->dir, value);
    } else {
        int rel = value[0] && value[0] != '/' &&
                  (in_list(key, path_keys) ||
                   (strcmp(key, "command") == 0 && strcspn(value, "/") < strcspn(value, " \t")));
        char *v = rel ? join(c->dir, "/", value) : join(value, "", "");
        if (!v)
            return RT_ENOMEM;
        char *k = join("--", key, "=");
        arg = k ? join(k, v, "") : NULL;
        free(k);
        free(v);
    }
    if (!arg)
        return RT_ENOMEM;
    c->lines[c->n] = line;
    c->args[c->n++] = arg;
    return 0;
}

/* The value of --name in argv (either form), or NULL. */
static const char *find_opt(int argc, char **argv, const char *name)
{
    size_t k = strlen(name);
    const char *found = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, k) != 0)
            continue;
        if (a[2 + k] == '=')
            found = a + 3 + k;
        else if (a[2 + k] == '\0' && i + 1 < argc)
            found = argv[++i];
    }
    return found;
}

/* The first positional argument (the problem), skipping option values. */
static const char *find_problem(const arg_opt *opts, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            continue;
        if (strncmp(a, "--", 2) != 0)
            return a;
        const arg_opt *o = opts;
        while (o->name && strcmp(o->name, a + 2) != 0)
            o++;
        if (!strchr(a, '=') && !(o->name && o->type == ARG_FLAG))
            i++;
    }
    return NULL;
}

int config_args_expand(const arg_opt *opts, int argc, char **argv, int *out_argc,
                       char ***out_argv)
{
    *out_argc = argc;
    *out_argv = argv;
    const char *path = find_opt(argc, argv, "config");
    char guess[4200];
    if (!path) {
        const char *problem = find_problem(opts, argc, argv);
        const char *initial = find_opt(argc, argv, "initial");
        if (!problem || strcmp(problem, "program") != 0 || !initial)
            return 0;
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", initial);
        snprintf(guess, sizeof guess, "%s/ratchet.ini", dirname(copy));
        if (access(guess, F_OK) != 0)
            return 0;
        path = guess;
    }
    collect c;
    memset(&c, 0, sizeof c);
    rt_error err = {0};
    c.path = path;
    c.opts = opts;
    c.err = &err;
    char pcopy[4200];
    snprintf(pcopy, sizeof pcopy, "%s", path);
    snprintf(c.dir, sizeof c.dir, "%s", dirname(pcopy));
    int rc = rt_config_read(path, on_entry, &c, &err);
    if (rc) {
        usage_error("run: %s", err.msg[0] ? err.msg : "configuration file: out of memory");
        for (int i = 0; i < c.n; i++)
            free(c.args[i]);
        return EXIT_USAGE;
    }
    char **nv = calloc((size_t)(argc + c.n + 1), sizeof *nv);
    if (!nv) {
        for (int i = 0; i < c.n; i++)
            free(c.args[i]);
        usage_error("run: out of memory");
        return EXIT_USAGE;
    }
    nv[0] = argv[0];
    for (int i = 0; i < c.n; i++) {
        char where[4300];
        snprintf(where, sizeof where, "%s:%d", path, c.lines[i]);
        args_note_origin(c.args[i], where);
        nv[1 + i] = c.args[i];
    }
    for (int i = 1; i < argc; i++)
        nv[c.n + i] = argv[i];
    *out_argc = argc + c.n;
    *out_argv = nv;
    return 0;
}

void config_args_free(char **argv, char **expanded, int argc)
{
    if (expanded == argv)
        return;
    /* the file's entries are the strings not found in the original argv */
    for (int i = 1; i < argc; i++) {
        int orig = 0;
        for (int j = 0; argv[j]; j++)
            if (argv[j] == expanded[i]) {
                orig = 1;
                break;
            }
        if (!orig)
            free(expanded[i]);
    }
    free(expanded);
}
