/* fuzz_matmul_parse.c — libFuzzer harness for the matmul scheme readers.
 *
 * Feeds each input to mm_parse_any for the 3x3x3 shape. Whatever the input, the parser must
 * return (0, or a negative code with a message); when it accepts, the scheme must survive
 * print_exp -> parse and print_json -> parse with the same coefficients, and the verifier must
 * run. Any other outcome calls abort() so that libFuzzer records the input.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *          tests/fuzz/fuzz_matmul_parse.c src/problems/matmul_plain.c src/util.c \
 *          $(pkg-config --cflags --libs jansson libcrypto)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "problems/matmul/matmul_plain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns 1 if a and b hold the same shape, rank and coefficients. */
static int same_scheme(const mm_plain *a, const mm_plain *b)
{
    if (a->n != b->n || a->m != b->m || a->p != b->p || a->rank != b->rank)
        return 0;
    size_t cells = (size_t)a->rank * (size_t)mm_plain_width(a->n, a->m, a->p);
    return memcmp(a->coef, b->coef, cells * sizeof(int64_t)) == 0;
}

/* Prints s in one format (json: 0 = .exp, 1 = JSON), parses it back and compares. Aborts on any
 * difference. */
static void check_round_trip(const mm_plain *s, int json)
{
    rt_buf text;
    rt_buf_init(&text, 0);
    int rc = json ? mm_print_json(s, MM_Z, &text) : mm_print_exp(s, &text);
    if (rc)
        abort();
    mm_plain back;
    char err[512];
    rc = mm_parse_any(text.data, text.len, s->n, s->m, s->p, &back, err, sizeof err);
    if (rc || !same_scheme(s, &back))
        abort();
    mm_plain_free(&back);
    rt_buf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_plain s;
    char err[512];
    err[0] = '\0';
    int rc = mm_parse_any((const char *)data, size, 3, 3, 3, &s, err, sizeof err);
    if (rc > 0 || (rc < 0 && (err[0] == '\0' || s.coef != NULL)))
        abort();
    if (rc < 0)
        return 0;
    check_round_trip(&s, 0);
    check_round_trip(&s, 1);
    mm_check c;
    if (mm_verify(&s, MM_Z, &c) || mm_verify(&s, MM_GF2, &c))
        abort();
    mm_plain_free(&s);
    return 0;
}
