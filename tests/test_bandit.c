/* test_bandit.c — the operator bandit and the run's stored policy and bandit state.
 *
 * Bandit: probabilities form a distribution with every arm at or above the floor; with the
 * bandit off they follow the policy's weights; an arm that pays takes a growing share; the saved
 * state reads back exactly and malformed state is refused. Runs: the policy given at creation is
 * stored and used on resume, the bandit state is stored, and the result for a seed does not
 * depend on the number of threads. Sized rewards: an arm whose rarer improvements are larger
 * wins with bandit.gain > 0 and loses with 0, whatever the score's units. Work shares: with
 * bandit.work_exp 1, two arms that earn nothing take equal shares of the work, not of the draws. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "bandit.h"
#include "problem.h"
#include "ratchet.h"
#include "problems/matmul/matmul_policy.h"
#include "testutil.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    return tu_tempdir(tmpdir, sizeof tmpdir, "bandit");
}

static int teardown_dir(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

static void probs_are_a_distribution(const rt_bandit *b)
{
    double p[RT_BANDIT_MAX_ARMS], total = 0;
    rt_bandit_probs(b, p);
    for (int k = 0; k < b->narms; k++) {
        assert_true(b->work_exp > 0 || p[k] >= b->floor - 1e-12); /* a floor of the draws */
        total += p[k];
    }
    assert_true(total > 1 - 1e-9 && total < 1 + 1e-9);
}

/* <2,2,2> in the --lift 1 override mode: a problem with two operators, walk and plus. */
static rt_problem *open_two_arms(void)
{
    const char *keys[] = {"shape", "lift"}, *values[] = {"2x2x2", "1"};
    rt_problem *mm = NULL;
    rt_error perr = {0};
    assert_int_equal(rt_problem_open(&mm, "matmul", keys, values, 2, &perr), 0);
    return mm;
}

static void bandit_follows_rewards(void **state)
{
    (void)state;
    rt_policy pol;
    rt_policy_defaults(&pol);
    rt_bandit b;
    char err[256];
    /* --lift 1: an override mode, whose operators are walk and plus (the default portfolio has
     * more: test_matmul_portfolio) */
    rt_problem *mm = open_two_arms();
    assert_int_equal(rt_bandit_init(&b, mm, &pol, err, sizeof err), 0);
    assert_int_equal(b.narms, 2);
    assert_string_equal(b.arms[0].name, "walk");
    probs_are_a_distribution(&b);

    /* off: the policy's weights */
    pol.bandit.enabled = 0;
    mm_policy_mut(&pol)->op_walk = 3;
    mm_policy_mut(&pol)->op_plus = 1;
    rt_bandit off;
    assert_int_equal(rt_bandit_init(&off, mm, &pol, err, sizeof err), 0);
    double p[RT_BANDIT_MAX_ARMS];
    rt_bandit_probs(&off, p);
    assert_true(p[0] > 0.749 && p[0] < 0.751);

    /* on: "plus" pays at the same cost, "walk" never does; plus's share grows well past its
     * prior of 0.1 and walk keeps at least the floor */
    rt_rng rng;
    rt_rng_seed(&rng, 3, 0);
    for (int i = 0; i < 400; i++) {
        int arm = rt_bandit_choose(&b, &rng);
        assert_true(arm == 0 || arm == 1);
        rt_bandit_update(&b, arm, arm == 1 ? 1 : 0, 1000);
        probs_are_a_distribution(&b);
    }
    rt_bandit_probs(&b, p);
    assert_true(p[1] > 0.5);
    assert_true(p[0] >= b.floor - 1e-12);
    assert_true(b.arms[1].wins > 0 && b.arms[0].wins == 0);

    /* the saved state reads back exactly */
    rt_buf buf;
    rt_buf_init(&buf, 0);
    assert_int_equal(rt_bandit_save(&b, &buf), 0);
    rt_bandit c;
    assert_int_equal(rt_bandit_init(&c, mm, &pol, err, sizeof err), 0);
    pol.bandit.enabled = 1;
    assert_int_equal(rt_bandit_init(&c, mm, &pol, err, sizeof err), 0);
    c.discount = b.discount;
    assert_int_equal(rt_bandit_load(&c, buf.data, buf.len, err, sizeof err), 0);
    for (int k = 0; k < 2; k++) {
        assert_true(c.arms[k].n == b.arms[k].n);
        assert_true(c.arms[k].reward == b.arms[k].reward);
        assert_true(c.arms[k].cost == b.arms[k].cost);
        assert_int_equal(c.arms[k].pulls, b.arms[k].pulls);
    }
    rt_buf_free(&buf);

    /* malformed state is refused and leaves the bandit as it was */
    const char *bad[] = {"", "[]", "{\"arms\":3}", "{\"arms\":[{\"op\":\"nosuch\"}]}",
                         "{\"arms\":[{\"op\":\"walk\",\"n\":-1,\"reward\":0,\"cost\":0,"
                         "\"pulls\":0,\"wins\":0}]}",
                         "{\"arms\":[{\"op\":\"walk\",\"n\":1,\"reward\":0,\"cost\":0,"
                         "\"pulls\":1,\"wins\":2}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long pulls = c.arms[0].pulls;
        assert_int_equal(rt_bandit_load(&c, bad[i], strlen(bad[i]), err, sizeof err), RT_ESTORE);
        assert_int_equal(c.arms[0].pulls, pulls);
    }
    /* random bytes: an answer, never a crash */
    rt_rng_seed(&rng, 9, 9);
    char junk[64];
    for (int i = 0; i < 2000; i++) {
        size_t n = rt_rng_below(&rng, sizeof junk);
        for (size_t j = 0; j < n; j++)
            junk[j] = "{}[]\":,0123456789aeopnrstw-."[rt_rng_below(&rng, 28)];
        int rc = rt_bandit_load(&c, junk, n, err, sizeof err);
        assert_true(rc == 0 || rc == RT_ESTORE);
    }
    rt_problem_close(mm);
}

/* Two arms drawn in turn at equal cost: arm 0 improves by unit every time, arm 1 by 20 units one
 * time in four (five times the total improvement, a quarter of the wins). Returns p[1]. */
static double sized_share(const rt_problem *mm, double gain, double unit, rt_bandit *b)
{
    rt_policy pol;
    rt_policy_defaults(&pol);
    pol.bandit.gain = gain;
    char err[256];
    assert_int_equal(rt_bandit_init(b, mm, &pol, err, sizeof err), 0);
    for (int i = 0; i < 80; i++) {
        int arm = i % 2;
        int pays = arm == 0 || i % 8 == 1;
        double r = pays ? rt_bandit_reward(b, 1, arm ? 20 * unit : unit) : 0;
        rt_bandit_update(b, arm, r, 1000);
        probs_are_a_distribution(b);
    }
    double p[RT_BANDIT_MAX_ARMS];
    rt_bandit_probs(b, p);
    return p[1];
}

static void rewards_see_the_size(void **state)
{
    (void)state;
    rt_problem *mm = open_two_arms();
    rt_bandit b, c;
    rt_policy pol;
    rt_policy_defaults(&pol);
    assert_true(pol.bandit.gain > 0); /* the default sees the size */
    assert_true(sized_share(mm, 0, 1, &b) < 0.3); /* alike: the frequent winner (0.21) */
    double p = sized_share(mm, pol.bandit.gain, 1, &b);
    assert_true(p > 0.5); /* sized: the large steps (0.59 with gain 0.9) */
    /* units do not matter: the same with steps of 1000 and 1e-3 */
    assert_true(fabs(sized_share(mm, pol.bandit.gain, 1000, &c) - p) < 1e-9);
    assert_true(fabs(sized_share(mm, pol.bandit.gain, 1e-3, &c) - p) < 1e-9);
    /* no improvement is no reward; a secondary gain (size 0) is the base */
    assert_true(rt_bandit_reward(&b, 0, 5) == 0);
    double g = pol.bandit.gain;
    assert_true(fabs(rt_bandit_reward(&b, 2, 0) - 2 * (1 - g)) < 1e-12);
    assert_true(fabs(rt_bandit_reward(&b, 1, NAN) - (1 - g)) < 1e-12);
    /* the mean step is saved and read back; a state without it (older runs) still loads */
    rt_buf buf;
    rt_buf_init(&buf, 0);
    assert_int_equal(rt_bandit_save(&b, &buf), 0);
    char err[256];
    assert_int_equal(rt_bandit_init(&c, mm, &pol, err, sizeof err), 0);
    assert_int_equal(rt_bandit_load(&c, buf.data, buf.len, err, sizeof err), 0);
    assert_true(c.step_sum == b.step_sum && c.step_n == b.step_n && b.step_n > 0);
    rt_buf_free(&buf);
    const char *old = "{\"enabled\":true,\"arms\":[]}", *bad = "{\"step_n\":-1,\"arms\":[]}";
    assert_int_equal(rt_bandit_load(&c, old, strlen(old), err, sizeof err), 0);
    assert_int_equal(rt_bandit_load(&c, bad, strlen(bad), err, sizeof err), RT_ESTORE);
    rt_problem_close(mm);
}

/* Two arms that never pay, drawn in turn; arm 1's draws cost 100 times arm 0's. Returns p[1]
 * after 40 draws with the given work_exp. */
static double expensive_share(const rt_problem *mm, double work_exp)
{
    rt_policy pol;
    rt_policy_defaults(&pol);
    pol.bandit.work_exp = work_exp;
    mm_policy_mut(&pol)->op_walk = mm_policy_mut(&pol)->op_plus = 1; /* equal priors */
    rt_bandit b;
    char err[256];
    double p[RT_BANDIT_MAX_ARMS];
    assert_int_equal(rt_bandit_init(&b, mm, &pol, err, sizeof err), 0);
    rt_bandit_update(&b, 0, 0, 1000);
    rt_bandit_probs(&b, p); /* arm 1 not drawn yet: it counts at arm 0's mean, as draws would */
    rt_bandit draws = b;
    draws.work_exp = 0;
    double q[RT_BANDIT_MAX_ARMS];
    rt_bandit_probs(&draws, q);
    assert_true(fabs(p[1] - q[1]) < 1e-12);
    for (int i = 1; i < 40; i++) {
        rt_bandit_update(&b, i % 2, 0, i % 2 ? 100000 : 1000);
        probs_are_a_distribution(&b);
    }
    rt_bandit_probs(&b, p);
    return p[1];
}

static void shares_of_draws_or_work(void **state)
{
    (void)state;
    rt_problem *mm = open_two_arms();
    rt_policy pol;
    rt_policy_defaults(&pol);
    assert_true(pol.bandit.work_exp == 0); /* the default: shares of the draws */
    /* nothing pays: the expensive arm keeps about half the draws (its prior share); measured
     * p1 0.4989 (draws), 0.0099 (work), 0.0906 (exponent 0.5) */
    double p_draws = expensive_share(mm, 0);
    assert_true(p_draws > 0.4);
    double p_work = expensive_share(mm, 1);
    /* shares of the work: p1 * 100001 against p0 * 1001 (cost + 1 per draw), within the
     * exploration term's unequal counts */
    double ratio = p_work * 100001 / ((1 - p_work) * 1001);
    assert_true(ratio > 0.5 && ratio < 2);
    assert_true(p_work < 0.02);
    double p_half = expensive_share(mm, 0.5);
    assert_true(p_half < p_draws && p_half > p_work);
    rt_problem_close(mm);
}

/* bandit.work_warm: with shares of the work, an arm drawn fewer than work_warm times is drawn
 * as if it cost the others' mean; from its work_warm-th draw on its own cost counts. */
static void work_warm_tries_dear_arms(void **state)
{
    (void)state;
    rt_problem *mm = open_two_arms();
    rt_policy pol;
    rt_policy_defaults(&pol);
    assert_int_equal(pol.bandit.work_warm, 1); /* the default: the bandit of before */
    pol.bandit.work_exp = 1;
    pol.bandit.work_warm = 4;
    mm_policy_mut(&pol)->op_walk = mm_policy_mut(&pol)->op_plus = 1;
    rt_bandit b, draws;
    char err[256];
    double p[RT_BANDIT_MAX_ARMS], q[RT_BANDIT_MAX_ARMS];
    assert_int_equal(rt_bandit_init(&b, mm, &pol, err, sizeof err), 0);
    for (int i = 0; i < 8; i++) { /* arm 1 twice, 100 times dearer than arm 0 */
        int arm = i % 3 == 2;
        rt_bandit_update(&b, arm, 0, arm ? 100000 : 1000);
    }
    assert_int_equal(b.arms[1].pulls, 2);
    rt_bandit_update(&b, 1, 0, 100000);
    assert_int_equal(b.arms[1].pulls, 3);
    rt_bandit_probs(&b, p);
    draws = b;
    draws.work_exp = 0;
    rt_bandit_probs(&draws, q);
    assert_true(fabs(p[1] - q[1]) < 1e-12); /* still warming: shares of the draws */
    assert_true(p[1] > 0.3);
    rt_bandit_update(&b, 1, 0, 100000); /* its 4th draw: its own cost counts */
    rt_bandit_probs(&b, p);
    assert_true(p[1] < 0.05);
    b.work_warm = 1; /* the bandit of before: counted from the first draw */
    rt_bandit c = b;
    c.arms[1].pulls = 1;
    rt_bandit_probs(&c, q);
    assert_true(fabs(p[1] - q[1]) < 1e-12);
    rt_problem_close(mm);
}

static void run_once(const char *name, int threads, const char *policy, char *best_hash)
{
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field"}, *values[] = {"2x3x3", "gf2"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 2, &err), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/%s.db", tmpdir, name);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.evaluations = 60;
    opt.threads = threads;
    opt.policy = policy;
    rt_run *run = NULL;
    if (rt_run_create(&run, path, pb, &opt, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    rt_problem_close(pb);
    rt_store *st = NULL;
    assert_int_equal(rt_store_open(&st, path, &err), 0);
    rt_summary s;
    assert_int_equal(rt_store_summary(st, &s), 0);
    snprintf(best_hash, 65, "%s", s.best_hash);
    rt_store_close(st);
}

static void runs_store_policy_and_bandit(void **state)
{
    (void)state;
    const char *policy = "{\"matmul\": {\"walk_flips\": 300, \"op_plus\": 0.5}}";
    char h1[65], h2[65];
    run_once("t1", 1, policy, h1);
    run_once("t2", 3, policy, h2);
    assert_string_equal(h1, h2); /* the bandit keeps runs deterministic for a seed */

    char path[512];
    snprintf(path, sizeof path, "%s/t1.db", tmpdir);
    rt_error err;
    rt_store *st = NULL;
    assert_int_equal(rt_store_open(&st, path, &err), 0);
    char *json = NULL, *bandit = NULL;
    assert_int_equal(rt_store_policy(st, &json), 0);
    assert_non_null(strstr(json, "\"walk_flips\": 300"));
    assert_int_equal(rt_store_bandit(st, &bandit), 0);
    assert_non_null(bandit);
    assert_non_null(strstr(bandit, "\"op\":\"plus\""));
    /* the engine hands the bandit the size of each improvement */
    assert_non_null(strstr(bandit, "\"step_n\":"));
    assert_null(strstr(bandit, "\"step_n\":0,"));
    free(json);
    free(bandit);
    rt_store_close(st);

    /* a resume runs with the stored policy: the walk is still 300 flips per step */
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.evaluations = 10;
    rt_run *run = NULL;
    assert_int_equal(rt_run_resume(&run, path, NULL, &opt, &err), 0);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    assert_int_equal(rt_store_open(&st, path, &err), 0);
    assert_int_equal(rt_store_policy(st, &json), 0);
    assert_non_null(strstr(json, "\"walk_flips\": 300"));
    free(json);
    rt_summary s;
    assert_int_equal(rt_store_summary(st, &s), 0);
    assert_int_equal(s.evaluations, 70);
    rt_store_close(st);

    /* a bad policy is refused at creation, naming the key */
    rt_problem *pb = NULL;
    const char *keys[] = {"shape"}, *values[] = {"2x2x2"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 1, &err), 0);
    opt.policy = "{\"matmul\": {\"walk_flops\": 3}}";
    snprintf(path, sizeof path, "%s/bad.db", tmpdir);
    assert_int_equal(rt_run_create(&run, path, pb, &opt, &err), RT_EUSAGE);
    assert_non_null(strstr(err.msg, "matmul.walk_flops"));
    rt_problem_close(pb);
}

/* A test hook: every "walk" child is to be made from its island's best. */
static double walk_from_best(const void *state, const char *op)
{
    (void)state;
    return strcmp(op, "walk") == 0 ? 1 : 0;
}

/* Children of op "walk" whose parent scored below the best admitted before them (one island,
 * so the rows before a child are the archive it was proposed from). */
static long long walks_from_below_best(int hook)
{
    rt_problem_class cls = rt_problem_matmul;
    cls.op_best_parent = hook ? walk_from_best : NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/best%d.db", tmpdir, hook);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.evaluations = 150;
    opt.islands = 1;
    opt.seed = 3;
    opt.policy = "{\"engine\": {\"p_best\": 0}}";
    assert_int_equal(tu_run_matmul_as(&cls, "3x3x3", "gf2", path, &opt), 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT sum(p.score < (SELECT max(b.score) FROM candidates b"
                      "  WHERE b.admitted = 1 AND b.id < c.id)), count(*)"
                      " FROM candidates c JOIN candidates p ON p.id = c.parent"
                      " WHERE c.operator = 'walk'";
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long below = sqlite3_column_int64(st, 0), walks = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_true(walks >= 20);
    return below;
}

/* An operator the problem sends to the best (rt_problem_class.op_best_parent, matmul's symlong)
 * gets its island's best as parent whatever the selection drew; without the hook, with
 * engine.p_best 0, the same operator's parents are often below the best. */
static void operators_can_ask_for_the_best(void **state)
{
    (void)state;
    assert_int_equal(walks_from_below_best(1), 0);
    assert_true(walks_from_below_best(0) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bandit_follows_rewards),
        cmocka_unit_test(rewards_see_the_size),
        cmocka_unit_test(shares_of_draws_or_work),
        cmocka_unit_test(work_warm_tries_dear_arms),
        cmocka_unit_test(operators_can_ask_for_the_best),
        cmocka_unit_test(runs_store_policy_and_bandit),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
