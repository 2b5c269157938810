/* cmd_meta.c — `ratchet meta`: evolves policies for ratchet itself with the same engine.
 *
 * It is a run of the `policy` problem (src/problems/policy/): candidates are policies, the proxy
 * is their cost on the training problems, verification re-runs them against their parent on the
 * held-out problems with fresh seeds, and a policy is admitted only when it beats its parent
 * there by more than the measured seed-to-seed noise. The store is an ordinary run store
 * (status, best, resume all work on it). At the end the lineage of admitted policies is printed,
 * and with --out the best policy is written as a policy file. Uses only the public API.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

typedef struct meta_args {
    rt_run_options opt;
    const char *train, *heldout, *store, *resume, *out, *policy;
    /* for the policy problem, which checks them */
    const char *seeds, *vseeds, *vfirst, *evals, *work, *level, *l1seeds, *l1vseeds, *l1steps, *l1work;
    char store_buf[512], out_buf[560]; /* runs/meta-DATE-TIME.db and its -best.json */
} meta_args;

/* The suites and caps that `ratchet meta` uses when given neither --train nor --heldout: those
 * of docs/recursion.md's racing run 3 over Z at level 1 (make bench-meta) and of the level-2
 * runs at level 2 (make bench-meta2); an option given on the command line replaces its value. */
typedef struct builtin_suite {
    const char *train, *heldout, *seeds, *vseeds, *evals, *work, *l1seeds, *l1vseeds, *l1steps,
        *l1work;
} builtin_suite;

static const builtin_suite builtin[2] = {
    {"matmul:3x3x5:z,matmul:3x3x4:z,matmul:3x3x3:z",
     "matmul:3x4x4:z@38,matmul:4x4x4:z@49,matmul:2x4x4:z@26", "4", "30", "1000", "400000000",
     NULL, NULL, NULL, NULL},
    {"matmul:2x3x4:gf2,matmul:2x2x3:z,matmul:3x3x3:gf2,matmul:2x2x4:z",
     "matmul:2x3x3:z,matmul:2x3x5:gf2@26,matmul:3x3x4:gf2@30,matmul:2x4x4:gf2@26", "2", "6",
     "1000", "40000000", "2", "3", "20", "5e8"},
};

#define AT(field) offsetof(meta_args, field)
static const arg_opt meta_opts[] = { /* those without help are in the usage lines */
    {"train", "SPECS", ARG_TEXT, 0, 0, NULL, AT(train), NULL},
    {"heldout", "SPECS", ARG_TEXT, 0, 0, NULL, AT(heldout), NULL},
    {"store", "FILE", ARG_TEXT, 0, 0, NULL, AT(store), NULL},
    {"resume", "FILE", ARG_TEXT, 0, 0, NULL, AT(resume), NULL},
    {"seed", "N", ARG_SEED, 0, 0, "a non-negative integer", AT(opt.seed), NULL},
    {"seconds", "N", ARG_NUM, 0.001, 1e9, "a positive number", AT(opt.seconds),
     "time budget of this session, from when the reference policy is judged (default 600)"},
    {"evaluations", "N", ARG_LONG, 1, 1e15, "a positive integer", AT(opt.evaluations),
     "stop after N meta steps (policies proposed) in this session"},
    {"seeds", "N", ARG_TEXT, 0, 0, NULL, AT(seeds), "training seeds per problem (default 3)"},
    {"vseeds", "N", ARG_TEXT, 0, 0, NULL, AT(vseeds), "held-out seeds per problem (default 5)"},
    {"vfirst", "N", ARG_TEXT, 0, 0, NULL, AT(vfirst),
     "first held-out seed (default 1000001): a new run's gate on seeds no earlier gate used"},
    {"evals", "N", ARG_TEXT, 0, 0, NULL, AT(evals),
     "evaluation cap of one trial run (default 2000)"},
    {"work", "N", ARG_TEXT, 0, 0, NULL, AT(work), "work cap of one trial run (default 50000000)"},
    {"islands", "N", ARG_INT, 1, 64, "1 to 64", AT(opt.islands),
     "islands of the meta run (default 2; trial runs use 2)"},
    {"threads", "N", ARG_INT, 1, 64, "1 to 64", AT(opt.threads),
     "threads (default: the number of cores)"},
    {"out", "FILE", ARG_TEXT, 0, 0, NULL, AT(out), "write the best policy found to FILE"},
    {"policy", "FILE", ARG_TEXT, 0, 0, NULL, AT(policy),
     "start from this policy (default: the shipped defaults)"},
    {"level", "N", ARG_TEXT, 0, 0, NULL, AT(level),
     "1 (default): tune policies on runs; 2: tune the meta knobs on level-1 runs"},
    {"l1seeds", "N", ARG_TEXT, 0, 0, NULL, AT(l1seeds),
     "level 2: training seeds of each level-1 run (default 2)"},
    {"l1vseeds", "N", ARG_TEXT, 0, 0, NULL, AT(l1vseeds),
     "level 2: held-out seeds of each level-1 run (default 3)"},
    {"l1steps", "N", ARG_TEXT, 0, 0, NULL, AT(l1steps),
     "level 2: meta steps of one level-1 run (default 6)"},
    {"l1work", "N", ARG_TEXT, 0, 0, NULL, AT(l1work),
     "level 2: level-0 cost one level-1 run may spend (default 2e9)"},
    {0},
};

static void help_meta(FILE *f)
{
    fprintf(f,
            "usage: ratchet meta [--train SPECS --heldout SPECS] [--seconds N] [--store FILE]\n"
            "                    [--seed N] [--seeds N] [--vseeds N] [--vfirst N] [--evals N]\n"
            "                    [--work N] [--islands N] [--threads N] [--out FILE]\n"
            "                    [--policy FILE]\n"
            "                    [--level 2 [--l1seeds N] [--l1vseeds N] [--l1steps N]\n"
            "                     [--l1work N]]\n"
            "       ratchet meta --resume FILE --seconds N [--evaluations N] [--out FILE]\n"
            "\n"
            "Evolves policies (every knob of ratchet, see ratchet policy show) with the same\n"
            "engine as any run. SPECS: comma-separated PROBLEM:SHAPE:FIELD[@TARGET], e.g.\n"
            "matmul:3x3x4:gf2,matmul:2x3x3:z (the target defaults to the best known rank).\n"
            "A policy's proxy is its mean log cost (work to reach the target) on the training\n"
            "problems over --seeds seeds; it is admitted only if it beats its parent on the\n"
            "held-out problems (--vseeds fresh seeds) by more than twice the standard error of\n"
            "the paired differences, and, when a trial missed its target, by a one-sided sign\n"
            "test at p 0.025 over the pairs whose order is known (one whose first third of\n"
            "held-out trials costs exactly what its parent's do is rejected there: its\n"
            "changes act on none of them).\n"
            "Training and held-out problems must be disjoint.\n"
            "\n"
            "With neither --train nor --heldout, the suites and caps of docs/recursion.md:\n"
            "level 1 trains on <3,3,5>, <3,3,4>, <3,3,3> over Z and gates on <3,4,4>@38,\n"
            "<4,4,4>@49, <2,4,4>@26 over Z (--seeds 4 --vseeds 30 --evals 1000 --work 4e8);\n"
            "level 2 uses the suites of make bench-meta2. Options given replace these. The\n"
            "start policy is judged on every trial first (minutes on these suites; a progress\n"
            "line every 30 s). Without --store the run goes to runs/meta-DATE-TIME.db (level 2:\n"
            "meta2-...), and its best policy beside it, as -best.json, unless --out names one.\n"
            "\n"
            "--level 2 applies the meta level to itself: candidates change only the meta knobs\n"
            "(meta.*: race size, seeds and halving rate, mutation step, screening); a trial is a\n"
            "whole level-1 run (--l1steps meta steps) on a suite, and its cost is the level-0\n"
            "work it spends to its first verified improvement. Each SPECS is then one suite of\n"
            "2 to 4 problems: the level-1 run trains on the first half and gates on the rest.\n"
            "The training and held-out suites must not share a shape. The gate is the same.\n"
            "\n");
    args_help(f, meta_opts, 15);
}

typedef struct lineage {
    long long n;
} lineage;

static int print_row(const rt_cand_info *c, void *user)
{
    lineage *l = user;
    if (l->n++ == 0)
        printf("%-4s %-6s %-6s %-9s %-14s %-14s %s\n", "#", "gen", "island", "time_s",
               "train_logcost", "heldout_cost", "hash");
    printf("%-4lld %-6lld %-6d %-9.1f %-14.4f %-14.6g %.12s\n", l->n - 1, c->generation,
           c->island, c->time, -c->proxy, c->metric, c->hash);
    return 0;
}

/* Reads meta's arguments into a over its defaults. Returns 0, -1 after printing the help, or
 * EXIT_USAGE after printing one line. */
static int meta_parse(int argc, char **argv, meta_args *a)
{
    static const arg_spec spec = {"meta", meta_opts, help_meta, -1, NULL, NULL};
    memset(a, 0, sizeof *a);
    rt_run_options_init(&a->opt);
    a->opt.islands = 2;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    a->opt.threads = ncpu > 0 ? (int)ncpu : 1;
    a->opt.seconds = 600;
    return args_parse(&spec, argc, argv, a, NULL);
}

/* Reads the --policy file and checks it. Returns 0, or -1 after printing one line. */
static int read_start(const char *path, char **text)
{
    size_t len = 0;
    char msg[600];
    rt_error err = {0};
    char *json = NULL;
    if (input_read_policy(path, "policy ", text, &len, msg, sizeof msg)) {
        usage_error("meta: %s", msg);
        return -1;
    }
    if (rt_policy_show(*text, len, &json, &err)) {
        usage_error("meta: %.100s: %.400s", path, err.msg);
        free(*text);
        *text = NULL;
        return -1;
    }
    free(json);
    return 0;
}

/* 1 for a level-2 run (--level 2; the policy problem refuses other values than 1 and 2). */
static int is_level2(const meta_args *a) { return a->level && strtol(a->level, NULL, 10) == 2; }

/* Fills what the built-in suite of the level sets and the command line left unset. */
static void use_builtin(meta_args *a)
{
    const builtin_suite *b = &builtin[is_level2(a)];
    a->train = b->train;
    a->heldout = b->heldout;
    const char **field[] = {&a->seeds,   &a->vseeds,   &a->evals,   &a->work,
                            &a->l1seeds, &a->l1vseeds, &a->l1steps, &a->l1work};
    const char *value[] = {b->seeds,   b->vseeds,   b->evals,   b->work,
                           b->l1seeds, b->l1vseeds, b->l1steps, b->l1work};
    for (size_t i = 0; i < sizeof field / sizeof field[0]; i++)
        if (!*field[i])
            *field[i] = value[i];
}

/* Says on stderr which suites and caps the run took from use_builtin (level checked by now). */
static void say_builtin(const meta_args *a)
{
    int level2 = is_level2(a);
    fprintf(stderr, "ratchet: meta: the built-in %s (docs/recursion.md): training %s, held out %s",
            level2 ? "suites of the level-2 runs" : "suites of racing run 3 over Z", a->train,
            a->heldout);
    fprintf(stderr, "; --seeds %s --vseeds %s --evals %s --work %s", a->seeds, a->vseeds,
            a->evals, a->work);
    if (level2)
        fprintf(stderr, " --l1seeds %s --l1vseeds %s --l1steps %s --l1work %s", a->l1seeds,
                a->l1vseeds, a->l1steps, a->l1work);
    fputc('\n', stderr);
}

/* A meta run works inside steps of minutes (the start policy's judgement alone is 102 trial
 * runs on the built-in suites), where the engine's progress callback is not called: a thread
 * prints a line on stderr after 5 s and then every 30 s, with the trial runs started so far. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int running, done;
    const char *phase;
} progress = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, NULL};

static double mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *progress_main(void *arg)
{
    (void)arg;
    double t0 = mono_now(), next = t0 + 5;
    pthread_mutex_lock(&progress.mu);
    while (!progress.done) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&progress.cv, &progress.mu, &ts);
        double now = mono_now();
        if (!progress.done && now >= next) {
            fprintf(stderr, "ratchet: meta: %s: %lld trial runs so far, %.0f s\n",
                    progress.phase, rt_meta_trials(), now - t0);
            next = now + 30;
        }
    }
    pthread_mutex_unlock(&progress.mu);
    return NULL;
}

/* Starts the progress lines (once) or names what they report now. */
static void progress_say(const char *phase)
{
    pthread_mutex_lock(&progress.mu);
    progress.phase = phase;
    pthread_mutex_unlock(&progress.mu);
    if (!progress.running && pthread_create(&progress.thread, NULL, progress_main, NULL) == 0)
        progress.running = 1;
}

static void progress_end(void)
{
    if (!progress.running)
        return;
    pthread_mutex_lock(&progress.mu);
    progress.done = 1;
    pthread_cond_signal(&progress.cv);
    pthread_mutex_unlock(&progress.mu);
    pthread_join(progress.thread, NULL);
    progress.running = 0;
}

/* A gate in which a trial missed admits only at sign test p <= 0.025 (meta.h), which takes 6
 * pairs that are not ties: says so when the new run's gate has fewer. params is the policy
 * problem's ("heldout=A,B vseeds=N ... [level=2 ...]"): level 2 gates one suite, level 1 each
 * held-out problem, on vseeds seeds. */
static void note_small_gate(const char *params)
{
    const char *held = strstr(params, "heldout="), *vs = strstr(params, " vseeds=");
    if (!held || !vs)
        return;
    long units = 1;
    if (!strstr(params, " level=2"))
        for (const char *c = held; *c && *c != ' '; c++)
            units += *c == ',';
    long pairs = units * strtol(vs + 8, NULL, 10);
    if (pairs < 6)
        fprintf(stderr,
                "ratchet: meta: note: the gate has %ld held-out pairs; once a trial misses its "
                "target it needs 6 to admit (the sign test), so raise --vseeds\n",
                pairs);
}

/* Opens the meta run: a new run of the policy problem, or the resumed one. Returns 0, or an exit
 * status after printing one line (bad input is refused before any note is printed). */
static int meta_open(meta_args *a, rt_run **run)
{
    int any = a->seeds || a->vseeds || a->vfirst || a->evals || a->work || a->level ||
              a->l1seeds || a->l1vseeds || a->l1steps || a->l1work;
    rt_error err = {0};
    int rc;
    if (a->resume) {
        if (a->train || a->heldout || a->store || a->policy || any) {
            usage_error("meta: --resume takes only --seconds, --evaluations, --threads, --out");
            return EXIT_USAGE;
        }
        rc = rt_run_resume(run, a->resume, NULL, &a->opt, &err);
        a->store = a->resume;
    } else {
        if (!a->train != !a->heldout) {
            usage_error("meta: give both --train SPECS and --heldout SPECS, or neither for the "
                        "built-in suites (see ratchet meta --help)");
            return EXIT_USAGE;
        }
        int builtin_suites = !a->train;
        if (builtin_suites)
            use_builtin(a);
        char jobs[16];
        snprintf(jobs, sizeof jobs, "%d", a->opt.threads);
        const char *given[] = {"seeds",   a->seeds,    "vseeds",  a->vseeds,  "vfirst",
                               a->vfirst, "evals",     a->evals,  "work",     a->work,
                               "level",   a->level,    "l1seeds", a->l1seeds, "l1vseeds",
                               a->l1vseeds, "l1steps", a->l1steps, "l1work",  a->l1work,
                               "train",   a->train,    "heldout", a->heldout, "jobs",
                               jobs};
        const char *keys[16], *values[16];
        size_t np = 0;
        for (size_t i = 0; i < sizeof given / sizeof given[0]; i += 2)
            if (given[i + 1]) {
                keys[np] = given[i];
                values[np++] = given[i + 1];
            }
        rt_problem *pb = NULL;
        if (rt_problem_open(&pb, "policy", keys, values, np, &err)) {
            usage_error("meta: %s", err.msg);
            return EXIT_USAGE;
        }
        char *text = NULL;
        if (a->policy && read_start(a->policy, &text)) {
            rt_problem_close(pb);
            return EXIT_USAGE;
        }
        /* rt_run_create refuses an existing store too, but after the notes below */
        int refused = 0;
        if (!a->store)
            refused = runs_dir_ready("meta") != 0;
        else if ((refused = access(a->store, F_OK) == 0))
            usage_error("meta: store %s already exists (use --resume to continue it)", a->store);
        if (refused) {
            free(text);
            rt_problem_close(pb);
            return EXIT_USAGE;
        }
        if (builtin_suites)
            say_builtin(a);
        note_small_gate(rt_problem_params(pb));
        fprintf(stderr,
                "ratchet: meta: judging the start policy on every training and held-out "
                "trial first (Ctrl-C stops)\n");
        a->opt.policy = text;
        /* Ctrl-C while the start is judged cuts its trials; no store is made then */
        stop_on_signals(NULL, "the start policy's trials", "meta");
        stop_also_calls(rt_meta_stop);
        progress_say("judging the start policy");
        if (a->store) {
            rc = rt_run_create(run, a->store, pb, &a->opt, &err);
        } else {
            rc = runs_dir_create("meta", is_level2(a) ? "meta2" : "meta", pb, &a->opt, run,
                                 a->store_buf, sizeof a->store_buf, &err);
            a->store = a->store_buf;
            if (!rc && !a->out) { /* a store named for the user gets its best policy beside it */
                size_t n = strlen(a->store_buf) - 3; /* without ".db" */
                snprintf(a->out_buf, sizeof a->out_buf, "%.*s-best.json", (int)n, a->store_buf);
                a->out = a->out_buf;
            }
        }
        /* made: from now on a second Ctrl-C leaves a store behind, and says so */
        stop_on_signals(rc ? NULL : *run, rc ? NULL : "the races and gates", "meta");
        if (!rc)
            stop_also_calls(rt_meta_stop);
        a->opt.policy = NULL;
        free(text);
        rt_problem_close(pb);
        if (rc && stop_signalled()) {
            progress_end();
            fprintf(stderr, "ratchet: meta: stopped while the start policy was judged; no store "
                            "was made\n");
            return EXIT_STOPPED;
        }
    }
    if (rc) {
        progress_end();
        if (err.msg[0]) /* else printed already */
            usage_error("meta: %s", err.msg);
        return exit_for(rc);
    }
    return 0;
}

/* Writes the store's best policy (its candidate text best) to path as a policy file. Returns 0,
 * or EXIT_USAGE after printing one line. */
static int write_policy(rt_store *st, const char *best, const char *path)
{
    rt_problem *mp = NULL;
    char *policy = NULL;
    rt_error err = {0};
    int rc = rt_store_problem(st, &mp);
    if (!rc)
        rc = rt_problem_convert(mp, best, strlen(best), "policy", &policy, &err);
    rt_problem_close(mp);
    FILE *f = rc ? NULL : fopen(path, "w");
    int bad = !f;
    if (f) {
        bad = fputs(policy, f) < 0;
        bad |= fclose(f) != 0;
    }
    free(policy);
    if (bad) {
        usage_error("meta: cannot write %s", path);
        return EXIT_USAGE;
    }
    printf("best policy written to %s\n", path);
    return 0;
}

/* The policies the gate refused, and those cut at the deadline before it could judge them
 * (their reason says so: docs/recursion.md, "Deadlines and Ctrl-C"); each refusal's reason is
 * printed, since it carries the gate's figures. */
typedef struct refusals {
    long long rejected, cut;
} refusals;

static int count_refusal(const rt_candidate *c, void *user)
{
    refusals *r = user;
    if (c->valid || !strcmp(c->op, "seed"))
        return 0;
    if (!strncmp(c->reason, "cut at the meta run's deadline", 30)) {
        r->cut++;
        return 0;
    }
    r->rejected++;
    printf("  #%lld (island %d): %s\n", c->id, c->island, c->reason);
    return 0;
}

/* Prints the lineage of admitted policies and the counts, and writes the best policy to out
 * (when not NULL). Returns the exit status. */
static int meta_report(const char *store, const char *out)
{
    rt_store *st = NULL;
    rt_error err = {0};
    if (rt_store_open(&st, store, &err)) {
        usage_error("meta: %s", err.msg);
        return EXIT_USAGE;
    }
    lineage l = {0};
    printf("admitted policies (held-out cost: geometric mean work to reach the target):\n");
    int rc = rt_store_admitted(st, print_row, &l);
    rt_summary sum;
    if (!rc) /* counts only: verifying the best again would run its whole gate */
        rc = rt_store_counts(st, &sum);
    refusals r = {0};
    if (!rc) {
        printf("%lld policies proposed, %lld verified better than their parent\n",
               sum.evaluations, sum.admitted - 1);
        rt_cand_filter f = {.admitted = -1};
        rc = rt_store_candidates(st, &f, count_refusal, &r);
    }
    if (!rc)
        printf("%lld rejected by the held-out gate (above), %lld cut at the deadline before it "
               "judged them\n",
               r.rejected, r.cut);
    char *best = NULL;
    if (!rc && out)
        rc = rt_store_best(st, &best);
    if (rc) {
        usage_error("meta: %s", rt_store_errmsg(st));
        rc = EXIT_USAGE;
    } else if (out) {
        rc = write_policy(st, best, out);
    }
    free(best);
    rt_store_close(st);
    return rc;
}

int cmd_meta(int argc, char **argv)
{
    meta_args a;
    rt_run *run = NULL;
    int rc = meta_parse(argc, argv, &a);
    if (!rc)
        rc = meta_open(&a, &run);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (stop_signalled()) { /* Ctrl-C as the start's judgement ended: the store holds it */
        progress_end();
        stop_on_signals(NULL, NULL, NULL);
        rt_run_close(run);
        fprintf(stderr, "ratchet: meta: stopped once the start policy was judged (store %s)\n",
                a.store);
        return meta_report(a.store, a.out);
    }
    fprintf(stderr, "ratchet: meta: evolving policies for %.0f s (store %s)\n", a.opt.seconds,
            a.store);
    /* the races and gates run inside the steps: the deadline and Ctrl-C must reach them */
    rt_meta_deadline(a.opt.seconds);
    stop_on_signals(run, "the races and gates", "meta");
    stop_also_calls(rt_meta_stop);
    progress_say("evolving");
    rc = rt_run_execute(run);
    progress_end();
    stop_on_signals(NULL, NULL, NULL);
    rt_meta_deadline(0);
    if (rc) {
        usage_error("meta: %s", rt_run_errmsg(run));
        rt_run_close(run);
        return exit_for(rc);
    }
    rt_run_close(run);
    return meta_report(a.store, a.out);
}
