/* test_browse.c — the browsing commands and the HTML report, through the tool on real short
 * runs: list and its filters, show, diff (against `diff -u`'s hunks and a patch applier on
 * random texts), lineage, report (its data read back, no network reference, the empty store),
 * watch against a running run (ends with the run, and on Ctrl-C), and bad input (one line, exit
 * 2). The page in a real browser is scripts/browser_test.sh's (make test-browser). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "problems/program/program.h"
#include "store/llm_requests.h"
#include "store/store.h"
#include "store/write.h"
#include "ratchet.h"
#include "testutil.h"
#include "util.h"

static char g_dir[128];
static char g_store[256]; /* a short matmul run, made once */
static const char *g_tool;

/* Starts the tool with args, stdout and stderr to files in g_dir (name.out, name.err). */
static pid_t start(const char *name, const char *const *args)
{
    char out[300], err[300];
    snprintf(out, sizeof out, "%s/%s.out", g_dir, name);
    snprintf(err, sizeof err, "%s/%s.err", g_dir, name);
    const char *argv[32] = {g_tool};
    size_t n = 1;
    for (; args[n - 1] && n < 31; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int i = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || i < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || dup2(i, 0) < 0)
            _exit(126);
        execv(g_tool, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits for pid: its exit code (128 + signal when killed). */
static int finish(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs the tool; *out and *err receive its outputs (caller frees). Returns its exit code. */
static int tool(char **out, char **err, const char *const *args)
{
    int rc = finish(start("cmd", args));
    char path[300];
    size_t len;
    snprintf(path, sizeof path, "%s/cmd.out", g_dir);
    *out = tu_slurp(path, &len);
    snprintf(path, sizeof path, "%s/cmd.err", g_dir);
    *err = tu_slurp(path, &len);
    assert_non_null(*out);
    assert_non_null(*err);
    return rc;
}

/* Lines in s. */
static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static int setup(void **state)
{
    (void)state;
    g_tool = tu_tool();
    if (!g_tool || tu_tempdir(g_dir, sizeof g_dir, "browse"))
        return -1;
    snprintf(g_store, sizeof g_store, "%s/mm.db", g_dir);
    const char *args[] = {"run", "matmul", "--shape", "3x3x3", "--field", "gf2", "--evaluations",
                          "300", "--seed", "3", "--threads", "1", "--store", g_store, "--quiet",
                          NULL};
    return finish(start("run", args)) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

/* Each command's --help: its usage on stdout, exit 0; no store: one line, exit 2. */
static void test_help(void **state)
{
    (void)state;
    static const char *const cmds[] = {"list", "show", "diff", "lineage", "report", "watch"};
    char *out, *err, usage[64];
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        assert_int_equal(tool(&out, &err, (const char *[]){cmds[i], "--help", NULL}), 0);
        snprintf(usage, sizeof usage, "usage: ratchet %s STORE", cmds[i]);
        assert_non_null(strstr(out, usage));
        free(out), free(err);
        assert_int_equal(tool(&out, &err, (const char *[]){cmds[i], NULL}), 2);
        assert_int_equal(count_lines(err), 1);
        free(out), free(err);
    }
}

/* list: every row once; the filters keep only what they say; --top is best first. */
/* The next row of a `list --json` output at *at (one JSON object a line), moved past it; NULL
 * at the end. A line that is not JSON fails the test. */
static json_t *next_row(const char **at)
{
    while (**at == '\n')
        (*at)++;
    if (!**at)
        return NULL;
    size_t len = strcspn(*at, "\n");
    json_t *o = json_loadb(*at, len, 0, NULL);
    assert_non_null(o);
    *at += len;
    return o;
}

static void test_list(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(tool(&out, &err, (const char *[]){"list", g_store, "--json", NULL}), 0);
    int rows = count_lines(out);
    assert_true(rows > 100);
    json_t *last = json_loads(strrchr(out, '{'), 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(last, "id")), rows); /* ids 1..rows */
    json_decref(last);
    free(out), free(err);

    struct {
        const char *flag, *value, *key;
        json_t *want;
    } filters[] = {{"--admitted", NULL, "admitted", json_true()},
                   {"--rejected", NULL, "admitted", json_false()},
                   {"--island", "2", "island", json_integer(2)},
                   {"--operator", "walk", "operator", json_string("walk")}};
    for (size_t f = 0; f < sizeof filters / sizeof filters[0]; f++) {
        const char *args[] = {"list", g_store, "--json", filters[f].flag, filters[f].value, NULL};
        assert_int_equal(tool(&out, &err, args), 0);
        int n = 0;
        const char *at = out;
        for (json_t *o; (o = next_row(&at)); n++) {
            assert_true(json_equal(json_object_get(o, filters[f].key), filters[f].want));
            json_decref(o);
        }
        assert_true(n > 0 && n < rows);
        json_decref(filters[f].want);
        free(out), free(err);
    }

    assert_int_equal(tool(&out, &err, (const char *[]){"list", g_store, "--json", "--top", "5", NULL}), 0);
    assert_int_equal(count_lines(out), 5);
    double prev = 1e300;
    const char *at = out;
    for (json_t *o; (o = next_row(&at));) {
        double score = json_number_value(json_object_get(o, "score"));
        assert_true(json_is_true(json_object_get(o, "valid")) && score <= prev);
        prev = score;
        json_decref(o);
    }
    free(out), free(err);

    assert_int_equal(tool(&out, &err, (const char *[]){"list", g_store, "--last", "4", NULL}), 0);
    assert_int_equal(count_lines(out), 5); /* the header and the last 4 */
    long long first = strtoll(strchr(out, '\n') + 1, NULL, 10);
    assert_int_equal(first, rows - 3);
    free(out), free(err);
}

/* show, lineage and diff agree with each other and with the store. */
static void test_show_lineage_diff(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(tool(&out, &err, (const char *[]){"show", g_store, "best", "--json", NULL}), 0);
    json_t *best = json_loads(out, 0, NULL);
    assert_non_null(best);
    assert_true(json_is_true(json_object_get(best, "valid")));
    assert_true(json_is_true(json_object_get(best, "admitted")));
    const char *text = json_string_value(json_object_get(best, "text"));
    assert_non_null(strstr(text, "(a"));
    long long id = json_integer_value(json_object_get(best, "id"));
    free(out), free(err);

    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", id);
    assert_int_equal(tool(&out, &err, (const char *[]){"lineage", g_store, idtext, "--json", NULL}), 0);
    json_t *chain = json_loads(out, 0, NULL);
    size_t n = json_array_size(chain);
    assert_true(n >= 2);
    json_t *seed = json_array_get(chain, 0), *end = json_array_get(chain, n - 1);
    assert_string_equal(json_string_value(json_object_get(seed, "operator")), "seed");
    assert_int_equal(json_integer_value(json_object_get(end, "id")), id);
    for (size_t i = 1; i < n; i++) /* each step's parent is the step before */
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(chain, i), "parent")),
            json_string_value(json_object_get(json_array_get(chain, i - 1), "hash")));
    long long parent = json_integer_value(json_object_get(json_array_get(chain, n - 2), "id"));
    json_decref(chain);
    free(out), free(err);

    /* the diff to the parent is diff -u's, hunk for hunk */
    char pa[64], a_path[300], b_path[300], cmd[1000];
    snprintf(pa, sizeof pa, "%lld", parent);
    snprintf(a_path, sizeof a_path, "%s/a.txt", g_dir);
    snprintf(b_path, sizeof b_path, "%s/b.txt", g_dir);
    assert_int_equal(tool(&out, &err, (const char *[]){"show", g_store, pa, "--text", NULL}), 0);
    FILE *f = fopen(a_path, "w");
    fputs(out, f), fclose(f), free(out), free(err);
    f = fopen(b_path, "w");
    fputs(text, f), fclose(f);
    assert_int_equal(tool(&out, &err, (const char *[]){"diff", g_store, idtext, NULL}), 0);
    char head[200];
    snprintf(head, sizeof head, "--- candidate %lld\n+++ candidate %lld\n@@", parent, id);
    assert_memory_equal(out, head, strlen(head));
    snprintf(cmd, sizeof cmd, "diff -u %s %s | tail -n +3 > %s/ref.txt", a_path, b_path, g_dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/ref.txt", g_dir);
    size_t len;
    char *ref = tu_slurp(cmd, &len);
    assert_string_equal(strstr(out, "@@"), ref);
    free(ref), free(out), free(err);
    assert_int_equal(tool(&out, &err, (const char *[]){"diff", g_store, idtext, idtext, NULL}), 0);
    assert_string_equal(out, ""); /* equal texts: nothing */
    free(out), free(err);
    json_decref(best);
}

/* Applies a unified diff to a (as lines) and returns the result (caller frees). */
static char *apply_patch(const char *a, const char *diff)
{
    size_t cap = strlen(a) + strlen(diff) + 1, n = 0;
    char *out = malloc(cap);
    const char *ap = a;
    long aline = 1;
    const char *d = strstr(diff, "\n@@");
    while (d && (d = strstr(d, "@@ -"))) {
        char *comma = NULL;
        long start = strtol(d + 4, &comma, 10);
        if (*comma == ',' && strtol(comma + 1, NULL, 10) == 0)
            start++; /* an empty old range names the line before it */
        while (aline < start) { /* copy untouched lines */
            const char *e = strchr(ap, '\n');
            size_t l = (size_t)(e - ap) + 1;
            memcpy(out + n, ap, l), n += l, ap += l, aline++;
        }
        d = strchr(d, '\n') + 1;
        while (*d && *d != '@') {
            const char *e = strchr(d, '\n');
            size_t l = (size_t)(e - d);
            if (*d == ' ' || *d == '-') { /* consume the old line */
                ap = strchr(ap, '\n') + 1, aline++;
            }
            if (*d == ' ' || *d == '+')
                memcpy(out + n, d + 1, l - 1), n += l - 1, out[n++] = '\n';
            d = e + 1;
        }
    }
    size_t rest = strlen(ap);
    memcpy(out + n, ap, rest), n += rest;
    out[n] = '\0';
    return out;
}

/* rt_text_diff on random texts: the patch it prints turns a into b. */
static void test_diff_property(void **state)
{
    (void)state;
    srand(7);
    char a[4096], b[4096];
    for (int round = 0; round < 400; round++) {
        size_t na = 0, nb = 0;
        int lines = rand() % 40;
        for (int i = 0; i < lines; i++) {
            int v = rand() % 6;
            na += (size_t)snprintf(a + na, sizeof a - na, "line %d\n", v);
            int r = rand() % 4;
            if (r == 0)
                continue; /* deleted */
            nb += (size_t)snprintf(b + nb, sizeof b - nb, "line %d\n", r == 1 ? rand() % 6 : v);
            if (rand() % 5 == 0)
                nb += (size_t)snprintf(b + nb, sizeof b - nb, "new %d\n", rand() % 3);
        }
        a[na] = b[nb] = '\0';
        char *d = NULL;
        assert_int_equal(rt_text_diff(a, b, "a", "b", &d), 0);
        if (strcmp(a, b) == 0) {
            assert_string_equal(d, "");
        } else {
            char *got = apply_patch(a, d);
            if (strcmp(got, b) != 0)
                fail_msg("round %d: the diff does not turn a into b:\n%s---\n%s---\n%s", round, a,
                         b, d);
            free(got);
        }
        free(d);
    }
}

/* Reads the data of a report page back (the JSON between the data element's tags). */
static json_t *report_data(const char *page)
{
    const char *open_tag = "<script id=\"data\" type=\"application/json\">";
    const char *s = strstr(page, open_tag);
    assert_non_null(s);
    s += strlen(open_tag);
    const char *e = strstr(s, "</script>");
    assert_non_null(e);
    json_error_t jerr;
    json_t *o = json_loadb(s, (size_t)(e - s), 0, &jerr);
    if (!o)
        fail_msg("report data: %s", jerr.text);
    return o;
}

/* The report of the run: the figures' data are there and agree with the store; no URL. */
static void test_report(void **state)
{
    (void)state;
    char page_path[300], *out, *err;
    snprintf(page_path, sizeof page_path, "%s/r.html", g_dir);
    assert_int_equal(tool(&out, &err, (const char *[]){"report", g_store, "-o", page_path, NULL}), 0);
    free(out), free(err);
    size_t len;
    char *page = tu_slurp(page_path, &len);
    assert_non_null(page);
    assert_null(strstr(page, "://")); /* no network reference of any scheme */
    assert_null(strstr(page, " src="));
    assert_null(strstr(page, "url("));
    json_t *d = report_data(page);
    json_t *s = json_object_get(d, "summary");
    long long stored = json_integer_value(json_object_get(s, "stored"));
    assert_true(stored > 100);
    json_t *count = json_object_get(json_object_get(d, "bins"), "count");
    double sum = 0;
    for (size_t i = 0; i < json_array_size(count); i++)
        sum += json_number_value(json_array_get(count, i));
    assert_true(sum == (double)stored);
    assert_true(json_array_size(json_object_get(d, "best_steps")) > 0);
    assert_true(json_array_size(json_object_get(d, "lineage")) >= 2);
    assert_true(json_array_size(json_object_get(d, "grid")) > 0);
    assert_true(json_array_size(json_object_get(d, "top")) > 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "picture"), "kind")),
                        "matmul");
    assert_string_equal(json_string_value(json_object_get(s, "metric_name")), "rank");
    /* drift per tenth, counted in the report's one pass, is status's (rt_store_drift's SQL) */
    assert_int_equal(tool(&out, &err, (const char *[]){"status", g_store, "--json", NULL}), 0);
    json_t *st = json_loads(out, 0, NULL), *want = json_object_get(json_object_get(st, "drift"), "tenths");
    json_t *got = json_object_get(json_object_get(d, "tenths"), "drift");
    assert_int_equal(json_array_size(got), json_array_size(want));
    assert_true(json_array_size(got) > 0);
    for (size_t k = 0; k < json_array_size(got); k++) {
        json_t *g = json_array_get(got, k), *w = json_array_get(want, k);
        assert_int_equal(json_integer_value(json_object_get(g, "from")),
                         json_integer_value(json_array_get(json_object_get(w, "generations"), 0)));
        assert_int_equal(json_integer_value(json_object_get(g, "to")),
                         json_integer_value(json_array_get(json_object_get(w, "generations"), 1)));
        assert_true(json_number_value(json_object_get(g, "candidates")) ==
                    json_number_value(json_object_get(w, "candidates")));
        assert_true(json_number_value(json_object_get(g, "overclaims")) ==
                    json_number_value(json_object_get(w, "overclaims")));
        assert_true(fabs(json_number_value(json_object_get(g, "mean_gap")) -
                         json_number_value(json_object_get(w, "mean_gap"))) < 1e-9);
    }
    json_decref(st);
    free(out), free(err);
    json_decref(d);
    free(page);
}

/* A store just created, before any candidate: a valid page that says so. */
static void test_report_empty(void **state)
{
    (void)state;
    char path[300], page_path[300], *out, *err;
    snprintf(path, sizeof path, "%s/empty.db", g_dir);
    snprintf(page_path, sizeof page_path, "%s/empty.html", g_dir);
    rt_problem *pb = NULL;
    rt_error e = {0};
    const char *keys[] = {"shape", "field"}, *values[] = {"2x2x2", "gf2"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 2, &e), 0);
    rt_run *run = NULL;
    rt_run_options opt;
    memset(&opt, 0, sizeof opt);
    opt.islands = 2;
    assert_int_equal(rt_run_create(&run, path, pb, &opt, &e), 0);
    rt_run_close(run);
    rt_problem_close(pb);
    assert_int_equal(tool(&out, &err, (const char *[]){"report", path, "-o", page_path, NULL}), 0);
    free(out), free(err);
    size_t len;
    char *page = tu_slurp(page_path, &len);
    json_t *d = report_data(page);
    /* a run is created with its seed stored: the page says it holds only that */
    long long stored = json_integer_value(json_object_get(json_object_get(d, "summary"), "stored"));
    assert_true(stored == 0 || stored == 1);
    assert_non_null(strstr(page, stored ? "only the run's first candidate" : "has no candidates yet"));
    json_decref(d);
    free(page);
    assert_int_equal(tool(&out, &err, (const char *[]){"list", path, NULL}), 0);
    assert_int_equal(count_lines(out), 1 + (int)stored); /* the header, and the seed */
    free(out), free(err);
}

/* Bad input: one line on stderr, exit 2. */
static void test_bad_input(void **state)
{
    (void)state;
    char notstore[300], *out, *err;
    snprintf(notstore, sizeof notstore, "%s/not.db", g_dir);
    FILE *f = fopen(notstore, "w");
    fputs("this is not a database\n", f);
    fclose(f);
    const char *const cases[][6] = {
        {"list", notstore, NULL},
        {"show", notstore, "1", NULL},
        {"report", notstore, "-o", "x.html", NULL},
        {"watch", notstore, NULL},
        {"list", "/nonexistent/store.db", NULL},
        {"show", g_store, "999999", NULL},
        {"show", g_store, "abc", NULL},
        {"diff", g_store, "1", NULL}, /* the seed has no parent */
        {"lineage", g_store, "0", NULL},
        {"diff", g_store, "1", "999999", NULL},
        {"report", g_store, "-o", "/nonexistent/folder/r.html", NULL},
        {"list", g_store, "--admitted", "--rejected", NULL},
        {"list", g_store, "--island", "99", NULL},
        {"show", g_store, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = tool(&out, &err, cases[i]);
        if (rc != 2 || count_lines(err) != 1)
            fail_msg("case %zu (%s %s): exit %d, stderr:\n%s", i, cases[i][0],
                     cases[i][2] ? cases[i][2] : "", rc, err);
        free(out), free(err);
    }
    assert_int_equal(tool(&out, &err, (const char *[]){"show", g_store, "999999", NULL}), 2);
    assert_non_null(strstr(err, "no candidate 999999"));
    free(out), free(err);
    assert_int_equal(tool(&out, &err, (const char *[]){"report", g_store, "-o", "/nonexistent/folder/r.html", NULL}), 2);
    assert_non_null(strstr(err, "/nonexistent/folder/r.html"));
    free(out), free(err);
}

/* Starts a matmul run of a few seconds on a new store; returns its pid once it holds the store. */
static pid_t start_run(const char *store, const char *seconds)
{
    const char *args[] = {"run", "matmul", "--shape", "4x4x4", "--field", "gf2", "--seconds",
                          seconds, "--threads", "1", "--store", store, "--quiet", NULL};
    pid_t pid = start("bg", args);
    for (int i = 0; i < 200 && rt_store_running(store) != 1; i++)
        usleep(50000);
    assert_int_equal(rt_store_running(store), 1);
    return pid;
}

/* watch follows a running run and ends when it does. */
static void test_watch_ends_with_run(void **state)
{
    (void)state;
    char store[300], path[300];
    snprintf(store, sizeof store, "%s/w1.db", g_dir);
    pid_t run = start_run(store, "3");
    pid_t w = start("watch", (const char *[]){"watch", store, "--interval", "0.3", NULL});
    assert_int_equal(finish(run), 0);
    assert_int_equal(finish(w), 0);
    snprintf(path, sizeof path, "%s/watch.out", g_dir);
    size_t len;
    char *out = tu_slurp(path, &len);
    int frames = 0;
    for (const char *p = out; (p = strstr(p, "ratchet watch")); p++)
        frames++;
    assert_true(frames >= 3);
    assert_non_null(strstr(out, "  running\n"));
    assert_non_null(strstr(out, "best       "));
    assert_non_null(strstr(out, "progress   "));
    assert_non_null(strstr(out, "last admissions:"));
    assert_non_null(strstr(out, "  not running\n")); /* the last frame, after the run */
    assert_non_null(strstr(out, "the run is not writing the store: done"));
    free(out);
    assert_int_equal(rt_store_running(store), 0);
}

/* Ctrl-C ends watch cleanly while the run goes on. */
static void test_watch_ctrl_c(void **state)
{
    (void)state;
    char store[300], path[300];
    snprintf(store, sizeof store, "%s/w2.db", g_dir);
    pid_t run = start_run(store, "8");
    pid_t w = start("watch2", (const char *[]){"watch", store, "--interval", "0.2", NULL});
    usleep(800000);
    kill(w, SIGINT);
    assert_int_equal(finish(w), 0);
    assert_int_equal(rt_store_running(store), 1); /* the run is still going */
    assert_int_equal(finish(run), 0);
    snprintf(path, sizeof path, "%s/watch2.out", g_dir);
    size_t len;
    char *out = tu_slurp(path, &len);
    assert_non_null(strstr(out, "stopped watching (Ctrl-C)"));
    free(out);
}

/* list --model: the children of one language model, matched through its requests. */
static void test_list_model(void **state)
{
    (void)state;
    char path[300], err_text[512], hash[65], text[64], *out, *err;
    snprintf(path, sizeof path, "%s/llm.db", g_dir);
    rt_run_config cfg = {.problem = "matmul", .params = "shape=2x2x2 field=gf2", .seed = 1,
                         .islands = 2, .proposer = "llm"};
    rt_db *db = NULL;
    rt_checkpoint cp = {.sessions = 1};
    assert_int_equal(rt_db_create(&db, path, &cfg, err_text, sizeof err_text), 0);
    assert_int_equal(rt_db_save_checkpoint(db, &cp, NULL, 0), 0);
    assert_int_equal(rt_db_publish(&db, err_text, sizeof err_text), 0);
    assert_int_equal(rt_db_begin(db), 0);
    for (int i = 1; i <= 40; i++) { /* row i: island i % 2, generation i / 2, model b when i % 5 == 0 */
        snprintf(text, sizeof text, "candidate %d\n", i);
        snprintf(hash, sizeof hash, "%064d", i);
        rt_cand_row row = {.hash = hash, .text = text, .len = strlen(text), .op = "llm-diff",
                           .island = i % 2, .generation = i / 2, .valid = 1, .verified = {1, 1},
                           .metric = 1, .time = i};
        long long id;
        assert_int_equal(rt_db_insert(db, &row, &id), 0);
        rt_llm_row req = {.at = 1e9 + i, .island = i % 2, .generation = i / 2,
                          .model = i % 5 ? "model-a" : "model-b", .mode = "diff", .outcome = "ok",
                          .made = 1};
        assert_int_equal(rt_db_llm_insert(db, &req), 0);
    }
    assert_int_equal(rt_db_commit(db), 0);
    rt_db_close(db);
    assert_int_equal(tool(&out, &err, (const char *[]){"list", path, "--json", "--model", "model-b", NULL}), 0);
    assert_int_equal(count_lines(out), 8);
    const char *at = out;
    for (json_t *o; (o = next_row(&at));) {
        assert_int_equal(json_integer_value(json_object_get(o, "id")) % 5, 0);
        json_decref(o);
    }
    free(out), free(err);
    assert_int_equal(tool(&out, &err, (const char *[]){"list", g_store, "--model", "model-b", NULL}), 0);
    assert_int_equal(count_lines(out), 1); /* a run without requests: none */
    free(out), free(err);
}

/* The circle-packing picture's reader on 20000 mutations of a good one: it never fails
 * otherwise than with RT_EUSAGE, and what it passes is a circles picture of finite numbers. */
static void test_picture_reader(void **state)
{
    (void)state;
    static const char good[] =
        "{\"stderr_tail\":\"x\",\"picture\":{\"kind\":\"circles\",\"box\":[0,0,1,1],"
        "\"circles\":[[0.5,0.5,0.25],[0.1,0.1,0.05]],\"extra\":\"<script>\"}}";
    static const char alphabet[] = "{}[],:\"0123456789.-eE+ abcNnIi<>";
    char buf[sizeof good + 32];
    srand(11);
    int passed = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, good, sizeof good);
        for (int k = rand() % 4; k >= 0 && round; k--)
            buf[rand() % (int)(sizeof good - 1)] = alphabet[rand() % (int)(sizeof alphabet - 1)];
        rt_buf out;
        rt_buf_init(&out, 0);
        int rc = rt_program_picture(buf, &out);
        if (rc == 0) {
            json_t *p = json_loadb(out.data, out.len, 0, NULL), *c;
            assert_non_null(p);
            assert_string_equal(json_string_value(json_object_get(p, "kind")), "circles");
            assert_null(json_object_get(p, "extra")); /* nothing but the numbers */
            size_t i;
            json_array_foreach(json_object_get(p, "circles"), i, c)
                for (size_t j = 0; j < 3; j++)
                    assert_true(json_is_number(json_array_get(c, j)));
            json_decref(p);
            passed++;
        } else {
            assert_int_equal(rc, RT_EUSAGE);
        }
        rt_buf_free(&out);
    }
    assert_true(passed > 100); /* the unmutated one and harmless mutations pass */
    rt_buf none;
    rt_buf_init(&none, 0);
    assert_int_equal(rt_program_picture(NULL, &none), RT_EUSAGE);
    assert_int_equal(rt_program_picture("{\"picture\":{\"kind\":\"svg\"}}", &none), RT_EUSAGE);
    rt_buf_free(&none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_show_lineage_diff),
        cmocka_unit_test(test_diff_property),
        cmocka_unit_test(test_picture_reader),
        cmocka_unit_test(test_list_model),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_report_empty),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_watch_ends_with_run),
        cmocka_unit_test(test_watch_ctrl_c),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
