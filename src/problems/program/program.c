/* program.c — the `program` problem: evolve a user's program judged by a user's evaluator.
 *
 * Parameters (docs/program.md): initial, evaluator, evaluator-api, verifier, eval-timeout,
 * eval-memory, cascade, cascade-threshold, reproduce-tolerance, eval-network, command,
 * command-timeout, visible, features.
 * Paths are made absolute at creation, so a run resumes from any working directory; the
 * canonical parameter string escapes spaces and '%' as %20 and %25.
 *
 * Threads: evaluate() and verify() run on the engine's worker threads, several at once. The
 * state is read-only except for the cascade's best scores per stage and the scores awaiting a
 * reproduction check, both under `lock`.
 */
#include "problems/program/program.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/cert.h"
#include "param.h"
#include "sandbox/sandbox.h"
#include "problems/program/program_eval.h"
#include "problems/program/program_features.h"
#include "problems/program/program_openevolve.h"
#include "problems/program/program_text.h"

#define MAX_CASCADE 8
#define MAX_CMD_ARGS 64
#define MAX_VISIBLE 8 /* --visible paths */
#define TAIL_BYTES 2048
#define MAX_PENDING 4096
#define MAX_CANON 2000

typedef struct pending {
    char hash[65];
    double score;
} pending;

typedef struct program_shared {
    pthread_mutex_t lock;
    int has_best[MAX_CASCADE + 1];
    double best[MAX_CASCADE + 1]; /* best score seen at each cascade stage */
    pending *pend;                /* evaluated scores awaiting the no-verifier gate */
    size_t npend, cap;
} program_shared;

typedef struct program_state {
    char initial[4096], evaluator[4096], verifier[4096];
    char *initial_text;
    size_t initial_len;
    rt_regions regions;
    char extension[16];
    char candidate_name[32];
    double eval_timeout;
    long eval_memory;
    int cascade;
    double cascade_threshold;
    double reproduce_tol;
    int eval_network; /* --eval-network 1: evaluations keep the network */
    char command_line[1024]; /* as canonical: argv[0] made absolute */
    char command_buf[1024];  /* split copy */
    const char *command_argv[MAX_CMD_ARGS + 1];
    int has_command;
    double command_timeout;
    char visible_line[2048];  /* as canonical: real paths joined by ':' */
    char visible_buf[2048];   /* split copy */
    const char *visible[MAX_VISIBLE + 1]; /* NULL-terminated, for the sandbox */
    char canon[MAX_CANON + 48];
    size_t nannotations; /* in the initial program's editable regions */
    int openevolve;            /* the evaluator is an OpenEvolve module (program_openevolve.h) */
    char evaluator_dir[4096];  /* its folder, visible to its runs */
    rt_feature_spec features;  /* MAP-Elites features from metrics; n == 0: program length */
    program_shared *shared;
    /* create's parameters as given: borrowed from its values, NULL once it returns */
    const char *given_initial, *given_evaluator, *given_verifier, *given_command, *given_api;
} program_state;

/* ---- genomes ----------------------------------------------------------------------------- */

rt_program_genome *rt_program_genome_new(const char *text, size_t len)
{
    rt_program_genome *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->text = malloc(len + 1);
    if (!g->text) {
        free(g);
        return NULL;
    }
    memcpy(g->text, text, len);
    g->text[len] = '\0';
    g->len = len;
    return g;
}

void rt_program_genome_free(void *genome)
{
    rt_program_genome *g = genome;
    if (!g)
        return;
    free(g->text);
    free(g->metrics);
    free(g->artifacts);
    free(g->shown);
    free(g);
}

static char *dup_or_null(const char *s, int *nomem)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *nomem = 1;
    return d;
}

void *rt_program_genome_clone(const void *state, const void *genome)
{
    (void)state;
    const rt_program_genome *g = genome;
    rt_program_genome *c = rt_program_genome_new(g->text, g->len);
    if (!c)
        return NULL;
    int nomem = 0;
    c->evaluated = g->evaluated;
    c->failed = g->failed;
    c->score = g->score;
    c->has_coords = g->has_coords;
    memcpy(c->coords, g->coords, sizeof c->coords);
    c->metrics = dup_or_null(g->metrics, &nomem);
    c->artifacts = dup_or_null(g->artifacts, &nomem);
    c->shown = dup_or_null(g->shown, &nomem);
    if (nomem) {
        rt_program_genome_free(c);
        return NULL;
    }
    return c;
}

/* A child made from a parent by editing its text: the evaluation is not inherited. */
static void genome_forget(rt_program_genome *g)
{
    g->evaluated = g->failed = g->has_coords = 0;
    g->score = 0;
    free(g->metrics);
    free(g->artifacts);
    free(g->shown);
    g->metrics = g->artifacts = g->shown = NULL;
}

/* ---- parameters -------------------------------------------------------------------------- */

static int abs_path(const char *key, const char *path, int exec, char *out, size_t outlen,
                    char *err, size_t errlen)
{
    char *real = realpath(path, NULL);
    if (!real)
        return rt_fail(err, errlen, RT_EUSAGE, "--%s %s: no such file", key, path);
    int rc = 0;
    if (strlen(real) >= outlen || strpbrk(real, "\n\r\t"))
        rc = rt_fail(err, errlen, RT_EUSAGE, "--%s %s: path too long or with control characters",
                     key, path);
    else if (access(real, exec ? X_OK : R_OK) != 0)
        rc = rt_fail(err, errlen, RT_EUSAGE, "--%s %s: not %s", key, path,
                     exec ? "executable" : "readable");
    else
        snprintf(out, outlen, "%s", real);
    free(real);
    return rc;
}

int rt_program_split_command(const char *line, char *buf, size_t buflen, const char **argv,
                         char *err, size_t errlen)
{
    size_t n = 0, w = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (n == MAX_CMD_ARGS)
            return rt_fail(err, errlen, RT_EUSAGE, "--command: more than %d words",
                           MAX_CMD_ARGS);
        argv[n++] = buf + w;
        while (*p && *p != ' ' && *p != '\t') {
            if (*p == '\'' || *p == '"') {
                char q = *p++;
                while (*p && *p != q) {
                    if (w + 1 >= buflen)
                        return rt_fail(err, errlen, RT_EUSAGE, "--command: too long");
                    buf[w++] = *p++;
                }
                if (*p != q)
                    return rt_fail(err, errlen, RT_EUSAGE, "--command: unbalanced quote");
                p++;
                continue;
            }
            if (w + 1 >= buflen)
                return rt_fail(err, errlen, RT_EUSAGE, "--command: too long");
            buf[w++] = *p++;
        }
        if (w + 1 >= buflen)
            return rt_fail(err, errlen, RT_EUSAGE, "--command: too long");
        buf[w++] = '\0';
    }
    argv[n] = NULL;
    if (n == 0)
        return rt_fail(err, errlen, RT_EUSAGE, "--command: empty");
    return 0;
}

/* Appends " key=value" to the canonical parameters (rt_canon_put). */
static int canon_put(program_state *st, size_t *at, const char *key, const char *value)
{
    return rt_canon_put(st->canon, sizeof st->canon, at, key, value);
}

static void program_destroy(void *state)
{
    program_state *st = state;
    if (!st)
        return;
    if (st->shared) {
        pthread_mutex_destroy(&st->shared->lock);
        free(st->shared->pend);
        free(st->shared);
    }
    free(st->initial_text);
    free(st);
}

/* Parses --visible PATH[:PATH...] into st->visible (real paths; each must exist). */
static int parse_visible(program_state *st, const char *v, char *err, size_t errlen)
{
    size_t n = 0, at = 0;
    const char *p = v;
    while (*p) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char one[4096];
        if (len == 0 || len >= sizeof one)
            return rt_fail(err, errlen, RT_EUSAGE, "--visible: an empty or too long path");
        memcpy(one, p, len);
        one[len] = '\0';
        if (n == MAX_VISIBLE)
            return rt_fail(err, errlen, RT_EUSAGE, "--visible: more than %d paths", MAX_VISIBLE);
        char real[4096];
        int rc = abs_path("visible", one, 0, real, sizeof real, err, errlen);
        if (rc)
            return rc;
        size_t rl = strlen(real);
        if (strchr(real, ':') || at + rl + 1 >= sizeof st->visible_buf)
            return rt_fail(err, errlen, RT_EUSAGE, "--visible: paths too long, or with ':'");
        memcpy(st->visible_buf + at, real, rl + 1);
        st->visible[n++] = st->visible_buf + at;
        at += rl + 1;
        p += len;
        if (*p == ':')
            p++;
    }
    st->visible[n] = NULL;
    st->visible_line[0] = '\0';
    for (size_t i = 0, w = 0; i < n; i++)
        w += (size_t)snprintf(st->visible_line + w, sizeof st->visible_line - w, "%s%s",
                              i ? ":" : "", st->visible[i]);
    return 0;
}

static int visible_param(void *state, const char *value, char *err, size_t errlen)
{
    return parse_visible(state, value, err, errlen);
}

static int features_param(void *state, const char *value, char *err, size_t errlen)
{
    program_state *st = state;
    return rt_features_parse(value, &st->features, err, errlen);
}

static const rt_param_choice network_choices[] = {{"0", 0}, {"1", 1}, {NULL, 0}};

/* The parameters, in the order of the help text (docs/program.md). */
static const rt_param program_rows[] = {
    {.name = "initial", .type = RT_PARAM_STRING, RT_PARAM_AT(program_state, given_initial),
     .flags = RT_PARAM_REQUIRED, .metavar = "FILE",
     .help = "the program to start from (EVOLVE-BLOCK regions)"},
    {.name = "evaluator", .type = RT_PARAM_STRING, RT_PARAM_AT(program_state, given_evaluator),
     .flags = RT_PARAM_REQUIRED, .metavar = "FILE",
     .help = "run as EVALUATOR candidate.EXT; prints {\"score\": ...};\n"
             "or a Python module with evaluate(program_path), as OpenEvolve's"},
    {.name = "evaluator-api", .type = RT_PARAM_STRING, RT_PARAM_AT(program_state, given_api),
     .flags = RT_PARAM_EMPTY_UNSET, .metavar = "API",
     .help = "auto, command or openevolve (default auto: openevolve for a\n"
             ".py file, not a #! script, that defines evaluate();\n"
             "docs/migrating.md)"},
    {.name = "verifier", .type = RT_PARAM_STRING, RT_PARAM_AT(program_state, given_verifier),
     .flags = RT_PARAM_EMPTY_UNSET, .metavar = "FILE",
     .help = "the gate's check; prints {\"valid\": ..., \"score\": ...}\n"
             "(default: re-run the evaluator, the score must reproduce)"},
    {.name = "eval-timeout", .type = RT_PARAM_DOUBLE, RT_PARAM_AT(program_state, eval_timeout),
     .lo = 0.01, .hi = 86400, .unit = "seconds", .def = "60", .metavar = "S",
     .help = "wall-clock seconds per evaluation (default 60)"},
    {.name = "eval-memory", .type = RT_PARAM_INT, RT_PARAM_AT(program_state, eval_memory),
     .lo = 16, .hi = 1 << 20, .unit = "MiB", .def = "2048", .metavar = "MIB",
     .help = "address space per evaluation (default 2048)"},
    {.name = "cascade", .type = RT_PARAM_INT, RT_PARAM_AT(program_state, cascade), .lo = 1,
     .hi = MAX_CASCADE, .def = "1", .metavar = "K",
     .help = "evaluation stages, RATCHET_STAGE=1..K (default 1)"},
    {.name = "cascade-threshold", .type = RT_PARAM_DOUBLE, .flags = RT_PARAM_SEARCH,
     RT_PARAM_AT(program_state, cascade_threshold), .lo = 0, .hi = 1, .def = "0.9",
     .metavar = "F", .help = "stage k+1 runs when stage k is within F of the best (0.9)"},
    {.name = "reproduce-tolerance", .type = RT_PARAM_DOUBLE,
     RT_PARAM_AT(program_state, reproduce_tol), .lo = 0, .hi = 1, .def = "0", .metavar = "F",
     .help = "relative tolerance of the re-run without a verifier (0)"},
    {.name = "eval-network", .type = RT_PARAM_CHOICE, RT_PARAM_AT(program_state, eval_network),
     .choices = network_choices, .def = "0", .metavar = "0|1",
     .help = "1: the evaluator and verifier keep the network (default 0:\n"
             "none; a candidate run through $RATCHET_JAIL never has it)"},
    {.name = "command", .type = RT_PARAM_STRING, RT_PARAM_AT(program_state, given_command),
     .flags = RT_PARAM_EMPTY_UNSET | RT_PARAM_SEARCH, .metavar = "'PROG ARGS'",
     .help = "the command proposer's program (JSON prompt on stdin)"},
    {.name = "command-timeout", .type = RT_PARAM_DOUBLE, .flags = RT_PARAM_SEARCH,
     RT_PARAM_AT(program_state, command_timeout), .lo = 0.01, .hi = 86400, .unit = "seconds",
     .def = "120", .metavar = "S", .help = "wall-clock seconds per proposal (default 120)"},
    {.name = "features", .type = RT_PARAM_CUSTOM, .parse = features_param,
     .flags = RT_PARAM_SEARCH, .metavar = "SPEC",
     .help = "MAP-Elites cells from up to 2 of the evaluator's metrics:\n"
             "NAME[:BINS[:LO:HI]],... (default: the program's length)"},
    {.name = "visible", .type = RT_PARAM_CUSTOM, .parse = visible_param,
     .metavar = "PATH[:PATH]",
     .help = "more that the evaluator and verifier may read (the sandbox\n"
             "shows them only system folders and their own; e.g. a venv)"},
};

static const rt_param_table program_table = {
    .owner = "program",
    .rows = program_rows,
    .nrows = sizeof program_rows / sizeof program_rows[0],
    .column = 28,
    .missing = "program needs --initial FILE and --evaluator FILE",
};

RT_PARAM_HELP_TEXT(program_help, program_table)

/* Decides how the evaluator runs (--evaluator-api) once its path is absolute; an OpenEvolve
 * module need only be readable, and its folder is shown to its runs. */
static int resolve_api(program_state *st, char *err, size_t errlen)
{
    const char *api = st->given_api ? st->given_api : "auto";
    if (strcmp(api, "openevolve") == 0)
        st->openevolve = 1;
    else if (strcmp(api, "auto") == 0)
        st->openevolve = rt_oe_detect(st->evaluator);
    else if (strcmp(api, "command") != 0)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "--evaluator-api %s: auto, command or openevolve", api);
    if (!st->openevolve)
        return access(st->evaluator, X_OK) == 0
                   ? 0
                   : rt_fail(err, errlen, RT_EUSAGE,
                             "--evaluator %s: not executable (nor an OpenEvolve evaluator.py "
                             "defining evaluate())",
                             st->given_evaluator);
    snprintf(st->evaluator_dir, sizeof st->evaluator_dir, "%s", st->evaluator);
    char *slash = strrchr(st->evaluator_dir, '/');
    if (slash)
        slash[slash == st->evaluator_dir ? 1 : 0] = '\0';
    return 0;
}

/* The given paths made absolute and checked (the evaluator, unless it is an OpenEvolve module,
 * and the verifier must be executable). */
static int resolve_paths(program_state *st, char *err, size_t errlen)
{
    int rc = abs_path("initial", st->given_initial, 0, st->initial, sizeof st->initial, err,
                      errlen);
    if (!rc)
        rc = abs_path("evaluator", st->given_evaluator, 0, st->evaluator, sizeof st->evaluator,
                      err, errlen);
    if (!rc)
        rc = resolve_api(st, err, errlen);
    if (!rc && st->given_verifier)
        rc = abs_path("verifier", st->given_verifier, 1, st->verifier, sizeof st->verifier, err,
                      errlen);
    return rc;
}

/* Reads the initial program and checks its regions and annotations; errors name the file as
 * it was given. */
static int read_initial(program_state *st, char *err, size_t errlen)
{
    char why[300];
    int rc = rt_read_file(st->initial, RT_PROGRAM_MAX_TEXT, &st->initial_text, &st->initial_len,
                          why, sizeof why);
    if (rc)
        return rt_fail(err, errlen, rc == RT_ETOOBIG ? RT_ETOOBIG : RT_EUSAGE, "--initial: %s",
                       rc == RT_ETOOBIG ? "file over the cap of 1 MiB" : why);
    if ((rc = rt_regions_find(st->initial_text, st->initial_len, &st->regions, why, sizeof why)))
        return rt_fail(err, errlen, RT_EUSAGE, "%s: %s", st->given_initial, why);
    rt_annotations anns;
    if ((rc = rt_annotations_parse(st->initial_text, st->initial_len, &st->regions, &anns, why,
                                   sizeof why)))
        return rt_fail(err, errlen, rc, "%s: %s", st->given_initial, why);
    st->nannotations = anns.n;
    rt_annotations_free(&anns);
    return 0;
}

/* The candidate file keeps the initial program's extension (compilers and interpreters care),
 * if it is a plain one. */
static void set_candidate_name(program_state *st)
{
    const char *base = strrchr(st->initial, '/');
    base = base ? base + 1 : st->initial;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base && strlen(dot) < sizeof st->extension) {
        int plain = 1;
        for (const char *c = dot + 1; *c; c++)
            plain &= isalnum((unsigned char)*c) != 0;
        if (plain)
            snprintf(st->extension, sizeof st->extension, "%s", dot);
    }
    snprintf(st->candidate_name, sizeof st->candidate_name, "candidate%s", st->extension);
}

/* Splits --command into st->command_argv. argv[0]: a path is made absolute (the command runs in
 * a fresh directory); a bare name is looked up in PATH when it runs. */
static int set_command(program_state *st, const char *command, char *err, size_t errlen)
{
    if (strlen(command) >= sizeof st->command_buf)
        return rt_fail(err, errlen, RT_EUSAGE, "--command: longer than %zu bytes",
                       sizeof st->command_buf - 1);
    int rc = rt_program_split_command(command, st->command_buf, sizeof st->command_buf,
                                      st->command_argv, err, errlen);
    if (rc)
        return rc;
    const char *rest = command;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    size_t first = strcspn(rest, " \t");
    if (strchr(st->command_argv[0], '/')) {
        char real[4096];
        if ((rc = abs_path("command", st->command_argv[0], 1, real, sizeof real, err, errlen)))
            return rc;
        if (snprintf(st->command_line, sizeof st->command_line, "%s%s", real, rest + first) >=
            (int)sizeof st->command_line)
            return rt_fail(err, errlen, RT_EUSAGE, "--command: too long");
        if ((rc = rt_program_split_command(st->command_line, st->command_buf,
                                           sizeof st->command_buf, st->command_argv, err,
                                           errlen)))
            return rc;
    } else {
        snprintf(st->command_line, sizeof st->command_line, "%s", rest);
    }
    st->has_command = 1;
    return 0;
}

/* Writes the canonical parameter string (stored with a run: its keys, order and number formats
 * are a stored format, and a resumed run compares it byte for byte). */
static int write_canon(program_state *st, char *err, size_t errlen)
{
    char num[64];
    size_t at = 0;
    int bad = canon_put(st, &at, "initial", st->initial) ||
              canon_put(st, &at, "evaluator", st->evaluator);
    if (!bad && st->verifier[0])
        bad = canon_put(st, &at, "verifier", st->verifier);
    snprintf(num, sizeof num, "%.17g", st->eval_timeout);
    bad = bad || canon_put(st, &at, "eval-timeout", num);
    snprintf(num, sizeof num, "%ld", st->eval_memory);
    bad = bad || canon_put(st, &at, "eval-memory", num);
    snprintf(num, sizeof num, "%d", st->cascade);
    bad = bad || canon_put(st, &at, "cascade", num);
    snprintf(num, sizeof num, "%.17g", st->cascade_threshold);
    bad = bad || canon_put(st, &at, "cascade-threshold", num);
    snprintf(num, sizeof num, "%.17g", st->reproduce_tol);
    bad = bad || canon_put(st, &at, "reproduce-tolerance", num);
    if (st->visible_line[0])
        bad = bad || canon_put(st, &at, "visible", st->visible_line);
    if (st->eval_network) /* only when set: stores made before it keep their string */
        bad = bad || canon_put(st, &at, "eval-network", "1");
    if (st->openevolve) /* stored only when set: older runs' strings stay as they were */
        bad = bad || canon_put(st, &at, "evaluator-api", "openevolve");
    if (st->features.n)
        bad = bad || canon_put(st, &at, "features", st->features.canon);
    if (st->has_command) {
        bad = bad || canon_put(st, &at, "command", st->command_line);
        snprintf(num, sizeof num, "%.17g", st->command_timeout);
        bad = bad || canon_put(st, &at, "command-timeout", num);
    }
    if (bad || at > MAX_CANON)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "program: paths and command together are too long to store (%d bytes)",
                       MAX_CANON);
    return 0;
}

static int program_create(void **state, const char *const *keys, const char *const *values,
                          size_t n, char *err, size_t errlen)
{
    *state = NULL;
    program_state *st = calloc(1, sizeof *st);
    if (!st)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    /* a key given twice: the later wins (flags over config) */
    int rc = rt_param_apply(&program_table, st, keys, values, n, err, errlen);
    if (!rc)
        rc = resolve_paths(st, err, errlen);
    if (!rc)
        rc = read_initial(st, err, errlen);
    if (!rc) {
        set_candidate_name(st);
        if (st->given_command)
            rc = set_command(st, st->given_command, err, errlen);
    }
    if (!rc)
        rc = write_canon(st, err, errlen);
    /* the given strings belong to the caller */
    st->given_initial = st->given_evaluator = st->given_verifier = st->given_command = NULL;
    st->given_api = NULL;
    if (!rc) {
        st->shared = calloc(1, sizeof *st->shared);
        if (!st->shared || pthread_mutex_init(&st->shared->lock, NULL) != 0) {
            free(st->shared);
            st->shared = NULL;
            rc = rt_fail(err, errlen, RT_ENOMEM, "out of memory");
        }
    }
    if (rc) {
        program_destroy(st);
        return rc;
    }
    *state = st;
    return 0;
}

static const char *program_params(const void *state)
{
    return ((const program_state *)state)->canon;
}

int rt_program_info_get(const rt_problem *problem, rt_program_info *info)
{
    memset(info, 0, sizeof *info);
    if (problem->cls != &rt_problem_program)
        return RT_EUSAGE;
    const program_state *st = problem->state;
    info->initial_path = st->initial;
    info->command = st->has_command ? st->command_argv : NULL;
    info->command_timeout = st->command_timeout;
    info->memory_mib = st->eval_memory;
    info->extension = st->extension;
    return 0;
}

/* ---- the genome interface ---------------------------------------------------------------- */

static void *program_seed(const void *state)
{
    const program_state *st = state;
    return rt_program_genome_new(st->initial_text, st->initial_len);
}

static int program_encode(const void *state, const void *genome, rt_buf *out)
{
    (void)state;
    const rt_program_genome *g = genome;
    return rt_buf_append(out, g->text, g->len);
}

static int program_decode(const void *state, const char *text, size_t len, void **genome,
                          char *err, size_t errlen)
{
    (void)state;
    if (len > RT_PROGRAM_MAX_TEXT)
        return rt_fail(err, errlen, RT_ETOOBIG, "program over the cap of %zu bytes",
                       RT_PROGRAM_MAX_TEXT);
    *genome = rt_program_genome_new(text, len);
    return *genome ? 0 : rt_fail(err, errlen, RT_ENOMEM, "out of memory");
}

static void program_score(const void *state, const void *genome, rt_score *out)
{
    (void)state;
    const rt_program_genome *g = genome;
    out->primary = g->evaluated && !g->failed ? g->score : -HUGE_VAL;
    out->secondary = 0;
}

/* One cell per size class (powers of two of the length): programs of very different sizes do
 * not displace each other. */
static void program_features(const void *state, const void *genome, int *coords)
{
    const program_state *st = state;
    const rt_program_genome *g = genome;
    if (st->features.n) { /* from the evaluator's metrics (program_features.h) */
        for (int i = 0; i < RT_MAX_FEATURES; i++)
            coords[i] = g->has_coords ? g->coords[i] : 0;
        return;
    }
    int b = 0;
    for (size_t n = g->len; n > 1; n >>= 1)
        b++;
    coords[0] = b;
    coords[1] = 0;
}

static void program_annotations(const void *state, const void *genome, const char **metrics,
                                const char **artifacts)
{
    (void)state;
    const rt_program_genome *g = genome;
    *metrics = g->metrics;
    *artifacts = g->artifacts;
}

static void program_restore_annotations(const void *state, void *genome, char *metrics,
                                        char *artifacts)
{
    const program_state *st = state;
    rt_program_genome *g = genome;
    free(g->metrics);
    free(g->artifacts);
    g->metrics = metrics;
    g->artifacts = artifacts;
    char why[200];
    g->has_coords = st->features.n &&
                    rt_features_coords(&st->features, metrics, g->coords, why, sizeof why) == 0;
}

static void pending_put(const program_state *st, const char *hash, double score);

/* Another process's evaluation of this text (an MPI worker's): the claim is the proxy, which the
 * verifier re-checks from the text; without a verifier its score is kept for the reproduction
 * check, as a local evaluation's is. */
static void program_claim(const void *state, void *genome, int failed, const rt_score *score,
                          char *metrics, char *artifacts)
{
    const program_state *st = state;
    rt_program_genome *g = genome;
    program_restore_annotations(state, genome, metrics, artifacts);
    g->evaluated = 1;
    g->failed = failed;
    g->score = failed ? 0 : score->primary;
    if (!failed && !st->verifier[0]) {
        char hash[65];
        rt_sha256_hex(g->text, g->len, hash);
        pending_put(st, hash, g->score);
    }
}

static int program_dedupe_text(const void *state, const char *text, size_t len, rt_buf *out)
{
    (void)state;
    return rt_text_strip_space(text, len, out);
}

/* ---- running the evaluator and the verifier ---------------------------------------------- */

/* Last bytes of s as a JSON string (bytes that are not printable ASCII or \n \t become '?'). */
static json_t *tail_string(const char *s, size_t len)
{
    size_t from = len > TAIL_BYTES ? len - TAIL_BYTES : 0;
    char buf[TAIL_BYTES + 1];
    size_t k = 0;
    for (size_t i = from; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[k++] = (c == '\n' || c == '\t' || (c >= 32 && c < 127)) ? (char)c : '?';
    }
    buf[k] = '\0';
    return json_string(buf);
}

/* Builds the artifacts object: the evaluator's own (if any) plus stderr's tail and, for a
 * failure, the reason and stdout's tail. Returns malloc'd JSON text or NULL. */
static char *make_artifacts(const char *own, const rt_sandbox_result *res, int stage,
                            const char *failure)
{
    json_t *a = NULL;
    if (own) {
        a = json_loads(own, 0, NULL);
        if (a && !json_is_object(a)) {
            json_decref(a);
            a = NULL;
        }
    }
    if (!a)
        a = json_object();
    if (!a)
        return NULL;
    if (res && res->stderr_len)
        json_object_set_new(a, "stderr_tail", tail_string(res->stderr_data, res->stderr_len));
    if (failure) {
        json_object_set_new(a, "failure", json_string(failure));
        if (res && res->stdout_len)
            json_object_set_new(a, "stdout_tail",
                                tail_string(res->stdout_data, res->stdout_len));
    }
    if (stage > 0)
        json_object_set_new(a, "stage", json_integer(stage));
    char *s = json_object_size(a) ? json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(a);
    return s;
}

/* Runs exe on the candidate text in the sandbox. Returns 0 with *res filled (the caller frees
 * it), or fills why and returns RT_EINVALID when it could not even start (then res is zeroed),
 * or a negative code (out of memory). */
static int run_on(const program_state *st, const char *exe, const char *text, size_t len,
                  int stage, int verifying, rt_sandbox_result *res, char *why, size_t whylen)
{
    char stage_env[32], stages_env[32], names_env[192];
    snprintf(stage_env, sizeof stage_env, "RATCHET_STAGE=%d", stage);
    snprintf(stages_env, sizeof stages_env, "RATCHET_STAGES=%d", st->cascade);
    snprintf(names_env, sizeof names_env, "RATCHET_FEATURE_NAMES=%s", st->features.names);
    const char *env[] = {stage_env, stages_env, names_env,
                         verifying ? "RATCHET_VERIFY=1" : NULL, NULL};
    const char *argv[] = {exe, st->candidate_name, NULL, NULL, NULL};
    rt_sandbox_file files[2] = {
        {.name = st->candidate_name, .src = NULL, .data = text, .len = len, .writable = 0},
        {.name = RT_OE_SHIM_NAME, .src = NULL, .data = rt_oe_shim, .len = rt_oe_shim_len}};
    const char *visible[MAX_VISIBLE + 2] = {NULL};
    rt_sandbox_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.files = files;
    spec.nfiles = 1;
    spec.visible = st->visible[0] ? st->visible : NULL;
    if (st->openevolve && exe == st->evaluator) { /* through the shim: program_openevolve.h */
        argv[0] = RT_OE_PYTHON;
        argv[1] = RT_OE_SHIM_NAME;
        argv[2] = st->evaluator;
        argv[3] = st->candidate_name;
        spec.nfiles = 2;
        visible[0] = st->evaluator_dir;
        for (size_t i = 0; st->visible[i]; i++)
            visible[i + 1] = st->visible[i];
        spec.visible = visible;
    }
    spec.argv = argv;
    spec.env = env;
    spec.limits.wall_seconds = st->eval_timeout;
    spec.limits.memory_mib = st->eval_memory;
    if (st->eval_network)
        spec.flags |= RT_SANDBOX_ALLOW_NETWORK;
    char err[256] = "";
    int rc = rt_sandbox_run(&spec, res, err, sizeof err);
    if (rc == RT_ENOMEM)
        return rc;
    if (rc) {
        snprintf(why, whylen, "sandbox: %s", err);
        return RT_EINVALID;
    }
    return 0;
}

/* Says why a finished run is not a usable report, or returns 0 when it exited 0. */
static int run_failed(const rt_sandbox_result *res, const char *who, char *why, size_t whylen)
{
    if (res->outcome == RT_SANDBOX_EXITED && res->exit_code == 0)
        return 0;
    if (res->outcome == RT_SANDBOX_EXITED)
        snprintf(why, whylen, "%s exited with status %d", who, res->exit_code);
    else
        snprintf(why, whylen, "%s %s: %s", who, rt_sandbox_outcome_name(res->outcome),
                 res->reason);
    return 1;
}

/* Cascade: may stage s's score go on to stage s+1? Updates the stage's best. */
static int cascade_pass(const program_state *st, int stage, double score, double *bar)
{
    program_shared *sh = st->shared;
    pthread_mutex_lock(&sh->lock);
    int pass = 1;
    *bar = 0;
    if (sh->has_best[stage]) {
        double best = sh->best[stage];
        *bar = best - (1 - st->cascade_threshold) * fabs(best);
        pass = score >= *bar;
    }
    if (!sh->has_best[stage] || score > sh->best[stage]) {
        sh->has_best[stage] = 1;
        sh->best[stage] = score;
    }
    pthread_mutex_unlock(&sh->lock);
    return pass;
}

/* Remembers the evaluated score of a text for the reproduction check (no verifier). The list
 * is capped; past the cap the oldest entry is dropped (that candidate is then re-run without a
 * score to compare with, as on resume). */
static void pending_put(const program_state *st, const char *hash, double score)
{
    program_shared *sh = st->shared;
    pthread_mutex_lock(&sh->lock);
    if (sh->npend == sh->cap && sh->cap < MAX_PENDING) {
        size_t cap = sh->cap ? 2 * sh->cap : 64;
        pending *p = realloc(sh->pend, cap * sizeof *p);
        if (p) {
            sh->pend = p;
            sh->cap = cap;
        }
    }
    if (sh->npend == sh->cap && sh->npend > 0) {
        memmove(sh->pend, sh->pend + 1, (sh->npend - 1) * sizeof *sh->pend);
        sh->npend--;
    }
    if (sh->npend < sh->cap) {
        memcpy(sh->pend[sh->npend].hash, hash, 65);
        sh->pend[sh->npend].score = score;
        sh->npend++;
    }
    pthread_mutex_unlock(&sh->lock);
}

/* Takes the evaluated score of a text out of the pending list; 1 if it was there. */
static int pending_take(const program_state *st, const char *hash, double *score)
{
    program_shared *sh = st->shared;
    int found = 0;
    pthread_mutex_lock(&sh->lock);
    for (size_t i = 0; i < sh->npend; i++)
        if (memcmp(sh->pend[i].hash, hash, 65) == 0) {
            *score = sh->pend[i].score;
            sh->pend[i] = sh->pend[--sh->npend];
            found = 1;
            break;
        }
    pthread_mutex_unlock(&sh->lock);
    return found;
}

static int program_evaluate(const void *state, void *genome, rt_evaluation *out)
{
    const program_state *st = state;
    rt_program_genome *g = genome;
    memset(out, 0, sizeof *out);
    genome_forget(g);
    g->evaluated = 1;
    char why[400] = "";
    rt_sandbox_result res;
    memset(&res, 0, sizeof res);
    rt_eval_output eo;
    memset(&eo, 0, sizeof eo);
    int stage = 1;
    for (; stage <= st->cascade; stage++) {
        rt_sandbox_result_free(&res);
        rt_eval_output_free(&eo);
        int rc = run_on(st, st->evaluator, g->text, g->len, stage, 0, &res, why, sizeof why);
        if (rc == RT_ENOMEM)
            return rc;
        if (rc || run_failed(&res, "evaluator", why, sizeof why))
            goto failed;
        rc = rt_eval_parse(res.stdout_data, res.stdout_len, &eo, why, sizeof why);
        if (rc == RT_ENOMEM) {
            rt_sandbox_result_free(&res);
            return rc;
        }
        if (rc)
            goto failed;
        double bar;
        if (stage < st->cascade && !cascade_pass(st, stage, eo.score, &bar)) {
            snprintf(why, sizeof why, "cascade: stage %d scored %.17g, below the bar %.17g",
                     stage, eo.score, bar);
            goto failed;
        }
        if (stage == st->cascade)
            cascade_pass(st, stage, eo.score, &bar);
    }
    stage = st->cascade;
    if (st->features.n && rt_features_coords(&st->features, eo.metrics, g->coords, why,
                                             sizeof why) != 0)
        goto failed;
    g->has_coords = st->features.n > 0;
    g->score = eo.score;
    g->metrics = eo.metrics;
    eo.metrics = NULL;
    g->artifacts = make_artifacts(eo.artifacts, &res, st->cascade > 1 ? stage : 0, NULL);
    out->metrics = g->metrics;
    out->artifacts = g->artifacts;
    rt_eval_output_free(&eo);
    rt_sandbox_result_free(&res);
    if (!st->verifier[0]) {
        char hash[65];
        rt_sha256_hex(g->text, g->len, hash);
        pending_put(st, hash, g->score);
    }
    return 0;
failed:
    g->failed = 1;
    out->failed = 1;
    snprintf(out->reason, sizeof out->reason, "%s", why);
    rt_tail_line(res.stderr_data, res.stderr_len, out->detail, sizeof out->detail);
    g->artifacts = make_artifacts(NULL, &res, stage, why);
    out->artifacts = g->artifacts;
    rt_eval_output_free(&eo);
    rt_sandbox_result_free(&res);
    return 0;
}

static int program_verify(const void *state, const char *text, size_t len, rt_verdict *out,
                          char *err, size_t errlen)
{
    const program_state *st = state;
    memset(out, 0, sizeof *out);
    snprintf(out->metric_name, sizeof out->metric_name, "score");
    if (len > RT_PROGRAM_MAX_TEXT)
        return rt_fail(err, errlen, RT_ETOOBIG, "program over the cap of %zu bytes",
                       RT_PROGRAM_MAX_TEXT);
    char why[400] = "";
    /* text outside the editable regions is the initial program's, byte for byte */
    int rc = rt_edit_check_rewrite(st->initial_text, st->initial_len, text, len, why, sizeof why);
    if (rc) {
        snprintf(out->reason, sizeof out->reason, "%s", why);
        return 0;
    }
    int own = st->verifier[0] != 0;
    rt_sandbox_result res;
    memset(&res, 0, sizeof res);
    rc = run_on(st, own ? st->verifier : st->evaluator, text, len, st->cascade, 1, &res, why,
                sizeof why);
    if (rc == RT_ENOMEM)
        return rt_fail(err, errlen, rc, "out of memory");
    if (rc || run_failed(&res, own ? "verifier" : "re-run evaluator", why, sizeof why)) {
        /* the reason carries the end of stderr (one line, printable bytes) */
        char tail[160] = "";
        size_t from = res.stderr_len > sizeof tail - 1 ? res.stderr_len - (sizeof tail - 1) : 0;
        size_t k = 0;
        for (size_t i = from; i < res.stderr_len; i++) {
            unsigned char c = (unsigned char)res.stderr_data[i];
            tail[k++] = c >= 32 && c < 127 ? (char)c : ' ';
        }
        tail[k] = '\0';
        snprintf(out->reason, sizeof out->reason, "%.300s%s%s", why, k ? "; stderr: " : "",
                 tail);
        rt_sandbox_result_free(&res);
        return 0;
    }
    if (own) {
        rt_verify_output vo;
        rc = rt_verify_parse(res.stdout_data, res.stdout_len, &vo, why, sizeof why);
        rt_sandbox_result_free(&res);
        if (rc) {
            snprintf(out->reason, sizeof out->reason, "%s", why);
            return 0;
        }
        if (!vo.valid) {
            snprintf(out->reason, sizeof out->reason, "verifier: invalid%s%s",
                     vo.reason[0] ? ": " : "", vo.reason);
            return 0;
        }
        out->valid = 1;
        out->score = vo.score;
    } else {
        rt_eval_output eo;
        rc = rt_eval_parse(res.stdout_data, res.stdout_len, &eo, why, sizeof why);
        rt_sandbox_result_free(&res);
        if (rc == RT_ENOMEM)
            return rt_fail(err, errlen, rc, "out of memory");
        if (rc) {
            snprintf(out->reason, sizeof out->reason, "re-run: %s", why);
            return 0;
        }
        double score = eo.score, claimed;
        rt_eval_output_free(&eo);
        char hash[65];
        rt_sha256_hex(text, len, hash);
        if (pending_take(st, hash, &claimed) &&
            fabs(claimed - score) > st->reproduce_tol * fmax(1.0, fabs(claimed))) {
            snprintf(out->reason, sizeof out->reason,
                     "score did not reproduce: evaluated %.17g, re-run %.17g", claimed, score);
            return 0;
        }
        out->valid = 1;
        out->score = score;
    }
    out->metric = out->score;
    snprintf(out->summary, sizeof out->summary, "%s: score %.17g",
             own ? "verifier" : "re-run evaluator", out->score);
    return 0;
}

static int program_convert(const void *state, const char *text, size_t len, const char *format,
                           rt_buf *out, char *err, size_t errlen)
{
    (void)state;
    if (format && *format && strcmp(format, "text") != 0)
        return rt_fail(err, errlen, RT_EUSAGE, "unknown format '%s' for program (text)", format);
    return rt_buf_append(out, text, len);
}

/* ---- the builtin proposer's operator: change annotated values ---------------------------- */

int rt_program_tweak(const void *state, void *genome, rt_rng *rng, long long *work)
{
    (void)state;
    rt_program_genome *g = genome;
    rt_regions reg;
    char why[256];
    if (rt_regions_find(g->text, g->len, &reg, why, sizeof why))
        return -1;
    rt_annotations anns;
    if (rt_annotations_parse(g->text, g->len, &reg, &anns, why, sizeof why) || anns.n == 0) {
        rt_annotations_free(&anns);
        return -1;
    }
    /* one value most of the time, sometimes two or three */
    int nchange = 1;
    double u = rt_rng_unit(rng);
    if (u < 0.2)
        nchange = 2;
    else if (u < 0.3)
        nchange = 3;
    rt_buf next;
    rt_buf_init(&next, RT_PROGRAM_MAX_TEXT);
    int changed = 0;
    for (int c = 0; c < nchange; c++) {
        /* offsets move after a change: parse again */
        if (c > 0) {
            rt_annotations_free(&anns);
            if (rt_regions_find(g->text, g->len, &reg, why, sizeof why) ||
                rt_annotations_parse(g->text, g->len, &reg, &anns, why, sizeof why) ||
                anns.n == 0)
                break;
        }
        const rt_annotation *a = &anns.a[rt_rng_below(rng, (uint32_t)anns.n)];
        if (rt_annotation_mutate(g->text, g->len, a, rng, &next) != 0)
            continue;
        char *t = rt_buf_take(&next);
        if (!t)
            break;
        free(g->text);
        g->text = t;
        g->len = strlen(t);
        changed = 1;
        (*work)++;
    }
    rt_annotations_free(&anns);
    rt_buf_free(&next);
    if (!changed)
        return -1;
    genome_forget(g);
    return 0;
}

/* Why the operator (tweak) can change nothing: the initial program has no annotation. */
static const char *program_operators_idle(const void *state)
{
    const program_state *st = state;
    return st->nannotations ? NULL
                            : "the initial program has no `ratchet:` annotation inside its "
                              "editable regions for the builtin proposer to change "
                              "(docs/program.md); use --proposer command or llm";
}

static const rt_operator program_operators[] = {
    {"tweak", 1.0, rt_program_tweak},
};

/* The certificate (rt_store_certificate): the program, a copy of the verifier (or of the
 * evaluator, when the run had no verifier), the verifier's output on the program now, and a
 * README saying how to run it by hand. */
static int program_certificate(const void *state, const char *text, size_t len, const char *dir,
                               char *err, size_t errlen)
{
    const program_state *st = state;
    int own = st->verifier[0] != 0;
    const char *exe = own ? st->verifier : st->evaluator;
    int shim = !own && st->openevolve; /* the evaluator ran through the shim */
    rt_sandbox_result res;
    memset(&res, 0, sizeof res);
    char why[400] = "";
    char *copy = NULL;
    size_t copy_len = 0;
    rt_buf readme;
    rt_buf_init(&readme, 0);
    int rc = run_on(st, exe, text, len, st->cascade, 1, &res, why, sizeof why);
    if (rc == RT_ENOMEM) {
        rc = rt_fail(err, errlen, rc, "out of memory");
        goto done;
    }
    if (rc || run_failed(&res, own ? "verifier" : "evaluator", why, sizeof why)) {
        rc = rt_fail(err, errlen, RT_EINVALID, "the check did not run cleanly: %s", why);
        goto done;
    }
    if ((rc = rt_read_file(exe, (size_t)1 << 20, &copy, &copy_len, err, errlen)))
        goto done;
    char hash[65];
    rt_sha256_hex(text, len, hash);
    rc = rt_buf_printf(
        &readme,
        "A certificate from ratchet: a program of a `program` run, and what its %s said.\n"
        "\n"
        "  %-22s the program (SHA-256 %s, the hash ratchet's store records)\n"
        "  %-22s a copy of the %s ratchet ran, %s\n"
        "  verifier-output.txt    its output on the program when this certificate was written\n"
        "\n"
        "Check it yourself: in an empty folder holding only %s%s, run\n"
        "\n"
        "    %s%s %s\n"
        "\n"
        "(the original, next to whatever files it needs) and compare its output with\n"
        "verifier-output.txt. ratchet ran it the same way, in a sandbox, with RATCHET_VERIFY=1\n"
        "and RATCHET_STAGE=RATCHET_STAGES=%d in its environment.\n",
        own ? "verifier" : "evaluator (the run had no verifier)", st->candidate_name, hash,
        own ? "verifier" : "evaluator", own ? "verifier" : "evaluator", exe, st->candidate_name,
        shim ? " and " RT_OE_SHIM_NAME " (ratchet's shim for OpenEvolve evaluators)" : "",
        shim ? RT_OE_PYTHON " " RT_OE_SHIM_NAME " " : "", exe, st->candidate_name, st->cascade);
    if (rc) {
        rc = rt_fail(err, errlen, RT_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = rt_cert_write(dir, st->candidate_name, text, len, err, errlen)) ||
        (rc = rt_cert_write(dir, own ? "verifier" : "evaluator", copy, copy_len, err, errlen)) ||
        (rc = rt_cert_write(dir, "verifier-output.txt", res.stdout_data, res.stdout_len, err,
                            errlen)) ||
        (rc = rt_cert_write(dir, "README.txt", readme.data, readme.len, err, errlen)) ||
        (shim && (rc = rt_cert_write(dir, RT_OE_SHIM_NAME, rt_oe_shim, rt_oe_shim_len, err,
                                     errlen))))
        goto done;
done:
    rt_sandbox_result_free(&res);
    free(copy);
    rt_buf_free(&readme);
    return rc;
}

/* Checks one picture of kind "circles" ({"kind":"circles","circles":[[x,y,r],...], "box":
 * [x0,y0,x1,y1] optional}): finite numbers only, at most 10000 circles. */
static int circles_ok(json_t *pic)
{
    json_t *cs = json_object_get(pic, "circles"), *box = json_object_get(pic, "box"), *c;
    size_t i, j;
    if (!json_is_array(cs) || json_array_size(cs) > 10000)
        return 0;
    json_array_foreach(cs, i, c) {
        if (!json_is_array(c) || json_array_size(c) != 3)
            return 0;
        for (j = 0; j < 3; j++)
            if (!json_is_number(json_array_get(c, j)) ||
                !isfinite(json_number_value(json_array_get(c, j))))
                return 0;
    }
    if (box && (!json_is_array(box) || json_array_size(box) != 4))
        return 0;
    for (j = 0; box && j < 4; j++)
        if (!json_is_number(json_array_get(box, j)) ||
            !isfinite(json_number_value(json_array_get(box, j))))
            return 0;
    return 1;
}

int rt_program_picture(const char *artifacts, rt_buf *out)
{
    json_t *a = artifacts ? json_loads(artifacts, 0, NULL) : NULL;
    json_t *pic = json_object_get(a, "picture");
    int rc = RT_EUSAGE;
    const char *kind = json_string_value(json_object_get(pic, "kind"));
    if (kind && strcmp(kind, "circles") == 0 && circles_ok(pic)) {
        json_t *clean = json_pack("{s:s,s:O}", "kind", "circles", "circles",
                                  json_object_get(pic, "circles"));
        if (clean && json_object_get(pic, "box"))
            json_object_set(clean, "box", json_object_get(pic, "box"));
        char *s = clean ? json_dumps(clean, JSON_COMPACT) : NULL;
        rc = s && rt_buf_puts(out, s) == 0 ? 0 : RT_ENOMEM;
        free(s);
        json_decref(clean);
    }
    json_decref(a);
    return rc;
}

static int program_picture(const void *state, const char *text, size_t len, const char *metrics,
                           const char *artifacts, rt_buf *out)
{
    (void)state, (void)text, (void)len, (void)metrics;
    return rt_program_picture(artifacts, out);
}

static double program_reproduce_tolerance(const void *state)
{
    return ((const program_state *)state)->reproduce_tol;
}

static const char *program_metric_name(const void *state)
{
    (void)state;
    return "score";
}

const rt_problem_class rt_problem_program = {
    .name = "program",
    .summary = "evolve a program in any language, judged by your evaluator",
    .certificate = program_certificate,
    .params_help = program_help,
    .param_table = &program_table,
    .score_tolerance = 1e-9, /* two programs summing doubles differ in the last bits */
    .reproduce_tolerance = program_reproduce_tolerance,
    .create = program_create,
    .destroy = program_destroy,
    .params = program_params,
    .seed = program_seed,
    .clone = rt_program_genome_clone,
    .free_genome = rt_program_genome_free,
    .encode = program_encode,
    .decode = program_decode,
    .score = program_score,
    .features = program_features,
    .verify = program_verify,
    .convert = program_convert,
    .operators = program_operators,
    .noperators = 1,
    .operators_idle = program_operators_idle,
    .metric_lower_is_better = 0,
    .evaluate = program_evaluate,
    .metric_name = program_metric_name,
    .annotations = program_annotations,
    .restore_annotations = program_restore_annotations,
    .claim = program_claim,
    .dedupe_text = program_dedupe_text,
    .picture = program_picture,
};

int rt_program_apply_reply(const char *parent, size_t plen, const char *reply, size_t rlen,
                           rt_program_genome **child, char *reason, size_t reasonlen)
{
    *child = NULL;
    size_t blank = 0;
    while (blank < rlen && isspace((unsigned char)reply[blank]))
        blank++;
    if (blank == rlen)
        return rt_fail(reason, reasonlen, RT_EINVALID, "empty reply");
    rt_buf out;
    rt_buf_init(&out, RT_PROGRAM_MAX_TEXT);
    char why[300];
    int rc;
    if (rt_edit_has_blocks(reply, rlen)) {
        rc = rt_edit_apply(parent, plen, reply, rlen, &out, why, sizeof why);
    } else {
        rc = rlen > RT_PROGRAM_MAX_TEXT
                 ? rt_fail(why, sizeof why, RT_ETOOBIG, "program over the cap of %zu bytes",
                           RT_PROGRAM_MAX_TEXT)
                 : rt_edit_check_rewrite(parent, plen, reply, rlen, why, sizeof why);
        if (!rc)
            rc = rt_buf_append(&out, reply, rlen);
    }
    if (rc == RT_ENOMEM) {
        rt_buf_free(&out);
        return rt_fail(reason, reasonlen, RT_ENOMEM, "out of memory");
    }
    if (rc) {
        rt_buf_free(&out);
        return rt_fail(reason, reasonlen, RT_EINVALID, "%s", why);
    }
    *child = rt_program_genome_new(out.data ? out.data : "", out.len);
    rt_buf_free(&out);
    return *child ? 0 : rt_fail(reason, reasonlen, RT_ENOMEM, "out of memory");
}
