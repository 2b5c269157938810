/* test_binpack.c — the binpack problem (src/problems/binpack/, docs/coevolution.md).
 *
 * What would break each test:
 * - parse_print: the canonical text stops round-tripping, or malformed expressions are accepted
 *   or refused without naming where;
 * - fast_equals_naive: the compiled evaluator, the bucketed simulation or the scan disagree with
 *   the verifier's naive checked packing on any of 400 random expressions (ties, NaN, inf);
 * - baselines: (neg f) is not best fit or 0 is not first fit (the tie rule changed);
 * - packing_check: the verifier's checker misses a doubled, missing or overfull packing;
 * - instance_reader: one of the bad files of the issue is accepted or refused without one line
 *   naming the key, or a good file does not read back;
 * - gp_operators: an operator leaves an expression over the caps or that does not print and parse
 *   back to itself; simplify changes what an expression computes;
 * - generators: the families' ranges and capacities, reproducibility per seed;
 * - problem: the gate's verify agrees with the proxy and rejects malformed text;
 * - export_c: the C function of `best --format c` packs like the verifier;
 * - cli: gen/eval/run/best/audit end to end, exit codes and one-line errors.
 */
#include <math.h>
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
#include "problems/binpack/bp_check.h"
#include "problems/binpack/bp_export.h"
#include "problems/binpack/bp_sim.h"
#include "testutil.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    return tu_tempdir(tmpdir, sizeof tmpdir, "binpack");
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

static void parse_ok(const char *text, const char *canonical)
{
    bp_expr e, back;
    char err[256];
    int rc = bp_parse(text, strlen(text), &e, err, sizeof err);
    if (rc)
        fail_msg("'%s' refused: %s", text, err);
    rt_buf out;
    rt_buf_init(&out, 0);
    assert_int_equal(bp_print(&e, &out), 0);
    assert_string_equal(rt_buf_cstr(&out), canonical);
    assert_int_equal(bp_parse(out.data, out.len, &back, err, sizeof err), 0);
    assert_true(bp_equal(&e, &back));
    rt_buf_free(&out);
}

static void test_parse_print(void **state)
{
    (void)state;
    parse_ok("(neg f)", "(neg f)");
    parse_ok("  ( +\n s\t; comment\n 1.50 )  ", "(+ s 1.5)");
    parse_ok("(if (< r 3) -2e3 (max k m))", "(if (< r 3) -2000 (max k m))");
    parse_ok("0.1", "0.1");
    parse_ok("-0", "0");
    parse_ok("(/ (sqrt e) (log (exp (sq c))))", "(/ (sqrt e) (log (exp (sq c))))");
    static const char *const bad[] = {
        "", "(", ")", "(neg)", "(neg f f)", "(+ s)", "(foo s)", "x", "(+ s r", "s r",
        "1e999", "nan", "inf", "(+ s 1..2)", "()", "(if s r)", "((neg f))", "(neg f))",
        "(+ s\n 1x)", "-", "(< s)", "S",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bp_expr e;
        char err[256] = "";
        int rc = bp_parse(bad[i], strlen(bad[i]), &e, err, sizeof err);
        if (rc != RT_EUSAGE)
            fail_msg("'%s' gave %d", bad[i], rc);
        assert_non_null(strstr(err, "line"));
        bp_ctree *t = NULL;
        assert_int_not_equal(bp_ctree_parse(bad[i], strlen(bad[i]), &t, err, sizeof err), 0);
    }
    /* caps: nesting and size */
    rt_buf deep;
    rt_buf_init(&deep, 0);
    for (int i = 0; i < 40; i++)
        rt_buf_puts(&deep, "(neg ");
    rt_buf_puts(&deep, "s");
    for (int i = 0; i < 40; i++)
        rt_buf_puts(&deep, ")");
    bp_expr e;
    char err[256];
    assert_int_equal(bp_parse(deep.data, deep.len, &e, err, sizeof err), RT_ETOOBIG);
    rt_buf_free(&deep);
}

/* A random instance with small sizes so that ties and many buckets occur. */
static bp_instance random_instance(rt_rng *rng, int *items, int n)
{
    int cap = 5 + (int)rt_rng_below(rng, 40);
    for (int i = 0; i < n; i++)
        items[i] = 1 + (int)rt_rng_below(rng, (uint32_t)cap);
    bp_instance in = {.capacity = cap, .n = n, .items = items};
    snprintf(in.name, sizeof in.name, "r");
    return in;
}

static void random_expr(bp_expr *e, rt_rng *rng)
{
    e->n = 1;
    e->node[0].op = (uint8_t)rt_rng_below(rng, BP_NTERMINALS);
    e->node[0].value = 0;
    for (int k = 0; k < 6; k++) {
        bp_expr t = *e;
        if (bp_mut_subtree(&t, rng) == 0)
            *e = t;
        t = *e;
        if (rt_rng_below(rng, 2) && bp_mut_addterm(&t, rng) == 0)
            *e = t;
    }
}

static long long naive_bins(const bp_expr *e, const bp_instance *in)
{
    rt_buf text;
    rt_buf_init(&text, 0);
    assert_int_equal(bp_print(e, &text), 0);
    bp_ctree *t = NULL;
    char err[256];
    assert_int_equal(bp_ctree_parse(text.data, text.len, &t, err, sizeof err), 0);
    bp_packing p;
    assert_int_equal(bp_check_pack(t, in, &p, err, sizeof err), 0);
    long long n = p.nbins;
    bp_packing_free(&p);
    bp_ctree_free(t);
    rt_buf_free(&text);
    return n;
}

static void test_fast_equals_naive(void **state)
{
    (void)state;
    rt_rng rng;
    rt_rng_seed(&rng, 42, 0);
    bp_sim *sim = bp_sim_new();
    int items[300];
    int differ_from_bestfit = 0;
    for (int trial = 0; trial < 400; trial++) {
        bp_expr e;
        random_expr(&e, &rng);
        bp_instance in = random_instance(&rng, items, 50 + (int)rt_rng_below(&rng, 250));
        bp_prog prog;
        bp_compile(&e, &prog);
        long long fast = bp_sim_run(sim, &prog, &in, NULL);
        long long scan = bp_sim_run_scan(sim, &prog, &in, NULL);
        long long naive = naive_bins(&e, &in);
        if (fast != naive || scan != naive) {
            rt_buf text;
            rt_buf_init(&text, 0);
            bp_print(&e, &text);
            fail_msg("%s: fast %lld scan %lld naive %lld", rt_buf_cstr(&text), fast, scan,
                     naive);
        }
        differ_from_bestfit += naive != bp_best_fit(&in);
    }
    assert_true(differ_from_bestfit > 40); /* the expressions were not all best fit */
    bp_sim_free(sim);
}

static void test_baselines(void **state)
{
    (void)state;
    rt_rng rng;
    rt_rng_seed(&rng, 7, 0);
    int items[400];
    bp_expr bf, ff;
    char err[128];
    assert_int_equal(bp_parse("(neg f)", 7, &bf, err, sizeof err), 0);
    assert_int_equal(bp_parse("0", 1, &ff, err, sizeof err), 0);
    int differ = 0;
    for (int trial = 0; trial < 50; trial++) {
        bp_instance in = random_instance(&rng, items, 400);
        assert_int_equal(naive_bins(&bf, &in), bp_best_fit(&in));
        assert_int_equal(naive_bins(&ff, &in), bp_first_fit(&in));
        differ += bp_best_fit(&in) != bp_first_fit(&in);
    }
    assert_true(differ > 0);
}

static void test_packing_check(void **state)
{
    (void)state;
    int items[5] = {5, 5, 3, 7, 10};
    bp_instance in = {.capacity = 10, .n = 5, .items = items};
    long long start[4] = {0, 2, 4, 5};
    int good[5] = {0, 1, 2, 3, 4};
    bp_packing p = {.nbins = 3, .start = start, .items = good};
    char why[200];
    assert_int_equal(bp_check_packing(&in, &p, why, sizeof why), 0);
    int twice[5] = {0, 1, 2, 2, 4};
    p.items = twice;
    assert_int_equal(bp_check_packing(&in, &p, why, sizeof why), RT_EINVALID);
    int over[5] = {0, 2, 1, 3, 4}; /* 5+3, 5+7 > 10 */
    p.items = over;
    assert_int_equal(bp_check_packing(&in, &p, why, sizeof why), RT_EINVALID);
    assert_non_null(strstr(why, "capacity"));
    long long missing[4] = {0, 2, 4, 4};
    p.items = good;
    p.start = missing; /* item 4 never packed, and an empty bin */
    assert_int_equal(bp_check_packing(&in, &p, why, sizeof why), RT_EINVALID);
    int outside[5] = {0, 1, 2, 3, 5};
    p.start = start;
    p.items = outside;
    assert_int_equal(bp_check_packing(&in, &p, why, sizeof why), RT_EINVALID);
}

static void reader_refuses(const char *json, const char *needle)
{
    bp_set set;
    char err[512] = "";
    int rc = bp_read_json(json, strlen(json), "t.json", &set, err, sizeof err);
    if (rc == 0)
        fail_msg("accepted: %s", json);
    if (!strstr(err, needle) || strchr(err, '\n') || strncmp(err, "t.json", 6) != 0)
        fail_msg("'%s' for %s (expected '%s')", err, json, needle);
}

static void test_instance_reader(void **state)
{
    (void)state;
    const char *head = "{\"i\": {\"capacity\": 10, \"num_items\": ";
    char buf[256];
    reader_refuses("{\"i\": {\"capacity\": 10, \"num_items\": 2, \"items\": [3, 0]}}", "items[1]");
    reader_refuses("{\"i\": {\"capacity\": 10, \"num_items\": 2, \"items\": [3, -4]}}", "items[1]");
    reader_refuses("{\"i\": {\"capacity\": 10, \"num_items\": 2, \"items\": [11, 4]}}", "items[0]");
    reader_refuses("{\"i\": {\"capacity\": 10, \"num_items\": 2, \"items\": [3.5, 4]}}", "items[0]");
    reader_refuses("{\"i\": {\"capacity\": 10, \"num_items\": 2, \"items\": [3, \"4\"]}}", "items[1]");
    reader_refuses("{\"i\": {\"capacity\": 0, \"num_items\": 1, \"items\": [1]}}", "capacity");
    reader_refuses("{\"i\": {\"capacity\": 1.5, \"num_items\": 1, \"items\": [1]}}", "capacity");
    reader_refuses("{\"i\": {\"capacity\": NaN, \"num_items\": 1, \"items\": [1]}}", "t.json:1:");
    reader_refuses("{\"i\": {\"capacity\": 10, \"num_items\": 99999999999, \"items\": [1]}}",
                   "num_items");
    reader_refuses("{\"i\": {\"capacity\": 10, \"num_items\": 3, \"items\": [1, 2]}}",
                   "num_items");
    reader_refuses("{\"i\": {\"capacity\": 10, \"num_items\": 2, \"items\": [1, 2", "t.json:1:");
    reader_refuses("{\"i\": {\"capacity\": 10, \"num_items\": 1, \"items\": [1], \"x\": 1}}",
                   "unknown key");
    reader_refuses("{\"i\": {\"num_items\": 1, \"items\": [1]}}", "capacity");
    reader_refuses("[]", "expected a JSON object");
    reader_refuses("{}", "expected a JSON object");
    reader_refuses("{\"i\": 3}", "not an object");
    reader_refuses("{\"i\": {\"capacity\": 10, \"num_items\": 1, \"items\": [1]}, \"i\": {}}",
                   "t.json:1:");
    snprintf(buf, sizeof buf, "%s1, \"items\": 7}}", head);
    reader_refuses(buf, "not an array");
    bp_set set, back;
    char err[256];
    const char *good = "{\"a\\\"b\": {\"capacity\": 150, \"num_items\": 3, \"items\": [20, 100, 150]},"
                       " \"z\": {\"capacity\": 1, \"num_items\": 1, \"items\": [1]}}";
    assert_int_equal(bp_read_json(good, strlen(good), "g", &set, err, sizeof err), 0);
    assert_int_equal(set.n, 2);
    assert_string_equal(set.inst[0].name, "a\"b");
    assert_int_equal(set.inst[0].items[2], 150);
    assert_int_equal(bp_l1(&set.inst[0]), 2);
    rt_buf out;
    rt_buf_init(&out, 0);
    assert_int_equal(bp_write_json(&set, &out), 0);
    assert_int_equal(bp_read_json(out.data, out.len, "g2", &back, err, sizeof err), 0);
    assert_int_equal(back.n, 2);
    assert_string_equal(back.inst[0].name, "a\"b");
    assert_memory_equal(back.inst[0].items, set.inst[0].items, 3 * sizeof(int));
    rt_buf_free(&out);
    bp_set_free(&set);
    bp_set_free(&back);
}

static void test_gp_operators(void **state)
{
    (void)state;
    rt_rng rng;
    rt_rng_seed(&rng, 3, 0);
    bp_expr e, donor;
    char err[256];
    assert_int_equal(bp_parse("(neg f)", 7, &e, err, sizeof err), 0);
    assert_int_equal(bp_parse("(+ (* 2 s) (min r m))", 21, &donor, err, sizeof err), 0);
    int applied[6] = {0};
    int items[200];
    bp_sim *sim = bp_sim_new();
    for (int step = 0; step < 20000; step++) {
        bp_expr before = e;
        int op = (int)rt_rng_below(&rng, 6), rc;
        switch (op) {
        case 0: rc = bp_mut_subtree(&e, &rng); break;
        case 1: rc = bp_mut_point(&e, &rng); break;
        case 2: rc = bp_mut_const(&e, &rng); break;
        case 3: rc = bp_mut_addterm(&e, &rng); break;
        case 4: rc = bp_crossover(&e, &donor, &rng); break;
        default: rc = bp_simplify(&e); break;
        }
        if (rc) {
            assert_true(bp_equal(&before, &e));
            continue;
        }
        applied[op]++;
        assert_true(e.n >= 1 && e.n <= BP_MAX_NODES && bp_depth(&e) <= BP_MAX_DEPTH);
        assert_int_equal(bp_subtree_end(&e, 0), e.n);
        rt_buf text;
        rt_buf_init(&text, 0);
        assert_int_equal(bp_print(&e, &text), 0);
        bp_expr back;
        assert_int_equal(bp_parse(text.data, text.len, &back, err, sizeof err), 0);
        assert_true(bp_equal(&e, &back));
        rt_buf_free(&text);
        if (op == 5 && step % 10 == 0) { /* simplification keeps what it packs */
            bp_instance in = random_instance(&rng, items, 200);
            bp_prog p1, p2;
            bp_compile(&before, &p1);
            bp_compile(&e, &p2);
            assert_int_equal(bp_sim_run(sim, &p1, &in, NULL), bp_sim_run(sim, &p2, &in, NULL));
        }
        if (e.n > 60 && rt_rng_below(&rng, 4) == 0) /* keep the walk in useful sizes */
            assert_int_equal(bp_parse("(neg f)", 7, &e, err, sizeof err), 0);
        if (step % 97 == 0)
            donor = e;
    }
    for (int op = 0; op < 6; op++)
        assert_true(applied[op] > 100);
    bp_sim_free(sim);
    /* simplification folds constants and identities */
    assert_int_equal(bp_parse("(+ (* 1 (neg (neg f))) (* 2 3))", 31, &e, err, sizeof err), 0);
    assert_int_equal(bp_simplify(&e), 0);
    rt_buf text;
    rt_buf_init(&text, 0);
    bp_print(&e, &text);
    assert_string_equal(rt_buf_cstr(&text), "(+ f 6)");
    rt_buf_free(&text);
    assert_int_equal(bp_simplify(&e), -1);
}

static void test_generators(void **state)
{
    (void)state;
    bp_set a, b;
    char err[256];
    assert_int_equal(bp_generate(&a, "or", 500, 3, 9, 0, 0, 0, err, sizeof err), 0);
    assert_int_equal(bp_generate(&b, "or", 500, 3, 9, 0, 0, 0, err, sizeof err), 0);
    int lo = 1000, hi = 0;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(a.inst[k].capacity, 150);
        assert_memory_equal(a.inst[k].items, b.inst[k].items, 500 * sizeof(int));
        for (int i = 0; i < 500; i++) {
            lo = a.inst[k].items[i] < lo ? a.inst[k].items[i] : lo;
            hi = a.inst[k].items[i] > hi ? a.inst[k].items[i] : hi;
        }
    }
    assert_int_equal(lo, 20);
    assert_int_equal(hi, 100);
    assert_int_not_equal(memcmp(a.inst[0].items, a.inst[1].items, 500 * sizeof(int)), 0);
    bp_set_free(&a);
    bp_set_free(&b);
    assert_int_equal(bp_generate(&a, "weibull", 5000, 1, 1, 0, 0, 0, err, sizeof err), 0);
    long long sum = 0;
    for (int i = 0; i < 5000; i++) {
        assert_true(a.inst[0].items[i] >= 1 && a.inst[0].items[i] <= 100);
        sum += a.inst[0].items[i];
    }
    /* Weibull(45, 3) has mean 45 * Gamma(4/3) = 40.19 */
    assert_true(fabs((double)sum / 5000 - 40.19) < 1.0);
    assert_int_equal(a.inst[0].capacity, 100);
    bp_set_free(&a);
    assert_int_equal(bp_generate(&a, "gauss", 5, 1, 1, 0, 0, 0, err, sizeof err), RT_EUSAGE);
    assert_int_equal(bp_generate(&a, "or", 0, 1, 1, 0, 0, 0, err, sizeof err), RT_EUSAGE);
}

static void test_problem(void **state)
{
    (void)state;
    const char *keys[] = {"family", "items", "count"};
    const char *values[] = {"weibull", "200", "3"};
    rt_problem *pb = NULL;
    rt_error err = {0};
    assert_int_equal(rt_problem_open(&pb, "binpack", keys, values, 3, &err), 0);
    assert_string_equal(rt_problem_params(pb), "family=weibull items=200 count=3 train-seed=1");
    rt_rng rng;
    rt_rng_seed(&rng, 5, 0);
    size_t nops = 0;
    const rt_operator *ops = rt_problem_operators(pb, &nops);
    assert_int_equal(nops, 6);
    void *g = rt_problem_seed(pb);
    int checked = 0;
    for (int step = 0; step < 300; step++) {
        long long work = 0;
        void *child = rt_problem_clone(pb, g);
        if (rt_problem_apply(pb, &ops[rt_rng_below(&rng, (uint32_t)nops)], child, &rng, &work)) {
            rt_problem_free_genome(pb, child);
            continue;
        }
        rt_score sc;
        rt_problem_score(pb, child, &sc);
        rt_buf text;
        rt_buf_init(&text, 0);
        assert_int_equal(rt_problem_encode(pb, child, &text), 0);
        rt_verdict v;
        char msg[256];
        assert_int_equal(rt_problem_verify(pb, text.data, text.len, &v, msg, sizeof msg), 0);
        assert_true(v.valid);
        assert_true(v.score == sc.primary); /* the same integers behind both */
        assert_true(v.score2 == sc.secondary);
        checked++;
        rt_buf_free(&text);
        rt_problem_free_genome(pb, g);
        g = child;
    }
    assert_true(checked > 100);
    rt_problem_free_genome(pb, g);
    rt_verdict v;
    char msg[256];
    assert_int_equal(rt_problem_verify(pb, "(neg", 4, &v, msg, sizeof msg), RT_EUSAGE);
    rt_problem_close(pb);
    const char *bk[] = {"family"};
    const char *bv[] = {"gauss"};
    assert_int_equal(rt_problem_open(&pb, "binpack", bk, bv, 1, &err), RT_EUSAGE);
    assert_non_null(strstr(err.msg, "gauss"));
}

/* The exported C function, compiled, packs a generated instance with the same count as the
 * verifier. */
static void test_export_c(void **state)
{
    (void)state;
    static const char *const exprs[] = {
        "(neg f)", "(+ (neg (sq (sqrt (* r k)))) (* 0.08798 (* 5.384 (sq f))))",
        "(if (< f 3) (/ s (- r 40)) (max (log m) (exp (neg e))))",
    };
    bp_set set;
    char err[256];
    assert_int_equal(bp_generate(&set, "or", 300, 1, 3, 0, 0, 0, err, sizeof err), 0);
    for (size_t x = 0; x < sizeof exprs / sizeof exprs[0]; x++) {
        bp_expr e;
        assert_int_equal(bp_parse(exprs[x], strlen(exprs[x]), &e, err, sizeof err), 0);
        rt_buf src;
        rt_buf_init(&src, 0);
        assert_int_equal(bp_export(&e, exprs[x], 0, 150, &src), 0);
        rt_buf_puts(&src, "\n#include <stdio.h>\nstatic const int items[] = {");
        for (int i = 0; i < set.inst[0].n; i++)
            rt_buf_printf(&src, "%d,", set.inst[0].items[i]);
        rt_buf_puts(&src, "};\nint main(void) { double rem[400], sum = 0; int nb = 0;\n"
                          " for (int i = 0; i < 300; i++) { int pick = -1; double best = 0;\n"
                          "  sum += items[i];\n"
                          "  for (int j = 0; j <= nb; j++) { double r = j < nb ? rem[j] : 150;\n"
                          "   if (r < items[i]) continue;\n"
                          "   double p = priority(items[i], r, 150, j == nb, nb, sum / (i + 1));\n"
                          "   if (p != p) p = -1.0/0.0;\n"
                          "   if (pick < 0 || p > best) { pick = j; best = p; } }\n"
                          "  if (pick == nb) { rem[nb++] = 150; }\n  rem[pick] -= items[i]; }\n"
                          " printf(\"%d\\n\", nb); return 0; }\n");
        char cpath[512], bin[512], cmd[1700];
        snprintf(cpath, sizeof cpath, "%s/p%zu.c", tmpdir, x);
        snprintf(bin, sizeof bin, "%s/p%zu", tmpdir, x);
        FILE *f = fopen(cpath, "w");
        assert_non_null(f);
        fputs(rt_buf_cstr(&src), f);
        fclose(f);
        rt_buf_free(&src);
        snprintf(cmd, sizeof cmd, "cc -std=c17 -O1 -Wall -Werror %s -o %s -lm && %s", cpath, bin,
                 bin);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        long long got = -1;
        assert_int_equal(fscanf(p, "%lld", &got), 1);
        assert_int_equal(pclose(p), 0);
        assert_int_equal(got, naive_bins(&e, &set.inst[0]));
    }
    bp_set_free(&set);
}

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void one_line_exit2(const char *args, const char *needle)
{
    char out[4096];
    int rc = tu_tool_in(tmpdir, out, sizeof out, "%s", args);
    if (rc != 2 || !strstr(out, needle) || strchr(out, '\n') != out + strlen(out) - 1)
        fail_msg("ratchet %s: exit %d, output '%s' (expected one line with '%s')", args, rc, out,
                 needle);
}

static void test_cli(void **state)
{
    (void)state;
    char out[65536];
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "gen --help"), 0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "eval --help"), 0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "gen binpack --family or --items 120 --count 4 "
                                           "--seed 5 --out or1.json"), 0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "eval binpack --solver bestfit --instances or1.json "
                                           "--json --packing pack.json"), 0);
    assert_non_null(strstr(out, "\"excess_percent\""));
    /* the packing file is FunSearch-checkable: every item once per instance */
    size_t len;
    char path[512];
    snprintf(path, sizeof path, "%s/pack.json", tmpdir);
    char *pack = tu_slurp(path, &len);
    assert_non_null(pack);
    assert_non_null(strstr(pack, "\"or_3\": [["));
    free(pack);
    write_file("bad.expr", "(neg f\n");
    write_file("good.expr", "(+ (neg f) (* 0.1 e))\n");
    write_file("zero.json", "{\"i\": {\"capacity\": 10, \"num_items\": 1, \"items\": [0]}}");
    write_file("trunc.json", "{\"i\": {\"capacity\": 10, \"num_");
    one_line_exit2("eval binpack --solver bad.expr --instances or1.json", "expression");
    one_line_exit2("eval binpack --solver good.expr --instances zero.json", "items[0]");
    one_line_exit2("eval binpack --solver good.expr --instances trunc.json", "trunc.json:1:");
    one_line_exit2("eval binpack --solver good.expr --instances nothere.json", "nothere.json");
    one_line_exit2("eval binpack --solver good.expr", "--instances");
    one_line_exit2("gen binpack --family gauss --items 5", "gauss");
    one_line_exit2("gen binpack --family or --items 0", "--items");
    one_line_exit2("gen matmul --family or --items 5", "binpack");
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "eval binpack --solver good.expr --instances "
                                           "or1.json"), 0);
    assert_non_null(strstr(out, "(all)"));
    /* a short run, then best in each format, eval from the store, audit */
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "run binpack --family or --items 120 --count 3 "
                                           "--evaluations 300 --store r.db --quiet"), 0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "best r.db"), 0);
    write_file("best.expr", out); /* the canonical text, which eval reads back */
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "eval binpack --solver best.expr --instances "
                                           "or1.json"), 0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "best r.db --format c"), 0);
    assert_non_null(strstr(out, "double priority(double s"));
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "best r.db --format python"), 0);
    assert_non_null(strstr(out, "def priority(item"));
    /* it is Python (where python3 exists; NumPy is not needed to parse it) */
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "best r.db --format python > p.py && "
                                           "{ ! command -v python3 >/dev/null || python3 -c "
                                           "'import ast; ast.parse(open(\"p.py\").read())'; }"),
                     0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "eval binpack --solver r.db --instances or1.json"), 0);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "audit r.db"), 0);
    assert_non_null(strstr(out, "passed"));
    /* one seed, one run, on 1 or 2 threads with --reproducible (generations; crossover's donors
     * are scored in island order) */
    static char first[65536];
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "run binpack --family weibull --items 100 --count 2 "
                                           "--evaluations 400 --threads 1 --reproducible --store t1.db --quiet "
                                           "&& %s best t1.db && %s status t1.db | grep candidates",
                          tu_tool_path(), tu_tool_path()), 0);
    snprintf(first, sizeof first, "%s", out);
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "run binpack --family weibull --items 100 --count 2 "
                                           "--evaluations 400 --threads 2 --reproducible --store t2.db --quiet "
                                           "&& %s best t2.db && %s status t2.db | grep candidates",
                          tu_tool_path(), tu_tool_path()), 0);
    assert_non_null(strstr(first, "candidates"));
    assert_string_equal(strchr(out, '\n'), strchr(first, '\n')); /* past the timing line */
    /* verify reads a binpack candidate file */
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "verify --problem binpack --family or good.expr"), 0);
    assert_non_null(strstr(out, "valid: "));
    assert_int_equal(tu_tool_in(tmpdir, out, sizeof out, "verify --problem binpack bad.expr"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_print),     cmocka_unit_test(test_fast_equals_naive),
        cmocka_unit_test(test_baselines),       cmocka_unit_test(test_packing_check),
        cmocka_unit_test(test_instance_reader), cmocka_unit_test(test_gp_operators),
        cmocka_unit_test(test_generators),      cmocka_unit_test(test_problem),
        cmocka_unit_test(test_export_c),        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
