/* test_noise.c — noise-aware acceptance (gate.c, rt_policy's noise_* knobs) on the `noisy`
 * problem, whose evaluator adds Gaussian noise to a hidden true fitness.
 *
 * The same run is made twice from the same seeds: once with noise-aware acceptance off
 * (noise_samples = 0: every measurement taken at its word) and once with the default policy.
 * From each store the true fitness of every admitted candidate is recomputed from its text; an
 * admission that replaced its island's incumbent by a truly worse point is a *false
 * improvement*, and a stored score above the admitted point's true fitness is *inflation*
 * (the winner's curse). The naive run must show many false improvements and an inflated best;
 * the noise-aware run must cut both. Also: the noisy parser survives arbitrary bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "engine.h"
#include "problem.h"
#include "ratchet.h"
#include "rng.h"
#include "testutil.h"

double noisy_true_fitness(const int *x); /* src/problems/noisy.c */

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    return tu_tempdir(tmpdir, sizeof tmpdir, "noise");
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

typedef struct outcome {
    long long admitted, false_improvements;
    double inflation;      /* stored score minus true fitness of the last admitted, summed */
    double final_true;     /* true fitness of the last admitted point, best island */
    long long reevaluations;
} outcome;

static double text_fitness(const char *text)
{
    int x[4];
    assert_int_equal(sscanf(text, "x %d %d %d %d", &x[0], &x[1], &x[2], &x[3]), 4);
    return noisy_true_fitness(x);
}

static void run_noisy(const char *name, int aware, outcome *o)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.db", tmpdir, name);
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"sigma", "seed"}, *values[] = {"8", "11"};
    assert_int_equal(rt_problem_open(&pb, "noisy", keys, values, 2, &err), 0);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.islands = 2;
    opt.evaluations = 1200;
    opt.seed = 3;
    rt_run *run = NULL;
    if (rt_run_create(&run, path, pb, &opt, &err))
        fail_msg("rt_run_create: %s", err.msg);
    rt_policy *pol = rt_run_policy(run);
    if (!aware)
        pol->noise_samples = 0;
    if (getenv("RT_NOISE_MARGIN"))
        pol->noise_margin = strtod(getenv("RT_NOISE_MARGIN"), NULL);
    assert_int_equal(rt_run_execute(run), 0);
    rt_noise_counts nc;
    rt_run_noise_counts(run, &nc);
    rt_run_close(run);
    rt_problem_close(pb);

    memset(o, 0, sizeof *o);
    o->reevaluations = nc.reevaluations;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT island, text, score FROM candidates WHERE "
                                        "admitted=1 ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    double incumbent[2] = {-1e18, -1e18}, last_score[2] = {0, 0};
    while (sqlite3_step(st) == SQLITE_ROW) {
        int island = sqlite3_column_int(st, 0);
        assert_true(island >= 0 && island < 2);
        double f = text_fitness((const char *)sqlite3_column_text(st, 1));
        if (f < incumbent[island])
            o->false_improvements++;
        incumbent[island] = f;
        last_score[island] = sqlite3_column_double(st, 2);
        o->admitted++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    o->final_true = incumbent[0] > incumbent[1] ? incumbent[0] : incumbent[1];
    for (int i = 0; i < 2; i++)
        o->inflation += last_score[i] - incumbent[i];
}

static void noise_aware_acceptance(void **state)
{
    (void)state;
    outcome naive, aware;
    run_noisy("naive", 0, &naive);
    run_noisy("aware", 1, &aware);
    print_message("naive: %lld admitted, %lld false improvements, inflation %.1f, final true "
                  "fitness %.0f\n",
                  naive.admitted, naive.false_improvements, naive.inflation, naive.final_true);
    print_message("aware: %lld admitted, %lld false improvements, inflation %.1f, final true "
                  "fitness %.0f, %lld re-evaluations\n",
                  aware.admitted, aware.false_improvements, aware.inflation, aware.final_true,
                  aware.reevaluations);
    /* the naive run re-evaluated only its seed, at creation (before its policy was changed) */
    assert_true(naive.reevaluations <= 4);
    assert_true(aware.reevaluations > 0);
    assert_true(naive.false_improvements >= 10);
    assert_true(aware.false_improvements * 4 <= naive.false_improvements);
    assert_true(naive.inflation > 0);
    assert_true(aware.inflation < naive.inflation);
    /* it still climbs, from -1843 at the origin (more slowly: it believes fewer draws) */
    assert_true(aware.final_true > -400);
}

/* The noisy problem's parser takes arbitrary bytes: a verdict or a clean RT_EUSAGE. */
static void noisy_parser_survives_bytes(void **state)
{
    (void)state;
    rt_problem *pb = NULL;
    rt_error err;
    assert_int_equal(rt_problem_open(&pb, "noisy", NULL, NULL, 0, &err), 0);
    rt_rng rng;
    rt_rng_seed(&rng, 99, 0);
    char buf[300];
    static const char alphabet[] = "x 0123456789-+\n\t\0ab";
    for (int k = 0; k < 20000; k++) {
        size_t len = rt_rng_below(&rng, sizeof buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = k % 2 ? (char)rt_rng_below(&rng, 256)
                           : alphabet[rt_rng_below(&rng, sizeof alphabet - 1)];
        if (k % 3 == 0 && len >= 2) {
            buf[0] = 'x';
            buf[1] = ' ';
        }
        rt_verdict v;
        int rc = rt_problem_verify_text(pb, buf, len, &v, &err);
        assert_true(rc == 0 || rc == RT_EUSAGE || rc == RT_ETOOBIG);
        if (rc == 0)
            assert_true(v.valid);
        else
            assert_true(strlen(err.msg) > 0);
    }
    const char *good = "x 17 -23 8 31\n";
    rt_verdict v;
    assert_int_equal(rt_problem_verify_text(pb, good, strlen(good), &v, &err), 0);
    assert_true(v.valid);
    const char *bad[] = {"x 1 2 3\n", "x 1 2 3 4 5\n", "x 51 0 0 0\n", "x 1  2 3 4\n",
                         "y 1 2 3 4\n", "x 1 2 3 4\n\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rt_problem_verify_text(pb, bad[i], strlen(bad[i]), &v, &err), RT_EUSAGE);
    rt_problem_close(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(noise_aware_acceptance),
        cmocka_unit_test(noisy_parser_survives_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
