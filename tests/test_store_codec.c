/* test_store_codec.c — stores that last (format 3, store/codec.h): candidate texts are kept
 * compressed, most as exact edits of their parent's text, hashes as 32-byte BLOBs; every text
 * comes back exactly and hash-checked, a damaged text is never handed out as a text, the audit
 * re-verifies everything, and a format-2 store still opens, audits and resumes.
 *
 * Runs the tool ($RATCHET, default build/ratchet) under `timeout`; stores live in one mkdtemp
 * folder removed at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ratchet.h"
#include "testutil.h"
#include "util.h"

static char g_dir[256];
static char g_run[512]; /* a <4,4,4> run, made once */
#define RUN_EVALUATIONS 800

/* Fails with the tool's output when it did not exit with want. */
static void expect_exit(const char *args, int want, const char *out)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "timeout 300 %s %s >%s 2>&1", tu_tool(), args, out);
    int st = system(cmd);
    int got = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (got != want) {
        size_t n = 0;
        char *said = tu_slurp(out, &n);
        fail_msg("ratchet %s: exit %d, not %d:\n%s", args, got, want, said ? said : "");
    }
}

/* Runs the tool with args (a shell fragment) under a deadline; its exit status. Output goes to
 * out (a file under g_dir) when out is not NULL. */
static int tool(const char *args, const char *out)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "timeout 300 %s %s >%s 2>&1", tu_tool(), args,
             out ? out : "/dev/null");
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long long query(const char *path, const char *q)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
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

static void copy_file(const char *from, const char *to)
{
    size_t len = 0;
    char *data = tu_slurp(from, &len);
    assert_non_null(data);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(data);
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

static int setup(void **state)
{
    (void)state;
    if (tu_tempdir(g_dir, sizeof g_dir, "codec") || !tu_tool())
        return -1;
    snprintf(g_run, sizeof g_run, "%s/run.db", g_dir);
    char args[1024];
    snprintf(args, sizeof args,
             "run matmul --shape 4x4x4 --field gf2 --evaluations %d --seed 1 --threads 1 "
             "--quiet --store %s",
             RUN_EVALUATIONS, g_run);
    return tool(args, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

/* The figure of the issue: a <4,4,4> run wrote about 4900 bytes of store per candidate (format
 * 2: plain texts, hex hashes); format 3 writes under 1000 (measured: about 770; docs/store.md). */
static void bytes_per_candidate(void **state)
{
    (void)state;
    long long rows = query(g_run, "SELECT count(*) FROM candidates");
    assert_true(rows > 300);
    long long bytes = file_size(g_run);
    double per = (double)bytes / (double)rows;
    print_message("%lld candidates, %lld bytes: %.0f bytes per candidate\n", rows, bytes, per);
    assert_true(per < 1000);
    /* most rows are edits of their parent's text; hashes are 32 bytes */
    long long edits = query(g_run, "SELECT count(*) FROM candidates WHERE typeof(text)='blob' "
                                   "AND substr(hex(text),1,2)='64'");
    assert_true(edits * 2 > rows);
    assert_int_equal(query(g_run, "SELECT count(*) FROM candidates WHERE length(hash)<>32"), 0);
    assert_int_equal(query(g_run, "PRAGMA user_version"), 3);
}

/* Every text comes back exactly: its SHA-256 is the stored hash, and the audit re-verifies every
 * admitted candidate from it. */
static void every_text_round_trips(void **state)
{
    (void)state;
    rt_store *store = NULL;
    rt_error err;
    assert_int_equal(rt_store_open(&store, g_run, &err), 0);
    long long rows = query(g_run, "SELECT count(*) FROM candidates");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(g_run, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT hash FROM candidates WHERE id=?", -1, &st,
                                        NULL),
                     SQLITE_OK);
    for (long long id = 1; id <= rows; id++) {
        char *text = NULL;
        assert_int_equal(rt_store_candidate_text(store, id, &text), 0);
        char hex[65], stored[65];
        rt_sha256_hex(text, strlen(text), hex);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_bytes(st, 0), 32);
        const unsigned char *raw = sqlite3_column_blob(st, 0);
        for (int i = 0; i < 32; i++)
            snprintf(stored + 2 * i, 3, "%02x", raw[i]);
        assert_string_equal(hex, stored);
        free(text);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    rt_store_close(store);
    char out[512];
    snprintf(out, sizeof out, "%s/audit.txt", g_dir);
    char args[700];
    snprintf(args, sizeof args, "audit %s", g_run);
    assert_int_equal(tool(args, out), 0);
    size_t n = 0;
    char *said = tu_slurp(out, &n);
    assert_non_null(strstr(said, "audit        passed"));
    free(said);
}

/* One byte changed inside a compressed text: reading it fails (never a wrong text), and so do
 * the rows whose texts are edits of it; the audit names the row. */
static void damaged_text_is_never_read(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof p, "%s/damaged.db", g_dir);
    copy_file(g_run, p);
    long long id = query(p, "SELECT min(id) FROM candidates WHERE id > 50 AND "
                            "typeof(text)='blob' AND id IN (SELECT cand_id FROM archive)");
    assert_true(id > 0);
    char stmt[256];
    snprintf(stmt, sizeof stmt,
             "UPDATE candidates SET text=CAST(substr(text,1,length(text)-3) || x'5a' || "
             "substr(text,length(text)-1) AS BLOB) WHERE id=%lld",
             id);
    sql(p, stmt);
    rt_store *store = NULL;
    rt_error err;
    assert_int_equal(rt_store_open(&store, p, &err), 0);
    char *text = NULL;
    int rc = rt_store_candidate_text(store, id, &text);
    assert_int_not_equal(rc, 0);
    assert_null(text);
    const char *msg = rt_store_errmsg(store);
    if (!strstr(msg, "damaged") && !strstr(msg, "does not match its hash"))
        fail_msg("unexpected message: %s", msg);
    /* nor when the compressed text is replaced by a plain one that is not the candidate's */
    char other[512];
    snprintf(other, sizeof other, "%s/other.db", g_dir);
    copy_file(g_run, other);
    snprintf(stmt, sizeof stmt, "UPDATE candidates SET text='(a11)*(b11)*(c11)' WHERE id=%lld",
             id);
    sql(other, stmt);
    rt_store *store2 = NULL;
    assert_int_equal(rt_store_open(&store2, other, &err), 0);
    assert_int_not_equal(rt_store_candidate_text(store2, id, &text), 0);
    assert_null(text);
    assert_non_null(strstr(rt_store_errmsg(store2), "does not match its hash"));
    rt_store_close(store2);
    rt_store_close(store);
    char out[512];
    snprintf(out, sizeof out, "%s/audit-damaged.txt", g_dir);
    char args[700];
    snprintf(args, sizeof args, "audit %s", p);
    assert_int_equal(tool(args, out), 1);
    size_t n = 0;
    char *said = tu_slurp(out, &n);
    char row[64];
    snprintf(row, sizeof row, "row %lld: its text does not match its hash", id);
    if (!strstr(said, row))
        fail_msg("audit does not name row %lld:\n%s", id, said);
    free(said);
}

/* hex of a 32-byte BLOB, in SQL: format 2 kept hashes as lower-case hex TEXT. */
#define HEX(c) "CASE WHEN " c " IS NULL THEN NULL ELSE lower(hex(" c ")) END"

/* Rewrites a format-3 store as format 2 wrote it: plain texts, hex hashes, user_version 2. */
static void make_format2(const char *p)
{
    rt_store *store = NULL;
    rt_error err;
    assert_int_equal(rt_store_open(&store, p, &err), 0);
    long long rows = query(p, "SELECT count(*) FROM candidates");
    char **texts = calloc((size_t)rows + 1, sizeof *texts);
    assert_non_null(texts);
    for (long long id = 1; id <= rows; id++)
        assert_int_equal(rt_store_candidate_text(store, id, &texts[id]), 0);
    rt_store_close(store);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE candidates SET text=? WHERE id=?", -1, &st,
                                        NULL),
                     SQLITE_OK);
    for (long long id = 1; id <= rows; id++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, texts[id], -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, id);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        free(texts[id]);
    }
    sqlite3_finalize(st);
    free(texts);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE candidates SET hash=" HEX("hash") ", parent=" HEX(
                                      "parent") ", prev=" HEX("prev") ", link=" HEX("link") ";"
                                  "COMMIT; PRAGMA user_version=2; VACUUM;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

/* A store written by the format-2 ratchet: read as it is (readers write nothing), audited, and
 * resumed: the writer migrates it to format 3, its old rows stay TEXT, new rows are compressed,
 * and the whole chain still audits. */
static void format2_store_still_opens(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof p, "%s/format2.db", g_dir);
    copy_file(g_run, p);
    make_format2(p);
    long long rows = query(p, "SELECT count(*) FROM candidates");
    assert_int_equal(query(p, "SELECT count(*) FROM candidates WHERE typeof(text)='text' AND "
                              "typeof(hash)='text' AND length(hash)=64"),
                     rows);
    char args[700], out[512];
    snprintf(out, sizeof out, "%s/audit2.txt", g_dir);
    snprintf(args, sizeof args, "audit %s", p);
    expect_exit(args, 0, out);
    snprintf(args, sizeof args, "status %s", p);
    assert_int_equal(tool(args, NULL), 0);
    assert_int_equal(query(p, "PRAGMA user_version"), 2);
    snprintf(args, sizeof args, "run --resume %s --evaluations 200 --quiet", p);
    assert_int_equal(tool(args, NULL), 0);
    assert_int_equal(query(p, "PRAGMA user_version"), 3);
    long long after = query(p, "SELECT count(*) FROM candidates");
    assert_true(after > rows);
    assert_int_equal(query(p, "SELECT count(*) FROM candidates WHERE typeof(text)='text'"),
                     rows);
    assert_true(query(p, "SELECT count(*) FROM candidates WHERE typeof(text)='blob'") > 0);
    assert_int_equal(tool(args, NULL), 0); /* and once more, from a format-3 store */
    snprintf(args, sizeof args, "audit %s", p);
    assert_int_equal(tool(args, out), 0);
    size_t n = 0;
    char *said = tu_slurp(out, &n);
    assert_non_null(strstr(said, "audit        passed"));
    free(said);
}

/* Random damage to compressed texts (bytes changed, cut, grown, a base id changed): a read
 * either fails or returns the exact text (its SHA-256 is the row's hash), never anything else. */
static void random_damage_never_passes(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof p, "%s/random.db", g_dir);
    copy_file(g_run, p);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    long long rows = query(g_run, "SELECT count(*) FROM candidates");
    sqlite3_stmt *get = NULL, *put = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT text FROM candidates WHERE id=?", -1, &get,
                                        NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE candidates SET text=? WHERE id=?", -1, &put,
                                        NULL), SQLITE_OK);
    unsigned seed = 12345;
    int failed = 0, exact = 0;
    for (int i = 0; i < 300; i++) {
        long long id = 2 + (long long)((unsigned)rand_r(&seed) % (unsigned)(rows - 1));
        sqlite3_reset(get);
        sqlite3_bind_int64(get, 1, id);
        assert_int_equal(sqlite3_step(get), SQLITE_ROW);
        if (sqlite3_column_type(get, 0) != SQLITE_BLOB)
            continue;
        size_t n = (size_t)sqlite3_column_bytes(get, 0);
        unsigned char *orig = malloc(n + 8), *bad = malloc(n + 8);
        memcpy(orig, sqlite3_column_blob(get, 0), n);
        memcpy(bad, orig, n);
        size_t m = n;
        switch (rand_r(&seed) % 4) {
        case 0: bad[(size_t)rand_r(&seed) % n] ^= (unsigned char)(1 + rand_r(&seed) % 255); break;
        case 1: m = (size_t)rand_r(&seed) % n; break;
        case 2: memset(bad + n, 'x', 8); m = n + 8; break;
        default: bad[1] = (unsigned char)(rand_r(&seed) & 0x7f); break; /* a base id's byte */
        }
        sqlite3_reset(put);
        sqlite3_bind_blob(put, 1, bad, (int)m, SQLITE_TRANSIENT);
        sqlite3_bind_int64(put, 2, id);
        assert_int_equal(sqlite3_step(put), SQLITE_DONE);
        rt_store *store = NULL;
        rt_error err;
        assert_int_equal(rt_store_open(&store, p, &err), 0);
        char *text = NULL;
        if (rt_store_candidate_text(store, id, &text) != 0) {
            failed++;
        } else {
            exact++;
            char hex[65];
            rt_sha256_hex(text, strlen(text), hex);
            char want[65];
            sqlite3_stmt *h = NULL;
            assert_int_equal(sqlite3_prepare_v2(db, "SELECT lower(hex(hash)) FROM candidates "
                                                    "WHERE id=?", -1, &h, NULL), SQLITE_OK);
            sqlite3_bind_int64(h, 1, id);
            assert_int_equal(sqlite3_step(h), SQLITE_ROW);
            snprintf(want, sizeof want, "%s", (const char *)sqlite3_column_text(h, 0));
            sqlite3_finalize(h);
            assert_string_equal(hex, want);
        }
        free(text);
        rt_store_close(store);
        sqlite3_reset(put);
        sqlite3_bind_blob(put, 1, orig, (int)n, SQLITE_TRANSIENT);
        sqlite3_bind_int64(put, 2, id);
        assert_int_equal(sqlite3_step(put), SQLITE_DONE);
        free(orig);
        free(bad);
    }
    sqlite3_finalize(get);
    sqlite3_finalize(put);
    sqlite3_close(db);
    print_message("300 damaged texts: %d refused, %d read exactly\n", failed, exact);
    assert_true(failed > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bytes_per_candidate),
        cmocka_unit_test(every_text_round_trips),
        cmocka_unit_test(damaged_text_is_never_read),
        cmocka_unit_test(random_damage_never_passes),
        cmocka_unit_test(format2_store_still_opens),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
