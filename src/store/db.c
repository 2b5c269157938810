/* db.c — the store's handle: its making and its end, and its errors (store/db.h). */
#include "store/db.h"
#include "store/codec.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

rt_db *rt_db_new(const char *path)
{
    rt_db *db = calloc(1, sizeof *db);
    if (!db)
        return NULL;
    db->lock_fd = -1;
    size_t n = strlen(path);
    if (n >= sizeof db->path)
        n = sizeof db->path - 1;
    memcpy(db->path, path, n);
    db->path[n] = '\0';
    return db;
}

void rt_db_release(rt_db *db)
{
    if (!db)
        return;
    sqlite3_finalize(db->ins_cand);
    sqlite3_finalize(db->ins_event);
    sqlite3_finalize(db->ins_eval);
    sqlite3_finalize(db->hash_of_id);
    sqlite3_finalize(db->id_of_hash);
    rt_db_text_forget(db, 1);
    /* A writer leaves the store in rollback-journal mode: a reader of a WAL store creates its
     * -wal and -shm and cannot remove them, so every `ratchet status` after a run would leave
     * two files beside the store. Fails harmlessly (the store stays WAL) while another
     * connection is open; the next writer turns WAL on again. */
    if (db->sql && db->lock_fd >= 0)
        sqlite3_exec(db->sql, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    if (db->sql)
        sqlite3_close_v2(db->sql);
    if (db->tmp[0]) { /* created but never published: abandon it */
        char journal[4200];
        snprintf(journal, sizeof journal, "%s-journal", db->tmp);
        unlink(db->tmp);
        unlink(journal);
    }
    if (db->lock_fd >= 0)
        close(db->lock_fd);
    free(db);
}

void rt_db_close(rt_db *db) { rt_db_release(db); }

const char *rt_db_errmsg(const rt_db *db) { return db->errmsg; }

const char *rt_db_path(const rt_db *db) { return db->path; }

int rt_db_fail(rt_db *db, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->errmsg, sizeof db->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

/* Largest size among the store's files (the database, its WAL or journal, a temporary). */
static off_t store_bytes(const rt_db *db)
{
    static const char *const suffixes[] = {"", "-wal", "-journal"};
    off_t most = 0;
    char name[4200];
    for (int k = 0; k < 2; k++) {
        const char *base = k ? db->tmp : db->path;
        if (!*base)
            continue;
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
            struct stat st;
            snprintf(name, sizeof name, "%s%s", base, suffixes[i]);
            if (stat(name, &st) == 0 && st.st_size > most)
                most = st.st_size;
        }
    }
    return most;
}

/* After a failed write: says whether a file-size limit or a full disk explains it. SQLite does
 * not always pass the system's errno on (a failed WAL write at commit reports errno 0). */
static const char *full_reason(const rt_db *db, char *buf, size_t len)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        store_bytes(db) + 65536 >= (off_t)rl.rlim_cur) {
        snprintf(buf, len, "file size limit of %llu bytes reached",
                 (unsigned long long)rl.rlim_cur);
        return buf;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", db->path);
    struct statvfs sv;
    if (statvfs(dirname(dir), &sv) == 0 &&
        (unsigned long long)sv.f_bavail * sv.f_frsize < (1u << 20)) {
        snprintf(buf, len, "disk full");
        return buf;
    }
    return NULL;
}

int rt_db_sql_fail(rt_db *db, int src, const char *what)
{
    int code = RT_EIO;
    int sys = sqlite3_system_errno(db->sql);
    char why[128];
    const char *full = NULL;
    switch (src & 0xff) {
    case SQLITE_FULL:
        code = RT_EFULL;
        full = full_reason(db, why, sizeof why);
        if (!full)
            full = "disk full";
        break;
    case SQLITE_NOMEM:
        code = RT_ENOMEM;
        break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        code = RT_ESTORE;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = RT_EBUSY;
        break;
    case SQLITE_IOERR:
        if (sys == EFBIG || sys == ENOSPC || sys == EDQUOT || sys == 0)
            full = full_reason(db, why, sizeof why);
        if (!full && (sys == ENOSPC || sys == EDQUOT))
            full = "disk full";
        if (full)
            code = RT_EFULL;
        break;
    default:
        break;
    }
    if (full)
        return rt_db_fail(db, code, "store %s: cannot %s: %s; the store is intact", db->path,
                          what, full);
    if (sys && (src & 0xff) == SQLITE_IOERR)
        return rt_db_fail(db, code, "store %s: cannot %s: %s", db->path, what, strerror(sys));
    return rt_db_fail(db, code, "store %s: cannot %s: %s", db->path, what, sqlite3_errstr(src));
}

int rt_db_exec(rt_db *db, const char *sql, const char *what)
{
    int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : rt_db_sql_fail(db, rc, what);
}

char *rt_db_column_dup(sqlite3_stmt *st, int col, int *nomem)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (!t)
        return NULL;
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *out = malloc(n + 1);
    if (!out) {
        *nomem = 1;
        return NULL;
    }
    memcpy(out, t, n);
    out[n] = '\0';
    return out;
}

/* The value of one hex digit, or -1. */
static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

void rt_db_bind_hash(sqlite3_stmt *st, int col, const char *hex)
{
    if (!hex) {
        sqlite3_bind_null(st, col);
        return;
    }
    unsigned char raw[32];
    int ok = strlen(hex) == 64;
    for (size_t i = 0; ok && i < 32; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        ok = hi >= 0 && lo >= 0;
        raw[i] = (unsigned char)(ok ? hi << 4 | lo : 0);
    }
    if (ok)
        sqlite3_bind_blob(st, col, raw, sizeof raw, SQLITE_TRANSIENT);
    else
        sqlite3_bind_text(st, col, hex, -1, SQLITE_TRANSIENT);
}

const char *rt_db_column_hash(sqlite3_stmt *st, int col, char out[65])
{
    out[0] = '\0';
    int type = sqlite3_column_type(st, col);
    if (type == SQLITE_NULL)
        return NULL;
    if (type == SQLITE_BLOB && sqlite3_column_bytes(st, col) == 32) {
        const unsigned char *raw = sqlite3_column_blob(st, col);
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < 32; i++) {
            out[2 * i] = digits[raw[i] >> 4];
            out[2 * i + 1] = digits[raw[i] & 15];
        }
        out[64] = '\0';
        return out;
    }
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, 65, "%s", t ? (const char *)t : "");
    return out;
}

const char *rt_db_column_parent(rt_db *db, sqlite3_stmt *st, int col, char out[65])
{
    if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
        return rt_db_column_hash(st, col, out);
    out[0] = '\0';
    if (!db->hash_of_id &&
        sqlite3_prepare_v2(db->sql, "SELECT hash FROM candidates WHERE id=?", -1,
                           &db->hash_of_id, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_int64(db->hash_of_id, 1, sqlite3_column_int64(st, col));
    const char *got = NULL;
    if (sqlite3_step(db->hash_of_id) == SQLITE_ROW)
        got = rt_db_column_hash(db->hash_of_id, 0, out);
    sqlite3_reset(db->hash_of_id);
    return got;
}
