/* cert.h — writing certificate files (rt_store_certificate; the problems' certificate hooks). */
#ifndef RT_CERT_H
#define RT_CERT_H

#include <stddef.h>

/* Writes len bytes of data to dir/name, replacing a file there. Returns 0, or RT_EIO /
 * RT_EUSAGE (path too long) with err naming the file. */
int rt_cert_write(const char *dir, const char *name, const void *data, size_t len, char *err,
                  size_t errlen);

#endif
