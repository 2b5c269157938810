/* matmul_cert.h — certificates for matmul: the scheme and a checker that needs no ratchet. */
#ifndef RT_MATMUL_CERT_H
#define RT_MATMUL_CERT_H

#include <stddef.h>

/* Writes into the existing folder dir: scheme.exp (the canonical text), check_scheme.c (the
 * standalone checker, cert/check_matmul.c, embedded at build time) and README.txt (how to build
 * and run it, and the scheme's SHA-256). n, m, p and gf2 describe the problem. Returns 0, or
 * RT_EIO with err naming the file. */
int mm_certificate_write(int n, int m, int p, int gf2, const char *text, size_t len,
                         const char *summary, const char *dir, char *err, size_t errlen);

/* The checker's source (NUL-terminated). */
extern const char mm_checker_source[];

#endif
