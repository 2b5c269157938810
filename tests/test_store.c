/* test_store.c — the store's own contract (src/store/), through its internal interface:
 *
 * - the schema: a new store's tables, indexes, application id and version are exactly those of
 *   tests/data/store-schema.txt (written from the store before its schema moved into schema.c,
 *   so that moving or editing it cannot change the format unnoticed);
 * - creation is atomic: a created store appears at its path only when published, an unpublished
 *   one leaves nothing behind, and publishing never replaces a file;
 * - one writer: a second writer is refused while readers are not;
 * - the lineage chain: every row's prev is the link of the row before it and its link is its
 *   fields' (rt_chain_link); a rollback forgets the abandoned rows' links; the checkpoint
 *   accounts for the rows and the head;
 * - checkpoints, the archive, the configuration and meta keys read back as written;
 * - readers write nothing, and read a store without the tables made on first use (evaluations,
 *   llm_requests) as one without rows in them; a writer's open adds the evaluations table;
 * - files that are not stores of this format are refused, each with one line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ratchet.h"
#include "store/browse.h"
#include "store/chain.h"
#include "store/llm_requests.h"
#include "store/query.h"
#include "store/store.h"
#include "store/write.h"
#include "testutil.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    return tu_tempdir(tmpdir, sizeof tmpdir, "store");
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

/* A fresh path in the scratch folder (static buffer). */
static const char *path_for(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s.db", tmpdir, name);
    return path;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void config_for(rt_run_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->problem, sizeof cfg->problem, "matmul");
    snprintf(cfg->params, sizeof cfg->params, "shape=2x2x2 field=gf2");
    snprintf(cfg->proposer, sizeof cfg->proposer, "builtin");
    cfg->seed = 12345678901ULL;
    cfg->islands = 3;
}

/* Creates and publishes a store at path with a first checkpoint; returns the writer. */
static rt_db *make_store(const char *path)
{
    rt_run_config cfg;
    config_for(&cfg);
    char err[512];
    rt_db *db = NULL;
    if (rt_db_create(&db, path, &cfg, err, sizeof err) != 0)
        fail_msg("rt_db_create: %s", err);
    rt_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    cp.nislands = 3;
    for (int i = 0; i < 3; i++)
        memset(cp.rng[i], 'a' + i, 64);
    assert_int_equal(rt_db_begin(db), 0);
    assert_int_equal(rt_db_save_checkpoint(db, &cp, NULL, 0), 0);
    assert_int_equal(rt_db_commit(db), 0);
    if (rt_db_publish(&db, err, sizeof err) != 0)
        fail_msg("rt_db_publish: %s", err);
    return db;
}

/* A candidate row whose hash is its text's (the texts of a test are distinct). */
static rt_cand_row row_for(const char *text, char hash[65], const char *parent, int admitted)
{
    rt_sha256_hex(text, strlen(text), hash);
    rt_cand_row r = {
        .hash = hash,
        .text = text,
        .len = strlen(text),
        .parent = parent,
        .op = parent ? "flip" : "seed",
        .island = 1,
        .generation = 2,
        .proxy = {-7, 0.5},
        .valid = 1,
        .verified = {-7, 0.25},
        .metric = 7,
        .admitted = admitted,
        .time = 1.5,
    };
    return r;
}

/* ---- the schema -------------------------------------------------------------------------- */

/* The schema of the store at path in the format of tests/data/store-schema.txt. */
static char *schema_of(const char *path)
{
    sqlite3 *sql = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &sql, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    rt_buf b;
    rt_buf_init(&b, 0);
    const char *pragmas[] = {"application_id", "user_version"};
    for (int i = 0; i < 2; i++) {
        char q[64];
        snprintf(q, sizeof q, "PRAGMA %s", pragmas[i]);
        assert_int_equal(sqlite3_prepare_v2(sql, q, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(rt_buf_printf(&b, "%s %d\n", pragmas[i], sqlite3_column_int(st, 0)), 0);
        sqlite3_finalize(st);
    }
    assert_int_equal(sqlite3_prepare_v2(sql,
                                        "SELECT type||' '||name||' '||tbl_name||': '||"
                                        "coalesce(sql,'-') FROM sqlite_master ORDER BY name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        assert_int_equal(rt_buf_printf(&b, "%s\n", (const char *)sqlite3_column_text(st, 0)), 0);
    sqlite3_finalize(st);
    sqlite3_close(sql);
    return rt_buf_take(&b);
}

static void schema_is_the_reference(void **state)
{
    (void)state;
    const char *path = path_for("schema");
    rt_db *db = make_store(path);
    char hash[65];
    rt_cand_row r = row_for("seed text", hash, NULL, 1);
    r.metrics = "{\"score\": 1}";
    rt_llm_row l = {.model = "m", .mode = "diff", .outcome = "ok"};
    long long id = 0;
    assert_int_equal(rt_db_begin(db), 0);
    assert_int_equal(rt_db_insert(db, &r, &id), 0);
    assert_int_equal(rt_db_llm_insert(db, &l), 0); /* made on first use */
    assert_int_equal(rt_db_commit(db), 0);
    rt_db_close(db);
    size_t len = 0;
    char *want = tu_slurp("tests/data/store-schema.txt", &len);
    assert_non_null(want);
    char *got = schema_of(path);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

/* ---- creation, the writer's lock -------------------------------------------------------- */

static void create_is_atomic(void **state)
{
    (void)state;
    const char *path = path_for("atomic");
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    rt_run_config cfg;
    config_for(&cfg);
    char err[512];
    rt_db *db = NULL;

    /* closed before it is published: nothing is left */
    assert_int_equal(rt_db_create(&db, path, &cfg, err, sizeof err), 0);
    assert_true(exists(tmp));
    assert_false(exists(path));
    rt_db_close(db);
    assert_false(exists(tmp));
    assert_false(exists(path));

    /* published: at its path, the temporary gone */
    rt_db_close(make_store(path));
    assert_true(exists(path));
    assert_false(exists(tmp));

    /* creating over it fails, and so does publishing onto a file that appeared meanwhile */
    assert_int_equal(rt_db_create(&db, path, &cfg, err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "already exists"));
    const char *other = path_for("atomic2");
    assert_int_equal(rt_db_create(&db, other, &cfg, err, sizeof err), 0);
    FILE *f = fopen(other, "w");
    assert_non_null(f);
    fputs("someone else's", f);
    fclose(f);
    assert_int_equal(rt_db_publish(&db, err, sizeof err), RT_EUSAGE);
    assert_null(db);
    assert_non_null(strstr(err, "already exists"));
    size_t len = 0;
    char *kept = tu_slurp(other, &len);
    assert_string_equal(kept, "someone else's");
    free(kept);
}

static void one_writer_many_readers(void **state)
{
    (void)state;
    const char *path = path_for("writer");
    rt_db *w = make_store(path);
    char err[512];
    rt_db *second = NULL, *reader = NULL;
    assert_int_equal(rt_db_open(&second, path, 1, err, sizeof err), RT_EBUSY);
    assert_null(second);
    assert_non_null(strstr(err, "in use"));
    assert_int_equal(rt_db_open(&reader, path, 0, err, sizeof err), 0);
    rt_run_config cfg;
    assert_int_equal(rt_db_config(reader, &cfg), 0);
    assert_string_equal(cfg.problem, "matmul");
    rt_db_close(reader);
    rt_db_close(w);
    assert_int_equal(rt_db_open(&second, path, 1, err, sizeof err), 0); /* the lock went too */
    rt_db_close(second);
}

/* ---- the lineage chain ------------------------------------------------------------------- */

typedef struct chain_walk {
    char last[65];
    long long rows;
    long long linked; /* rows with a stored link */
} chain_walk;

/* A new store's table (format 4) keeps no prev: a row's prev is the link of the row before it,
 * recomputed here; a link is stored at the last row of each commit (and every
 * RT_SCHEMA_LINK_EVERY rows), and where stored it is the one recomputed. */
static int check_link(const rt_db_row *r, void *user)
{
    chain_walk *w = user;
    assert_true(r->implicit_prev);
    assert_null(r->prev);
    char link[65];
    assert_int_equal(rt_chain_link(w->rows ? w->last : NULL, &r->row, link), 0);
    if (r->link) {
        assert_string_equal(r->link, link);
        w->linked++;
    }
    snprintf(w->last, sizeof w->last, "%s", link);
    w->rows++;
    return 0;
}

static void chain_links_rows_and_forgets_rollbacks(void **state)
{
    (void)state;
    const char *path = path_for("chain");
    rt_db *db = make_store(path);
    char h1[65], h2[65], h3[65], h4[65];
    rt_cand_row r1 = row_for("one", h1, NULL, 1), r2 = row_for("two", h2, h1, 0);
    rt_cand_row r3 = row_for("three", h3, h1, 1), r4 = row_for("four", h4, h3, 1);
    r2.valid = 0;
    r2.reason = "does not verify";
    r2.proxy.primary = (double)NAN; /* stored as NULL, chained as absent */
    long long id = 0;
    assert_int_equal(rt_db_begin(db), 0);
    assert_int_equal(rt_db_insert(db, &r1, &id), 0);
    assert_int_equal(rt_db_insert(db, &r2, &id), 0);
    assert_int_equal(rt_db_commit(db), 0);
    /* an abandoned transaction: its row and its link are gone */
    assert_int_equal(rt_db_begin(db), 0);
    assert_int_equal(rt_db_insert(db, &r3, &id), 0);
    assert_int_equal(rt_db_rollback(db), 0);
    assert_int_equal(rt_db_begin(db), 0);
    assert_int_equal(rt_db_insert(db, &r4, &id), 0);
    rt_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    assert_int_equal(rt_db_save_checkpoint(db, &cp, NULL, 0), 0);
    assert_int_equal(rt_db_commit(db), 0);

    chain_walk w = {"", 0, 0};
    assert_int_equal(rt_db_each_row(db, check_link, &w), 0);
    assert_int_equal(w.rows, 3);
    assert_int_equal(w.linked, 2); /* the last row of each commit: rows 2 and 3, not row 1 */
    int found = 0;
    long long n = 0;
    char head[80];
    assert_int_equal(rt_db_chain_account(db, &found, &n, head, sizeof head), 0);
    assert_true(found);
    assert_int_equal(n, 3);
    assert_string_equal(head, w.last);
    rt_db_close(db);
}

/* A hash already stored is refused (format 4's hash index keeps 8 bytes and is not unique: the
 * writer checks), while two hashes that share their first 8 bytes are both stored and each is
 * found by its whole hash. */
static void a_stored_hash_is_refused(void **state)
{
    (void)state;
    const char *path = path_for("samehash");
    rt_db *db = make_store(path);
    char h1[65], h2[65];
    rt_cand_row r1 = row_for("first", h1, NULL, 1), r2 = row_for("second", h2, NULL, 1);
    memcpy(h2, h1, 16); /* the same first 8 bytes, a different hash */
    long long id1 = 0, id2 = 0, id = 0;
    assert_int_equal(rt_db_begin(db), 0);
    assert_int_equal(rt_db_insert(db, &r1, &id1), 0);
    assert_int_equal(rt_db_insert(db, &r2, &id2), 0);
    assert_int_equal(rt_db_insert(db, &r1, &id), RT_ESTORE);
    assert_non_null(strstr(rt_db_errmsg(db), "has the same hash"));
    assert_int_equal(rt_db_commit(db), 0);
    assert_int_equal(rt_db_id_of_hash(db, h1, &id), 0);
    assert_int_equal(id, id1);
    assert_int_equal(rt_db_id_of_hash(db, h2, &id), 0);
    assert_int_equal(id, id2);
    rt_db_close(db);
}

/* ---- what is written reads back ---------------------------------------------------------- */

static void checkpoint_config_and_meta_read_back(void **state)
{
    (void)state;
    const char *path = path_for("readback");
    rt_db *db = make_store(path);
    char hash[65];
    rt_cand_row r = row_for("elite", hash, NULL, 1);
    r.metrics = "{\"m\": 2}";
    r.artifacts = "{\"stderr\": \"\"}";
    long long id = 0;
    rt_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    cp.generation = 41;
    cp.evaluations = 1000;
    cp.duplicates = 17;
    cp.failed = 3;
    cp.proxy_rejected = 5;
    cp.elapsed = 12.25;
    cp.sessions = 2;
    cp.nislands = 3;
    for (int i = 0; i < 3; i++)
        memset(cp.rng[i], '0' + i, 64);
    assert_int_equal(rt_db_begin(db), 0);
    assert_int_equal(rt_db_insert(db, &r, &id), 0);
    rt_archive_row rows[2] = {{0, id, 0}, {2, id, 1}};
    assert_int_equal(rt_db_save_checkpoint(db, &cp, rows, 2), 0);
    assert_int_equal(rt_db_put_meta(db, "policy", "{\"p\": 1}"), 0);
    assert_int_equal(rt_db_commit(db), 0);
    rt_db_close(db);

    char err[512];
    assert_int_equal(rt_db_open(&db, path, 0, err, sizeof err), 0);
    rt_checkpoint back;
    rt_archive_row *got = NULL;
    size_t n = 0;
    assert_int_equal(rt_db_load_checkpoint(db, &back, &got, &n), 0);
    assert_int_equal(back.generation, 41);
    assert_int_equal(back.evaluations, 1000);
    assert_int_equal(back.duplicates, 17);
    assert_int_equal(back.failed, 3);
    assert_int_equal(back.proxy_rejected, 5);
    assert_true(back.elapsed == 12.25);
    assert_int_equal(back.sessions, 2);
    assert_int_equal(back.nislands, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(back.rng[i], cp.rng[i]);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(got[i].island, rows[i].island);
        assert_int_equal(got[i].cand_id, rows[i].cand_id);
        assert_int_equal(got[i].migrated, rows[i].migrated);
    }
    free(got);

    rt_run_config cfg, want;
    config_for(&want);
    assert_int_equal(rt_db_config(db, &cfg), 0);
    assert_string_equal(cfg.problem, want.problem);
    assert_string_equal(cfg.params, want.params);
    assert_string_equal(cfg.proposer, want.proposer);
    assert_true(cfg.seed == want.seed);
    assert_int_equal(cfg.islands, want.islands);
    char *value = NULL;
    assert_int_equal(rt_db_get_meta(db, "policy", &value), 0);
    assert_string_equal(value, "{\"p\": 1}");
    free(value);
    assert_int_equal(rt_db_get_meta(db, "bandit", &value), 0);
    assert_null(value);

    char *text = NULL, *metrics = NULL, *artifacts = NULL;
    size_t len = 0;
    char h[65];
    rt_score sc;
    assert_int_equal(rt_db_candidate(db, id, &text, &len, h, &sc), 0);
    assert_string_equal(text, "elite");
    assert_string_equal(h, hash);
    assert_true(sc.primary == -7 && sc.secondary == 0.25);
    free(text);
    assert_int_equal(rt_db_evaluation(db, id, &metrics, &artifacts), 0);
    assert_string_equal(metrics, r.metrics);
    assert_string_equal(artifacts, r.artifacts);
    free(metrics);
    free(artifacts);
    long long best = 0;
    assert_int_equal(rt_db_best(db, &best), 0);
    assert_int_equal(best, id);
    assert_int_equal(rt_db_candidate(db, id + 1, &text, &len, h, &sc), RT_ESTORE);
    rt_db_close(db);
}

/* ---- readers ----------------------------------------------------------------------------- */

static void count_spend(rt_db *db, long long *requests, int *models)
{
    rt_llm_spend spend;
    assert_int_equal(rt_db_llm_spend(db, &spend), 0);
    *requests = spend.requests;
    *models = spend.nmodels;
}

/* A new store holding one admitted row ("plain"), committed; *id (may be NULL) its row id. */
static rt_db *store_with_one_row(const char *path, long long *id)
{
    rt_db *db = make_store(path);
    char hash[65];
    rt_cand_row r = row_for("plain", hash, NULL, 1);
    long long got = 0;
    assert_int_equal(rt_db_begin(db), 0);
    assert_int_equal(rt_db_insert(db, &r, &got), 0);
    assert_int_equal(rt_db_commit(db), 0);
    if (id)
        *id = got;
    return db;
}

static void one_generation(const rt_db_generation *g, void *user)
{
    struct { rt_db_generation g; int calls; } *seen = user;
    seen->g = *g;
    seen->calls++;
}

static int beside(const char *path, const char *suffix)
{
    char p[600];
    snprintf(p, sizeof p, "%s%s", path, suffix);
    return exists(p);
}

/* Drift's counts: a row that verifies below its proxy's primary score has a gap; one whose
 * primary score is as claimed but whose tie-break (score2) is below overclaims without a gap,
 * and must not dilute the mean gap (matmul over Z: the lift changes the nonzero count). */
static void drift_tells_ties_from_gaps(void **state)
{
    (void)state;
    rt_db *db = make_store(path_for("drift"));
    const char *texts[] = {"tie", "gap", "honest", "gap2"};
    assert_int_equal(rt_db_begin(db), 0);
    for (int i = 0; i < 4; i++) {
        char hash[65];
        rt_cand_row r = row_for(texts[i], hash, NULL, 0); /* proxy2 0.5 > score2 0.25 */
        if (i == 1 || i == 3)
            r.proxy.primary = i == 1 ? -6 : -4; /* claims 1 and 3 better than verified (-7) */
        if (i == 2)
            r.proxy.secondary = 0.25;
        long long id = 0;
        assert_int_equal(rt_db_insert(db, &r, &id), 0);
    }
    assert_int_equal(rt_db_commit(db), 0);
    rt_db_claims c;
    assert_int_equal(rt_db_claims_total(db, 0, &c), 0);
    assert_int_equal(c.rows, 4);
    assert_int_equal(c.overclaims, 3);
    assert_int_equal(c.gapped, 2);
    assert_true(c.mean_gap == 2.0 && c.max_gap == 3.0);
    struct { rt_db_generation g; int calls; } seen = {{0}, 0};
    assert_int_equal(rt_db_each_generation(db, 0, one_generation, &seen), 0);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.g.overclaims, 3);
    assert_int_equal(seen.g.gapped, 2);
    assert_true(seen.g.gap_sum == 4.0 && seen.g.max_gap == 3.0);
    rt_db_close(db);

    /* what status prints: the tenth that holds them has the same mean gap as the total */
    rt_store *st = NULL;
    rt_error err;
    assert_int_equal(rt_store_open(&st, path_for("drift"), &err), 0);
    rt_drift d;
    assert_int_equal(rt_store_drift(st, &d), 0);
    rt_store_close(st);
    assert_int_equal(d.overclaims, 3);
    assert_int_equal(d.false_passes, 0);
    assert_int_equal(d.score_overclaims, 2);
    assert_int_equal(d.tie_overclaims, 1);
    assert_true(d.mean_gap == 2.0);
    assert_int_equal(d.nbuckets, 3); /* generations 0..2, the rows in generation 2 */
    assert_int_equal(d.buckets[2].overclaims, 3);
    assert_true(d.buckets[2].mean_gap == 2.0);
}

/* After a writer closes, the store is one file: readers (status, best, report) then leave no
 * -wal or -shm beside it, and the next writer turns WAL on again. */
static void closed_stores_are_one_file(void **state)
{
    (void)state;
    const char *path = path_for("onefile");
    rt_db *db = store_with_one_row(path, NULL);
    assert_true(beside(path, "-wal")); /* a live writer journals in WAL */
    rt_db_close(db);
    assert_false(beside(path, "-wal"));
    assert_false(beside(path, "-shm"));
    char err[512];
    for (int round = 0; round < 2; round++) {
        assert_int_equal(rt_db_open(&db, path, 0, err, sizeof err), 0);
        rt_summary sum;
        assert_int_equal(rt_db_summary(db, &sum), 0);
        assert_int_equal(sum.stored, 1);
        rt_db_close(db);
        assert_false(beside(path, "-wal"));
        assert_false(beside(path, "-shm"));
        /* a writer again: WAL while it runs, one file once it closes */
        assert_int_equal(rt_db_open(&db, path, 1, err, sizeof err), 0);
        assert_int_equal(rt_db_begin(db), 0);
        rt_llm_row l = {.model = "m", .mode = "full", .outcome = "ok"};
        assert_int_equal(rt_db_llm_insert(db, &l), 0);
        assert_int_equal(rt_db_commit(db), 0);
        assert_true(beside(path, "-wal"));
        rt_db_close(db);
        assert_false(beside(path, "-wal"));
    }
}

static void readers_write_nothing(void **state)
{
    (void)state;
    const char *path = path_for("reader");
    long long id = 0;
    rt_db *db = store_with_one_row(path, &id);
    rt_db_close(db);
    /* a store from before the evaluations table */
    sqlite3 *sql = NULL;
    assert_int_equal(sqlite3_open(path, &sql), SQLITE_OK);
    assert_int_equal(sqlite3_exec(sql, "DROP TABLE evaluations", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(sql);

    size_t before_len = 0, after_len = 0;
    char *before = tu_slurp(path, &before_len);
    char err[512];
    assert_int_equal(rt_db_open(&db, path, 0, err, sizeof err), 0);
    char *metrics = NULL, *artifacts = NULL;
    assert_int_equal(rt_db_evaluation(db, id, &metrics, &artifacts), 0);
    assert_null(metrics);
    assert_null(artifacts);
    long long requests = -1;
    int models = -1;
    count_spend(db, &requests, &models); /* no llm_requests table either */
    assert_int_equal(requests, 0);
    assert_int_equal(models, 0);
    rt_summary sum;
    assert_int_equal(rt_db_summary(db, &sum), 0);
    assert_int_equal(sum.stored, 1);
    char result[512];
    assert_int_equal(rt_db_integrity(db, result, sizeof result), 0);
    assert_string_equal(result, "ok");
    rt_db_close(db);
    char *after = tu_slurp(path, &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);
    free(before);
    free(after);

    /* a writer migrates: the table is back, and the llm proposer's is made on first use */
    assert_int_equal(rt_db_open(&db, path, 1, err, sizeof err), 0);
    rt_llm_row l = {.model = "a", .mode = "full", .outcome = "ok", .tokens_in = 10};
    assert_int_equal(rt_db_begin(db), 0);
    assert_int_equal(rt_db_llm_insert(db, &l), 0);
    l.model = "b";
    assert_int_equal(rt_db_llm_insert(db, &l), 0);
    assert_int_equal(rt_db_llm_insert(db, &l), 0);
    assert_int_equal(rt_db_commit(db), 0);
    count_spend(db, &requests, &models);
    assert_int_equal(requests, 3);
    assert_int_equal(models, 2);
    rt_db_close(db);
    char *schema = schema_of(path);
    assert_non_null(strstr(schema, "table evaluations evaluations:"));
    free(schema);
}

/* ---- files that are not stores of this format ---------------------------------------------- */

/* Sets up path as a store, then runs statement on it directly. */
static void store_with(const char *path, const char *statement)
{
    rt_db_close(make_store(path));
    sqlite3 *sql = NULL;
    assert_int_equal(sqlite3_open(path, &sql), SQLITE_OK);
    assert_int_equal(sqlite3_exec(sql, statement, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(sql);
}

static void expect_refused(const char *path, const char *says)
{
    char err[512];
    for (int writable = 0; writable < 2; writable++) {
        rt_db *db = NULL;
        assert_int_equal(rt_db_open(&db, path, writable, err, sizeof err), RT_ESTORE);
        assert_null(db);
        if (!strstr(err, says))
            fail_msg("'%s' does not say '%s'", err, says);
        assert_null(strchr(err, '\n'));
    }
}

static void other_files_are_refused(void **state)
{
    (void)state;
    const char *text = path_for("text");
    FILE *f = fopen(text, "w");
    assert_non_null(f);
    for (int i = 0; i < 200; i++)
        fputs("not a database at all\n", f);
    fclose(f);
    expect_refused(text, "not an SQLite database");

    char other[512];
    snprintf(other, sizeof other, "%s", path_for("other"));
    sqlite3 *sql = NULL;
    assert_int_equal(sqlite3_open(other, &sql), SQLITE_OK);
    assert_int_equal(sqlite3_exec(sql, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(sql);
    expect_refused(other, "an SQLite file of another kind");

    char path[512];
    snprintf(path, sizeof path, "%s", path_for("format1"));
    store_with(path, "PRAGMA user_version = 1");
    expect_refused(path, "format 1, from before the lineage chain");
    snprintf(path, sizeof path, "%s", path_for("format7"));
    store_with(path, "PRAGMA user_version = 7");
    expect_refused(path, "a ratchet store of format 7; this ratchet reads 2 to 6");
    snprintf(path, sizeof path, "%s", path_for("formatrow"));
    store_with(path, "UPDATE meta SET value='ratchet-store 9' WHERE key='format'");
    expect_refused(path, "has format 'ratchet-store 9'");
    snprintf(path, sizeof path, "%s", path_for("noformat"));
    store_with(path, "DELETE FROM meta WHERE key='format'");
    expect_refused(path, "not a ratchet store (no format)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schema_is_the_reference),
        cmocka_unit_test(create_is_atomic),
        cmocka_unit_test(one_writer_many_readers),
        cmocka_unit_test(chain_links_rows_and_forgets_rollbacks),
        cmocka_unit_test(a_stored_hash_is_refused),
        cmocka_unit_test(checkpoint_config_and_meta_read_back),
        cmocka_unit_test(readers_write_nothing),
        cmocka_unit_test(closed_stores_are_one_file),
        cmocka_unit_test(drift_tells_ties_from_gaps),
        cmocka_unit_test(other_files_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
