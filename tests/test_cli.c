/* test_cli.c — end-to-end tests of the ratchet command: help, exit codes and one-line errors,
 * verify on hand-written and published schemes, a whole run, determinism across thread counts,
 * resuming, and a full disk.
 *
 * Runs from the repository root. $RATCHET names the tool (default build/ratchet); published
 * schemes are read from ../shared/data/schemes (or $RT_SCHEMES_DIR) and that test is skipped
 * when the folder is missing. Every child runs under a deadline and is killed when it passes it,
 * so a hung tool fails a test instead of hanging the suite. Stores live in one mkdtemp folder
 * under /tmp that is removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define OUT_CAP ((size_t)4 << 20) /* bytes kept of each output stream */
#define DEFAULT_TIMEOUT 60.0      /* seconds a child may run unless a test says otherwise */
#define MAX_ARGS 32

static char g_dir[64];   /* the test's mkdtemp folder */
static const char *g_tool;

/* ---- child processes --------------------------------------------------------------------- */

typedef struct proc_result {
    int status;    /* exit code; 128 + signal when killed by one; -1 when timed out */
    int timed_out;
    char *out;     /* standard output, NUL-terminated (owned) */
    size_t out_len;
    char *err;     /* standard error, NUL-terminated (owned) */
    size_t err_len;
} proc_result;

typedef struct proc_opts {
    const char *stdin_path; /* NULL: /dev/null */
    rlim_t fsize_limit;     /* RLIMIT_FSIZE in bytes; 0: none */
    double timeout;         /* seconds; 0: DEFAULT_TIMEOUT */
} proc_opts;

static void proc_free(proc_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

/* Appends what fd has to *buf (capped at OUT_CAP); returns 0 at end of file, 1 otherwise. */
static int drain(int fd, char **buf, size_t *len)
{
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : 0;
    if (n == 0)
        return 0;
    size_t take = (size_t)n;
    if (*len + take > OUT_CAP)
        take = OUT_CAP - *len;
    if (take) {
        char *nb = realloc(*buf, *len + take + 1);
        assert_non_null(nb);
        memcpy(nb + *len, chunk, take);
        *len += take;
        nb[*len] = '\0';
        *buf = nb;
    }
    return 1;
}

/* Runs the tool with args (args[0] is the first argument after the program name) and collects
 * its exit status and both outputs. Fails the test if the child cannot be started. */
static void proc_run(const char *const *args, const proc_opts *po, proc_result *res)
{
    memset(res, 0, sizeof *res);
    const char *argv[MAX_ARGS + 2];
    size_t n = 0;
    argv[n++] = g_tool;
    for (size_t i = 0; args[i]; i++) {
        assert_true(n <= MAX_ARGS);
        argv[n++] = args[i];
    }
    argv[n] = NULL;

    int outp[2], errp[2];
    assert_int_equal(pipe2(outp, O_CLOEXEC), 0);
    assert_int_equal(pipe2(errp, O_CLOEXEC), 0);
    int in_fd = open(po && po->stdin_path ? po->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(in_fd >= 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (dup2(in_fd, 0) < 0 || dup2(outp[1], 1) < 0 || dup2(errp[1], 2) < 0)
            _exit(126);
        signal(SIGXFSZ, SIG_DFL); /* as a user's shell would leave it */
        signal(SIGPIPE, SIG_DFL);
        if (po && po->fsize_limit) {
            struct rlimit rl = {po->fsize_limit, po->fsize_limit};
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
                _exit(126);
        }
        execv(g_tool, (char *const *)argv);
        _exit(127);
    }
    close(in_fd);
    close(outp[1]);
    close(errp[1]);
    res->out = calloc(1, 1);
    res->err = calloc(1, 1);
    assert_non_null(res->out);
    assert_non_null(res->err);
    double deadline = tu_now() + (po && po->timeout > 0 ? po->timeout : DEFAULT_TIMEOUT);
    int open_out = 1, open_err = 1, status = 0, reaped = 0;
    while (!reaped) {
        double left = deadline - tu_now();
        if (left <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            res->timed_out = 1;
            break;
        }
        if (open_out || open_err) {
            struct pollfd fds[2] = {{open_out ? outp[0] : -1, POLLIN, 0},
                                    {open_err ? errp[0] : -1, POLLIN, 0}};
            int wait_ms = left > 0.1 ? 100 : (int)(left * 1000) + 1;
            int pr = poll(fds, 2, wait_ms);
            if (pr < 0 && errno != EINTR)
                fail_msg("poll: %s", strerror(errno));
            if (pr > 0) {
                if (open_out && fds[0].revents)
                    open_out = drain(outp[0], &res->out, &res->out_len);
                if (open_err && fds[1].revents)
                    open_err = drain(errp[0], &res->err, &res->err_len);
            }
            continue;
        }
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            reaped = 1;
        else
            usleep(1000);
    }
    close(outp[0]);
    close(errp[0]);
    if (res->timed_out) {
        res->status = -1;
        fail_msg("ratchet %s %s timed out", args[0], args[1] ? args[1] : "");
    }
    if (WIFEXITED(status))
        res->status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        res->status = 128 + WTERMSIG(status);
    else
        res->status = -1;
}

/* Runs the tool with the NULL-terminated argument list that follows res. */
static void run_tool(proc_result *res, ...) __attribute__((sentinel));

static void run_tool(proc_result *res, ...)
{
    const char *args[MAX_ARGS + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, res);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL) {
        assert_true(n < MAX_ARGS);
        args[n++] = a;
    }
    va_end(ap);
    args[n] = NULL;
    proc_run(args, NULL, res);
}

/* Prints a child's outputs, for a failing assertion's context. */
static void show(const char *what, const proc_result *r)
{
    print_message("%s: exit %d\n--- stdout\n%s--- stderr\n%s---\n", what, r->status, r->out,
                  r->err);
}

/* ---- small helpers ----------------------------------------------------------------------- */

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

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Asserts s is exactly one non-empty line ending in a newline. */
static void assert_one_line(const char *s)
{
    size_t len = strlen(s);
    if (len < 2 || s[len - 1] != '\n' || memchr(s, '\n', len - 1) != NULL)
        fail_msg("expected exactly one line on stderr, got [%s]", s);
}

/* Asserts a usage failure: exit 2, no output, one line on stderr that contains each of the
 * NULL-terminated strings in names. */
static void assert_usage_error(const proc_result *r, const char *const *names)
{
    if (r->status != 2)
        show("expected exit 2", r);
    assert_int_equal(r->status, 2);
    assert_one_line(r->err);
    for (; *names; names++)
        if (!strstr(r->err, *names))
            fail_msg("stderr [%s] does not name '%s'", r->err, *names);
    assert_int_equal(r->out_len, 0);
}

static json_t *parse_json(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr); /* rejects anything after the one value */
    if (!j)
        fail_msg("not one JSON value (%s at line %d): [%s]", jerr.text, jerr.line, text);
    if (!json_is_object(j))
        fail_msg("JSON is not an object: [%s]", text);
    return j;
}

static json_t *status_json(const char *store)
{
    proc_result r;
    run_tool(&r, "status", store, "--json", NULL);
    if (r.status != 0)
        show("status --json", &r);
    assert_int_equal(r.status, 0);
    json_t *j = parse_json(r.out);
    proc_free(&r);
    return j;
}

static long long json_int_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("JSON field '%s' is missing or not an integer", key);
    return (long long)json_integer_value(v);
}

/* The "best" rank in status JSON; fails when there is none. */
static double json_best_rank(json_t *status)
{
    json_t *best = json_object_get(status, "best");
    assert_true(json_is_object(best));
    json_t *rank = json_object_get(best, "rank");
    assert_true(json_is_number(rank));
    return json_number_value(rank);
}

/* Makes a small run in store (3x3x3 over GF(2), evaluations as given). */
static void make_run(const char *store, const char *evaluations)
{
    proc_result r;
    run_tool(&r, "run", "matmul", "--shape", "3x3x3", "--field", "gf2", "--evaluations",
             evaluations, "--threads", "2", "--store", store, "--quiet", NULL);
    if (r.status != 0)
        show("make_run", &r);
    assert_int_equal(r.status, 0);
    proc_free(&r);
}

#define STRASSEN "tests/data/strassen-222.exp"
#define STRASSEN_BROKEN "tests/data/strassen-222-broken.exp"

/* ---- setup ------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    g_tool = tu_tool();
    if (!g_tool)
        return -1;
    return tu_tempdir(g_dir, sizeof g_dir, "cli");
}

static int group_teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

/* ---- help -------------------------------------------------------------------------------- */

static void test_help(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"--help", NULL, NULL},   {"help", NULL, NULL},       {"run", "--help", NULL},
        {"status", "--help", NULL}, {"best", "--help", NULL}, {"verify", "--help", NULL},
        {"lift", "--help", NULL}, {"audit", "--help", NULL}, {"policy", "--help", NULL},
        {"meta", "--help", NULL}, {"run", "-h", NULL},        {"status", "-h", NULL},
        {"best", "-h", NULL},     {"verify", "-h", NULL},     {"audit", "-h", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        proc_result r;
        proc_run(cases[i], NULL, &r);
        if (r.status != 0 || !strstr(r.out, "usage"))
            show(cases[i][0], &r);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "usage"));
        if (cases[i][1] && strcmp(cases[i][0], "--help") != 0 && strcmp(cases[i][0], "help"))
            assert_non_null(strstr(r.out, cases[i][0])); /* the command's own help */
        proc_free(&r);
    }
    /* no arguments at all: help on stderr and exit 2 */
    proc_result r;
    const char *none[] = {NULL};
    proc_run(none, NULL, &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "usage"));
    proc_free(&r);
}

/* -h and --help after a command's arguments too, `ratchet help COMMAND`, and verify's help,
 * which lists only what a verification reads. */
static void test_help_everywhere(void **state)
{
    (void)state;
    char store[256];
    path_in(store, sizeof store, "help.db");
    make_run(store, "2");
    struct {
        const char *args[8];
        const char *usage; /* what the help's first line shows */
    } cases[] = {
        {{"policy", "show", "-h", NULL}, "usage: ratchet policy"},
        {{"policy", "show", "--help", NULL}, "usage: ratchet policy"},
        {{"help", "run", NULL}, "usage: ratchet run"},
        {{"help", "verify", NULL}, "usage: ratchet verify"},
        {{"version", "-h", NULL}, "usage: ratchet version"},
        {{"status", store, "-h", NULL}, "usage: ratchet status"},
        {{"run", "matmul", "--shape", "2x2x2", "-h", NULL}, "usage: ratchet run"},
        {{"run", "--resume", store, "--help", NULL}, "usage: ratchet run"},
        {{"verify", STRASSEN, "--shape", "2x2x2", "-h", NULL}, "usage: ratchet verify"},
        {{"lift", "-h", NULL}, "usage: ratchet lift"},
        {{"meta", "-h", NULL}, "usage: ratchet meta"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        proc_result r;
        proc_run(cases[i].args, NULL, &r);
        if (r.status != 0 || strncmp(r.out, cases[i].usage, strlen(cases[i].usage)) != 0)
            show(cases[i].args[0], &r);
        assert_int_equal(r.status, 0);
        assert_memory_equal(r.out, cases[i].usage, strlen(cases[i].usage));
        proc_free(&r);
    }
    proc_result r;
    run_tool(&r, "verify", "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "--shape"));
    assert_non_null(strstr(r.out, "--field"));
    assert_non_null(strstr(r.out, "--verifier"));
    /* search settings have no say in a verdict */
    static const char *const search_only[] = {"--walk", "--lift", "--symmetric", "--cubes",
                                              "--proxy", "--command", "--cascade-threshold"};
    for (size_t i = 0; i < sizeof search_only / sizeof search_only[0]; i++)
        if (strstr(r.out, search_only[i]))
            fail_msg("verify --help lists %s", search_only[i]);
    proc_free(&r);
}

/* An unknown option is named as such, wherever it stands: before another option (whose name
 * must not be taken for its value), last, or given to a command that takes problem options. */
static void test_unknown_options(void **state)
{
    (void)state;
    char store[256];
    path_in(store, sizeof store, "unknown.db");
    struct {
        const char *args[12];
        const char *names[3];
    } cases[] = {
        {{"run", "matmul", "--shape", "2x2x2", "--frobnicate", "--store", store, NULL},
         {"unknown option --frobnicate", NULL}},
        {{"run", "matmul", "--shape", "2x2x2", "--store", store, "--frobnicate", NULL},
         {"unknown option --frobnicate", NULL}},
        {{"run", "--frobnicate", "matmul", "--shape", "2x2x2", "--store", store, NULL},
         {"unknown option --frobnicate", NULL}},
        {{"run", "matmul", "--shape", "2x2x2", "--initial", "x", "--store", store, NULL},
         {"unknown option --initial", NULL}},
        {{"run", "matmul", "--shape", "2x2x2", "--quiet=yes", "--store", store, NULL},
         {"--quiet takes no value", NULL}},
        {{"verify", STRASSEN, "--shape", "2x2x2", "--walk", "5", NULL},
         {"unknown option --walk", NULL}},
        {{"verify", STRASSEN, "--shape", "2x2x2", "--frobnicate", NULL},
         {"unknown option --frobnicate", NULL}},
        {{"verify", STRASSEN, "--problem", "nosuch", NULL}, {"nosuch", NULL}},
        {{"help", "frobnicate", NULL}, {"frobnicate", NULL}},
        {{"version", "extra", NULL}, {"extra", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        proc_result r;
        proc_run(cases[i].args, NULL, &r);
        assert_usage_error(&r, cases[i].names);
        if (strstr(r.err, store))
            fail_msg("the error blames the store: %s", r.err);
        proc_free(&r);
        assert_false(exists(store));
    }
}

/* ---- bad usage --------------------------------------------------------------------------- */

static void test_bad_arguments(void **state)
{
    (void)state;
    char store[256];
    path_in(store, sizeof store, "never.db");
    struct {
        const char *args[16];
        const char *names[3];
    } cases[] = {
        {{"frobnicate", NULL}, {"frobnicate", NULL}},
        {{"run", "matmul", "--shape", "9x3x3", "--store", store, "--evaluations", "4", NULL},
         {"9x3x3", NULL}},
        {{"run", "matmul", "--shape", "3x3", "--store", store, "--evaluations", "4", NULL},
         {"shape", "3x3", NULL}},
        {{"run", "matmul", "--shape", "0x2x2", "--store", store, "--evaluations", "4", NULL},
         {"0x2x2", NULL}},
        {{"run", "matmul", "--shape", "abc", "--store", store, "--evaluations", "4", NULL},
         {"abc", NULL}},
        {{"run", "matmul", "--shape", "2x2x2", "--field", "gf3", "--store", store,
          "--evaluations", "4", NULL},
         {"gf3", NULL}},
        {{"run", "matmul", "--store", store, "--evaluations", "4", NULL}, {"shape", NULL}},
        {{"run", "matmul", "--shape", "2x2x2", "--bogus", "1", "--store", store, "--evaluations",
          "4", NULL},
         {"bogus", NULL}},
        {{"run", "matmul", "--shape", "2x2x2", "--seconds", "-1", "--store", store, NULL},
         {"seconds", "-1", NULL}},
        {{"run", "matmul", "--shape", "2x2x2", "--seconds", "abc", "--store", store, NULL},
         {"seconds", "abc", NULL}},
        {{"run", "nosuchproblem", "--store", store, "--evaluations", "4", NULL},
         {"nosuchproblem", NULL}},
        {{"run", "--store", store, "--evaluations", "4", NULL}, {"problem", NULL}},
        {{"status", "--bogus", NULL}, {"bogus", NULL}},
        {{"verify", "-", "--shape", "2x2x2", "--field", "gf3", NULL}, {"gf3", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        proc_result r;
        proc_run(cases[i].args, NULL, &r);
        assert_usage_error(&r, cases[i].names);
        proc_free(&r);
        assert_false(exists(store)); /* a refused run makes no store */
    }
}

/* Files that are not stores: status, best and run --resume refuse them (exit 2, one line naming
 * the file) and leave them as they were. */
static void test_bad_stores(void **state)
{
    (void)state;
    char missing[256], random_file[256], other[256], empty[256], dir[256];
    path_in(missing, sizeof missing, "missing.db");
    path_in(random_file, sizeof random_file, "random.db");
    path_in(other, sizeof other, "other.db");
    path_in(empty, sizeof empty, "empty.db");
    path_in(dir, sizeof dir, "adir");

    unsigned char bytes[8192];
    uint64_t x = 0x243f6a8885a308d3ULL;
    for (size_t i = 0; i < sizeof bytes; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes[i] = (unsigned char)(x >> 24);
    }
    write_file(random_file, bytes, sizeof bytes);
    write_file(empty, "", 0);
    assert_int_equal(mkdir(dir, 0755), 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(other, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    const char *paths[] = {missing, random_file, other, empty, dir};
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        size_t before_len = 0;
        char *before = tu_slurp(paths[p], &before_len);
        const char *cmds[][8] = {
            {"status", paths[p], NULL},
            {"status", paths[p], "--json", NULL},
            {"best", paths[p], NULL},
            {"run", "--resume", paths[p], "--evaluations", "4", "--quiet", NULL},
        };
        for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
            proc_result r;
            proc_run(cmds[c], NULL, &r);
            const char *names[] = {paths[p], NULL};
            assert_usage_error(&r, names);
            proc_free(&r);
        }
        if (p == 0) {
            assert_false(exists(missing));
        } else if (p != 4) {
            size_t after_len = 0;
            char *after = tu_slurp(paths[p], &after_len);
            assert_non_null(after);
            assert_int_equal(after_len, before_len);
            assert_memory_equal(after, before, before_len);
            free(after);
        }
        free(before);
    }
    /* the foreign database was not switched to WAL or otherwise touched */
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", other);
    assert_false(exists(wal));
}

/* --resume with a problem of other parameters is refused and leaves the store working. */
static void test_resume_mismatch(void **state)
{
    (void)state;
    char store[256];
    path_in(store, sizeof store, "mismatch.db");
    make_run(store, "8");

    proc_result r;
    run_tool(&r, "run", "matmul", "--shape", "2x2x2", "--resume", store, "--evaluations", "8",
             "--quiet", NULL);
    const char *names[] = {store, "2x2x2", "3x3x3", NULL};
    assert_usage_error(&r, names);
    proc_free(&r);

    run_tool(&r, "run", "matmul", "--shape", "3x3x3", "--field", "z", "--resume", store,
             "--evaluations", "8", "--quiet", NULL);
    const char *names_field[] = {store, NULL};
    assert_usage_error(&r, names_field);
    proc_free(&r);

    json_t *st = status_json(store);
    assert_int_equal(json_int_field(st, "sessions"), 1); /* the refusals did not count */
    long long evals = json_int_field(st, "evaluations");
    json_decref(st);

    run_tool(&r, "run", "--resume", store, "--evaluations", "8", "--quiet", NULL);
    if (r.status != 0)
        show("resume after mismatch", &r);
    assert_int_equal(r.status, 0);
    proc_free(&r);
    /* the same problem given explicitly is accepted */
    run_tool(&r, "run", "matmul", "--shape", "3x3x3", "--field", "gf2", "--resume", store,
             "--evaluations", "4", "--quiet", NULL);
    if (r.status != 0)
        show("resume with the same problem", &r);
    assert_int_equal(r.status, 0);
    proc_free(&r);
    st = status_json(store);
    assert_int_equal(json_int_field(st, "sessions"), 3);
    assert_int_equal(json_int_field(st, "evaluations"), evals + 12);
    json_decref(st);
}

/* A resume keeps the run's word: problem parameters, the seed, the islands and the proposer
 * given again must be the stored ones (one line naming the flag, nothing run); the same values
 * in another spelling are accepted. */
static void test_resume_keeps_its_word(void **state)
{
    (void)state;
    char store[256];
    path_in(store, sizeof store, "word.db");
    make_run(store, "4");
    struct {
        const char *args[12];
        const char *names[4];
    } cases[] = {
        {{"--shape", "4x4x4", "--field", "z", NULL}, {"--shape 4x4x4", "3x3x3", store, NULL}},
        {{"--field", "z", NULL}, {"--field z", "gf2", NULL}},
        {{"--seed", "5", NULL}, {"--seed 5", "seed 1", NULL}},
        {{"--islands", "8", NULL}, {"--islands 8", "islands 4", NULL}},
        {{"--proposer", "command", NULL}, {"--proposer command", "builtin", NULL}},
        {{"--walk", "1000", NULL}, {"--walk 1000", NULL}},
        {{"--shape", "2x2", NULL}, {"--shape", "2x2", NULL}},
        {{"program", NULL}, {"program", store, NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[20] = {"run", "--resume", store, "--evaluations", "4", "--quiet"};
        size_t n = 6;
        for (size_t k = 0; cases[i].args[k]; k++)
            args[n++] = cases[i].args[k];
        args[n] = NULL;
        proc_result r;
        proc_run(args, NULL, &r);
        assert_usage_error(&r, cases[i].names);
        proc_free(&r);
    }
    json_t *st = status_json(store);
    assert_int_equal(json_int_field(st, "sessions"), 1); /* nothing ran */
    json_decref(st);
    proc_result r;
    run_tool(&r, "run", "--resume", store, "--shape", "3x3x3", "--field", "GF2", "--seed", "1",
             "--islands", "4", "--proposer", "builtin", "--evaluations", "4", "--quiet", NULL);
    if (r.status != 0)
        show("resume with the stored values", &r);
    assert_int_equal(r.status, 0);
    proc_free(&r);
    st = status_json(store);
    assert_int_equal(json_int_field(st, "sessions"), 2);
    json_decref(st);
}

/* The value of key in the meta table of store, or NULL (caller frees). */
static char *store_meta(const char *store, const char *key)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key=?", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    char *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* A configuration file takes every long option (the problem's, run's own, flags as true or
 * false, the llm proposer's, the policy file relative to the file's folder); flags override
 * it; a bad entry is named by FILE:LINE whatever kind of option it is. */
static void test_config_every_option(void **state)
{
    (void)state;
    char dir[256], ini[300], pol[300], store[256];
    path_in(dir, sizeof dir, "conf");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(ini, sizeof ini, "%s/cfg.ini", dir);
    snprintf(pol, sizeof pol, "%s/pol.json", dir);
    path_in(store, sizeof store, "conf.db");
    const char *policy = "{\"engine\": {\"migrate_every\": 7}}";
    write_file(pol, policy, strlen(policy));
    const char *cfg = "; every kind of option\n"
                      "shape = 2x2x2\nfield = gf2\nseed = 7\nislands = 2\nevaluations = 3\n"
                      "threads = 1\nquiet = true\ntrust-proxy = false\npolicy = pol.json\n";
    write_file(ini, cfg, strlen(cfg));
    proc_result r;
    run_tool(&r, "run", "matmul", "--config", ini, "--seed", "9", "--store", store, NULL);
    if (r.status != 0)
        show("run --config", &r);
    assert_int_equal(r.status, 0);
    proc_free(&r);
    json_t *st = status_json(store);
    assert_int_equal(json_int_field(st, "seed"), 9); /* the flag over the file's 7 */
    assert_int_equal(json_int_field(st, "evaluations"), 3);
    assert_int_equal(json_array_size(json_object_get(st, "islands")), 2);
    assert_non_null(strstr(json_string_value(json_object_get(st, "params")), "2x2x2"));
    json_decref(st);
    char *stored = store_meta(store, "policy");
    assert_non_null(stored);
    json_t *pj = parse_json(stored);
    free(stored);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(pj, "engine"),
                                                        "migrate_every")),
                     7);
    json_decref(pj);

    /* the llm proposer's keys are options too: here given to a proposer that takes none */
    const char *llm = "shape = 2x2x2\nmodel = m\nllm-url = http://127.0.0.1:9/v1\n";
    write_file(ini, llm, strlen(llm));
    char other[256];
    path_in(other, sizeof other, "conf-llm.db");
    run_tool(&r, "run", "matmul", "--config", ini, "--store", other, "--evaluations", "1",
             NULL);
    const char *takes_none[] = {"builtin takes no options", NULL};
    assert_usage_error(&r, takes_none);
    proc_free(&r);

    struct {
        const char *text;
        const char *names[3];
    } bad[] = {
        {"shape = 2x2x2\nseconds = abc\n", {"cfg.ini:2:", "--seconds 'abc'", NULL}},
        {"shape = 9x9x9\n", {"cfg.ini:1:", "9x9x9", NULL}},
        {"shape = 2x2x2\n\nfrobnicate = 1\n", {"cfg.ini:3:", "unknown option --frobnicate", NULL}},
        {"shape = 2x2x2\nquiet = maybe\n", {"cfg.ini:2:", "quiet", NULL}},
        {"config = other.ini\n", {"cfg.ini:1:", "config", NULL}},
        {"shape = 2x2x2\npolicy = missing.json\n", {"cfg.ini:2:", "missing.json", NULL}},
        {"shape = 2x2x2\nislands = 0\n", {"cfg.ini:2:", "--islands", NULL}},
        {"shape = 2x2x2\nproposer = llm\nmodel = m\nllm-url = ftp://x\n",
         {"cfg.ini:4:", "ftp://x", NULL}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(ini, bad[i].text, strlen(bad[i].text));
        path_in(other, sizeof other, "conf-bad.db");
        run_tool(&r, "run", "matmul", "--config", ini, "--store", other, "--evaluations", "1",
                 NULL);
        assert_usage_error(&r, bad[i].names);
        proc_free(&r);
        assert_false(exists(other));
    }
}

/* make install (PREFIX, DESTDIR) puts the program, its prompts and the manual page in place, and
 * the installed program finds its prompts from any working directory; a copy moved away from
 * them says how to name them. The llm run's server is a closed port: the store is made only
 * once the proposer has read its templates. */
static void test_make_install(void **state)
{
    (void)state;
    char tool[4096], build[4096], root[300], cmd[12000];
    assert_non_null(realpath(g_tool, tool));
    snprintf(build, sizeof build, "%s", tool);
    *strrchr(build, '/') = '\0';
    path_in(root, sizeof root, "inst");
    snprintf(cmd, sizeof cmd, "make --no-print-directory -s install BUILD='%s' DESTDIR='%s' "
             "PREFIX=/opt/rt > '%s.log' 2>&1", build, root, root);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "cat '%s.log'", root);
        (void)!system(cmd);
        fail_msg("make install failed");
    }
    static const char *const files[] = {"bin/ratchet", "share/man/man1/ratchet.1",
                                        "share/ratchet/prompts/default/system.md",
                                        "share/ratchet/prompts/default/user.md",
                                        "share/ratchet/prompts/default/diff.md",
                                        "share/ratchet/prompts/default/full.md"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/opt/rt/%s", root, files[i]);
        if (!exists(path))
            fail_msg("make install did not install %s", path);
    }
    char moved[300];
    path_in(moved, sizeof moved, "moved-ratchet");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", tool, moved);
    assert_int_equal(system(cmd), 0);
    for (int copy = 0; copy < 2; copy++) {
        char store[300], err[300];
        path_in(store, sizeof store, copy ? "inst-moved.db" : "inst-llm.db");
        path_in(err, sizeof err, "inst.err");
        snprintf(cmd, sizeof cmd,
                 "cd / && env -u RATCHET_PROMPTS '%s%s' run matmul --shape 2x2x2 --islands 1 "
                 "--evaluations 1 --proposer llm --llm-url http://127.0.0.1:9/v1 --model m "
                 "--llm-retries 0 --store '%s' --quiet > /dev/null 2> '%s'",
                 copy ? moved : root, copy ? "" : "/opt/rt/bin/ratchet", store, err);
        int rc = system(cmd);
        size_t len = 0;
        char *text = tu_slurp(err, &len);
        assert_non_null(text);
        if (!copy && (!exists(store) || strstr(text, "prompts")))
            fail_msg("the installed ratchet did not find its prompts (%d): %s", rc, text);
        /* (unless an installed ratchet's prompts are where this one was built to look) */
        if (copy && !exists(store) && !strstr(text, "--llm-prompts"))
            fail_msg("a moved ratchet without prompts does not say so: %s", text);
        free(text);
    }
}

/* Stores named by default (runs/PROBLEM-DATE-TIME.db) never collide: runs started in the same
 * second in one folder each get a store of their own. */
static void test_default_store_names(void **state)
{
    (void)state;
    char dir[256], cmd[2048];
    path_in(dir, sizeof dir, "defaults");
    assert_int_equal(mkdir(dir, 0755), 0);
    char tool[4096];
    assert_non_null(realpath(g_tool, tool));
    int n = snprintf(cmd, sizeof cmd,
                     "cd '%s' && for i in 1 2 3 4; do '%s' run matmul --shape 2x2x2 "
                     "--evaluations 2 --quiet --threads 1 > out$i 2>&1 & done; wait; "
                     "'%s' run matmul --shape 2x2x2 --evaluations 2 --quiet > out5 2>&1 && "
                     "'%s' run matmul --shape 2x2x2 --evaluations 2 --quiet > out6 2>&1 && "
                     "grep -L 'best verified' out* | wc -l | grep -qx 0",
                     dir, tool, tool, tool);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(cmd, sizeof cmd, "cat '%s'/out*", dir);
        rc = system(cmd);
        fail_msg("a run with a default store failed");
    }
    char runs[300];
    snprintf(runs, sizeof runs, "%s/runs", dir);
    DIR *d = opendir(runs);
    assert_non_null(d);
    int stores = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        stores += len > 3 && strcmp(e->d_name + len - 3, ".db") == 0;
    }
    closedir(d);
    assert_int_equal(stores, 6);
}

/* A store whose run is of a problem this ratchet does not know (say, made by a newer one) is
 * refused with one line by resume, status and best alike. */
static void test_store_of_unknown_problem(void **state)
{
    (void)state;
    char store[256];
    path_in(store, sizeof store, "other-problem.db");
    make_run(store, "4");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(store, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value='sorting' WHERE key='problem'", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    const char *names[] = {"sorting", NULL};
    proc_result r;
    run_tool(&r, "run", "--resume", store, "--evaluations", "4", "--quiet", NULL);
    assert_usage_error(&r, names);
    proc_free(&r);
    run_tool(&r, "run", "matmul", "--shape", "3x3x3", "--field", "gf2", "--resume", store,
             "--evaluations", "4", "--quiet", NULL);
    assert_usage_error(&r, names);
    proc_free(&r);
    run_tool(&r, "best", store, NULL);
    assert_usage_error(&r, names);
    proc_free(&r);
}

/* run --store on an existing file: exit 2 and the file unchanged. */
static void test_store_exists(void **state)
{
    (void)state;
    char plain[256], store[256];
    path_in(plain, sizeof plain, "existing.txt");
    path_in(store, sizeof store, "existing.db");
    static const char text[] = "precious data, not a store\n";
    write_file(plain, text, sizeof text - 1);
    make_run(store, "4");
    const char *paths[] = {plain, store};
    for (size_t p = 0; p < 2; p++) {
        size_t before_len = 0, after_len = 0;
        char *before = tu_slurp(paths[p], &before_len);
        assert_non_null(before);
        proc_result r;
        run_tool(&r, "run", "matmul", "--shape", "2x2x2", "--store", paths[p], "--evaluations",
                 "4", "--quiet", NULL);
        const char *names[] = {paths[p], NULL};
        assert_usage_error(&r, names);
        proc_free(&r);
        char *after = tu_slurp(paths[p], &after_len);
        assert_non_null(after);
        assert_int_equal(after_len, before_len);
        assert_memory_equal(after, before, before_len);
        free(before);
        free(after);
    }
    json_t *st = status_json(store);
    assert_int_equal(json_int_field(st, "sessions"), 1);
    json_decref(st);
}

/* ---- verify ------------------------------------------------------------------------------ */

static void test_verify_strassen(void **state)
{
    (void)state;
    const char *good = STRASSEN, *bad = STRASSEN_BROKEN;
    const char *fields[] = {"z", "gf2"};
    for (size_t f = 0; f < 2; f++) {
        proc_result r;
        run_tool(&r, "verify", good, "--shape", "2x2x2", "--field", fields[f], NULL);
        if (r.status != 0)
            show("verify strassen", &r);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "rank 7"));
        proc_free(&r);

        /* from standard input */
        const char *args[] = {"verify", "-", "--shape", "2x2x2", "--field", fields[f], NULL};
        proc_opts po = {.stdin_path = good};
        proc_run(args, &po, &r);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "rank 7"));
        proc_free(&r);

        run_tool(&r, "verify", bad, "--shape", "2x2x2", "--field", fields[f], NULL);
        if (r.status != 1)
            show("verify broken strassen", &r);
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.out, "equation"));
        assert_null(strstr(r.out, "valid: rank"));
        proc_free(&r);

        /* the right scheme for the wrong shape is not a pass */
        run_tool(&r, "verify", good, "--shape", "2x2x3", "--field", fields[f], NULL);
        assert_int_not_equal(r.status, 0);
        proc_free(&r);
    }
}

static void test_verify_bad_input(void **state)
{
    (void)state;
    char mal[256], missing[256], dir[256], binary[256];
    path_in(mal, sizeof mal, "malformed.exp");
    path_in(missing, sizeof missing, "no-such-scheme.exp");
    path_in(dir, sizeof dir, "verify-dir");
    path_in(binary, sizeof binary, "binary.exp");
    static const char text[] = "(a11+a22)*(b11+b22)*(c11+c22)\n(a11+*b11)*(c11\n";
    write_file(mal, text, sizeof text - 1);
    static const unsigned char bin[] = {0x00, 0xff, 0x13, 0x37, '(', 0x00, '\n', 0x80};
    write_file(binary, bin, sizeof bin);
    assert_int_equal(mkdir(dir, 0755), 0);
    const char *paths[] = {mal, missing, dir, binary};
    for (size_t p = 0; p < 4; p++) {
        proc_result r;
        run_tool(&r, "verify", paths[p], "--shape", "2x2x2", "--field", "z", NULL);
        const char *names[] = {paths[p], NULL};
        assert_usage_error(&r, names);
        proc_free(&r);
    }
    /* with --json the malformed file still exits 2, and stdout (if any) is one JSON object */
    proc_result r;
    run_tool(&r, "verify", mal, "--shape", "2x2x2", "--json", NULL);
    assert_int_equal(r.status, 2);
    assert_one_line(r.err);
    if (r.out_len) {
        json_t *j = parse_json(r.out);
        assert_true(json_is_false(json_object_get(j, "valid")));
        json_decref(j);
    }
    proc_free(&r);
}

static void test_json_outputs(void **state)
{
    (void)state;
    const char *good = STRASSEN, *bad = STRASSEN_BROKEN;
    char store[256];
    path_in(store, sizeof store, "json.db");

    proc_result r;
    run_tool(&r, "verify", good, "--shape", "2x2x2", "--field", "z", "--json", NULL);
    assert_int_equal(r.status, 0);
    json_t *j = parse_json(r.out);
    assert_true(json_is_true(json_object_get(j, "valid")));
    assert_true(json_is_number(json_object_get(j, "rank")));
    assert_true(json_number_value(json_object_get(j, "rank")) == 7.0);
    json_decref(j);
    proc_free(&r);

    run_tool(&r, "verify", bad, "--shape", "2x2x2", "--field", "gf2", "--json", NULL);
    assert_int_equal(r.status, 1);
    j = parse_json(r.out);
    assert_true(json_is_false(json_object_get(j, "valid")));
    assert_null(json_object_get(j, "rank"));
    const char *reason = json_string_value(json_object_get(j, "reason"));
    assert_non_null(reason);
    assert_non_null(strstr(reason, "equation"));
    json_decref(j);
    proc_free(&r);

    make_run(store, "8");
    j = status_json(store);
    json_t *best = json_object_get(j, "best");
    assert_true(json_is_object(best));
    double rank = json_best_rank(j);
    assert_true(rank >= 1 && rank <= 27);
    assert_true(json_int_field(j, "evaluations") >= 8);
    json_t *islands = json_object_get(j, "islands");
    assert_true(json_is_array(islands));
    assert_int_equal(json_array_size(islands), 4);
    assert_true(json_is_object(json_array_get(islands, 0)));
    json_decref(j);

    const char *variants[][5] = {{"best", store, "--json", NULL, NULL},
                                 {"best", store, "--format", "json", NULL}};
    for (size_t v = 0; v < 2; v++) {
        proc_run(variants[v], NULL, &r);
        assert_int_equal(r.status, 0);
        j = parse_json(r.out);
        json_t *products = json_object_get(j, "products");
        assert_true(json_is_array(products));
        assert_true((double)json_array_size(products) == rank);
        json_decref(j);
        proc_free(&r);
    }
}

/* ---- published schemes ------------------------------------------------------------------- */

static void test_published_schemes(void **state)
{
    (void)state;
    const char *dirname = tu_schemes_dir();
    DIR *d = opendir(dirname);
    if (!d)
        skip();
    int checked = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        tu_scheme_name s;
        if (tu_scheme_name_parse(e->d_name, &s))
            continue;
        char path[1024], shape[16];
        snprintf(path, sizeof path, "%s/%s", dirname, e->d_name);
        snprintf(shape, sizeof shape, "%dx%dx%d", s.n, s.m, s.p);
        proc_result r;
        run_tool(&r, "verify", path, "--shape", shape, "--field", s.gf2 ? "gf2" : "z", NULL);
        if (r.status != 0)
            show(e->d_name, &r);
        assert_int_equal(r.status, 0);
        const char *at = strstr(r.out, "rank ");
        if (!at)
            fail_msg("%s: no rank in [%s]", e->d_name, r.out);
        char *end = NULL;
        long printed = strtol(at + 5, &end, 10);
        if (end == at + 5)
            fail_msg("%s: no number after 'rank' in [%s]", e->d_name, r.out);
        if (printed != s.rank)
            fail_msg("%s: printed rank %ld, file name says %d", e->d_name, printed, s.rank);
        proc_free(&r);
        checked++;
    }
    closedir(d);
    print_message("verified %d published schemes with the tool\n", checked);
    assert_true(checked > 0);
}

/* ---- runs -------------------------------------------------------------------------------- */

static void test_main_flow(void **state)
{
    (void)state;
    char store[256], exp_path[256];
    path_in(store, sizeof store, "flow.db");
    path_in(exp_path, sizeof exp_path, "flow-best.exp");
    proc_result r;
    run_tool(&r, "run", "matmul", "--shape", "2x2x2", "--field", "z", "--target", "7",
             "--seconds", "30", "--store", store, NULL);
    if (r.status != 0)
        show("run 2x2x2", &r);
    assert_int_equal(r.status, 0);
    proc_free(&r);

    run_tool(&r, "status", store, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "rank 7"));
    proc_free(&r);

    run_tool(&r, "best", store, "--format", "exp", NULL);
    assert_int_equal(r.status, 0);
    assert_true(r.out_len > 0);
    write_file(exp_path, r.out, r.out_len);
    proc_free(&r);

    run_tool(&r, "verify", exp_path, "--shape", "2x2x2", "--field", "z", NULL);
    if (r.status != 0)
        show("verify best", &r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "rank 7"));
    proc_free(&r);

    run_tool(&r, "best", store, "--format", "json", NULL);
    assert_int_equal(r.status, 0);
    json_t *j = parse_json(r.out);
    json_t *products = json_object_get(j, "products");
    assert_true(json_is_array(products));
    assert_int_equal(json_array_size(products), 7);
    json_decref(j);
    proc_free(&r);
}

/* The candidate rows (hash, island, generation, operator) in id order, as one string. */
static char *candidate_rows(const char *store, int *nrows)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT hash, island, generation, operator FROM "
                                        "candidates ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    buf[0] = '\0';
    *nrows = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char line[256];
        int n = snprintf(line, sizeof line, "%s %d %lld %s\n", sqlite3_column_text(st, 0),
                         sqlite3_column_int(st, 1), (long long)sqlite3_column_int64(st, 2),
                         sqlite3_column_text(st, 3));
        assert_true(n > 0 && (size_t)n < sizeof line);
        if (len + (size_t)n + 1 > cap) {
            cap = 2 * cap + (size_t)n;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        memcpy(buf + len, line, (size_t)n + 1);
        len += (size_t)n;
        (*nrows)++;
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf;
}

/* --reproducible: the same seed gives the same run on 1 and 2 threads (generations). */
static void test_determinism(void **state)
{
    (void)state;
    char stores[3][256];
    const char *threads[] = {"1", "2", "2"};
    const char *seeds[] = {"11", "11", "12"};
    char *rows[3];
    int nrows[3];
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "det%d.db", i);
        path_in(stores[i], sizeof stores[i], name);
        proc_result r;
        run_tool(&r, "run", "matmul", "--shape", "3x3x3", "--field", "gf2", "--seed", seeds[i],
                 "--evaluations", "40", "--islands", "4", "--threads", threads[i], "--store",
                 stores[i], "--quiet", "--reproducible", NULL);
        if (r.status != 0)
            show("determinism run", &r);
        assert_int_equal(r.status, 0);
        proc_free(&r);
        rows[i] = candidate_rows(stores[i], &nrows[i]);
    }
    assert_true(nrows[0] > 10);
    assert_int_equal(nrows[0], nrows[1]);
    if (strcmp(rows[0], rows[1]) != 0)
        fail_msg("--threads 1 and --threads 2 gave different runs:\n%s\nvs\n%s", rows[0], rows[1]);
    assert_string_not_equal(rows[0], rows[2]);
    for (int i = 0; i < 3; i++)
        free(rows[i]);
}

static void test_resume_continues(void **state)
{
    (void)state;
    char store[256];
    path_in(store, sizeof store, "resume.db");
    make_run(store, "20");
    json_t *st = status_json(store);
    assert_int_equal(json_int_field(st, "sessions"), 1);
    long long e1 = json_int_field(st, "evaluations");
    double r1 = json_best_rank(st);
    json_decref(st);
    /* the budget is exact: 20 proposals (the seed is not one) */
    assert_int_equal(e1, 20);

    proc_result r;
    run_tool(&r, "run", "--resume", store, "--evaluations", "20", "--quiet", NULL);
    if (r.status != 0)
        show("resume", &r);
    assert_int_equal(r.status, 0);
    proc_free(&r);
    st = status_json(store);
    assert_int_equal(json_int_field(st, "sessions"), 2);
    assert_int_equal(json_int_field(st, "evaluations"), e1 + 20);
    assert_true(json_best_rank(st) <= r1);
    json_decref(st);
}

/* PRAGMA integrity_check of a store, read through the sqlite3 C API. */
static void assert_integrity_ok(const char *store)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(store, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Checks the message of a full disk: one line that names the store and says "full" or "limit"
 * outside the path. Returns NULL when it holds, else what is wrong (in a static buffer). */
static const char *full_message_problem(const char *err, const char *store)
{
    static char why[1024];
    size_t len = strlen(err);
    const char *at = strstr(err, store);
    if (len < 2 || err[len - 1] != '\n' || memchr(err, '\n', len - 1) != NULL)
        snprintf(why, sizeof why, "not exactly one line: [%s]", err);
    else if (!at)
        snprintf(why, sizeof why, "does not name the store %s: [%s]", store, err);
    else {
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", err);
        size_t off = (size_t)(at - err), n = strlen(store);
        if (off < sizeof copy)
            memset(copy + off, ' ', n < sizeof copy - 1 - off ? n : sizeof copy - 1 - off);
        if (strstr(copy, "full") || strstr(copy, "limit"))
            return NULL;
        snprintf(why, sizeof why, "says neither 'full' nor 'limit': [%s]", err);
    }
    return why;
}

/* A file-size limit hit during a run: exit 2 with a one-line message, and a store that is intact
 * and resumes. A limit hit while the store is being created leaves no file at the path. */
static void test_full_disk(void **state)
{
    (void)state;
    char store[256], tiny[256];
    path_in(store, sizeof store, "fsize.db");
    path_in(tiny, sizeof tiny, "fsize-create.db");
    const char *args[] = {"run", "matmul", "--shape", "4x4x4", "--field", "gf2", "--evaluations",
                          "2000", "--store", store, "--quiet", NULL};
    proc_opts po = {.fsize_limit = 200 * 1024, .timeout = 60};
    proc_result full;
    proc_run(args, &po, &full);
    if (full.status != 2)
        show("run under a 200 KB file-size limit", &full);
    assert_int_equal(full.status, 2);

    if (exists(store)) {
        assert_integrity_ok(store);
        proc_result r;
        run_tool(&r, "status", store, NULL);
        assert_int_equal(r.status, 0);
        proc_free(&r);
        json_t *st = status_json(store);
        long long evals = json_int_field(st, "evaluations");
        json_decref(st);
        run_tool(&r, "run", "--resume", store, "--evaluations", "8", "--quiet", NULL);
        if (r.status != 0)
            show("resume after a full disk", &r);
        assert_int_equal(r.status, 0);
        proc_free(&r);
        run_tool(&r, "status", store, NULL);
        assert_int_equal(r.status, 0);
        proc_free(&r);
        st = status_json(store);
        assert_int_equal(json_int_field(st, "evaluations"), evals + 8);
        json_decref(st);
        assert_integrity_ok(store);
    }

    /* so small a limit that creation itself fails */
    const char *tiny_args[] = {"run", "matmul", "--shape", "4x4x4", "--field", "gf2",
                               "--evaluations", "8", "--store", tiny, "--quiet", NULL};
    proc_opts tiny_po = {.fsize_limit = 8 * 1024, .timeout = 60};
    proc_result at_create;
    proc_run(tiny_args, &tiny_po, &at_create);
    if (at_create.status != 2)
        show("run under an 8 KB file-size limit", &at_create);
    assert_int_equal(at_create.status, 2);
    if (exists(tiny)) {
        /* if creation got through, the store must be a working one */
        assert_integrity_ok(tiny);
        proc_result r;
        run_tool(&r, "run", "--resume", tiny, "--evaluations", "4", "--quiet", NULL);
        assert_int_equal(r.status, 0);
        proc_free(&r);
    }

    /* the messages last, so that the checks above report first */
    char problems[2048] = "";
    const char *why = full_message_problem(full.err, store);
    if (why)
        snprintf(problems, sizeof problems, "during the run, the message %s", why);
    why = full_message_problem(at_create.err, tiny);
    if (why) {
        size_t used = strlen(problems);
        snprintf(problems + used, sizeof problems - used, "%sat creation, the message %s",
                 used ? "\n" : "", why);
    }
    proc_free(&full);
    proc_free(&at_create);
    if (problems[0])
        fail_msg("full disk: %s", problems);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_bad_stores),
        cmocka_unit_test(test_resume_mismatch),
        cmocka_unit_test(test_resume_keeps_its_word),
        cmocka_unit_test(test_help_everywhere),
        cmocka_unit_test(test_unknown_options),
        cmocka_unit_test(test_default_store_names),
        cmocka_unit_test(test_config_every_option),
        cmocka_unit_test(test_make_install),
        cmocka_unit_test(test_store_exists),
        cmocka_unit_test(test_verify_strassen),
        cmocka_unit_test(test_verify_bad_input),
        cmocka_unit_test(test_json_outputs),
        cmocka_unit_test(test_published_schemes),
        cmocka_unit_test(test_main_flow),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_resume_continues),
        cmocka_unit_test(test_store_of_unknown_problem),
        cmocka_unit_test(test_full_disk),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
