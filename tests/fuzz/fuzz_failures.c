/* fuzz_failures.c — libFuzzer harness for the failure table's reader (src/failures.c), which
 * reads a store's meta "failures" text (untrusted: any bytes).
 *
 * Whatever the input, rt_failures_from_json must return 0 or RT_ESTORE, leave an empty table on
 * failure, and a table it accepts must write back and read back to the same counts. Any other
 * outcome calls abort() so that libFuzzer records the input.
 *
 * Build: see `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "failures.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_failures f, g;
    int rc = rt_failures_from_json(&f, (const char *)data, size);
    if (rc != 0 && rc != RT_ESTORE)
        abort();
    if (rc) {
        if (f.n != 0 || rt_failures_total(&f) != 0)
            abort();
        return 0;
    }
    if (f.n < 0 || f.n > RT_FAILURE_CAUSES)
        abort();
    rt_buf b;
    rt_buf_init(&b, 0);
    if (rt_failures_to_json(&f, &b) != 0)
        abort();
    if (rt_failures_from_json(&g, b.data, b.len) != 0 || g.n != f.n || g.cut != f.cut ||
        g.other != f.other)
        abort();
    rt_buf_free(&b);
    return 0;
}
