/* test_program.c — the `program` problem end to end: evaluator and verifier contracts, failed
 * evaluations, the command proposer, and the circle-packing example's exact checker.
 *
 * Scripts and programs live in tests/data/program/. What would break these tests: an evaluator
 * report with NaN, infinity, an overflowing number, two scores, a duplicate key, garbage or no
 * output being accepted, or its failure stopping the run or being stored without its reason and
 * stderr; the gate admitting the evaluator's score instead of the verifier's, or a candidate the
 * verifier refused; the command proposer's prompt losing the parent's program, metrics or the
 * inspirations, or a reply that does not apply being half applied or silently dropped; the
 * circle-packing checker accepting a negative radius, a NaN coordinate, an overlap or a circle
 * outside the square.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "problem.h"
#include "problems/program/program.h"
#include "problems/program/program_eval.h"
#include "ratchet.h"
#include "rng.h"
#include "testutil.h"

#define DATA "tests/data/program/"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    return tu_tempdir(tmpdir, sizeof tmpdir, "program");
}

static int teardown_dir(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

/* ---- parsers ----------------------------------------------------------------------------- */

static int eval_parse(const char *s, rt_eval_output *o, char *err)
{
    return rt_eval_parse(s, strlen(s), o, err, 256);
}

static void evaluator_reports_are_strict(void **state)
{
    (void)state;
    rt_eval_output o;
    char err[256];
    assert_int_equal(eval_parse("warming up\n{\"score\": 2.5, \"metrics\": {\"a\": 1}, "
                                "\"artifacts\": {\"log\": \"x\"}}\n\n",
                                &o, err),
                     0);
    assert_true(o.score == 2.5);
    assert_string_equal(o.metrics, "{\"a\":1.0}"); /* integers are read as doubles */
    assert_string_equal(o.artifacts, "{\"log\":\"x\"}");
    rt_eval_output_free(&o);
    assert_int_equal(eval_parse("{\"score\": -3}", &o, err), 0);
    assert_true(o.score == -3 && !o.metrics && !o.artifacts);
    assert_int_equal(eval_parse("{\"score\": 123456789012345678901234567890}", &o, err), 0);
    assert_int_equal(eval_parse("{\"score\": 1e308}", &o, err), 0); /* huge but finite */
    static const struct {
        const char *out;
        const char *why;
    } bad[] = {
        {"", "printed nothing"},
        {"\n \n", "printed nothing"},
        {"{\"score\": NaN}", "not a JSON object"},
        {"{\"score\": nan}", "not a JSON object"},
        {"{\"score\": Infinity}", "not a JSON object"},
        {"{\"score\": -inf}", "not a JSON object"},
        {"{\"score\": 1e999}", "not a JSON object"},
        {"{\"score\": \"1\"}", "not a number"},
        {"{\"score\": null}", "not a number"},
        {"{\"metrics\": {}}", "no \"score\""},
        {"{\"score\": 1}\n{\"score\": 2}", "twice"},
        {"  {\"score\": 1, \"x\": 0}\nlog\n{\"score\": 2}", "twice"},
        {"{\"score\": 1, \"score\": 2}", "not a JSON object"},
        {"[1, 2]", "not a JSON object"},
        {"garbage", "not a JSON object"},
        {"{\"score\": 1} trailing", "not a JSON object"},
        {"{\"score\": 1, \"metrics\": 5}", "not a JSON object"},
        {"{\"score\": 1, \"artifacts\": []}", "not a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = eval_parse(bad[i].out, &o, err);
        if (rc != RT_EINVALID || !strstr(err, bad[i].why))
            fprintf(stderr, "case %zu (%s): rc %d, %s\n", i, bad[i].out, rc, err);
        assert_int_equal(rc, RT_EINVALID);
        assert_non_null(strstr(err, bad[i].why));
        assert_null(o.metrics);
    }
    rt_verify_output v;
    const char *yes = "{\"valid\": true, \"score\": 2}";
    assert_int_equal(rt_verify_parse(yes, strlen(yes), &v, err, 256), 0);
    assert_true(v.valid && v.score == 2);
    const char *no = "{\"valid\": false, \"reason\": \"overlap\"}";
    assert_int_equal(rt_verify_parse(no, strlen(no), &v, err, 256), 0);
    assert_false(v.valid);
    assert_string_equal(v.reason, "overlap");
    const char *noscore = "{\"valid\": true}";
    assert_int_equal(rt_verify_parse(noscore, strlen(noscore), &v, err, 256), RT_EINVALID);
    assert_false(v.valid);
    const char *twice = "{\"valid\": false}\n{\"valid\": true, \"score\": 9}";
    assert_int_equal(rt_verify_parse(twice, strlen(twice), &v, err, 256), RT_EINVALID);
    assert_false(v.valid);
    const char *nan = "{\"valid\": true, \"score\": NaN}";
    assert_int_equal(rt_verify_parse(nan, strlen(nan), &v, err, 256), RT_EINVALID);
}

/* Property: on arbitrary bytes the parsers return 0 or RT_EINVALID with a message, and an
 * accepted score is finite and the report's last line. */
static void evaluator_parser_survives_any_bytes(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "{", "}", "\"score\"", ":", "1", "-2.5e3", "NaN", "1e999", ",", "\"metrics\"",
        "\"artifacts\"", "{}", "[", "]", "\n", " ", "\"valid\"", "true", "false", "null",
        "\"x\"", "\\u0000", "\xff", "\"", "\r\n",
    };
    rt_rng rng;
    rt_rng_seed(&rng, 3, 0);
    char buf[600], err[256];
    for (int trial = 0; trial < 30000; trial++) {
        size_t n = 0;
        while (n < 560 && rt_rng_below(&rng, 30) != 0) {
            const char *p = pieces[rt_rng_below(&rng, sizeof pieces / sizeof pieces[0])];
            memcpy(buf + n, p, strlen(p));
            n += strlen(p);
        }
        if (trial % 4 == 0)
            for (size_t i = 0; i < n; i++)
                if (rt_rng_below(&rng, 16) == 0)
                    buf[i] = (char)rt_rng_below(&rng, 256);
        rt_eval_output o;
        err[0] = '\0';
        int rc = rt_eval_parse(buf, n, &o, err, sizeof err);
        if (rc == 0) {
            assert_true(o.score == o.score && o.score - o.score == 0);
            rt_eval_output_free(&o);
        } else {
            assert_int_equal(rc, RT_EINVALID);
            assert_true(err[0] != '\0');
        }
        rt_verify_output v;
        rc = rt_verify_parse(buf, n, &v, err, sizeof err);
        assert_true(rc == 0 || rc == RT_EINVALID);
        if (rc)
            assert_false(v.valid);
    }
}

/* ---- evaluations through the sandbox ----------------------------------------------------- */

static rt_problem *open_program(const char *initial, const char *evaluator, const char *verifier,
                                const char *timeout, const char *command)
{
    const char *keys[8], *values[8];
    size_t n = 0;
    keys[n] = "initial", values[n++] = initial;
    keys[n] = "evaluator", values[n++] = evaluator;
    if (verifier)
        keys[n] = "verifier", values[n++] = verifier;
    if (timeout)
        keys[n] = "eval-timeout", values[n++] = timeout;
    if (command)
        keys[n] = "command", values[n++] = command;
    rt_problem *pb = NULL;
    rt_error err;
    if (rt_problem_open(&pb, "program", keys, values, n, &err))
        fprintf(stderr, "open: %s\n", err.msg);
    return pb;
}

static void bad_evaluators_fail_with_reasons(void **state)
{
    (void)state;
    rt_problem *pb = open_program(DATA "modes.txt", DATA "bad_evaluate.sh", NULL, "1", NULL);
    assert_non_null(pb);
    static const char *const why[] = {
        NULL,
        "not a JSON object",             /* NaN */
        "not a JSON object",             /* Infinity */
        "not a JSON object",             /* 1e999 overflows */
        "score twice",                   /* two lines with scores */
        "not a JSON object",             /* garbage */
        "printed nothing",               /* nothing */
        "exited with status 3",          /* non-zero exit */
        "not a number",                  /* a string */
        "not a JSON object",             /* a duplicate key */
        "timeout",                       /* past --eval-timeout */
    };
    const char *tmpl = "A program\nEVOLVE-BLOCK-START\nmode = %d # ratchet: int 0 10\n"
                       "EVOLVE-BLOCK-END\n";
    for (int m = 0; m <= 10; m++) {
        char text[200];
        snprintf(text, sizeof text, tmpl, m);
        rt_program_genome *g = rt_program_genome_new(text, strlen(text));
        rt_evaluation ev;
        double t0 = tu_now();
        assert_int_equal(pb->cls->evaluate(pb->state, g, &ev), 0);
        if (m == 10)
            assert_true(tu_now() - t0 < 10); /* the 30 s sleep was cut at 1 s */
        if (m == 0) {
            assert_false(ev.failed);
            assert_true(g->score == 1);
        } else {
            if (!ev.failed || !strstr(ev.reason, why[m]))
                fprintf(stderr, "mode %d: failed %d, %s\n", m, ev.failed, ev.reason);
            assert_true(ev.failed);
            assert_non_null(strstr(ev.reason, why[m]));
            assert_non_null(ev.artifacts); /* the reason, and stderr's tail */
            if (m != 10)
                assert_non_null(strstr(ev.artifacts, "stderr of mode"));
            rt_score sc;
            pb->cls->score(pb->state, g, &sc);
            assert_true(sc.primary < -1e300);
        }
        pb->cls->free_genome(g);
    }
    rt_problem_close(pb);
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

static long long query_ll(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    long long v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static rt_run *make_run(const char *name, rt_problem *pb, const char *proposer, long long evals,
                        char *path, size_t pathlen)
{
    snprintf(path, pathlen, "%s/%s.db", tmpdir, name);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.evaluations = evals;
    opt.threads = 2;
    opt.islands = 2;
    opt.seed = 5;
    opt.proposer = proposer;
    rt_run *run = NULL;
    rt_error err;
    if (rt_run_create(&run, path, pb, &opt, &err))
        fprintf(stderr, "create: %s\n", err.msg);
    assert_non_null(run);
    return run;
}

/* A run whose evaluator breaks the contract in every way goes on, and stores each failure
 * with its reason and stderr. */
static void failed_evaluations_are_stored_and_the_run_goes_on(void **state)
{
    (void)state;
    rt_problem *pb = open_program(DATA "modes.txt", DATA "bad_evaluate.sh", NULL, "1", NULL);
    assert_non_null(pb);
    char path[512];
    /* 60 proposals: on two job slots the islands' turns follow the order in which their
     * evaluations finish, so how many distinct modes 40 reach depends on timing */
    rt_run *run = make_run("modes", pb, NULL, 60, path, sizeof path);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    rt_problem_close(pb);
    sqlite3 *db = open_db(path);
    /* each distinct mode is evaluated once (duplicates are dropped before evaluation) */
    long long failed = query_ll(db, "SELECT count(*) FROM candidates WHERE valid=0 AND reason "
                                    "LIKE 'evaluation failed:%'");
    assert_true(failed >= 6);
    assert_int_equal(query_ll(db, "SELECT count(*) FROM candidates c JOIN evaluations e ON "
                                  "e.cand_id=c.id WHERE c.valid=0 AND e.artifacts LIKE "
                                  "'%stderr of mode%'"),
                     failed - query_ll(db, "SELECT count(*) FROM candidates WHERE reason LIKE "
                                           "'%timeout%'"));
    assert_int_equal(tu_count_texts(path, "admitted=1", "mode = 0 ", 0), 0);
    assert_int_equal(query_ll(db, "SELECT evaluations FROM checkpoint"), 60);
    sqlite3_close(db);
}

/* A tiny program improves under the builtin proposer; the verifier's verdict, not the
 * evaluator's score, decides: x over 90 evaluates higher but is never admitted. */
static void tiny_program_improves_and_is_verified(void **state)
{
    (void)state;
    rt_problem *pb = open_program(DATA "tiny.txt", DATA "evaluate.sh", DATA "verify.sh", NULL,
                                  NULL);
    assert_non_null(pb);
    char path[512];
    rt_run *run = make_run("tiny", pb, "builtin", 40, path, sizeof path);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    rt_problem_close(pb);
    rt_store *st = NULL;
    rt_error err;
    assert_int_equal(rt_store_open(&st, path, &err), 0);
    rt_summary sum;
    assert_int_equal(rt_store_summary(st, &sum), 0);
    assert_true(sum.has_best);
    assert_true(sum.best_metric > 1);
    assert_true(sum.best_metric <= 90);
    long long checked = 0;
    assert_int_equal(rt_store_check(st, &checked), 0); /* re-verifies every admitted one */
    assert_true(checked >= 2);
    char *best = NULL;
    assert_int_equal(rt_store_best(st, &best), 0);
    assert_non_null(strstr(best, "EVOLVE-BLOCK-START\nx = "));
    assert_non_null(strstr(best, "\nthe end\n")); /* text outside the block untouched */
    free(best);
    rt_store_close(st);
    sqlite3 *db = open_db(path);
    assert_int_equal(query_ll(db, "SELECT count(*) FROM candidates WHERE admitted=1 AND "
                                  "CAST(substr(text, instr(text, 'x = ') + 4, 3) AS INTEGER) > 90"),
                     0);
    /* metrics and artifacts of the evaluation are stored */
    assert_true(query_ll(db, "SELECT count(*) FROM evaluations WHERE metrics LIKE '{\"x\":%' "
                             "AND artifacts LIKE '%stage 1%'") >= 2);
    sqlite3_close(db);
}

/* Without a verifier the gate re-runs the evaluator: a score that does not reproduce is
 * refused. The evaluator here reports a different score each time it runs. */
static void no_verifier_requires_a_reproducible_score(void **state)
{
    (void)state;
    char eval[512];
    snprintf(eval, sizeof eval, "%s/flaky.sh", tmpdir);
    FILE *f = fopen(eval, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\necho \"{\\\"score\\\": $(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}\"\n",
          f);
    fclose(f);
    assert_int_equal(chmod(eval, 0755), 0);
    rt_problem *pb = open_program(DATA "tiny.txt", eval, NULL, NULL, NULL);
    assert_non_null(pb);
    size_t tl = 0;
    char *tiny = tu_slurp(DATA "tiny.txt", &tl);
    assert_non_null(tiny);
    char *x = strstr(tiny, "x = 1 ");
    assert_non_null(x);
    x[4] = '5';
    rt_program_genome *g = rt_program_genome_new(tiny, tl);
    rt_evaluation ev;
    assert_int_equal(pb->cls->evaluate(pb->state, g, &ev), 0);
    assert_false(ev.failed);
    rt_verdict v;
    char err[256];
    assert_int_equal(pb->cls->verify(pb->state, g->text, g->len, &v, err, sizeof err), 0);
    if (v.valid) /* 1 chance in 65536 that the re-run drew the same number */
        assert_true(v.score == g->score);
    else
        assert_non_null(strstr(v.reason, "did not reproduce"));
    pb->cls->free_genome(g);
    rt_problem_close(pb);
    /* the deterministic evaluator reproduces */
    pb = open_program(DATA "tiny.txt", DATA "evaluate.sh", NULL, NULL, NULL);
    g = rt_program_genome_new(tiny, tl);
    free(tiny);
    assert_int_equal(pb->cls->evaluate(pb->state, g, &ev), 0);
    assert_int_equal(pb->cls->verify(pb->state, g->text, g->len, &v, err, sizeof err), 0);
    assert_true(v.valid && v.score == 5);
    /* text outside the editable region that differs from the initial program is invalid */
    const char *moved = "A tiny program for tests/test_program.c: the evaluator's score is y.\n"
                        "EVOLVE-BLOCK-START\nx = 5 # ratchet: int 0 100\nEVOLVE-BLOCK-END\n"
                        "the end\n";
    assert_int_equal(pb->cls->verify(pb->state, moved, strlen(moved), &v, err, sizeof err), 0);
    assert_false(v.valid);
    assert_non_null(strstr(v.reason, "outside the editable regions"));
    pb->cls->free_genome(g);
    rt_problem_close(pb);
}

/* The command proposer: a scripted program that checks its prompt and improves x by 7, with a
 * reply that does not apply every third generation (stored as a rejection, the run goes on). */
static void command_proposer_with_a_scripted_program(void **state)
{
    (void)state;
    rt_problem *pb = open_program(DATA "tiny.txt", DATA "evaluate.sh", DATA "verify.sh", NULL,
                                  DATA "propose.sh");
    assert_non_null(pb);
    char path[512];
    rt_run *run = make_run("command", pb, "command", 24, path, sizeof path);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    rt_problem_close(pb);
    sqlite3 *db = open_db(path);
    /* x climbs by 7s from 1 and stops below 91 (the verifier refuses more) */
    long long best = query_ll(db, "SELECT max(CAST(score AS INTEGER)) FROM candidates WHERE "
                                  "admitted=1");
    assert_true(best >= 29);
    assert_int_equal((best - 1) % 7, 0);
    assert_true(query_ll(db, "SELECT count(*) FROM events WHERE kind='rejected' AND detail "
                             "LIKE '%block 1: SEARCH text not found%'") >= 2);
    assert_int_equal(query_ll(db, "SELECT count(*) FROM candidates WHERE operator='command'"),
                     query_ll(db, "SELECT count(*) FROM candidates") - 1);
    long long before = query_ll(db, "SELECT count(*) FROM candidates");
    sqlite3_close(db);
    /* resumed, the archived parents still carry their metrics (propose.sh exits 1 without) */
    rt_run_options ropt;
    rt_run_options_init(&ropt);
    ropt.evaluations = 6;
    ropt.threads = 2;
    rt_error rerr;
    assert_int_equal(rt_run_resume(&run, path, NULL, &ropt, &rerr), 0);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    db = open_db(path);
    assert_true(query_ll(db, "SELECT count(*) FROM candidates") > before);
    assert_int_equal(query_ll(db, "SELECT count(*) FROM events WHERE detail LIKE '%exited%'"), 0);
    sqlite3_close(db);
    /* a command that fails is a rejection with its reason too, and the proposer needs one */
    rt_problem *pb2 = open_program(DATA "tiny.txt", DATA "evaluate.sh", NULL, NULL, "/bin/false");
    assert_non_null(pb2);
    rt_run *run2 = make_run("false", pb2, "command", 4, path, sizeof path);
    assert_int_equal(rt_run_execute(run2), 0);
    rt_run_close(run2);
    db = open_db(path);
    assert_int_equal(query_ll(db, "SELECT count(*) FROM events WHERE kind='rejected' AND detail "
                                  "LIKE '%command exited with status 1%'"),
                     4);
    sqlite3_close(db);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.proposer = "command";
    rt_error err;
    rt_problem *pb3 = open_program(DATA "tiny.txt", DATA "evaluate.sh", NULL, NULL, NULL);
    snprintf(path, sizeof path, "%s/nocommand.db", tmpdir);
    assert_int_equal(rt_run_create(&run2, path, pb3, &opt, &err), RT_EUSAGE);
    assert_non_null(strstr(err.msg, "--command"));
    rt_problem_close(pb3);
    rt_problem_close(pb2);
}

/* ---- configuration files through the tool ----------------------------------------------- */

static void write_file(const char *path, const char *text, int mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, (mode_t)mode), 0);
}

/* Runs a shell command line; returns its exit status, its output (both streams) in out. */
static int sh(const char *cmd, char *out, size_t outlen)
{
    char full[4096];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ratchet.ini next to the program is read, its relative paths are taken from its folder, and
 * flags override it; a bad entry is named by file and line. */
static void config_file_next_to_the_program(void **state)
{
    (void)state;
    const char *tool = tu_tool();
    assert_non_null(tool);
    char path[512], ini[512], cmd[2048], out[8192];
    size_t len = 0;
    char *tiny = tu_slurp(DATA "tiny.txt", &len);
    char *eval = tu_slurp(DATA "evaluate.sh", &len);
    assert_non_null(tiny);
    assert_non_null(eval);
    snprintf(path, sizeof path, "%s/prog.txt", tmpdir);
    write_file(path, tiny, 0644);
    snprintf(path, sizeof path, "%s/ev.sh", tmpdir);
    write_file(path, eval, 0755);
    free(tiny);
    free(eval);
    snprintf(ini, sizeof ini, "%s/ratchet.ini", tmpdir);
    write_file(ini, "; test\nevaluator = ev.sh\neval-timeout = 30\nevaluations = 2\n", 0644);
    snprintf(cmd, sizeof cmd, "%s run program --initial %s/prog.txt --eval-timeout 7 "
             "--store %s/flag.db --quiet && %s status %s/flag.db --json", tool, tmpdir, tmpdir,
             tool, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "eval-timeout=7 "));
    snprintf(path, sizeof path, "evaluator=%s/ev.sh ", tmpdir);
    assert_non_null(strstr(out, path));
    assert_non_null(strstr(out, "\"evaluations\": 2"));
    snprintf(cmd, sizeof cmd, "%s run program --initial %s/prog.txt --store %s/file.db --quiet "
             "&& %s status %s/file.db --json", tool, tmpdir, tmpdir, tool, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "eval-timeout=30 "));
    write_file(ini, "evaluator = ev.sh\n\nbogus = 1\n", 0644);
    snprintf(cmd, sizeof cmd, "%s run program --initial %s/prog.txt --store %s/bad.db --quiet",
             tool, tmpdir, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "ratchet.ini:3: unknown option --bogus"));
    write_file(ini, "evaluator = ev.sh\n[other]\nseconds = 1\n", 0644);
    assert_int_equal(sh(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "ratchet.ini:3: unknown section [other]"));
}

/* The sandbox shows an evaluator only the system folders, its own folder and the working
 * directory: a data file elsewhere is out of its reach until --visible names its folder; a
 * --visible path that does not exist is refused. */
static void visible_paths_reach_the_evaluator(void **state)
{
    (void)state;
    char data_dir[256], eval_dir[256], data[300], evaluator[300];
    assert_int_equal(tu_tempdir(data_dir, sizeof data_dir, "visible-data"), 0);
    assert_int_equal(tu_tempdir(eval_dir, sizeof eval_dir, "visible-eval"), 0);
    snprintf(data, sizeof data, "%s/answer.txt", data_dir);
    snprintf(evaluator, sizeof evaluator, "%s/evaluate.sh", eval_dir);
    FILE *f = fopen(data, "w");
    assert_non_null(f);
    fputs("42\n", f);
    fclose(f);
    chmod(data, 0644);
    f = fopen(evaluator, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\nx=$(cat %s) || exit 1\necho \"{\\\"score\\\": $x}\"\n", data);
    fclose(f);
    chmod(evaluator, 0755);
    for (int with = 0; with < 2; with++) {
        const char *keys[] = {"initial", "evaluator", "visible"};
        const char *values[] = {DATA "tiny.txt", evaluator, data_dir};
        rt_problem *pb = NULL;
        rt_error err;
        assert_int_equal(rt_problem_open(&pb, "program", keys, values, with ? 3 : 2, &err), 0);
        rt_program_genome *g = pb->cls->seed(pb->state);
        assert_non_null(g);
        rt_evaluation ev;
        assert_int_equal(pb->cls->evaluate(pb->state, g, &ev), 0);
        fprintf(stderr, "  --visible %s: failed %d (%s), score %g\n", with ? "given" : "absent",
                ev.failed, ev.reason, g->score);
        assert_int_equal(ev.failed, !with);
        if (with)
            assert_true(g->score == 42);
        pb->cls->free_genome(g);
        rt_problem_close(pb);
    }
    const char *keys[] = {"initial", "evaluator", "visible"};
    const char *values[] = {DATA "tiny.txt", evaluator, "/nonexistent/ratchet-visible"};
    rt_problem *pb = NULL;
    rt_error err;
    assert_int_equal(rt_problem_open(&pb, "program", keys, values, 3, &err), RT_EUSAGE);
    assert_non_null(strstr(err.msg, "--visible"));
    /* in ratchet.ini, visible paths are taken from the file's folder */
    const char *tool = tu_tool();
    assert_non_null(tool);
    char prog[300], ini[300], cmd[2048], out[8192], rel[300], want[320];
    size_t len = 0;
    char *tiny = tu_slurp(DATA "tiny.txt", &len);
    assert_non_null(tiny);
    snprintf(prog, sizeof prog, "%s/prog.txt", eval_dir);
    write_file(prog, tiny, 0644);
    free(tiny);
    const char *base = strrchr(data_dir, '/');
    snprintf(rel, sizeof rel, "evaluator = evaluate.sh\nvisible = ..%s\n", base);
    snprintf(ini, sizeof ini, "%s/ratchet.ini", eval_dir);
    write_file(ini, rel, 0644);
    snprintf(cmd, sizeof cmd, "%s run program --initial %s --evaluations 1 --store %s/v.db "
             "--quiet && %s status %s/v.db --json", tool, prog, eval_dir, tool, eval_dir);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    snprintf(want, sizeof want, "visible=%s", data_dir);
    assert_non_null(strstr(out, want));
    tu_rmtree(data_dir);
    tu_rmtree(eval_dir);
}

/* Evaluations have no network unless --eval-network 1 says so: an evaluator that opens an
 * internet socket scores 1 when it could, 0 when it could not. The setting is part of the
 * problem (stored, so a resume keeps it) and absent from the parameters when off. */
static void eval_network_is_an_option(void **state)
{
    (void)state;
    char evaluator[300];
    snprintf(evaluator, sizeof evaluator, "%s/net-evaluate.sh", tmpdir);
    write_file(evaluator,
               "#!/bin/sh\n"
               "if perl -e 'use Socket; socket(my $s, PF_INET, SOCK_STREAM, 0) or exit 1'; then\n"
               "  echo '{\"score\": 1}'\nelse\n  echo '{\"score\": 0}'\nfi\n",
               0755);
    for (int net = 0; net < 2; net++) {
        const char *keys[] = {"initial", "evaluator", "eval-network"};
        const char *values[] = {DATA "tiny.txt", evaluator, net ? "1" : "0"};
        rt_problem *pb = NULL;
        rt_error err;
        assert_int_equal(rt_problem_open(&pb, "program", keys, values, 3, &err), 0);
        assert_true((strstr(rt_problem_params(pb), "eval-network=1") != NULL) == net);
        rt_program_genome *g = pb->cls->seed(pb->state);
        assert_non_null(g);
        rt_evaluation ev;
        assert_int_equal(pb->cls->evaluate(pb->state, g, &ev), 0);
        if (ev.failed)
            fail_msg("evaluation failed: %s", ev.reason);
        assert_true(g->score == net);
        pb->cls->free_genome(g);
        rt_problem_close(pb);
    }
    const char *keys[] = {"initial", "evaluator", "eval-network"};
    const char *values[] = {DATA "tiny.txt", evaluator, "yes"};
    rt_problem *pb = NULL;
    rt_error err;
    assert_int_equal(rt_problem_open(&pb, "program", keys, values, 3, &err), RT_EUSAGE);
    assert_non_null(strstr(err.msg, "--eval-network"));
}

/* The audit re-verifies within the run's --reproduce-tolerance: an evaluator with a little
 * noise in the last digits makes a store that audits, while one whose re-runs leave the
 * tolerance (here: an offset added after the run) fails the audit. */
static void audit_keeps_the_reproduce_tolerance(void **state)
{
    (void)state;
    const char *tool = tu_tool();
    assert_non_null(tool);
    char dir[300], eval[400], offset[400], cmd[4096], out[8192];
    snprintf(dir, sizeof dir, "%s/tolerance", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(offset, sizeof offset, "%s/offset", dir);
    write_file(offset, "0\n", 0644);
    snprintf(eval, sizeof eval, "%s/noisy-evaluate.sh", dir);
    write_file(eval,
               "#!/bin/sh\n"
               "x=$(sed -n 's/^x = \\([0-9]*\\).*/\\1/p' \"$1\")\n"
               "n=$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')\n"
               "o=$(cat \"$(dirname \"$0\")/offset\")\n"
               "echo \"{\\\"score\\\": $((x + o)).00$((n % 10))}\"\n",
               0755);
    snprintf(cmd, sizeof cmd, "%s run program --initial %s --evaluator %s "
             "--reproduce-tolerance 0.05 --evaluations 12 --seed 4 --store %s/t.db --quiet "
             "&& %s audit %s/t.db", tool, DATA "tiny.txt", eval, dir, tool, dir);
    int rc = sh(cmd, out, sizeof out);
    if (rc != 0)
        fail_msg("a store within its tolerance did not audit: %s", out);
    write_file(offset, "1000\n", 0644);
    snprintf(cmd, sizeof cmd, "%s audit %s/t.db", tool, dir);
    assert_int_not_equal(sh(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "re-verification"));
}

/* A resumed program run keeps its evaluator: another one given with --resume is refused naming
 * the flag, the same one (by another path) is accepted. */
static void resume_refuses_another_evaluator(void **state)
{
    (void)state;
    const char *tool = tu_tool();
    assert_non_null(tool);
    char cmd[9000], out[8192], other[300], store[300];
    snprintf(other, sizeof other, "%s/other-evaluate.sh", tmpdir);
    size_t len = 0;
    char *eval = tu_slurp(DATA "evaluate.sh", &len);
    assert_non_null(eval);
    write_file(other, eval, 0755);
    free(eval);
    snprintf(store, sizeof store, "%s/keep.db", tmpdir);
    snprintf(cmd, sizeof cmd, "%s run program --initial " DATA "tiny.txt --evaluator "
             DATA "evaluate.sh --evaluations 1 --store %s --quiet", tool, store);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "%s run --resume %s --evaluator %s --evaluations 1 --quiet", tool,
             store, other);
    assert_int_equal(sh(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "--evaluator"));
    assert_non_null(strstr(out, "differs"));
    assert_true(strchr(out, '\n') == out + strlen(out) - 1); /* one line */
    snprintf(cmd, sizeof cmd, "%s run --resume %s --eval-timeout 5 --evaluations 1 --quiet",
             tool, store);
    assert_int_equal(sh(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "--eval-timeout"));
    char real[4096];
    assert_non_null(realpath(tool, real));
    snprintf(cmd, sizeof cmd, "cd " DATA " && %s run --resume %s --evaluator ./evaluate.sh "
             "--evaluations 1 --quiet", real, store);
    char line[8192];
    assert_int_equal(sh(cmd, line, sizeof line), 0);
}

/* The cascade: stage 2 runs only for candidates whose stage-1 score is within the threshold of
 * the best stage-1 score so far. */
static void cascade_stops_weak_candidates_early(void **state)
{
    (void)state;
    const char *keys[] = {"initial", "evaluator", "cascade", "cascade-threshold"};
    const char *values[] = {DATA "tiny.txt", DATA "evaluate.sh", "2", "0.9"};
    rt_problem *pb = NULL;
    rt_error err;
    assert_int_equal(rt_problem_open(&pb, "program", keys, values, 4, &err), 0);
    static const struct {
        int x, pass;
    } seq[] = {{50, 1}, {10, 0}, {47, 1}, {44, 0}, {60, 1}, {54, 1}, {53, 0}};
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        char text[200];
        snprintf(text, sizeof text,
                 "A tiny program for tests/test_program.c: the evaluator's score is x.\n"
                 "EVOLVE-BLOCK-START\nx = %d # ratchet: int 0 100\nEVOLVE-BLOCK-END\nthe end\n",
                 seq[i].x);
        rt_program_genome *g = rt_program_genome_new(text, strlen(text));
        rt_evaluation ev;
        assert_int_equal(pb->cls->evaluate(pb->state, g, &ev), 0);
        if (ev.failed != !seq[i].pass)
            fprintf(stderr, "x=%d: failed %d (%s)\n", seq[i].x, ev.failed, ev.reason);
        assert_int_equal(ev.failed, !seq[i].pass);
        if (seq[i].pass) {
            assert_non_null(strstr(g->artifacts, "at stage 2")); /* stage 2 ran */
            assert_true(g->score == seq[i].x);
        } else {
            assert_non_null(strstr(ev.reason, "cascade: stage 1 scored"));
            assert_null(strstr(g->artifacts, "at stage 2"));
        }
        pb->cls->free_genome(g);
    }
    rt_problem_close(pb);
}

/* A child that differs from a program already seen only in whitespace is dropped before it is
 * evaluated. */
static void whitespace_variants_are_duplicates(void **state)
{
    (void)state;
    rt_problem *pb = open_program(DATA "tiny.txt", DATA "evaluate.sh", NULL, NULL,
                                  DATA "respace.sh");
    assert_non_null(pb);
    char path[512];
    rt_run *run = make_run("respace", pb, "command", 6, path, sizeof path);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    rt_problem_close(pb);
    sqlite3 *db = open_db(path);
    assert_int_equal(query_ll(db, "SELECT duplicates FROM checkpoint"), 6);
    assert_int_equal(query_ll(db, "SELECT count(*) FROM candidates"), 1);
    assert_int_equal(query_ll(db, "SELECT count(*) FROM evaluations"), 1);
    sqlite3_close(db);
}

/* ---- the circle-packing example's exact checker ------------------------------------------ */

static int check_packing(const char *body, char *out, size_t outlen)
{
    char file[512], cmd[1200];
    snprintf(file, sizeof file, "%s/packing.txt", tmpdir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(body, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "examples/circle_packing/cp_check %s", file);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    return pclose(p);
}

static void circle_packing_checker_is_exact(void **state)
{
    (void)state;
    if (access("examples/circle_packing/cp_check", X_OK) != 0) {
        fprintf(stderr, "examples/circle_packing/cp_check is not built (make examples)\n");
        fail();
    }
    /* 26 circles of radius 0.1 on a grid of pitch 0.2 minus the corner: 6 rows of 5 would not
     * fit, so use 5x5 with pitch 0.2 plus one small circle in a gap */
    char good[4096] = "";
    size_t at = 0;
    for (int i = 0; i < 25; i++)
        at += (size_t)snprintf(good + at, sizeof good - at, "%.1f %.1f 0.1\n",
                               0.1 + 0.2 * (i % 5), 0.1 + 0.2 * (i / 5));
    /* the gap at (0.2, 0.2): distance to the four neighbours sqrt(0.02) = 0.1414..., so a
     * radius of 0.04 fits (0.14 < 0.1414) */
    snprintf(good + at, sizeof good - at, "0.2 0.2 0.04\n");
    char out[512];
    assert_int_equal(check_packing(good, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"valid\": true"));
    assert_non_null(strstr(out, "\"sum_exact\": \"127/50\"")); /* 2.54 exactly */
    /* touching circles are allowed; overlap by the smallest printed amount is not */
    char buf[4096];
    static const struct {
        const char *from, *to, *why;
    } edits[] = {
        {"0.2 0.2 0.04", "0.2 0.2 0.1414214", "overlap"},
        {"0.2 0.2 0.04", "0.2 0.2 -0.04", "radius not positive"},
        {"0.2 0.2 0.04", "0.2 0.2 0", "radius not positive"},
        {"0.2 0.2 0.04", "nan 0.2 0.04", "not a decimal number"},
        {"0.2 0.2 0.04", "0.2 NaN 0.04", "not a decimal number"},
        {"0.2 0.2 0.04", "0.2 inf 0.04", "not a decimal number"},
        {"0.2 0.2 0.04", "0.2 0.2 0.04 7", "more than three numbers"},
        {"0.2 0.2 0.04\n", "", "expected 26 circles, got 25"},
        {"0.1 0.1 0.1", "0.1 0.1 0.1000000000000000000001", "not inside"},
        {"0.9 0.9 0.1", "0.9 0.9000000000000000001 0.1", "not inside"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        const char *p = strstr(good, edits[i].from);
        assert_non_null(p);
        size_t pre = (size_t)(p - good);
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)pre, good, edits[i].to,
                 p + strlen(edits[i].from));
        assert_int_equal(check_packing(buf, out, sizeof out), 0);
        if (!strstr(out, edits[i].why))
            fprintf(stderr, "case %zu: %s", i, out);
        assert_non_null(strstr(out, "\"valid\": false"));
        assert_non_null(strstr(out, edits[i].why));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(evaluator_reports_are_strict),
        cmocka_unit_test(evaluator_parser_survives_any_bytes),
        cmocka_unit_test(bad_evaluators_fail_with_reasons),
        cmocka_unit_test(failed_evaluations_are_stored_and_the_run_goes_on),
        cmocka_unit_test(tiny_program_improves_and_is_verified),
        cmocka_unit_test(no_verifier_requires_a_reproducible_score),
        cmocka_unit_test(command_proposer_with_a_scripted_program),
        cmocka_unit_test(cascade_stops_weak_candidates_early),
        cmocka_unit_test(visible_paths_reach_the_evaluator),
        cmocka_unit_test(whitespace_variants_are_duplicates),
        cmocka_unit_test(config_file_next_to_the_program),
        cmocka_unit_test(eval_network_is_an_option),
        cmocka_unit_test(resume_refuses_another_evaluator),
        cmocka_unit_test(audit_keeps_the_reproduce_tolerance),
        cmocka_unit_test(circle_packing_checker_is_exact),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
