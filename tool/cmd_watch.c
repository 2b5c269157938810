/* cmd_watch.c — `ratchet watch STORE`: a live view of a run in the terminal, refreshed from the
 * store while the run writes it (read-only): best score, rate, a sparkline of progress, the
 * last admissions. Ends on Ctrl-C, and when the run ends. */
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define SPARK 48
#define LAST_MAX 20

typedef struct watch_args {
    const char *path;
    double interval;
    int last;
} watch_args;

#define AT(field) offsetof(watch_args, field)
static const arg_opt watch_opts[] = {
    {"interval", "S", ARG_NUM, 0.05, 3600, "0.05 to 3600 seconds", AT(interval),
     "seconds between refreshes (default 1)"},
    {"last", "N", ARG_INT, 0, LAST_MAX, "0 to 20", AT(last), "admissions listed (default 5)"},
    {0},
};

static void help_watch(FILE *f)
{
    fprintf(f, "usage: ratchet watch STORE [--interval S] [--last N]\n\n"
               "Shows a run live while it writes STORE: the best verified score, the rate of\n"
               "evaluations, a sparkline of the best score over the run and the last\n"
               "admissions. Read-only. Ends on Ctrl-C and when the run ends (at once when no\n"
               "run is writing the store).\n");
    args_help(f, watch_opts, 14);
}

/* Monotonic seconds. */
static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) { (void)sig, interrupted = 1; }

/* What one pass over the admitted rows gives: the best score by time, the last admissions. */
typedef struct frame {
    double tmax, spark[SPARK];
    rt_candidate last[LAST_MAX];
    int nlast, want;
    long long seen;
    rt_candidate all_best;
} frame;

static int on_admitted(const rt_candidate *c, void *user)
{
    frame *f = user;
    if (f->want > 0) {
        if (f->nlast == f->want)
            memmove(f->last, f->last + 1, (size_t)(f->want - 1) * sizeof f->last[0]);
        f->last[f->nlast < f->want ? f->nlast++ : f->want - 1] = *c;
    }
    if (!c->valid || isnan(c->score))
        return 0;
    int b = f->tmax > 0 ? (int)(c->time * SPARK / f->tmax) : SPARK - 1;
    b = b < 0 ? 0 : b >= SPARK ? SPARK - 1 : b;
    for (int k = b; k < SPARK; k++) /* the running best from here on */
        if (isnan(f->spark[k]) || c->score > f->spark[k])
            f->spark[k] = c->score;
    if (!f->seen++ || c->score > f->all_best.score)
        f->all_best = *c;
    return 0;
}

/* The sparkline of f->spark in UTF-8 blocks ('.' before the first score). */
static void print_spark(const frame *f)
{
    static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                         "\u2585", "\u2586", "\u2587", "\u2588"};
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < SPARK; k++)
        if (!isnan(f->spark[k]))
            lo = fmin(lo, f->spark[k]), hi = fmax(hi, f->spark[k]);
    fputs("progress   ", stdout);
    for (int k = 0; k < SPARK; k++)
        fputs(isnan(f->spark[k]) ? "." : blocks[hi > lo ? (int)((f->spark[k] - lo) / (hi - lo) * 7.0) : 7],
              stdout);
    printf("  score %.6g .. %.6g\n", isinf(lo) ? 0 : lo, isinf(hi) ? 0 : hi);
}

/* Draws one frame; *evals carries the evaluation count between frames for the rate. */
static int draw(rt_store *st, const watch_args *a, int running, int tty, long long *evals,
                double *at)
{
    rt_summary s;
    frame f = {.want = a->last};
    if (rt_store_totals(st, &s)) {
        usage_error("watch: %s", rt_store_errmsg(st));
        return EXIT_USAGE;
    }
    f.tmax = s.elapsed;
    for (int k = 0; k < SPARK; k++)
        f.spark[k] = NAN;
    rt_cand_filter adm = {.admitted = 1};
    if (rt_store_candidates(st, &adm, on_admitted, &f)) {
        usage_error("watch: %s", rt_store_errmsg(st));
        return EXIT_USAGE;
    }
    double now = mono();
    double rate = *at > 0 && now > *at ? (double)(s.evaluations - *evals) / (now - *at)
                                       : s.elapsed > 0 ? (double)s.evaluations / s.elapsed : 0;
    *evals = s.evaluations, *at = now;
    if (tty)
        fputs("\033[H\033[J", stdout);
    printf("ratchet watch  %s  (%s %s)  %s\n", a->path, s.problem, s.params,
           running ? "running" : "not running");
    if (s.has_best)
        printf("best       %.10g (candidate %lld, score %.10g)\n", s.best_metric, f.all_best.id,
               f.all_best.score);
    else
        printf("best       none verified yet\n");
    printf("rate       %.1f evaluations/s; %lld evaluations, %lld stored, %lld admitted, "
           "%.1f s\n", rate, s.evaluations, s.stored, s.admitted, s.elapsed);
    print_spark(&f);
    if (f.nlast)
        printf("last admissions:\n");
    for (int i = f.nlast - 1; i >= 0; i--)
        cand_line(stdout, &f.last[i]);
    if (!tty)
        fputc('\n', stdout);
    fflush(stdout);
    return 0;
}

int cmd_watch(int argc, char **argv)
{
    static const arg_spec spec = {"watch", watch_opts, help_watch, AT(path), NULL, NULL};
    watch_args a = {.interval = 1, .last = 5};
    int rc = args_parse(&spec, argc, argv, &a, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.path) {
        usage_error("watch: name a store file (see ratchet watch --help)");
        return EXIT_USAGE;
    }
    rt_store *st = browse_open("watch", a.path);
    if (!st)
        return EXIT_USAGE;
    struct sigaction sa = {.sa_handler = on_sigint};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int tty = isatty(STDOUT_FILENO), running = rt_store_running(a.path) == 1;
    long long evals = 0;
    double at = 0;
    while (!(rc = draw(st, &a, running, tty, &evals, &at)) && running && !interrupted) {
        struct timespec ts = {(time_t)a.interval,
                              (long)((a.interval - floor(a.interval)) * 1e9)};
        nanosleep(&ts, NULL); /* Ctrl-C cuts it short */
        running = !interrupted && rt_store_running(a.path) == 1;
    }
    if (!rc)
        printf("%s\n", interrupted ? "stopped watching (Ctrl-C)"
                                   : "the run is not writing the store: done");
    rt_store_close(st);
    return rc;
}
