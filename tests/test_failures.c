/* test_failures.c — failures are visible: counted by cause, shown by `status` and at the end of
 * a run, a run of them ends the run with exit 1, and a proposer that can make nothing is refused
 * before the run starts (docs/scheduling.md, "Failures").
 *
 * What would break these tests: a run whose proposer command exits 1 every time ending with exit
 * 0 and "N evaluations" (it did: 304); a model server that refuses connections going unnoticed
 * (it did: exit 0, "13540 without a usable edit"); the builtin proposer busy-looping on a program
 * without annotations (2,457,132 "evaluations" of one candidate); the first evaluation's failure
 * reported without the evaluator's stderr; `status` counting proposals as evaluations or losing
 * the causes; the failure table's reader crashing on a damaged store.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "failures.h"
#include "ratchet.h"
#include "rng.h"
#include "testutil.h"

#define DATA "tests/data/program/"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    return tu_tempdir(tmpdir, sizeof tmpdir, "failures");
}

static int teardown_dir(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

/* Runs the tool with args (NULL-terminated) to its end (killed after limit seconds: -1);
 * stdout and stderr land in tmpdir/tag.out and tag.err. Returns the exit status. */
static int run_tool(const char *tag, const char *const *args, double limit)
{
    int pid = tu_spawn_tool(tmpdir, tag, args);
    assert_true(pid > 0);
    return tu_wait(pid, limit);
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

/* Lines in s. */
static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static json_t *status_json(const char *store)
{
    const char *args[] = {"status", store, "--json", NULL};
    assert_int_equal(run_tool("status", args, 60), 0);
    char *out = read_out("status", "out");
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(j);
    return j;
}

static long long json_ll(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/* The largest cause of the store's failure table, and its count. */
static const char *top_cause(json_t *status, long long *count)
{
    json_t *c = json_array_get(json_object_get(json_object_get(status, "failures"), "causes"), 0);
    assert_non_null(c);
    *count = json_ll(c, "count");
    return json_string_value(json_object_get(c, "cause"));
}

/* `--proposer command --command /bin/false`: exit 1 after engine.stop_after_failures (20) of
 * them in a row, with the cause in one line, long before the time budget; `status` counts 0
 * evaluations and the proposals apart. */
static void a_failing_command_ends_the_run(void **state)
{
    (void)state;
    char store[512];
    snprintf(store, sizeof store, "%s/false.db", tmpdir);
    const char *args[] = {"run", "program", "--initial", DATA "tiny.txt", "--evaluator",
                          DATA "evaluate.sh", "--proposer", "command", "--command", "/bin/false",
                          "--seconds", "60", "--store", store, "--quiet", NULL};
    double t0 = tu_now();
    assert_int_equal(run_tool("false", args, 90), 1);
    assert_true(tu_now() - t0 < 30);
    char *err = read_out("false", "err");
    assert_int_equal(count_lines(err), 1);
    assert_non_null(strstr(err, "20 failures in a row: command exited with status 1"));
    free(err);
    json_t *st = status_json(store);
    assert_int_equal(json_ll(st, "evaluated"), 0);
    assert_true(json_ll(st, "proposals") >= 20);
    long long n;
    assert_string_equal(top_cause(st, &n), "command exited with status 1");
    assert_true(n >= 20);
    json_decref(st);
    /* the text status says the same */
    const char *text[] = {"status", store, NULL};
    assert_int_equal(run_tool("status_text", text, 60), 0);
    char *out = read_out("status_text", "out");
    assert_non_null(strstr(out, "0 evaluated"));
    assert_non_null(strstr(out, "x command exited with status 1"));
    free(out);
}

/* A proposer command's stderr tail is the failure's detail: in the exit line and in status. */
static void a_command_s_stderr_is_shown(void **state)
{
    (void)state;
    char store[512];
    snprintf(store, sizeof store, "%s/noisy.db", tmpdir);
    const char *args[] = {"run", "program", "--initial", DATA "tiny.txt", "--evaluator",
                          DATA "evaluate.sh", "--proposer", "command", "--command",
                          DATA "noisy_fail_propose.sh", "--seconds", "60", "--store", store,
                          "--quiet", NULL};
    assert_int_equal(run_tool("noisy", args, 90), 1);
    char *err = read_out("noisy", "err");
    assert_non_null(strstr(err, "OPENAI_API_KEY is not set"));
    free(err);
    json_t *st = status_json(store);
    json_t *c = json_array_get(json_object_get(json_object_get(st, "failures"), "causes"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(c, "detail")),
                           "OPENAI_API_KEY is not set"));
    json_decref(st);
}

/* A port on which nothing listens (bound, read, closed). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* An llm URL with nothing listening: the run ends at once with exit 1 naming the refused
 * connection and the URL (until a server has answered, a refused connection is not retried). */
static void a_refused_llm_connection_ends_the_run(void **state)
{
    (void)state;
    char store[512], url[64];
    snprintf(store, sizeof store, "%s/llm.db", tmpdir);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", closed_port());
    const char *args[] = {"run", "program", "--initial", DATA "tiny.txt", "--evaluator",
                          DATA "evaluate.sh", "--proposer", "llm", "--llm-url", url, "--model",
                          "m", "--seconds", "60", "--store", store, "--quiet", NULL};
    double t0 = tu_now();
    assert_int_equal(run_tool("llm", args, 90), 1);
    assert_true(tu_now() - t0 < 10);
    char *err = read_out("llm", "err");
    assert_int_equal(count_lines(err), 1);
    assert_non_null(strstr(err, "failures in a row: llm connect"));
    assert_non_null(strstr(err, url));
    free(err);
}

/* The builtin proposer on a program whose one annotation has two values: once both are seen,
 * every child is a duplicate. The run used to spin through a hundred thousand proposals a second
 * until its deadline and exit 0; it ends after engine.stop_after_nothing_new (10000) proposals in
 * a row without a new candidate, exit 1, one line saying so, the duplicates counted. */
static void builtin_spinning_on_duplicates_ends_the_run(void **state)
{
    (void)state;
    char program[512], store[512];
    snprintf(program, sizeof program, "%s/two.txt", tmpdir);
    snprintf(store, sizeof store, "%s/two.db", tmpdir);
    FILE *f = fopen(program, "w");
    assert_non_null(f);
    fputs("x = 1\nmode = \"a\"  # ratchet: choice a|b\n", f);
    fclose(f);
    const char *args[] = {"run", "program", "--initial", program, "--evaluator",
                          DATA "evaluate.sh", "--seconds", "30", "--store", store, "--quiet",
                          NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(run_tool("two", args, 60), 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    assert_true(took < 20); /* long before its deadline */
    char *err = read_out("two", "err");
    assert_int_equal(count_lines(err), 1);
    assert_non_null(strstr(err, "10000 proposals in a row made no new candidate (10000 "
                                "duplicates"));
    free(err);
    json_t *st = status_json(store);
    assert_true(json_ll(st, "duplicates") >= 10000);
    json_decref(st);
}

/* The builtin proposer on a program without annotations: exit 2 before anything starts (no
 * store), one line that says why. */
static void builtin_without_annotations_is_refused(void **state)
{
    (void)state;
    char store[512];
    snprintf(store, sizeof store, "%s/plain.db", tmpdir);
    const char *args[] = {"run", "program", "--initial", DATA "plain.txt", "--evaluator",
                          DATA "evaluate.sh", "--seconds", "5", "--store", store, "--quiet",
                          NULL};
    assert_int_equal(run_tool("plain", args, 60), 2);
    char *err = read_out("plain", "err");
    assert_int_equal(count_lines(err), 1);
    assert_non_null(strstr(err, "no `ratchet:` annotation"));
    free(err);
    struct stat sb;
    assert_int_not_equal(stat(store, &sb), 0);
}

/* The initial program's evaluation fails: the error shows the end of the evaluator's stderr. */
static void the_first_evaluator_error_shows_its_stderr(void **state)
{
    (void)state;
    char store[512];
    snprintf(store, sizeof store, "%s/numpy.db", tmpdir);
    const char *args[] = {"run", "program", "--initial", DATA "tiny.txt", "--evaluator",
                          DATA "missing_module_evaluate.sh", "--seconds", "5", "--store", store,
                          "--quiet", NULL};
    assert_int_equal(run_tool("numpy", args, 60), 1);
    char *err = read_out("numpy", "err");
    assert_int_equal(count_lines(err), 1);
    assert_non_null(strstr(err, "evaluator exited with status 1"));
    assert_non_null(strstr(err, "No module named 'numpy'"));
    free(err);
}

/* A run with some failures (propose.sh's every third reply does not apply): status counts
 * proposals, evaluations, duplicates and failures apart, and they add up; the end line says
 * evaluations and proposals. */
static void status_counts_proposals_and_evaluations_apart(void **state)
{
    (void)state;
    char store[512];
    snprintf(store, sizeof store, "%s/mixed.db", tmpdir);
    const char *args[] = {"run", "program", "--initial", DATA "tiny.txt", "--evaluator",
                          DATA "evaluate.sh", "--proposer", "command", "--command",
                          DATA "propose.sh", "--evaluations", "24", "--jobs", "1", "--store",
                          store, "--quiet", NULL};
    assert_int_equal(run_tool("mixed", args, 120), 0);
    char *out = read_out("mixed", "out");
    assert_non_null(strstr(out, " evaluations (24 proposals)"));
    free(out);
    json_t *st = status_json(store);
    long long proposals = json_ll(st, "proposals"), evaluated = json_ll(st, "evaluated");
    long long failed = json_ll(st, "failed"), dups = json_ll(st, "duplicates");
    assert_int_equal(proposals, 24);
    assert_true(failed >= 4 && evaluated >= 4);
    assert_int_equal(evaluated + failed + dups, proposals);
    long long n;
    const char *cause = top_cause(st, &n);
    assert_non_null(strstr(cause, "command reply rejected"));
    assert_int_equal(n, failed);
    json_decref(st);
}

/* ---- the failure table ------------------------------------------------------------------- */

/* Streaks follow one cause and end on a success or another cause; the JSON reads back; random
 * and mutated texts never crash the reader (it reads a store's bytes). */
static void failure_table_counts_streaks_and_reads_back(void **state)
{
    (void)state;
    rt_failures f;
    rt_failures_init(&f);
    assert_int_equal(rt_failures_add(&f, "a", "x"), 1);
    assert_int_equal(rt_failures_add(&f, "a", "y"), 2);
    assert_int_equal(rt_failures_add(&f, "b", NULL), 1);
    assert_int_equal(rt_failures_add(&f, "a", ""), 1);
    rt_failures_success(&f);
    assert_int_equal(rt_failures_add(&f, "a", "z\nline"), 1);
    assert_int_equal(rt_failures_total(&f), 5);
    for (int i = 0; i < RT_FAILURE_CAUSES + 5; i++) {
        char c[16];
        snprintf(c, sizeof c, "c%d", i);
        rt_failures_add(&f, c, NULL);
    }
    assert_int_equal(f.n, RT_FAILURE_CAUSES);
    assert_true(f.other > 0);
    f.cut = 3;
    rt_buf b;
    rt_buf_init(&b, 0);
    assert_int_equal(rt_failures_to_json(&f, &b), 0);
    rt_failures g;
    assert_int_equal(rt_failures_from_json(&g, b.data, b.len), 0);
    assert_int_equal(g.n, f.n);
    assert_int_equal(g.cut, 3);
    assert_int_equal(g.other, f.other);
    assert_int_equal(rt_failures_total(&g), rt_failures_total(&f));
    assert_string_equal(g.causes[0].cause, "a"); /* largest first */
    assert_string_equal(g.causes[0].detail, "z line");
    rt_rng rng;
    rt_rng_seed(&rng, 17, 0);
    char *text = malloc(b.len + 1);
    assert_non_null(text);
    for (int k = 0; k < 20000; k++) {
        size_t len = b.len;
        memcpy(text, b.data, len);
        int edits = 1 + (int)rt_rng_below(&rng, 8);
        for (int e = 0; e < edits; e++)
            text[rt_rng_below(&rng, (uint32_t)len)] = (char)rt_rng_below(&rng, 256);
        if (k % 4 == 0)
            len = rt_rng_below(&rng, (uint32_t)len + 1);
        int rc = rt_failures_from_json(&g, text, len);
        assert_true(rc == 0 || rc == RT_ESTORE);
        assert_true(g.n >= 0 && g.n <= RT_FAILURE_CAUSES);
        if (rc)
            assert_int_equal(g.n, 0);
    }
    free(text);
    rt_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failure_table_counts_streaks_and_reads_back),
        cmocka_unit_test_setup_teardown(a_failing_command_ends_the_run, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(a_command_s_stderr_is_shown, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(a_refused_llm_connection_ends_the_run, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(builtin_spinning_on_duplicates_ends_the_run, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(builtin_without_annotations_is_refused, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(the_first_evaluator_error_shows_its_stderr, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(status_counts_proposals_and_evaluations_apart,
                                        setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
