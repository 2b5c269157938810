/* test_steady.c — in-process work on job slots (rt_run_options.steady, `ratchet run --steady`;
 * docs/scheduling.md).
 *
 * The problem is matmul with one operator of its own, "nap": matmul's walk, after which about one
 * application in three sleeps 150 ms, standing for the long runs (a symmetric search at <5,5,5>)
 * that a generation waits for. What would break these tests: --steady ignored (every generation
 * takes its children in island order, so the islands' children come round-robin); a steady run
 * that holds a free thread until the slow island is back; a steady run on one thread that is not
 * the same run for the same seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "problem.h"
#include "ratchet.h"
#include "testutil.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    return tu_tempdir(tmpdir, sizeof tmpdir, "steady");
}

static int teardown_dir(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

/* matmul's own walk, for the walk inside nap */
static int (*matmul_walk)(const void *state, void *genome, rt_rng *rng, long long *work);

static int nap_apply(const void *state, void *genome, rt_rng *rng, long long *work)
{
    int rc = matmul_walk(state, genome, rng, work);
    if (rt_rng_unit(rng) < 0.35) {
        struct timespec t = {0, 150 * 1000000L};
        nanosleep(&t, NULL);
    }
    return rc;
}

static const rt_operator nap_ops[] = {{"nap", 1, nap_apply}};

static const rt_operator *nap_operators(const void *state, size_t *n)
{
    (void)state;
    *n = 1;
    return nap_ops;
}

/* A run of the napping matmul problem (<3,3,3> over GF(2), 4 islands, 40 proposals); returns
 * the islands of its candidates in the order they were stored, as digits. */
static void napping_run(const char *name, int steady, int threads, char *islands, size_t len)
{
    rt_problem_class cls = rt_problem_matmul;
    cls.operators_for = nap_operators;
    rt_problem *pb = NULL; /* for matmul's own operators */
    rt_error err;
    const char *keys[] = {"shape", "field"}, *values[] = {"3x3x3", "gf2"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 2, &err), 0);
    size_t n = 0;
    const rt_operator *ops = rt_problem_operators(pb, &n);
    assert_true(n >= 1 && strcmp(ops[0].name, "walk") == 0);
    matmul_walk = ops[0].apply; /* a static function of matmul's: valid after the close */
    rt_problem_close(pb);
    char path[512];
    snprintf(path, sizeof path, "%s/%s.db", tmpdir, name);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.evaluations = 40;
    opt.islands = 4;
    opt.threads = threads;
    opt.steady = steady;
    opt.seed = 5;
    opt.policy = "{\"matmul\": {\"walk_flips\": 2000}}";
    assert_int_equal(tu_run_matmul_as(&cls, "3x3x3", "gf2", path, &opt), 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT island FROM candidates ORDER BY id", -1,
                                        &st, NULL),
                     SQLITE_OK);
    size_t k = 0;
    while (sqlite3_step(st) == SQLITE_ROW && k + 1 < len)
        islands[k++] = (char)('0' + sqlite3_column_int(st, 0));
    islands[k] = '\0';
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_true(k >= 35); /* the seed, and nearly every proposal stored */
}

/* Whether the stored children (after the seed row) come in rounds of every island once. */
static int round_robin(const char *islands)
{
    const char *c = islands + 1;
    size_t n = strlen(c);
    for (size_t k = 0; k + 4 <= n; k += 4) {
        int seen = 0;
        for (size_t i = 0; i < 4; i++)
            seen |= 1 << (c[k + i] - '0');
        if (seen != 15)
            return 0;
    }
    return 1;
}

/* Generations take one child per island, in island order, whatever the naps; under steady the
 * islands that do not nap go on while one naps, so some island comes back twice before another
 * comes back once. */
static void a_napping_island_holds_up_nothing_else(void **state)
{
    (void)state;
    char gen[128], steady[128];
    napping_run("gen", 0, 2, gen, sizeof gen);
    if (!round_robin(gen))
        fail_msg("generations out of island order: %s", gen);
    napping_run("steady", 1, 2, steady, sizeof steady);
    if (round_robin(steady))
        fail_msg("--steady kept the islands in rounds: %s", steady);
}

/* One thread takes the islands in turn: a seed still gives one run. */
static void steady_on_one_thread_is_one_run(void **state)
{
    (void)state;
    char a[128], b[128];
    napping_run("one_a", 1, 1, a, sizeof a);
    napping_run("one_b", 1, 1, b, sizeof b);
    assert_string_equal(a, b);
    sqlite3 *da = NULL, *db = NULL;
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/one_a.db", tmpdir);
    snprintf(pb, sizeof pb, "%s/one_b.db", tmpdir);
    assert_int_equal(sqlite3_open_v2(pa, &da, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_open_v2(pb, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    const char *sql = "SELECT hex(hash) FROM candidates ORDER BY id";
    sqlite3_stmt *sa = NULL, *sb = NULL;
    assert_int_equal(sqlite3_prepare_v2(da, sql, -1, &sa, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &sb, NULL), SQLITE_OK);
    int rows = 0;
    for (;;) {
        int ra = sqlite3_step(sa), rb = sqlite3_step(sb);
        assert_int_equal(ra, rb);
        if (ra != SQLITE_ROW)
            break;
        assert_string_equal((const char *)sqlite3_column_text(sa, 0),
                            (const char *)sqlite3_column_text(sb, 0));
        rows++;
    }
    assert_true(rows >= 35);
    sqlite3_finalize(sa);
    sqlite3_finalize(sb);
    sqlite3_close(da);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_napping_island_holds_up_nothing_else, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(steady_on_one_thread_is_one_run, setup_dir,
                                        teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
