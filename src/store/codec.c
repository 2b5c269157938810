/* codec.c — candidate texts compressed with zstd, as exact edits of an earlier row's text
 * (store/codec.h has the format). */
#include "store/codec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "problem.h"

rt_text_cache *rt_db_text_cache(rt_db *db)
{
    if (!db->texts)
        db->texts = calloc(1, sizeof *db->texts);
    return db->texts;
}

static size_t bucket_of_hash(const char *hash)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)hash; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % RT_CODEC_BUCKETS);
}

static size_t bucket_of_id(long long id)
{
    return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> 40) % RT_CODEC_BUCKETS;
}

/* Removes entry i from the chain starting at *head (linked through the field at offset). */
static void unlink_from(rt_text_cache *c, int *head, int i, int by_hash)
{
    for (int *at = head; *at; at = by_hash ? &c->e[*at - 1].next_hash : &c->e[*at - 1].next_id)
        if (*at - 1 == i) {
            *at = by_hash ? c->e[i].next_hash : c->e[i].next_id;
            return;
        }
}

/* Drops entry i (its text and its places in both tables). */
static void drop(rt_text_cache *c, int i)
{
    rt_text_entry *e = &c->e[i];
    if (!e->id)
        return;
    unlink_from(c, &c->by_hash[bucket_of_hash(e->hash)], i, 1);
    unlink_from(c, &c->by_id[bucket_of_id(e->id)], i, 0);
    c->bytes -= e->len + e->plen;
    free(e->text);
    free(e->packed);
    memset(e, 0, sizeof *e);
}

void rt_db_text_forget(rt_db *db, int contexts)
{
    rt_text_cache *c = db->texts;
    if (!c)
        return;
    for (int i = 0; i < RT_CODEC_CACHE; i++)
        drop(c, i);
    if (contexts) {
        sqlite3_finalize(c->get);
        ZSTD_freeCCtx(c->cctx);
        ZSTD_freeDCtx(c->dctx);
        free(c->out);
        free(c);
        db->texts = NULL;
    }
}

static rt_text_entry *find_id(rt_text_cache *c, long long id)
{
    for (int i = c->by_id[bucket_of_id(id)]; i; i = c->e[i - 1].next_id)
        if (c->e[i - 1].id == id) {
            c->e[i - 1].used = ++c->clock;
            return &c->e[i - 1];
        }
    return NULL;
}

const rt_text_entry *rt_db_text_find(rt_db *db, const char *hash)
{
    rt_text_cache *c = db->texts;
    if (!c || !hash)
        return NULL;
    for (int i = c->by_hash[bucket_of_hash(hash)]; i; i = c->e[i - 1].next_hash)
        if (strcmp(c->e[i - 1].hash, hash) == 0) {
            c->e[i - 1].used = ++c->clock;
            return &c->e[i - 1];
        }
    return NULL;
}

/* The least recently used entry (an empty one first). */
static int victim_of(const rt_text_cache *c)
{
    int v = 0;
    for (int i = 0; i < RT_CODEC_CACHE; i++) {
        if (!c->e[i].id)
            return i;
        if (c->e[i].used < c->e[v].used)
            v = i;
    }
    return v;
}

void rt_db_text_remember(rt_db *db, long long id, const char *hash, int depth, const char *text,
                         size_t len, const unsigned char *packed, size_t plen)
{
    rt_text_cache *c = rt_db_text_cache(db);
    size_t size = len + (packed ? plen : 0);
    if (!c || size > RT_CODEC_CACHE_BYTES / 8 || find_id(c, id))
        return;
    int v = victim_of(c);
    drop(c, v);
    while (c->bytes + size > RT_CODEC_CACHE_BYTES) /* big texts: room by least recent use */
        drop(c, victim_of(c));
    char *copy = malloc(len + 1);
    unsigned char *pcopy = packed ? malloc(plen ? plen : 1) : NULL;
    if (!copy || (packed && !pcopy)) {
        free(copy);
        free(pcopy);
        return;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (packed)
        memcpy(pcopy, packed, plen);
    rt_text_entry *e = &c->e[v];
    *e = (rt_text_entry){.id = id, .depth = depth, .text = copy, .len = len, .packed = pcopy,
                         .plen = packed ? plen : 0, .used = ++c->clock};
    snprintf(e->hash, sizeof e->hash, "%s", hash);
    size_t hb = bucket_of_hash(e->hash), ib = bucket_of_id(id);
    e->next_hash = c->by_hash[hb];
    c->by_hash[hb] = v + 1;
    e->next_id = c->by_id[ib];
    c->by_id[ib] = v + 1;
    c->bytes += size;
}

/* LEB128 of a positive id into out; its length. */
static size_t put_varint(unsigned char *out, unsigned long long v)
{
    size_t n = 0;
    do {
        out[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            out[n] |= 0x80;
        n++;
    } while (v);
    return n;
}

/* Reads a LEB128 value of at most 9 bytes; the bytes used, or 0 when malformed. */
static size_t get_varint(const unsigned char *in, size_t n, unsigned long long *v)
{
    *v = 0;
    for (size_t i = 0; i < n && i < 9; i++) {
        *v |= (unsigned long long)(in[i] & 0x7f) << (7 * i);
        if (!(in[i] & 0x80))
            return i + 1;
    }
    return 0;
}

int rt_codec_encode(rt_text_cache *c, int packed, const void *data, size_t len, const void *base,
                    size_t base_len, long long base_id, size_t *n)
{
    if (!c->cctx && !(c->cctx = ZSTD_createCCtx()))
        return RT_ENOMEM;
    unsigned char head[16];
    size_t h = 0;
    head[h++] = packed ? (base ? 'q' : 'p') : (base ? 'd' : 'z');
    if (base)
        h += put_varint(head + h, (unsigned long long)base_id);
    size_t bound = ZSTD_compressBound(len);
    if (c->out_cap < h + bound) {
        unsigned char *grown = realloc(c->out, h + bound);
        if (!grown)
            return RT_ENOMEM;
        c->out = grown;
        c->out_cap = h + bound;
    }
    memcpy(c->out, head, h);
    ZSTD_CCtx_reset(c->cctx, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, RT_CODEC_LEVEL);
    if (base && ZSTD_isError(ZSTD_CCtx_refPrefix(c->cctx, base, base_len)))
        return RT_ENOMEM;
    size_t z = ZSTD_compress2(c->cctx, c->out + h, bound, data, len);
    if (ZSTD_isError(z))
        return RT_ENOMEM;
    *n = h + z;
    return 0;
}

/* A row's text as decoded: the text, its packed form when the row is stored packed, and how
 * many bases are below it. */
typedef struct decoded {
    char *text;
    size_t len;
    unsigned char *packed;
    size_t plen;
    int depth;
} decoded;

static void decoded_free(decoded *d)
{
    free(d->text);
    free(d->packed);
    memset(d, 0, sizeof *d);
}

/* The store's problem (meta 'problem'), read once; "" when it has none. */
static const char *store_problem(rt_db *db, rt_text_cache *c)
{
    if (c->problem_read)
        return c->problem;
    c->problem_read = 1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->sql, "SELECT value FROM meta WHERE key='problem'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        snprintf(c->problem, sizeof c->problem, "%s", v ? (const char *)v : "");
    }
    sqlite3_finalize(st);
    return c->problem;
}

int rt_db_text_pack(rt_db *db, const char *text, size_t len, rt_buf *out)
{
    rt_text_cache *c = rt_db_text_cache(db);
    if (!c)
        return RT_ENOMEM;
    const char *problem = store_problem(db, c);
    rt_buf_reset(out);
    if (!problem[0] || rt_problem_pack_text(problem, text, len, out) || out->len == 0)
        return RT_EUSAGE;
    rt_buf back; /* exact or not at all: the packed form must give the text back */
    rt_buf_init(&back, len + 1);
    int rc = rt_problem_unpack_text(problem, (const unsigned char *)out->data, out->len, &back);
    if (!rc && (back.len != len || memcmp(back.data, text, len) != 0))
        rc = RT_EUSAGE;
    rt_buf_free(&back);
    return rc;
}

/* Decodes body (a BLOB of row id) into d, with its base's text or packed form first. */
static int decode_body(rt_db *db, long long id, const unsigned char *body, size_t n, int level,
                       decoded *d);

/* Reads row id's text and hash and decodes it into d (the caller frees it with decoded_free);
 * level: bases followed so far. */
static int load(rt_db *db, long long id, int level, decoded *d)
{
    memset(d, 0, sizeof *d);
    rt_text_cache *c = rt_db_text_cache(db);
    if (!c)
        return rt_db_fail(db, RT_ENOMEM, "out of memory");
    const rt_text_entry *e = find_id(c, id);
    if (e) {
        d->text = malloc(e->len + 1);
        d->packed = e->packed ? malloc(e->plen ? e->plen : 1) : NULL;
        if (!d->text || (e->packed && !d->packed)) {
            decoded_free(d);
            return rt_db_fail(db, RT_ENOMEM, "out of memory");
        }
        memcpy(d->text, e->text, e->len + 1);
        d->len = e->len;
        if (e->packed)
            memcpy(d->packed, e->packed, e->plen);
        d->plen = e->plen;
        d->depth = e->depth;
        return 0;
    }
    if (!c->get) {
        int prc = sqlite3_prepare_v2(db->sql, "SELECT text, hash FROM candidates WHERE id=?", -1,
                                     &c->get, NULL);
        if (prc != SQLITE_OK)
            return rt_db_sql_fail(db, prc, "read a candidate");
    }
    sqlite3_stmt *st = c->get; /* reset before a base is read with it */
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE
                   ? rt_db_fail(db, RT_ESTORE, "store %s: candidate %lld is missing", db->path, id)
                   : rt_db_sql_fail(db, rc, "read a candidate");
    }
    char h[65];
    rt_db_column_hash(st, 1, h);
    if (sqlite3_column_type(st, 0) == SQLITE_BLOB) {
        const unsigned char *b = sqlite3_column_blob(st, 0);
        size_t bn = (size_t)sqlite3_column_bytes(st, 0);
        unsigned char *copy = malloc(bn ? bn : 1);
        if (!copy) {
            sqlite3_reset(st);
            return rt_db_fail(db, RT_ENOMEM, "out of memory");
        }
        memcpy(copy, b, bn);
        sqlite3_reset(st);
        rc = decode_body(db, id, copy, bn, level, d);
        free(copy);
    } else {
        rc = rt_db_text_value(db, id, sqlite3_column_value(st, 0), &d->text, &d->len);
        sqlite3_reset(st);
    }
    if (rc) {
        decoded_free(d);
        return rc;
    }
    char got[65];
    rt_sha256_hex(d->text, d->len, got);
    if (strcmp(got, h) != 0) {
        decoded_free(d);
        return rt_db_fail(db, RT_ESTORE,
                          "store %s: candidate %lld's text does not match its hash", db->path, id);
    }
    rt_db_text_remember(db, id, h, d->depth, d->text, d->len, d->packed, d->plen);
    return 0;
}

/* Decompresses the zstd frame in[0..n) into a new buffer of exactly its content size, with ref
 * as its reference (NULL: none). Returns 0, RT_ESTORE when it is not such a frame, RT_ENOMEM. */
static int inflate(rt_text_cache *c, const unsigned char *in, size_t n, const void *ref,
                   size_t ref_len, unsigned char **out, size_t *out_len)
{
    unsigned long long size = ZSTD_getFrameContentSize(in, n);
    if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
        size > RT_CODEC_MAX_TEXT)
        return RT_ESTORE;
    if (!c->dctx && !(c->dctx = ZSTD_createDCtx()))
        return RT_ENOMEM;
    *out = malloc((size_t)size + 1);
    if (!*out)
        return RT_ENOMEM;
    ZSTD_DCtx_reset(c->dctx, ZSTD_reset_session_and_parameters);
    size_t got = 0;
    if (!ref || !ZSTD_isError(ZSTD_DCtx_refPrefix(c->dctx, ref, ref_len)))
        got = ZSTD_decompressDCtx(c->dctx, *out, (size_t)size, in, n);
    if (ZSTD_isError(got) || got != size) {
        free(*out);
        *out = NULL;
        return RT_ESTORE;
    }
    (*out)[got] = 0;
    *out_len = got;
    return 0;
}

/* The text of packed bytes d->packed by the store's problem, into d->text. */
static int unpack_into(rt_db *db, rt_text_cache *c, decoded *d)
{
    rt_buf text;
    rt_buf_init(&text, RT_CODEC_MAX_TEXT);
    int rc = rt_problem_unpack_text(store_problem(db, c), d->packed, d->plen, &text);
    if (rc) {
        rt_buf_free(&text);
        return rc == RT_ENOMEM ? RT_ENOMEM : RT_ESTORE;
    }
    d->len = text.len;
    d->text = rt_buf_take(&text);
    if (!d->text && (d->text = malloc(1)))
        d->text[0] = '\0';
    return d->text ? 0 : RT_ENOMEM;
}

static int decode_body(rt_db *db, long long id, const unsigned char *body, size_t n, int level,
                       decoded *d)
{
    rt_text_cache *c = db->texts;
    unsigned long long base_id = 0;
    size_t h = 1;
    char tag = n ? (char)body[0] : 0;
    int packed = tag == 'p' || tag == 'q', edit = tag == 'd' || tag == 'q';
    if (n < 2 || (!packed && tag != 'z' && tag != 'd'))
        goto bad;
    if (edit) {
        size_t k = get_varint(body + 1, n - 1, &base_id);
        if (!k || base_id == 0 || base_id >= (unsigned long long)id ||
            level >= RT_CODEC_MAX_DEPTH)
            goto bad;
        h += k;
    }
    decoded base = {0};
    if (base_id) {
        int rc = load(db, (long long)base_id, level + 1, &base);
        if (rc)
            return rc;
        if (packed && !base.packed) { /* a packed edit refers to a packed row only */
            decoded_free(&base);
            goto bad;
        }
    }
    if (packed && !rt_problem_unpacks_text(store_problem(db, c))) {
        decoded_free(&base);
        return rt_db_fail(db, RT_ESTORE,
                          "store %s: candidate %lld's text is packed for the problem '%s', whose "
                          "texts this ratchet cannot read",
                          db->path, id, store_problem(db, c));
    }
    const void *ref = packed ? (const void *)base.packed : (const void *)base.text;
    size_t ref_len = packed ? base.plen : base.len;
    unsigned char *out = NULL;
    size_t out_len = 0;
    int rc = inflate(c, body + h, n - h, base_id ? ref : NULL, ref_len, &out, &out_len);
    int depth = base_id ? base.depth + 1 : 0;
    decoded_free(&base);
    if (rc == RT_ENOMEM)
        return rt_db_fail(db, RT_ENOMEM, "out of memory");
    if (rc)
        goto bad;
    d->depth = depth;
    if (!packed) {
        d->text = (char *)out;
        d->len = out_len;
        return 0;
    }
    d->packed = out;
    d->plen = out_len;
    rc = unpack_into(db, c, d);
    if (rc == RT_ENOMEM) {
        decoded_free(d);
        return rt_db_fail(db, RT_ENOMEM, "out of memory");
    }
    if (rc) {
        decoded_free(d);
        goto bad;
    }
    return 0;
bad:
    return rt_db_fail(db, RT_ESTORE, "store %s: candidate %lld's stored text is damaged",
                      db->path, id);
}

int rt_db_text(rt_db *db, long long id, char **text, size_t *len)
{
    decoded d;
    *text = NULL;
    int rc = load(db, id, 0, &d);
    if (rc)
        return rc;
    free(d.packed);
    *text = d.text;
    *len = d.len;
    return 0;
}

int rt_db_text_value(rt_db *db, long long id, sqlite3_value *v, char **text, size_t *len)
{
    *text = NULL;
    if (sqlite3_value_type(v) == SQLITE_BLOB)
        return rt_db_text(db, id, text, len);
    const unsigned char *t = sqlite3_value_text(v);
    size_t n = (size_t)sqlite3_value_bytes(v);
    *text = malloc(n + 1);
    if (!*text)
        return rt_db_fail(db, RT_ENOMEM, "out of memory");
    if (n)
        memcpy(*text, t ? (const char *)t : "", n);
    (*text)[n] = '\0';
    *len = n;
    return 0;
}

int rt_db_text_fetch(rt_db *db, const char *hash)
{
    sqlite3_stmt *st = NULL;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT id FROM candidates WHERE %s",
             db->compact ? RT_SQL_BY_HASH(1) : "hash IN (?1, ?2)");
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rt_db_sql_fail(db, rc, "read a candidate");
    rt_db_bind_hash(st, 1, hash);                       /* format 3 */
    if (!db->compact)
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC); /* a format-2 row */
    rc = sqlite3_step(st);
    long long id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (!id)
        return RT_ESTORE;
    decoded d;
    rc = load(db, id, 0, &d);
    if (!rc && !rt_db_text_find(db, hash)) /* a TEXT row: remember it too */
        rt_db_text_remember(db, id, hash, d.depth, d.text, d.len, d.packed, d.plen);
    decoded_free(&d);
    return rc;
}
