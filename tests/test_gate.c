/* test_gate.c — the gate (gate.c): nothing enters the archive unverified.
 *
 * Through the engine: a sabotaging operator often breaks the scheme while the proxy claims an
 * improvement (a deleted product means a lower rank): nothing broken may reach the archive,
 * every rejection is stored with a reason, and the store checks clean. Then the gate's rulings
 * one by one, and its re-verification of what comes back from the store. */
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
#include "gate.h"
#include "problem.h"
#include "problems/matmul/matmul_search.h"
#include "ratchet.h"
#include "testutil.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    return tu_tempdir(tmpdir, sizeof tmpdir, "gate");
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
    sabotaged.operators_for = NULL; /* the class's table, not the default portfolio's */
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

/* ---- the gate's rulings, one by one -------------------------------------------------------- */

/* A child as the engine hands it to the gate: text and hash of genome. */
typedef struct child {
    rt_buf text;
    char hash[65];
    rt_gate_child at;
} child;

static void child_make(child *c, const rt_problem *pb, void *genome)
{
    rt_buf_init(&c->text, 0);
    assert_int_equal(rt_problem_encode(pb, genome, &c->text), 0);
    rt_sha256_hex(c->text.data, c->text.len, c->hash);
    memset(&c->at, 0, sizeof c->at);
    c->at.genome = genome;
    c->at.text = rt_buf_cstr(&c->text);
    c->at.len = c->text.len;
    c->at.hash = c->hash;
}

/* Strassen's scheme decoded, whole or (broken) without its first product. */
static void *strassen(const rt_problem *pb, int broken)
{
    const char *path = "tests/data/strassen-222.exp";
    size_t len = 0;
    char *text = tu_slurp(path, &len);
    assert_non_null(text);
    const char *from = broken ? strchr(text, '\n') + 1 : text;
    void *g = NULL;
    char err[256];
    if (rt_problem_decode(pb, from, len - (size_t)(from - text), &g, err, sizeof err))
        fail_msg("%s: %s", path, err);
    free(text);
    return g;
}

/* Each step of rt_gate_admit on its own: a valid child enters with its verified score; the same
 * text again does not; a failed evaluation is rejected without a verification; a broken scheme
 * (Strassen without a product) is rejected with the failing equation, and admitted (trusted)
 * only under the ablation. */
static void gate_rules_each_child(void **state)
{
    (void)state;
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field"}, *values[] = {"2x2x2", "z"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 2, &err), 0);
    rt_policy pol;
    rt_policy_defaults(&pol);
    rt_archive a;
    assert_int_equal(rt_archive_init(&a, pb, 1), 0);
    rt_gate g;
    rt_gate_init(&g, pb);
    rt_gate_bind(&g, &a, &pol, 0);
    rt_gate_ruling ruling;

    child good;
    child_make(&good, pb, strassen(pb, 0));
    assert_int_equal(rt_gate_admit(&g, &good.at, &ruling), 0);
    assert_true(ruling.admitted && ruling.verdict.valid && !ruling.trusted && !ruling.dropped);
    assert_true(ruling.verdict.metric == 7);
    assert_true(rt_score_cmp(ruling.score, ruling.verified) == 0);
    assert_non_null(ruling.slot);
    assert_int_equal(g.checked, 1);
    assert_int_equal(g.passed, 1);

    child again; /* the same text: verified, but the island already holds it */
    child_make(&again, pb, strassen(pb, 0));
    assert_int_equal(rt_gate_admit(&g, &again.at, &ruling), 0);
    assert_true(ruling.verdict.valid && !ruling.admitted);

    rt_evaluation ev = {.failed = 1};
    snprintf(ev.reason, sizeof ev.reason, "timed out");
    again.at.ev = &ev;
    assert_int_equal(rt_gate_admit(&g, &again.at, &ruling), 0);
    assert_true(!ruling.admitted && !ruling.verdict.valid);
    assert_string_equal(rt_gate_reason(&ruling), "evaluation failed: timed out");
    assert_int_equal(g.checked, 2); /* not verified */

    child broken;
    child_make(&broken, pb, strassen(pb, 1));
    assert_int_equal(rt_gate_admit(&g, &broken.at, &ruling), 0);
    assert_true(!ruling.admitted && !ruling.verdict.valid);
    assert_non_null(strstr(rt_gate_reason(&ruling), "equation"));
    assert_int_equal(g.failed, 1);

    rt_gate_bind(&g, &a, &pol, 1); /* the ablation: the proxy's word admits */
    assert_int_equal(rt_gate_admit(&g, &broken.at, &ruling), 0);
    assert_true(ruling.admitted && ruling.trusted && !ruling.verdict.valid);
    assert_true(rt_score_cmp(ruling.score, ruling.proxy) == 0);
    assert_int_equal(g.failed, 2); /* verified all the same, and counted */

    rt_problem_free_genome(pb, again.at.genome); /* good and broken belong to the archive */
    rt_buf_free(&good.text);
    rt_buf_free(&again.text);
    rt_buf_free(&broken.text);
    rt_archive_free(&a);
    rt_problem_close(pb);
}

/* On resume a stored candidate is trusted again only if its text verifies now. */
static void gate_readmits_only_what_verifies(void **state)
{
    (void)state;
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field"}, *values[] = {"2x2x2", "z"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 2, &err), 0);
    rt_policy pol;
    rt_policy_defaults(&pol);
    rt_archive a;
    assert_int_equal(rt_archive_init(&a, pb, 2), 0);
    rt_gate g;
    rt_gate_init(&g, pb);
    rt_gate_bind(&g, &a, &pol, 0);
    rt_gate_ruling ruling;

    child good;
    child_make(&good, pb, strassen(pb, 0));
    rt_gate_stored stored = {.island = 1, .cand_id = 9, .migrated = 1, .text = good.at.text,
                             .len = good.at.len, .hash = good.hash, .score = {-7, 0}};
    assert_int_equal(rt_gate_readmit(&g, &stored, &ruling), 1);
    assert_true(ruling.admitted && ruling.verdict.valid);
    assert_int_equal(a.islands[1].ncells, 1);
    assert_int_equal(a.islands[1].cells[0].cand_id, 9);
    assert_int_equal(a.islands[1].cells[0].migrated, 1);
    assert_int_equal(rt_gate_readmit(&g, &stored, &ruling), 0); /* already there */

    child broken;
    child_make(&broken, pb, strassen(pb, 1));
    stored = (rt_gate_stored){.island = 0, .cand_id = 12, .text = broken.at.text,
                              .len = broken.at.len, .hash = broken.hash};
    assert_int_equal(rt_gate_readmit(&g, &stored, &ruling), RT_ESTORE);
    assert_non_null(strstr(g.errmsg, "archived candidate 12 does not verify"));
    assert_int_equal(a.islands[0].ncells, 0);

    rt_problem_free_genome(pb, good.at.genome);
    rt_problem_free_genome(pb, broken.at.genome);
    rt_buf_free(&good.text);
    rt_buf_free(&broken.text);
    rt_archive_free(&a);
    rt_problem_close(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gate_keeps_invalid_candidates_out),
        cmocka_unit_test(gate_rules_each_child),
        cmocka_unit_test(gate_readmits_only_what_verifies),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
