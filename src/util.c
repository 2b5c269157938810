/* util.c — capped buffers, error formatting, clocks, file reading, hashing, number parsing. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void rt_buf_init(rt_buf *b, size_t cap_bytes)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap_bytes = cap_bytes ? cap_bytes : RT_BUF_DEFAULT_CAP;
}

void rt_buf_free(rt_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

void rt_buf_reset(rt_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for extra more bytes plus a NUL. */
static int buf_reserve(rt_buf *b, size_t extra)
{
    if (b->cap_bytes == 0)
        b->cap_bytes = RT_BUF_DEFAULT_CAP;
    if (extra > b->cap_bytes || b->len > b->cap_bytes - extra)
        return RT_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n *= 2;
    char *p = realloc(b->data, n);
    if (!p)
        return RT_ENOMEM;
    b->data = p;
    b->alloc = n;
    return 0;
}

int rt_buf_append(rt_buf *b, const void *data, size_t len)
{
    int rc = buf_reserve(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int rt_buf_puts(rt_buf *b, const char *s)
{
    return rt_buf_append(b, s, strlen(s));
}

int rt_buf_printf(rt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return RT_EINTERNAL;
    int rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

const char *rt_buf_cstr(rt_buf *b)
{
    return b->data ? b->data : "";
}

char *rt_buf_take(rt_buf *b)
{
    char *p = b->data;
    if (!p) {
        p = malloc(1);
        if (p)
            p[0] = '\0';
    }
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}

int rt_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

double rt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static _Thread_local const volatile int *work_stop;
static _Thread_local double work_deadline;
static _Thread_local int work_cuts;

void rt_work_scope(const volatile int *stop, double deadline)
{
    work_stop = stop;
    work_deadline = stop ? deadline : 0;
    work_cuts = 0;
}

int rt_work_cut(void)
{
    if (!work_stop)
        return 0;
    int cut = *work_stop || (work_deadline > 0 && rt_now() >= work_deadline);
    work_cuts += cut;
    return cut;
}

int rt_work_cuts(void) { return work_cuts; }

int rt_read_file(const char *path, size_t max_bytes, char **out, size_t *len, char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rt_fail(err, errlen, RT_EIO, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return rt_fail(err, errlen, RT_EIO, "cannot read %s: it is a directory", path);
    }
    rt_buf b;
    rt_buf_init(&b, max_bytes);
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            rt_buf_free(&b);
            return rt_fail(err, errlen, RT_EIO, "cannot read %s: %s", path, strerror(e));
        }
        if (n == 0)
            break;
        int rc = rt_buf_append(&b, chunk, (size_t)n);
        if (rc) {
            close(fd);
            rt_buf_free(&b);
            if (rc == RT_ETOOBIG)
                return rt_fail(err, errlen, rc, "%s is larger than %zu bytes", path, max_bytes);
            return rt_fail(err, errlen, rc, "out of memory reading %s", path);
        }
    }
    close(fd);
    *len = b.len;
    *out = rt_buf_take(&b);
    return *out ? 0 : rt_fail(err, errlen, RT_ENOMEM, "out of memory reading %s", path);
}

void rt_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        memset(md, 0, sizeof md); /* only on a broken libcrypto; hashes then never match */
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

int rt_parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return RT_EUSAGE;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return RT_EUSAGE;
    *out = v;
    return 0;
}

int rt_parse_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s)
        return RT_EUSAGE;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi)
        return RT_EUSAGE;
    *out = v;
    return 0;
}

void rt_tail_line(const char *s, size_t len, char *out, size_t outlen)
{
    if (!outlen)
        return;
    out[0] = '\0';
    if (!s)
        return;
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
        len--;
    if (!len || outlen < 8)
        return;
    /* walk back until the rendered text would not fit (a newline takes 3 bytes) */
    size_t room = outlen - 1, need = 0, from = len;
    while (from > 0) {
        size_t w = s[from - 1] == '\n' ? 3 : 1;
        if (need + w > room - 3)
            break;
        need += w;
        from--;
    }
    size_t k = 0;
    if (from > 0)
        k += (size_t)snprintf(out, outlen, "...");
    for (size_t i = from; i < len && k + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            if (k + 4 > outlen)
                break;
            memcpy(out + k, " | ", 3);
            k += 3;
        } else {
            out[k++] = c >= 32 && c < 127 ? (char)c : '?';
        }
    }
    out[k] = '\0';
}

int rt_canon_put(char *buf, size_t cap, size_t *at, const char *key, const char *value)
{
    int k = snprintf(buf + *at, cap - *at, "%s%s=", *at ? " " : "", key);
    if (k < 0 || (size_t)k >= cap - *at)
        return -1;
    *at += (size_t)k;
    for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
        if (*at + 4 >= cap)
            return -1;
        if (*v <= ' ' || *v == '%' || *v == 0x7f)
            *at += (size_t)snprintf(buf + *at, cap - *at, "%%%02X", *v);
        else
            buf[(*at)++] = (char)*v;
    }
    buf[*at] = '\0';
    return 0;
}

void rt_format_real(double v, char *buf, size_t len)
{
    if (v == nearbyint(v) && fabs(v) < 1e15) {
        snprintf(buf, len, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}
