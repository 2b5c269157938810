/* test_engine.c — the gate, the archive and the loop, through the library.
 *
 * The gate test runs the real engine with a sabotaging operator that often breaks the scheme
 * while the proxy claims an improvement (a deleted product means a lower rank): nothing broken may
 * reach the archive, every rejection is stored with a reason, and the store audits clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "archive.h"
#include "problem.h"
#include "problems/matmul/matmul_search.h"
#include "ratchet.h"
#include "testutil.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    return tu_tempdir(tmpdir, sizeof tmpdir, "engine");
}

static int teardown_dir(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

/* Walks a little, then breaks the scheme two times in three. */
static int op_sabotage(const void *st, void *genome, rt_rng *rng, long long *work)
{
    (void)st;
    mm_scheme *s = genome;
    mm_walk(s, rng, 200, NULL);
    *work += 200;
    uint32_t what = rt_rng_below(rng, 3);
    if (what == 0 && s->rank > 1) {
        uint32_t victim = rt_rng_below(rng, (uint32_t)s->rank);
        s->rank--;
        s->prod[victim] = s->prod[s->rank];
    } else if (what == 1) {
        mm_prod *p = &s->prod[rt_rng_below(rng, (uint32_t)s->rank)];
        p->f[0].p ^= 1ULL << rt_rng_below(rng, (uint32_t)(s->n * s->m));
        p->f[0].n &= ~p->f[0].p;
    }
    return 0;
}

static const rt_operator sabotage_ops[] = {{"sabotage", 1.0, op_sabotage}};

static long long query(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void gate_keeps_invalid_candidates_out(void **state)
{
    (void)state;
    rt_problem_class sabotaged = rt_problem_matmul; /* same verifier, same name: the store reads
                                                        back as an ordinary matmul run */
    sabotaged.operators = sabotage_ops;
    sabotaged.noperators = 1;
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field"}, *values[] = {"3x3x3", "z"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 2, &err), 0);
    pb->cls = &sabotaged;

    char path[512];
    snprintf(path, sizeof path, "%s/gate.db", tmpdir);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.evaluations = 400;
    opt.seed = 5;
    rt_run *run = NULL;
    assert_int_equal(rt_run_create(&run, path, pb, &opt, &err), 0);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    pb->cls = &rt_problem_matmul;
    rt_problem_close(pb);

    long long invalid = query(path, "SELECT count(*) FROM candidates WHERE valid=0");
    long long admitted_invalid =
        query(path, "SELECT count(*) FROM candidates WHERE admitted=1 AND valid=0");
    long long no_reason =
        query(path, "SELECT count(*) FROM candidates WHERE valid=0 AND "
                    "(reason IS NULL OR reason NOT LIKE '%equation%')");
    long long overclaims = query(path, "SELECT count(*) FROM candidates WHERE valid=0 AND "
                                       "proxy > (SELECT max(score) FROM candidates WHERE valid=1)");
    long long admitted = query(path, "SELECT count(*) FROM candidates WHERE admitted=1");
    assert_true(invalid > 50);         /* the sabotage happened */
    assert_true(overclaims > 0);       /* and the proxy claimed ranks nothing valid reached */
    assert_int_equal(admitted_invalid, 0);
    assert_int_equal(no_reason, 0);    /* each rejection names a failing equation */
    assert_true(admitted > 1);

    /* the store audits clean: every admitted candidate re-verifies from its text */
    rt_store *st = NULL;
    assert_int_equal(rt_store_open(&st, path, &err), 0);
    long long checked = 0;
    assert_int_equal(rt_store_check(st, &checked), 0);
    assert_int_equal(checked, admitted);
    rt_summary sum;
    assert_int_equal(rt_store_summary(st, &sum), 0);
    assert_true(sum.has_best);
    /* the best is a real scheme: its text verifies */
    char *text = NULL;
    assert_int_equal(rt_store_best(st, &text), 0);
    rt_problem *check = NULL;
    assert_int_equal(rt_problem_open(&check, "matmul", keys, values, 2, &err), 0);
    rt_verdict v;
    assert_int_equal(rt_problem_verify_text(check, text, strlen(text), &v, &err), 0);
    assert_true(v.valid);
    assert_true(v.metric == sum.best_metric);
    free(text);
    rt_problem_close(check);
    rt_store_close(st);
}

/* ---- archive ----------------------------------------------------------------------------- */

static void *genome_for(const rt_problem *pb)
{
    return pb->cls->seed(pb->state);
}

static void archive_cells_ties_and_dedupe(void **state)
{
    (void)state;
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape"}, *values[] = {"2x2x2"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 1, &err), 0);
    rt_archive a;
    assert_int_equal(rt_archive_init(&a, pb, 2), 0);
    int c1[2] = {8, 6}, c2[2] = {7, 6};
    void *g = genome_for(pb);
    assert_int_equal(rt_archive_offer(&a, 0, g, (rt_score){-8, -24}, c1, "h1", 1, NULL), 1);
    /* same hash again: refused, even into another cell */
    void *g2 = genome_for(pb);
    assert_int_equal(rt_archive_offer(&a, 0, g2, (rt_score){-7, -20}, c2, "h1", 2, NULL), 0);
    /* worse in the same cell: refused; equal: replaces (plateau moves) */
    assert_int_equal(rt_archive_offer(&a, 0, g2, (rt_score){-8, -30}, c1, "h2", 2, NULL), 0);
    assert_int_equal(rt_archive_offer(&a, 0, g2, (rt_score){-8, -24}, c1, "h3", 3, NULL), 1);
    assert_int_equal(a.islands[0].ncells, 1);
    assert_string_equal(a.islands[0].cells[0].hash, "h3");
    void *g3 = genome_for(pb);
    assert_int_equal(rt_archive_offer(&a, 0, g3, (rt_score){-7, -20}, c2, "h4", 4, NULL), 1);
    assert_int_equal(a.islands[0].ncells, 2);
    assert_string_equal(rt_archive_best(&a)->hash, "h4");

    /* migration moves the best once */
    assert_int_equal(rt_archive_migrate(&a), 1);
    assert_int_equal(a.islands[1].ncells, 1);
    assert_string_equal(a.islands[1].cells[0].hash, "h4");
    assert_int_equal(rt_archive_migrate(&a), 0);
    assert_int_equal(a.islands[0].ncells, 2);

    /* selection with p_best = 1 always gives the best; with 0 it reaches every cell */
    rt_rng rng;
    rt_rng_seed(&rng, 1, 0);
    assert_string_equal(rt_archive_select(&a, 0, &rng, 1.0)->hash, "h4");
    int seen3 = 0, seen4 = 0;
    for (int i = 0; i < 200; i++) {
        const char *h = rt_archive_select(&a, 0, &rng, 0.0)->hash;
        seen3 += strcmp(h, "h3") == 0;
        seen4 += strcmp(h, "h4") == 0;
    }
    assert_true(seen3 > 0 && seen4 > 0);
    rt_archive_free(&a);
    rt_problem_close(pb);
}

/* The parameter strings read back from a store are parsed by rt_problem_open_canonical: any
 * string gives a problem or a clean error with a message, never a crash. */
static void stored_params_parser_survives_any_string(void **state)
{
    (void)state;
    static const char *const tokens[] = {"shape=3x3x3", "shape=2x2x4", "field=gf2", "field=z",
                                         "walk=5",      "shape=9x1x1", "field=",    "=",
                                         "walk=-1",     "shape=3x3",   " ",         "bogus=1"};
    rt_rng rng;
    rt_rng_seed(&rng, 11, 0);
    int opened = 0;
    for (int i = 0; i < 20000; i++) {
        char buf[128];
        size_t len = 0;
        if (i % 2) { /* arbitrary bytes */
            len = rt_rng_below(&rng, 96);
            for (size_t k = 0; k < len; k++)
                buf[k] = (char)(1 + rt_rng_below(&rng, 255));
        } else { /* words that are nearly right */
            for (uint32_t w = rt_rng_below(&rng, 5); w > 0; w--) {
                const char *t = tokens[rt_rng_below(&rng, sizeof tokens / sizeof tokens[0])];
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? " " : "", t);
            }
        }
        buf[len] = '\0';
        rt_problem *pb = NULL;
        char err[256] = "";
        int rc = rt_problem_open_canonical(&pb, "matmul", buf, err, sizeof err);
        if (rc == 0) {
            opened++;
            assert_non_null(pb);
            rt_problem_close(pb);
        } else {
            assert_true(rc < 0);
            assert_null(pb);
            assert_true(err[0] != '\0');
        }
    }
    /* and the canonical strings themselves round-trip */
    rt_problem *pb = NULL;
    char err[256];
    assert_int_equal(rt_problem_open_canonical(&pb, "matmul", "shape=2x3x4 field=gf2 walk=77",
                                               err, sizeof err),
                     0);
    assert_string_equal(rt_problem_params(pb), "shape=2x3x4 field=gf2 walk=77");
    rt_problem_close(pb);
    print_message("params parser: 20000 strings, %d opened a problem\n", opened);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gate_keeps_invalid_candidates_out),
        cmocka_unit_test(archive_cells_ties_and_dedupe),
        cmocka_unit_test(stored_params_parser_survives_any_string),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
