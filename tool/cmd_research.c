/* cmd_research.c — `ratchet research`: budgeted experiments on a training program, each kept
 * only when it beats the incumbent by more than the measured noise and holds on fresh re-runs
 * (docs/research.md). A run of the `research` problem on one island, one experiment at a time;
 * after each session the ledger (results.tsv) is written from the store and, with --git, every
 * kept change is committed on branch ratchet/TAG. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

/* The defaults of noise-aware acceptance for research (docs/research.md says why): the
 * incumbent's floor from 10 re-runs, a first run 4 spreads better, then 3 fresh re-runs whose
 * mean is 4 standard errors better. */
static const char RESEARCH_POLICY[] =
    "{\"engine\": {\"noise_samples\": 10, \"noise_margin\": 4, \"noise_confirm\": 3}}";

typedef struct research_args {
    rt_run_options opt;
    const char *dir, *edit, *run, *metric, *test_metric, *budget, *cpu_budget, *memory;
    const char *command, *command_timeout, *tsv, *tag, *store, *resume, *policy, *visible;
    int maximize, git, quiet;
    arg_params params;
} research_args;

enum {
    R_DIR, R_EDIT, R_RUN, R_METRIC, R_MAXIMIZE, R_TEST, R_BUDGET, R_CPU, R_MEMORY, R_VISIBLE,
    R_PROPOSER,
    R_COMMAND, R_COMMAND_TIMEOUT, R_SECONDS, R_EVALUATIONS, R_TSV, R_GIT, R_TAG, R_STORE,
    R_RESUME, R_SEED, R_POLICY, R_QUIET, R_TRUST, R_NOPTS
};

#define AT(field) offsetof(research_args, field)
static const arg_opt research_opts[R_NOPTS + 1] = {
    [R_DIR] = {"dir", "DIR", ARG_TEXT, 0, 0, "a folder", AT(dir),
               "the project (default: the current folder)"},
    [R_EDIT] = {"edit", "FILE[,FILE]", ARG_TEXT, 0, 0, "files", AT(edit),
                "the files the proposer may change (relative to DIR)"},
    [R_RUN] = {"run", "'COMMAND'", ARG_TEXT, 0, 0, "a command", AT(run),
               "one experiment: a shell command run in a private copy of DIR"},
    [R_METRIC] = {"metric", "NAME", ARG_TEXT, 0, 0, "a name", AT(metric),
                  "the figure selected on, from `NAME: value` lines (or JSON)"},
    [R_MAXIMIZE] = {"maximize", NULL, ARG_FLAG, 0, 0, NULL, AT(maximize),
                    "higher is better (default: lower)"},
    [R_TEST] = {"test-metric", "NAME", ARG_TEXT, 0, 0, "a name", AT(test_metric),
                "held-out figure: recorded and reported, never selected on\n"
                "and never shown to the proposer"},
    [R_BUDGET] = {"budget", "S", ARG_TEXT, 0, 0, "seconds", AT(budget),
                  "wall-clock seconds per experiment (RATCHET_BUDGET)"},
    [R_CPU] = {"cpu-budget", "S", ARG_TEXT, 0, 0, "seconds", AT(cpu_budget),
               "CPU seconds per experiment (default: no limit)"},
    [R_MEMORY] = {"memory", "MIB", ARG_TEXT, 0, 0, "MiB", AT(memory),
                  "memory of an experiment, all its processes (default 4096)"},
    [R_VISIBLE] = {"visible", "PATH[:PATH]", ARG_TEXT, 0, 0, "paths", AT(visible),
                   "more paths an experiment may read, read-only (a venv, data)"},
    [R_PROPOSER] = {"proposer", "NAME", ARG_TEXT, 0, 0, NULL, AT(opt.proposer),
                    "builtin (annotated knobs, default), command or llm"},
    [R_COMMAND] = {"command", "'PROG ARGS'", ARG_TEXT, 0, 0, "a command", AT(command),
                   "the command proposer's program (JSON prompt on stdin)"},
    [R_COMMAND_TIMEOUT] = {"command-timeout", "S", ARG_TEXT, 0, 0, "seconds",
                           AT(command_timeout), "seconds per proposal (default 120)"},
    [R_SECONDS] = {"seconds", "N", ARG_NUM, 0.001, 1e9, "a positive number", AT(opt.seconds),
                   "time budget of this session (default 3600)"},
    [R_EVALUATIONS] = {"evaluations", "N", ARG_LONG, 1, 1e15, "a positive integer",
                       AT(opt.evaluations), "experiments in this session"},
    [R_TSV] = {"tsv", "FILE", ARG_TEXT, 0, 0, "a file", AT(tsv),
               "the ledger (default: results.tsv beside the store)"},
    [R_GIT] = {"git", NULL, ARG_FLAG, 0, 0, NULL, AT(git),
               "commit each kept change on branch ratchet/TAG of DIR's repository\n"
               "(the working tree, index and current branch are left alone)"},
    [R_TAG] = {"tag", "TAG", ARG_TEXT, 0, 0, "a tag", AT(tag),
               "the branch's name after ratchet/ (default: the store's name)"},
    [R_STORE] = {"store", "FILE", ARG_TEXT, 0, 0, "a file", AT(store), "the run's store (new)"},
    [R_RESUME] = {"resume", "FILE", ARG_TEXT, 0, 0, "a file", AT(resume),
                  "continue the run in FILE (and its branch)"},
    [R_SEED] = {"seed", "N", ARG_SEED, 0, 0, "a non-negative integer", AT(opt.seed),
                "the search's random seed (default 1)"},
    [R_POLICY] = {"policy", "FILE", ARG_TEXT, 0, 0, NULL, AT(policy),
                  "a policy (ratchet policy show) instead of research's"},
    [R_QUIET] = {"quiet", NULL, ARG_FLAG, 0, 0, NULL, AT(quiet), "no progress lines"},
    [R_TRUST] = {"trust-proxy", NULL, ARG_FLAG, 0, 0, NULL, AT(opt.trust_proxy),
                 "ABLATION ONLY: keep a change when its single run beat the\n"
                 "incumbent's (AutoResearch's rule); re-runs recorded, not enforced"},
};

static void help_research(FILE *f)
{
    fprintf(f,
            "usage: ratchet research --dir DIR --edit FILE[,FILE] --run 'COMMAND' --metric NAME\n"
            "           --budget S --store STORE [OPTIONS]\n"
            "       ratchet research --resume STORE [OPTIONS]\n"
            "\n"
            "Runs experiments on a training program: each changes the editable files, runs\n"
            "COMMAND in a private copy of DIR in the sandbox under the budget (RATCHET_SEED and\n"
            "RATCHET_BUDGET in its environment) and reads NAME from its output. A change is\n"
            "kept only when it beats the incumbent by more than the noise measured by re-running\n"
            "the incumbent with other seeds, and holds on fresh re-runs. Crashes, time-outs,\n"
            "out-of-memory and a missing metric are recorded and the run goes on. Every\n"
            "experiment is in the store and in the ledger (results.tsv); Ctrl-C stops.\n"
            "\n"
            "Options:\n");
    args_help(f, research_opts, 22);
    fputc('\n', f);
    llm_run_help(f);
    fprintf(f, "\nExample:\n"
               "  ratchet research --dir examples/tinylm --edit tinylm.c --budget 60 \\\n"
               "      --run 'cc -O2 -o tinylm tinylm.c -lm && ./tinylm' --metric val_bpb \\\n"
               "      --test-metric test_bpb --seconds 1800 --store runs/tinylm.db\n");
}

static void show_progress(const rt_progress *p, void *user)
{
    int tty = *(const int *)user;
    char best[96] = "none yet";
    if (p->has_best)
        snprintf(best, sizeof best, "%s %g", p->metric_name, p->best_metric);
    fprintf(stderr, "%sexperiments %lld | best %s (verified) | %.0f s%s", tty ? "\r\033[K" : "",
            p->evaluations, best, p->elapsed, tty ? "" : "\n");
    fflush(stderr);
}

static int research_other(void *dest, const char *name, const char *value)
{
    research_args *a = dest;
    int rc = llm_run_option(name, value, &a->opt);
    if (rc)
        return rc < 0 ? EXIT_USAGE : 0;
    usage_error("research: unknown option --%s (see ratchet research --help)", name);
    return EXIT_USAGE;
}

/* The options research_other takes: the llm proposer's. */
static int research_known(const void *dest, const char *name)
{
    (void)dest;
    return llm_run_known(name);
}

/* Adds the problem parameter key when value is set. */
static int add_param(research_args *a, const char *key, const char *value)
{
    return value ? args_param("research", &a->params, key, value) : 0;
}

/* Reads the arguments and settles the defaults. 0, -1 after the help, or EXIT_USAGE. */
static int research_parse(int argc, char **argv, research_args *a)
{
    static const arg_spec spec = {"research", research_opts, help_research, -1, research_other,
                                  research_known};
    int seen[R_NOPTS] = {0};
    memset(a, 0, sizeof *a);
    rt_run_options_init(&a->opt);
    a->opt.islands = 1; /* one chain of kept changes */
    a->opt.threads = 1; /* one experiment at a time: its budget is its own */
    int rc = args_parse(&spec, argc, argv, a, seen);
    if (rc)
        return rc;
    if (!seen[R_SECONDS] && !seen[R_EVALUATIONS])
        a->opt.seconds = 3600;
    if (a->resume) {
        for (int i = 0; i < R_NOPTS; i++)
            if (seen[i] && (i <= R_VISIBLE || i == R_COMMAND || i == R_COMMAND_TIMEOUT ||
                            i == R_GIT || i == R_TAG || i == R_STORE || i == R_POLICY ||
                            i == R_SEED)) {
                usage_error("research: --%s is fixed when the run is made; --resume uses the "
                            "stored one", research_opts[i].name);
                return EXIT_USAGE;
            }
        return 0;
    }
    if (!a->store || !a->edit || !a->run || !a->metric || !a->budget) {
        usage_error("research: a new run needs --edit, --run, --metric, --budget and --store "
                    "(see ratchet research --help)");
        return EXIT_USAGE;
    }
    if (!a->dir)
        a->dir = ".";
    return 0;
}

/* The branch's tag by default: the store's file name without folder and extension. */
static void default_tag(const char *store, char *tag, size_t len)
{
    const char *base = strrchr(store, '/');
    base = base ? base + 1 : store;
    size_t n = strcspn(base, ".");
    snprintf(tag, len, "%.*s", (int)(n ? n : strlen(base)), base);
}

/* The problem's parameters of a new run (with --git, after checking the repository). Returns 0
 * or EXIT_USAGE after one line. */
static int research_params(research_args *a, char *tag, size_t taglen, char *base)
{
    if (a->git) {
        if (a->tag)
            snprintf(tag, taglen, "%s", a->tag);
        else
            default_tag(a->store, tag, taglen);
        rt_error err;
        if (rt_research_git_prepare(a->dir, a->edit, tag, 0, base, &err)) {
            usage_error("research: %s", err.msg);
            return EXIT_USAGE;
        }
    }
    int rc = add_param(a, "dir", a->dir) || add_param(a, "edit", a->edit) ||
             add_param(a, "run", a->run) || add_param(a, "metric", a->metric) ||
             add_param(a, "maximize", a->maximize ? "1" : NULL) ||
             add_param(a, "test-metric", a->test_metric) ||
             add_param(a, "budget", a->budget) || add_param(a, "cpu-budget", a->cpu_budget) ||
             add_param(a, "memory", a->memory) || add_param(a, "visible", a->visible) ||
             add_param(a, "command", a->command) ||
             add_param(a, "command-timeout", a->command_timeout) ||
             add_param(a, "git-tag", a->git ? tag : NULL) ||
             add_param(a, "git-base", a->git ? base : NULL);
    return rc ? EXIT_USAGE : 0;
}

/* Opens the run: a new one or the resumed one. 0, or an exit status after one line. */
static int research_open(research_args *a, rt_run **run)
{
    char tag[128] = "", base[41] = "";
    char *policy = NULL;
    rt_problem *problem = NULL;
    rt_error err = {0};
    if (a->resume)
        return rt_run_resume(run, a->resume, NULL, &a->opt, &err)
                   ? (usage_error("research: %s", err.msg), exit_for(err.code))
                   : 0;
    int rc = research_params(a, tag, sizeof tag, base);
    if (rc)
        return rc;
    if (a->policy) {
        size_t len;
        char msg[512];
        if (input_read_policy(a->policy, "policy ", &policy, &len, msg, sizeof msg)) {
            usage_error("research: %s", msg);
            return EXIT_USAGE;
        }
    }
    a->opt.policy = policy ? policy : RESEARCH_POLICY;
    if (rt_problem_open(&problem, "research", a->params.keys, a->params.values, a->params.n,
                        &err)) {
        usage_error("research: %s", err.msg);
        rc = EXIT_USAGE;
    } else if (rt_run_create(run, a->store, problem, &a->opt, &err)) {
        /* a baseline that crashes or prints no metric is bad input, said with its output */
        usage_error("research: %s%s", err.code == RT_EINVALID ? "baseline: " : "", err.msg);
        rc = EXIT_USAGE;
    }
    rt_problem_close(problem);
    free(policy);
    a->opt.policy = NULL;
    return rc;
}

/* ---- the ledger ------------------------------------------------------------------------- */

/* Writes s into f with tabs and line ends as blanks. */
static void tsv_field(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

typedef struct ledger {
    FILE *f;
    long long n, kept, crashed, discarded;
    int header;
} ledger;

/* AutoResearch's columns (commit, METRIC, memory_gb, status, description), then the verified
 * figure, the test metric (when there is one) and why a change was not kept. */
static int ledger_row(const rt_experiment *e, void *user)
{
    ledger *l = user;
    if (!l->header) {
        fprintf(l->f, "commit\t%s\tmemory_gb\tstatus\tdescription\tverified_%s", e->metric,
                e->metric);
        if (e->test_metric[0])
            fprintf(l->f, "\t%s", e->test_metric);
        fprintf(l->f, "\treason\n");
        l->header = 1;
    }
    fprintf(l->f, "%.7s\t", e->hash);
    e->has_value ? fprintf(l->f, "%.6f", e->value) : fprintf(l->f, "-");
    fprintf(l->f, "\t%.3f\t%s%s\t", e->memory_gb, e->status, e->trusted ? "(trusted)" : "");
    tsv_field(l->f, e->description);
    e->has_verified ? fprintf(l->f, "\t%.6f", e->verified) : fprintf(l->f, "\t-");
    if (e->test_metric[0])
        e->has_test ? fprintf(l->f, "\t%.6f", e->test) : fprintf(l->f, "\t-");
    fputc('\t', l->f);
    tsv_field(l->f, e->reason);
    fputc('\n', l->f);
    l->n++;
    l->kept += strcmp(e->status, "keep") == 0;
    l->crashed += strcmp(e->status, "crash") == 0;
    l->discarded += strcmp(e->status, "discard") == 0;
    return 0;
}

/* The ledger's path: --tsv, else results.tsv beside the store. */
static void ledger_path(const char *tsv, const char *store, char *out, size_t len)
{
    const char *slash = strrchr(store, '/');
    if (tsv)
        snprintf(out, len, "%s", tsv);
    else if (slash)
        snprintf(out, len, "%.*s/results.tsv", (int)(slash - store), store);
    else
        snprintf(out, len, "results.tsv");
}

/* Rewrites the ledger from the store (a temporary file renamed into place). 0 or EXIT_USAGE. */
static int write_ledger(rt_store *st, const char *path, ledger *l)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    memset(l, 0, sizeof *l);
    l->f = fopen(tmp, "w");
    if (!l->f) {
        usage_error("research: cannot write %s: %s", tmp, strerror(errno));
        return EXIT_USAGE;
    }
    int rc = rt_research_each(st, ledger_row, l);
    int bad = fclose(l->f) != 0;
    if (rc || bad || rename(tmp, path) != 0) {
        usage_error("research: %s: %s", path, rc ? rt_store_errmsg(st) : strerror(errno));
        unlink(tmp);
        return EXIT_USAGE;
    }
    return 0;
}

/* The kept chain, one line each (status and the end of a session). */
static int chain_row(const rt_experiment *e, void *user)
{
    FILE *f = user;
    if (strcmp(e->status, "keep") != 0)
        return 0;
    fprintf(f, "  #%-5lld %s %.6f (verified %.6f)", e->id, e->metric, e->value, e->verified);
    if (e->has_test)
        fprintf(f, "  %s %.6f", e->test_metric, e->test);
    fprintf(f, "%s  %s\n", e->trusted ? "  TRUSTED" : "", e->description);
    return 0;
}

void research_status(rt_store *st, FILE *f)
{
    rt_summary s;
    if (rt_store_summary(st, &s) || strcmp(s.problem, "research") != 0)
        return;
    fprintf(f, "kept chain   (own run, verified mean of fresh re-runs, test; never selected "
               "on test)\n");
    rt_research_each(st, chain_row, f);
}

/* After a session: the ledger, the branch, a summary. Returns the exit status. */
static int research_after(const research_args *a, const char *path)
{
    rt_store *st = NULL;
    rt_error err = {0};
    if (rt_store_open(&st, path, &err)) {
        usage_error("research: %s", err.msg);
        return exit_for(err.code);
    }
    char tsv[4096];
    ledger_path(a->tsv, path, tsv, sizeof tsv);
    ledger l;
    int rc = write_ledger(st, tsv, &l);
    rt_research_git git;
    if (!rc && rt_research_git_sync(st, &git, &err)) {
        usage_error("research: %s", err.msg);
        rc = exit_for(err.code);
    }
    if (!rc) {
        printf("%lld experiments: %lld kept, %lld discarded, %lld crashed (ledger %s)\n", l.n,
               l.kept, l.discarded, l.crashed, tsv);
        if (git.branch[0])
            printf("branch %s at %.12s (%d new commit%s)\n", git.branch, git.head, git.commits,
                   git.commits == 1 ? "" : "s");
        rt_research_each(st, chain_row, stdout);
    }
    rt_store_close(st);
    return rc;
}

int cmd_research(int argc, char **argv)
{
    research_args a;
    rt_run *run = NULL;
    int tty = isatty(STDERR_FILENO);
    int rc = research_parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.quiet) {
        a.opt.progress = show_progress;
        a.opt.progress_user = &tty;
        a.opt.progress_interval = tty ? 1 : 30;
    }
    if ((rc = research_open(&a, &run)))
        return rc;
    const char *path = a.resume ? a.resume : a.store;
    if (a.opt.trust_proxy)
        fprintf(stderr, "ratchet: WARNING: --trust-proxy: a change is kept when its single run "
                        "beat the incumbent's; re-runs are recorded, not enforced\n");
    stop_on_signals(run, "the experiment", "research");
    rc = rt_run_execute(run);
    stop_on_signals(NULL, NULL, NULL);
    if (a.opt.progress && tty)
        fputc('\n', stderr);
    if (rc)
        usage_error("research: %s", rt_run_errmsg(run));
    rt_run_close(run);
    int after = research_after(&a, path);
    return rc ? exit_for(rc) : after;
}
