/* research.c — the `research` problem: the parameters, the genome interface and the problem's
 * class table. Running one experiment is research_run.c; the text is research_text.c.
 *
 * Parameters (docs/research.md): dir, edit, run, metric, maximize, test-metric, budget,
 * cpu-budget, memory, visible, command, command-timeout, git-tag, git-base. Paths are made
 * absolute at creation; the canonical parameter string escapes blanks and '%' (%20, %25).
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "param.h"
#include "problems/program/program_text.h"
#include "problems/research/research_int.h"

/* ---- parameters -------------------------------------------------------------------------- */

/* Splits --edit A,B,... into st->edits: paths relative to the folder, no "..", each a readable
 * regular file, no two the same. */
static int parse_edits(research_state *st, const char *v, char *err, size_t errlen)
{
    if (strlen(v) >= sizeof st->edit_buf)
        return rt_fail(err, errlen, RT_EUSAGE, "--edit: too long");
    memcpy(st->edit_buf, v, strlen(v) + 1);
    st->nedits = 0;
    for (char *p = st->edit_buf; p && *p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (st->nedits == RT_RESEARCH_MAX_FILES)
            return rt_fail(err, errlen, RT_EUSAGE, "--edit: more than %d files",
                           RT_RESEARCH_MAX_FILES);
        if (!*p || p[0] == '/' || strstr(p, "..") || strpbrk(p, "\n\r\t ,"))
            return rt_fail(err, errlen, RT_EUSAGE,
                           "--edit '%s': not a plain path relative to --dir", p);
        for (size_t i = 0; i < st->nedits; i++)
            if (strcmp(st->edits[i], p) == 0)
                return rt_fail(err, errlen, RT_EUSAGE, "--edit: %s named twice", p);
        st->edits[st->nedits++] = p;
        p = comma ? comma + 1 : NULL;
    }
    if (st->nedits == 0)
        return rt_fail(err, errlen, RT_EUSAGE, "--edit: no editable file named");
    return 0;
}

static int edit_param(void *state, const char *value, char *err, size_t errlen)
{
    research_state *st = state;
    snprintf(st->edit_line, sizeof st->edit_line, "%s", value);
    return strlen(value) >= sizeof st->edit_line
               ? rt_fail(err, errlen, RT_EUSAGE, "--edit: too long")
               : 0;
}

/* --visible P[:P...]: each made a real path (it must exist), for the sandbox to show read-only
 * beside the folder (a virtual environment, a data set, a device). */
static int visible_param(void *state, const char *value, char *err, size_t errlen)
{
    research_state *st = state;
    size_t n = 0, at = 0;
    for (const char *p = value; *p;) {
        size_t len = strcspn(p, ":");
        char one[4096];
        if (len == 0 || len >= sizeof one || n == RT_RESEARCH_MAX_VISIBLE)
            return rt_fail(err, errlen, RT_EUSAGE, "--visible: an empty or too long path, or "
                                                   "more than %d", RT_RESEARCH_MAX_VISIBLE);
        memcpy(one, p, len);
        one[len] = '\0';
        char *real = realpath(one, NULL);
        size_t rl = real ? strlen(real) : 0;
        if (!real || strchr(real, ':') || at + rl + 1 >= sizeof st->visible_buf) {
            free(real);
            return rt_fail(err, errlen, RT_EUSAGE, "--visible %s: no such path (or too long)",
                           one);
        }
        memcpy(st->visible_buf + at, real, rl + 1);
        free(real);
        st->visible[1 + n++] = st->visible_buf + at;
        at += rl + 1;
        p += len + (p[len] == ':');
    }
    st->visible[1 + n] = NULL;
    st->visible_line[0] = '\0';
    for (size_t i = 0, w = 0; i < n; i++)
        w += (size_t)snprintf(st->visible_line + w, sizeof st->visible_line - w, "%s%s",
                              i ? ":" : "", st->visible[1 + i]);
    return 0;
}

static const rt_param research_rows[] = {
    {.name = "dir", .type = RT_PARAM_STRING, RT_PARAM_AT(research_state, given_dir),
     .flags = RT_PARAM_REQUIRED, .metavar = "DIR", .help = "the project folder"},
    {.name = "edit", .type = RT_PARAM_CUSTOM, .parse = edit_param, .metavar = "FILE[,FILE]",
     .help = "the files the proposer may change (relative to DIR)"},
    {.name = "run", .type = RT_PARAM_STRING, RT_PARAM_AT(research_state, given_run),
     .flags = RT_PARAM_REQUIRED, .metavar = "'COMMAND'",
     .help = "the experiment: a shell command run in a private copy of DIR"},
    {.name = "metric", .type = RT_PARAM_STRING, RT_PARAM_AT(research_state, given_metric),
     .flags = RT_PARAM_REQUIRED, .metavar = "NAME",
     .help = "read from `NAME: value` lines (or a JSON line)"},
    {.name = "maximize", .type = RT_PARAM_INT, RT_PARAM_AT(research_state, maximize), .lo = 0,
     .hi = 1, .def = "0", .metavar = "0|1", .help = "higher is better (default: lower)"},
    {.name = "test-metric", .type = RT_PARAM_STRING, RT_PARAM_AT(research_state, given_test),
     .flags = RT_PARAM_EMPTY_UNSET, .metavar = "NAME",
     .help = "reported on a held-out split; never selected on, never shown"},
    {.name = "budget", .type = RT_PARAM_DOUBLE, RT_PARAM_AT(research_state, budget), .lo = 0.1,
     .hi = 86400, .unit = "seconds", .def = "300", .metavar = "S",
     .help = "wall-clock seconds per experiment (RATCHET_BUDGET)"},
    {.name = "cpu-budget", .type = RT_PARAM_DOUBLE, RT_PARAM_AT(research_state, cpu_budget),
     .lo = 0, .hi = 86400, .unit = "seconds", .def = "0", .metavar = "S",
     .help = "CPU seconds per experiment (0: no limit)"},
    {.name = "memory", .type = RT_PARAM_INT, RT_PARAM_AT(research_state, memory), .lo = 16,
     .hi = 1 << 20, .unit = "MiB", .def = "4096", .metavar = "MIB",
     .help = "memory of an experiment's processes together"},
    {.name = "visible", .type = RT_PARAM_CUSTOM, .parse = visible_param,
     .metavar = "PATH[:PATH]", .help = "more paths an experiment may read (a venv, a device)"},
    {.name = "command", .type = RT_PARAM_STRING, RT_PARAM_AT(research_state, given_command),
     .flags = RT_PARAM_EMPTY_UNSET, .metavar = "'PROG ARGS'",
     .help = "the command proposer's program"},
    {.name = "command-timeout", .type = RT_PARAM_DOUBLE,
     RT_PARAM_AT(research_state, command_timeout), .lo = 0.01, .hi = 86400, .unit = "seconds",
     .def = "120", .metavar = "S", .help = "wall-clock seconds per proposal"},
    {.name = "git-tag", .type = RT_PARAM_STRING, RT_PARAM_AT(research_state, given_tag),
     .flags = RT_PARAM_EMPTY_UNSET, .metavar = "TAG",
     .help = "kept changes go to branch ratchet/TAG (set by --git)"},
    {.name = "git-base", .type = RT_PARAM_STRING, RT_PARAM_AT(research_state, given_base),
     .flags = RT_PARAM_EMPTY_UNSET, .metavar = "COMMIT", .help = "the branch's base commit"},
};

static const rt_param_table research_table = {
    .owner = "research",
    .rows = research_rows,
    .nrows = sizeof research_rows / sizeof research_rows[0],
    .column = 28,
    .missing = "research needs --dir, --edit, --run and --metric",
};

RT_PARAM_HELP_TEXT(research_help, research_table)

/* A metric's name: letters, digits, '_', '-', '.', '/', at most 63 bytes. */
static int check_name(const char *key, const char *v, char *out, size_t outlen, char *err,
                      size_t errlen)
{
    size_t n = strlen(v);
    int ok = n > 0 && n < outlen && n < 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)v[i]) || strchr("_-./", v[i]);
    if (!ok)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "--%s '%s': a metric name is letters, digits and _-./ (at most 63)", key,
                       v);
    memcpy(out, v, n + 1);
    return 0;
}

/* The folder, the editable files (read into the initial text) and the names. */
static int resolve(research_state *st, char *err, size_t errlen)
{
    char *real = realpath(st->given_dir, NULL);
    struct stat sb;
    if (!real || stat(real, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        free(real);
        return rt_fail(err, errlen, RT_EUSAGE, "--dir %s: no such folder", st->given_dir);
    }
    int rc = 0;
    if (strlen(real) >= sizeof st->dir || strpbrk(real, "\n\r\t:"))
        rc = rt_fail(err, errlen, RT_EUSAGE, "--dir %s: path too long or with ':' or control "
                                             "characters", st->given_dir);
    else
        snprintf(st->dir, sizeof st->dir, "%s", real);
    free(real);
    if (!rc && !st->edit_line[0])
        rc = rt_fail(err, errlen, RT_EUSAGE, "research needs --edit FILE[,FILE...]");
    if (!rc)
        rc = parse_edits(st, st->edit_line, err, errlen);
    if (!rc)
        rc = check_name("metric", st->given_metric, st->metric, sizeof st->metric, err, errlen);
    if (!rc && st->given_test) {
        rc = check_name("test-metric", st->given_test, st->test_metric, sizeof st->test_metric,
                        err, errlen);
        if (!rc && strcmp(st->test_metric, st->metric) == 0)
            rc = rt_fail(err, errlen, RT_EUSAGE, "--test-metric: the same name as --metric");
    }
    return rc;
}

/* Reads every editable file and makes the initial candidate text; checks its regions and
 * annotations as the program problem does. */
static int read_files(research_state *st, char *err, size_t errlen)
{
    char *data[RT_RESEARCH_MAX_FILES] = {0};
    size_t len[RT_RESEARCH_MAX_FILES] = {0};
    int rc = 0;
    for (size_t i = 0; i < st->nedits && !rc; i++) {
        char path[8192], why[300];
        snprintf(path, sizeof path, "%s/%s", st->dir, st->edits[i]);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            rc = rt_fail(err, errlen, RT_EUSAGE, "--edit %s: no such file in %s", st->edits[i],
                         st->dir);
        else if ((rc = rt_read_file(path, RT_PROGRAM_MAX_TEXT, &data[i], &len[i], why,
                                    sizeof why)))
            rc = rt_fail(err, errlen, RT_EUSAGE, "--edit %s: %s", st->edits[i], why);
        else if (memmem(data[i], len[i], RT_RESEARCH_HEADER, strlen(RT_RESEARCH_HEADER)))
            rc = rt_fail(err, errlen, RT_EUSAGE, "--edit %s: holds a line '%s...'", st->edits[i],
                         RT_RESEARCH_HEADER);
    }
    rt_buf text;
    rt_buf_init(&text, RT_PROGRAM_MAX_TEXT);
    if (!rc && (rc = rt_research_bundle(st->nedits, st->edits, (const char *const *)data, len,
                                        &text)))
        rc = rt_fail(err, errlen, rc, "--edit: the files together are over %zu bytes",
                     (size_t)RT_PROGRAM_MAX_TEXT);
    for (size_t i = 0; i < st->nedits; i++)
        free(data[i]);
    if (rc) {
        rt_buf_free(&text);
        return rc;
    }
    st->initial_len = text.len;
    st->initial_text = rt_buf_take(&text);
    if (!st->initial_text)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    char why[300];
    rt_annotations anns;
    if ((rc = rt_regions_find(st->initial_text, st->initial_len, &st->regions, why, sizeof why)))
        return rt_fail(err, errlen, RT_EUSAGE, "--edit: %s", why);
    if ((rc = rt_annotations_parse(st->initial_text, st->initial_len, &st->regions, &anns, why,
                                   sizeof why)))
        return rt_fail(err, errlen, rc, "--edit: %s", why);
    rt_annotations_free(&anns);
    return 0;
}

/* The run command's first word, when it is a path (./train.sh), must be an executable file of
 * the folder (or of the system, for an absolute path). */
static int check_run(const research_state *st, char *err, size_t errlen)
{
    const char *p = st->given_run;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return rt_fail(err, errlen, RT_EUSAGE, "--run: empty command");
    size_t n = strcspn(p, " \t;&|<>()");
    if (!memchr(p, '/', n) || n >= 4096)
        return 0;
    char path[8192];
    if (p[0] == '/')
        snprintf(path, sizeof path, "%.*s", (int)n, p);
    else
        snprintf(path, sizeof path, "%s/%.*s", st->dir, (int)n, p);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return rt_fail(err, errlen, RT_EUSAGE, "--run: %.*s: no such file", (int)n, p);
    if (!S_ISREG(sb.st_mode) || access(path, X_OK) != 0)
        return rt_fail(err, errlen, RT_EUSAGE, "--run: %.*s is not executable (chmod +x?)",
                       (int)n, p);
    return 0;
}

/* The command proposer's program: argv[0] made absolute when it is a path. */
static int set_command(research_state *st, char *err, size_t errlen)
{
    int rc = rt_program_split_command(st->given_command, st->command_buf,
                                      sizeof st->command_buf, st->command_argv, err, errlen);
    if (rc)
        return rc;
    const char *rest = st->given_command + strspn(st->given_command, " \t");
    rest += strcspn(rest, " \t");
    if (strchr(st->command_argv[0], '/')) {
        char *real = realpath(st->command_argv[0], NULL);
        if (!real || access(real, X_OK) != 0) {
            free(real);
            return rt_fail(err, errlen, RT_EUSAGE, "--command %s: not an executable file",
                           st->command_argv[0]);
        }
        int w = snprintf(st->command_line, sizeof st->command_line, "%s%s", real, rest);
        free(real);
        if (w < 0 || (size_t)w >= sizeof st->command_line)
            return rt_fail(err, errlen, RT_EUSAGE, "--command: too long");
    } else {
        snprintf(st->command_line, sizeof st->command_line, "%s",
                 st->given_command + strspn(st->given_command, " \t"));
    }
    st->has_command = 1;
    return rt_program_split_command(st->command_line, st->command_buf, sizeof st->command_buf,
                                    st->command_argv, err, errlen);
}

static void research_destroy(void *state)
{
    research_state *st = state;
    if (!st)
        return;
    free(st->initial_text);
    free(st);
}

static int research_create(void **state, const char *const *keys, const char *const *values,
                           size_t n, char *err, size_t errlen)
{
    *state = NULL;
    research_state *st = calloc(1, sizeof *st);
    if (!st)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    int rc = rt_param_apply(&research_table, st, keys, values, n, err, errlen);
    if (!rc)
        rc = resolve(st, err, errlen);
    if (!rc)
        rc = check_run(st, err, errlen);
    if (!rc && strlen(st->given_run) >= sizeof st->run)
        rc = rt_fail(err, errlen, RT_EUSAGE, "--run: longer than %zu bytes", sizeof st->run - 1);
    st->visible[0] = st->dir;
    if (!rc) {
        snprintf(st->run, sizeof st->run, "%s", st->given_run);
        snprintf(st->tag, sizeof st->tag, "%s", st->given_tag ? st->given_tag : "");
        snprintf(st->base, sizeof st->base, "%s", st->given_base ? st->given_base : "");
        rc = read_files(st, err, errlen);
    }
    if (!rc && st->given_command)
        rc = set_command(st, err, errlen);
    if (!rc)
        rc = rt_research_write_canon(st, err, errlen);
    st->given_dir = st->given_run = st->given_metric = st->given_test = NULL;
    st->given_command = st->given_tag = st->given_base = NULL;
    /* fresh seeds in every process, so that a resumed run does not repeat the last one's;
     * RATCHET_RESEARCH_SEED (ratchet's own environment, never a candidate's) fixes them, for
     * tests and reproductions */
    const char *fixed = getenv("RATCHET_RESEARCH_SEED");
    char *end = NULL;
    unsigned long long v = fixed ? strtoull(fixed, &end, 10) : 0;
    if (fixed && end != fixed && !*end)
        st->seed_base = v;
    else
        st->seed_base =
            ((uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)(unsigned)getpid();
    if (rc) {
        research_destroy(st);
        return rc;
    }
    *state = st;
    return 0;
}

static const char *research_params(const void *state)
{
    return ((const research_state *)state)->canon;
}

int rt_research_program_info(const rt_problem *problem, rt_program_info *info)
{
    memset(info, 0, sizeof *info);
    if (problem->cls != &rt_problem_research)
        return RT_EUSAGE;
    const research_state *st = problem->state;
    info->initial_path = st->dir;
    info->command = st->has_command ? st->command_argv : NULL;
    info->command_timeout = st->command_timeout;
    info->memory_mib = st->memory;
    info->extension = "";
    return 0;
}

/* ---- the genome interface ---------------------------------------------------------------- */

static void *research_seed(const void *state)
{
    const research_state *st = state;
    return rt_program_genome_new(st->initial_text, st->initial_len);
}

static int research_encode(const void *state, const void *genome, rt_buf *out)
{
    (void)state;
    const rt_program_genome *g = genome;
    return rt_buf_append(out, g->text, g->len);
}

static int research_decode(const void *state, const char *text, size_t len, void **genome,
                           char *err, size_t errlen)
{
    (void)state;
    if (len > RT_PROGRAM_MAX_TEXT)
        return rt_fail(err, errlen, RT_ETOOBIG, "candidate over the cap of %zu bytes",
                       (size_t)RT_PROGRAM_MAX_TEXT);
    *genome = rt_program_genome_new(text, len);
    return *genome ? 0 : rt_fail(err, errlen, RT_ENOMEM, "out of memory");
}

static void research_score(const void *state, const void *genome, rt_score *out)
{
    (void)state;
    const rt_program_genome *g = genome;
    out->primary = g->evaluated && !g->failed ? g->score : -HUGE_VAL;
    out->secondary = 0;
}

/* One cell: the kept changes form a single chain, as commits on a branch do. */
static void research_features(const void *state, const void *genome, int *coords)
{
    (void)state;
    (void)genome;
    coords[0] = coords[1] = 0;
}

static void research_annotations(const void *state, const void *genome, const char **metrics,
                                 const char **artifacts)
{
    (void)state;
    const rt_program_genome *g = genome;
    *metrics = g->metrics;
    *artifacts = g->artifacts;
}

static void research_shown(const void *state, const void *genome, const char **metrics,
                           const char **artifacts)
{
    (void)state;
    const rt_program_genome *g = genome;
    *metrics = g->shown ? g->shown : g->metrics;
    *artifacts = g->artifacts;
}

static void research_restore(const void *state, void *genome, char *metrics, char *artifacts)
{
    const research_state *st = state;
    rt_program_genome *g = genome;
    free(g->metrics);
    free(g->artifacts);
    free(g->shown);
    g->metrics = metrics;
    g->artifacts = artifacts;
    g->shown = rt_research_hide_test(st, metrics);
}

static int research_dedupe_text(const void *state, const char *text, size_t len, rt_buf *out)
{
    (void)state;
    return rt_text_strip_space(text, len, out);
}

static int research_convert(const void *state, const char *text, size_t len, const char *format,
                            rt_buf *out, char *err, size_t errlen)
{
    (void)state;
    if (format && *format && strcmp(format, "text") != 0)
        return rt_fail(err, errlen, RT_EUSAGE, "unknown format '%s' for research (text)",
                       format);
    return rt_buf_append(out, text, len);
}

static const rt_operator research_operators[] = {
    {"tweak", 1.0, rt_program_tweak},
};

static const char *research_metric_name(const void *state)
{
    return ((const research_state *)state)->metric;
}

const rt_problem_class rt_problem_research = {
    .name = "research",
    .summary = "experiments on a training program (ratchet research --help)",
    .params_help = research_help,
    .create = research_create,
    .destroy = research_destroy,
    .params = research_params,
    .seed = research_seed,
    .clone = rt_program_genome_clone,
    .free_genome = rt_program_genome_free,
    .encode = research_encode,
    .decode = research_decode,
    .score = research_score,
    .features = research_features,
    .verify = rt_research_verify,
    .convert = research_convert,
    .operators = research_operators,
    .noperators = 1,
    .metric_lower_is_better = 1,
    .noisy = 1,
    .evaluate = rt_research_evaluate,
    .metric_name = research_metric_name,
    .annotations = research_annotations,
    .shown = research_shown,
    .restore_annotations = research_restore,
    .dedupe_text = research_dedupe_text,
};
