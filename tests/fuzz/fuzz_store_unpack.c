/* fuzz_store_unpack.c — libFuzzer harness for the store's packed matmul texts (matmul_pack.c,
 * the reader of 'p' and 'q' rows after zstd, formats 4 to 6: pack versions 1 to 3, whose last
 * solves the C factors from the A and B factors of any bytes that claim it).
 *
 * Each input is tried both ways:
 * - as packed bytes: mm_unpack_text must return (0, or RT_EUSAGE/RT_ETOOBIG), and a text it
 *   writes must pack again and unpack to the same text;
 * - as a text: when mm_pack_text accepts it, unpacking must give exactly that text back.
 * Any other outcome calls abort() so that libFuzzer records the input.
 *
 * Build: make build/fuzz/fuzz_store_unpack (Makefile's FUZZ_SRC_fuzz_store_unpack).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "problems/matmul/matmul_pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Packs text and unpacks it again: the same text, or abort(). Returns 0 when it packed. */
static int pack_round_trip(const char *text, size_t len)
{
    rt_buf packed, back;
    rt_buf_init(&packed, 0);
    rt_buf_init(&back, 0);
    int rc = mm_pack_text(text, len, &packed);
    if (rc == 0) {
        if (mm_unpack_text((const unsigned char *)packed.data, packed.len, &back) != 0 ||
            back.len != len || memcmp(back.data, text, len) != 0)
            abort();
    } else if (rc != RT_EUSAGE && rc != RT_ENOMEM) {
        abort();
    }
    rt_buf_free(&packed);
    rt_buf_free(&back);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_buf text;
    rt_buf_init(&text, (size_t)1 << 20);
    int rc = mm_unpack_text(data, size, &text);
    if (rc == 0) {
        if (pack_round_trip(text.data ? text.data : "", text.len) != 0)
            abort(); /* what unpacking writes is canonical: it packs */
    } else if (rc != RT_EUSAGE && rc != RT_ETOOBIG && rc != RT_ENOMEM) {
        abort();
    }
    rt_buf_free(&text);
    pack_round_trip((const char *)data, size);
    return 0;
}
