/* cert.c — writing certificate files. */
#include "audit/cert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

int rt_cert_write(const char *dir, const char *name, const void *data, size_t len, char *err,
                  size_t errlen)
{
    char path[4200];
    int k = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= sizeof path)
        return rt_fail(err, errlen, RT_EUSAGE, "certificate folder path too long");
    FILE *f = fopen(path, "wb");
    if (!f)
        return rt_fail(err, errlen, RT_EIO, "cannot write %s: %s", path, strerror(errno));
    size_t put = len ? fwrite(data, 1, len, f) : 0;
    int bad = put != len;
    if (fclose(f) != 0)
        bad = 1;
    if (bad)
        return rt_fail(err, errlen, RT_EIO, "cannot write %s: %s", path, strerror(errno));
    return 0;
}
