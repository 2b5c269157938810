/* test_stopping.c — deadlines are deadlines, Ctrl-C stops at once, and evaluation is
 * asynchronous (docs/scheduling.md).
 *
 * Runs the ratchet tool on the program problem with evaluators that take 4 or 60 seconds over
 * every child (tests/data/program/slow*_evaluate.sh), and with a proposer whose island-0 children
 * take 60 s while the other islands' are scored at once (island_propose.sh, island_evaluate.sh).
 * What would break these tests: a run that waits for an evaluation in flight past --seconds
 * (before job slots, `--seconds 2` with a 4-second evaluator took 20 s and more); a first Ctrl-C
 * that does not kill the running sandboxes, or a second one that does not quit at once; a
 * generation that waits for its slowest child (then the fast islands make nothing while island
 * 0's evaluation runs), also with fewer job slots than islands; a cut job stored as a failed
 * candidate; the job slots handing jobs back out of the order in which they finished.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ratchet.h"
#include "slots.h"
#include "testutil.h"

#define DATA "tests/data/program/"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    return tu_tempdir(tmpdir, sizeof tmpdir, "stopping");
}

static int teardown_dir(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

/* Starts the tool with args (NULL-terminated), its output into tmpdir/TAG.out and .err;
 * returns its pid. */
static pid_t spawn_tool(const char *tag, const char *const *args)
{
    int pid = tu_spawn_tool(tmpdir, tag, args);
    assert_true(pid > 0);
    return (pid_t)pid;
}

/* Waits at most seconds for pid; returns its exit status (128 + signal when killed by one), or
 * -1 after killing it at the limit. */
static int wait_tool(pid_t pid, double seconds)
{
    double until = tu_now() + seconds;
    for (;;) {
        int status;
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (tu_now() >= until) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        struct timespec ms = {0, 5000000};
        nanosleep(&ms, NULL);
    }
}

/* Runs the tool to its end (at most limit seconds); *wall is how long it took. */
static int run_tool(const char *tag, const char *const *args, double limit, double *wall)
{
    double t0 = tu_now();
    int rc = wait_tool(spawn_tool(tag, args), limit);
    *wall = tu_now() - t0;
    return rc;
}

/* `ratchet status STORE --json`, parsed. */
static json_t *status_json(const char *store)
{
    const char *args[] = {"status", store, "--json", NULL};
    double wall;
    assert_int_equal(run_tool("status", args, 60, &wall), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/status.out", tmpdir);
    json_t *j = json_load_file(path, 0, NULL);
    assert_non_null(j);
    return j;
}

static long long json_ll(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static char *read_out(const char *tag, const char *ext)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.%s", tmpdir, tag, ext);
    size_t len;
    char *s = tu_slurp(path, &len);
    assert_non_null(s);
    return s;
}

static void store_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s.db", tmpdir, name);
}

/* `--seconds 2` with an evaluator that takes 4 s over each child: the run ends at its deadline,
 * the evaluations in flight cut (events and the failure table's "cut"), none stored as a failed
 * candidate. With fewer job slots than islands too. */
static void seconds_end_the_run_at_the_deadline(void **state)
{
    (void)state;
    const char *jobs[] = {"2", "1"};
    for (int k = 0; k < 2; k++) {
        char store[512];
        store_path(store, sizeof store, k ? "deadline1" : "deadline2");
        const char *args[] = {"run", "program", "--initial", DATA "tiny.txt", "--evaluator",
                              DATA "slow4_evaluate.sh", "--seconds", "2", "--jobs", jobs[k],
                              "--islands", "4", "--store", store, "--quiet", NULL};
        double wall;
        int rc = run_tool("deadline", args, 30, &wall);
        assert_int_equal(rc, 0);
        /* the seed is scored at once; 2 s of session; the cut takes milliseconds */
        if (wall > 3.5)
            fail_msg("--seconds 2 with --jobs %s took %.2f s", jobs[k], wall);
        json_t *st = status_json(store);
        json_t *f = json_object_get(st, "failures");
        assert_true(json_ll(f, "cut") >= 1);
        assert_int_equal(json_ll(st, "evaluated"), 0); /* nothing finished: nothing stored */
        assert_int_equal(json_ll(st, "stored"), 1);     /* the seed */
        json_decref(st);
    }
}

/* One island's children take 60 s, the others' are scored at once: the other islands go on
 * evaluating while it runs, with a slot each or sharing fewer slots than islands. */
static void a_slow_child_holds_up_nothing_else(void **state)
{
    (void)state;
    const char *jobs[] = {"4", "2"};
    for (int k = 0; k < 2; k++) {
        char store[512];
        store_path(store, sizeof store, k ? "island2" : "island4");
        const char *args[] = {"run", "program", "--initial", DATA "tiny.txt", "--evaluator",
                              DATA "island_evaluate.sh", "--proposer", "command", "--command",
                              DATA "island_propose.sh", "--seconds", "3", "--jobs", jobs[k],
                              "--islands", "4", "--store", store, "--quiet", NULL};
        double wall;
        assert_int_equal(run_tool("island", args, 30, &wall), 0);
        if (wall > 5)
            fail_msg("--seconds 3 took %.2f s with --jobs %s", wall, jobs[k]);
        json_t *st = status_json(store);
        long long evaluated = json_ll(st, "evaluated");
        if (evaluated < 6)
            fail_msg("--jobs %s: %lld evaluations while island 0 waited", jobs[k], evaluated);
        assert_true(json_ll(json_object_get(st, "failures"), "cut") >= 1); /* island 0's */
        json_decref(st);
    }
}

/* Waits until the run has made its store and begun its session (the seed is scored at once). */
static void wait_for_session(const char *store)
{
    double until = tu_now() + 20;
    struct stat sb;
    while (stat(store, &sb) != 0 && tu_now() < until) {
        struct timespec ms = {0, 20000000};
        nanosleep(&ms, NULL);
    }
    assert_int_equal(stat(store, &sb), 0);
    struct timespec wait = {1, 0}; /* children are then in their 60 s evaluations */
    nanosleep(&wait, NULL);
}

/* Whether the run's stderr says it is stopping. */
static int said_stopping(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/ctrlc.err", tmpdir);
    size_t len;
    char *s = tu_slurp(path, &len);
    int yes = s && strstr(s, "stopping") != NULL;
    free(s);
    return yes;
}

/* The first Ctrl-C says it stops, kills the evaluations in flight and ends the run within a
 * second, exit 0, the store sound; a second one quits at once, the store still sound. */
static void ctrl_c_stops_at_once(void **state)
{
    (void)state;
    for (int twice = 0; twice < 2; twice++) {
        char store[512];
        store_path(store, sizeof store, twice ? "ctrlc2" : "ctrlc1");
        const char *args[] = {"run", "program", "--initial", DATA "tiny.txt", "--evaluator",
                              DATA "slow60_evaluate.sh", "--seconds", "300", "--jobs", "2",
                              "--store", store, "--quiet", NULL};
        pid_t pid = spawn_tool("ctrlc", args);
        wait_for_session(store);
        double t0 = tu_now();
        kill(pid, SIGINT);
        if (twice) { /* the second once the first was handled (two pending SIGINTs are one) */
            while (!said_stopping() && tu_now() < t0 + 1)
                nanosleep(&(struct timespec){0, 1000000}, NULL);
            kill(pid, SIGINT);
        }
        int rc = wait_tool(pid, 20);
        double took = tu_now() - t0;
        if (took > 1.5) /* the figure is 1 s (docs/scheduling.md); a loaded machine gets 0.5 */
            fail_msg("Ctrl-C%s took %.2f s", twice ? " twice" : "", took);
        char *err = read_out("ctrlc", "err");
        assert_non_null(strstr(err, "stopping"));
        free(err);
        if (!twice)
            assert_int_equal(rc, 0);
        else /* 130, unless the first stop was done before the second arrived */
            assert_true(rc == 0 || rc == 128 + SIGINT);
        if (twice)
            fprintf(stderr, "  Ctrl-C twice: exit %d after %.3f s\n", rc, took);
        const char *audit[] = {"audit", store, NULL};
        double wall;
        assert_int_equal(run_tool("audit", audit, 60, &wall), 0);
        json_t *st = status_json(store);
        assert_int_equal(json_ll(st, "stored"), 1);
        json_decref(st);
    }
}

/* The sanitizer build is slower, its start and its end most of all: the `--seconds 1` run below
 * took 1.26-1.29 s on the plain build and 2.21-2.40 s under AddressSanitizer (2.54-2.87 s inside
 * this test), and its Ctrl-C 0.25-0.34 s against 1.29-1.63 s (5 Dec 2026, an idle 2-core
 * machine), so the fixed bounds of 2.5 and 1.5 s failed there at random; with a factor of 2 the
 * sanitizer's bound of 4 s failed once more at 4.28 s, beside a meta run that held both cores
 * (6 Dec). A walk that ignored the deadline or the signal would still fail the bounds below in
 * both builds: a generation of <5,5,5> walker runs takes several CPU seconds on the plain build
 * (about 8 for the first on seed 2) and two to three times that under the sanitizer. */
#if defined(__SANITIZE_ADDRESS__) /* GCC */
#define RUN_SLOWDOWN 3.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) /* clang */
#define RUN_SLOWDOWN 3.0
#endif
#endif
#ifndef RUN_SLOWDOWN
#define RUN_SLOWDOWN 1.0
#endif

/* matmul's work is in-process: a generation of <5,5,5> walker runs takes several CPU seconds
 * (the first one about 8 on seed 2), and the deadline was checked only between generations
 * (`--seconds 3` took 7.9 s; `--seconds 600` ran to 727 s). Now the walkers stop at the deadline
 * and at the first Ctrl-C, the runs they were in are stored as `cut` events and their children
 * dropped, and the store audits. */
static void matmul_walks_stop(const char *tag, const char *steady)
{
    char store[512], name[64];
    snprintf(name, sizeof name, "%s", tag);
    store_path(store, sizeof store, name);
    const char *args[] = {"run", "matmul", "--shape", "5x5x5", "--field", "z", "--seconds", "1",
                          "--seed", "2", "--threads", "2", "--store", store, "--quiet", steady,
                          NULL};
    double wall;
    assert_int_equal(run_tool(name, args, 60, &wall), 0);
    if (wall > 1 + 1.5 * RUN_SLOWDOWN)
        fail_msg("matmul --seconds 1 %s took %.2f s", steady ? steady : "", wall);
    json_t *st = status_json(store);
    assert_true(json_ll(json_object_get(st, "failures"), "cut") >= 1);
    json_decref(st);
    const char *audit[] = {"audit", store, NULL};
    assert_int_equal(run_tool("audit", audit, 60, &wall), 0);
    /* Ctrl-C inside a generation (or, on the job slots, with both threads in a run) */
    snprintf(name, sizeof name, "%sc", tag);
    store_path(store, sizeof store, name);
    const char *args2[] = {"run", "matmul", "--shape", "5x5x5", "--field", "z", "--seconds",
                           "60", "--seed", "2", "--threads", "2", "--store", store, "--quiet",
                           steady, NULL};
    pid_t pid = spawn_tool(name, args2);
    wait_for_session(store);
    double t0 = tu_now();
    kill(pid, SIGINT);
    assert_int_equal(wait_tool(pid, 30), 0);
    double took = tu_now() - t0;
    if (took > 1.5 * RUN_SLOWDOWN)
        fail_msg("matmul %s: Ctrl-C took %.2f s", steady ? steady : "", took);
    assert_int_equal(run_tool("audit", audit, 60, &wall), 0);
}

static void matmul_walks_stop_at_the_deadline(void **state)
{
    (void)state;
    matmul_walks_stop("mm", "--reproducible"); /* generations */
    matmul_walks_stop("mms", NULL);             /* job slots (the default): their walks too */
}

/* ---- the job slots themselves ------------------------------------------------------------ */

typedef struct sleepy {
    int ms;
    int done;
} sleepy;

static void nap_job(void *job, void *user)
{
    (void)user;
    sleepy *s = job;
    struct timespec t = {s->ms / 1000, (long)(s->ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
    s->done = 1;
}

/* Jobs come back in the order they finish, a free slot takes the next job at once, and a
 * collect with nothing finished returns NULL after its wait. */
static void slots_hand_back_jobs_as_they_finish(void **state)
{
    (void)state;
    static volatile int cancel;
    rt_slots *s = NULL;
    assert_int_equal(rt_slots_start(&s, 2, nap_job, NULL, &cancel), 0);
    assert_int_equal(rt_slots_count(s), 2);
    sleepy slow = {400, 0}, fast = {10, 0}, next = {10, 0};
    rt_slots_submit(s, &slow);
    rt_slots_submit(s, &fast);
    assert_int_equal(rt_slots_busy(s), 2);
    assert_ptr_equal(rt_slots_collect(s, 5), &fast); /* the slow one is still running */
    rt_slots_submit(s, &next);                         /* its slot is free at once */
    assert_ptr_equal(rt_slots_collect(s, 5), &next);
    double t0 = tu_now();
    assert_null(rt_slots_collect(s, 0.01));
    assert_true(tu_now() - t0 < 0.3);
    assert_ptr_equal(rt_slots_collect(s, 5), &slow);
    assert_int_equal(rt_slots_busy(s), 0);
    assert_true(slow.done && fast.done && next.done);
    rt_slots_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slots_hand_back_jobs_as_they_finish),
        cmocka_unit_test_setup_teardown(seconds_end_the_run_at_the_deadline, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(a_slow_child_holds_up_nothing_else, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(ctrl_c_stops_at_once, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(matmul_walks_stop_at_the_deadline, setup_dir,
                                        teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
