/* test_openevolve.c — evaluators written for OpenEvolve, run unchanged through ratchet's shim
 * (program_openevolve.h, docs/migrating.md), and MAP-Elites features from evaluator metrics
 * (program_features.h).
 *
 * Runs from the repository root with the tool ($RATCHET, default build/ratchet) under
 * `timeout`; needs Debian's /usr/bin/python3. Stores live in one mkdtemp folder removed at the
 * end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "problem.h"
#include "problems/program/program_features.h"
#include "testutil.h"

static char g_dir[256];

/* Runs the tool with args (a shell fragment); its exit status, and its output (stdout and
 * stderr together, caller frees) in *out when out is not NULL. */
static int tool(const char *args, char **out)
{
    char file[512], cmd[4096];
    snprintf(file, sizeof file, "%s/out.txt", g_dir);
    snprintf(cmd, sizeof cmd, "timeout 300 %s %s >%s 2>&1", tu_tool(), args, file);
    int st = system(cmd);
    if (out) {
        size_t n = 0;
        *out = tu_slurp(file, &n);
        assert_non_null(*out);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long long query(const char *path, const char *q)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", q, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static int setup(void **state)
{
    (void)state;
    return tu_tempdir(g_dir, sizeof g_dir, "openevolve") || !tu_tool() ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

/* The largest cell count of an island in `ratchet status` ("island 2     8 admitted, 6 cells"). */
static int most_cells(const char *status)
{
    int most = 0;
    for (const char *p = status; (p = strstr(p, " cells")) != NULL; p++) {
        const char *q = p;
        while (q > status && q[-1] >= '0' && q[-1] <= '9')
            q--;
        int n = (int)strtol(q, NULL, 10);
        most = n > most ? n : most;
    }
    return most;
}

/* The example in OpenEvolve's layout (examples/openevolve_style): its evaluator.py is a module,
 * not a program; ratchet runs it through the shim, stores its metrics, admits on the re-run,
 * and places candidates in cells of the metrics named by `features` (ratchet.ini). Before, the
 * evaluator was refused (not executable) and every island had one cell per size class. */
static void example_runs_with_metric_features(void **state)
{
    (void)state;
    char store[512], args[1024];
    snprintf(store, sizeof store, "%s/example.db", g_dir);
    snprintf(args, sizeof args,
             "run program --initial examples/openevolve_style/initial_program.py "
             "--evaluations 40 --seed 1 --quiet --store %s",
             store);
    char *out = NULL;
    if (tool(args, &out) != 0)
        fail_msg("run failed: %s", out);
    free(out);
    snprintf(args, sizeof args, "status %s", store);
    assert_int_equal(tool(args, &out), 0);
    assert_non_null(strstr(out, "evaluator-api=openevolve"));
    assert_non_null(strstr(out, "features=calls:10:0:60,digits:8:0:16"));
    assert_true(most_cells(out) >= 3);
    free(out);
    /* the evaluator's own metrics are stored, its score is their combined_score, and what it
     * printed went to stderr (artifacts), not into the report */
    assert_true(query(store, "SELECT count(*) FROM candidates WHERE admitted=1") > 5);
    assert_int_equal(query(store, "SELECT count(*) FROM candidates c JOIN evaluations e ON "
                                  "e.cand_id=c.id WHERE c.valid=1 AND "
                                  "json_extract(e.metrics,'$.combined_score') <> c.proxy"),
                     0);
    assert_int_equal(query(store, "SELECT count(*) FROM candidates c JOIN evaluations e ON "
                                  "e.cand_id=c.id WHERE json_extract(e.metrics,'$.calls') IS "
                                  "NULL OR json_extract(e.artifacts,'$.stderr_tail') NOT LIKE "
                                  "'%max error%'"),
                     0);
    /* a certificate carries the shim and says how to run the evaluator through it */
    snprintf(args, sizeof args, "best %s --certificate %s/cert", store, g_dir);
    assert_int_equal(tool(args, NULL), 0);
    char readme[512];
    snprintf(readme, sizeof readme, "%s/cert/README.txt", g_dir);
    size_t n = 0;
    char *text = tu_slurp(readme, &n);
    assert_non_null(text);
    assert_non_null(strstr(text, "/usr/bin/python3 ratchet_openevolve.py "));
    free(text);
    snprintf(readme, sizeof readme, "%s/cert/ratchet_openevolve.py", g_dir);
    text = tu_slurp(readme, &n);
    assert_non_null(text);
    assert_non_null(strstr(text, "def evaluate(path, candidate)"));
    free(text);
    /* the cells follow the metrics: different call counts in different cells of an island */
    assert_true(query(store, "SELECT count(DISTINCT json_extract(e.metrics,'$.calls')) FROM "
                             "archive a JOIN evaluations e ON e.cand_id=a.cand_id WHERE "
                             "a.island=0") >= 2);
}

/* Every kind of result of an OpenEvolve evaluator in one run (tests/data/openevolve): a dict, an
 * EvaluationResult with text and bytes artifacts, an exception (a failed evaluation with its
 * traceback), a value of the wrong type; a NaN metric stored as null, a text metric kept, and a
 * report-like line the evaluator printed never taken for the report. */
static void every_kind_of_result(void **state)
{
    (void)state;
    char store[512], args[1024];
    snprintf(store, sizeof store, "%s/kinds.db", g_dir);
    snprintf(args, sizeof args,
             "run program --initial tests/data/openevolve/candidate.py --evaluator "
             "tests/data/openevolve/evaluator.py --evaluations 40 --seed 2 --quiet --store %s",
             store);
    char *out = NULL;
    if (tool(args, &out) != 0)
        fail_msg("run failed: %s", out);
    free(out);
    assert_int_equal(query(store, "SELECT count(*) FROM candidates WHERE proxy > 1"), 0);
    assert_true(query(store, "SELECT count(*) FROM candidates c JOIN evaluations e ON "
                             "e.cand_id=c.id WHERE c.admitted=1 AND "
                             "json_extract(e.artifacts,'$.log')='an artifact' AND "
                             "json_extract(e.artifacts,'$.raw') LIKE 'bytes %'") > 0);
    assert_true(query(store, "SELECT count(*) FROM candidates c JOIN evaluations e ON "
                             "e.cand_id=c.id WHERE c.valid=0 AND c.reason LIKE 'evaluation "
                             "failed: evaluator exited with status 1' AND e.artifacts LIKE "
                             "'%RuntimeError: the evaluator failed on purpose%'") > 0);
    assert_true(query(store, "SELECT count(*) FROM candidates c JOIN evaluations e ON "
                             "e.cand_id=c.id WHERE c.valid=0 AND e.artifacts LIKE '%returned "
                             "list, not a dict or an EvaluationResult%'") > 0);
    assert_int_equal(query(store, "SELECT count(*) FROM candidates c JOIN evaluations e ON "
                                  "e.cand_id=c.id WHERE c.valid=1 AND NOT ("
                                  "json_type(e.metrics,'$.nan_metric')='null' AND "
                                  "json_extract(e.metrics,'$.note')='text metrics are kept')"),
                     0);
}

/* Cascade stages: stage k runs evaluate_stagek when the module has it, else evaluate(). */
static void cascade_stages(void **state)
{
    (void)state;
    char store[512], args[1024];
    snprintf(store, sizeof store, "%s/cascade.db", g_dir);
    snprintf(args, sizeof args,
             "run program --initial tests/data/openevolve/candidate.py --evaluator "
             "tests/data/openevolve/evaluator.py --cascade 3 --cascade-threshold 0 "
             "--evaluations 1 --quiet --store %s",
             store);
    char *out = NULL;
    if (tool(args, &out) != 0)
        fail_msg("run failed: %s", out);
    free(out);
    assert_int_equal(query(store, "SELECT count(*) FROM evaluations WHERE "
                                  "json_extract(metrics,'$.which')='stage3'"),
                     1);
    snprintf(store, sizeof store, "%s/cascade2.db", g_dir);
    snprintf(args, sizeof args,
             "run program --initial tests/data/openevolve/candidate.py --evaluator "
             "tests/data/openevolve/evaluator.py --cascade 2 --cascade-threshold 0 "
             "--evaluations 1 --quiet --store %s",
             store);
    assert_int_equal(tool(args, NULL), 0);
    assert_int_equal(query(store, "SELECT count(*) FROM evaluations WHERE "
                                  "json_extract(metrics,'$.which')='evaluate'"),
                     1);
}

/* Without combined_score the score is the mean of the numeric metrics that are not features
 * (as OpenEvolve ranks), and a feature the metrics lack fails the evaluation by name. */
static void score_without_combined_and_missing_feature(void **state)
{
    (void)state;
    char cand[512], store[512], args[1536];
    snprintf(cand, sizeof cand, "%s/nocombined.py", g_dir);
    FILE *f = fopen(cand, "w");
    assert_non_null(f);
    fputs("# EVOLVE-BLOCK-START\nVALUE = 0.5  # ratchet: real 0 1\nMODE = \"nocombined\"\n"
          "# EVOLVE-BLOCK-END\n",
          f);
    fclose(f);
    snprintf(store, sizeof store, "%s/nocombined.db", g_dir);
    snprintf(args, sizeof args,
             "run program --initial %s --evaluator tests/data/openevolve/evaluator.py "
             "--features feat:4:0:400 --evaluations 1 --quiet --store %s",
             cand, store);
    char *out = NULL;
    if (tool(args, &out) != 0)
        fail_msg("run failed: %s", out);
    free(out);
    assert_true(query(store, "SELECT count(*) FROM candidates WHERE valid=1 AND proxy=2.0") > 0);
    assert_int_equal(query(store, "SELECT count(*) FROM candidates WHERE proxy<>2.0"), 0);
    snprintf(store, sizeof store, "%s/missing.db", g_dir);
    snprintf(args, sizeof args,
             "run program --initial tests/data/openevolve/candidate.py --evaluator "
             "tests/data/openevolve/evaluator.py --features absent --evaluations 2 --quiet "
             "--store %s",
             store);
    int rc = tool(args, &out);
    if (rc != 1 || !strstr(out, "no number \"absent\" (a --features dimension)"))
        fail_msg("exit %d: %s", rc, out);
    free(out);
}

/* Bad inputs: one line naming the option, exit 2. */
static void bad_inputs_are_named(void **state)
{
    (void)state;
    static const struct {
        const char *args, *says;
    } cases[] = {
        {"--features calls:0", "--features calls: bins '0' is not 1..1000"},
        {"--features calls:4:1:1", "--features calls: the range '1:1'"},
        {"--features a,b,c", "--features: at most 2 dimensions"},
        {"--features 'a b'", "--features: 'a b' is not a metric name"},
        {"--features a,a", "--features: 'a' named twice"},
        {"--evaluator-api maybe", "--evaluator-api maybe: auto, command or openevolve"},
        {"--evaluator-api command", "not executable"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[1024];
        snprintf(args, sizeof args,
                 "run program --initial tests/data/openevolve/candidate.py --evaluator "
                 "tests/data/openevolve/evaluator.py %s --evaluations 1 --store %s/bad.db",
                 cases[i].args, g_dir);
        char *out = NULL;
        assert_int_equal(tool(args, &out), 2);
        if (!strstr(out, cases[i].says) || strchr(out, '\n') != out + strlen(out) - 1)
            fail_msg("%s: said '%s', not one line with '%s'", cases[i].args, out,
                     cases[i].says);
        free(out);
    }
    /* a .py file that is neither executable nor a module with evaluate() */
    char plain[512], args[1024];
    snprintf(plain, sizeof plain, "%s/plain.py", g_dir);
    FILE *f = fopen(plain, "w");
    assert_non_null(f);
    fputs("print('hello')\n", f);
    fclose(f);
    snprintf(args, sizeof args,
             "run program --initial tests/data/openevolve/candidate.py --evaluator %s "
             "--evaluations 1 --store %s/bad.db",
             plain, g_dir);
    char *out = NULL;
    assert_int_equal(tool(args, &out), 2);
    assert_non_null(strstr(out, "not executable (nor an OpenEvolve evaluator.py"));
    free(out);
}

/* Writes tests/data/openevolve/evaluator.py to dir/name behind a "#!" line, with mode. */
static void shebang_copy(const char *name, int mode, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", g_dir, name);
    size_t n = 0;
    char *text = tu_slurp("tests/data/openevolve/evaluator.py", &n);
    assert_non_null(text);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("#!/usr/bin/python3\n", f);
    fputs(text, f);
    fclose(f);
    free(text);
    assert_int_equal(chmod(path, (mode_t)mode), 0);
}

/* auto: a module with evaluate() is run through the shim unless it is an executable "#!"
 * script, which follows ratchet's own contract; --evaluator-api openevolve overrides. */
static void detection_rule(void **state)
{
    (void)state;
    char plain[512], script[512], args[1536];
    shebang_copy("module.py", 0644, plain, sizeof plain);
    shebang_copy("script.py", 0755, script, sizeof script);
    snprintf(args, sizeof args,
             "run program --initial tests/data/openevolve/candidate.py --evaluator %s "
             "--evaluations 1 --quiet --store %s/detect1.db",
             plain, g_dir);
    char *out = NULL;
    if (tool(args, &out) != 0)
        fail_msg("a non-executable module with #! was not run through the shim: %s", out);
    free(out);
    snprintf(args, sizeof args,
             "run program --initial tests/data/openevolve/candidate.py --evaluator %s "
             "--evaluations 1 --quiet --store %s/detect2.db",
             script, g_dir);
    /* run as a program, its import of openevolve fails: no shim provides it */
    assert_int_equal(tool(args, &out), 1);
    assert_non_null(strstr(out, "the initial candidate failed: evaluator exited with status 1"));
    free(out);
    snprintf(args, sizeof args,
             "run program --initial tests/data/openevolve/candidate.py --evaluator %s "
             "--evaluator-api openevolve --evaluations 1 --quiet --store %s/detect3.db",
             script, g_dir);
    assert_int_equal(tool(args, NULL), 0);
}

/* The spec parser and the binning on random input: no crash, every accepted spec canonical and
 * read back the same, every coordinate within its bins. */
static void features_parser_survives_random_input(void **state)
{
    (void)state;
    static const char alphabet[] = "ab_.-:,0123456789eE+- x\x01\xff";
    unsigned seed = 7;
    int accepted = 0;
    for (int i = 0; i < 20000; i++) {
        char spec[48];
        size_t n = (size_t)rand_r(&seed) % (sizeof spec - 1);
        for (size_t k = 0; k < n; k++)
            spec[k] = alphabet[(size_t)rand_r(&seed) % (sizeof alphabet - 1)];
        spec[n] = '\0';
        rt_feature_spec fs, again;
        char err[256];
        if (rt_features_parse(spec, &fs, err, sizeof err) != 0) {
            assert_null(strchr(err, '\n'));
            continue;
        }
        accepted++;
        assert_int_equal(rt_features_parse(fs.canon, &again, err, sizeof err), 0);
        assert_string_equal(fs.canon, again.canon);
        char metrics[256];
        double v = (rand_r(&seed) % 2 ? 1 : -1) * (double)rand_r(&seed) / 1000.0;
        snprintf(metrics, sizeof metrics, "{\"%s\": %.17g, \"%s\": 1e308}", fs.d[0].name, v,
                 fs.n > 1 ? fs.d[1].name : "other");
        int coords[RT_MAX_FEATURES];
        char why[256];
        if (rt_features_coords(&fs, metrics, coords, why, sizeof why) == 0)
            for (int d = 0; d < fs.n; d++)
                assert_true(coords[d] >= 0 && coords[d] < fs.d[d].bins);
        assert_int_not_equal(rt_features_coords(&fs, "{\"x\": \"text\"}", coords, why,
                                                sizeof why) == 0 && fs.n > 0 &&
                                 strcmp(fs.d[0].name, "x") != 0,
                             1);
        rt_features_coords(&fs, spec, coords, why, sizeof why); /* not JSON at all */
    }
    assert_true(accepted > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_runs_with_metric_features),
        cmocka_unit_test(every_kind_of_result),
        cmocka_unit_test(cascade_stages),
        cmocka_unit_test(score_without_combined_and_missing_feature),
        cmocka_unit_test(bad_inputs_are_named),
        cmocka_unit_test(detection_rule),
        cmocka_unit_test(features_parser_survives_random_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
