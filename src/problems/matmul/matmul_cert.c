/* matmul_cert.c — writes a matmul certificate (see matmul_cert.h). The checker's source is
 * cert/check_matmul.c, turned into a string literal by the Makefile (check_matmul.inc), so the
 * program a certificate ships is the same file the tests compile and run. */
#include "problems/matmul/matmul_cert.h"

#include <stdio.h>
#include <string.h>

#include "audit/cert.h"
#include "util.h"

const char mm_checker_source[] =
#include "check_matmul.inc"
    ;

int mm_certificate_write(int n, int m, int p, int gf2, const char *text, size_t len,
                         const char *summary, const char *dir, char *err, size_t errlen)
{
    char hash[65];
    rt_sha256_hex(text, len, hash);
    int rc = rt_cert_write(dir, "scheme.exp", text, len, err, errlen);
    if (!rc)
        rc = rt_cert_write(dir, "check_scheme.c", mm_checker_source, strlen(mm_checker_source), err,
                        errlen);
    if (rc)
        return rc;
    rt_buf readme;
    rt_buf_init(&readme, 0);
    rc = rt_buf_printf(
        &readme,
        "A certificate from ratchet: a scheme for multiplying a %dx%d matrix by a %dx%d matrix\n"
        "over %s, and a checker that needs nothing but a C compiler.\n"
        "\n"
        "ratchet's verifier said: %s\n"
        "\n"
        "Check it yourself:\n"
        "\n"
        "    cc -std=c99 -O2 -o check_scheme check_scheme.c\n"
        "    ./check_scheme %d %d %d %s scheme.exp\n"
        "\n"
        "It prints VALID and exits 0 when every Brent equation holds, prints INVALID with the\n"
        "first failing equation and exits 1 otherwise (2: unreadable or malformed file).\n"
        "check_scheme.c says what it checks; read it, it is short.\n"
        "\n"
        "SHA-256 of scheme.exp (the hash ratchet's store records for it):\n"
        "    %s\n",
        n, m, m, p, gf2 ? "GF(2)" : "the integers", summary, n, m, p, gf2 ? "gf2" : "z", hash);
    if (rc)
        rc = rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    else
        rc = rt_cert_write(dir, "README.txt", readme.data, readme.len, err, errlen);
    rt_buf_free(&readme);
    return rc;
}
