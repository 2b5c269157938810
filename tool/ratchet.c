/* ratchet.c — the command-line tool: main and the command table. It uses only the public API in
 * include/ratchet.h; each command lives in its own file (tool/cmd_NAME.c), and tool/tool.h lists
 * them with the helpers they share.
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define MAX_PARAMS 16
#define MAX_INPUT ((size_t)64 << 20)

static const char *progname = "ratchet";

void usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int exit_for(int code)
{
    switch (code) {
    case RT_OK:
        return 0;
    case RT_EINVALID:
    case RT_EINTERNAL:
        return EXIT_FAIL;
    default:
        return EXIT_USAGE;
    }
}

/* ---- option parsing ---------------------------------------------------------------------- */

typedef struct opt_list {
    const char *keys[MAX_PARAMS];
    const char *values[MAX_PARAMS];
    size_t n;
} opt_list;

static int parse_u64(const char *s, uint64_t *out)
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

static int parse_ll(const char *s, long long lo, long long hi, long long *out)
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

static int parse_num(const char *s, double lo, double hi, double *out)
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
static int next_opt(int argc, char **argv, int *i, const char **name, const char **value,
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

static int is_flag(const char *name, const char *const *flags)
{
    for (; *flags; flags++)
        if (strcmp(name, *flags) == 0)
            return 1;
    return 0;
}

/* A JSON number: an integer when the value is one (ranks print as 23, not 23.0). */
static json_t *json_number(double v)
{
    if (v == (double)(json_int_t)v && v > -9e15 && v < 9e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

/* ---- help -------------------------------------------------------------------------------- */

static void print_problems(FILE *f)
{
    fprintf(f, "Problems:\n");
    for (size_t i = 0; i < rt_problem_count(); i++)
        fprintf(f, "  %-10s %s\n", rt_problem_name_at(i), rt_problem_summary_at(i));
}

static void help_run(FILE *f)
{
    fprintf(f,
            "usage: ratchet run PROBLEM [PROBLEM OPTIONS] [OPTIONS]\n"
            "       ratchet run --resume STORE [OPTIONS]\n"
            "\n"
            "Searches PROBLEM, keeping every candidate in STORE. Nothing enters the archive\n"
            "before the problem's verifier accepts its stored text. Ctrl-C stops cleanly;\n"
            "a killed run loses at most the last half second and resumes with --resume.\n"
            "\n"
            "Options:\n"
            "  --store FILE       the run's store (default runs/PROBLEM-DATE-TIME.db)\n"
            "  --resume FILE      continue the run in FILE\n"
            "  --seconds S        time budget for this session\n"
            "  --evaluations N    evaluation budget for this session\n"
            "  --target X         stop once the best verified figure reaches X (e.g. a rank)\n"
            "                     (without any budget or target: --seconds 60)\n"
            "  --seed N           random seed (default 1); one seed gives one run\n"
            "  --islands N        number of islands (default 4)\n"
            "  --threads N        worker threads (default: the number of cores)\n"
            "  --jobs N           evaluations in parallel (program): N threads, at least N islands\n"
            "  --proposer NAME    what makes children: builtin (default), command or llm\n"
            "  --config FILE      options from FILE (key = value); flags override it; for\n"
            "                     program, ratchet.ini next to --initial is read by default\n"
            "  --policy FILE      the run's policy (JSON, see ratchet policy show); stored with\n"
            "                     the run, so a resume uses the same one\n"
            "  --quiet            no progress line\n"
            "  --trust-proxy      ABLATION ONLY: admit candidates on the proxy's word alone\n"
            "                     (verdicts are recorded, not enforced; status warns)\n"
            "\n");
    llm_run_help(f);
    fputc('\n', f);
    print_problems(f);
    for (size_t i = 0; i < rt_problem_count(); i++) {
        const char *help = rt_problem_params_help(rt_problem_name_at(i));
        if (help)
            fprintf(f, "\n%s options:\n%s", rt_problem_name_at(i), help);
    }
    fprintf(f, "\nExamples:\n  ratchet run matmul --shape 3x3x3 --field gf2 --seconds 60 --seed 1 "
               "--store runs/m333.db\n"
               "  ratchet run program --initial examples/circle_packing/pack.c --seconds 600 "
               "--store runs/cp.db\n");
}

static void help_status(FILE *f)
{
    fprintf(f, "usage: ratchet status STORE [--json]\n\n"
               "Summarises a run: best verified result, evaluations, time, and each island.\n"
               "  --json   print one JSON object\n");
}

static void help_best(FILE *f)
{
    fprintf(f, "usage: ratchet best STORE [--format FORMAT] [--json] [--certificate DIR]\n\n"
               "Prints the run's best verified candidate on standard output.\n"
               "  --format FORMAT    matmul: exp (default), json, c (a C function) or lift (a\n"
               "                     GF(2) scheme lifted to the integers); program: text\n"
               "  --json             same as --format json\n"
               "  --certificate DIR  instead, write what an outsider needs to check it without\n"
               "                     ratchet into DIR (matmul: scheme.exp, check_scheme.c,\n"
               "                     README.txt)\n");
}

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

/* ---- run --------------------------------------------------------------------------------- */

static rt_run *active_run;

static void on_signal(int sig)
{
    (void)sig;
    if (active_run)
        rt_run_stop(active_run);
}

static void show_progress(const rt_progress *p, void *user)
{
    (void)user;
    char best[64] = "none yet";
    if (p->has_best)
        snprintf(best, sizeof best, "%s %g", p->metric_name, p->best_metric);
    fprintf(stderr, "\r\033[Kbest %s (verified) | %lld evals | %.0f evals/s | %.1f s", best,
            p->evaluations, p->evals_per_second, p->elapsed);
    fflush(stderr);
}

static int default_store(const char *problem, char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    if (mkdir("runs", 0777) != 0 && errno != EEXIST) {
        usage_error("cannot create runs/: %s", strerror(errno));
        return -1;
    }
    snprintf(buf, len, "runs/%s-%04d%02d%02d-%02d%02d%02d.db", problem, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return 0;
}

static int cmd_run_args(int argc, char **argv);

/* Reads a policy file and checks it (so that a bad key is reported before anything else);
 * *text is the file's content (caller frees). */
static int read_policy_file(const char *path, char **text, rt_error *err)
{
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        err->code = RT_EIO;
        snprintf(err->msg, sizeof err->msg, "cannot read policy %s: %s", path, strerror(errno));
        return RT_EIO;
    }
    size_t cap = 65536 + 1, n = 0;
    char *buf = malloc(cap + 1);
    if (buf)
        n = fread(buf, 1, cap, f);
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad || n == cap || memchr(buf, '\0', n)) {
        err->code = bad ? RT_EIO : RT_ETOOBIG;
        snprintf(err->msg, sizeof err->msg, "policy %s: %s", path,
                 bad ? "cannot read it" : n == cap ? "over 64 KiB" : "contains a NUL byte");
        free(buf);
        return err->code;
    }
    buf[n] = '\0';
    char *json = NULL;
    int rc = rt_policy_show(buf, n, &json, err);
    free(json);
    if (rc) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        snprintf(err->msg, sizeof err->msg, "%.100s: %.400s", path, msg);
        free(buf);
        return rc;
    }
    *text = buf;
    return 0;
}

int cmd_run(int argc, char **argv)
{
    int n;
    char **args;
    if (config_args_expand(argc, argv, &n, &args))
        return EXIT_USAGE;
    int rc = cmd_run_args(n, args);
    config_args_free(argv, args, n);
    return rc;
}

static int cmd_run_args(int argc, char **argv)
{
    static const char *const flags[] = {"quiet", "help", "trust-proxy", NULL};
    const char *problem_name = NULL, *store = NULL, *resume = NULL;
    rt_run_options opt;
    rt_run_options_init(&opt);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    opt.threads = ncpu > 0 ? (int)ncpu : 1;
    int quiet = 0, has_budget = 0, jobs = 0, islands_given = 0, rc;
    const char *policy_path = NULL;
    opt_list params = {.n = 0};
    for (int i = 1; i < argc; i++) {
        const char *name, *value;
        int kind = next_opt(argc, argv, &i, &name, &value, 0);
        if (kind == 0) {
            if (problem_name) {
                usage_error("run: unexpected argument '%s'", argv[i]);
                return EXIT_USAGE;
            }
            problem_name = argv[i];
            continue;
        }
        if (!value && !is_flag(name, flags)) {
            if (i + 1 >= argc) {
                usage_error("run: --%s needs a value", name);
                return EXIT_USAGE;
            }
            value = argv[++i];
        }
        if (strcmp(name, "help") == 0) {
            help_run(stdout);
            return 0;
        } else if (strcmp(name, "quiet") == 0) {
            quiet = 1;
        } else if (strcmp(name, "trust-proxy") == 0) {
            opt.trust_proxy = 1;
        } else if (strcmp(name, "store") == 0) {
            store = value;
        } else if (strcmp(name, "resume") == 0) {
            resume = value;
        } else if (strcmp(name, "policy") == 0) {
            policy_path = value;
        } else if (strcmp(name, "seconds") == 0) {
            if (parse_num(value, 0.001, 1e9, &opt.seconds)) {
                usage_error("run: bad --seconds '%s': expected a positive number", value);
                return EXIT_USAGE;
            }
            has_budget = 1;
        } else if (strcmp(name, "evaluations") == 0) {
            if (parse_ll(value, 1, (long long)1e15, &opt.evaluations)) {
                usage_error("run: bad --evaluations '%s': expected a positive integer", value);
                return EXIT_USAGE;
            }
            has_budget = 1;
        } else if (strcmp(name, "target") == 0) {
            if (parse_num(value, -1e300, 1e300, &opt.target)) {
                usage_error("run: bad --target '%s': expected a number", value);
                return EXIT_USAGE;
            }
            opt.has_target = 1;
        } else if (strcmp(name, "seed") == 0) {
            if (parse_u64(value, &opt.seed)) {
                usage_error("run: bad --seed '%s': expected a non-negative integer", value);
                return EXIT_USAGE;
            }
        } else if (strcmp(name, "islands") == 0) {
            long long v;
            if (parse_ll(value, 1, 64, &v)) {
                usage_error("run: bad --islands '%s': expected 1 to 64", value);
                return EXIT_USAGE;
            }
            opt.islands = (int)v;
            islands_given = 1;
        } else if (strcmp(name, "config") == 0) {
            /* read by cmd_run */
        } else if (strcmp(name, "proposer") == 0) {
            opt.proposer = value;
        } else if (strcmp(name, "jobs") == 0) {
            long long v;
            if (parse_ll(value, 1, 64, &v)) {
                usage_error("run: bad --jobs '%s': expected 1 to 64", value);
                return EXIT_USAGE;
            }
            opt.threads = (int)v;
            jobs = (int)v;
        } else if (strcmp(name, "threads") == 0) {
            long long v;
            if (parse_ll(value, 1, 64, &v)) {
                usage_error("run: bad --threads '%s': expected 1 to 64", value);
                return EXIT_USAGE;
            }
            opt.threads = (int)v;
        } else if ((rc = llm_run_option(name, value, &opt)) != 0) {
            if (rc < 0)
                return EXIT_USAGE;
        } else {
            if (params.n == MAX_PARAMS) {
                usage_error("run: too many options");
                return EXIT_USAGE;
            }
            params.keys[params.n] = name;
            params.values[params.n] = value;
            params.n++;
        }
    }
    if (!has_budget && !opt.has_target)
        opt.seconds = 60;
    if (jobs > opt.islands && !islands_given)
        opt.islands = jobs; /* one evaluation in flight per island: --jobs N needs N islands */
    if (!resume && !problem_name) {
        usage_error("run: name a problem (for example: ratchet run matmul --shape 3x3x3) or "
                    "give --resume STORE");
        return EXIT_USAGE;
    }
    if (resume && store) {
        usage_error("run: give --resume STORE or --store FILE, not both");
        return EXIT_USAGE;
    }
    if (resume && policy_path) {
        usage_error("run: --policy is for new runs; a resumed run uses its stored policy");
        return EXIT_USAGE;
    }
    char *policy_text = NULL;
    if (policy_path) {
        rt_error perr = {0};
        if (read_policy_file(policy_path, &policy_text, &perr)) {
            usage_error("run: %s", perr.msg);
            return EXIT_USAGE;
        }
        opt.policy = policy_text;
    }
    rt_error err = {0};
    rt_problem *problem = NULL;
    if (problem_name && rt_problem_open(&problem, problem_name, params.keys, params.values,
                                        params.n, &err)) {
        usage_error("run: %s", err.msg);
        free(policy_text);
        return EXIT_USAGE;
    }
    if (!quiet && isatty(STDERR_FILENO)) {
        opt.progress = show_progress;
        opt.progress_interval = 0.25;
    }
    char path[4096];
    rt_run *run = NULL;
    if (resume) {
        rc = rt_run_resume(&run, resume, problem, &opt, &err);
        snprintf(path, sizeof path, "%s", resume);
    } else {
        if (!store) {
            if (default_store(problem_name, path, sizeof path)) {
                rt_problem_close(problem);
                free(policy_text);
                return EXIT_USAGE;
            }
            store = path;
        } else {
            snprintf(path, sizeof path, "%s", store);
        }
        rc = rt_run_create(&run, store, problem, &opt, &err);
    }
    rt_problem_close(problem);
    free(policy_text);
    opt.policy = policy_text = NULL;
    if (rc) {
        usage_error("%s", err.msg);
        return exit_for(rc);
    }
    if (opt.trust_proxy)
        fprintf(stderr,
                "ratchet: WARNING: --trust-proxy: candidates are admitted on the proxy's word "
                "alone, NOT verified; this session's results are not trustworthy (recorded in "
                "%s; `ratchet status` and `ratchet audit` will say so)\n",
                path);
    active_run = run;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = rt_run_execute(run);
    if (opt.progress)
        fputc('\n', stderr);
    active_run = NULL;
    if (rc) {
        usage_error("%s", rt_run_errmsg(run));
        rt_run_close(run);
        return exit_for(rc);
    }
    rt_run_close(run);

    rt_store *st = NULL;
    if (rt_store_open(&st, path, &err) == 0) {
        rt_summary sum;
        if (rt_store_summary(st, &sum) == 0 && sum.has_best)
            printf("best verified %s %g after %lld evaluations in %.1f s (store %s)\n",
                   sum.metric_name, sum.best_metric, sum.evaluations, sum.elapsed, path);
        rt_store_close(st);
    }
    return 0;
}

/* ---- status / best ----------------------------------------------------------------------- */

static int open_store_arg(int argc, char **argv, const char *cmd, void (*help)(FILE *),
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

/* Prints one line per operator of the bandit's state (the JSON of rt_store_bandit). */
static void print_bandit(const char *bandit)
{
    json_t *o = bandit ? json_loads(bandit, 0, NULL) : NULL;
    json_t *arms = json_object_get(o, "arms");
    size_t i;
    json_t *a;
    json_array_foreach(arms, i, a) {
        const char *op = json_string_value(json_object_get(a, "op"));
        printf("operator     %-8s p %.3f, %lld draws, %lld improved, reward/work %.3g%s\n",
               op ? op : "?",
               json_number_value(json_object_get(a, "p")),
               (long long)json_number_value(json_object_get(a, "pulls")),
               (long long)json_number_value(json_object_get(a, "wins")),
               json_number_value(json_object_get(a, "cost")) > 0
                   ? json_number_value(json_object_get(a, "reward")) /
                         json_number_value(json_object_get(a, "cost"))
                   : 0.0,
               json_is_false(json_object_get(o, "enabled")) ? " (bandit off: by weight)" : "");
    }
    json_decref(o);
}

int cmd_status(int argc, char **argv)
{
    static const char *const flags[] = {"json", NULL};
    const char *path;
    int json = 0;
    int rc = open_store_arg(argc, argv, "status", help_status, flags, &path, &json, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    rt_error err = {0};
    rt_store *st = NULL;
    if (rt_store_open(&st, path, &err)) {
        usage_error("status: %s", err.msg);
        return exit_for(err.code);
    }
    rt_summary s;
    rt_drift drift;
    rc = rt_store_summary(st, &s);
    if (!rc)
        rc = rt_store_drift(st, &drift);
    char *bandit = NULL;
    if (!rc)
        rc = rt_store_bandit(st, &bandit);
    if (rc) {
        usage_error("status: %s", rt_store_errmsg(st));
        free(bandit);
        rt_store_close(st);
        return exit_for(rc);
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "store", json_string(path));
        json_object_set_new(o, "problem", json_string(s.problem));
        json_object_set_new(o, "params", json_string(s.params));
        json_object_set_new(o, "seed", json_integer((json_int_t)s.seed));
        json_object_set_new(o, "sessions", json_integer(s.sessions));
        json_object_set_new(o, "elapsed", json_real(s.elapsed));
        json_object_set_new(o, "evaluations", json_integer(s.evaluations));
        json_object_set_new(o, "duplicates", json_integer(s.duplicates));
        json_object_set_new(o, "stored", json_integer(s.stored));
        json_object_set_new(o, "valid", json_integer(s.valid));
        json_object_set_new(o, "invalid", json_integer(s.invalid));
        json_object_set_new(o, "admitted", json_integer(s.admitted));
        if (s.has_best) {
            json_t *b = json_object();
            json_object_set_new(b, s.metric_name, json_number(s.best_metric));
            json_object_set_new(b, "hash", json_string(s.best_hash));
            json_object_set_new(b, "verified", json_string(s.best_summary));
            json_object_set_new(o, "best", b);
        } else {
            json_object_set_new(o, "best", json_null());
        }
        json_t *arr = json_array();
        for (int i = 0; i < s.nislands; i++) {
            json_t *is = json_object();
            json_object_set_new(is, "island", json_integer(i));
            json_object_set_new(is, "admitted", json_integer(s.islands[i].admitted));
            json_object_set_new(is, "cells", json_integer(s.islands[i].cells));
            json_object_set_new(is, "best", s.islands[i].has_best
                                                ? json_number(s.islands[i].best_metric)
                                                : json_null());
            json_array_append_new(arr, is);
        }
        json_object_set_new(o, "islands", arr);
        json_object_set_new(o, "drift", drift_json(&drift));
        if (bandit) {
            json_t *bj = json_loads(bandit, 0, NULL);
            json_object_set_new(o, "bandit", bj ? bj : json_null());
        }
        free(bandit);
        rc = llm_status(st, stdout, o);
        rt_store_close(st);
        if (rc) {
            json_decref(o);
            return exit_for(rc);
        }
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        json_decref(o);
        if (!text)
            return EXIT_FAIL;
        printf("%s\n", text);
        free(text);
        return 0;
    }
    printf("store        %s\n", path);
    printf("problem      %s %s\n", s.problem, s.params);
    printf("seed         %llu (%d session%s)\n", (unsigned long long)s.seed, s.sessions,
           s.sessions == 1 ? "" : "s");
    printf("elapsed      %.1f s\n", s.elapsed);
    printf("evaluations  %lld (%.0f/s), %lld duplicates dropped\n", s.evaluations,
           s.elapsed > 0 ? (double)s.evaluations / s.elapsed : 0.0, s.duplicates);
    printf("candidates   %lld stored: %lld verified, %lld rejected, %lld admitted\n", s.stored,
           s.valid, s.invalid, s.admitted);
    if (s.has_best)
        printf("best         %s %g — %s\n", s.metric_name, s.best_metric, s.best_summary);
    else
        printf("best         none yet\n");
    drift_print(&drift);
    for (int i = 0; i < s.nislands; i++) {
        printf("island %-5d %lld admitted, %d cells", i, s.islands[i].admitted,
               s.islands[i].cells);
        if (s.islands[i].has_best)
            printf(", best %s %g", s.metric_name, s.islands[i].best_metric);
        printf("\n");
    }
    print_bandit(bandit);
    free(bandit);
    rc = llm_status(st, stdout, NULL);
    rt_store_close(st);
    return rc ? exit_for(rc) : 0;
}

int cmd_best(int argc, char **argv)
{
    static const char *const flags[] = {"json", "format", NULL};
    const char *path, *format = NULL, *cert_dir = NULL;
    int json = 0;
    /* --certificate DIR is taken out here; open_store_arg reads the rest */
    char *rest[256];
    int nrest = 0;
    for (int i = 0; i < argc && nrest < 255; i++) {
        if (i > 0 && strncmp(argv[i], "--certificate", 13) == 0 &&
            (argv[i][13] == '\0' || argv[i][13] == '=')) {
            if (argv[i][13] == '=') {
                cert_dir = argv[i] + 14;
            } else if (i + 1 < argc) {
                cert_dir = argv[++i];
            } else {
                usage_error("best: --certificate needs a folder");
                return EXIT_USAGE;
            }
            if (!*cert_dir) {
                usage_error("best: --certificate needs a folder");
                return EXIT_USAGE;
            }
            continue;
        }
        rest[nrest++] = argv[i];
    }
    rest[nrest] = NULL;
    int rc = open_store_arg(nrest, rest, "best", help_best, flags, &path, &json, &format);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (cert_dir) {
        rt_error cerr = {0};
        rt_store *cst = NULL;
        if (rt_store_open(&cst, path, &cerr)) {
            usage_error("best: %s", cerr.msg);
            return exit_for(cerr.code);
        }
        rc = rt_store_certificate(cst, cert_dir);
        if (rc)
            usage_error("best: %s", rt_store_errmsg(cst));
        else
            printf("certificate written to %s (see %s/README.txt)\n", cert_dir, cert_dir);
        rt_store_close(cst);
        return exit_for(rc);
    }
    if (json)
        format = "json";
    rt_error err = {0};
    rt_store *st = NULL;
    if (rt_store_open(&st, path, &err)) {
        usage_error("best: %s", err.msg);
        return exit_for(err.code);
    }
    char *text = NULL, *out = NULL;
    rt_problem *pb = NULL;
    rc = rt_store_best(st, &text);
    if (!rc)
        rc = rt_store_problem(st, &pb);
    if (rc) {
        usage_error("best: %s", rt_store_errmsg(st));
        rt_store_close(st);
        free(text);
        return exit_for(rc);
    }
    rt_store_close(st);
    if (!format) /* each problem's natural format */
        format = strcmp(rt_problem_name(pb), "matmul") == 0 ? "exp" : "text";
    rc = rt_problem_convert(pb, text, strlen(text), format, &out, &err);
    free(text);
    rt_problem_close(pb);
    if (rc) {
        usage_error("best: %s", err.msg);
        return exit_for(rc);
    }
    fputs(out, stdout);
    if (*out && out[strlen(out) - 1] != '\n')
        fputc('\n', stdout);
    free(out);
    return 0;
}

/* ---- verify ------------------------------------------------------------------------------ */

static int read_input(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    int rc = 0;
    while (buf) {
        if (n == cap) {
            if (cap >= MAX_INPUT) {
                snprintf(err, errlen, "%s is larger than %zu bytes", path, MAX_INPUT);
                rc = -1;
                break;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
                rc = -1;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (!buf) {
        snprintf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    if (rc) {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
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

/* ---- the command table ------------------------------------------------------------------ */

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* NULL: dispatched by main before the table */
    const char *help;                  /* its line in `ratchet --help` */
} command;

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("ratchet %s\n", RT_VERSION);
    return 0;
}

static const command commands[] = {
    {"run", cmd_run, "search a problem, or resume a run (ratchet run --help)"},
    {"status", cmd_status, "summarise a run's store"},
    {"best", cmd_best, "print a run's best verified candidate"},
    {"verify", cmd_verify, "verify a candidate file independently"},
    {"lift", cmd_lift, "lift a GF(2) matmul scheme to the integers (ratchet lift --help)"},
    {"audit", cmd_audit, "re-check a store: hashes, lineage chain, every admitted candidate"},
    {"policy", cmd_policy, "print the default policy, or a policy file merged over it"},
    {"meta", cmd_meta, "evolve policies on training problems, admit on held-out ones"},
    {"jail", NULL, "(inside a sandbox) run a candidate in a jail of its own (ratchet jail --help)"},
    {"version", cmd_version, "print the version"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void help_main(FILE *f)
{
    fprintf(f, "usage: ratchet COMMAND [ARGS]\n"
               "\n"
               "ratchet searches for better programs and algorithms and keeps only what an\n"
               "independent verifier has proved. Every run lives in one store file that survives\n"
               "a crash and can be resumed.\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    fputc('\n', f);
    print_problems(f);
    fprintf(f, "\nExit codes: 0 ok, 1 verification or run failure, 2 bad usage or input.\n");
}

int main(int argc, char **argv)
{
    signal(SIGXFSZ, SIG_IGN); /* a file-size limit makes writes fail instead of killing us */
    signal(SIGPIPE, SIG_IGN);
    /* inside a sandbox this program is also the jail's client ($RATCHET_JAIL) */
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (strcmp(base, "ratchet-jail") == 0)
        return rt_jail_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "jail") == 0)
        return rt_jail_main(argc - 1, argv + 1);
    /* every sandbox this process starts offers this program as its jail (or the client that
     * RATCHET_JAIL_HELPER names: a sanitizer build cannot start under the sandbox's limits) */
    const char *helper = getenv("RATCHET_JAIL_HELPER");
    if (rt_jail_set_helper(helper && helper[0] ? helper : "/proc/self/exe") != 0)
        fprintf(stderr, "ratchet: RATCHET_JAIL_HELPER=%s is not an executable file: no jail\n",
                helper ? helper : "");
    if (argc < 2) {
        help_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        help_main(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0)
        cmd = "version";
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].run && strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    usage_error("unknown command '%s' (see ratchet --help)", cmd);
    return EXIT_USAGE;
}
