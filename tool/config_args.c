/* config_args.c — reads a run's configuration file into extra command-line options.
 * Uses only the public API (rt_config_read). */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

#define MAX_CONFIG_ARGS 256

/* Keys a configuration file may set: `ratchet run` options and the program problem's. */
static const char *const known_keys[] = {
    "seconds", "evaluations", "target", "seed", "islands", "threads", "jobs", "proposer",
    "store", "quiet", "initial", "evaluator", "verifier", "eval-timeout", "eval-memory",
    "cascade", "cascade-threshold", "reproduce-tolerance", "command", "command-timeout",
    "visible", "evaluator-api", "features", NULL};
static const char *const path_keys[] = {"initial", "evaluator", "verifier", "store", NULL};

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

typedef struct collect {
    const char *path;
    char dir[4096];
    char *args[MAX_CONFIG_ARGS];
    int n;
    rt_error *err;
} collect;

static char *join(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", a, b, c);
    return s;
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
    if (!in_list(key, known_keys)) {
        c->err->code = RT_EUSAGE;
        snprintf(c->err->msg, sizeof c->err->msg, "%s:%d: unknown key '%.80s'", c->path, line,
                 key);
        return RT_EUSAGE;
    }
    if (c->n == MAX_CONFIG_ARGS)
        return RT_ETOOBIG;
    char *arg = NULL;
    if (strcmp(key, "quiet") == 0) {
        if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
            arg = join("--quiet", "", "");
        else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
                 strcmp(value, "0") == 0)
            return 0;
        else {
            c->err->code = RT_EUSAGE;
            snprintf(c->err->msg, sizeof c->err->msg, "%s:%d: quiet must be true or false",
                     c->path, line);
            return RT_EUSAGE;
        }
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
static const char *find_problem(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0)
            return a;
        if (!strchr(a, '=') && strcmp(a, "--quiet") != 0 && strcmp(a, "--help") != 0)
            i++;
    }
    return NULL;
}

int config_args_expand(int argc, char **argv, int *out_argc, char ***out_argv)
{
    *out_argc = argc;
    *out_argv = argv;
    const char *path = find_opt(argc, argv, "config");
    char guess[4200];
    if (!path) {
        const char *problem = find_problem(argc, argv);
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
    for (int i = 0; i < c.n; i++)
        nv[1 + i] = c.args[i];
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
