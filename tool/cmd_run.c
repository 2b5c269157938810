/* cmd_run.c — `ratchet run`: creates a run of a problem in a new store, or resumes one, and
 * executes it until its budget or target; Ctrl-C stops it cleanly. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

/* The arguments of `run`: the library's run options and the tool's own. */
typedef struct run_args {
    rt_run_options opt;
    const char *problem, *store, *resume, *policy, *config;
    int quiet, jobs;
    arg_params params; /* the problem's parameters */
} run_args;

/* The rows of run_opts, in the order of the help. */
enum {
    RUN_STORE, RUN_RESUME, RUN_SECONDS, RUN_EVALUATIONS, RUN_TARGET, RUN_SEED, RUN_ISLANDS,
    RUN_THREADS, RUN_JOBS, RUN_PROPOSER, RUN_CONFIG, RUN_POLICY, RUN_QUIET, RUN_TRUST_PROXY,
    RUN_NOPTS
};

#define AT(field) offsetof(run_args, field)
static const arg_opt run_opts[RUN_NOPTS + 1] = {
    [RUN_STORE] = {"store", "FILE", ARG_TEXT, 0, 0, NULL, AT(store),
                   "the run's store (default runs/PROBLEM-DATE-TIME.db)"},
    [RUN_RESUME] = {"resume", "FILE", ARG_TEXT, 0, 0, NULL, AT(resume),
                    "continue the run in FILE"},
    [RUN_SECONDS] = {"seconds", "S", ARG_NUM, 0.001, 1e9, "a positive number", AT(opt.seconds),
                     "time budget for this session"},
    [RUN_EVALUATIONS] = {"evaluations", "N", ARG_LONG, 1, 1e15, "a positive integer",
                         AT(opt.evaluations), "evaluation budget for this session"},
    [RUN_TARGET] = {"target", "X", ARG_NUM, -1e300, 1e300, "a number", AT(opt.target),
                    "stop once the best verified figure reaches X (e.g. a rank)\n"
                    "(without any budget or target: --seconds 60)"},
    [RUN_SEED] = {"seed", "N", ARG_SEED, 0, 0, "a non-negative integer", AT(opt.seed),
                  "random seed (default 1); one seed gives one run"},
    [RUN_ISLANDS] = {"islands", "N", ARG_INT, 1, 64, "1 to 64", AT(opt.islands),
                     "number of islands (default 4)"},
    [RUN_THREADS] = {"threads", "N", ARG_INT, 1, 64, "1 to 64", AT(opt.threads),
                     "worker threads (default: the number of cores)"},
    [RUN_JOBS] = {"jobs", "N", ARG_INT, 1, 64, "1 to 64", AT(jobs),
                  "evaluations in parallel (program): N threads, at least N islands"},
    [RUN_PROPOSER] = {"proposer", "NAME", ARG_TEXT, 0, 0, NULL, AT(opt.proposer),
                      "what makes children: builtin (default), command or llm"},
    [RUN_CONFIG] = {"config", "FILE", ARG_TEXT, 0, 0, NULL, AT(config), /* read by cmd_run */
                    "options from FILE (key = value); flags override it; for\n"
                    "program, ratchet.ini next to --initial is read by default"},
    [RUN_POLICY] = {"policy", "FILE", ARG_TEXT, 0, 0, NULL, AT(policy),
                    "the run's policy (JSON, see ratchet policy show); stored with\n"
                    "the run, so a resume uses the same one"},
    [RUN_QUIET] = {"quiet", NULL, ARG_FLAG, 0, 0, NULL, AT(quiet), "no progress line"},
    [RUN_TRUST_PROXY] = {"trust-proxy", NULL, ARG_FLAG, 0, 0, NULL, AT(opt.trust_proxy),
                         "ABLATION ONLY: admit candidates on the proxy's word alone\n"
                         "(verdicts are recorded, not enforced; status warns)"},
};

static void help_run(FILE *f)
{
    fprintf(f, "usage: ratchet run PROBLEM [PROBLEM OPTIONS] [OPTIONS]\n"
               "       ratchet run --resume STORE [OPTIONS]\n"
               "\n"
               "Searches PROBLEM, keeping every candidate in STORE. Nothing enters the archive\n"
               "before the problem's verifier accepts its stored text. Ctrl-C stops cleanly;\n"
               "a killed run loses at most the last half second and resumes with --resume.\n"
               "\n"
               "Options:\n");
    args_help(f, run_opts, 19);
    fputc('\n', f);
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

static rt_run *active_run;
static volatile sig_atomic_t signals_seen;

/* The first Ctrl-C (or SIGTERM) stops the run: the work in flight is cut, the store committed.
 * The second exits at once; the store keeps its last commit (SQLite's journal makes that
 * consistent) and the sandboxes die with the process (their parent-death signal). */
static void on_signal(int sig)
{
    static const char stopping[] = "\nratchet: stopping: cutting the work in flight (Ctrl-C "
                                   "again to quit at once)\n";
    static const char quitting[] = "\nratchet: quit at once; the store keeps its last commit "
                                   "(continue with run --resume)\n";
    if (++signals_seen > 1) {
        ssize_t w = write(STDERR_FILENO, quitting, sizeof quitting - 1);
        (void)w;
        _exit(128 + sig);
    }
    ssize_t w = write(STDERR_FILENO, stopping, sizeof stopping - 1);
    (void)w;
    if (active_run)
        rt_run_stop(active_run);
}

static void show_progress(const rt_progress *p, void *user)
{
    (void)user;
    char best[64] = "none yet";
    if (p->has_best)
        snprintf(best, sizeof best, "%s %g", p->metric_name, p->best_metric);
    fprintf(stderr, "\r\033[Kbest %s (verified) | %lld evaluated of %lld proposals | %.0f/s | "
                    "%.1f s", best, p->evaluated, p->evaluations, p->evals_per_second, p->elapsed);
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

/* Reads a policy file and checks it (so that a bad key is reported before anything else);
 * *text is the file's content (caller frees). Returns 0, or -1 with the reason in msg. */
static int read_policy_file(const char *path, char **text, char *msg, size_t msglen)
{
    size_t len = 0;
    if (input_read_policy(path, "policy ", text, &len, msg, msglen))
        return -1;
    char *json = NULL;
    rt_error err = {0};
    int rc = rt_policy_show(*text, len, &json, &err);
    free(json);
    if (rc) {
        snprintf(msg, msglen, "%.100s: %.400s", path, err.msg);
        free(*text);
        *text = NULL;
        return -1;
    }
    return 0;
}

/* An option that is not run's own: the llm proposer's, else a parameter of the problem. */
static int run_other(void *dest, const char *name, const char *value)
{
    run_args *a = dest;
    int rc = llm_run_option(name, value, &a->opt);
    if (rc)
        return rc < 0 ? EXIT_USAGE : 0;
    return args_param("run", &a->params, name, value);
}

/* Reads run's arguments into a and settles what depends on which options were given. Returns
 * 0, -1 after printing the help, or EXIT_USAGE after printing one line. */
static int run_parse(int argc, char **argv, run_args *a)
{
    static const arg_spec spec = {"run", run_opts, help_run, AT(problem), run_other};
    int seen[RUN_NOPTS] = {0};
    memset(a, 0, sizeof *a);
    rt_run_options_init(&a->opt);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    a->opt.threads = ncpu > 0 ? (int)ncpu : 1;
    int rc = args_parse(&spec, argc, argv, a, seen);
    if (rc)
        return rc;
    a->opt.has_target = seen[RUN_TARGET] > 0;
    if (!seen[RUN_SECONDS] && !seen[RUN_EVALUATIONS] && !a->opt.has_target)
        a->opt.seconds = 60;
    if (seen[RUN_JOBS] > seen[RUN_THREADS])
        a->opt.threads = a->jobs; /* the later of --jobs and --threads counts */
    if (a->jobs > a->opt.islands && !seen[RUN_ISLANDS])
        a->opt.islands = a->jobs; /* one evaluation in flight per island */
    if (!a->resume && !a->problem) {
        usage_error("run: name a problem (for example: ratchet run matmul --shape 3x3x3) or "
                    "give --resume STORE");
        return EXIT_USAGE;
    }
    if (a->resume && a->store) {
        usage_error("run: give --resume STORE or --store FILE, not both");
        return EXIT_USAGE;
    }
    if (a->resume && a->policy) {
        usage_error("run: --policy is for new runs; a resumed run uses its stored policy");
        return EXIT_USAGE;
    }
    return 0;
}

/* Opens the run that a describes: a new one (in runs/ when no store is named) or the resumed
 * one; path receives the store's path. Returns 0, or an exit status after printing one line. */
static int run_open(run_args *a, rt_run **run, char *path, size_t pathlen)
{
    char *policy_text = NULL;
    rt_problem *problem = NULL;
    rt_error err = {0};
    int rc = EXIT_USAGE;
    if (a->policy) {
        if (read_policy_file(a->policy, &policy_text, err.msg, sizeof err.msg)) {
            usage_error("run: %s", err.msg);
            return EXIT_USAGE;
        }
        a->opt.policy = policy_text;
    }
    if (a->problem && rt_problem_open(&problem, a->problem, a->params.keys, a->params.values,
                                      a->params.n, &err)) {
        usage_error("run: %s", err.msg);
        goto done;
    }
    if (!a->quiet && isatty(STDERR_FILENO)) {
        a->opt.progress = show_progress;
        a->opt.progress_interval = 0.25;
    }
    if (a->resume) {
        rc = rt_run_resume(run, a->resume, problem, &a->opt, &err);
        snprintf(path, pathlen, "%s", a->resume);
    } else if (!a->store && default_store(a->problem, path, pathlen)) {
        goto done;
    } else {
        if (a->store)
            snprintf(path, pathlen, "%s", a->store);
        rc = rt_run_create(run, a->store ? a->store : path, problem, &a->opt, &err);
    }
    if (rc) {
        usage_error("%s", err.msg);
        rc = exit_for(rc);
    }
done:
    rt_problem_close(problem);
    free(policy_text);
    a->opt.policy = NULL;
    return rc;
}

/* Prints the end of a run: its best, its evaluations and proposals, and on stderr its failures
 * by cause (the three largest). */
static void print_outcome(const char *path)
{
    rt_store *st = NULL;
    rt_error err = {0};
    if (rt_store_open(&st, path, &err) != 0)
        return;
    rt_summary sum;
    if (rt_store_summary(st, &sum) == 0 && sum.has_best)
        printf("best verified %s %g after %lld evaluations (%lld proposals) in %.1f s (store "
               "%s)\n",
               sum.metric_name, sum.best_metric, sum.evaluated, sum.proposals, sum.elapsed,
               path);
    char *text = NULL;
    json_t *f = rt_store_failures(st, &text) == 0 && text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(f, "causes"), i, c) {
        if (i == 3)
            break;
        const char *detail = json_string_value(json_object_get(c, "detail"));
        const char *cause = json_string_value(json_object_get(c, "cause"));
        fprintf(stderr, "ratchet: %lld failed: %s%s%s\n",
                (long long)json_integer_value(json_object_get(c, "count")), cause ? cause : "?",
                detail && *detail ? ": " : "",
                detail && *detail ? detail : "");
    }
    json_decref(f);
    rt_store_close(st);
}

/* Executes an opened run (and closes it) with Ctrl-C stopping it, then prints its best. Returns
 * the exit status. */
static int run_execute(rt_run *run, const rt_run_options *opt, const char *path)
{
    if (opt->trust_proxy)
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
    int rc = rt_run_execute(run);
    if (opt->progress)
        fputc('\n', stderr);
    active_run = NULL;
    if (rc) {
        usage_error("%s", rt_run_errmsg(run));
        rt_run_close(run);
        return exit_for(rc);
    }
    rt_run_close(run);
    print_outcome(path);
    return 0;
}

int cmd_run(int argc, char **argv)
{
    int n;
    char **args;
    if (config_args_expand(argc, argv, &n, &args))
        return EXIT_USAGE;
    run_args a;
    rt_run *run = NULL;
    char path[4096];
    int rc = run_parse(n, args, &a);
    if (!rc)
        rc = run_open(&a, &run, path, sizeof path);
    if (!rc)
        rc = run_execute(run, &a.opt, path);
    config_args_free(argv, args, n);
    return rc < 0 ? 0 : rc;
}
