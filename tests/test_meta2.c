/* test_meta2.c — level 2 of the meta level (docs/recursion.md): the meta knobs race_eta and
 * screen, the split of the knob table between the levels, the gate's independence from the meta
 * knobs, `ratchet meta --level 2` argument errors, and a tiny level-2 search that must run its
 * proxy and races on the training suite only and leave its lineage in the store.
 *
 * Everything runs on the cheapest shapes (2x2x2 and 2x2x3 over GF(2): a trial is a few
 * milliseconds), with one- or two-step level-1 runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "meta.h"
#include "policy.h"
#include "problem.h"
#include "ratchet.h"
#include "rng.h"
#include "testutil.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    return tu_tempdir(dir, sizeof dir, "meta2");
}

static int teardown(void **state)
{
    (void)state;
    rt_meta_observe(NULL, NULL);
    tu_rmtree(dir);
    return 0;
}

/* Level 1 changes every knob but meta.*, level 2 only meta.*. */
static void levels_split_the_knobs(void **state)
{
    (void)state;
    size_t n;
    const rt_knob *k = rt_policy_knobs(&n);
    rt_policy def, p;
    rt_policy_defaults(&def);
    rt_rng rng;
    rt_rng_seed(&rng, 7, 0);
    int meta_changed = 0, other_changed = 0;
    for (int inside = 0; inside <= 1; inside++)
        for (int t = 0; t < 200; t++) {
            p = def;
            assert_true(rt_policy_mutate_part(&p, &def, &rng, "meta.", inside) > 0);
            for (size_t i = 0; i < n; i++) {
                if (k[i].type == RT_KNOB_STR)
                    continue;
                int is_meta = strncmp(k[i].name, "meta.", 5) == 0;
                if (rt_policy_get(&p, &k[i]) == rt_policy_get(&def, &k[i]))
                    continue;
                if (is_meta != inside)
                    fail_msg("level %d changed %s", inside + 1, k[i].name);
                meta_changed += is_meta;
                other_changed += !is_meta;
            }
        }
    assert_true(meta_changed > 0 && other_changed > 0);
    /* the new knobs exist, with the defaults that keep the racing of before */
    const rt_knob *eta = rt_policy_knob_find("meta.race_eta");
    const rt_knob *screen = rt_policy_knob_find("meta.screen");
    assert_non_null(eta);
    assert_non_null(screen);
    assert_true(rt_policy_get(&def, eta) == 2 && rt_policy_get(&def, screen) == 0);
    /* the gate's margin is not a knob of any policy */
    for (size_t i = 0; i < n; i++)
        assert_null(strstr(k[i].name, "gate"));
}

/* The same candidate with every meta knob changed, in policy and baseline: the same verdict. */
static void gate_ignores_meta_knobs(void **state)
{
    (void)state;
    rt_problem *pb = NULL;
    rt_error err;
    const char *k[] = {"train", "heldout", "vseeds", "evals", "work"};
    const char *v[] = {"matmul:2x2x2:gf2", "matmul:2x2x3:gf2", "6", "30", "1000000"};
    assert_int_equal(rt_problem_open(&pb, "policy", k, v, 5, &err), 0);
    const char *good = "{\"matmul\": {\"op_plus\": 0, \"op_restart\": 0, "
                       "\"op_split\": 0, \"op_cube\": 0, \"flips_exp\": 0, "
                       "\"pf_walk_flips\": 20000}%s}";
    const char *bad = "{\"matmul\": {\"op_plus\": 0, \"op_restart\": 0, "
                      "\"op_split\": 0, \"op_cube\": 0, \"flips_exp\": 0, "
                      "\"pf_walk_flips\": 1}%s}";
    const char *metas[] = {"", ", \"meta\": {\"race_size\": 3, \"race_seeds\": 5, \"race_eta\": "
                               "7.5, \"screen\": 9, \"step\": 0.05, \"knobs\": 20}"};
    rt_verdict vd[2][2];
    for (int m = 0; m < 2; m++) {
        char g[512], b[512];
        snprintf(g, sizeof g, good, metas[m]);
        snprintf(b, sizeof b, bad, metas[m]);
        for (int dir_ = 0; dir_ < 2; dir_++) {
            char *t = dir_ ? tu_policy_candidate(b, g) : tu_policy_candidate(g, b);
            assert_int_equal(rt_problem_verify_text(pb, t, strlen(t), &vd[m][dir_], &err), 0);
            free(t);
        }
    }
    for (int d = 0; d < 2; d++) {
        assert_int_equal(vd[0][d].valid, vd[1][d].valid);
        assert_true(vd[0][d].metric == vd[1][d].metric);
        assert_string_equal(vd[0][d].summary, vd[1][d].summary);
    }
    assert_true(vd[0][0].valid && !vd[0][1].valid);
    rt_problem_close(pb);
}

/* meta.screen: with the screening threshold at its top, a race that finds a winner at 0 finds
 * none (a log-ratio above 10 would be a 22000x cheaper policy). */
static int races_won(const char *screen)
{
    rt_problem *pb = NULL;
    rt_error err;
    const char *k[] = {"train", "heldout", "seeds", "evals", "work"};
    const char *v[] = {"matmul:2x2x3:gf2", "matmul:2x2x4:gf2", "4", "30", "1000000"};
    assert_int_equal(rt_problem_open(&pb, "policy", k, v, 5, &err), 0);
    char parent[512];
    snprintf(parent, sizeof parent,
             "{\"matmul\": {\"op_plus\": 0, \"op_restart\": 0, \"op_split\": 0, \"op_cube\": 0, "
             "\"flips_exp\": 0, "
             "\"pf_restart_flips\": 1, \"pf_walk_flips\": 1}, \"meta\": {\"race_size\": 8, "
             "\"knobs\": 20, \"step\": 5, \"op_reset\": 0, \"screen\": %s}}",
             screen);
    char *t = tu_policy_candidate(parent, parent);
    void *g = NULL;
    char msg[256];
    assert_int_equal(rt_problem_decode(pb, t, strlen(t), &g, msg, sizeof msg), 0);
    free(t);
    size_t nops = 0;
    const rt_operator *ops = rt_problem_operators(pb, &nops);
    int found = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        rt_rng rng;
        rt_rng_seed(&rng, seed, 0);
        void *child = rt_problem_clone(pb, g);
        long long work = 0;
        found += rt_problem_apply(pb, &ops[0], child, &rng, &work) == 0;
        rt_problem_free_genome(pb, child);
    }
    rt_problem_free_genome(pb, g);
    rt_problem_close(pb);
    return found;
}

static void screen_threshold_applies(void **state)
{
    (void)state;
    assert_true(races_won("0") > 0);
    assert_int_equal(races_won("10"), 0);
}

/* Runs "TOOL ARGS" with its output in dir; returns the exit status, *err its stderr. */
static int run_tool(const char *args, char **err)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s >%s/out 2>%s/err", tu_tool(), args, dir, dir);
    int st = system(cmd);
    char path[512];
    size_t len;
    snprintf(path, sizeof path, "%s/err", dir);
    *err = tu_slurp(path, &len);
    assert_non_null(*err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define SUITE_A "matmul:2x2x2:gf2,matmul:2x2x3:gf2"
#define SUITE_B "matmul:2x2x4:gf2@15,matmul:2x3x3:gf2@16"

static void cli_rejects_bad_input(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/bad.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"meta\": {\"race_eta\": 0.5}}", f);
    fclose(f);
    const struct {
        const char *args, *needle;
    } bad[] = {
        {"--level 3", "level"},
        {"--level x", "level"},
        {"--level 2 --l1steps 0", "l1steps"},
        {"--level 2 --l1work -5", "l1work"},
        {"--level 2 --l1seeds 65", "l1seeds"},
        {"--level 2 --train matmul:2x2x2:gf2 --heldout " SUITE_B, "suite"},
        {"--level 2 --train " SUITE_A " --heldout matmul:2x2x3:z,matmul:2x2x4:z", "2x2x3"},
        {"--level 2 --train matmul:2x2x2:gf2,matmul:5x2x4:z --heldout " SUITE_B, "never-used"},
        {"--level 2 --policy BAD", "meta.race_eta"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char args[1024], *err = NULL, *p;
        snprintf(args, sizeof args, "meta --train %s --heldout %s --store %s/s%zu.db %s",
                 strstr(bad[i].args, "--train") ? "" : SUITE_A,
                 strstr(bad[i].args, "--train") ? "" : SUITE_B, dir, i, bad[i].args);
        if (strstr(bad[i].args, "--train")) /* the case gives its own suites */
            snprintf(args, sizeof args, "meta --store %s/s%zu.db %s", dir, i, bad[i].args);
        if ((p = strstr(args, "BAD"))) {
            char tail[600];
            snprintf(tail, sizeof tail, "%s%s", path, p + 3);
            snprintf(p, sizeof args - (size_t)(p - args), "%s", tail);
        }
        int rc = run_tool(args, &err);
        if (rc != 2 || !strstr(err, bad[i].needle) || strchr(err, '\n') != err + strlen(err) - 1)
            fail_msg("'%s': exit %d, stderr '%s' (want exit 2, one line naming '%s')", args, rc,
                     err, bad[i].needle);
        free(err);
    }
    char *err = NULL;
    assert_int_equal(run_tool("meta --help", &err), 0);
    free(err);
    char out[600];
    snprintf(out, sizeof out, "%s/out", dir);
    size_t len;
    char *help = tu_slurp(out, &len);
    assert_non_null(help);
    assert_non_null(strstr(help, "--level"));
    assert_non_null(strstr(help, "--l1steps"));
    free(help);
}

/* Records the shapes of every level-0 trial. */
typedef struct seen {
    int train, heldout, other;
} seen;

static void observe(const rt_meta_spec *spec, uint64_t seed, void *user)
{
    (void)seed;
    seen *s = user;
    if (strstr(SUITE_A, spec->shape))
        s->train++;
    else if (strstr(SUITE_B, spec->shape))
        s->heldout++;
    else
        s->other++;
}

static const char *start_policy = "{\"meta\": {\"race_size\": 2, \"step\": 3, \"knobs\": 3}}";

static rt_problem *open_level2(void)
{
    rt_problem *pb = NULL;
    rt_error err;
    const char *k[] = {"train", "heldout", "level", "seeds", "vseeds", "l1seeds", "l1vseeds",
                       "l1steps", "evals", "work"};
    const char *v[] = {SUITE_A, SUITE_B, "2", "2", "2", "1", "2", "2", "30", "200000"};
    if (rt_problem_open(&pb, "policy", k, v, sizeof k / sizeof k[0], &err))
        fail_msg("%s", err.msg);
    return pb;
}

/* The level-2 search (proxy and races) runs level 1 on the training suite only; the held-out
 * suite's shapes appear only when the gate verifies. */
static void search_never_touches_heldout(void **state)
{
    (void)state;
    rt_problem *pb = open_level2();
    char *t = tu_policy_candidate(start_policy, start_policy);
    void *g = NULL;
    char msg[256];
    assert_int_equal(rt_problem_decode(pb, t, strlen(t), &g, msg, sizeof msg), 0);
    free(t);
    seen s = {0};
    rt_meta_observe(observe, &s);
    rt_score sc;
    rt_problem_score(pb, g, &sc);
    size_t nops = 0;
    const rt_operator *ops = rt_problem_operators(pb, &nops);
    for (uint64_t seed = 1; seed <= 2; seed++) {
        rt_rng rng;
        rt_rng_seed(&rng, seed, 0);
        void *child = rt_problem_clone(pb, g);
        long long work = 0;
        rt_problem_apply(pb, &ops[0], child, &rng, &work);
        rt_problem_free_genome(pb, child);
    }
    assert_true(s.train > 0);
    assert_int_equal(s.heldout, 0);
    assert_int_equal(s.other, 0);
    rt_verdict vd;
    rt_error err;
    t = tu_policy_candidate(start_policy, start_policy);
    assert_int_equal(rt_problem_verify_text(pb, t, strlen(t), &vd, &err), 0);
    free(t);
    rt_meta_observe(NULL, NULL);
    assert_true(s.heldout > 0);
    assert_true(vd.valid);
    rt_problem_free_genome(pb, g);
    rt_problem_close(pb);
}

static int count_row(const rt_cand_info *c, void *user)
{
    (void)c;
    (*(int *)user)++;
    return 0;
}

/* A tiny level-2 run through the tool completes and leaves its lineage: the run's parameters
 * (level 2, both suites), the reference (the start policy, verified on the held-out suite), and
 * every proposal counted. */
static void tiny_run_stores_lineage(void **state)
{
    (void)state;
    char path[512], args[2048], *err = NULL;
    snprintf(path, sizeof path, "%s/start.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(start_policy, f);
    fclose(f);
    snprintf(args, sizeof args,
             "meta --level 2 --train " SUITE_A " --heldout " SUITE_B " --seeds 2 --vseeds 2 "
             "--l1seeds 1 --l1vseeds 2 --l1steps 2 --evals 30 --work 200000 --islands 1 "
             "--threads 1 --seconds 60 --evaluations 3 --policy %s --store %s/l2.db --out %s/best.json",
             path, dir, dir);
    int rc = run_tool(args, &err);
    if (rc != 0)
        fail_msg("level-2 run: exit %d: %s", rc, err);
    free(err);
    rt_store *st = NULL;
    rt_error e;
    snprintf(path, sizeof path, "%s/l2.db", dir);
    assert_int_equal(rt_store_open(&st, path, &e), 0);
    rt_summary sum;
    assert_int_equal(rt_store_summary(st, &sum), 0);
    assert_string_equal(sum.problem, "policy");
    assert_non_null(strstr(sum.params, "level=2"));
    assert_non_null(strstr(sum.params, "l1steps=2"));
    assert_int_equal(sum.evaluations, 3);
    int admitted = 0;
    assert_int_equal(rt_store_admitted(st, count_row, &admitted), 0);
    assert_true(admitted >= 1);
    rt_store_close(st);
    snprintf(path, sizeof path, "%s/best.json", dir);
    size_t len;
    char *best = tu_slurp(path, &len);
    assert_non_null(best);
    assert_non_null(strstr(best, "\"race_eta\""));
    free(best);
}

/* A level-1 trial: its curve starts at the start policy's held-out cost whatever the seed, never
 * rises, and ends lower when the run reached a verified improvement; a miss costs twice the
 * work cap, a hit the level-0 cost it spent; the same seed gives the same trial. */
static void level1_trial_measures(void **state)
{
    (void)state;
    rt_meta_spec specs[4];
    int n = 0;
    char msg[300];
    assert_int_equal(rt_meta_parse_specs("matmul:2x2x3:gf2,matmul:2x2x2:gf2,matmul:2x2x4:gf2@15,"
                                         "matmul:2x3x3:gf2@16", specs, &n, msg, sizeof msg), 0);
    rt_meta_suite suite;
    assert_int_equal(rt_meta_suite_make(specs, n, &suite, msg, sizeof msg), 0);
    assert_int_equal(suite.ntrain, 2);
    assert_int_equal(suite.nheld, 2);
    assert_int_equal(rt_meta_suite_make(specs, 1, &suite, msg, sizeof msg), RT_EUSAGE);
    assert_int_equal(rt_meta_suite_make(specs, n, &suite, msg, sizeof msg), 0);
    /* a start that never reaches the targets (one-flip walks and descents, and cube's
     * symmetric runs of one flip should a step turn cube on), so that a step can improve it */
    const char *start = "{\"matmul\": {\"op_plus\": 0, \"op_restart\": 0, "
                        "\"op_split\": 0, \"op_cube\": 0, \"pf_sym_flips\": 1, "
                        "\"flips_exp\": 0, \"pf_restart_flips\": 1, "
                        "\"pf_walk_flips\": 1}, \"meta\": {\"race_size\": 4, \"knobs\": 20, "
                        "\"step\": 5, \"op_reset\": 0}}";
    rt_policy p;
    rt_policy_defaults(&p);
    assert_int_equal(rt_policy_parse(&p, start, strlen(start), msg, sizeof msg), 0);
    rt_meta1_caps caps = {.seeds = 2, .vseeds = 6, .proposals = 10, .work = 1e12,
                          .trial = {30, 1000000, 2}};
    char tmp[4096];
    assert_int_equal(rt_meta_tmpdir(tmp, sizeof tmp, msg, sizeof msg), 0);
    rt_meta1_trial t[3];
    int hits = 0;
    for (int i = 0; i < 3; i++) {
        if (rt_meta1_run_trial(&p, &suite, (uint64_t)(i < 2 ? i + 1 : 1), &caps, tmp, &t[i], msg,
                               sizeof msg))
            fail_msg("%s", msg);
        assert_int_equal(t[i].ncurve, 11);
        assert_true(t[i].curve[0] > 0 && t[i].curve[0] == t[0].curve[0]);
        for (int s = 1; s < t[i].ncurve; s++)
            assert_true(t[i].curve[s] <= t[i].curve[s - 1]);
        if (t[i].reached) {
            hits++;
            assert_true(t[i].curve[t[i].ncurve - 1] < t[i].curve[0]);
            assert_true(t[i].cost == t[i].work && t[i].trials > 0);
        } else {
            assert_true(t[i].curve[t[i].ncurve - 1] == t[i].curve[0]);
            assert_true(t[i].cost == 2 * caps.work);
        }
    }
    assert_true(t[2].cost == t[0].cost && t[2].trials == t[0].trials);
    assert_true(t[2].curve[10] == t[0].curve[10]);
    assert_true(hits > 0);
    rt_meta_tmpdir_remove(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(levels_split_the_knobs),
        cmocka_unit_test(gate_ignores_meta_knobs),
        cmocka_unit_test(screen_threshold_applies),
        cmocka_unit_test(cli_rejects_bad_input),
        cmocka_unit_test(search_never_touches_heldout),
        cmocka_unit_test(tiny_run_stores_lineage),
        cmocka_unit_test(level1_trial_measures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
