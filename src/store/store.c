/* store.c — the run store on SQLite, and the public read-only rt_store view. */
#include "store/store.h"
#include "store/db.h"
#include "store/schema.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <libgen.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int meta_put(rt_db *db, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "INSERT OR REPLACE INTO meta(key,value) VALUES(?,?)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : rt_db_sql_fail(db, rc, "write the run's configuration");
}

static int meta_get(rt_db *db, const char *key, char *value, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT value FROM meta WHERE key=?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the run's configuration");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return rt_db_fail(db, RT_ESTORE, "store %s: configuration has no '%s'", db->path, key);
        return rt_db_sql_fail(db, rc, "read the run's configuration");
    }
    const unsigned char *v = sqlite3_column_text(st, 0);
    snprintf(value, len, "%s", v ? (const char *)v : "");
    sqlite3_finalize(st);
    return 0;
}

int rt_db_put_meta(rt_db *db, const char *key, const char *value)
{
    return meta_put(db, key, value);
}

int rt_db_get_meta(rt_db *db, const char *key, char **value)
{
    *value = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT value FROM meta WHERE key=?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the run's configuration");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rt_db_sql_fail(db, rc, "read the run's configuration");
    }
    const unsigned char *v = sqlite3_column_text(st, 0);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    *value = malloc(n + 1);
    if (!*value) {
        sqlite3_finalize(st);
        return rt_db_fail(db, RT_ENOMEM, "out of memory");
    }
    if (n)
        memcpy(*value, v, n);
    (*value)[n] = '\0';
    sqlite3_finalize(st);
    return 0;
}

static int prepare_writes(rt_db *db)
{
    int rc = rt_schema_migrate(db); /* a store made before a table it writes */
    if (rc)
        return rc;
    rc = sqlite3_prepare_v2(db->sql,
                                "INSERT INTO evaluations(cand_id,metrics,artifacts) VALUES(?,?,?)",
                                -1, &db->ins_eval, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
        db->sql,
        "INSERT INTO candidates(hash,text,parent,operator,island,generation,proxy,proxy2,valid,"
        "score,score2,metric,reason,admitted,time,trusted,prev,link)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        -1, &db->ins_cand, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db->sql, "INSERT INTO events(time,kind,detail) VALUES(?,?,?)",
                                -1, &db->ins_event, NULL);
    return rc == SQLITE_OK ? 0 : rt_db_sql_fail(db, rc, "prepare statements");
}

/* Reads the link of the store's last row into db->last_link ("" when it has none). */
static int load_last_link(rt_db *db)
{
    sqlite3_stmt *st = NULL;
    db->last_link[0] = '\0';
    int rc = sqlite3_prepare_v2(db->sql, "SELECT link FROM candidates ORDER BY id DESC LIMIT 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the lineage chain");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *l = (const char *)sqlite3_column_text(st, 0);
        snprintf(db->last_link, sizeof db->last_link, "%s", l ? l : "");
    }
    sqlite3_finalize(st);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : rt_db_sql_fail(db, rc, "read the lineage chain");
}

sqlite3 *rt_db_handle(rt_db *db) { return db->sql; }

int rt_db_sql_error(rt_db *db, int sqlite_rc, const char *what)
{
    return rt_db_sql_fail(db, sqlite_rc, what);
}

/* Writes into out the URI that opens path read-only as an immutable file ("file:PATH?immutable=1":
 * no locks, no -shm, no WAL; SQLite reads the store file alone). Every byte of path but the
 * unreserved characters and '/' is percent-encoded, so that '?', '#' and '%' in a name stand for
 * themselves; an absolute path is written after an empty authority ("file://" PATH), so that one
 * that starts with "//" is not taken for a host. Returns 0, or -1 when out is too small. */
static int immutable_uri(const char *path, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    static const char suffix[] = "?immutable=1";
    const char *prefix = path[0] == '/' ? "file://" : "file:";
    size_t n = strlen(prefix);
    if (n >= len)
        return -1;
    memcpy(out, prefix, n);
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        int plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || strchr("-._~/", *c) != NULL;
        if (len - n < 4) /* room for an escape and the terminator */
            return -1;
        if (plain) {
            out[n++] = (char)*c;
        } else {
            out[n++] = '%';
            out[n++] = hex[*c >> 4];
            out[n++] = hex[*c & 15];
        }
    }
    if (len - n < sizeof suffix)
        return -1;
    memcpy(out + n, suffix, sizeof suffix);
    return 0;
}

/* Opens the SQLite connection and checks the file is a ratchet store of a known version. A
 * writer also sets up journaling and prepares its statements; a reader writes nothing (no
 * migration, no pragma that writes). immutable (readers only): reads the store file alone, as
 * immutable (see db_connect_immutable). */
static int db_connect(rt_db *db, int writable, int immutable)
{
    assert(!(writable && immutable));
    db->needs_recovery = db->needs_immutable = 0;
    int flags = writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
    int rc;
    if (immutable) {
        char uri[3 * sizeof db->path + 32];
        if (immutable_uri(db->path, uri, sizeof uri) != 0)
            return rt_db_fail(db, RT_EUSAGE, "store %s: path too long", db->path);
        rc = sqlite3_open_v2(uri, &db->sql, flags | SQLITE_OPEN_URI, NULL);
    } else {
        rc = sqlite3_open_v2(db->path, &db->sql, flags, NULL);
    }
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "open it");
    sqlite3_extended_result_codes(db->sql, 1);
    sqlite3_busy_timeout(db->sql, 10000);
    int first = SQLITE_OK;
    rc = rt_schema_check(db, &first);
    if (rc) {
        if (!writable && (first & 0xff) == SQLITE_READONLY)
            db->needs_recovery = 1;
        if (!writable && !immutable &&
            ((first & 0xff) == SQLITE_READONLY || (first & 0xff) == SQLITE_CANTOPEN))
            db->needs_immutable = 1;
        return rc;
    }
    if (writable) {
        rc = rt_db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", "set up journaling");
        if (rc)
            return rc;
        if ((rc = load_last_link(db)))
            return rc;
        return prepare_writes(db);
    }
    return 0;
}

/* A run killed while its store is in WAL mode can leave a WAL index that must be rebuilt before
 * anyone reads, and a read-only connection cannot rebuild it. When no run holds the store (the
 * same flock a run takes), opens it for writing once so that SQLite recovers it; recovery keeps
 * every committed transaction and nothing else. Returns 0 when it did. */
static int recover_wal(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = -1;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        sqlite3 *w = NULL;
        if (sqlite3_open_v2(path, &w, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
            sqlite3_exec(w, "PRAGMA user_version", NULL, NULL, NULL) == SQLITE_OK)
            rc = 0;
        sqlite3_close_v2(w);
    }
    close(fd);
    return rc;
}

/* A reader whose folder it cannot write, where SQLite can neither create the -shm (the WAL index)
 * nor open the WAL: reconnects reading the store file alone as immutable, which is the whole
 * store only when no -wal or -journal beside it holds anything. Else fails with RT_EIO and a line
 * saying why, rather than show the store without its last transactions. The caller has closed
 * the failed connection. */
static int db_connect_immutable(rt_db *db)
{
    static const char *const sides[] = {"-wal", "-journal"};
    for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
        char name[sizeof db->path + 16];
        snprintf(name, sizeof name, "%s%s", db->path, sides[i]);
        struct stat st;
        if (stat(name, &st) != 0) {
            if (errno == ENOENT)
                continue;
            return rt_db_fail(db, RT_EIO, "store %s: cannot read it: cannot check %s: %s", db->path,
                           name, strerror(errno));
        }
        if (st.st_size == 0)
            continue;
        if (i == 0)
            return rt_db_fail(db, RT_EIO,
                           "store %s: cannot read it: %s holds transactions not yet in the store "
                           "file, and SQLite reads them only through %s-shm, which it cannot open "
                           "or create here (a read-only folder); copy the store with its -wal "
                           "file to a writable folder",
                           db->path, name, db->path);
        return rt_db_fail(db, RT_EIO,
                       "store %s: cannot read it: %s holds an interrupted transaction that only a "
                       "writer can roll back, and the folder is read-only; copy the store with "
                       "its -journal file to a writable folder",
                       db->path, name);
    }
    return db_connect(db, 0, 1);
}

int rt_db_open(rt_db **out, const char *path, int writable, char *err, size_t errlen)
{
    *out = NULL;
    struct stat stbuf;
    if (stat(path, &stbuf) != 0)
        return rt_fail(err, errlen, errno == ENOENT ? RT_EUSAGE : RT_EIO, "cannot open store %s: %s",
                       path, strerror(errno));
    if (!S_ISREG(stbuf.st_mode))
        return rt_fail(err, errlen, RT_EUSAGE, "cannot open store %s: not a regular file", path);
    rt_db *db = rt_db_new(path);
    if (!db)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    int rc;
    if (writable) {
        /* flock and SQLite's POSIX locks are independent; this descriptor stays open until after
         * sqlite3_close so closing it cannot drop SQLite's locks */
        db->lock_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (db->lock_fd < 0) {
            rc = rt_fail(err, errlen, RT_EIO, "cannot open store %s: %s", path, strerror(errno));
            goto fail;
        }
        if (flock(db->lock_fd, LOCK_EX | LOCK_NB) != 0) {
            rc = rt_fail(err, errlen, RT_EBUSY, "store %s is in use by another ratchet run", path);
            goto fail;
        }
    }
    rc = db_connect(db, writable, 0);
    if (rc && db->needs_recovery && recover_wal(path) == 0) {
        sqlite3_close_v2(db->sql);
        db->sql = NULL;
        rc = db_connect(db, writable, 0);
    }
    if (rc && db->needs_immutable) { /* a reader in a read-only folder */
        sqlite3_close_v2(db->sql);
        db->sql = NULL;
        rc = db_connect_immutable(db);
    }
    if (rc) {
        rt_fail(err, errlen, rc, "%s", db->errmsg);
        goto fail;
    }
    *out = db;
    return 0;
fail:
    rt_db_release(db);
    return rc;
}

/* Removes PATH.tmp-PID files (and their journals) left by runs killed while creating PATH. */
static void remove_stale_temporaries(const char *path)
{
    char dirbuf[4096], basebuf[4096];
    snprintf(dirbuf, sizeof dirbuf, "%s", path);
    snprintf(basebuf, sizeof basebuf, "%s", path);
    const char *dir = dirname(dirbuf), *base = basename(basebuf);
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, blen) != 0 || strncmp(e->d_name + blen, ".tmp-", 5) != 0)
            continue;
        const char *digits = e->d_name + blen + 5;
        char *end = NULL;
        long pid = strtol(digits, &end, 10);
        if (end == digits || pid <= 0 || (*end && strcmp(end, "-journal") != 0))
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* its creator may still be at work */
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        unlink(full);
    }
    closedir(d);
}

int rt_db_create(rt_db **out, const char *path, const rt_run_config *cfg, char *err, size_t errlen)
{
    *out = NULL;
    struct stat stbuf;
    if (stat(path, &stbuf) == 0)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "store %s already exists (use --resume to continue it)", path);
    if (strlen(path) > 4000)
        return rt_fail(err, errlen, RT_EUSAGE, "store path too long");
    remove_stale_temporaries(path);
    rt_db *db = rt_db_new(path);
    if (!db)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    snprintf(db->tmp, sizeof db->tmp, "%s.tmp-%ld", path, (long)getpid());
    unlink(db->tmp);
    int rc = sqlite3_open_v2(db->tmp, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        rc = rt_db_sql_fail(db, rc, "create it");
        goto fail;
    }
    sqlite3_extended_result_codes(db->sql, 1);
    char seed[32], islands[16];
    snprintf(seed, sizeof seed, "%" PRIu64, cfg->seed);
    snprintf(islands, sizeof islands, "%d", cfg->islands);
    if ((rc = rt_db_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL; BEGIN;",
                   "create it")) ||
        (rc = rt_schema_create(db)) || (rc = meta_put(db, "format", RT_SCHEMA_FORMAT)) ||
        (rc = meta_put(db, "problem", cfg->problem)) ||
        (rc = meta_put(db, "params", cfg->params)) || (rc = meta_put(db, "seed", seed)) ||
        (rc = meta_put(db, "islands", islands)) ||
        (rc = meta_put(db, "proposer", cfg->proposer)) ||
        (rc = meta_put(db, "ratchet_version", RT_VERSION)) ||
        (rc = rt_db_exec(db, "COMMIT", "create it")) || (rc = prepare_writes(db)))
        goto fail;
    *out = db;
    return 0;
fail:
    rt_fail(err, errlen, rc, "%s", db->errmsg);
    rt_db_release(db);
    return rc;
}

int rt_db_publish(rt_db **dbp, char *err, size_t errlen)
{
    rt_db *db = *dbp;
    if (!db->tmp[0])
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s", db->path);
    sqlite3_finalize(db->ins_cand);
    sqlite3_finalize(db->ins_event);
    sqlite3_finalize(db->ins_eval);
    db->ins_cand = db->ins_event = db->ins_eval = NULL;
    sqlite3_close_v2(db->sql);
    db->sql = NULL;
    /* link() refuses to replace: a store that appeared meanwhile is never overwritten */
    if (link(db->tmp, path) != 0) {
        int e = errno;
        int rc = e == EEXIST ? rt_fail(err, errlen, RT_EUSAGE,
                                       "store %s already exists (use --resume to continue it)",
                                       path)
                             : rt_fail(err, errlen, RT_EIO, "cannot create store %s: %s", path,
                                       strerror(e));
        rt_db_release(db); /* removes the temporary */
        *dbp = NULL;
        return rc;
    }
    unlink(db->tmp);
    db->tmp[0] = '\0';
    rt_db_release(db);
    *dbp = NULL;
    return rt_db_open(dbp, path, 1, err, errlen);
}

int rt_db_config(rt_db *db, rt_run_config *cfg)
{
    char buf[64];
    int rc;
    memset(cfg, 0, sizeof *cfg);
    if ((rc = meta_get(db, "problem", cfg->problem, sizeof cfg->problem)) ||
        (rc = meta_get(db, "params", cfg->params, sizeof cfg->params)) ||
        (rc = meta_get(db, "proposer", cfg->proposer, sizeof cfg->proposer)))
        return rc;
    if ((rc = meta_get(db, "seed", buf, sizeof buf)))
        return rc;
    char *end = NULL;
    cfg->seed = strtoull(buf, &end, 10);
    if (!end || *end)
        return rt_db_fail(db, RT_ESTORE, "store %s: bad seed '%s'", db->path, buf);
    if ((rc = meta_get(db, "islands", buf, sizeof buf)))
        return rc;
    long v;
    if (rt_parse_long(buf, 1, 64, &v))
        return rt_db_fail(db, RT_ESTORE, "store %s: bad island count '%s'", db->path, buf);
    cfg->islands = (int)v;
    return 0;
}

int rt_db_begin(rt_db *db) { return rt_db_exec(db, "BEGIN IMMEDIATE", "begin a transaction"); }

int rt_db_commit(rt_db *db) { return rt_db_exec(db, "COMMIT", "commit"); }

int rt_db_rollback(rt_db *db)
{
    int rc = 0;
    if (!sqlite3_get_autocommit(db->sql))
        rc = rt_db_exec(db, "ROLLBACK", "roll back");
    if (!rc) /* rows of the abandoned transaction (or of a failed commit) are gone: so are their
                links */
        rc = load_last_link(db);
    return rc;
}

static void bind_score(sqlite3_stmt *st, int col, int valid, double v)
{
    if (valid)
        sqlite3_bind_double(st, col, v);
    else
        sqlite3_bind_null(st, col);
}

int rt_db_insert(rt_db *db, const rt_cand_row *r, long long *id)
{
    char link[65];
    int lrc = rt_db_link(db->last_link[0] ? db->last_link : NULL, r, link);
    if (lrc)
        return rt_db_fail(db, lrc, "out of memory");
    sqlite3_stmt *st = db->ins_cand;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_text(st, 1, r->hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->text, (int)r->len, SQLITE_STATIC);
    if (r->parent)
        sqlite3_bind_text(st, 3, r->parent, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->op, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, r->island);
    sqlite3_bind_int64(st, 6, r->generation);
    sqlite3_bind_double(st, 7, r->proxy.primary);
    sqlite3_bind_double(st, 8, r->proxy.secondary);
    sqlite3_bind_int(st, 9, r->valid);
    bind_score(st, 10, r->valid, r->verified.primary);
    bind_score(st, 11, r->valid, r->verified.secondary);
    bind_score(st, 12, r->valid, r->metric);
    if (r->reason && *r->reason)
        sqlite3_bind_text(st, 13, r->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 14, r->admitted);
    sqlite3_bind_double(st, 15, r->time);
    sqlite3_bind_int(st, 16, r->trusted);
    if (db->last_link[0])
        sqlite3_bind_text(st, 17, db->last_link, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 18, link, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return rt_db_sql_fail(db, rc, "store a candidate");
    memcpy(db->last_link, link, sizeof link);
    long long rowid = sqlite3_last_insert_rowid(db->sql);
    if (id)
        *id = rowid;
    if (r->metrics || r->artifacts) {
        st = db->ins_eval;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        sqlite3_bind_int64(st, 1, rowid);
        if (r->metrics)
            sqlite3_bind_text(st, 2, r->metrics, -1, SQLITE_STATIC);
        if (r->artifacts)
            sqlite3_bind_text(st, 3, r->artifacts, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return rt_db_sql_fail(db, rc, "store a candidate's evaluation");
    }
    return 0;
}

int rt_db_event(rt_db *db, double time, const char *kind, const char *detail)
{
    sqlite3_stmt *st = db->ins_event;
    sqlite3_reset(st);
    sqlite3_bind_double(st, 1, time);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    if (detail)
        sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "store an event");
}

int rt_db_save_checkpoint(rt_db *db, const rt_checkpoint *cp, const rt_archive_row *rows,
                          size_t nrows)
{
    char rng[64 * 66];
    size_t off = 0;
    rng[0] = '\0';
    for (int i = 0; i < cp->nislands && i < 64; i++)
        off += (size_t)snprintf(rng + off, sizeof rng - off, "%s%s", i ? "," : "", cp->rng[i]);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "INSERT OR REPLACE INTO checkpoint(id,generation,evaluations,"
                                "duplicates,failed,elapsed,sessions,rng,proxy_rejected,"
                                "chain_rows,chain_head) VALUES(1,?,?,?,?,?,?,?,?,"
                                "(SELECT count(*) FROM candidates),?)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "save a checkpoint");
    sqlite3_bind_int64(st, 1, cp->generation);
    sqlite3_bind_int64(st, 2, cp->evaluations);
    sqlite3_bind_int64(st, 3, cp->duplicates);
    sqlite3_bind_int64(st, 4, cp->failed);
    sqlite3_bind_double(st, 5, cp->elapsed);
    sqlite3_bind_int(st, 6, cp->sessions);
    sqlite3_bind_text(st, 7, rng, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, cp->proxy_rejected);
    sqlite3_bind_text(st, 9, db->last_link, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rt_db_sql_fail(db, rc, "save a checkpoint");
    if ((rc = rt_db_exec(db, "DELETE FROM archive", "save the archive")))
        return rc;
    rc = sqlite3_prepare_v2(db->sql, "INSERT INTO archive(island,cand_id,migrated) VALUES(?,?,?)",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "save the archive");
    for (size_t i = 0; i < nrows; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int(st, 1, rows[i].island);
        sqlite3_bind_int64(st, 2, rows[i].cand_id);
        sqlite3_bind_int(st, 3, rows[i].migrated);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(st);
            return rt_db_sql_fail(db, rc, "save the archive");
        }
    }
    sqlite3_finalize(st);
    return 0;
}

int rt_db_load_checkpoint(rt_db *db, rt_checkpoint *cp, rt_archive_row **rows, size_t *nrows)
{
    *rows = NULL;
    *nrows = 0;
    memset(cp, 0, sizeof *cp);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT generation,evaluations,duplicates,failed,elapsed,sessions,"
                                "rng,proxy_rejected FROM checkpoint WHERE id=1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the checkpoint");
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return rt_db_fail(db, RT_ESTORE, "store %s has no checkpoint to resume from", db->path);
        return rt_db_sql_fail(db, rc, "read the checkpoint");
    }
    cp->generation = sqlite3_column_int64(st, 0);
    cp->evaluations = sqlite3_column_int64(st, 1);
    cp->duplicates = sqlite3_column_int64(st, 2);
    cp->failed = sqlite3_column_int64(st, 3);
    cp->elapsed = sqlite3_column_double(st, 4);
    cp->sessions = sqlite3_column_int(st, 5);
    cp->proxy_rejected = sqlite3_column_int64(st, 7);
    const char *rng = (const char *)sqlite3_column_text(st, 6);
    int n = 0;
    while (rng && *rng && n < 64) {
        const char *comma = strchr(rng, ',');
        size_t len = comma ? (size_t)(comma - rng) : strlen(rng);
        if (len != 64)
            break;
        memcpy(cp->rng[n], rng, 64);
        cp->rng[n][64] = '\0';
        n++;
        rng = comma ? comma + 1 : rng + len;
    }
    cp->nislands = n;
    sqlite3_finalize(st);

    rc = sqlite3_prepare_v2(db->sql, "SELECT island,cand_id,migrated FROM archive ORDER BY rowid",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the archive");
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*nrows == cap) {
            cap = cap ? 2 * cap : 64;
            rt_archive_row *nr = realloc(*rows, cap * sizeof *nr);
            if (!nr) {
                sqlite3_finalize(st);
                return rt_db_fail(db, RT_ENOMEM, "out of memory");
            }
            *rows = nr;
        }
        rt_archive_row *r = &(*rows)[(*nrows)++];
        r->island = sqlite3_column_int(st, 0);
        r->cand_id = sqlite3_column_int64(st, 1);
        r->migrated = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rt_db_sql_fail(db, rc, "read the archive");
    return 0;
}

int rt_db_candidate(rt_db *db, long long id, char **text, size_t *len, char hash[65],
                    rt_score *verified)
{
    *text = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT text,hash,score,score2 FROM candidates WHERE id=?", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read a candidate");
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return rt_db_fail(db, RT_ESTORE, "store %s: candidate %lld is missing", db->path, id);
        return rt_db_sql_fail(db, rc, "read a candidate");
    }
    int n = sqlite3_column_bytes(st, 0);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    const char *h = (const char *)sqlite3_column_text(st, 1);
    *text = malloc((size_t)n + 1);
    if (!*text) {
        sqlite3_finalize(st);
        return rt_db_fail(db, RT_ENOMEM, "out of memory");
    }
    if (n)
        memcpy(*text, t, (size_t)n);
    (*text)[n] = '\0';
    *len = (size_t)n;
    snprintf(hash, 65, "%s", h ? h : "");
    verified->primary = sqlite3_column_double(st, 2);
    verified->secondary = sqlite3_column_double(st, 3);
    sqlite3_finalize(st);
    return 0;
}

int rt_db_each_text(rt_db *db, void (*fn)(const char *text, size_t len, void *user), void *user)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT text FROM candidates", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read candidates");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        fn(t ? t : "", (size_t)sqlite3_column_bytes(st, 0), user);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read candidates");
}

int rt_db_evaluation(rt_db *db, long long id, char **metrics, char **artifacts)
{
    *metrics = *artifacts = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT metrics,artifacts FROM evaluations WHERE cand_id=?", -1,
                                &st, NULL);
    if (rc != SQLITE_OK) /* a store from before the table: nothing stored */
        return (rc & 0xff) == SQLITE_ERROR ? 0 : rt_db_sql_fail(db, rc, "read an evaluation");
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    int nomem = 0;
    if (rc == SQLITE_ROW) {
        *metrics = rt_db_column_dup(st, 0, &nomem);
        *artifacts = rt_db_column_dup(st, 1, &nomem);
    }
    sqlite3_finalize(st);
    if (nomem) {
        free(*metrics);
        free(*artifacts);
        *metrics = *artifacts = NULL;
        return rt_db_fail(db, RT_ENOMEM, "out of memory");
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read an evaluation");
}

int rt_db_each_hash(rt_db *db, void (*fn)(const char *hash, void *user), void *user)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "SELECT hash FROM candidates", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read hashes");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn((const char *)sqlite3_column_text(st, 0), user);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read hashes");
}

int rt_db_best(rt_db *db, long long *id)
{
    *id = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT id FROM candidates WHERE admitted=1 AND valid=1 "
                                "ORDER BY score DESC, score2 DESC, id LIMIT 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "find the best candidate");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : rt_db_sql_fail(db, rc, "find the best candidate");
}

/* Runs a query returning one integer. */
static int query_ll(rt_db *db, const char *sql, long long *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the store");
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : rt_db_sql_fail(db, rc, "read the store");
}

int rt_db_summary(rt_db *db, rt_summary *out)
{
    memset(out, 0, sizeof *out);
    rt_run_config cfg;
    int rc = rt_db_config(db, &cfg);
    if (rc)
        return rc;
    snprintf(out->problem, sizeof out->problem, "%s", cfg.problem);
    snprintf(out->params, sizeof out->params, "%s", cfg.params);
    out->seed = cfg.seed;
    rt_checkpoint cp;
    rt_archive_row *rows = NULL;
    size_t nrows = 0;
    rc = rt_db_load_checkpoint(db, &cp, &rows, &nrows);
    if (rc == 0) {
        out->sessions = cp.sessions;
        out->elapsed = cp.elapsed;
        out->evaluations = cp.evaluations;
        out->duplicates = cp.duplicates;
    } else if (rc != RT_ESTORE) {
        return rc;
    }
    if ((rc = query_ll(db, "SELECT count(*) FROM candidates", &out->stored)) ||
        (rc = query_ll(db, "SELECT count(*) FROM candidates WHERE valid=1", &out->valid)) ||
        (rc = query_ll(db, "SELECT count(*) FROM candidates WHERE valid=0", &out->invalid)) ||
        (rc = query_ll(db, "SELECT count(*) FROM candidates WHERE admitted=1", &out->admitted))) {
        free(rows);
        return rc;
    }
    snprintf(out->metric_name, sizeof out->metric_name, "score");
    long long best = 0;
    if ((rc = rt_db_best(db, &best))) {
        free(rows);
        return rc;
    }
    sqlite3_stmt *st = NULL;
    if (best) {
        rc = sqlite3_prepare_v2(db->sql, "SELECT metric,hash FROM candidates WHERE id=?", -1, &st,
                                NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, best);
            if (sqlite3_step(st) == SQLITE_ROW) {
                out->has_best = 1;
                out->best_metric = sqlite3_column_double(st, 0);
                snprintf(out->best_hash, sizeof out->best_hash, "%s",
                         (const char *)sqlite3_column_text(st, 1));
            }
        }
        sqlite3_finalize(st);
    }
    out->nislands = cfg.islands > 64 ? 64 : cfg.islands;
    for (int i = 0; i < out->nislands; i++) {
        rt_island_summary *is = &out->islands[i];
        is->island = i;
        rc = sqlite3_prepare_v2(db->sql,
                                "SELECT count(*) FROM candidates WHERE admitted=1 AND island=?",
                                -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int(st, 1, i);
            if (sqlite3_step(st) == SQLITE_ROW)
                is->admitted = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
        rc = sqlite3_prepare_v2(db->sql,
                                "SELECT c.metric FROM archive a JOIN candidates c ON c.id=a.cand_id"
                                " WHERE a.island=? ORDER BY c.score DESC, c.score2 DESC LIMIT 1",
                                -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int(st, 1, i);
            if (sqlite3_step(st) == SQLITE_ROW) {
                is->has_best = 1;
                is->best_metric = sqlite3_column_double(st, 0);
            }
        }
        sqlite3_finalize(st);
    }
    for (size_t r = 0; r < nrows; r++)
        if (rows[r].island >= 0 && rows[r].island < out->nislands)
            out->islands[rows[r].island].cells++;
    free(rows);
    return 0;
}

int rt_db_check(rt_db *db, const rt_problem *problem, long long *checked)
{
    *checked = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "check integrity");
    rc = sqlite3_step(st);
    const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (!res || strcmp(res, "ok") != 0) {
        rc = rt_db_fail(db, RT_EINVALID, "store %s fails SQLite's integrity check: %s", db->path,
                     res ? res : sqlite3_errmsg(db->sql));
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    rc = sqlite3_prepare_v2(db->sql,
                            "SELECT id,hash,text,valid,admitted,score,score2 FROM candidates "
                            "ORDER BY id",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read candidates");
    int out = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        const char *hash = (const char *)sqlite3_column_text(st, 1);
        const char *text = (const char *)sqlite3_column_text(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);
        char hex[65];
        rt_sha256_hex(text ? text : "", len, hex);
        if (!hash || strcmp(hex, hash) != 0) {
            out = rt_db_fail(db, RT_EINVALID, "candidate %lld: stored hash does not match its text",
                          id);
            break;
        }
        if (!sqlite3_column_int(st, 4))
            continue;
        rt_verdict v;
        char err[512];
        int vr = problem->cls->verify(problem->state, text ? text : "", len, &v, err, sizeof err);
        if (vr || !v.valid) {
            out = rt_db_fail(db, RT_EINVALID, "admitted candidate %lld does not verify: %s", id,
                          vr ? err : v.reason);
            break;
        }
        if (!sqlite3_column_int(st, 3) || v.score != sqlite3_column_double(st, 5) ||
            v.score2 != sqlite3_column_double(st, 6)) {
            out = rt_db_fail(db, RT_EINVALID,
                          "admitted candidate %lld: stored verdict differs from re-verification",
                          id);
            break;
        }
        (*checked)++;
    }
    sqlite3_finalize(st);
    if (out)
        return out;
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read candidates");
}

/* ---- the public read-only view ----------------------------------------------------------- */

struct rt_store {
    rt_db *db;
    char errmsg[512];
};

int rt_store_open(rt_store **out, const char *path, rt_error *err)
{
    *out = NULL;
    err->msg[0] = '\0';
    rt_store *s = calloc(1, sizeof *s);
    if (!s) {
        err->code = rt_fail(err->msg, sizeof err->msg, RT_ENOMEM, "out of memory");
        return err->code;
    }
    err->code = rt_db_open(&s->db, path, 0, err->msg, sizeof err->msg);
    if (err->code) {
        free(s);
        return err->code;
    }
    *out = s;
    return 0;
}

void rt_store_close(rt_store *store)
{
    if (!store)
        return;
    rt_db_close(store->db);
    free(store);
}

const char *rt_store_errmsg(const rt_store *store) { return store->db->errmsg; }

int rt_store_problem(rt_store *store, rt_problem **out)
{
    rt_run_config cfg;
    int rc = rt_db_config(store->db, &cfg);
    if (rc)
        return rc;
    return rt_problem_open_canonical(out, cfg.problem, cfg.params, store->db->errmsg,
                                     sizeof store->db->errmsg);
}

int rt_store_summary(rt_store *store, rt_summary *out)
{
    int rc = rt_db_summary(store->db, out);
    if (rc || !out->has_best)
        return rc;
    rt_problem *pb = NULL;
    rc = rt_store_problem(store, &pb);
    if (rc)
        return rc;
    long long id;
    char *text = NULL;
    size_t len;
    char hash[65];
    rt_score sc;
    rc = rt_db_best(store->db, &id);
    if (!rc && id)
        rc = rt_db_candidate(store->db, id, &text, &len, hash, &sc);
    if (!rc && text) {
        rt_verdict v;
        char err[256];
        if (pb->cls->verify(pb->state, text, len, &v, err, sizeof err) == 0) {
            snprintf(out->metric_name, sizeof out->metric_name, "%s", v.metric_name);
            const char *what = v.valid ? v.summary : v.reason;
            size_t n = strnlen(what, sizeof out->best_summary - 1);
            memcpy(out->best_summary, what, n);
            out->best_summary[n] = '\0';
        }
    }
    free(text);
    rt_problem_close(pb);
    return rc;
}

int rt_store_best(rt_store *store, char **text)
{
    *text = NULL;
    long long id;
    int rc = rt_db_best(store->db, &id);
    if (rc)
        return rc;
    if (!id)
        return rt_db_fail(store->db, RT_EUSAGE, "store %s has no verified candidate yet",
                       store->db->path);
    size_t len;
    char hash[65];
    rt_score sc;
    return rt_db_candidate(store->db, id, text, &len, hash, &sc);
}

int rt_store_drift(rt_store *store, rt_drift *out)
{
    return rt_db_drift(store->db, out);
}

int rt_store_audit(rt_store *store, rt_audit *out)
{
    rt_problem *pb = NULL;
    memset(out, 0, sizeof *out);
    int rc = rt_store_problem(store, &pb);
    if (rc)
        return rc;
    rc = rt_db_audit(store->db, pb, out);
    rt_problem_close(pb);
    return rc;
}

int rt_store_certificate(rt_store *store, const char *dir)
{
    rt_problem *pb = NULL;
    char *text = NULL;
    int rc = rt_store_problem(store, &pb);
    if (rc)
        return rc;
    if (!pb->cls->certificate) {
        rc = rt_db_fail(store->db, RT_EUSAGE, "problem %s has no certificates", pb->cls->name);
        goto done;
    }
    if ((rc = rt_store_best(store, &text)))
        goto done;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        rc = rt_db_fail(store->db, RT_EIO, "cannot create %s: %s", dir, strerror(errno));
        goto done;
    }
    rc = pb->cls->certificate(pb->state, text, strlen(text), dir, store->db->errmsg,
                              sizeof store->db->errmsg);
done:
    free(text);
    rt_problem_close(pb);
    return rc;
}

int rt_store_check(rt_store *store, long long *checked)
{
    rt_problem *pb = NULL;
    int rc = rt_store_problem(store, &pb);
    if (rc)
        return rc;
    rc = rt_db_check(store->db, pb, checked);
    rt_problem_close(pb);
    return rc;
}

/* ---- language model requests (the llm proposer) ------------------------------------------- */

int rt_db_llm_insert(rt_db *db, const rt_llm_row *r)
{
    int rc = rt_schema_ensure(db, RT_TABLE_LLM_REQUESTS);
    if (rc)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(
        db->sql,
        "INSERT INTO llm_requests(at,island,generation,model,mode,tokens_in,tokens_out,cost,"
        "latency,attempts,retries,http_status,outcome,error,parent,made,duplicate,valid,admitted,"
        "improved,parent_score,child_score) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "store a model request");
    sqlite3_bind_double(st, 1, r->at);
    sqlite3_bind_int(st, 2, r->island);
    sqlite3_bind_int64(st, 3, r->generation);
    sqlite3_bind_text(st, 4, r->model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->mode, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, r->tokens_in);
    sqlite3_bind_int64(st, 7, r->tokens_out);
    sqlite3_bind_double(st, 8, r->cost);
    sqlite3_bind_double(st, 9, r->latency);
    sqlite3_bind_int(st, 10, r->attempts);
    sqlite3_bind_int(st, 11, r->retries);
    sqlite3_bind_int(st, 12, r->http_status);
    sqlite3_bind_text(st, 13, r->outcome, -1, SQLITE_STATIC);
    if (r->error && *r->error)
        sqlite3_bind_text(st, 14, r->error, -1, SQLITE_STATIC);
    if (r->parent)
        sqlite3_bind_text(st, 15, r->parent, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 16, r->made);
    sqlite3_bind_int(st, 17, r->duplicate);
    sqlite3_bind_int(st, 18, r->valid);
    sqlite3_bind_int(st, 19, r->admitted);
    sqlite3_bind_int(st, 20, r->improved);
    sqlite3_bind_double(st, 21, r->parent_score);
    if (r->valid)
        sqlite3_bind_double(st, 22, r->child_score);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "store a model request");
}

int rt_store_llm_spend(rt_store *store, rt_llm_spend *out)
{
    memset(out, 0, sizeof *out);
    rt_db *db = store->db;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        db->sql,
        "SELECT model, count(*), sum(tokens_in), sum(tokens_out), sum(cost), sum(retries),"
        " sum(outcome <> 'ok'), sum(improved), sum(latency) FROM llm_requests GROUP BY model"
        " ORDER BY model",
        -1, &st, NULL);
    if (rc != SQLITE_OK) /* a store without model requests */
        return (rc & 0xff) == SQLITE_ERROR ? 0 : rt_db_sql_fail(db, rc, "read model requests");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long n = sqlite3_column_int64(st, 1);
        out->requests += n;
        out->tokens_in += sqlite3_column_int64(st, 2);
        out->tokens_out += sqlite3_column_int64(st, 3);
        out->cost += sqlite3_column_double(st, 4);
        out->retries += sqlite3_column_int64(st, 5);
        out->failed += sqlite3_column_int64(st, 6);
        out->improved += sqlite3_column_int64(st, 7);
        out->latency += sqlite3_column_double(st, 8);
        if (out->nmodels < (int)(sizeof out->models / sizeof out->models[0])) {
            rt_llm_model_spend *m = &out->models[out->nmodels++];
            const unsigned char *name = sqlite3_column_text(st, 0);
            snprintf(m->model, sizeof m->model, "%s", name ? (const char *)name : "?");
            m->requests = n;
            m->tokens_in = sqlite3_column_int64(st, 2);
            m->tokens_out = sqlite3_column_int64(st, 3);
            m->cost = sqlite3_column_double(st, 4);
            m->improved = sqlite3_column_int64(st, 7);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        int code = rt_db_sql_fail(db, rc, "read model requests");
        snprintf(store->errmsg, sizeof store->errmsg, "%s", db->errmsg);
        return code;
    }
    return 0;
}

int rt_store_policy(rt_store *store, char **json)
{
    int rc = rt_db_get_meta(store->db, "policy", json);
    if (rc || *json)
        return rc;
    /* stores made before policies were stored ran with the defaults */
    rt_policy p;
    rt_policy_defaults(&p);
    rt_buf b;
    rt_buf_init(&b, 0);
    if (rt_policy_print(&p, &b)) {
        rt_buf_free(&b);
        return rt_db_fail(store->db, RT_ENOMEM, "out of memory");
    }
    *json = rt_buf_take(&b);
    return 0;
}

int rt_store_bandit(rt_store *store, char **json)
{
    return rt_db_get_meta(store->db, "bandit", json);
}

int rt_store_admitted(rt_store *store, int (*fn)(const rt_cand_info *info, void *user),
                      void *user)
{
    rt_db *db = store->db;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT id,generation,island,time,proxy,metric,hash,"
                                "COALESCE(parent,''),operator FROM candidates WHERE admitted=1 "
                                "ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read the admitted candidates");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rt_cand_info info;
        memset(&info, 0, sizeof info);
        info.id = sqlite3_column_int64(st, 0);
        info.generation = sqlite3_column_int64(st, 1);
        info.island = sqlite3_column_int(st, 2);
        info.time = sqlite3_column_double(st, 3);
        info.proxy = sqlite3_column_double(st, 4);
        info.metric = sqlite3_column_double(st, 5);
        const char *h = (const char *)sqlite3_column_text(st, 6);
        const char *p = (const char *)sqlite3_column_text(st, 7);
        const char *o = (const char *)sqlite3_column_text(st, 8);
        snprintf(info.hash, sizeof info.hash, "%s", h ? h : "");
        snprintf(info.parent, sizeof info.parent, "%s", p ? p : "");
        snprintf(info.op, sizeof info.op, "%s", o ? o : "");
        int stop = fn(&info, user);
        if (stop) {
            sqlite3_finalize(st);
            return stop;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rt_db_sql_fail(db, rc, "read the admitted candidates");
}

int rt_store_candidate_text(rt_store *store, long long id, char **text)
{
    size_t len;
    char hash[65];
    rt_score sc;
    return rt_db_candidate(store->db, id, text, &len, hash, &sc);
}
