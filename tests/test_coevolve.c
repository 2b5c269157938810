/* test_coevolve.c — posers (bp_poser.c) and the co-evolution (bp_coevo*.c, `ratchet coevolve`).
 *
 * What would break each test:
 * - poser_format: the canonical text stops round-tripping; a malformed poser is accepted or
 *   refused without its line;
 * - poser_generation: a distribution leaves its range, exact-fit groups stop summing to the
 *   capacity, an order is not applied, the same text gives another instance;
 * - lower_bound: L2 above a brute-force optimum, or below L1; the reference below the bound;
 * - poser_mutation: a mutation yields a text that does not parse or check;
 * - poser_problem: under posers=1 a poser's verdict is not its facts, or a poser is accepted
 *   where posers are off;
 * - coevolve_cli: a run, its store (both populations, audit), --resume, refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "problem.h"
#include "problems/binpack/binpack.h"
#include "problems/binpack/bp_poser.h"
#include "testutil.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    return tu_tempdir(tmpdir, sizeof tmpdir, "coevolve");
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

static const char sample[] = "poser\ncapacity 120\nitems 300\nmix 2 uniform 15 80\n"
                             "mix 1 weibull 30 2.5\nmix 1 normal 50 8\nmix 1 set 20 35 50\n"
                             "mix 1 exact 3\norder interleaved\nseed 12345\n";

static void refuse(const char *text, const char *needle)
{
    bp_spec s;
    char err[300] = "";
    int rc = bp_spec_parse(text, strlen(text), &s, err, sizeof err);
    if (rc != RT_EUSAGE || !strstr(err, needle))
        fail_msg("'%s': rc %d, '%s' (expected '%s')", text, rc, err, needle);
}

static void test_poser_format(void **state)
{
    (void)state;
    bp_spec s;
    char err[300];
    assert_int_equal(bp_spec_parse(sample, strlen(sample), &s, err, sizeof err), 0);
    rt_buf out;
    rt_buf_init(&out, 0);
    assert_int_equal(bp_spec_print(&s, &out), 0);
    assert_string_equal(rt_buf_cstr(&out), sample);
    rt_buf_free(&out);
    const char *comments = "# a poser\n  poser \ncapacity   120 # cap\nitems 20\n\nmix 1 set 7\n"
                           "order random\nseed 0\n";
    assert_int_equal(bp_spec_parse(comments, strlen(comments), &s, err, sizeof err), 0);
    refuse("poser\ncapacity 0\n", "line 2");
    refuse("poser\ncapacity 100\nitems 5\n", "line 3");
    refuse("poser\ncapacity 100\nitems 50\nmix 0 uniform 1 5\n", "line 4");
    refuse("poser\ncapacity 100\nitems 50\nmix 1 uniform 9 5\n", "line 4");
    refuse("poser\ncapacity 100\nitems 50\nmix 1 uniform 1 101\n", "line 4");
    refuse("poser\ncapacity 100\nitems 50\nmix 1 gamma 1 5\n", "line 4");
    refuse("poser\ncapacity 100\nitems 50\nmix 1 weibull 30 20\n", "line 4");
    refuse("poser\ncapacity 100\nitems 50\nmix 1 weibull nan 2\n", "line 4");
    refuse("poser\ncapacity 100\nitems 50\nmix 1 exact 9\n", "line 4");
    refuse("poser\ncapacity 100\nitems 50\nmix 1 set 1 2 3 4 5 6 7\n", "line 4");
    refuse("poser\ncapacity 100\nitems 50\nmix 1 set 1.5\n", "line 4");
    refuse("poser\ncapacity 100\nitems 50\nmix 1 set 5\norder sideways\n", "line 5");
    refuse("poser\ncapacity 100\nitems 50\nmix 1 set 5\norder random\n", "ends early");
    refuse("poser\ncapacity 100\nitems 50\nmix 1 set 5\norder random\nseed 1\nseed 2\n", "line 7");
    refuse("poser\nitems 50\ncapacity 100\n", "line 2");
    refuse("capacity 100\n", "line 1");
    refuse("", "ends early");
    refuse("poser\ncapacity 100\nitems 50\nmix 1 set 5\nmix 1 set 5\nmix 1 set 5\nmix 1 set 5\n"
           "mix 1 set 5\nmix 1 set 5\nmix 1 set 5\n", "line 10");
}

static void spec_instance(const char *text, bp_instance *in)
{
    bp_spec s;
    char err[300];
    if (bp_spec_parse(text, strlen(text), &s, err, sizeof err))
        fail_msg("%s: %s", text, err);
    assert_int_equal(bp_spec_generate(&s, in), 0);
    assert_int_equal(in->n, s.items);
}

static void test_poser_generation(void **state)
{
    (void)state;
    bp_instance a, b;
    spec_instance("poser\ncapacity 100\nitems 400\nmix 1 uniform 30 40\nmix 1 set 7 91\n"
                  "order ascending\nseed 3\n", &a);
    int sevens = 0;
    for (int i = 0; i < a.n; i++) {
        int x = a.items[i];
        assert_true((x >= 30 && x <= 40) || x == 7 || x == 91);
        sevens += x == 7;
        if (i)
            assert_true(a.items[i - 1] <= x);
    }
    assert_true(sevens > 50 && sevens < 150);
    spec_instance("poser\ncapacity 100\nitems 400\nmix 1 uniform 30 40\nmix 1 set 7 91\n"
                  "order ascending\nseed 3\n", &b);
    assert_memory_equal(a.items, b.items, 400 * sizeof(int));
    free(b.items);
    spec_instance("poser\ncapacity 100\nitems 400\nmix 1 uniform 30 40\nmix 1 set 7 91\n"
                  "order ascending\nseed 4\n", &b);
    assert_int_not_equal(memcmp(a.items, b.items, 400 * sizeof(int)), 0);
    free(a.items);
    free(b.items);
    /* exact-fit groups: 3 items summing to the capacity, so the optimum is n/3 bins and the
     * reference proves it */
    const char *exact = "poser\ncapacity 150\nitems 300\nmix 1 exact 3\norder descending\nseed 9\n";
    bp_poser_facts f;
    char err[300];
    assert_int_equal(bp_poser_check(exact, strlen(exact), &f, &a, err, sizeof err), 0);
    long long sum = 0;
    for (int i = 0; i < a.n; i++) {
        sum += a.items[i];
        if (i)
            assert_true(a.items[i - 1] >= a.items[i]);
    }
    assert_int_equal(sum, 150 * 100);
    assert_int_equal(f.l1, 100);
    assert_true(f.lower >= 100 && f.reference >= f.lower && f.best_fit >= f.reference);
    free(a.items);
    spec_instance("poser\ncapacity 100\nitems 101\nmix 1 uniform 1 100\norder interleaved\n"
                  "seed 5\n", &a);
    for (int i = 2; i < a.n; i += 2) /* large ones fall, small ones rise */
        assert_true(a.items[i] <= a.items[i - 2] && a.items[i - 1] >= (i > 2 ? a.items[i - 3] : 0));
    free(a.items);
    const char *same = "poser\ncapacity 100\nitems 50\nmix 1 set 30\norder random\nseed 1\n";
    assert_int_equal(bp_poser_check(same, strlen(same), &f, NULL, err, sizeof err), 0);
    assert_true(f.degenerate);
}

/* The fewest bins for tiny instances, by trying every assignment. */
static int brute(const int *items, int n, int cap, int *rem, int nb, int i, int best)
{
    if (nb >= best)
        return best;
    if (i == n)
        return nb;
    for (int b = 0; b <= nb && b < n; b++) {
        int fresh = b == nb;
        if (fresh)
            rem[b] = cap;
        if (rem[b] >= items[i]) {
            rem[b] -= items[i];
            best = brute(items, n, cap, rem, nb + fresh, i + 1, best);
            rem[b] += items[i];
        }
    }
    return best;
}

static void test_lower_bound(void **state)
{
    (void)state;
    int items[400];
    for (int i = 0; i < 400; i++)
        items[i] = 51;
    bp_instance in = {.capacity = 100, .n = 400, .items = items};
    assert_int_equal(bp_l1(&in), 204);
    assert_int_equal(bp_lower_bound(&in), 400);
    rt_rng rng;
    rt_rng_seed(&rng, 11, 0);
    int above_l1 = 0;
    for (int trial = 0; trial < 300; trial++) {
        int n = 3 + (int)rt_rng_below(&rng, 6), cap = 10 + (int)rt_rng_below(&rng, 20);
        for (int i = 0; i < n; i++)
            items[i] = 1 + (int)rt_rng_below(&rng, (uint32_t)cap);
        bp_instance t = {.capacity = cap, .n = n, .items = items};
        int rem[16];
        int opt = brute(items, n, cap, rem, 0, 0, n + 1);
        long long lb = bp_lower_bound(&t);
        char why[200];
        long long ref = bp_reference(&t, why, sizeof why);
        assert_true(lb >= bp_l1(&t) && lb <= opt && ref >= opt);
        above_l1 += lb > bp_l1(&t);
    }
    assert_true(above_l1 > 10);
}

static void test_poser_mutation(void **state)
{
    (void)state;
    rt_rng rng;
    rt_rng_seed(&rng, 21, 0);
    bp_spec s;
    bp_spec_random(&s, &rng);
    int changed = 0;
    for (int step = 0; step < 600; step++) {
        if (step % 50 == 0)
            bp_spec_random(&s, &rng);
        changed += bp_spec_mutate(&s, &rng) == 0;
        rt_buf text;
        rt_buf_init(&text, 0);
        assert_int_equal(bp_spec_print(&s, &text), 0);
        bp_poser_facts f;
        char err[300];
        if (bp_poser_check(text.data, text.len, &f, NULL, err, sizeof err))
            fail_msg("%s: %s", rt_buf_cstr(&text), err);
        rt_buf_free(&text);
    }
    assert_true(changed > 400);
}

static void test_poser_problem(void **state)
{
    (void)state;
    const char *keys[] = {"family", "items", "count", "posers"};
    const char *values[] = {"or", "50", "1", "1"};
    rt_problem *pb = NULL;
    rt_error err = {0};
    assert_int_equal(rt_problem_open(&pb, "binpack", keys, values, 4, &err), 0);
    assert_non_null(strstr(rt_problem_params(pb), "posers=1"));
    rt_verdict v;
    char msg[300];
    assert_int_equal(rt_problem_verify(pb, sample, strlen(sample), &v, msg, sizeof msg), 0);
    assert_true(v.valid);
    bp_poser_facts f;
    assert_int_equal(bp_poser_check(sample, strlen(sample), &f, NULL, msg, sizeof msg), 0);
    assert_true(v.score == bp_poser_score(&f));
    assert_true(v.score < -900); /* below every solver */
    assert_non_null(strstr(v.summary, "reference packing"));
    /* the proxy of the decoded genome is its verdict's score (the audit's round trip) */
    void *g = NULL;
    assert_int_equal(rt_problem_decode(pb, sample, strlen(sample), &g, msg, sizeof msg), 0);
    rt_score sc;
    rt_problem_score(pb, g, &sc);
    assert_true(sc.primary == v.score);
    rt_problem_free_genome(pb, g);
    rt_problem_close(pb);
    assert_int_equal(rt_problem_open(&pb, "binpack", keys, values, 3, &err), 0);
    assert_int_equal(rt_problem_verify(pb, sample, strlen(sample), &v, msg, sizeof msg),
                     RT_EUSAGE);
    rt_problem_close(pb);
}

static void test_coevolve_cli(void **state)
{
    (void)state;
    char out[65536];
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "coevolve --help"), 0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "coevolve binpack --seconds 4 --epoch-seconds 0.5 "
                                           "--store c.db --out gen.expr --seed 3"), 0);
    assert_non_null(strstr(out, "epoch 1 "));
    assert_non_null(strstr(out, "posed: ["));
    assert_non_null(strstr(out, "generalist ("));
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "status c.db"), 0);
    assert_non_null(strstr(out, "posers=1"));
    assert_non_null(strstr(out, "island 0"));
    assert_non_null(strstr(out, "island 1"));
    assert_non_null(strstr(out, "island 2"));
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "audit c.db"), 0);
    assert_non_null(strstr(out, "audit        passed"));
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "best c.db --format c"), 0);
    assert_non_null(strstr(out, "double priority("));
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "gen binpack --family or --items 120 --count 2 "
                                           "--out o.json"), 0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "eval binpack --solver gen.expr --instances o.json"), 0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "coevolve binpack --seconds 2 --epoch-seconds 0.5 "
                                           "--store c.db --resume --quiet"), 0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "status c.db"), 0);
    assert_non_null(strstr(out, "(2 sessions)"));
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "audit c.db"), 0);
    assert_non_null(strstr(out, "audit        passed"));
    /* refusals: one line, exit 2 */
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "coevolve binpack --seconds 2 --store c.db"), 2);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "coevolve binpack --store x.db"), 2);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "coevolve binpack --seconds 1 --store x.db "
                                           "--solvers 1"), 2);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "run binpack --evaluations 20 --store r.db --quiet"),
                     0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "coevolve binpack --seconds 1 --store r.db --resume"),
                     2);
    assert_non_null(strstr(out, "not a store of ratchet coevolve"));
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
}

/* A SIGKILL mid-run loses at most the epoch in progress: the store checks, resumes, audits. */
static void test_coevolve_kill(void **state)
{
    (void)state;
    char out[65536];
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "coevolve binpack --seconds 30 --epoch-seconds 0.3 "
                                           "--store k.db --quiet & pid=$!; sleep 3; "
                                           "kill -9 $pid; wait $pid; true"), 0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "audit k.db"), 0);
    assert_non_null(strstr(out, "audit        passed"));
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "coevolve binpack --seconds 1 --epoch-seconds 0.3 "
                                           "--store k.db --resume --quiet"), 0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "status k.db"), 0);
    assert_non_null(strstr(out, "(2 sessions)"));
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "audit k.db"), 0);
    assert_non_null(strstr(out, "audit        passed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poser_format),   cmocka_unit_test(test_poser_generation),
        cmocka_unit_test(test_lower_bound),    cmocka_unit_test(test_poser_mutation),
        cmocka_unit_test(test_poser_problem),  cmocka_unit_test(test_coevolve_cli),
        cmocka_unit_test(test_coevolve_kill),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
