/* cmd_run.c — `ratchet run`: creates a run of a problem in a new store, or resumes one, and
 * executes it until its budget or target; Ctrl-C stops it cleanly. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

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

