/* test_llm_run.c — whole runs with the llm proposer against the scripted loopback server
 * (tests/llm_server.c): a run whose scripted replies improve the candidate (the improvement
 * verified, admitted and stored, every request accounted for), every fault on the way (429, 500,
 * invalid JSON, no edit, a diff that does not apply, a rewrite the verifier rejects, a slow reply
 * past the timeout, a connection closed mid-reply) counted and skipped, the token and money
 * budgets ending runs cleanly, and the bound on requests in flight. The real client talks to the
 * server over a real socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_server.h"
#include "ratchet.h"
#include "testutil.h"

#define DATA "tests/data/llm"

typedef struct fixture {
    llm_server *server;
    char dir[256];
    char store[512];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || tu_tempdir(f->dir, sizeof f->dir, "llm-run"))
        return -1;
    snprintf(f->store, sizeof f->store, "%s/run.db", f->dir);
    f->server = llm_server_start(DATA);
    if (!f->server)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    llm_server_stop(f->server);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

static rt_problem *matmul222(void)
{
    const char *keys[] = {"shape"}, *values[] = {"2x2x2"};
    rt_problem *pb = NULL;
    rt_error err;
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 1, &err), 0);
    return pb;
}

/* Runs a new store with the llm proposer; returns rt_run_execute's code. */
static int run_llm(fixture *f, int islands, long long evaluations, const char *const *keys,
                   const char *const *values, size_t n, char *errmsg, size_t errlen)
{
    rt_problem *pb = matmul222();
    rt_run_options o;
    rt_run_options_init(&o);
    o.islands = islands;
    o.threads = islands;
    o.evaluations = evaluations;
    o.seconds = 60;
    o.proposer = "llm";
    o.proposer_keys = keys;
    o.proposer_values = values;
    o.nproposer_params = n;
    rt_run *run = NULL;
    rt_error err;
    int rc = rt_run_create(&run, f->store, pb, &o, &err);
    rt_problem_close(pb);
    if (rc) {
        snprintf(errmsg, errlen, "%s", err.msg);
        return rc;
    }
    rc = rt_run_execute(run);
    snprintf(errmsg, errlen, "%s", rt_run_errmsg(run));
    rt_run_close(run);
    return rc;
}

/* One integer from the store. */
static long long query(const char *store, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    long long v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_scripted_run_improves(void **state)
{
    fixture *f = *state;
    /* one island: requests go out one at a time; each entry answers one HTTP request, so a
     * retried request takes two */
    const char *script[] = {
        "rate_429",         /* retried after Retry-After ... */
        "no_edit",          /* ... then prose without an edit: counted, no child */
        "invalid_json",     /* malformed: counted, no child */
        "mm_diff_no_match", /* a diff whose SEARCH text is absent: rejected, nothing applied */
        "error_500",        /* retried ... */
        "mm_good_diff",     /* ... then Strassen's 7 products in place of 8: improvement */
        "mm_full_rewrite",  /* another rank-7 scheme: valid, not better */
        "mm_wrong_full",    /* six products that do not multiply: the verifier rejects it */
        "closed_midreply",  /* connection cut mid-reply: retried ... */
        "truncated",        /* ... then cut at the token limit: counted */
        "slow",             /* past the timeout: counted */
        "empty",            /* a message without content: counted */
    };
    llm_server_script(f->server, script, sizeof script / sizeof script[0], "invalid_json");
    int before = llm_server_requests(f->server);
    const char *keys[] = {"url", "model", "timeout", "backoff", "prompts", "p-full"};
    const char *values[] = {llm_server_url(f->server), "scripted-coder", "1", "0.01", "prompts",
                            "0.5"};
    char msg[512];
    int rc = run_llm(f, 1, 9, keys, values, 6, msg, sizeof msg);
    if (rc)
        fail_msg("run failed: %s", msg);

    /* the improvement was verified by the problem's verifier, admitted and stored */
    rt_store *st = NULL;
    rt_error err;
    assert_int_equal(rt_store_open(&st, f->store, &err), 0);
    rt_summary sum;
    assert_int_equal(rt_store_summary(st, &sum), 0);
    assert_true(sum.has_best);
    assert_true(sum.best_metric == 7.0);
    long long checked = 0;
    assert_int_equal(rt_store_check(st, &checked), 0);
    assert_true(checked >= 1);
    rt_llm_spend sp;
    assert_int_equal(rt_store_llm_spend(st, &sp), 0);
    rt_store_close(st);
    assert_int_equal(sp.requests, 9);
    assert_int_equal(sp.improved, 1);
    assert_int_equal(sp.retries, 3); /* 429, 500, closed connection */
    assert_int_equal(sp.nmodels, 1);
    assert_string_equal(sp.models[0].model, "scripted-coder");
    /* the server counted every attempt: 9 requests + 3 retries */
    assert_int_equal(llm_server_requests(f->server) - before, 12);
    /* tokens as the server reported them (no usage for failed ones: estimated from bytes) */
    assert_true(sp.tokens_in >= 90 + 420 + 400 + 410 + 400 + 90 + 80);
    assert_true(sp.tokens_out >= 20 + 180 + 60 + 150 + 90 + 4096);

    /* one row per request, its outcome named */
    assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests"), 9);
    assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests WHERE outcome='ok'"), 3);
    assert_int_equal(query(f->store,
                           "SELECT count(*) FROM llm_requests WHERE outcome='no-edit'"), 1);
    assert_int_equal(query(f->store,
                           "SELECT count(*) FROM llm_requests WHERE outcome='malformed'"), 1);
    assert_int_equal(query(f->store,
                           "SELECT count(*) FROM llm_requests WHERE outcome='not-applied'"), 1);
    assert_int_equal(query(f->store,
                           "SELECT count(*) FROM llm_requests WHERE outcome='truncated'"), 1);
    assert_int_equal(query(f->store,
                           "SELECT count(*) FROM llm_requests WHERE outcome='timeout'"), 1);
    assert_int_equal(query(f->store,
                           "SELECT count(*) FROM llm_requests WHERE outcome='empty'"), 1);
    assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests WHERE improved=1 AND "
                                     "valid=1 AND admitted=1 AND child_score>parent_score"), 1);
    assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests WHERE made=1 AND "
                                     "valid=0"), 1);
    /* the improving child is in the candidates table, made by a diff, rank 7, admitted */
    assert_int_equal(query(f->store, "SELECT count(*) FROM candidates WHERE operator='llm-diff'"
                                     " AND valid=1 AND admitted=1 AND metric=7"), 1);
    assert_int_equal(query(f->store, "SELECT count(*) FROM candidates WHERE operator='llm-full'"
                                     " AND valid=0"), 1);
    /* the key is nowhere: there was none, and no row mentions an Authorization header */
    assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests WHERE error LIKE "
                                     "'%Bearer%'"), 0);
}

static void test_token_budget_ends_run(void **state)
{
    fixture *f = *state;
    const char *script[] = {"no_edit", "no_edit", "no_edit", "no_edit", "no_edit"};
    llm_server_script(f->server, script, 5, "no_edit");
    int before = llm_server_requests(f->server);
    /* each no_edit reply costs 90 + 20 tokens: the budget of 250 is spent by the third */
    const char *keys[] = {"url", "model", "budget-tokens", "prompts"};
    const char *values[] = {llm_server_url(f->server), "m", "250", "prompts"};
    char msg[512];
    int rc = run_llm(f, 1, 0, keys, values, 4, msg, sizeof msg);
    if (rc)
        fail_msg("run failed: %s", msg);
    assert_int_equal(llm_server_requests(f->server) - before, 3);
    assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests"), 3);
    assert_int_equal(query(f->store, "SELECT sum(tokens_in + tokens_out) FROM llm_requests"),
                     330);
    assert_int_equal(query(f->store, "SELECT count(*) FROM events WHERE kind='stop' AND detail "
                                     "LIKE 'llm token budget spent%'"), 1);

    /* the proposer's options are stored with the run: a resume without any reuses them (the
     * server, the model, a new session's budget); the rows of both sessions are kept */
    assert_int_equal(query(f->store, "SELECT count(*) FROM meta WHERE key='proposer-options' "
                                     "AND value LIKE '%[\"budget-tokens\",\"250\"]%' AND "
                                     "value LIKE '%[\"model\",\"m\"]%'"),
                     1);
    rt_run_options o;
    rt_run_options_init(&o);
    o.seconds = 60;
    rt_run *run = NULL;
    rt_error err;
    assert_int_equal(rt_run_resume(&run, f->store, NULL, &o, &err), 0);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests"), 6);
    assert_int_equal(query(f->store, "SELECT count(*) FROM events WHERE kind='stop' AND detail "
                                     "LIKE 'llm token budget spent%'"), 2);
    /* an option given again replaces the stored one, and is stored in its place: 120 tokens
     * are spent by the second request, now and on the next resume */
    const char *tighter_k[] = {"budget-tokens"};
    const char *tighter_v[] = {"120"};
    o.proposer_keys = tighter_k;
    o.proposer_values = tighter_v;
    o.nproposer_params = 1;
    for (int session = 0; session < 2; session++) {
        assert_int_equal(rt_run_resume(&run, f->store, NULL, &o, &err), 0);
        assert_int_equal(rt_run_execute(run), 0);
        rt_run_close(run);
        assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests"), 8 + 2 * session);
        o.nproposer_params = 0;
    }
    assert_int_equal(query(f->store, "SELECT count(*) FROM meta WHERE key='proposer-options' "
                                     "AND value LIKE '%\"120\"%' AND value NOT LIKE '%\"250\"%'"),
                     1);
}

static void test_money_budget_and_models(void **state)
{
    fixture *f = *state;
    llm_server_script(f->server, NULL, 0, "no_edit");
    int before = llm_server_requests(f->server);
    /* 90 in, 20 out per request; a at 1000/2000 per million: 0.13 a request; b at 100/100:
     * 0.011. Budget 0.5. */
    const char *keys[] = {"url", "model", "model", "price", "price", "budget-money", "prompts"};
    const char *values[] = {llm_server_url(f->server), "a", "b", "a=1000,2000", "b=100,100",
                            "0.5", "prompts"};
    char msg[512];
    int rc = run_llm(f, 1, 200, keys, values, 7, msg, sizeof msg);
    if (rc)
        fail_msg("run failed: %s", msg);
    int sent = llm_server_requests(f->server) - before;
    rt_store *st = NULL;
    rt_error err;
    assert_int_equal(rt_store_open(&st, f->store, &err), 0);
    rt_llm_spend sp;
    assert_int_equal(rt_store_llm_spend(st, &sp), 0);
    rt_store_close(st);
    assert_int_equal(sp.requests, sent);
    assert_true(sp.cost >= 0.5 && sp.cost < 0.5 + 0.13 + 1e-9);
    assert_int_equal(sp.nmodels, 2);
    /* both models tried; neither improves, so the cheaper one gets most requests */
    assert_string_equal(sp.models[0].model, "a");
    assert_true(sp.models[0].requests >= 1);
    assert_true(sp.models[1].requests > sp.models[0].requests);
    assert_int_equal(query(f->store, "SELECT count(*) FROM events WHERE kind='stop' AND detail "
                                     "LIKE 'llm money budget spent%'"), 1);
}

static void test_in_flight_bounded(void **state)
{
    fixture *f = *state;
    llm_server_script(f->server, NULL, 0, "slowish");
    const char *keys[] = {"url", "model", "max-in-flight", "prompts"};
    const char *values[] = {llm_server_url(f->server), "m", "2", "prompts"};
    char msg[512];
    int rc = run_llm(f, 4, 8, keys, values, 4, msg, sizeof msg);
    if (rc)
        fail_msg("run failed: %s", msg);
    assert_int_equal(llm_server_max_in_flight(f->server), 2);
    assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests"), 8);
}

static void test_bad_options(void **state)
{
    fixture *f = *state;
    char msg[512];
    const char *k1[] = {"model"}, *v1[] = {"m"};
    assert_int_equal(run_llm(f, 1, 1, k1, v1, 1, msg, sizeof msg), RT_EUSAGE);
    assert_non_null(strstr(msg, "--llm-url"));
    const char *k2[] = {"url", "model", "key-env"};
    const char *v2[] = {llm_server_url(f->server), "m", "RATCHET_TEST_NO_SUCH_VARIABLE"};
    assert_int_equal(run_llm(f, 1, 1, k2, v2, 3, msg, sizeof msg), RT_EUSAGE);
    assert_non_null(strstr(msg, "RATCHET_TEST_NO_SUCH_VARIABLE is not set"));
    const char *k3[] = {"url", "model", "budget-money"};
    const char *v3[] = {llm_server_url(f->server), "m", "3"};
    assert_int_equal(run_llm(f, 1, 1, k3, v3, 3, msg, sizeof msg), RT_EUSAGE);
    assert_non_null(strstr(msg, "needs a price"));
    const char *k4[] = {"url", "model", "template"};
    const char *v4[] = {llm_server_url(f->server), "m", "../etc"};
    assert_int_equal(run_llm(f, 1, 1, k4, v4, 3, msg, sizeof msg), RT_EUSAGE);
    const char *k5[] = {"url", "model", "bogus"};
    const char *v5[] = {llm_server_url(f->server), "m", "1"};
    assert_int_equal(run_llm(f, 1, 1, k5, v5, 3, msg, sizeof msg), RT_EUSAGE);
    assert_non_null(strstr(msg, "no option 'bogus'"));
}

static void test_key_sent_never_stored(void **state)
{
    fixture *f = *state;
    setenv("RATCHET_TEST_LLM_KEY", "sk-secret-4242", 1);
    llm_server_script(f->server, NULL, 0, "no_edit");
    const char *keys[] = {"url", "model", "key-env", "prompts"};
    const char *values[] = {llm_server_url(f->server), "m", "RATCHET_TEST_LLM_KEY", "prompts"};
    char msg[512];
    int rc = run_llm(f, 1, 2, keys, values, 4, msg, sizeof msg);
    if (rc)
        fail_msg("run failed: %s", msg);
    char body[8192], auth[512];
    llm_server_last(f->server, body, sizeof body, auth, sizeof auth);
    assert_string_equal(auth, "Bearer sk-secret-4242");
    size_t len = 0;
    char *bytes = tu_slurp(f->store, &len);
    assert_non_null(bytes);
    assert_null(memmem(bytes, len, "sk-secret-4242", 14));
    /* what is stored is the variable's name, for the resume */
    assert_non_null(memmem(bytes, len, "RATCHET_TEST_LLM_KEY", 20));
    free(bytes);
    unsetenv("RATCHET_TEST_LLM_KEY");
}

/* The tool end to end: `ratchet run ... --proposer llm` against the server, then `ratchet
 * status` showing the spend. */
static void test_tool_run_and_status(void **state)
{
    fixture *f = *state;
    const char *tool = tu_tool();
    assert_non_null(tool);
    const char *script[] = {"mm_good_diff"};
    llm_server_script(f->server, script, 1, "no_edit");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s run matmul --shape 2x2x2 --islands 1 --evaluations 3 --quiet --store %s "
             "--proposer llm --llm-url %s --model coder-a --llm-price coder-a=2,6 "
             "--llm-key-env RATCHET_TEST_CLI_KEY 2>&1",
             tool, f->store, llm_server_url(f->server));
    setenv("RATCHET_TEST_CLI_KEY", "sk-cli-9999", 1);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    unsetenv("RATCHET_TEST_CLI_KEY");
    if (rc != 0)
        fail_msg("ratchet run failed (%d): %s", rc, out);
    assert_non_null(strstr(out, "best verified rank 7"));
    assert_null(strstr(out, "sk-cli-9999"));
    snprintf(cmd, sizeof cmd, "%s status %s 2>&1", tool, f->store);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    /* 420+180 tokens at 2 and 6 per million, then two no_edit replies of 90+20 */
    assert_non_null(strstr(out, "llm          3 requests (0 retries, 2 without a usable edit), "
                                "1 improved"));
    assert_non_null(strstr(out, "llm spend    600 tokens in, 220 out, cost 0.0025"));
    assert_non_null(strstr(out, "model coder-a"));
    snprintf(cmd, sizeof cmd, "%s status --json %s 2>&1", tool, f->store);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_non_null(strstr(out, "\"tokens_in\": 600"));

    /* `run --resume STORE` alone continues with the stored server, model, price and the key's
     * variable (read again from the environment); without the variable it says which one */
    snprintf(cmd, sizeof cmd, "%s run --resume %s --evaluations 2 --quiet 2>&1", tool,
             f->store);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 2 << 8);
    assert_non_null(strstr(out, "RATCHET_TEST_CLI_KEY is not set"));
    setenv("RATCHET_TEST_CLI_KEY", "sk-cli-9999", 1);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    unsetenv("RATCHET_TEST_CLI_KEY");
    if (pclose(p) != 0)
        fail_msg("resume without the llm options failed: %s", out);
    char auth[512];
    llm_server_last(f->server, cmd, sizeof cmd, auth, sizeof auth);
    assert_string_equal(auth, "Bearer sk-cli-9999");
    snprintf(cmd, sizeof cmd, "%s status %s 2>&1", tool, f->store);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    /* two more no_edit replies of 90+20 tokens, priced at the stored 2 and 6 per million */
    assert_non_null(strstr(out, "llm          5 requests"));
    assert_non_null(strstr(out, "llm spend    780 tokens in, 260 out, cost 0.0031"));
}

/* Runs the tool with a command line (printf-style) and returns its output (exit code in *rc). */
static char *tool_output(int *rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *tool_output(int *rc, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *out = calloc(1, 65536);
    assert_non_null(out);
    size_t n = fread(out, 1, 65535, p);
    out[n] = '\0';
    *rc = pclose(p);
    return out;
}

/* The program problem end to end: the tool evolves a shell program with scripted replies; the
 * improvements are checked by the program's own verifier, and the edits that must not apply
 * (absent SEARCH text, a protected line outside the EVOLVE block, new EVOLVE markers) and the
 * rewrite the verifier refuses are stored as such. */
static void test_program_run_improves(void **state)
{
    fixture *f = *state;
    const char *tool = tu_tool();
    assert_non_null(tool);
    const char *script[] = {"prog_diff_no_match", "prog_outside_region", "prog_markers",
                            "prog_good_diff", "prog_cheat_full", "prog_good_full"};
    llm_server_script(f->server, script, 6, "no_edit");
    int rc;
    char *out = tool_output(
        &rc,
        "%s run program --initial " DATA "/prog/count.sh --evaluator " DATA "/prog/evaluate "
        "--verifier " DATA "/prog/verify --islands 1 --evaluations 6 --quiet --store %s "
        "--proposer llm --llm-url %s --model coder --llm-language sh 2>&1",
        tool, f->store, llm_server_url(f->server));
    if (rc != 0)
        fail_msg("ratchet run failed (%d): %s", rc, out);
    free(out);
    assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests"), 6);
    assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests WHERE "
                                     "outcome='not-applied'"), 3);
    assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests WHERE improved=1"), 2);
    assert_int_equal(query(f->store, "SELECT count(*) FROM llm_requests WHERE made=1 AND "
                                     "valid=0"), 1);
    assert_int_equal(query(f->store, "SELECT max(score) FROM candidates WHERE valid=1 AND "
                                     "admitted=1"), 42);
    assert_int_equal(query(f->store, "SELECT count(*) FROM candidates WHERE valid=0 AND "
                                     "operator='llm-full'"), 1);
    /* the protected line and the markers were never changed in any stored candidate */
    assert_int_equal(tu_count_texts(f->store, "1", "echo 99", 1), 0);
    assert_int_equal(tu_count_texts(f->store, "1", "echo 100", 1), 0);
    assert_int_equal(tu_count_texts(f->store, "valid=1 AND score=42", "n=$((m * 10 + 2))", 1),
                     1);
    out = tool_output(&rc, "%s status %s 2>&1", tool, f->store);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "llm          6 requests (0 retries, 3 without a usable edit), "
                                "2 improved"));
    free(out);
}

static int fresh_store(void **state)
{
    fixture *f = *state;
    char wal[600];
    remove(f->store);
    snprintf(wal, sizeof wal, "%s-wal", f->store);
    remove(wal);
    snprintf(wal, sizeof wal, "%s-shm", f->store);
    remove(wal);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* first: a slow reply of another test would still count as in flight */
        cmocka_unit_test_setup(test_in_flight_bounded, fresh_store),
        cmocka_unit_test_setup(test_scripted_run_improves, fresh_store),
        cmocka_unit_test_setup(test_token_budget_ends_run, fresh_store),
        cmocka_unit_test_setup(test_money_budget_and_models, fresh_store),
        cmocka_unit_test_setup(test_bad_options, fresh_store),
        cmocka_unit_test_setup(test_key_sent_never_stored, fresh_store),
        cmocka_unit_test_setup(test_tool_run_and_status, fresh_store),
        cmocka_unit_test_setup(test_program_run_improves, fresh_store),
    };
    return cmocka_run_group_tests_name("llm proposer runs on loopback", tests, setup, teardown);
}
