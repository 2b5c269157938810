/* test_audit.c — the audit and the gate against tampering (issue 7, item 6).
 *
 * One clean matmul run is made; each case copies its store, tampers with the copy through SQLite
 * directly, and checks that rt_store_audit fails naming the damage: a byte changed in a stored
 * candidate (with and without its hash fixed), a deleted row (in the middle and at the end),
 * two rows swapped, a rejected candidate marked admitted with the whole chain rewritten after it,
 * and a proxy score changed with the chain rewritten (the text no longer decodes to what was
 * scored). The gate itself is shown a candidate whose text decodes to something other than what
 * was scored (a lying proxy; a lossy encoder). And the ablation in miniature: with the sampled
 * proxy, a gated run admits nothing invalid while a --trust-proxy run does, and the audit says so.
 * The quick check (rt_store_check, also in src/audit/audit.c) fails on a byte changed in an
 * admitted candidate, and on the same change with its hash recomputed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "gate.h"
#include "problem.h"
#include "problems/matmul/matmul_search.h"
#include "ratchet.h"
#include "store/chain.h"
#include "testutil.h"

static char tmpdir[256];
static char clean[512];

static void make_run(const char *path, const char *proxy, int trust, long long evaluations)
{
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field", "walk", "proxy"};
    const char *values[] = {"3x3x3", "gf2", "2000", proxy};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 4, &err), 0);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.evaluations = evaluations;
    opt.seed = 7;
    opt.trust_proxy = trust;
    rt_run *run = NULL;
    if (rt_run_create(&run, path, pb, &opt, &err) != 0)
        fail_msg("rt_run_create: %s", err.msg);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    rt_problem_close(pb);
}

static int setup(void **state)
{
    (void)state;
    if (tu_tempdir(tmpdir, sizeof tmpdir, "audit"))
        return -1;
    snprintf(clean, sizeof clean, "%s/clean.db", tmpdir);
    make_run(clean, "sampled", 0, 120);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

/* Copies the clean store to a fresh file; returns its path (static buffer). */
static const char *copy_clean(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s.db", tmpdir, name);
    size_t len = 0;
    char *data = tu_slurp(clean, &len);
    assert_non_null(data);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(data);
    return path;
}

static void sql(const char *path, const char *statement)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, statement, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", statement, msg ? msg : "?");
    sqlite3_close(db);
}

static long long query(const char *path, const char *q)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Audits path; returns the number of failures and checks that one names `expect`. */
static long long audit(const char *path, const char *expect, rt_audit *a)
{
    rt_error err;
    rt_store *st = NULL;
    if (rt_store_open(&st, path, &err) != 0)
        fail_msg("rt_store_open: %s", err.msg);
    if (rt_store_audit(st, a) != 0)
        fail_msg("rt_store_audit: %s", rt_store_errmsg(st));
    rt_store_close(st);
    if (expect) {
        int found = 0;
        for (int i = 0; i < a->nlisted; i++)
            if (strstr(a->failures[i], expect))
                found = 1;
        if (!found) {
            for (int i = 0; i < a->nlisted; i++)
                print_message("failure: %s\n", a->failures[i]);
            fail_msg("no failure names '%s'", expect);
        }
    }
    return a->nfailures;
}

/* A hash column as hex (format 3 keeps hashes as 32-byte BLOBs, format 2 as TEXT); NULL for
 * NULL. */
static const char *hash_col(sqlite3_stmt *st, int col, char out[65])
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NULL;
    if (sqlite3_column_type(st, col) == SQLITE_BLOB) {
        const unsigned char *raw = sqlite3_column_blob(st, col);
        for (int i = 0; i < 32; i++)
            snprintf(out + 2 * i, 3, "%02x", raw[i]);
        return out;
    }
    snprintf(out, 65, "%s", (const char *)sqlite3_column_text(st, col));
    return out;
}

/* Rewrites the link of every row from the first and the checkpoint's account, as an attacker
 * who knows the chain format would after an edit (format 4's table: no prev; parents are row
 * ids, hashed as the parent's hash). */
static void rechain(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL, *up = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id,hash,(SELECT p.hash FROM candidates p WHERE "
                                        "p.id=c.parent),operator,island,generation,proxy,"
                                        "proxy2,valid,score,score2,metric,reason,admitted,time,"
                                        "trusted FROM candidates c ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE candidates SET link=? WHERE id=?", -1, &up,
                                        NULL),
                     SQLITE_OK);
    char last[65] = "";
    long long n = 0;
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char hash[65], parent[65];
        rt_cand_row r = {
            .hash = hash_col(st, 1, hash),
            .parent = hash_col(st, 2, parent),
            .op = (const char *)sqlite3_column_text(st, 3),
            .island = sqlite3_column_int(st, 4),
            .generation = sqlite3_column_int64(st, 5),
            .proxy = {sqlite3_column_double(st, 6), sqlite3_column_double(st, 7)},
            .valid = sqlite3_column_int(st, 8),
            .verified = {sqlite3_column_double(st, 9), sqlite3_column_double(st, 10)},
            .metric = sqlite3_column_double(st, 11),
            .reason = (const char *)sqlite3_column_text(st, 12),
            .admitted = sqlite3_column_int(st, 13),
            .time = sqlite3_column_double(st, 14),
            .trusted = sqlite3_column_int(st, 15),
        };
        char link[65];
        assert_int_equal(rt_chain_link(last[0] ? last : NULL, &r, link), 0);
        sqlite3_reset(up);
        sqlite3_bind_text(up, 1, link, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(up, 2, sqlite3_column_int64(st, 0));
        assert_int_equal(sqlite3_step(up), SQLITE_DONE);
        memcpy(last, link, sizeof last);
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    char q[256];
    snprintf(q, sizeof q, "UPDATE checkpoint SET chain_rows=%lld, chain_head='%s'", n, last);
    assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* 1 when row id is admitted (and valid, when valid is set). */
static int query_id_admitted(const char *path, long long id, int valid)
{
    char q[160];
    snprintf(q, sizeof q, "SELECT count(*) FROM candidates WHERE id=%lld AND admitted=1%s", id,
             valid ? " AND valid=1" : "");
    return query(path, q) == 1;
}

/* Row id's text as ratchet reads it (decompressed, hash-checked); the caller frees it. NULL when
 * it cannot be read (a row tampered with before). */
static char *stored_text_or_null(const char *path, long long id)
{
    rt_store *store = NULL;
    rt_error err;
    assert_int_equal(rt_store_open(&store, path, &err), 0);
    char *text = NULL;
    if (rt_store_candidate_text(store, id, &text) != 0)
        text = NULL;
    rt_store_close(store);
    return text;
}

static char *stored_text(const char *path, long long id)
{
    char *text = stored_text_or_null(path, id);
    assert_non_null(text);
    return text;
}

/* The newest row (admitted, and valid when valid is set) whose text holds needle; 0 if none. */
static long long newest_with(const char *path, const char *needle, int valid)
{
    char q[160];
    snprintf(q, sizeof q, "SELECT max(id) FROM candidates WHERE admitted=1%s",
             valid ? " AND valid=1" : "");
    for (long long id = query(path, q); id > 0; id--) {
        char *text = stored_text_or_null(path, id);
        int has = text && strstr(text, needle) != NULL;
        free(text);
        if (has && query_id_admitted(path, id, valid))
            return id;
    }
    return 0;
}

/* Overwrites row id's text with text as plain TEXT (and its hash, when hash is not NULL), as an
 * editor with sqlite3 would. */
static void put_text(const char *path, long long id, const char *text, const char *hash)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        hash ? "UPDATE candidates SET text=?1, hash=?2 WHERE id=?3"
                                             : "UPDATE candidates SET text=?1 WHERE id=?3",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    if (hash)
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, id);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void clean_store_passes(void **state)
{
    (void)state;
    rt_audit a;
    assert_int_equal(audit(clean, NULL, &a), 0);
    assert_true(a.rows > 50);
    assert_int_equal(a.links, a.rows);
    assert_true(a.admitted > 5);
    assert_int_equal(a.reverified, a.admitted);
    assert_int_equal(a.trusted, 0);
    assert_int_equal(strlen(a.head), 64);
    /* the gated run met invalid children (the sampled proxy's moves) and admitted none */
    assert_true(query(clean, "SELECT count(*) FROM candidates WHERE valid=0") > 0);
    assert_int_equal(query(clean, "SELECT count(*) FROM candidates WHERE admitted=1 AND valid=0"),
                     0);
}

static void byte_changed_in_text(void **state)
{
    (void)state;
    const char *p = copy_clean("byte");
    long long id = newest_with(p, "a11", 0);
    assert_true(id > 0);
    char *text = stored_text(p, id);
    strstr(text, "a11")[2] = '2';
    put_text(p, id, text, NULL);
    free(text);
    rt_audit a;
    assert_true(audit(p, "does not match its hash", &a) > 0);
}

static void byte_changed_hash_fixed(void **state)
{
    (void)state;
    const char *p = copy_clean("bytehash");
    long long id = newest_with(p, "a11", 1);
    assert_true(id > 0);
    char *text = stored_text(p, id);
    strstr(text, "a11")[2] = '2';
    char hash[65];
    rt_sha256_hex(text, strlen(text), hash);
    put_text(p, id, text, hash);
    free(text);
    rt_audit a;
    assert_true(audit(p, "do not match its link", &a) > 0);
    /* and the edited scheme is wrong, which re-verification says too */
    assert_true(audit(p, "does not verify", &a) > 0);
}

static void deleted_row(void **state)
{
    (void)state;
    const char *p = copy_clean("deleted");
    sql(p, "DELETE FROM candidates WHERE id=(SELECT max(id)/2 FROM candidates)");
    rt_audit a;
    assert_true(audit(p, "the chain is broken", &a) > 0);
}

static void deleted_last_row(void **state)
{
    (void)state;
    const char *p = copy_clean("deletedlast");
    sql(p, "DELETE FROM archive WHERE cand_id=(SELECT max(id) FROM candidates);"
           "DELETE FROM candidates WHERE id=(SELECT max(id) FROM candidates)");
    rt_audit a;
    assert_true(audit(p, "the checkpoint accounts for", &a) > 0);
}

static void reordered_rows(void **state)
{
    (void)state;
    const char *p = copy_clean("reordered");
    sql(p, "UPDATE candidates SET id=-1 WHERE id=10;"
           "UPDATE candidates SET id=10 WHERE id=20;"
           "UPDATE candidates SET id=20 WHERE id=-1;");
    rt_audit a;
    assert_true(audit(p, "the chain is broken", &a) > 0);
}

static void invalid_marked_admitted_and_rechained(void **state)
{
    (void)state;
    const char *p = copy_clean("promoted");
    rt_audit before;
    assert_int_equal(audit(p, NULL, &before), 0);
    sql(p, "UPDATE candidates SET admitted=1 WHERE id=(SELECT min(id) FROM candidates WHERE "
           "valid=0)");
    rechain(p);
    rt_audit a;
    assert_true(audit(p, "does not verify", &a) > 0);
    /* the chain itself was rewritten consistently, but its head moved */
    assert_string_not_equal(a.head, before.head);
}

static void proxy_changed_and_rechained(void **state)
{
    (void)state;
    const char *p = copy_clean("proxy");
    sql(p, "UPDATE candidates SET proxy=proxy+1 WHERE id=(SELECT max(id) FROM candidates WHERE "
           "admitted=1)");
    rechain(p);
    rt_audit a;
    assert_true(audit(p, "decodes to a candidate the proxy scores", &a) > 0);
}

/* A process killed inside a write transaction leaves a hot rollback journal (the store is in
 * rollback mode while a run switches it to WAL at creation): a reader must roll it back, which
 * a read-only connection cannot. rt_store_open recovers it when no run holds the store, and the
 * audit then sees the store as committed. */
static void hot_journal_is_recovered(void **state)
{
    (void)state;
    const char *p = copy_clean("hot");
    rt_audit before;
    assert_int_equal(audit(p, NULL, &before), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sqlite3 *db = NULL;
        if (sqlite3_open(p, &db) != SQLITE_OK ||
            sqlite3_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA cache_size=1; BEGIN;"
                             "UPDATE candidates SET time=time+1; UPDATE candidates SET time=time+1;",
                         NULL, NULL, NULL) != SQLITE_OK)
            _exit(1);
        _exit(0); /* killed, as it were, with the transaction open */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char journal[600];
    snprintf(journal, sizeof journal, "%s-journal", p);
    assert_int_equal(access(journal, F_OK), 0);
    rt_audit a;
    assert_int_equal(audit(p, NULL, &a), 0);
    assert_string_equal(a.head, before.head);
}

/* ---- the check (rt_store_check) ------------------------------------------------------------ */

/* Moves one coefficient of the newest admitted candidate's text from a11 to a12 (valid .exp,
 * wrong scheme); with fix_hash the stored hash is recomputed to match. */
static int tamper(const char *path, int fix_hash)
{
    long long id = newest_with(path, "(a11)*", 0);
    if (id <= 0)
        return -1;
    char *text = stored_text(path, id);
    strstr(text, "(a11)*")[3] = '2';
    char hash[65];
    rt_sha256_hex(text, strlen(text), hash);
    put_text(path, id, text, fix_hash ? hash : NULL);
    free(text);
    return 0;
}

/* Tampering with a stored admitted candidate is caught by the store check. */
static void store_check_catches_tampering(void **state)
{
    (void)state;
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field"}, *values[] = {"2x2x3", "gf2"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 2, &err), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/tamper.db", tmpdir);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.evaluations = 40;
    rt_run *run = NULL;
    assert_int_equal(rt_run_create(&run, path, pb, &opt, &err), 0);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    rt_problem_close(pb);

    /* (a) a changed byte in an admitted candidate's text: its hash no longer matches */
    assert_int_equal(tamper(path, 0), 0);
    rt_store *st = NULL;
    long long checked = 0;
    assert_int_equal(rt_store_open(&st, path, &err), 0);
    assert_int_equal(rt_store_check(st, &checked), RT_EINVALID);
    assert_non_null(strstr(rt_store_errmsg(st), "hash"));
    rt_store_close(st);
    /* (b) the same with the hash recomputed: only re-verification can notice, and does */
    assert_int_equal(tamper(path, 1), 0);
    assert_int_equal(rt_store_open(&st, path, &err), 0);
    assert_int_equal(rt_store_check(st, &checked), RT_EINVALID);
    assert_non_null(strstr(rt_store_errmsg(st), "does not verify"));
    rt_store_close(st);
}

/* ---- the gate: text that decodes to something other than what was scored ----------------- */

/* A decoder that loses the last product: the stored text verifies, but what it decodes to is
 * not what was scored. */
static int lossy_decode(const void *state, const char *text, size_t len, void **genome,
                        char *err, size_t errlen)
{
    int rc = rt_problem_matmul.decode(state, text, len, genome, err, errlen);
    if (!rc && ((mm_scheme *)*genome)->rank > 1)
        ((mm_scheme *)*genome)->rank--;
    return rc;
}

static void gate_catches_mismatch(void **state)
{
    (void)state;
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field"}, *values[] = {"2x2x2", "z"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 2, &err), 0);
    void *g = pb->cls->seed(pb->state);
    assert_non_null(g);
    rt_buf text;
    rt_buf_init(&text, 0);
    rt_score proxy;
    rt_verdict v;
    rt_gate gate;

    /* the honest class passes */
    assert_int_equal(pb->cls->encode(pb->state, g, &text), 0);
    pb->cls->score(pb->state, g, &proxy);
    rt_gate_init(&gate, pb);
    assert_int_equal(rt_gate_check(&gate, text.data, text.len, proxy, &v), 1);

    /* a claim made for something other than what the text holds (the search scored one
     * genome and encoded another): one product fewer than the text has */
    const rt_problem_class *honest = pb->cls;
    rt_score claimed = proxy;
    claimed.primary += 1;
    rt_gate_init(&gate, pb);
    assert_int_equal(rt_gate_check(&gate, text.data, text.len, claimed, &v), 0);
    assert_false(v.valid);
    assert_non_null(strstr(v.reason, "decodes to a candidate the proxy scores"));
    assert_int_equal(gate.mismatched, 1);

    /* a decoder that loses part of what the text says */
    rt_problem_class lossy = rt_problem_matmul;
    lossy.decode = lossy_decode;
    pb->cls = &lossy;
    rt_buf_reset(&text);
    assert_int_equal(pb->cls->encode(pb->state, g, &text), 0);
    pb->cls->score(pb->state, g, &proxy);
    rt_gate_init(&gate, pb);
    assert_int_equal(rt_gate_check(&gate, text.data, text.len, proxy, &v), 0);
    assert_non_null(strstr(v.reason, "re-encodes to other text"));

    pb->cls = honest;
    pb->cls->free_genome(g);
    rt_buf_free(&text);
    rt_problem_close(pb);
}

/* ---- the ablation in miniature ----------------------------------------------------------- */

static void trust_proxy_admits_invalid(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/trusted.db", tmpdir);
    make_run(path, "sampled", 1, 120);
    rt_error err;
    rt_store *st = NULL;
    assert_int_equal(rt_store_open(&st, path, &err), 0);
    rt_drift d;
    assert_int_equal(rt_store_drift(st, &d), 0);
    rt_store_close(st);
    assert_int_equal(d.trusted_sessions, 1);
    assert_true(d.invalid_admitted > 0);
    assert_true(d.trusted_admitted >= d.invalid_admitted);
    assert_true(d.false_passes > 0);
    rt_audit a;
    assert_true(audit(path, "admitted on the proxy alone", &a) > 0);
    assert_true(a.trusted > 0);

    /* the gated twin */
    rt_store *g = NULL;
    assert_int_equal(rt_store_open(&g, clean, &err), 0);
    assert_int_equal(rt_store_drift(g, &d), 0);
    rt_store_close(g);
    assert_int_equal(d.trusted_sessions, 0);
    assert_int_equal(d.invalid_admitted, 0);
    assert_true(d.false_passes > 0);
}

/* The tool: `ratchet audit` exits 0 on the clean store, 1 naming the failure on a tampered one,
 * 2 on a file that is not a store. */
static void tool_audit_exit_codes(void **state)
{
    (void)state;
    const char *tool = tu_tool();
    assert_non_null(tool);
    char cmd[2048], out[600];
    snprintf(out, sizeof out, "%s/audit.txt", tmpdir);
    snprintf(cmd, sizeof cmd, "'%s' audit '%s' > '%s'", tool, clean, out);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    const char *p = copy_clean("cli");
    sql(p, "DELETE FROM candidates WHERE id=5");
    snprintf(cmd, sizeof cmd, "'%s' audit '%s' > '%s'", tool, p, out);
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    size_t len = 0;
    char *text = tu_slurp(out, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "FAIL         row 6: the chain is broken"));
    assert_non_null(strstr(text, "audit        FAILED"));
    free(text);
    snprintf(cmd, sizeof cmd, "'%s' audit '%s' 2> /dev/null", tool, out);
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);

    /* a head recorded elsewhere pins the store */
    rt_audit a;
    assert_int_equal(audit(clean, NULL, &a), 0);
    snprintf(cmd, sizeof cmd, "'%s' audit '%s' --expect-head %s > /dev/null", tool, clean, a.head);
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    a.head[0] = a.head[0] == '0' ? '1' : '0';
    snprintf(cmd, sizeof cmd, "'%s' audit '%s' --expect-head %s > '%s'", tool, clean, a.head, out);
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    text = tu_slurp(out, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "not the expected"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_store_passes),
        cmocka_unit_test(byte_changed_in_text),
        cmocka_unit_test(byte_changed_hash_fixed),
        cmocka_unit_test(deleted_row),
        cmocka_unit_test(deleted_last_row),
        cmocka_unit_test(reordered_rows),
        cmocka_unit_test(invalid_marked_admitted_and_rechained),
        cmocka_unit_test(proxy_changed_and_rechained),
        cmocka_unit_test(hot_journal_is_recovered),
        cmocka_unit_test(store_check_catches_tampering),
        cmocka_unit_test(gate_catches_mismatch),
        cmocka_unit_test(trust_proxy_admits_invalid),
        cmocka_unit_test(tool_audit_exit_codes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
