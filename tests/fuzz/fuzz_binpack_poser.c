/* fuzz_binpack_poser.c — libFuzzer harness for the poser text format (bp_poser.h).
 *
 * Whatever the input, bp_spec_parse returns 0 or a code with a one-line message. When it accepts,
 * the canonical text parses back to the same canonical text, and the poser's check runs on it:
 * the generated instance has every size in 1..capacity, the checked reference packing is at or
 * above the lower bound, and best fit is too. Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "problems/binpack/bp_poser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bp_spec s, back;
    char err[300];
    int rc = bp_spec_parse((const char *)data, size, &s, err, sizeof err);
    if (rc) {
        if (rc >= 0 || !err[0] || strchr(err, '\n'))
            abort();
        return 0;
    }
    rt_buf a, b;
    rt_buf_init(&a, 0);
    rt_buf_init(&b, 0);
    if (bp_spec_print(&s, &a) || bp_spec_parse(a.data, a.len, &back, err, sizeof err) ||
        bp_spec_print(&back, &b) || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    bp_poser_facts f;
    bp_instance in;
    if (bp_poser_check(a.data, a.len, &f, &in, err, sizeof err))
        abort();
    if (in.n != s.items || in.capacity != s.capacity)
        abort();
    for (int i = 0; i < in.n; i++)
        if (in.items[i] < 1 || in.items[i] > in.capacity)
            abort();
    if (f.reference < f.lower || f.best_fit < f.lower || f.lower < f.l1)
        abort();
    free(in.items);
    rt_buf_free(&a);
    rt_buf_free(&b);
    return 0;
}
