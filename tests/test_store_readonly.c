/* test_store_readonly.c — the read-only commands (status, best, best --certificate, audit) on a
 * store that cannot be written: its folder a read-only bind mount, or a folder and file without
 * write permission.
 *
 * One small run is made with the library; each case copies its store into a folder (whose name
 * needs escaping in an SQLite URI), arranges the store's -wal and -shm files, and runs the tool
 * on a read-only view of that folder. Two ways to make the view, each used where it works:
 *   mount  as root: each command runs in a private mount namespace of its own in which the
 *          folder is bind-mounted read-only at a second path (nothing leaks to the host);
 *   mode   the folder 0555 and its files 0444; as root the command runs without
 *          CAP_DAC_OVERRIDE (dropped from its effective, permitted, inheritable and bounding
 *          sets), since root otherwise writes anyway.
 * Before either is used a probe checks that creating a file in the view really fails.
 *
 * Cases: no -wal and no -shm, the store in rollback-journal mode (as a writer leaves it) and in
 * WAL mode (as older ratchet left it: SQLite cannot create its WAL index: the reported bug); an empty
 * -wal with its -shm (what a reader leaves); a -wal holding committed transactions with its -shm
 * (what a killed run leaves: they must be seen); such a -wal without its -shm (SQLite cannot
 * read it there: exit 2 with one line, never the store without them); a store of format 1 (one
 * clear line, exit 2, no migration attempted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ratchet.h"
#include "testutil.h"

#define CMD_TIMEOUT 60.0 /* seconds a command may take before it is killed */
#define EXIT_NO_VIEW 99  /* a child could not make the read-only view */

enum view_kind { VIEW_MOUNT, VIEW_MODE, NVIEWS };
static const char *const view_names[NVIEWS] = {"mount", "mode"};

static char g_dir[256];
static char g_tool[4096];  /* absolute: commands may run in another folder */
static char g_clean[512];  /* the finished run's store: no -wal, no -shm */
static char g_src[512];    /* the folder made read-only (its name needs URI escaping) */
static char g_mnt[512];    /* where the mount view shows it */
static int g_have[NVIEWS]; /* which views work here */
static char *g_best;       /* `best` on the clean store, in a writable folder */
static long long g_stored; /* candidates in the clean store */

typedef struct cmd_result {
    int status; /* exit code; 128 + signal when killed by one */
    char *out, *err;
} cmd_result;

static void cmd_free(cmd_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

static void path_in(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < len);
}

/* The folder the tool sees the read-only store in. */
static const char *view_dir(enum view_kind how) { return how == VIEW_MOUNT ? g_mnt : g_src; }

/* Drops CAP_DAC_OVERRIDE (and CAP_DAC_READ_SEARCH) for good: from the bounding set, so that an
 * exec'd program as root does not regain them, and from the other sets. Returns 0 or -1. */
static int drop_dac(void)
{
    static const int caps[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH};
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return -1;
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        if (prctl(PR_CAPBSET_DROP, (unsigned long)caps[i], 0, 0, 0) != 0)
            return -1;
    if (syscall(SYS_capget, &hdr, data) != 0)
        return -1;
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        uint32_t bit = 1u << caps[i]; /* both below 32 */
        data[0].effective &= ~bit;
        data[0].permitted &= ~bit;
        data[0].inheritable &= ~bit;
    }
    return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -1;
}

/* In a child: makes the read-only view. Returns 0 or -1. */
static int enter_view(enum view_kind how)
{
    if (how == VIEW_MODE)
        return geteuid() == 0 ? drop_dac() : 0;
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount(g_src, g_mnt, NULL, MS_BIND, NULL) != 0 ||
        mount(NULL, g_mnt, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0)
        return -1;
    return 0;
}

/* Sets the modes of the source folder and its files: writable (0755/0644) or not (0555/0444). */
static void set_modes(int writable)
{
    static const char *const names[] = {"run.db", "run.db-wal", "run.db-shm"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[600];
        path_in(p, sizeof p, g_src, names[i]);
        if (chmod(p, writable ? 0644 : 0444) != 0)
            assert_int_equal(errno, ENOENT);
    }
    assert_int_equal(chmod(g_src, writable ? 0755 : 0555), 0);
}

/* Waits for pid up to CMD_TIMEOUT seconds (then kills it); returns its exit code. */
static int wait_child(pid_t pid)
{
    double deadline = tu_now() + CMD_TIMEOUT;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        assert_true(w == 0 || errno == EINTR);
        if (tu_now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("a child ran past %.0f s", CMD_TIMEOUT);
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

/* Whether a view works here: a child that enters it must fail to create a file in it. */
static int probe_view(enum view_kind how)
{
    if (how == VIEW_MODE)
        set_modes(0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (enter_view(how) != 0)
            _exit(EXIT_NO_VIEW);
        char p[600];
        snprintf(p, sizeof p, "%s/probe", view_dir(how));
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            unlink(p);
            _exit(EXIT_NO_VIEW); /* not read-only after all */
        }
        _exit(errno == EROFS || errno == EACCES ? 0 : EXIT_NO_VIEW);
    }
    int rc = wait_child(pid);
    if (how == VIEW_MODE)
        set_modes(1);
    return rc == 0;
}

/* Runs the tool with the NULL-terminated args in the read-only view how (in folder cwd when not
 * NULL). Fails the test when the child cannot be started or the view cannot be made. */
static void run_in_view(enum view_kind how, const char *cwd, const char *const *args,
                        cmd_result *res)
{
    memset(res, 0, sizeof *res);
    const char *argv[16];
    size_t n = 0;
    argv[n++] = g_tool;
    for (size_t i = 0; args[i]; i++) {
        assert_true(n < sizeof argv / sizeof argv[0] - 1);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    char out_path[600], err_path[600];
    path_in(out_path, sizeof out_path, g_dir, "stdout");
    path_in(err_path, sizeof err_path, g_dir, "stderr");
    if (how == VIEW_MODE)
        set_modes(0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(126);
        if (enter_view(how) != 0)
            _exit(EXIT_NO_VIEW);
        if (cwd && chdir(cwd) != 0)
            _exit(126);
        execv(g_tool, (char *const *)argv);
        _exit(127);
    }
    res->status = wait_child(pid);
    if (how == VIEW_MODE)
        set_modes(1);
    assert_int_not_equal(res->status, EXIT_NO_VIEW);
    size_t len;
    res->out = tu_slurp(out_path, &len);
    res->err = tu_slurp(err_path, &len);
    assert_non_null(res->out);
    assert_non_null(res->err);
}

static void show(const char *what, enum view_kind how, const cmd_result *r)
{
    print_message("%s (%s view): exit %d\n--- stdout\n%s--- stderr\n%s---\n", what,
                  view_names[how], r->status, r->out ? r->out : "", r->err ? r->err : "");
}

static void expect_status(const char *what, enum view_kind how, const cmd_result *r, int status)
{
    if (r->status != status) {
        show(what, how, r);
        fail_msg("%s (%s view): exit %d, expected %d", what, view_names[how], r->status, status);
    }
}

/* Asserts s is exactly one non-empty line ending in a newline. */
static void assert_one_line(const char *s)
{
    size_t len = strlen(s);
    if (len < 2 || s[len - 1] != '\n' || memchr(s, '\n', len - 1) != NULL)
        fail_msg("expected exactly one line on stderr, got [%s]", s);
}

static void copy_file(const char *from, const char *to)
{
    size_t len = 0;
    char *data = tu_slurp(from, &len);
    assert_non_null(data);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(data);
}

/* Size of a file, -1 when it does not exist. */
static long long file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        assert_int_equal(errno, ENOENT);
        return -1;
    }
    return (long long)st.st_size;
}

static long long store_file_size(const char *suffix)
{
    char p[600];
    snprintf(p, sizeof p, "%s/run.db%s", g_src, suffix);
    return file_size(p);
}

/* Empties the source folder and puts a copy of the clean store in it as run.db. */
static void fresh_store(void)
{
    static const char *const names[] = {"run.db", "run.db-wal", "run.db-shm", "run.db-journal"};
    set_modes(1);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[600];
        path_in(p, sizeof p, g_src, names[i]);
        unlink(p);
    }
    char p[600];
    path_in(p, sizeof p, g_src, "run.db");
    copy_file(g_clean, p);
}

/* In a child process (no SQLite connection crosses a fork): opens the store for writing, runs
 * sql (may be NULL: only reads), and exits without closing, as a killed run does, leaving the
 * -wal (holding what sql committed, not checkpointed) and the -shm beside the store. */
static void leave_wal(const char *sql)
{
    char p[600];
    path_in(p, sizeof p, g_src, "run.db");
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sqlite3 *db = NULL;
        if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
            sqlite3_exec(db,
                         "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; "
                         "SELECT count(*) FROM candidates;",
                         NULL, NULL, NULL) != SQLITE_OK ||
            (sql && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK))
            _exit(1);
        _exit(0);
    }
    assert_int_equal(wait_child(pid), 0);
}

/* Runs one pragma on the source store over a connection of its own, closed at once: no -wal is
 * left beside it. */
static void store_pragma(const char *sql)
{
    char p[600];
    path_in(p, sizeof p, g_src, "run.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(store_file_size("-wal"), -1);
}

/* Leaves the store in WAL mode with no -wal or -shm beside it, as ratchet before 5 Dec 2026 left
 * every store it had written (a writer now closes in rollback-journal mode). */
static void wal_mode_alone(void)
{
    store_pragma("PRAGMA journal_mode=WAL");
    assert_int_equal(store_file_size("-shm"), -1);
}

static void make_run(const char *path)
{
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field"};
    const char *values[] = {"3x3x3", "gf2"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 2, &err), 0);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.evaluations = 60;
    opt.seed = 11;
    rt_run *run = NULL;
    if (rt_run_create(&run, path, pb, &opt, &err) != 0)
        fail_msg("rt_run_create: %s", err.msg);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    rt_problem_close(pb);
}

static int setup(void **state)
{
    (void)state;
    const char *tool = tu_tool();
    if (!tool || !realpath(tool, g_tool))
        return -1;
    if (tu_tempdir(g_dir, sizeof g_dir, "rostore"))
        return -1;
    /* '?', '#', '%' and '&' mean something in a URI; "%41" would read as "A" if unescaped */
    snprintf(g_src, sizeof g_src, "%s/store ?#%%41&x", g_dir);
    snprintf(g_mnt, sizeof g_mnt, "%s/view ?#%%41&x", g_dir);
    snprintf(g_clean, sizeof g_clean, "%s/clean.db", g_dir);
    if (mkdir(g_src, 0755) != 0 || mkdir(g_mnt, 0755) != 0)
        return -1;
    make_run(g_clean);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", g_clean);
    if (file_size(wal) != -1) {
        fprintf(stderr, "the finished run left %s\n", wal);
        return -1;
    }
    /* what the read-only commands must print: from a copy in a writable folder */
    char copy[600];
    path_in(copy, sizeof copy, g_dir, "writable.db");
    copy_file(g_clean, copy);
    rt_error err;
    rt_store *st = NULL;
    rt_summary sum;
    if (rt_store_open(&st, copy, &err) != 0 || rt_store_summary(st, &sum) != 0 ||
        rt_store_best(st, &g_best) != 0 || !sum.has_best) {
        fprintf(stderr, "reading %s: %s\n", copy, st ? rt_store_errmsg(st) : err.msg);
        rt_store_close(st);
        return -1;
    }
    rt_store_close(st);
    g_stored = sum.stored;
    /* the problem's natural format (`best` prints .exp for matmul) */
    rt_problem *pb = NULL;
    const char *keys[] = {"shape", "field"};
    const char *values[] = {"3x3x3", "gf2"};
    char *exp = NULL;
    if (rt_problem_open(&pb, "matmul", keys, values, 2, &err) != 0 ||
        rt_problem_convert(pb, g_best, strlen(g_best), "exp", &exp, &err) != 0) {
        fprintf(stderr, "converting the best: %s\n", err.msg);
        rt_problem_close(pb);
        return -1;
    }
    rt_problem_close(pb);
    free(g_best);
    g_best = exp;
    size_t n = strlen(g_best);
    if (n == 0 || g_best[n - 1] != '\n') { /* as `best` prints it */
        char *line = realloc(g_best, n + 2);
        if (!line)
            return -1;
        line[n] = '\n';
        line[n + 1] = '\0';
        g_best = line;
    }
    fresh_store();
    int any = 0;
    for (int how = 0; how < NVIEWS; how++) {
        g_have[how] = probe_view((enum view_kind)how);
        if (!g_have[how])
            fprintf(stderr, "note: the %s view cannot be made here; its cases are skipped\n",
                    view_names[how]);
        any |= g_have[how];
    }
    if (!any)
        fprintf(stderr, "note: no read-only view can be made here; every case is skipped\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_src[0])
        chmod(g_src, 0755);
    tu_rmtree(g_dir);
    free(g_best);
    g_best = NULL;
    return 0;
}

/* Skips the case when no view can be made here. */
static void need_a_view(void)
{
    int any = 0;
    for (int how = 0; how < NVIEWS; how++)
        any |= g_have[how];
    if (!any)
        skip();
}

/* `status --json` in the view: exit 0, and the parsed object (caller decrefs). */
static json_t *status_json(enum view_kind how, const char *cwd, const char *store)
{
    const char *args[] = {"status", store, "--json", NULL};
    cmd_result r;
    run_in_view(how, cwd, args, &r);
    expect_status("status --json", how, &r, 0);
    json_error_t jerr;
    json_t *o = json_loads(r.out, 0, &jerr);
    if (!json_is_object(o))
        fail_msg("status --json is not one JSON object: [%s]", r.out);
    assert_int_equal(json_integer_value(json_object_get(o, "stored")), g_stored);
    cmd_free(&r);
    return o;
}

/* status, best, best --certificate and audit on the store in view how all succeed and say what
 * they say on a writable copy. Returns the sessions count status reports. */
static long long read_commands_work(enum view_kind how)
{
    char store[600];
    path_in(store, sizeof store, view_dir(how), "run.db");
    cmd_result r;

    const char *status_args[] = {"status", store, NULL};
    run_in_view(how, NULL, status_args, &r);
    expect_status("status", how, &r, 0);
    assert_non_null(strstr(r.out, "best         rank"));
    cmd_free(&r);

    json_t *o = status_json(how, NULL, store);
    long long sessions = (long long)json_integer_value(json_object_get(o, "sessions"));
    json_decref(o);

    /* the same store by a path that starts with "//" (not a URI authority) and by a relative
     * path */
    char slashes[640];
    snprintf(slashes, sizeof slashes, "/%s", store);
    json_decref(status_json(how, NULL, slashes));
    json_decref(status_json(how, view_dir(how), "run.db"));

    const char *best_args[] = {"best", store, NULL};
    run_in_view(how, NULL, best_args, &r);
    expect_status("best", how, &r, 0);
    assert_string_equal(r.out, g_best);
    cmd_free(&r);

    char cert[600];
    path_in(cert, sizeof cert, g_dir, "cert");
    const char *cert_args[] = {"best", store, "--certificate", cert, NULL};
    run_in_view(how, NULL, cert_args, &r);
    expect_status("best --certificate", how, &r, 0);
    cmd_free(&r);
    tu_rmtree(cert);

    const char *audit_args[] = {"audit", store, NULL};
    run_in_view(how, NULL, audit_args, &r);
    expect_status("audit", how, &r, 0);
    assert_non_null(strstr(r.out, "audit        passed"));
    cmd_free(&r);
    return sessions;
}

/* The reported bug: a finished run's store alone, no -wal and no -shm. */
static void test_without_wal_files(void **state)
{
    (void)state;
    need_a_view();
    for (int how = 0; how < NVIEWS; how++) {
        if (!g_have[how])
            continue;
        for (int wal = 0; wal < 2; wal++) {
            fresh_store(); /* rollback-journal mode, as a writer leaves it */
            if (wal)
                wal_mode_alone();
            read_commands_work((enum view_kind)how);
            /* nothing was left behind (and nothing could be) */
            assert_int_equal(store_file_size("-wal"), -1);
            assert_int_equal(store_file_size("-shm"), -1);
        }
    }
}

/* An empty -wal and its -shm, as a reader or a cleanly stopped writer leaves them. */
static void test_with_empty_wal(void **state)
{
    (void)state;
    need_a_view();
    for (int how = 0; how < NVIEWS; how++) {
        if (!g_have[how])
            continue;
        fresh_store();
        leave_wal(NULL);
        assert_int_equal(store_file_size("-wal"), 0);
        assert_true(store_file_size("-shm") > 0);
        read_commands_work((enum view_kind)how);
    }
}

/* A -wal holding a committed transaction that is not yet in the store file, with its -shm (a run
 * killed between checkpoints): the commands see the transaction. */
static void test_with_transactions_in_wal(void **state)
{
    (void)state;
    need_a_view();
    for (int how = 0; how < NVIEWS; how++) {
        if (!g_have[how])
            continue;
        fresh_store();
        leave_wal("UPDATE checkpoint SET sessions = 77 WHERE id = 1");
        assert_true(store_file_size("-wal") > 0);
        assert_true(store_file_size("-shm") > 0);
        assert_int_equal(read_commands_work((enum view_kind)how), 77);
    }
}

/* The same -wal without its -shm: SQLite cannot read it in a read-only folder, so the commands
 * fail with one line that says why (exit 2); they never show the store without the transaction. */
static void test_with_transactions_in_wal_without_shm(void **state)
{
    (void)state;
    need_a_view();
    for (int how = 0; how < NVIEWS; how++) {
        if (!g_have[how])
            continue;
        fresh_store();
        leave_wal("UPDATE checkpoint SET sessions = 77 WHERE id = 1");
        char shm[600];
        path_in(shm, sizeof shm, g_src, "run.db-shm");
        assert_int_equal(unlink(shm), 0);
        assert_true(store_file_size("-wal") > 0);
        char store[600];
        path_in(store, sizeof store, view_dir((enum view_kind)how), "run.db");
        static const char *const cmds[] = {"status", "best", "audit"};
        for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
            const char *args[] = {cmds[c], store, NULL};
            cmd_result r;
            run_in_view((enum view_kind)how, NULL, args, &r);
            expect_status(cmds[c], (enum view_kind)how, &r, 2);
            assert_string_equal(r.out, "");
            assert_one_line(r.err);
            if (!strstr(r.err, "-wal") || !strstr(r.err, "read-only"))
                fail_msg("%s: the message does not say why: [%s]", cmds[c], r.err);
            cmd_free(&r);
        }
    }
}

/* A store of format 1 needs a newer layout that only a writer could make: one clear line. */
static void test_old_format(void **state)
{
    (void)state;
    need_a_view();
    for (int how = 0; how < NVIEWS; how++) {
        if (!g_have[how])
            continue;
        fresh_store();
        store_pragma("PRAGMA user_version = 1");
        char store[600];
        path_in(store, sizeof store, view_dir((enum view_kind)how), "run.db");
        const char *args[] = {"status", store, NULL};
        cmd_result r;
        run_in_view((enum view_kind)how, NULL, args, &r);
        expect_status("status", (enum view_kind)how, &r, 2);
        assert_one_line(r.err);
        if (!strstr(r.err, "format 1"))
            fail_msg("status: the message does not name the format: [%s]", r.err);
        cmd_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_wal_files),
        cmocka_unit_test(test_with_empty_wal),
        cmocka_unit_test(test_with_transactions_in_wal),
        cmocka_unit_test(test_with_transactions_in_wal_without_shm),
        cmocka_unit_test(test_old_format),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
