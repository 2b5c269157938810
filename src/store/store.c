/* store.c — making and opening a store (store/store.h): a new store under a temporary name,
 * published complete; a writer's open under its exclusive lock; a reader's open, which writes
 * nothing (WAL recovery when no writer holds the store, the immutable fallback in a folder it
 * cannot write). */
#include "store/store.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/db.h"
#include "store/schema.h"
#include "store/write.h"

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
    if (!rc)
        rc = rt_schema_layout(db);
    if (rc) {
        if (!writable && (first & 0xff) == SQLITE_READONLY)
            db->needs_recovery = 1;
        if (!writable && !immutable &&
            ((first & 0xff) == SQLITE_READONLY || (first & 0xff) == SQLITE_CANTOPEN))
            db->needs_immutable = 1;
        return rc;
    }
    if (writable) {
        rc = rt_db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
                        "set up journaling");
        if (rc)
            return rc;
        return rt_db_writer_start(db);
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
                              "store %s: cannot read it: %s holds transactions not yet in the "
                              "store file, and SQLite reads them only through %s-shm, which it "
                              "cannot open or create here (a read-only folder); copy the store "
                              "with its -wal file to a writable folder",
                              db->path, name, db->path);
        return rt_db_fail(db, RT_EIO,
                          "store %s: cannot read it: %s holds an interrupted transaction that "
                          "only a writer can roll back, and the folder is read-only; copy the "
                          "store with its -journal file to a writable folder",
                          db->path, name);
    }
    return db_connect(db, 0, 1);
}

int rt_db_open(rt_db **out, const char *path, int writable, char *err, size_t errlen)
{
    *out = NULL;
    struct stat stbuf;
    if (stat(path, &stbuf) != 0)
        return rt_fail(err, errlen, errno == ENOENT ? RT_EUSAGE : RT_EIO,
                       "cannot open store %s: %s", path, strerror(errno));
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
        (rc = rt_schema_create(db)) || (rc = rt_db_put_meta(db, "format", RT_SCHEMA_FORMAT)) ||
        (rc = rt_db_put_meta(db, "problem", cfg->problem)) ||
        (rc = rt_db_put_meta(db, "params", cfg->params)) ||
        (rc = rt_db_put_meta(db, "seed", seed)) ||
        (rc = rt_db_put_meta(db, "islands", islands)) ||
        (rc = rt_db_put_meta(db, "proposer", cfg->proposer)) ||
        (rc = rt_db_put_meta(db, "ratchet_version", RT_VERSION)) ||
        (rc = rt_db_exec(db, "COMMIT", "create it")) || (rc = rt_schema_layout(db)) ||
        (rc = rt_db_writer_start(db)))
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
