/* test_policy.c — the knob table and what it drives: defaults in range, the policy file's
 * round trip, errors that name the bad key, and mutation that stays in range (property tests
 * over many random policies and random edits of valid files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "problem.h"
#include "problems/matmul/matmul_policy.h"
#include "testutil.h"

static char *print_policy(const rt_policy *p)
{
    rt_buf b;
    rt_buf_init(&b, 0);
    assert_int_equal(rt_policy_print(p, &b), 0);
    return rt_buf_take(&b);
}

static void test_defaults_valid_and_unique(void **st)
{
    (void)st;
    rt_policy p;
    char err[256];
    rt_policy_defaults(&p);
    assert_int_equal(rt_policy_validate(&p, err, sizeof err), 0);
    rt_policy_table_defaults(&p);
    assert_int_equal(rt_policy_validate(&p, err, sizeof err), 0);
    size_t n;
    const rt_knob *k = rt_policy_knobs(&n);
    assert_true(n >= 10);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(strchr(k[i].name, '.'));
        assert_ptr_equal(rt_policy_knob_find(k[i].name), &k[i]);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(k[i].name, k[j].name);
        if (k[i].type != RT_KNOB_STR && k[i].type != RT_KNOB_ENUM)
            assert_true(rt_policy_get(&p, &k[i]) == k[i].def);
    }
    /* the lead's original defaults are unchanged */
    assert_true(p.p_best == 0.5);
    assert_int_equal(p.migrate_every, 25);
    assert_int_equal(mm_policy(&p)->walk_flips, 2000000);
}

/* Each problem's own rows reach the table, in one run named "<problem>.knob", between the loop's
 * sections and the proposers'; a problem's section lies inside the policy value. */
static void test_problem_sections(void **st)
{
    (void)st;
    rt_policy p;
    rt_policy_defaults(&p);
    size_t n;
    const rt_knob *k = rt_policy_knobs(&n);
    const rt_problem_class *cls;
    for (size_t c = 0; (cls = rt_problem_class_at(c)); c++) {
        const char *sec = rt_policy_section(&p, cls);
        if (!cls->knobs) {
            assert_null(sec);
            continue;
        }
        assert_true(sec >= (const char *)&p && sec + cls->knobs->size <= (const char *)(&p + 1));
        for (size_t j = 0; j < cls->knobs->nknobs; j++) {
            const rt_knob *row = &cls->knobs->knobs[j];
            const rt_knob *g = rt_policy_knob_find(row->name);
            assert_non_null(g);
            assert_true(g >= k && g < k + n);
            assert_true((const char *)&p + g->offset == sec + row->offset);
        }
    }
    assert_ptr_equal(rt_policy_section(&p, &rt_problem_noisy), NULL);
    assert_ptr_equal(mm_policy(&p), rt_policy_section_mut(&p, &rt_problem_matmul));
    /* order of the file format: engine, bandit, meta, matmul, llm */
    const char *order[] = {"engine.", "bandit.", "meta.", "matmul.", "llm."};
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        while (at < 5 && strncmp(k[i].name, order[at], strlen(order[at])) != 0)
            at++;
        assert_true(at < 5);
    }
}

static void test_roundtrip_and_merge(void **st)
{
    (void)st;
    rt_policy p;
    rt_policy_defaults(&p);
    char err[256];
    const char *file = "{\"matmul\": {\"walk_flips\": 777}, \"engine.p_best\": 0.25,"
                       " \"bandit\": {\"enabled\": false}}";
    assert_int_equal(rt_policy_parse(&p, file, strlen(file), err, sizeof err), 0);
    assert_int_equal(mm_policy(&p)->walk_flips, 777);
    assert_true(p.p_best == 0.25);
    assert_int_equal(p.bandit.enabled, 0);
    assert_int_equal(p.migrate_every, 25); /* merged over the defaults */
    char *text = print_policy(&p);
    rt_policy q;
    rt_policy_defaults(&q);
    assert_int_equal(rt_policy_parse(&q, text, strlen(text), err, sizeof err), 0);
    char *text2 = print_policy(&q);
    assert_string_equal(text, text2);
    free(text);
    free(text2);
}

static void expect_error(const char *file, const char *needle)
{
    rt_policy p;
    rt_policy_defaults(&p);
    char *before = print_policy(&p);
    char err[256] = "";
    int rc = rt_policy_parse(&p, file, strlen(file), err, sizeof err);
    assert_true(rc < 0);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not name '%s'", err, needle);
    char *after = print_policy(&p);
    assert_string_equal(before, after); /* a failed parse changes nothing */
    free(before);
    free(after);
}

static void test_errors_name_the_key(void **st)
{
    (void)st;
    expect_error("{\"matmul\": {\"walk_flip\": 5}}", "matmul.walk_flip");
    expect_error("{\"nosuch.knob\": 1}", "nosuch.knob");
    expect_error("{\"matmul\": {\"walk_flips\": 0}}", "matmul.walk_flips");
    expect_error("{\"engine\": {\"p_best\": 1.5}}", "engine.p_best");
    expect_error("{\"engine\": {\"migrate_every\": 2.5}}", "engine.migrate_every");
    expect_error("{\"bandit\": {\"enabled\": 1}}", "bandit.enabled");
    expect_error("{\"matmul\": {\"walk_flips\": 5, \"walk_flips\": 6}}", "line");
    expect_error("[1,2]", "object");
    expect_error("{\"matmul\": ", "line");
    expect_error("", "policy");
}

static void test_mutation_stays_in_range(void **st)
{
    (void)st;
    rt_rng rng;
    rt_rng_seed(&rng, 42, 0);
    rt_policy p;
    rt_policy_defaults(&p);
    char err[256];
    size_t n;
    const rt_knob *k = rt_policy_knobs(&n);
    int changed_any[128] = {0};
    assert_true(n <= 128);
    for (int it = 0; it < 3000; it++) {
        rt_policy before = p;
        int c = rt_policy_mutate(&p, &p, &rng);
        assert_true(c >= 1);
        if (rt_policy_validate(&p, err, sizeof err))
            fail_msg("after mutation %d: %s", it, err);
        for (size_t i = 0; i < n; i++)
            if (rt_policy_get(&p, &k[i]) != rt_policy_get(&before, &k[i]))
                changed_any[i] = 1;
        /* every mutated policy round-trips through its file */
        char *text = print_policy(&p);
        rt_policy q;
        rt_policy_defaults(&q);
        assert_int_equal(rt_policy_parse(&q, text, strlen(text), err, sizeof err), 0);
        for (size_t i = 0; i < n; i++)
            assert_true(rt_policy_get(&q, &k[i]) == rt_policy_get(&p, &k[i]));
        free(text);
        if (it % 100 == 99)
            rt_policy_defaults(&p); /* restart so that knobs do not sit at their bounds */
    }
    for (size_t i = 0; i < n; i++)
        if (k[i].mutation != RT_MUT_NONE && !changed_any[i])
            fail_msg("knob %s never mutated", k[i].name);
        else if (k[i].mutation == RT_MUT_NONE && changed_any[i])
            fail_msg("knob %s is not mutable but changed", k[i].name);
}

/* Random edits of a valid file (byte flips, truncations, insertions): the parser answers 0 or
 * a one-line error, never crashes, and an accepted file gives a valid policy. */
static void test_random_edits(void **st)
{
    (void)st;
    rt_policy p;
    rt_policy_defaults(&p);
    char *text = print_policy(&p);
    size_t len = strlen(text);
    rt_rng rng;
    rt_rng_seed(&rng, 7, 1);
    char *buf = malloc(len + 16);
    assert_non_null(buf);
    int accepted = 0;
    for (int it = 0; it < 20000; it++) {
        memcpy(buf, text, len);
        size_t n = len;
        int edits = 1 + (int)rt_rng_below(&rng, 3);
        for (int e = 0; e < edits; e++) {
            size_t at = rt_rng_below(&rng, (uint32_t)n);
            switch (rt_rng_below(&rng, 3)) {
            case 0:
                buf[at] = (char)rt_rng_below(&rng, 256);
                break;
            case 1:
                n = at;
                break;
            default:
                buf[at] = "{}[]\",:0123456789.-etrufalsn "[rt_rng_below(&rng, 29)];
            }
            if (n == 0)
                break;
        }
        rt_policy q;
        rt_policy_defaults(&q);
        char err[256] = "";
        int rc = rt_policy_parse(&q, buf, n, err, sizeof err);
        if (rc == 0) {
            accepted++;
            assert_int_equal(rt_policy_validate(&q, err, sizeof err), 0);
        } else {
            assert_true(err[0] != '\0');
            assert_null(strchr(err, '\n'));
        }
    }
    assert_true(accepted > 0);
    free(buf);
    free(text);
}

static void test_op_weight_lookup(void **st)
{
    (void)st;
    rt_policy p;
    rt_policy_defaults(&p);
    mm_policy_mut(&p)->op_plus = 0.3;
    assert_true(rt_policy_op_weight(&p, "matmul", "plus", 9) == 0.3);
    assert_true(rt_policy_op_weight(&p, "matmul", "nosuch", 9) == 9);
    assert_true(rt_policy_op_weight(&p, "nosuch", "walk", 4) == 4);
}

/* The shipped default's head is the table's values with every layer of policy/default.json
 * merged over them, the built-in copy is the file of this tree, and policy/lineage.json names
 * every knob the file sets (run from the repository root). */
static void test_shipped_default_is_table_plus_file(void **st)
{
    (void)st;
    size_t len = 0, llen = 0;
    char *file = tu_slurp("policy/default.json", &len);
    char *lineage = tu_slurp("policy/lineage.json", &llen);
    if (!file || !lineage)
        skip();
    assert_string_equal(rt_policy_shipped_text(), file);
    rt_policy table, merged, shipped;
    char err[256];
    rt_policy_table_defaults(&table);
    memset(&merged, 0xab, sizeof merged);
    if (rt_policy_defaults_text(&merged, file, len, NULL, 0, NULL, err, sizeof err))
        fail_msg("policy/default.json: %s", err);
    rt_policy_defaults(&shipped);
    assert_memory_equal(&merged, &shipped, sizeof merged);
    size_t n;
    const rt_knob *k = rt_policy_knobs(&n);
    for (size_t i = 0; i < n; i++) {
        if (k[i].type == RT_KNOB_STR ||
            rt_policy_get(&table, &k[i]) == rt_policy_get(&shipped, &k[i]))
            continue;
        const char *dot = strrchr(k[i].name, '.');
        if (!strstr(file, dot + 1) || !strstr(lineage, k[i].name))
            fail_msg("%s differs from the table but policy/lineage.json does not name it",
                     k[i].name);
    }
    free(file);
    free(lineage);
}

/* Layers and their scopes: a layer applies to a run of its problem up to its max_size, not
 * beyond it, not to another problem; a layer without a scope, and a plain policy file, apply
 * to every run; the head (problem NULL) has every layer. */
static void test_default_layers_and_scopes(void **st)
{
    (void)st;
    const char *text = "{\"layers\": ["
                       "{\"policy\": {\"engine\": {\"p_best\": 0.3}}},"
                       "{\"scope\": {\"problem\": \"matmul\", \"max_size\": 64},"
                       " \"policy\": {\"matmul\": {\"stop_on_improve\": false}}},"
                       "{\"scope\": {\"problem\": \"matmul\", \"max_size\": 48, \"field\": \"gf2\"},"
                       " \"policy\": {\"matmul\": {\"restart_drift\": 2}}}]}";
    const rt_knob *pb = rt_policy_knob_find("engine.p_best");
    const rt_knob *soi = rt_policy_knob_find("matmul.stop_on_improve");
    const rt_knob *drift = rt_policy_knob_find("matmul.restart_drift");
    assert_non_null(pb);
    assert_non_null(soi);
    assert_non_null(drift);
    rt_policy table, p;
    rt_policy_table_defaults(&table);
    assert_true(rt_policy_get(&table, soi) == 1);
    assert_true(rt_policy_get(&table, drift) != 2);
    char err[256];
    /* drift: whether the third layer (GF(2) up to 48) holds the run */
    static const struct {
        const char *problem;
        long size;
        const char *field;
        int stops, drift;
    } cases[] = {
        {"matmul", 64, "z", 0, 0},   {"matmul", 1, "z", 0, 0},     {"matmul", 65, "z", 1, 0},
        {"matmul", 125, "z", 1, 0},  {"matmul", 0, "z", 1, 0},     {"program", 8, NULL, 1, 0},
        {"", 8, NULL, 1, 0},         {NULL, 0, NULL, 0, 1},        {"matmul", 48, "gf2", 0, 1},
        {"matmul", 12, "gf2", 0, 1}, {"matmul", 49, "gf2", 0, 0},  {"matmul", 48, "z", 0, 0},
        {"matmul", 48, NULL, 0, 0},  {"program", 8, "gf2", 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(rt_policy_defaults_text(&p, text, strlen(text), cases[i].problem,
                                                 cases[i].size, cases[i].field, err, sizeof err),
                         0);
        assert_true(rt_policy_get(&p, pb) == 0.3);
        if (rt_policy_get(&p, soi) != cases[i].stops ||
            (rt_policy_get(&p, drift) == 2) != cases[i].drift)
            fail_msg("case %zu (%s, %ld, %s): stop_on_improve %g, restart_drift %g", i,
                     cases[i].problem ? cases[i].problem : "head", cases[i].size,
                     cases[i].field ? cases[i].field : "no field", rt_policy_get(&p, soi),
                     rt_policy_get(&p, drift));
    }
    /* a plain policy is one layer for every run */
    const char *plain = "{\"matmul\": {\"stop_on_improve\": false}}";
    assert_int_equal(rt_policy_defaults_text(&p, plain, strlen(plain), "matmul", 125, "z", err,
                                             sizeof err),
                     0);
    assert_true(rt_policy_get(&p, soi) == 0);
    assert_int_equal(rt_policy_defaults_text(&p, "{}", 2, "matmul", 125, "z", err, sizeof err), 0);
    assert_memory_equal(&p, &table, sizeof p);
}

/* A bad default file fails naming the key, the layers that do not apply are checked too, and
 * *p is left as it was. */
static void test_default_layers_errors(void **st)
{
    (void)st;
    static const struct {
        const char *text, *names;
    } cases[] = {
        {"{\"layers\": 3}", "layers must be an array"},
        {"{\"layers\": [], \"engine\": {}}", "no other top-level key"},
        {"{\"layers\": [7]}", "layers[0] is not an object"},
        {"{\"layers\": [{\"scope\": {\"problem\": \"matmul\", \"max_size\": 9}}]}",
         "layers[0] is not an object with a 'policy'"},
        {"{\"layers\": [{\"policy\": {}, \"where\": 1}]}", "'layers[0].where'"},
        {"{\"layers\": [{\"policy\": {}}, {\"policy\": {}, \"scope\": {\"problem\": "
         "\"matmul\"}}]}",
         "layers[1].scope.max_size"},
        {"{\"layers\": [{\"policy\": {}, \"scope\": {\"problem\": \"matmul\", "
         "\"max_size\": 0}}]}",
         "layers[0].scope.max_size"},
        {"{\"layers\": [{\"policy\": {}, \"scope\": {\"problem\": \"\", \"max_size\": 4}}]}",
         "layers[0].scope.problem"},
        {"{\"layers\": [{\"policy\": {}, \"scope\": {\"problem\": \"matmul\", "
         "\"max_size\": 4, \"min_size\": 1}}]}",
         "'layers[0].scope.min_size'"},
        /* out of scope for the run below (size 125), and still refused */
        {"{\"layers\": [{\"policy\": {\"matmul\": {\"nosuch\": 1}}, \"scope\": "
         "{\"problem\": \"matmul\", \"max_size\": 4}}]}",
         "layers[0]: policy: unknown key 'matmul.nosuch'"},
        {"{\"layers\": [{\"policy\": {}, \"scope\": {\"problem\": \"matmul\", "
         "\"max_size\": 4, \"field\": \"GF2\"}}]}",
         "layers[0].scope.field must be one of matmul's fields (z gf2)"},
        {"{\"layers\": [{\"policy\": {}, \"scope\": {\"problem\": \"matmul\", "
         "\"max_size\": 4, \"field\": 2}}]}",
         "layers[0].scope.field"},
        {"{\"layers\": [{\"policy\": {}, \"scope\": {\"problem\": \"matmul\", "
         "\"max_size\": 4, \"field\": \"\"}}]}",
         "layers[0].scope.field"},
        {"{\"layers\": [{\"policy\": {}, \"scope\": {\"problem\": \"program\", "
         "\"max_size\": 4, \"field\": \"z\"}}]}",
         "layers[0].scope.field must be one of program's fields (it has none)"},
        /* a problem name that would break the line is shown escaped */
        {"{\"layers\": [{\"policy\": {}, \"scope\": {\"problem\": \"a\\nb\", "
         "\"max_size\": 4, \"field\": \"z\"}}]}",
         "layers[0].scope.field must be one of a"},
        {"{\"engine\": {\"p_best\": 7}}", "engine.p_best"},
        {"[1, 2]", "expected a JSON object"},
        {"{\"layers\": [", "line 1"},
    };
    rt_policy p, before;
    memset(&p, 0x5a, sizeof p);
    before = p;
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        int rc = rt_policy_defaults_text(&p, cases[i].text, strlen(cases[i].text), "matmul", 125,
                                         "z", err, sizeof err);
        if (rc != RT_EUSAGE || !strstr(err, cases[i].names) || strchr(err, '\n'))
            fail_msg("case %zu: rc %d, '%s' does not name '%s' on one line", i, rc, err,
                     cases[i].names);
        assert_memory_equal(&p, &before, sizeof p);
    }
}

/* Makes a run of `problem` (one evaluation's options; nothing is run) in a store at path and
 * returns the policy the store keeps, checked to be want's canonical text. */
static char *stored_policy(const char *problem, const char *const *keys,
                           const char *const *values, size_t nparams, const char *path,
                           const rt_policy *want)
{
    rt_problem *pb = NULL;
    rt_error e;
    assert_int_equal(rt_problem_open(&pb, problem, keys, values, nparams, &e), 0);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.evaluations = 1;
    opt.threads = 1;
    rt_run *run = NULL;
    if (rt_run_create(&run, path, pb, &opt, &e))
        fail_msg("rt_run_create: %s", e.msg);
    rt_run_close(run);
    rt_problem_close(pb);
    rt_store *store = NULL;
    char *stored = NULL;
    assert_int_equal(rt_store_open(&store, path, &e), 0);
    assert_int_equal(rt_store_policy(store, &stored), 0);
    rt_store_close(store);
    char *w = print_policy(want);
    assert_string_equal(stored, w);
    free(w);
    return stored;
}

/* A run gets the default for its instance: with a shipped default whose first layer holds
 * matmul up to size 64 and whose second holds matmul over GF(2) up to 48, the policy stored with
 * a run of <2,2,3> over Z has the first layer's knob and not the second's, over GF(2) both, with
 * --lift 1 (walks over GF(2), results over Z) only the first, and a run of <5,5,5> neither; each
 * is what rt_policy_defaults_for gives. A meta run starts from the head. */
static void test_run_gets_its_scope(void **st)
{
    (void)st;
    static const char layered[] =
        "{\"layers\": [{\"scope\": {\"problem\": \"matmul\", \"max_size\": 64},"
        " \"policy\": {\"matmul\": {\"stop_on_improve\": false}}},"
        "{\"scope\": {\"problem\": \"matmul\", \"max_size\": 48, \"field\": \"gf2\"},"
        " \"policy\": {\"matmul\": {\"restart_drift\": 2}}}]}";
    char err[256];
    assert_int_equal(rt_policy_shipped_replace("{\"layers\": 1}", err, sizeof err), RT_EUSAGE);
    assert_int_equal(rt_policy_shipped_replace(layered, err, sizeof err), 0);
    assert_string_equal(rt_policy_shipped_text(), layered);
    char dir[512], path[600];
    assert_int_equal(tu_tempdir(dir, sizeof dir, "policy-scope"), 0);
    static const struct {
        const char *shape, *field, *lift;
        long size;
        const char *scope_field;
        int stops, drift2;
    } runs[] = {
        {"2x2x3", "z", "0", 12, "z", 0, 0},   {"2x2x3", "gf2", "0", 12, "gf2", 0, 1},
        {"2x2x3", "z", "1", 12, "z", 0, 0},   {"5x5x5", "z", "0", 125, "z", 1, 0},
        {"5x5x5", "gf2", "0", 125, "gf2", 1, 0},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        rt_problem *pb = NULL;
        rt_error e;
        const char *keys[] = {"shape", "field", "lift"};
        const char *values[] = {runs[i].shape, runs[i].field, runs[i].lift};
        assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 3, &e), 0);
        assert_int_equal(rt_problem_scope_size(pb), runs[i].size);
        assert_string_equal(rt_problem_scope_field(pb), runs[i].scope_field);
        rt_problem_close(pb);
        snprintf(path, sizeof path, "%s/run%zu.db", dir, i);
        rt_policy want;
        rt_policy_defaults_for(&want, "matmul", runs[i].size, runs[i].scope_field);
        char *stored = stored_policy("matmul", keys, values, 3, path, &want);
        const char *stop = runs[i].stops ? "\"stop_on_improve\": true" : "\"stop_on_improve\": false";
        if (!strstr(stored, stop) || (strstr(stored, "\"restart_drift\": 2,") != NULL) != runs[i].drift2)
            fail_msg("the run of %s over %s (lift %s) was not made with %s and restart_drift %s2",
                     runs[i].shape, runs[i].field, runs[i].lift, stop, runs[i].drift2 ? "" : "not ");
        free(stored);
    }
    /* a meta run (the policy problem) starts from the head, every layer, so its lineage goes on
     * from the whole shipped default; its trials take each shape's scope (test_meta) */
    const char *keys[] = {"train", "heldout"};
    const char *values[] = {"matmul:2x2x3:z", "matmul:2x2x4:z"};
    snprintf(path, sizeof path, "%s/meta.db", dir);
    rt_policy head;
    rt_policy_defaults(&head);
    char *stored = stored_policy("policy", keys, values, 2, path, &head);
    if (!strstr(stored, "\"stop_on_improve\": false") || !strstr(stored, "\"restart_drift\": 2,"))
        fail_msg("the meta run was not made from the head");
    free(stored);
    tu_rmtree(dir);
    assert_int_equal(rt_policy_shipped_replace(NULL, err, sizeof err), 0);
}

/* rt_policy_rebase: the knobs where p differs from `from` (a number, a bool and a string) are
 * p's in the result, every other knob is onto's, and the result may be one of its inputs. */
static void test_rebase(void **st)
{
    (void)st;
    rt_policy from, p, onto, out;
    rt_policy_table_defaults(&from);
    p = from;
    onto = from;
    const rt_knob *walk = rt_policy_knob_find("matmul.op_walk");
    const rt_knob *stop = rt_policy_knob_find("matmul.stop_on_improve");
    const rt_knob *drift = rt_policy_knob_find("matmul.restart_drift");
    const rt_knob *tmpl = rt_policy_knob_find("llm.template_set");
    assert_non_null(walk);
    assert_non_null(stop);
    assert_non_null(drift);
    assert_non_null(tmpl);
    assert_int_equal(tmpl->type, RT_KNOB_STR);
    rt_policy_set(&p, walk, rt_policy_get(&from, walk) + 0.5);
    rt_policy_set(&p, stop, 1 - rt_policy_get(&from, stop));
    snprintf((char *)&p + tmpl->offset, (size_t)tmpl->max, "%s", "other");
    rt_policy_set(&onto, drift, rt_policy_get(&from, drift) + 1);
    rt_policy_set(&onto, stop, rt_policy_get(&from, stop)); /* onto keeps from's stop */
    rt_policy_rebase(&out, &p, &from, &onto);
    rt_policy want = onto;
    rt_policy_set(&want, walk, rt_policy_get(&p, walk));
    rt_policy_set(&want, stop, rt_policy_get(&p, stop));
    snprintf((char *)&want + tmpl->offset, (size_t)tmpl->max, "%s", "other");
    char *a = print_policy(&out), *b = print_policy(&want);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* no change from `from`: onto itself; and in place */
    rt_policy_rebase(&out, &from, &from, &onto);
    assert_memory_equal(&out, &onto, sizeof out);
    rt_policy_rebase(&onto, &p, &from, &onto);
    a = print_policy(&onto);
    b = print_policy(&want);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* docs/policy.md documents every knob (run from the repository root). */
static void test_every_knob_documented(void **st)
{
    (void)st;
    size_t len = 0;
    char *doc = tu_slurp("docs/policy.md", &len);
    if (!doc)
        skip();
    size_t n;
    const rt_knob *k = rt_policy_knobs(&n);
    for (size_t i = 0; i < n; i++)
        if (!strstr(doc, k[i].name))
            fail_msg("docs/policy.md does not document %s", k[i].name);
    free(doc);
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
        cmocka_unit_test(test_defaults_valid_and_unique),
        cmocka_unit_test(test_problem_sections),
        cmocka_unit_test(test_roundtrip_and_merge),
        cmocka_unit_test(test_errors_name_the_key),
        cmocka_unit_test(test_mutation_stays_in_range),
        cmocka_unit_test(test_random_edits),
        cmocka_unit_test(test_op_weight_lookup),
        cmocka_unit_test(test_shipped_default_is_table_plus_file),
        cmocka_unit_test(test_default_layers_and_scopes),
        cmocka_unit_test(test_default_layers_errors),
        cmocka_unit_test_teardown(test_run_gets_its_scope, shipped_restore),
        cmocka_unit_test(test_rebase),
        cmocka_unit_test(test_every_knob_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
