/* test_program_drift.c — the program problem's side of the ablation (docs/verification.md).
 *
 * The circle-packing example's evaluator checks a packing in floating point with a tolerance of
 * 1e-9; its verifier checks it exactly (GMP rationals). tests/data/gaming-proposer.sh is a
 * command proposer that games the tolerance: its child prints every radius 4e-10 larger, so the
 * evaluator passes an overlapping packing and scores it higher. Gated, the verifier rejects it
 * and nothing invalid is admitted; with --trust-proxy it is admitted, becomes the run's own best,
 * and the audit fails naming it. Likewise a child printing NaN coordinates, which a naive
 * evaluator (tests/data/naive-evaluate) scores 13 because every comparison with NaN is false.
 * A certificate of the gated run's best holds the program, the
 * verifier and the verifier's output, and the verifier run by hand agrees.
 *
 * The environment as a way to game: a toy problem written here as shell scripts (print N squared
 * for N = 1..8; the score is the number of right answers). (a) ratchet's own process holds the
 * answers in a variable, and a child that prints them instead of computing gets nothing: every
 * sandboxed run starts from a fresh environment, so neither the evaluator nor the verifier nor
 * the candidate under them sees it. (b) A gameable evaluator hands each expected answer to the
 * candidate in its environment; a child that prints it scores 8 of 8, but the verifier runs the
 * candidate in its own sandbox without it and recomputes every answer, so the child is rejected
 * with its reason stored; with --trust-proxy it is admitted and the audit names it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ratchet.h"
#include "testutil.h"

static char tmpdir[256];
static char tool[4096], example[4096], proposer[4096];

static int setup(void **state)
{
    (void)state;
    if (!tu_tool() || !realpath(tu_tool(), tool) ||
        !realpath("examples/circle_packing", example) ||
        !realpath("tests/data/gaming-proposer.sh", proposer)) {
        fprintf(stderr, "test_program_drift: run from the repository root after make\n");
        return -1;
    }
    return tu_tempdir(tmpdir, sizeof tmpdir, "progdrift");
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

static int shell(const char *cmd)
{
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* One run of two evaluations: the seed and the proposer's one child. evaluator is a path, or
 * NULL for the example's own. */
static void run_with(const char *name, const char *evaluator, const char *by, int trust)
{
    char cmd[32768], eval[4200];
    snprintf(eval, sizeof eval, "%s/evaluate", example);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' run program --initial '%s/pack.c' --evaluator '%s' "
             "--verifier '%s/verify' --proposer command --command '%s' --evaluations 2 "
             "--store %s.db --quiet %s > %s.log 2>&1",
             tmpdir, tool, example, evaluator ? evaluator : eval, example, by, name,
             trust ? "--trust-proxy" : "", name);
    assert_int_equal(shell(cmd), 0);
}

static void run_gamed(const char *name, int trust)
{
    run_with(name, NULL, proposer, trust);
}

static void drift_of(const char *name, rt_drift *d, rt_audit *a)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.db", tmpdir, name);
    rt_error err;
    rt_store *st = NULL;
    if (rt_store_open(&st, path, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(rt_store_drift(st, d), 0);
    assert_int_equal(rt_store_audit(st, a), 0);
    rt_store_close(st);
}

static void gamed_evaluator_caught(void **state)
{
    (void)state;
    rt_drift d;
    rt_audit a;
    run_gamed("gated", 0);
    drift_of("gated", &d, &a);
    assert_int_equal(d.candidates, 2);      /* the seed and the gamed child */
    assert_int_equal(d.false_passes, 1);    /* the evaluator passed it, the verifier did not */
    assert_int_equal(d.invalid_admitted, 0);
    assert_true(d.claimed_best_valid);
    assert_int_equal(a.nfailures, 0);

    run_gamed("trusted", 1);
    drift_of("trusted", &d, &a);
    assert_int_equal(d.trusted_sessions, 1);
    assert_int_equal(d.invalid_admitted, 1);
    assert_false(d.claimed_best_valid);     /* the run's own best is the gamed packing */
    assert_int_equal(a.nfailures, 1);
    assert_non_null(strstr(a.failures[0], "admitted on the proxy alone"));
    assert_non_null(strstr(a.failures[0], "verifier: invalid"));
}

/* NaN coordinates pass a naive evaluator's every comparison; the exact verifier reads them as
 * what they are, not numbers. */
static void nan_coordinates_caught(void **state)
{
    (void)state;
    char naive[4096], by[4096];
    assert_non_null(realpath("tests/data/naive-evaluate", naive));
    assert_non_null(realpath("tests/data/nan-proposer.sh", by));
    rt_drift d;
    rt_audit a;
    run_with("nan-gated", naive, by, 0);
    drift_of("nan-gated", &d, &a);
    assert_int_equal(d.false_passes, 1);
    assert_int_equal(d.invalid_admitted, 0);
    assert_true(d.claimed_best_valid);
    assert_true(d.claimed_best_proxy < 3); /* the real packing's 2.49..., not the NaN one's 13 */
    assert_int_equal(a.nfailures, 0);

    run_with("nan-trusted", naive, by, 1);
    drift_of("nan-trusted", &d, &a);
    assert_int_equal(d.invalid_admitted, 1);
    assert_false(d.claimed_best_valid);
    assert_true(d.claimed_best_proxy == 13); /* 26 radii of 0.5 in a unit square */
    assert_int_equal(a.nfailures, 1);
    assert_non_null(strstr(a.failures[0], "verifier: invalid"));
}

/* ---- the environment ----------------------------------------------------------------------- */

/* The seed knows the answers up to 3 and says "?" (no claim) for the rest: score 3. */
static const char squares_seed[] =
    "#!/bin/sh\n"
    "# squares N: prints N squared, or ? when it does not know\n"
    "if [ \"$1\" -le 3 ]; then echo $(($1 * $1)); else echo '?'; fi\n";

/* The honest evaluator: runs the candidate on 1..8 and counts the right answers. */
static const char squares_evaluate[] =
    "#!/bin/sh\n"
    "set -u\n"
    "s=0\n"
    "for n in 1 2 3 4 5 6 7 8; do\n"
    "    out=$(sh \"$1\" \"$n\" 2>/dev/null) || out=failed\n"
    "    [ \"$out\" = \"$((n * n))\" ] && s=$((s + 1))\n"
    "done\n"
    "echo \"{\\\"score\\\": $s}\"\n";

/* The gameable one: the same, but it hands the candidate the answer it expects. */
static const char squares_leaky[] =
    "#!/bin/sh\n"
    "set -u\n"
    "s=0\n"
    "for n in 1 2 3 4 5 6 7 8; do\n"
    "    out=$(EXPECTED=$((n * n)) sh \"$1\" \"$n\" 2>/dev/null) || out=failed\n"
    "    [ \"$out\" = \"$((n * n))\" ] && s=$((s + 1))\n"
    "done\n"
    "echo \"{\\\"score\\\": $s}\"\n";

/* The verifier: runs the candidate itself (its own sandbox, its own environment) and recomputes
 * every answer; an answer that is neither right nor "?" makes the candidate invalid. */
static const char squares_verify[] =
    "#!/bin/sh\n"
    "set -u\n"
    "s=0\n"
    "for n in 1 2 3 4 5 6 7 8; do\n"
    "    out=$(sh \"$1\" \"$n\" 2>/dev/null) || out=failed\n"
    "    if [ \"$out\" = \"$((n * n))\" ]; then s=$((s + 1))\n"
    "    elif [ \"$out\" != '?' ]; then\n"
    "        echo \"{\\\"valid\\\": false, \\\"reason\\\": \\\"wrong answer for $n: '$out'\\\"}\"\n"
    "        exit 0\n"
    "    fi\n"
    "done\n"
    "echo \"{\\\"valid\\\": true, \\\"score\\\": $s}\"\n";

/* Proposers that reply with a whole program which prints an answer found in its environment:
 * in ratchet's own variable RT_TEST_SECRET_ANSWERS, or in EXPECTED. */
static const char propose_secret[] =
    "#!/bin/sh\n"
    "cat > /dev/null\n"
    "cat <<'EOF'\n"
    "#!/bin/sh\n"
    "# squares N: the answer from ratchet's environment, no computing\n"
    "echo \"${RT_TEST_SECRET_ANSWERS:-}\" | cut -d' ' -f\"$1\"\n"
    "EOF\n";

static const char propose_expected[] =
    "#!/bin/sh\n"
    "cat > /dev/null\n"
    "cat <<'EOF'\n"
    "#!/bin/sh\n"
    "# squares N: the answer the evaluator expects, no computing\n"
    "echo \"${EXPECTED:-}\"\n"
    "EOF\n";

static void put(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0755), 0);
}

static void put_squares(void)
{
    put("squares.sh", squares_seed);
    put("sq-evaluate", squares_evaluate);
    put("sq-leaky", squares_leaky);
    put("sq-verify", squares_verify);
    put("propose-secret.sh", propose_secret);
    put("propose-expected.sh", propose_expected);
}

/* One run of the seed and one child; a script name is relative to tmpdir. */
static void run_squares(const char *name, const char *evaluator, const char *by, int trust)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' run program --initial squares.sh --evaluator ./%s "
             "--verifier ./sq-verify --proposer command --command ./%s --evaluations 2 "
             "--store %s.db --quiet %s > %s.log 2>&1",
             tmpdir, tool, evaluator, by, name, trust ? "--trust-proxy" : "", name);
    assert_int_equal(shell(cmd), 0);
}

/* The child's row (the store's last): its proxy score, verdict, admission and reason. */
typedef struct child_row {
    double proxy;
    int valid, admitted;
    char reason[512];
} child_row;

static void child_of(const char *name, child_row *c)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.db", tmpdir, name);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT proxy, valid, admitted, reason, "
                                        "(SELECT count(*) FROM candidates) FROM candidates "
                                        "ORDER BY id DESC LIMIT 1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 4), 2); /* the seed and the child */
    c->proxy = sqlite3_column_double(st, 0);
    c->valid = sqlite3_column_int(st, 1);
    c->admitted = sqlite3_column_int(st, 2);
    const unsigned char *r = sqlite3_column_text(st, 3);
    snprintf(c->reason, sizeof c->reason, "%s", r ? (const char *)r : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* (a) The answers in ratchet's own environment reach no sandboxed run. */
static void ratchet_environment_not_passed(void **state)
{
    (void)state;
    put_squares();
    assert_int_equal(setenv("RT_TEST_SECRET_ANSWERS", "1 4 9 16 25 36 49 64", 1), 0);
    run_squares("env-secret", "sq-evaluate", "propose-secret.sh", 0);
    assert_int_equal(unsetenv("RT_TEST_SECRET_ANSWERS"), 0);
    child_row c;
    child_of("env-secret", &c);
    assert_true(c.proxy == 0); /* it printed nothing: the variable was not there */
    assert_int_equal(c.valid, 0);
    assert_int_equal(c.admitted, 0);
    assert_non_null(strstr(c.reason, "wrong answer for 1: ''"));
    rt_drift d;
    rt_audit a;
    drift_of("env-secret", &d, &a);
    assert_int_equal(d.invalid_admitted, 0);
    assert_true(d.claimed_best_valid);
    assert_true(d.claimed_best_proxy == 3); /* the seed */
    assert_int_equal(a.nfailures, 0);
}

/* (b) An evaluator that hands the candidate the expected answer is gamed; the verifier is not. */
static void expected_answer_in_environment_caught(void **state)
{
    (void)state;
    put_squares();
    child_row c;
    rt_drift d;
    rt_audit a;
    run_squares("env-gated", "sq-leaky", "propose-expected.sh", 0);
    child_of("env-gated", &c);
    assert_true(c.proxy == 8); /* the gameable evaluator gave it every answer */
    assert_int_equal(c.valid, 0);
    assert_int_equal(c.admitted, 0);
    assert_non_null(strstr(c.reason, "wrong answer for 1: ''"));
    drift_of("env-gated", &d, &a);
    assert_int_equal(d.false_passes, 1);
    assert_int_equal(d.invalid_admitted, 0);
    assert_true(d.claimed_best_valid);
    assert_true(d.claimed_best_proxy == 3);
    assert_int_equal(a.nfailures, 0);

    run_squares("env-trusted", "sq-leaky", "propose-expected.sh", 1);
    child_of("env-trusted", &c);
    assert_true(c.proxy == 8);
    assert_int_equal(c.admitted, 1);
    drift_of("env-trusted", &d, &a);
    assert_int_equal(d.invalid_admitted, 1);
    assert_false(d.claimed_best_valid);
    assert_true(d.claimed_best_proxy == 8);
    assert_int_equal(a.nfailures, 1);
    assert_non_null(strstr(a.failures[0], "admitted on the proxy alone"));
    assert_non_null(strstr(a.failures[0], "wrong answer for 1"));
}

/* Drift within the problem's tolerance. tiny.txt's x, scored x/10 + 0.2 by the evaluator and
 * (x + 2)/10 by the verifier: the same figure computed in another order, so that they differ in
 * the last bits (1/10 + 0.2 = 0.30000000000000004, 3/10 = 0.3), as the circle-packing example's
 * evaluator and exact verifier do. Round-off is not an overclaim; an evaluator that adds 1e-6
 * still overclaims every candidate. */
static const char roundoff_evaluate[] =
    "#!/bin/sh\n"
    "x=$(sed -n 's/^x = \\([0-9]*\\).*/\\1/p' \"$1\")\n"
    "awk -v x=\"$x\" -v extra=\"${EXTRA:-0}\" "
    "'BEGIN { printf \"{\\\"score\\\": %.17g}\\n\", x / 10 + 0.2 + extra }'\n";
static const char roundoff_verify[] =
    "#!/bin/sh\n"
    "x=$(sed -n 's/^x = \\([0-9]*\\).*/\\1/p' \"$1\")\n"
    "awk -v x=\"$x\" 'BEGIN { printf \"{\\\"valid\\\": true, \\\"score\\\": %.17g}\\n\", "
    "(x + 2) / 10 }'\n";

/* Runs tiny.txt for 12 evaluations with evaluator (relative to tmpdir) and the exact verifier. */
static void run_roundoff(const char *name, const char *evaluator)
{
    char cmd[16384], here[4096];
    assert_non_null(getcwd(here, sizeof here));
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' run program --initial '%s/tests/data/program/tiny.txt' "
             "--evaluator ./%s --verifier ./ro-verify --evaluations 12 --seed 3 --threads 1 "
             "--store %s.db --quiet > %s.log 2>&1",
             tmpdir, tool, here, evaluator, name, name);
    assert_int_equal(shell(cmd), 0);
}

/* Rows whose proxy score lies above the verified one at all, read straight from the store. */
static long long rows_above(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.db", tmpdir, name);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM candidates WHERE valid=1 AND "
                                            "proxy>score", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void roundoff_is_not_an_overclaim(void **state)
{
    (void)state;
    put("ro-evaluate", roundoff_evaluate);
    put("ro-verify", roundoff_verify);
    char over[sizeof roundoff_evaluate + 64];
    snprintf(over, sizeof over, "#!/bin/sh\nEXTRA=1e-6 exec \"$(dirname \"$0\")/ro-evaluate\" \"$@\"\n");
    put("ro-over", over);
    rt_drift d;
    rt_audit a;
    run_roundoff("roundoff", "ro-evaluate");
    drift_of("roundoff", &d, &a);
    assert_true(rows_above("roundoff") > 0); /* the round-off is there */
    assert_true(d.candidates >= 2);
    assert_int_equal(d.overclaims, 0);
    assert_true(d.max_gap == 0);
    for (int b = 0; b < d.nbuckets; b++)
        assert_int_equal(d.buckets[b].overclaims, 0);
    assert_int_equal(a.nfailures, 0);

    run_roundoff("overclaim", "ro-over");
    drift_of("overclaim", &d, &a);
    assert_true(d.candidates >= 2);
    assert_int_equal(d.overclaims, d.candidates); /* 1e-6 above: every row overclaims */
    assert_int_equal(d.score_overclaims, d.candidates);
    assert_true(d.max_gap > 0.9e-6 && d.max_gap < 1.1e-6);
}

static void program_certificate(void **state)
{
    (void)state;
    char cmd[32768], path[600];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' best gated.db --certificate cert > /dev/null",
             tmpdir, tool);
    assert_int_equal(shell(cmd), 0);
    size_t len = 0;
    snprintf(path, sizeof path, "%s/cert/verifier-output.txt", tmpdir);
    char *out = tu_slurp(path, &len);
    assert_non_null(out);
    assert_non_null(strstr(out, "\"valid\": true"));
    free(out);
    snprintf(path, sizeof path, "%s/cert/README.txt", tmpdir);
    out = tu_slurp(path, &len);
    assert_non_null(out);
    assert_non_null(strstr(out, "candidate.c"));
    free(out);
    /* by hand, as the README says, in a scratch folder */
    snprintf(cmd, sizeof cmd,
             "cd '%s/cert' && mkdir -p again && cd again && cp ../candidate.c . && "
             "'%s/verify' candidate.c | grep -q '\"valid\": true'",
             tmpdir, example);
    assert_int_equal(shell(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gamed_evaluator_caught),
        cmocka_unit_test(nan_coordinates_caught),
        cmocka_unit_test(program_certificate),
        cmocka_unit_test(ratchet_environment_not_passed),
        cmocka_unit_test(expected_answer_in_environment_caught),
        cmocka_unit_test(roundoff_is_not_an_overclaim),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
