/* input.c — reading the files commands are given: candidates (verify, lift) and policy files
 * (run --policy, policy show). Every read has a cap; messages name the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define POLICY_MAX 65536

int input_read(const char *path, size_t limit, char **out, size_t *len, char *msg,
               size_t msglen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(msg, msglen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    int rc = 0;
    while (buf) {
        if (n == cap) {
            if (cap >= limit) {
                snprintf(msg, msglen, "%s is larger than %zu bytes", path, limit);
                rc = -1;
                break;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(msg, msglen, "cannot read %s: %s", path, strerror(errno));
                rc = -1;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (!buf) {
        snprintf(msg, msglen, "out of memory reading %s", path);
        return -1;
    }
    if (rc) {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int input_read_policy(const char *path, const char *what, char **out, size_t *len, char *msg,
                      size_t msglen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(msg, msglen, "cannot read %s%s: %s", what, path, strerror(errno));
        return -1;
    }
    size_t cap = POLICY_MAX + 1, n = 0;
    char *buf = malloc(cap + 1);
    if (buf)
        n = fread(buf, 1, cap, f);
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad || n == cap || memchr(buf, '\0', n)) {
        snprintf(msg, msglen, "%s%s: %s", what, path,
                 bad ? "cannot read it" : n == cap ? "over 64 KiB" : "contains a NUL byte");
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}
