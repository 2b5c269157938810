/* codec.h — how a candidate's text is kept in the store (format 3; docs/store.md, "Texts").
 * For the files of src/store/ only.
 *
 * The `text` column of a row holds either
 * - TEXT: the candidate's text itself (every row of a format-2 store, and any row written so), or
 * - a BLOB, the text compressed with zstd: one tag byte, then
 *     'z'  a zstd frame of the text alone (a key row), or
 *     'd'  the id of an earlier row (LEB128) and a zstd frame whose reference is that row's text
 *          (an exact edit of it: most children are a few changes from their parent);
 *   format 4 adds the problem's packed form (rt_problem_pack_text; matmul: coefficient masks):
 *     'p'  a zstd frame of the packed text alone, or
 *     'q'  the id of an earlier row (LEB128) whose stored form is packed too, and a zstd frame of
 *          the packed text whose reference is that row's packed bytes.
 *   A packed form is turned back into text by the problem named in the store's meta row
 *   'problem' (rt_problem_unpack_text), and kept only when that gives the text back exactly.
 * A row's text is read by decoding its base first (at most RT_CODEC_MAX_DEPTH rows deep), and
 * every text decoded from a BLOB is checked against the row's SHA-256 before it is handed out, so
 * a damaged base can never pass for a text.
 *
 * The writer (rt_db_insert) packs a text when the problem can, picks the parent as the base when
 * the parent is among the texts it holds (rt_db's cache), stored in the same kind of form and
 * fewer than RT_CODEC_MAX_DEPTH bases deep; otherwise it writes a key row ('p' or 'z'). Texts
 * under RT_CODEC_MIN_LEN bytes stay TEXT.
 */
#ifndef RT_STORE_CODEC_H
#define RT_STORE_CODEC_H

#include <stddef.h>

#include "store/db.h"
#include "util.h"

#define RT_CODEC_MAX_DEPTH 16   /* bases followed to read a text, at most */
#define RT_CODEC_MIN_LEN 64     /* shorter texts are stored as they are */
#define RT_CODEC_LEVEL 7        /* zstd's compression level */
#define RT_CODEC_MAX_TEXT ((size_t)64 << 20) /* a frame claiming more is refused */
#define RT_CODEC_CACHE 1024     /* texts an rt_db holds (rt_db_text_cache), at most ... */
#define RT_CODEC_CACHE_BYTES ((size_t)64 << 20) /* ... and this many bytes of them */
#define RT_CODEC_BUCKETS 2048   /* the cache's hash tables (by text hash, by row id) */

/* One decoded text the handle holds, by row id (the writer's recent rows, the reader's bases). */
typedef struct rt_text_entry {
    long long id;      /* 0: empty slot */
    char hash[65];
    int depth;         /* bases below it: 0 for TEXT and key rows */
    char *text;
    size_t len;
    unsigned char *packed; /* the row's packed form when it is stored packed ('p', 'q'), or NULL */
    size_t plen;
    unsigned long used; /* for least-recently-used replacement */
    int next_hash, next_id; /* the next entry of its bucket, plus one; 0: none */
} rt_text_entry;

typedef struct rt_text_cache {
    rt_text_entry e[RT_CODEC_CACHE];
    int by_hash[RT_CODEC_BUCKETS], by_id[RT_CODEC_BUCKETS]; /* first entry plus one; 0: none */
    size_t bytes;      /* of the texts held */
    unsigned long clock;
    void *cctx, *dctx; /* zstd's contexts, made on first use */
    sqlite3_stmt *get; /* a row's text and hash by id, prepared on first use */
    unsigned char *out; /* rt_codec_encode's result */
    size_t out_cap;
    char problem[64];  /* the store's meta 'problem', read on first use */
    int problem_read;
} rt_text_cache;

/* Encodes data (a text, or with packed a packed text) for the row being inserted into the BLOB
 * body c->out[0..*n), with base/base_len the text (or packed form) of row base_id as reference
 * (base NULL: a key row). Returns 0, or RT_ENOMEM. */
int rt_codec_encode(rt_text_cache *c, int packed, const void *data, size_t len, const void *base,
                    size_t base_len, long long base_id, size_t *n);
/* The packed form of text by the store's problem, checked to unpack to text exactly, into out
 * (reset first). Returns 0, or nonzero when the text is kept unpacked (no packer, a text it
 * does not pack, out of memory). */
int rt_db_text_pack(rt_db *db, const char *text, size_t len, rt_buf *out);
/* The handle's cache, made on first use; NULL when out of memory. */
rt_text_cache *rt_db_text_cache(rt_db *db);

/* The text of row id, decoded (bases first) and hash-checked, as a malloc'd NUL-terminated
 * string (the caller frees it). Returns 0, RT_ESTORE (with db's message) when the row is missing
 * or its text cannot be decoded or does not match its hash, RT_ENOMEM. */
int rt_db_text(rt_db *db, long long id, char **text, size_t *len);

/* The text of a column value already read from row id: a copy of a TEXT value, or the decoded
 * BLOB as in rt_db_text. */
int rt_db_text_value(rt_db *db, long long id, sqlite3_value *v, char **text, size_t *len);

/* The writer's side: the cached entry for the row whose hash is hash, or NULL. */
const rt_text_entry *rt_db_text_find(rt_db *db, const char *hash);
/* Reads the text of the row whose hash is hash into the cache (the writer's parent, when it no
 * longer holds it). Returns 0, or an error when there is no such row or it cannot be read. */
int rt_db_text_fetch(rt_db *db, const char *hash);
/* Remembers a row's text (a copy); out of memory only forgets it. */
void rt_db_text_remember(rt_db *db, long long id, const char *hash, int depth, const char *text,
                         size_t len, const unsigned char *packed, size_t plen);
/* Forgets every text (after a rollback: rows may be gone), and with contexts the zstd contexts
 * and the statement too (before the connection closes). */
void rt_db_text_forget(rt_db *db, int contexts);

#endif
