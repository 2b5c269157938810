/* test_crash.c — the crash test: a run is killed with SIGKILL at random moments, over and over,
 * and after every kill its store must pass rt_store_check (SQLite's integrity check, every hash
 * against its text, every admitted candidate re-verified) and rt_store_audit (the lineage chain
 * unbroken across sessions, the checkpoint's account of it exact), its best verified rank must not have
 * got worse and its evaluation count must not have gone down. A last --resume must finish.
 *
 * The kill times come from a seeded generator; the seed is printed, and RT_CRASH_SEED replays
 * it. RT_CRASH_ROUNDS sets the number of kills (default 24). $RATCHET names the tool (default
 * build/ratchet). Runs from the repository root; the store lives in a mkdtemp folder under /tmp
 * that is removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ratchet.h"
#include "rng.h"
#include "testutil.h"

#define CHILD_TIMEOUT 60.0 /* seconds a child that should finish by itself may take */

static char g_dir[64];
static const char *g_tool;

/* ---- helpers ----------------------------------------------------------------------------- */

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static rt_rng g_rng; /* the kill times */

static void path_in(char *buf, size_t len, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", g_dir, name);
    assert_true(n > 0 && (size_t)n < len);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Starts the tool with args (NULL-terminated, without the program name); its standard output
 * and error go to log (truncated). Returns the child's pid. */
static pid_t spawn(const char *const *args, const char *log)
{
    const char *argv[24];
    size_t n = 0;
    argv[n++] = g_tool;
    for (size_t i = 0; args[i]; i++) {
        assert_true(n < 23);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(log_fd >= 0);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(null_fd >= 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
            _exit(126);
        execv(g_tool, (char *const *)argv);
        _exit(127);
    }
    close(log_fd);
    close(null_fd);
    return pid;
}

/* Prints a child's log, for a failing assertion's context. */
static void show_log(const char *log)
{
    FILE *f = fopen(log, "r");
    if (!f)
        return;
    char line[1024];
    print_message("--- output of the child\n");
    while (fgets(line, sizeof line, f))
        print_message("%s", line);
    print_message("---\n");
    fclose(f);
}

/* Waits for pid up to timeout seconds (SIGKILL after that); returns its wait status, or -1 when
 * it had to be killed. */
static int wait_for(pid_t pid, double timeout)
{
    double deadline = tu_now() + timeout;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            return status;
        if (w < 0 && errno != EINTR)
            fail_msg("waitpid: %s", strerror(errno));
        if (tu_now() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        sleep_s(0.002);
    }
}

/* Runs the tool to completion; returns its exit code (fails the test on a time-out or signal). */
static int run_to_end(const char *const *args, const char *log)
{
    pid_t pid = spawn(args, log);
    int status = wait_for(pid, CHILD_TIMEOUT);
    if (status == -1) {
        show_log(log);
        fail_msg("ratchet %s timed out", args[0]);
    }
    if (!WIFEXITED(status)) {
        show_log(log);
        fail_msg("ratchet %s died of signal %d", args[0], WTERMSIG(status));
    }
    return WEXITSTATUS(status);
}

/* Opens the store with the public API, checks it and fills *sum. */
static void check_store(const char *path, rt_summary *sum, long long *checked)
{
    rt_error err;
    rt_store *st = NULL;
    if (rt_store_open(&st, path, &err) != 0)
        fail_msg("rt_store_open(%s): %s", path, err.msg);
    if (rt_store_summary(st, sum) != 0) {
        print_message("rt_store_summary: %s\n", rt_store_errmsg(st));
        rt_store_close(st);
        fail();
    }
    if (rt_store_check(st, checked) != 0) {
        print_message("rt_store_check: %s\n", rt_store_errmsg(st));
        rt_store_close(st);
        fail();
    }
    /* the lineage chain survives every kill: a resumed run continues it */
    rt_audit audit;
    if (rt_store_audit(st, &audit) != 0) {
        print_message("rt_store_audit: %s\n", rt_store_errmsg(st));
        rt_store_close(st);
        fail();
    }
    for (int i = 0; i < audit.nlisted; i++)
        print_message("audit: %s\n", audit.failures[i]);
    assert_int_equal(audit.nfailures, 0);
    assert_int_equal(audit.links, audit.rows);
    rt_store_close(st);
    assert_string_equal(sum->problem, "matmul");
    assert_non_null(strstr(sum->params, "shape=4x4x4"));
    assert_non_null(strstr(sum->params, "field=gf2"));
}

static int group_setup(void **state)
{
    (void)state;
    g_tool = tu_tool();
    if (!g_tool)
        return -1;
    return tu_tempdir(g_dir, sizeof g_dir, "crash");
}

static int group_teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_kill_loop(void **state)
{
    (void)state;
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
    const char *env = getenv("RT_CRASH_SEED");
    char *end = NULL;
    if (env && *env) {
        errno = 0;
        seed = strtoull(env, &end, 0);
        if (errno || *end)
            fail_msg("RT_CRASH_SEED='%s' is not a number", env);
    }
    long rounds = 24;
    env = getenv("RT_CRASH_ROUNDS");
    if (env && *env) {
        errno = 0;
        rounds = strtol(env, &end, 10);
        if (errno || *end || rounds < 1 || rounds > 10000)
            fail_msg("RT_CRASH_ROUNDS='%s' is not a number from 1 to 10000", env);
    }
    rt_rng_seed(&g_rng, seed, 0);
    print_message("crash test: seed %llu (RT_CRASH_SEED=%llu replays it), %ld kills\n",
                  (unsigned long long)seed, (unsigned long long)seed, rounds);

    char store[256], log[256];
    path_in(store, sizeof store, "crash.db");
    path_in(log, sizeof log, "crash.log");
    const char *create_args[] = {"run",       "matmul", "--shape", "4x4x4", "--field", "gf2",
                                 "--seconds", "30",     "--store", store,   "--quiet", NULL};
    const char *resume_args[] = {"run", "--resume", store, "--seconds", "30", "--quiet", NULL};

    int created = 0, has_best = 0, checks = 0, progressed = 0;
    double best = 0;
    long long evaluations = 0, sessions = 0;
    double t0 = tu_now();
    for (long round = 0; round < rounds; round++) {
        double delay = 0.050 + (double)(rt_rng_next(&g_rng) % 1151) / 1000.0;
        pid_t pid = spawn(created ? resume_args : create_args, log);
        double until = tu_now() + delay;
        int status = 0;
        while (tu_now() < until) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid) {
                show_log(log);
                fail_msg("round %ld: the run ended by itself (exit %d) before the kill at %.0f ms",
                         round, WIFEXITED(status) ? WEXITSTATUS(status) : -1, delay * 1000);
            }
            sleep_s(0.001);
        }
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        if (!exists(store)) {
            /* creation is atomic: a kill before it finished leaves nothing at the path */
            assert_false(created);
            print_message("round %ld: killed at %.0f ms, before the store existed\n", round,
                          delay * 1000);
            continue;
        }
        created = 1;
        rt_summary sum;
        long long checked = 0;
        check_store(store, &sum, &checked);
        checks++;
        if (has_best) {
            if (!sum.has_best)
                fail_msg("round %ld: the store lost its best candidate", round);
            if (sum.best_metric > best)
                fail_msg("round %ld: best rank went up from %g to %g", round, best,
                         sum.best_metric);
        }
        if (sum.evaluations < evaluations)
            fail_msg("round %ld: evaluations went down from %lld to %lld", round, evaluations,
                     sum.evaluations);
        if (sum.sessions < sessions)
            fail_msg("round %ld: sessions went down from %lld to %d", round, sessions,
                     sum.sessions);
        if (sum.evaluations > evaluations)
            progressed++;
        if (sum.has_best) {
            has_best = 1;
            best = sum.best_metric;
        }
        evaluations = sum.evaluations;
        sessions = sum.sessions;
    }
    assert_true(created);
    assert_true(checks > 0);
    /* some kills must have landed after commits, or the loop tested nothing but startup */
    assert_true(progressed > 0);

    const char *final_args[] = {"run", "--resume", store, "--evaluations", "16", "--quiet", NULL};
    int rc = run_to_end(final_args, log);
    if (rc != 0)
        show_log(log);
    assert_int_equal(rc, 0);
    rt_summary sum;
    long long checked = 0;
    check_store(store, &sum, &checked);
    assert_true(sum.has_best);
    if (has_best)
        assert_true(sum.best_metric <= best);
    assert_true(sum.evaluations >= evaluations + 16);
    assert_true(checked >= 1);
    print_message("crash test: %d checks (%d after new commits) in %.1f s; final: rank %g after "
                  "%lld evaluations in %d sessions, %lld admitted candidates re-verified\n",
                  checks, progressed, tu_now() - t0, sum.best_metric, sum.evaluations, sum.sessions, checked);
}

/* A kill just after the store file appears, before the run's first checkpoint: the store that
 * is left must resume (or not be there at all). */
static void test_kill_at_creation(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        char store[256], log[256], name[32];
        snprintf(name, sizeof name, "early%d.db", round);
        path_in(store, sizeof store, name);
        path_in(log, sizeof log, "early.log");
        const char *args[] = {"run",       "matmul", "--shape", "4x4x4", "--field", "gf2",
                              "--seconds", "30",     "--store", store,   "--quiet", NULL};
        pid_t pid = spawn(args, log);
        double deadline = tu_now() + CHILD_TIMEOUT;
        while (!exists(store) && tu_now() < deadline) {
            int status;
            if (waitpid(pid, &status, WNOHANG) == pid) {
                show_log(log);
                fail_msg("the run ended before making its store");
            }
            sleep_s(0.0001);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (!exists(store))
            continue;
        rt_summary sum;
        long long checked = 0;
        check_store(store, &sum, &checked);
        const char *resume[] = {"run", "--resume", store, "--evaluations", "4", "--quiet", NULL};
        int rc = run_to_end(resume, log);
        if (rc != 0) {
            show_log(log);
            fail_msg("round %d: a store killed at creation (%d sessions, %lld evaluations) does "
                     "not resume",
                     round, sum.sessions, sum.evaluations);
        }
        check_store(store, &sum, &checked);
        assert_true(sum.has_best);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_loop),
        cmocka_unit_test(test_kill_at_creation),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
