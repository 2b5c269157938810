/* util.h — small shared helpers: capped growable buffers, error text, clocks.
 *
 * Ownership: an rt_buf owns its bytes; rt_buf_free releases them. Every buffer has a cap
 * (cap_bytes); an append that would pass it fails with RT_ETOOBIG and leaves the buffer as it was.
 */
#ifndef RT_UTIL_H
#define RT_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ratchet.h"

typedef struct rt_buf {
    char *data;       /* NUL-terminated when len > 0 or after rt_buf_cstr */
    size_t len;
    size_t alloc;
    size_t cap_bytes; /* 0 means RT_BUF_DEFAULT_CAP */
} rt_buf;

#define RT_BUF_DEFAULT_CAP ((size_t)64 << 20)

void rt_buf_init(rt_buf *b, size_t cap_bytes);
void rt_buf_free(rt_buf *b);
void rt_buf_reset(rt_buf *b);
int rt_buf_append(rt_buf *b, const void *data, size_t len);
int rt_buf_puts(rt_buf *b, const char *s);
int rt_buf_printf(rt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns a NUL-terminated view (an empty string for an empty buffer). */
const char *rt_buf_cstr(rt_buf *b);
/* Moves the bytes out: the caller owns the returned string (free()); the buffer is left empty. */
char *rt_buf_take(rt_buf *b);

/* Formats into err (errlen bytes, always NUL-terminated) and returns code. err may be NULL. */
int rt_fail(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The last bytes of s[0..len) that fit in out[outlen] as one printable line: trailing blank
 * lines dropped, newlines shown as " | ", other control and non-ASCII bytes as '?'; starts with
 * "..." when cut. Empty for an empty s. */
void rt_tail_line(const char *s, size_t len, char *out, size_t outlen);

/* Monotonic seconds, for budgets and rates. */
double rt_now(void);

/* Long in-process work (a matmul walker run, a lift) asks now and then whether to stop. The
 * engine sets, on the thread that runs a proposal, the run's stop flag and the session's deadline
 * (rt_now()'s clock; 0: none) around it; NULL ends the scope. rt_work_cut() is 1 when the flag is
 * raised or the deadline has passed, and counts each such answer: rt_work_cuts() says whether
 * the work since the scope was set was cut short (its result is then not that of the work
 * asked for, and the engine drops it). Outside a scope the work is never cut. */
void rt_work_scope(const volatile int *stop, double deadline);
int rt_work_cut(void);
int rt_work_cuts(void);

/* Reads a whole file of at most max_bytes into a fresh NUL-terminated string (caller frees).
 * Returns 0, RT_EIO (unreadable; err names the path and the reason) or RT_ETOOBIG. */
int rt_read_file(const char *path, size_t max_bytes, char **out, size_t *len, char *err, size_t errlen);

/* SHA-256 of data as 64 lowercase hex digits plus NUL into hex[65]. */
void rt_sha256_hex(const void *data, size_t len, char hex[65]);

/* Appends " key=value" (no blank before the first) at buf + *at, cap bytes in all, with blanks,
 * '%' and control bytes of value written as %XX, so that canonical parameters split on blanks;
 * moves *at past it. Returns 0, or -1 when it does not fit. */
int rt_canon_put(char *buf, size_t cap, size_t *at, const char *key, const char *value);

/* v as the shortest text that reads back as exactly v: an integer below 1e15 in plain digits,
 * else the shortest "%.*g". */
void rt_format_real(double v, char *buf, size_t len);

/* Parses a whole decimal integer in [lo, hi]; returns 0 or RT_EUSAGE. */
int rt_parse_long(const char *s, long lo, long hi, long *out);
/* Parses a whole finite decimal number in [lo, hi]; returns 0 or RT_EUSAGE. */
int rt_parse_double(const char *s, double lo, double hi, double *out);

#endif
