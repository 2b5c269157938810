/* test_meta.c — the meta level: problem specs, and the policy problem's gate.
 *
 * The gate test builds candidates by hand: a policy that is clearly worse (one flip per walk:
 * it never reaches the target within the caps) must not verify against a better baseline, the
 * better one must verify against the worse, and a policy equal to its baseline verifies as the
 * reference. Training and held-out problems must be disjoint. `ratchet meta --seconds` and
 * Ctrl-C reach the races and gates inside a step. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "meta.h"
#include "problem.h"
#include "rng.h"
#include "ratchet.h"
#include "testutil.h"

static void specs_parse_and_fail_cleanly(void **state)
{
    (void)state;
    rt_meta_spec s[RT_META_MAX_SPECS];
    int n = 0;
    char err[256];
    assert_int_equal(rt_meta_parse_specs("matmul:3x3x4:gf2,matmul:2x3x3:z", s, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_true(s[0].target == 29 && s[1].target == 15);
    assert_string_equal(s[0].text, "matmul:3x3x4:gf2@29");
    assert_int_equal(rt_meta_parse_specs("matmul:4x4x4:gf2,matmul:4x4x4:z@50", s, &n, err, sizeof err), 0);
    assert_true(s[0].target == 47 && s[1].target == 50);
    const char *bad[] = {"", "matmul", "matmul:3x3:gf2", "foo:2x2x2:gf2", "matmul:2x2x2:q",
                         "matmul:9x2x2:gf2", "matmul:7x7x7:gf2", "matmul:2x2x2:gf2@0",
                         "matmul:2x2x2:gf2,", "matmul:2x2x2:gf2:x",
                         "matmul:2x2x2:gf2,matmul:2x2x2:z,matmul:2x2x3:z,matmul:2x2x4:z,"
                         "matmul:2x2x5:z",
                         /* the never-used shapes over Z, in any order of the sides */
                         "matmul:5x2x2:z@18", "matmul:4x5x2:z@33", "matmul:5x5x2:z@40",
                         "matmul:6x2x2:z@21", "matmul:2x6x3:z@30"};
    /* over GF(2) they are not reserved */
    assert_int_equal(rt_meta_parse_specs("matmul:2x3x6:gf2@30,matmul:2x2x6:gf2@21", s, &n, err,
                                         sizeof err), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (rt_meta_parse_specs(bad[i], s, &n, err, sizeof err) != RT_EUSAGE)
            fail_msg("spec '%s' accepted", bad[i]);
        assert_true(err[0] != '\0');
        assert_null(strchr(err, '\n'));
    }
    /* random bytes: an answer, never a crash */
    rt_rng rng;
    rt_rng_seed(&rng, 5, 5);
    char junk[80];
    for (int i = 0; i < 5000; i++) {
        size_t len = rt_rng_below(&rng, sizeof junk);
        for (size_t j = 0; j < len; j++)
            junk[j] = "matul:x0123456789gfz2@,.-"[rt_rng_below(&rng, 25)];
        junk[len] = '\0';
        int rc = rt_meta_parse_specs(junk, s, &n, err, sizeof err);
        assert_true(rc == 0 || rc == RT_EUSAGE);
        if (rc == 0)
            assert_true(n >= 1 && n <= RT_META_MAX_SPECS);
    }
}

static void gate_admits_only_beyond_noise(void **state)
{
    (void)state;
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"train", "heldout"}, *values[] = {"matmul:2x2x2:gf2",
                                                           "matmul:2x2x2:gf2"};
    /* overlapping training and held-out problems are refused */
    assert_int_equal(rt_problem_open(&pb, "policy", keys, values, 2, &err), RT_EUSAGE);
    assert_non_null(strstr(err.msg, "disjoint"));

    const char *k2[] = {"train", "heldout", "vseeds", "evals", "work"};
    const char *v2[] = {"matmul:2x2x2:gf2", "matmul:2x2x3:gf2", "6", "30", "1000000"};
    assert_int_equal(rt_problem_open(&pb, "policy", k2, v2, 5, &err), 0);
    /* the default run is the portfolio: its walk alone, with runs of 20000 flips or of one */
    const char *good = "{\"matmul\": {\"op_plus\": 0, \"op_restart\": 0, "
                       "\"op_split\": 0, \"op_cube\": 0, \"flips_exp\": 0, "
                       "\"pf_walk_flips\": 20000}}";
    const char *bad = "{\"matmul\": {\"op_plus\": 0, \"op_restart\": 0, "
                      "\"op_split\": 0, \"op_cube\": 0, \"flips_exp\": 0, "
                      "\"pf_walk_flips\": 1}}";
    rt_verdict v;
    char *t = tu_policy_candidate(good, bad);
    assert_int_equal(rt_problem_verify_text(pb, t, strlen(t), &v, &err), 0);
    if (!v.valid)
        fail_msg("better policy rejected: %s / %s", v.summary, v.reason);
    /* the one-flip baseline misses everywhere: the sign test decides too, 6 of 6 (p 1/64) */
    if (!strstr(v.summary, "6 pairs with a miss: 6 cheaper, 0 dearer, sign test p 0.0156"))
        fail_msg("no sign test in '%s'", v.summary);
    free(t);
    t = tu_policy_candidate(bad, good);
    assert_int_equal(rt_problem_verify_text(pb, t, strlen(t), &v, &err), 0);
    assert_false(v.valid);
    assert_non_null(strstr(v.reason, "noise"));
    free(t);
    t = tu_policy_candidate(good, good);
    assert_int_equal(rt_problem_verify_text(pb, t, strlen(t), &v, &err), 0);
    assert_true(v.valid);
    assert_non_null(strstr(v.summary, "reference"));
    free(t);
    /* malformed candidates: clean errors */
    const char *junk[] = {"", "{}", "{\"policy\": {}}", "{\"policy\": {}, \"baseline\": 3}",
                          "{\"policy\": {\"x.y\": 1}, \"baseline\": {}}", "[1]"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        int rc = rt_problem_verify_text(pb, junk[i], strlen(junk[i]), &v, &err);
        assert_int_equal(rc, RT_EUSAGE);
    }
    rt_problem_close(pb);
}

/* The gate's decision on paired costs. A miss (cost at the miss value) is a stand-in, not a
 * measurement: against a baseline that missed everywhere, 3 hits of 8 clear 2 standard errors
 * whatever they cost, and the sign test holds them back (the level-2 gate of 7 Dec admitted such
 * a candidate, which 10 fresh seeds measured at 1.00x). */
static void gate_decides_with_misses(void **state)
{
    (void)state;
    const double miss = 1e9;
    double base[8], cand[8];
    rt_meta_gate g;
    for (int hits = 0; hits <= 8; hits++) {
        for (int i = 0; i < 8; i++) {
            base[i] = miss;
            cand[i] = i < hits ? 3e8 + 1e7 * i : miss;
        }
        rt_meta_gate_decide(cand, base, 8, miss, &g);
        assert_int_equal(g.misses, 8);
        assert_int_equal(g.wins, hits);
        assert_int_equal(g.losses, 0);
        if (hits == 3) /* the t margin alone would admit it */
            assert_true(g.mean > 2 * g.se);
        /* 6 wins of 6: p 1/64; 5 of 5: 1/32 */
        if (g.admit != (hits >= 6))
            fail_msg("%d hits of 8: admit %d, sign p %g", hits, g.admit, g.sign_p);
    }
    /* a miss on the candidate's side is a loss, a miss on both sides a tie */
    for (int i = 0; i < 8; i++) {
        base[i] = 2e8;
        cand[i] = 1e8;
    }
    cand[7] = miss;
    base[6] = cand[6] = miss;
    rt_meta_gate_decide(cand, base, 8, miss, &g);
    assert_int_equal(g.misses, 2);
    assert_int_equal(g.wins, 6);
    assert_int_equal(g.losses, 1);
    assert_false(g.admit);
    /* without a miss the sign test is not applied: the t margin decides */
    for (int i = 0; i < 8; i++) {
        base[i] = 2e8 * (1 + 0.01 * i);
        cand[i] = 1e8;
    }
    cand[0] = 3e8; /* one dearer pair */
    rt_meta_gate_decide(cand, base, 8, miss, &g);
    assert_int_equal(g.misses, 0);
    assert_true(g.sign_p == 1);
    assert_true(g.admit);
    rt_meta_gate_decide(base, cand, 8, miss, &g);
    assert_false(g.admit);
}

/* Records the seed of every held-out trial (shape 2x2x3) and counts the others. */
typedef struct gate_seeds {
    uint64_t lo, hi;
    int n, other;
} gate_seeds;

static void note_seed(const rt_meta_spec *spec, uint64_t seed, void *user)
{
    gate_seeds *g = user;
    if (strcmp(spec->shape, "2x2x3") != 0) {
        g->other++;
        return;
    }
    if (g->n++ == 0 || seed < g->lo)
        g->lo = seed;
    if (seed > g->hi)
        g->hi = seed;
}

/* The gate's verdict on policy against baseline, with the seeds of its trials. */
static gate_seeds observed_gate(rt_problem *pb, const char *policy, const char *baseline,
                                rt_verdict *vd)
{
    rt_error err;
    gate_seeds g = {0};
    char *t = tu_policy_candidate(policy, baseline);
    rt_meta_observe(note_seed, &g);
    assert_int_equal(rt_problem_verify_text(pb, t, strlen(t), vd, &err), 0);
    rt_meta_observe(NULL, NULL);
    free(t);
    return g;
}

/* The gate's seeds are vfirst..vfirst+vseeds-1 (1000001.. by default), so that a later run can
 * gate on seeds no earlier gate saw; a vfirst among the training seeds is refused. */
static void gate_seeds_move_with_vfirst(void **state)
{
    (void)state;
    const char *first[] = {NULL, "5000001"};
    const uint64_t lo[] = {1000001, 5000001};
    for (int i = 0; i < 2; i++) {
        rt_problem *pb = NULL;
        rt_error err;
        const char *k[] = {"train", "heldout", "vseeds", "evals", "work", "vfirst"};
        const char *v[] = {"matmul:2x2x2:gf2", "matmul:2x2x3:gf2", "3", "30", "1000000",
                           first[i]};
        assert_int_equal(rt_problem_open(&pb, "policy", k, v, first[i] ? 6 : 5, &err), 0);
        const char *p = "{\"matmul\": {\"pf_walk_flips\": 20000}}";
        rt_verdict vd;
        gate_seeds g = observed_gate(pb, p, p, &vd);
        assert_true(vd.valid);
        assert_int_equal(g.n, 3); /* the reference: its own trials only */
        assert_int_equal(g.other, 0);
        assert_true(g.lo == lo[i] && g.hi == lo[i] + 2);
        rt_problem_close(pb);
    }
    rt_problem *pb = NULL;
    rt_error err;
    const char *k[] = {"train", "heldout", "vfirst"};
    const char *v[] = {"matmul:2x2x2:gf2", "matmul:2x2x3:gf2", "64"};
    assert_int_equal(rt_problem_open(&pb, "policy", k, v, 3, &err), RT_EUSAGE);
    assert_non_null(strstr(err.msg, "vfirst"));
}

/* A candidate whose changes act on no held-out trial (a knob of the llm proposer, which a meta
 * trial of the builtin proposer never reads) is rejected after the gate's first round: the first
 * third of the seeds (2 of 6) of each held-out problem, both arms, so 4 trials where the whole
 * gate runs 12. A candidate that acts runs the whole gate (the trials are cached by policy,
 * problem and seed, so the baseline's first round is not run again). */
static void gate_stops_on_changes_that_do_nothing(void **state)
{
    (void)state;
    rt_problem *pb = NULL;
    rt_error err;
    const char *k[] = {"train", "heldout", "vseeds", "evals", "work"};
    const char *v[] = {"matmul:2x2x2:gf2", "matmul:2x2x3:gf2", "6", "30", "1000000"};
    assert_int_equal(rt_problem_open(&pb, "policy", k, v, 5, &err), 0);
    const char *base = "{\"matmul\": {\"pf_walk_flips\": 20000}}";
    const char *inert = "{\"matmul\": {\"pf_walk_flips\": 20000}, \"llm\": {\"p_full\": 0.4}}";
    const char *acts = "{\"matmul\": {\"pf_walk_flips\": 1}}";
    rt_verdict vd;
    gate_seeds g = observed_gate(pb, inert, base, &vd);
    assert_false(vd.valid);
    if (!strstr(vd.reason, "changes nothing"))
        fail_msg("an inert change was judged on: %s", vd.reason);
    assert_int_equal(g.n, 4);
    assert_true(g.lo == 1000001 && g.hi == 1000002);
    g = observed_gate(pb, acts, base, &vd);
    assert_false(vd.valid); /* one-flip walks miss: worse, not inert */
    assert_null(strstr(vd.reason, "changes nothing"));
    if (g.n != 10) /* the baseline's first 2 are cached: its other 4 and the candidate's 6 */
        fail_msg("%d held-out trials", g.n);
    rt_problem_close(pb);
}

/* Racing: from a parent that cannot reach the target (one-flip walks), one meta step makes
 * meta.race_size children, races them and proposes the winner only when it beats the parent on
 * every training seed: each proposed child's training score is above the parent's, and with
 * large mutations some step finds one. A child whose rule gives no length (flips_exp mutated
 * upwards makes one-flip runs shorter than a flip) is a miss, not an error of the race. */
static void race_screens_on_training(void **state)
{
    (void)state;
    rt_problem *pb = NULL;
    rt_error err;
    const char *k[] = {"train", "heldout", "seeds", "evals", "work"};
    const char *v[] = {"matmul:2x2x3:gf2", "matmul:2x2x4:gf2", "4", "30", "1000000"};
    assert_int_equal(rt_problem_open(&pb, "policy", k, v, 5, &err), 0);
    /* one-flip walks and descents: a mutation that turns restart or split on (from weight 0 to
     * a small one) must not bring runs of 4.7e7 flips into the trials */
    const char *parent = "{\"matmul\": {\"op_plus\": 0, \"op_restart\": 0, "
                         "\"op_split\": 0, \"op_cube\": 0, "
                         "\"flips_exp\": 0, \"pf_restart_flips\": 1, "
                         "\"pf_walk_flips\": 1}, \"meta\": {\"race_size\": 8, \"knobs\": 20, "
                         "\"step\": 5, \"op_reset\": 0}}";
    char *t = tu_policy_candidate(parent, parent);
    void *g = NULL;
    char msg[256];
    assert_int_equal(rt_problem_decode(pb, t, strlen(t), &g, msg, sizeof msg), 0);
    free(t);
    rt_score ps;
    rt_problem_score(pb, g, &ps);
    size_t nops = 0;
    const rt_operator *ops = rt_problem_operators(pb, &nops);
    assert_int_equal(nops, 1);
    /* a race need not have a winner; some race of a few must (up to 16 streams, so the test
     * does not hang on one stream of the mutation rng) */
    int found = 0;
    for (uint64_t seed = 1; seed <= 16 && found < 2; seed++) {
        rt_rng rng;
        rt_rng_seed(&rng, seed, 0);
        void *child = rt_problem_clone(pb, g);
        long long work = 0;
        if (rt_problem_apply(pb, &ops[0], child, &rng, &work) == 0) {
            rt_score cs;
            rt_problem_score(pb, child, &cs);
            assert_true(cs.primary > ps.primary);
            found++;
        }
        rt_problem_free_genome(pb, child);
    }
    assert_true(found > 0);
    rt_problem_free_genome(pb, g);
    rt_problem_close(pb);
}

/* A folder made at path, holding one file, last touched `age` seconds ago. */
static void make_scratch(const char *path, int age)
{
    assert_int_equal(mkdir(path, 0700), 0);
    char f[700];
    snprintf(f, sizeof f, "%s/trial-0.db", path);
    FILE *fp = fopen(f, "w");
    assert_non_null(fp);
    fputs("x", fp);
    fclose(fp);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age;
    tv[1] = tv[0];
    assert_int_equal(utimes(path, tv), 0);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A killed meta run cannot remove its scratch folder; the next one does, and touches nothing
 * else: not a live process's folder, not a fresh one, not other names. */
static void killed_runs_scratch_is_swept(void **state)
{
    (void)state;
    char base[256];
    assert_int_equal(tu_tempdir(base, sizeof base, "metascratch"), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    char dead_old[512], dead_fresh[512], live[512], other[512];
    snprintf(dead_old, sizeof dead_old, "%s/ratchet-meta-%ld-aaaaaa", base, (long)child);
    snprintf(dead_fresh, sizeof dead_fresh, "%s/ratchet-meta-%ld-bbbbbb", base, (long)child);
    snprintf(live, sizeof live, "%s/ratchet-meta-%ld-cccccc", base, (long)getppid());
    snprintf(other, sizeof other, "%s/ratchet-meta-dddddd", base);
    make_scratch(dead_old, 600);
    make_scratch(dead_fresh, 0);
    make_scratch(live, 600);
    make_scratch(other, 600);
    char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", base, 1);
    char made[4096], err[256];
    int rc = rt_meta_tmpdir(made, sizeof made, err, sizeof err);
    if (old) {
        setenv("TMPDIR", old, 1);
        free(old);
    } else {
        unsetenv("TMPDIR");
    }
    assert_int_equal(rc, 0);
    char want[300];
    snprintf(want, sizeof want, "%s/ratchet-meta-%ld-", base, (long)getpid());
    assert_int_equal(strncmp(made, want, strlen(want)), 0);
    assert_false(exists(dead_old));
    assert_true(exists(dead_fresh));
    assert_true(exists(live));
    assert_true(exists(other));
    rt_meta_tmpdir_remove(made);
    assert_false(exists(made));
    tu_rmtree(base);
}

/* Polls the file err until it holds needle (up to seconds); returns its text (the caller frees),
 * or fails the test. */
static char *wait_for_text(const char *err, const char *needle, double seconds)
{
    char *text = NULL;
    size_t len = 0;
    for (double until = tu_now() + seconds; tu_now() < until; usleep(20000)) {
        free(text);
        text = tu_slurp(err, &len);
        if (text && strstr(text, needle))
            return text;
    }
    fail_msg("%s does not say '%s' after %.0f s", err, needle, seconds);
    return NULL;
}

/* Runs `ratchet meta` in dir on trials that all miss (each runs to its work cap, about a second)
 * with `--seconds` seconds. Once it says that it evolves policies (the reference policy judged),
 * it is given interrupt_after seconds and then a SIGINT (never when negative). Returns how long
 * it took from then (or from its saying so) to its end; its exit status must be 0. */
static double evolving_time(const char *dir, const char *tag, const char *seconds,
                            double interrupt_after)
{
    char store[512], err[512];
    snprintf(store, sizeof store, "%s/%s.db", dir, tag);
    snprintf(err, sizeof err, "%s/%s.err", dir, tag);
    const char *args[] = {"meta", "--train", "matmul:2x2x3:gf2@10", "--heldout",
                          "matmul:2x2x2:gf2@6", "--seconds", seconds, "--seed", "1", "--seeds",
                          "1", "--vseeds", "1", "--evals", "1000000", "--work", "10000000",
                          "--store", store, NULL};
    int pid = tu_spawn_tool(dir, tag, args);
    assert_true(pid > 0);
    char *text = wait_for_text(err, "evolving policies", 120);
    size_t len = 0;
    free(text);
    if (interrupt_after >= 0) {
        usleep((useconds_t)(interrupt_after * 1e6));
        kill(pid, SIGINT);
    }
    double t0 = tu_now();
    assert_int_equal(tu_wait(pid, 300), 0);
    if (interrupt_after >= 0) {
        text = tu_slurp(err, &len);
        assert_non_null(text);
        assert_non_null(strstr(text, "stopping"));
        free(text);
    }
    return tu_now() - t0;
}

/* The races and gates run inside the meta run's steps, where its --seconds used to be checked
 * only between them: `--seconds 1` ran the whole first generation (two races of eight policies,
 * each trial to its work cap: about 30 s here at load 6, 1932 s for `--seconds 600` at level
 * 2), and Ctrl-C killed the process. Now every trial is cut at the deadline or at the first
 * Ctrl-C, and the run ends within a second or so. */
static void deadline_reaches_the_races(void **state)
{
    (void)state;
    char dir[256];
    assert_int_equal(tu_tempdir(dir, sizeof dir, "metadeadline"), 0);
    double one = evolving_time(dir, "a", "1", -1);
    print_message("--seconds 1: ended %.2f s after evolving began\n", one);
    assert_true(one < 4);
    double ctrl_c = evolving_time(dir, "b", "30", 1.5); /* a stray one ends in 30 s */
    print_message("Ctrl-C inside a race: ended after %.2f s\n", ctrl_c);
    assert_true(ctrl_c < 3);
    tu_rmtree(dir);
}

/* Ctrl-C while a new meta run judges its start policy (minutes on real suites, and silent
 * before): the trials in flight are cut, the command says that no store was made and exits 130,
 * and neither the store nor its temporary file is left. A progress line comes first. */
static void ctrl_c_while_the_start_is_judged(void **state)
{
    (void)state;
    char dir[256], store[512], err[512];
    assert_int_equal(tu_tempdir(dir, sizeof dir, "metajudge"), 0);
    snprintf(store, sizeof store, "%s/j.db", dir);
    snprintf(err, sizeof err, "%s/j.err", dir);
    /* 21 trials that all miss, about a second each on one thread */
    const char *args[] = {"meta", "--train", "matmul:2x2x3:gf2@10", "--heldout",
                          "matmul:2x2x2:gf2@6", "--seed", "1", "--seeds", "1", "--vseeds", "20",
                          "--evals", "1000000", "--work", "10000000", "--threads", "1",
                          "--store", store, NULL};
    int pid = tu_spawn_tool(dir, "j", args);
    assert_true(pid > 0);
    char *text = wait_for_text(err, "judging the start policy: ", 60);
    size_t len = 0;
    assert_non_null(strstr(text, "trial runs so far")); /* the progress line, after 5 s */
    assert_null(strstr(text, "evolving"));
    free(text);
    kill(pid, SIGINT);
    double t0 = tu_now();
    assert_int_equal(tu_wait(pid, 60), 130);
    assert_true(tu_now() - t0 < 5);
    text = tu_slurp(err, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "no store was made"));
    free(text);
    assert_int_not_equal(access(store, F_OK), 0);
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".tmp-"))
            fail_msg("%s left behind", e->d_name);
    closedir(d);
    tu_rmtree(dir);
}

/* `ratchet meta` with no suites takes the built-in ones (run 3 over Z) and a store in runs/ of
 * the current folder; stopped at once, it makes none there. */
static void builtin_suites_without_flags(void **state)
{
    (void)state;
    char dir[256], err[512], runs[512];
    assert_int_equal(tu_tempdir(dir, sizeof dir, "metabuiltin"), 0);
    snprintf(err, sizeof err, "%s/b.err", dir);
    const char *tool = tu_tool_path();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (chdir(dir) != 0 || !freopen("b.out", "w", stdout) || !freopen("b.err", "w", stderr))
            _exit(127);
        execl(tool, tool, "meta", "--threads", "1", (char *)NULL);
        _exit(127);
    }
    char *text = wait_for_text(err, "judging the start policy on every", 30);
    assert_non_null(strstr(text, "the built-in suites of racing run 3 over Z"));
    assert_non_null(strstr(text, "held out matmul:3x4x4:z@38,matmul:4x4x4:z@49,matmul:2x4x4:z@26"));
    assert_non_null(strstr(text, "--vseeds 30"));
    free(text);
    kill(pid, SIGINT);
    assert_int_equal(tu_wait((int)pid, 60), 130);
    snprintf(runs, sizeof runs, "%s/runs", dir);
    DIR *d = opendir(runs);
    assert_non_null(d); /* made for the store */
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            fail_msg("runs/%s left behind", e->d_name);
    closedir(d);
    /* with suites but no --store: the store and its best policy go to runs/ */
    char out[4096];
    assert_int_equal(tu_tool_in(dir, out, sizeof out,
                                "meta --train matmul:2x2x2:gf2 --heldout matmul:2x2x3:gf2 "
                                "--seeds 1 --vseeds 2 --evals 20 --work 200000 --seconds 1 "
                                "--threads 1"),
                     0);
    assert_non_null(strstr(out, "(store runs/meta-"));
    assert_non_null(strstr(out, "best policy written to runs/meta-"));
    int stores = 0, bests = 0;
    d = opendir(runs);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        stores += n > 3 && strcmp(e->d_name + n - 3, ".db") == 0;
        bests += n > 10 && strcmp(e->d_name + n - 10, "-best.json") == 0;
    }
    closedir(d);
    assert_int_equal(stores, 1);
    assert_int_equal(bests, 1);
    tu_rmtree(dir);
    /* a file named runs in the way: one line, before any note, for meta and for run */
    assert_int_equal(tu_tempdir(dir, sizeof dir, "metarunsfile"), 0);
    snprintf(runs, sizeof runs, "%s/runs", dir);
    FILE *f = fopen(runs, "w");
    assert_non_null(f);
    fclose(f);
    const char *cmds[] = {"meta --train matmul:2x2x2:gf2 --heldout matmul:2x2x3:gf2 --seeds 1 "
                          "--vseeds 2 --evals 20 --work 200000 --seconds 1 --threads 1",
                          "run matmul --shape 2x2x3 --seconds 1"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tu_tool_in(dir, out, sizeof out, "%s", cmds[i]), 2);
        assert_non_null(strstr(out, "cannot create the folder runs/ here"));
        const char *nl = strchr(out, '\n');
        assert_true(nl && nl[1] == '\0');
    }
    tu_rmtree(dir);
}

/* Counts every trial, whatever its shape. */
static void count_trial(const rt_meta_spec *spec, uint64_t seed, void *user)
{
    (void)spec;
    (void)seed;
    (*(int *)user)++;
}

/* `ratchet status` (rt_store_summary) on a meta store used to verify its best policy again,
 * that is, rerun the whole held-out gate: 180 trial runs and 10 CPU minutes for an admitted
 * policy gated on 30 seeds. It must run no trial now, and still name the metric. */
static void summary_reruns_no_trial(void **state)
{
    (void)state;
    char dir[256], store[512];
    assert_int_equal(tu_tempdir(dir, sizeof dir, "metasummary"), 0);
    snprintf(store, sizeof store, "%s/m.db", dir);
    const char *args[] = {"meta", "--train", "matmul:2x2x2:gf2@7", "--heldout",
                          "matmul:2x2x3:gf2@11", "--seconds", "1", "--seed", "1", "--seeds",
                          "1", "--vseeds", "2", "--evals", "200", "--work", "2000000",
                          "--threads", "1", "--store", store, NULL};
    int pid = tu_spawn_tool(dir, "m", args);
    assert_true(pid > 0);
    assert_int_equal(tu_wait(pid, 120), 0);
    rt_store *st = NULL;
    rt_error e;
    assert_int_equal(rt_store_open(&st, store, &e), 0);
    rt_summary sum;
    int trials = 0;
    rt_meta_observe(count_trial, &trials);
    assert_int_equal(rt_store_summary(st, &sum), 0);
    rt_meta_observe(NULL, NULL);
    rt_store_close(st);
    assert_true(sum.has_best);
    assert_int_equal(trials, 0);
    assert_string_equal(sum.metric_name, "heldout_cost");
    assert_non_null(strstr(sum.best_summary, "ratchet audit"));
    tu_rmtree(dir);
}

/* A meta trial runs its candidate's changes to the head over the shipped default of the
 * trial's own shape. With a shipped layer for matmul up to size 12 whose walks are too long for
 * the work cap (the trial misses without running), the head misses on <2,2,3> (12) and
 * reaches <2,2,4>'s 14 (16, outside the scope, where a `ratchet run` has no such layer), and a
 * candidate that sets the walks' length back to the table's reaches <2,2,3>'s 11. */
static void trials_get_their_scope(void **state)
{
    (void)state;
    static const char layered[] =
        "{\"layers\": [{\"scope\": {\"problem\": \"matmul\", \"max_size\": 12},"
        " \"policy\": {\"matmul\": {\"pf_walk_flips\": 1e10}}}]}";
    char err[256], dir[4096];
    assert_int_equal(rt_policy_shipped_replace(layered, err, sizeof err), 0);
    rt_meta_spec s[RT_META_MAX_SPECS];
    int n = 0;
    assert_int_equal(rt_meta_parse_specs("matmul:2x2x3:z,matmul:2x2x4:z", s, &n, err, sizeof err),
                     0);
    assert_int_equal(rt_meta_tmpdir(dir, sizeof dir, err, sizeof err), 0);
    rt_meta_caps caps = {.evaluations = 2000, .work = 50000000, .islands = 2};
    double miss = 2 * ((double)caps.work + RT_META_EVAL_COST * (double)caps.evaluations);
    rt_policy head, cand;
    rt_policy_defaults(&head);
    rt_policy_table_defaults(&cand);
    const rt_knob *walk = rt_policy_knob_find("matmul.pf_walk_flips");
    assert_non_null(walk);
    assert_true(rt_policy_get(&head, walk) == 1e10); /* the head has every layer */
    double table_walk = rt_policy_get(&cand, walk);
    cand = head;
    rt_policy_set(&cand, walk, table_walk);
    rt_meta_trial t;
    if (rt_meta_run_trial(&head, &s[0], 1, &caps, dir, &t, err, sizeof err))
        fail_msg("trial: %s", err);
    assert_false(t.reached);
    assert_true(t.cost == miss);
    if (rt_meta_run_trial(&head, &s[1], 1, &caps, dir, &t, err, sizeof err))
        fail_msg("trial: %s", err);
    if (!t.reached)
        fail_msg("the head's trial of <2,2,4> ran under the layer of <2,2,3>'s scope");
    assert_true(t.cost < miss);
    assert_int_equal(rt_meta_run_trial(&cand, &s[0], 1, &caps, dir, &t, err, sizeof err), 0);
    assert_true(t.reached);
    rt_meta_tmpdir_remove(dir);
    assert_int_equal(rt_policy_shipped_replace(NULL, err, sizeof err), 0);
}

/* After a test that put a shipped default in place: the built-in one again, even when the
 * test failed half way. */
static int shipped_restore(void **state)
{
    (void)state;
    char err[256];
    return rt_policy_shipped_replace(NULL, err, sizeof err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(specs_parse_and_fail_cleanly),
        cmocka_unit_test(gate_admits_only_beyond_noise),
        cmocka_unit_test(gate_decides_with_misses),
        cmocka_unit_test(gate_seeds_move_with_vfirst),
        cmocka_unit_test(gate_stops_on_changes_that_do_nothing),
        cmocka_unit_test(race_screens_on_training),
        cmocka_unit_test(killed_runs_scratch_is_swept),
        cmocka_unit_test(deadline_reaches_the_races),
        cmocka_unit_test(ctrl_c_while_the_start_is_judged),
        cmocka_unit_test(builtin_suites_without_flags),
        cmocka_unit_test(summary_reruns_no_trial),
        cmocka_unit_test_teardown(trials_get_their_scope, shipped_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
