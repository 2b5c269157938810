/* test_engine.c — what remains of the loop's old test program: the store check after a run.
 *
 * (The gate, the archive and the stored-parameters parser have their own programs: test_gate.c,
 * test_archive.c, test_problem.c. The case below is about the store alone: it belongs to
 * src/store/'s tests.) */
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

#include "ratchet.h"
#include "testutil.h"
#include "util.h"

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

/* Moves one coefficient of the newest admitted candidate's text from a11 to a12 (valid .exp,
 * wrong scheme); with fix_hash the stored hash is recomputed to match. */
static int tamper(const char *path, int fix_hash)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, text FROM candidates WHERE admitted=1 AND "
                                "text LIKE '%(a11)*%' ORDER BY id DESC LIMIT 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        sqlite3_close(db);
        return -1;
    }
    long long id = sqlite3_column_int64(st, 0);
    char *text = strdup((const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    char *at = strstr(text, "(a11)*");
    at[3] = '2';
    char hash[65];
    rt_sha256_hex(text, strlen(text), hash);
    rc = sqlite3_prepare_v2(db,
                            fix_hash ? "UPDATE candidates SET text=?, hash=? WHERE id=?"
                                     : "UPDATE candidates SET text=? WHERE id=?",
                            -1, &st, NULL);
    sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    if (fix_hash)
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, fix_hash ? 3 : 2, id);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(text);
    return rc;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_check_catches_tampering),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
