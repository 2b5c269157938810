/* cmd_run.c — `ratchet run`: creates a run of a problem in a new store, or resumes one, and
 * executes it until its budget or target; Ctrl-C stops it cleanly. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

/* The rows of run_opts, in the order of the help. */
enum {
    RUN_STORE, RUN_RESUME, RUN_SECONDS, RUN_EVALUATIONS, RUN_TARGET, RUN_SEED, RUN_ISLANDS,
    RUN_THREADS, RUN_REPRODUCIBLE, RUN_JOBS, RUN_PROPOSER, RUN_CONFIG, RUN_POLICY, RUN_QUIET, RUN_TRUST_PROXY,
    RUN_MPI_TIMEOUT, RUN_NOPTS
};

/* The arguments of `run`: the library's run options and the tool's own. */
typedef struct run_args {
    rt_run_options opt;
    const char *problem, *store, *resume, *policy, *config;
    int quiet, jobs, reproducible;
    double mpi_timeout;
    int mpi_workers; /* under mpirun: the ranks other than 0 */
    arg_params params; /* the problem's parameters */
    /* whose parameters are options: the problem named, else the resumed store's (NULL: none
     * named; with help asked for, every option is taken, the help comes first) */
    const char *params_of;
    int help;
    int seen[RUN_NOPTS]; /* args_parse's: which rows were given */
} run_args;

#define AT(field) offsetof(run_args, field)
static const arg_opt run_opts[RUN_NOPTS + 1] = {
    [RUN_STORE] = {"store", "FILE", ARG_TEXT, 0, 0, NULL, AT(store),
                   "the run's store (default runs/PROBLEM-DATE-TIME.db)"},
    [RUN_RESUME] = {"resume", "FILE", ARG_TEXT, 0, 0, NULL, AT(resume),
                    "continue the run in FILE"},
    [RUN_SECONDS] = {"seconds", "S", ARG_NUM, 0.001, 1e9, "a positive number", AT(opt.seconds),
                     "time budget for this session"},
    [RUN_EVALUATIONS] = {"evaluations", "N", ARG_LONG, 1, 1e15, "a positive integer",
                         AT(opt.evaluations),
                         "proposal budget for this session: children asked of the proposer\n"
                         "(the end of the run counts the evaluations among them)"},
    [RUN_TARGET] = {"target", "X", ARG_NUM, -1e300, 1e300, "a number", AT(opt.target),
                    "stop once the best verified figure reaches X (e.g. a rank)\n"
                    "(without any budget or target: --seconds 60)"},
    [RUN_SEED] = {"seed", "N", ARG_SEED, 0, 0, "a non-negative integer", AT(opt.seed),
                  "random seed (default 1); one seed gives one run on one\n"
                  "thread, or with --reproducible"},
    [RUN_ISLANDS] = {"islands", "N", ARG_INT, 1, 64, "1 to 64", AT(opt.islands),
                     "number of islands (default 4)"},
    [RUN_THREADS] = {"threads", "N", ARG_INT, 1, 64, "1 to 64", AT(opt.threads),
                     "worker threads (default: the number of cores)"},
    [RUN_REPRODUCIBLE] = {"reproducible", NULL, ARG_FLAG, 0, 0, NULL, AT(reproducible),
                          "in-process work (matmul) in generations: one seed gives one\n"
                          "run on any --threads. Without it a free thread takes the next\n"
                          "island's run at once, so on more than one thread the run\n"
                          "follows timing (docs/scheduling.md)"},
    [RUN_JOBS] = {"jobs", "N", ARG_INT, 1, 64, "1 to 64", AT(jobs),
                  "evaluations in parallel (program): N threads, at least N islands"},
    [RUN_PROPOSER] = {"proposer", "NAME", ARG_TEXT, 0, 0, NULL, AT(opt.proposer),
                      "what makes children: builtin (default), command or llm"},
    [RUN_CONFIG] = {"config", "FILE", ARG_TEXT, 0, 0, NULL, AT(config), /* read by cmd_run */
                    "options from FILE (key = value, a key for every long option;\n"
                    "flags override it); for program, ratchet.ini next to\n"
                    "--initial is read by default"},
    [RUN_POLICY] = {"policy", "FILE", ARG_TEXT, 0, 0, NULL, AT(policy),
                    "the run's policy (JSON, see ratchet policy show); stored with\n"
                    "the run, so a resume uses the same one"},
    [RUN_QUIET] = {"quiet", NULL, ARG_FLAG, 0, 0, NULL, AT(quiet), "no progress line"},
    [RUN_TRUST_PROXY] = {"trust-proxy", NULL, ARG_FLAG, 0, 0, NULL, AT(opt.trust_proxy),
                         "ABLATION ONLY: admit candidates on the proxy's word alone\n"
                         "(verdicts are recorded, not enforced; status warns)"},
    [RUN_MPI_TIMEOUT] = {"mpi-timeout", "S", ARG_NUM, 0.1, 1e9, "a positive number",
                         AT(mpi_timeout),
                         "under mpirun: seconds a worker rank may take for one job\n"
                         "before it counts as lost and the run stops (default 600)"},
};

static void help_run(FILE *f)
{
    fprintf(f, "usage: ratchet run PROBLEM [PROBLEM OPTIONS] [OPTIONS]\n"
               "       ratchet run --resume STORE [OPTIONS]\n"
               "\n"
               "Searches PROBLEM, keeping every candidate in STORE. Nothing enters the archive\n"
               "before the problem's verifier accepts its stored text. Ctrl-C stops cleanly;\n"
               "a killed run loses at most the last half second and resumes with --resume.\n"
               "A resume continues the run as it was made: problem options, --seed, --islands\n"
               "and --proposer given again must be the stored ones; the proposer's options are\n"
               "stored and reused (one given again replaces the stored one).\n"
               "Under mpirun -np N, rank 0 keeps the store, the archive and the gate and the\n"
               "other ranks propose and evaluate (docs/scaling.md).\n"
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

/* Which options run_other takes: the llm proposer's and the problem's parameters. */
static int run_known(const void *dest, const char *name)
{
    const run_args *a = dest;
    if (llm_run_known(name))
        return 1;
    if (!a->params_of)
        return a->help;
    /* a problem this ratchet does not know is named as such later, not its options */
    if (!rt_problem_params_help(a->params_of))
        return 1;
    return rt_problem_has_param(a->params_of, name, 0);
}

static const arg_spec run_spec = {"run", run_opts, help_run, AT(problem), run_other, run_known};

/* Reads run's arguments into a and settles what depends on which options were given; info is
 * the resumed run's (NULL for a new run). Returns 0, -1 after printing the help, or EXIT_USAGE
 * after printing one line. */
static int run_parse(int argc, char **argv, run_args *a, const rt_run_info *info,
                     const args_seen *peek)
{
    int *seen = a->seen;
    memset(a, 0, sizeof *a);
    a->params_of = peek->positional ? peek->positional : info ? info->problem : NULL;
    a->help = peek->help;
    rt_run_options_init(&a->opt);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    a->opt.threads = ncpu > 0 ? (int)ncpu : 1;
    int rc = args_parse(&run_spec, argc, argv, a, seen);
    if (rc)
        return rc;
    a->opt.has_target = seen[RUN_TARGET] > 0;
    if (!seen[RUN_SECONDS] && !seen[RUN_EVALUATIONS] && !a->opt.has_target)
        a->opt.seconds = 60;
    if (seen[RUN_JOBS] > seen[RUN_THREADS])
        a->opt.threads = a->jobs; /* the later of --jobs and --threads counts */
    if (a->jobs > a->opt.islands && !seen[RUN_ISLANDS])
        a->opt.islands = a->jobs; /* one evaluation in flight per island */
    if (!seen[RUN_MPI_TIMEOUT])
        a->mpi_timeout = 600;
    /* in-process work on job slots unless asked for generations; under mpirun the ranks keep
     * generations (the same run on any number of ranks, docs/scaling.md) */
    a->opt.steady = !a->reproducible && !rt_mpi_launched();
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

/* Reads what the run in path was made with. Returns 0, or an exit status after printing one
 * line (the store's own message, which names it). */
static int resume_info(const char *path, rt_run_info *info)
{
    rt_store *st = NULL;
    rt_error err = {0};
    int rc = rt_store_open(&st, path, &err);
    if (!rc && (rc = rt_store_run_info(st, info)))
        snprintf(err.msg, sizeof err.msg, "%s", rt_store_errmsg(st));
    rt_store_close(st);
    if (rc)
        usage_error("%s", err.msg);
    return rc ? exit_for(rc) : 0;
}

/* Where the problem parameter named in msg ("bad --shape ...") was given: "FILE:LINE: " when it
 * came from a configuration file, else "". */
static const char *param_origin(const run_args *a, const char *msg, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = a->params.n; i-- > 0;) {
        const char *k = a->params.keys[i], *at = msg;
        size_t kl = strlen(k);
        while ((at = strstr(at, "--")) != NULL) {
            at += 2;
            char next = at[kl];
            if (strncmp(at, k, kl) == 0 && !(next == '-' || (next >= 'a' && next <= 'z'))) {
                const char *where = args_origin(a->params.values[i]);
                if (where)
                    snprintf(buf, len, "%s: ", where);
                return buf;
            }
        }
    }
    return buf;
}

static const char keep_word[] =
    "a resumed run keeps what it was made with (start a new store to change it)";

/* The problem and its parameters given again on a resume, against the store's: 0, or
 * EXIT_USAGE after one line naming the first that differs. */
static int resume_check_problem(const run_args *a, const rt_run_info *info)
{
    if (a->problem && strcmp(a->problem, info->problem) != 0) {
        usage_error("run: store %s is a run of %s (%s), not of %s; %s", a->resume, info->problem,
                    info->params, a->problem, keep_word);
        return EXIT_USAGE;
    }
    if (!a->params.n)
        return 0;
    int differ = -1;
    char was[1024], now[1024], where[256];
    rt_error err = {0};
    if (rt_problem_params_compare(info->problem, info->params, a->params.keys, a->params.values,
                                  a->params.n, &differ, was, now, sizeof was, &err)) {
        usage_error("run: %s%s (store %s)", param_origin(a, err.msg, where, sizeof where),
                    err.msg, a->resume);
        return EXIT_USAGE;
    }
    if (differ < 0)
        return 0;
    const char *w = args_origin(a->params.values[differ]);
    usage_error("run: %s%s--%s %s differs from the run in %s (%s%s%s); %s", w ? w : "",
                w ? ": " : "", a->params.keys[differ], a->params.values[differ], a->resume,
                was[0] ? a->params.keys[differ] : "", was[0] ? "=" : "not set", was, keep_word);
    return EXIT_USAGE;
}

/* Where the proposer option whose value msg quotes ("llm-url: 'ftp://x' is not ...") was
 * given: "FILE:LINE: " when it came from a configuration file, else "". */
static const char *proposer_origin(const rt_run_options *o, const char *msg, char *buf,
                                   size_t len)
{
    buf[0] = '\0';
    for (size_t i = o->nproposer_params; i-- > 0;) {
        const char *v = o->proposer_values[i], *where = args_origin(v);
        char quoted[300];
        snprintf(quoted, sizeof quoted, "'%.200s'", v);
        if (where && (strstr(msg, quoted) || (strlen(v) >= 4 && strstr(msg, v)))) {
            snprintf(buf, len, "%s: ", where);
            break;
        }
    }
    return buf;
}

/* A resumed run keeps what it was made with: a problem, parameter, seed, island count or
 * proposer given again must be the stored one. Returns 0, or EXIT_USAGE after one line naming
 * the first that differs. */
static int resume_check(const run_args *a, const rt_run_info *info)
{
    if (resume_check_problem(a, info))
        return EXIT_USAGE;
    char stored[64], given[64];
    const char *flag = NULL;
    if (a->seen[RUN_SEED] && a->opt.seed != info->seed) {
        flag = "seed";
        snprintf(given, sizeof given, "%llu", (unsigned long long)a->opt.seed);
        snprintf(stored, sizeof stored, "%llu", (unsigned long long)info->seed);
    } else if (a->seen[RUN_ISLANDS] && a->opt.islands != info->islands) {
        flag = "islands";
        snprintf(given, sizeof given, "%d", a->opt.islands);
        snprintf(stored, sizeof stored, "%d", info->islands);
    } else if (a->seen[RUN_PROPOSER] && strcmp(a->opt.proposer, info->proposer) != 0) {
        flag = "proposer";
        snprintf(given, sizeof given, "%.60s", a->opt.proposer);
        snprintf(stored, sizeof stored, "%s", info->proposer);
    }
    if (!flag)
        return 0;
    usage_error("run: --%s %s differs from the run in %s (%s %s); %s", flag, given, a->resume,
                flag, stored, keep_word);
    return EXIT_USAGE;
}

/* Creates the new run a describes, in runs/ under a fresh name when no store is named (the
 * next name when another run took it meanwhile). Returns a library code. */
static int run_create(run_args *a, const rt_problem *problem, rt_run **run, char *path,
                      size_t pathlen, rt_error *err)
{
    if (a->store) {
        snprintf(path, pathlen, "%s", a->store);
        return rt_run_create(run, a->store, problem, &a->opt, err);
    }
    return runs_dir_create("run", a->problem, problem, &a->opt, run, path, pathlen, err);
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
            usage_error("run: %s%s%s", args_origin(a->policy) ? args_origin(a->policy) : "",
                        args_origin(a->policy) ? ": " : "", err.msg);
            return EXIT_USAGE;
        }
        a->opt.policy = policy_text;
    }
    /* a resumed run's problem is the store's (resume_check compared what was given) */
    if (!a->resume && rt_problem_open(&problem, a->problem, a->params.keys, a->params.values,
                                      a->params.n, &err)) {
        char where[256];
        usage_error("run: %s%s", param_origin(a, err.msg, where, sizeof where), err.msg);
        goto done;
    }
    if (!a->quiet && isatty(STDERR_FILENO)) {
        a->opt.progress = show_progress;
        a->opt.progress_interval = 0.25;
    }
    if (a->resume) {
        rc = rt_run_resume(run, a->resume, NULL, &a->opt, &err);
        snprintf(path, pathlen, "%s", a->resume);
    } else {
        rc = run_create(a, problem, run, path, pathlen, &err);
    }
    if (rc) {
        char where[256];
        if (err.msg[0])
            usage_error("%s%s", proposer_origin(&a->opt, err.msg, where, sizeof where), err.msg);
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
    stop_on_signals(run, "the work", "run");
    int rc = rt_run_execute(run);
    if (opt->progress)
        fputc('\n', stderr);
    stop_on_signals(NULL, NULL, NULL);
    if (rc) {
        usage_error("%s", rt_run_errmsg(run));
        rt_run_close(run);
        return exit_for(rc);
    }
    rt_run_close(run);
    print_outcome(path);
    return 0;
}

/* Under mpirun: sets up the worker ranks for the opened run (closing it on failure). Returns 0
 * or an exit status after printing one line. */
static int run_attach(const run_args *a, rt_run *run, const char *path)
{
    if (!a->mpi_workers)
        return 0;
    char err[600];
    char *real = realpath(path, NULL);
    int rc = rt_mpi_attach(run, real ? real : path, a->mpi_timeout, err, sizeof err);
    free(real);
    if (!rc)
        return 0;
    usage_error("run: %s", err);
    rt_run_close(run);
    return exit_for(rc);
}

/* `run` on this process; workers: the MPI worker ranks (0: none). */
static int run_command(int argc, char **argv, int workers)
{
    int n;
    char **args;
    if (config_args_expand(run_opts, argc, argv, &n, &args))
        return EXIT_USAGE;
    /* the options a run takes depend on its problem: the one named, or the resumed store's */
    args_seen peek = {.names = {"resume"}};
    args_peek(&run_spec, n, args, &peek);
    rt_run_info info;
    int resumed = peek.values[0] && !peek.help;
    int rc = resumed ? resume_info(peek.values[0], &info) : 0;
    run_args a;
    rt_run *run = NULL;
    char path[4096];
    if (!rc)
        rc = run_parse(n, args, &a, resumed ? &info : NULL, &peek);
    if (!rc && workers) {
        a.mpi_workers = workers;
        if (!a.seen[RUN_ISLANDS] && !a.resume && workers > a.opt.islands)
            a.opt.islands = workers < 64 ? workers : 64; /* a job for every worker */
    }
    if (!rc && a.resume)
        rc = resume_check(&a, &info);
    if (!rc)
        rc = run_open(&a, &run, path, sizeof path);
    if (!rc)
        rc = run_attach(&a, run, path);
    if (!rc)
        rc = run_execute(run, &a.opt, path);
    config_args_free(argv, args, n);
    return rc < 0 ? 0 : rc;
}

int cmd_run(int argc, char **argv)
{
    int rank = 0, size = 1;
    if (rt_mpi_launched()) {
        char err[300];
        if (rt_mpi_start(&rank, &size, err, sizeof err)) {
            usage_error("run: %s", err);
            return EXIT_USAGE;
        }
        if (rank > 0)
            return rt_mpi_worker();
    }
    int rc = run_command(argc, argv, size - 1);
    return size > 1 ? rt_mpi_finish(rc) : rc;
}
