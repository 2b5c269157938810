/* test_mpi.c — one run over MPI ranks (docs/scaling.md).
 *
 * Runs `mpirun --oversubscribe -np N ratchet run ...` on matmul and on a program, and kills or
 * stops a worker rank in the middle of a program run. What would break these tests: ranks that
 * each run the whole search on one store (what `mpirun ratchet run` did before: the store
 * refuses the second creator, or the runs interleave); rank 0 proposing itself instead of
 * through its workers (the MPI line counts the jobs sent); a matmul run over MPI that depends on
 * the number of ranks; a killed worker that wedges the run or loses committed admissions; a
 * stopped (hung) worker that is never noticed; a store the audit rejects; a resume with another
 * number of ranks that fails. The message codec is checked on damaged bytes.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpi/wire.h"
#include "ratchet.h"
#include "rng.h"
#include "testutil.h"

#define DATA "tests/data/program/"
#define MPIRUN "/usr/bin/mpirun"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    /* mpirun refuses root without these; the mark finds this test's ranks among other runs */
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    if (tu_tempdir(tmpdir, sizeof tmpdir, "mpi"))
        return -1;
    /* under make sanitize: Open MPI unloads its plugins at MPI_Finalize, so LeakSanitizer
     * reports what they keep until exit from "<unknown module>" and fails every rank; the
     * ranks run without leak checks (address and undefined-behaviour checks stay on, and
     * test_wire and every single-process test still check ratchet's own memory) */
    setenv("LSAN_OPTIONS", "detect_leaks=0", 0);
    setenv("RATCHET_TEST_MARK", tmpdir, 1);
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

/* Starts mpirun with np ranks of the tool (np 0: the tool alone) with args, stdout and stderr
 * into tmpdir/TAG.out and .err. Returns its pid. */
static pid_t spawn(const char *tag, int np, const char *const *args)
{
    const char *tool = tu_tool();
    assert_non_null(tool);
    assert_int_equal(access(MPIRUN, X_OK), 0); /* scripts/deps.sh installs openmpi-bin */
    char out[512], err[512], nps[16];
    snprintf(out, sizeof out, "%s/%s.out", tmpdir, tag);
    snprintf(err, sizeof err, "%s/%s.err", tmpdir, tag);
    snprintf(nps, sizeof nps, "%d", np);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr))
            _exit(127);
        const char *argv[64];
        size_t n = 0;
        if (np) {
            argv[n++] = MPIRUN;
            argv[n++] = "--oversubscribe";
            argv[n++] = "-np";
            argv[n++] = nps;
        }
        argv[n++] = tool;
        for (size_t i = 0; args[i] && n < 63; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int run(const char *tag, int np, const char *const *args, double limit)
{
    return tu_wait(spawn(tag, np, args), limit);
}

static char *output(const char *tag, const char *ext)
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

static void summary(const char *store, rt_summary *sum)
{
    rt_store *st = NULL;
    rt_error err = {0};
    assert_int_equal(rt_store_open(&st, store, &err), 0);
    assert_int_equal(rt_store_summary(st, sum), 0);
    rt_store_close(st);
}

/* The committed admissions so far (0 while the store does not exist yet). */
static long long admitted_now(const char *store)
{
    if (access(store, F_OK) != 0)
        return 0;
    rt_store *st = NULL;
    rt_error err = {0};
    rt_summary sum;
    long long n = 0;
    if (rt_store_open(&st, store, &err) == 0 && rt_store_summary(st, &sum) == 0)
        n = sum.admitted;
    rt_store_close(st);
    return n;
}

static void assert_audit(const char *store)
{
    const char *args[] = {"audit", store, NULL};
    int rc = run("audit", 0, args, 120);
    if (rc != 0) {
        char *out = output("audit", "out");
        fprintf(stderr, "audit of %s: exit %d\n%s", store, rc, out);
        free(out);
    }
    assert_int_equal(rc, 0);
}

static void assert_contains(const char *tag, const char *ext, const char *want)
{
    char *s = output(tag, ext);
    if (!strstr(s, want))
        fprintf(stderr, "%s.%s lacks \"%s\":\n%s\n", tag, ext, want, s);
    assert_non_null(strstr(s, want));
    free(s);
}

/* The admitted candidates' hashes, in order, joined (caller frees). */
static int add_hash(const rt_cand_info *info, void *user)
{
    char **acc = user;
    size_t n = *acc ? strlen(*acc) : 0;
    char *s = realloc(*acc, n + 66);
    assert_non_null(s);
    snprintf(s + n, 66, "%s,", info->hash);
    *acc = s;
    return 0;
}

static char *admitted_hashes(const char *store)
{
    rt_store *st = NULL;
    rt_error err = {0};
    char *acc = NULL;
    assert_int_equal(rt_store_open(&st, store, &err), 0);
    assert_int_equal(rt_store_admitted(st, add_hash, &acc), 0);
    rt_store_close(st);
    assert_non_null(acc);
    return acc;
}

/* The pid of this test's rank (RATCHET_TEST_MARK in its environment), or -1. */
static pid_t find_rank(int rank)
{
    char want_rank[64], want_mark[300];
    snprintf(want_rank, sizeof want_rank, "OMPI_COMM_WORLD_RANK=%d", rank);
    snprintf(want_mark, sizeof want_mark, "RATCHET_TEST_MARK=%s", tmpdir);
    DIR *d = opendir("/proc");
    assert_non_null(d);
    pid_t found = -1;
    struct dirent *e;
    while (found < 0 && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/environ", e->d_name);
        size_t len = 0;
        char *env = tu_slurp(path, &len);
        int has_rank = 0, has_mark = 0;
        for (size_t i = 0; env && i < len; i += strlen(env + i) + 1) {
            has_rank |= strcmp(env + i, want_rank) == 0;
            has_mark |= strcmp(env + i, want_mark) == 0;
        }
        free(env);
        if (has_rank && has_mark)
            found = (pid_t)atol(e->d_name);
    }
    closedir(d);
    return found;
}

/* ---- the runs ----------------------------------------------------------------------------- */

/* matmul over 2 and 3 ranks: rank 0 hands out every proposal (the MPI line), the stores audit,
 * and the run is the same on both rank counts (the generations schedule, docs/scaling.md). */
static void test_matmul_ranks(void **state)
{
    (void)state;
    char a[512], b[512];
    store_path(a, sizeof a, "m3");
    store_path(b, sizeof b, "m2");
    const char *args_a[] = {"run", "matmul", "--shape", "3x3x3", "--field", "gf2",
                            "--evaluations", "400", "--seed", "7", "--store", a, NULL};
    assert_int_equal(run("m3", 3, args_a, 240), 0);
    assert_contains("m3", "err", "MPI: 400 jobs on 2 workers");
    const char *args_b[] = {"run", "matmul", "--shape", "3x3x3", "--field", "gf2",
                            "--evaluations", "400", "--seed", "7", "--store", b, NULL};
    assert_int_equal(run("m2", 2, args_b, 240), 0);
    assert_contains("m2", "err", "MPI: 400 jobs on 1 workers");
    assert_audit(a);
    assert_audit(b);
    rt_summary sa, sb;
    summary(a, &sa);
    summary(b, &sb);
    assert_int_equal(sa.proposals, 400);
    assert_int_equal(sa.stored, sb.stored);
    assert_int_equal(sa.admitted, sb.admitted);
    assert_string_equal(sa.best_hash, sb.best_hash);
    char *ha = admitted_hashes(a), *hb = admitted_hashes(b);
    assert_string_equal(ha, hb);
    free(ha);
    free(hb);
}

/* A program run over 3 ranks: the workers evaluate in their sandboxes, rank 0 re-runs the
 * evaluator on every child before admitting it. */
static void test_program_ranks(void **state)
{
    (void)state;
    char s[512];
    store_path(s, sizeof s, "p3");
    const char *args[] = {"run", "program", "--initial", DATA "tiny.txt", "--evaluator",
                          DATA "evaluate.sh", "--evaluations", "30", "--seed", "3", "--store",
                          s, NULL};
    assert_int_equal(run("p3", 3, args, 240), 0);
    assert_contains("p3", "err", "MPI: 30 jobs on 2 workers");
    assert_audit(s);
    rt_summary sum;
    summary(s, &sum);
    assert_int_equal(sum.proposals, 30);
    assert_true(sum.evaluated >= 10);
    assert_true(sum.best_metric > 1);
    assert_int_equal(sum.invalid, 0);
    assert_int_equal(sum.valid, sum.stored); /* every row verified on rank 0 */
}

/* Starts a slow program run over 3 ranks and waits until it has admitted at least n children
 * (committed). Returns mpirun's pid. */
static pid_t start_slow(const char *tag, const char *store, const char *timeout, long long n)
{
    const char *args[] = {"run", "program", "--initial", DATA "tiny.txt", "--evaluator",
                          DATA "slow03_evaluate.sh", "--seconds", "90", "--seed", "5",
                          "--store", store, "--mpi-timeout", timeout, NULL};
    pid_t pid = spawn(tag, 3, args);
    double until = tu_now() + 60;
    while (admitted_now(store) < n && tu_now() < until) {
        struct timespec ms = {0, 100000000};
        nanosleep(&ms, NULL);
    }
    assert_true(admitted_now(store) >= n);
    return pid;
}

/* A worker killed mid-run: the run ends (mpirun tears the job down), nothing committed is lost,
 * the store audits and resumes on another number of ranks. */
static void test_killed_worker(void **state)
{
    (void)state;
    char s[512];
    store_path(s, sizeof s, "killed");
    pid_t pid = start_slow("killed", s, "600", 3);
    long long before = admitted_now(s);
    pid_t victim = find_rank(2);
    assert_true(victim > 0);
    assert_int_equal(kill(victim, SIGKILL), 0);
    double t0 = tu_now();
    int rc = tu_wait(pid, 60);
    assert_true(rc > 0); /* not 0 (a lost rank) and not -1 (wedged) */
    assert_true(tu_now() - t0 < 30);
    assert_audit(s);
    assert_true(admitted_now(s) >= before);
    rt_summary was;
    summary(s, &was);
    const char *args[] = {"run", "--resume", s, "--evaluations", "6", NULL};
    assert_int_equal(run("resumed", 2, args, 120), 0);
    assert_contains("resumed", "err", "MPI: 6 jobs on 1 workers");
    assert_audit(s);
    rt_summary now;
    summary(s, &now);
    assert_int_equal(now.proposals, was.proposals + 6);
    assert_int_equal(now.sessions, 2);
}

/* A worker that stops answering (SIGSTOP): rank 0's deadline notices, the run ends with exit 1
 * saying which rank, and the store audits. */
static void test_hung_worker(void **state)
{
    (void)state;
    char s[512];
    store_path(s, sizeof s, "hung");
    pid_t pid = start_slow("hung", s, "3", 2);
    pid_t victim = find_rank(2);
    assert_true(victim > 0);
    assert_int_equal(kill(victim, SIGSTOP), 0);
    double t0 = tu_now();
    int rc = tu_wait(pid, 60);
    kill(victim, SIGKILL); /* in case the launcher left it */
    assert_int_equal(rc, 1);
    assert_true(tu_now() - t0 < 30);
    /* rank 0 notices either while it waits for the reply or, when the worker stopped before
     * taking its next job, while that job's send cannot complete: both name the rank */
    char *err = output("hung", "err");
    const char *lost = strstr(err, "MPI worker rank 2 lost: ");
    if (!lost || (!strstr(lost, "no reply in 3 s") && !strstr(lost, "took over its deadline")))
        fprintf(stderr, "hung.err lacks the lost rank 2 and its deadline:\n%s\n", err);
    assert_non_null(lost);
    assert_true(strstr(lost, "no reply in 3 s") || strstr(lost, "took over its deadline"));
    free(err);
    assert_audit(s);
}

/* ---- the messages ------------------------------------------------------------------------- */

static void test_wire(void **state)
{
    (void)state;
    rt_wire_reply r;
    memset(&r, 0, sizeof r);
    r.child = strdup("x = 7\n\xff");
    r.len = 7;
    r.rc = 0;
    r.work = 12345;
    rt_rng_seed(&r.rng, 99, 3);
    snprintf(r.op, sizeof r.op, "walk");
    snprintf(r.ev_reason, sizeof r.ev_reason, "bad \x80 byte");
    r.evaluated = 1;
    r.score.primary = 0.1;
    r.score.secondary = -1.0 / 3;
    r.metrics = strdup("{\"x\": 7}");
    rt_buf b;
    rt_buf_init(&b, 0);
    /* a child that is not UTF-8 cannot travel as a JSON string: the encoder refuses it */
    assert_int_not_equal(rt_wire_reply_encode(&r, &b), 0);
    r.child[6] = '\n';
    rt_buf_reset(&b);
    assert_int_equal(rt_wire_reply_encode(&r, &b), 0);
    rt_wire_reply back;
    char err[256];
    assert_int_equal(rt_wire_reply_decode(b.data, b.len, &back, err, sizeof err), 0);
    assert_int_equal(back.len, 7);
    assert_memory_equal(back.child, r.child, 7);
    assert_true(back.score.primary == r.score.primary);   /* bit for bit */
    assert_true(back.score.secondary == r.score.secondary);
    assert_memory_equal(&back.rng, &r.rng, sizeof r.rng);
    assert_int_equal(back.work, 12345);
    assert_string_equal(back.ev_reason, "bad ? byte");
    assert_string_equal(back.metrics, "{\"x\": 7}");
    rt_wire_reply_free(&back);
    /* damaged replies: rejected with a line, never a crash */
    rt_rng g;
    rt_rng_seed(&g, 5, 0);
    int rejected = 0;
    for (int k = 0; k < 20000; k++) {
        char *m = malloc(b.len);
        assert_non_null(m);
        memcpy(m, b.data, b.len);
        int edits = 1 + (int)(rt_rng_next(&g) % 4);
        for (int e = 0; e < edits; e++)
            m[rt_rng_next(&g) % b.len] = (char)(rt_rng_next(&g) & 0xff);
        size_t len = (size_t)(rt_rng_next(&g) % (b.len + 1));
        if (rt_wire_reply_decode(m, len, &back, err, sizeof err) == 0)
            rt_wire_reply_free(&back);
        else
            rejected++, assert_true(err[0] != '\0');
        rt_wire_job job;
        if (rt_wire_job_decode(m, len, &job, err, sizeof err) == 0)
            rt_wire_job_free(&job);
        free(m);
    }
    assert_true(rejected > 10000);
    rt_buf_free(&b);
    rt_wire_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire),
        cmocka_unit_test(test_matmul_ranks),
        cmocka_unit_test(test_program_ranks),
        cmocka_unit_test(test_killed_worker),
        cmocka_unit_test(test_hung_worker),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
