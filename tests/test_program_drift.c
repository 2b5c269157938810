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
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
