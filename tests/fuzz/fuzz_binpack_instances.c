/* fuzz_binpack_instances.c — libFuzzer harness for the binpack instance reader (FunSearch's
 * JSON). Whatever the input, bp_read_json returns 0 or a code with a one-line message; when it
 * accepts, every instance has a capacity in range and sizes in 1..capacity, and writing the set
 * and reading it back gives the same instances. Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "problems/binpack/bp_inst.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_set(const bp_set *s)
{
    for (int k = 0; k < s->n; k++) {
        const bp_instance *in = &s->inst[k];
        if (in->capacity < 1 || in->capacity > BP_MAX_CAPACITY || in->n < 1)
            abort();
        for (int i = 0; i < in->n; i++)
            if (in->items[i] < 1 || in->items[i] > in->capacity)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bp_set set, back;
    char err[512];
    int rc = bp_read_json((const char *)data, size, "fuzz", &set, err, sizeof err);
    if (rc) {
        if (rc >= 0 || !err[0] || strchr(err, '\n'))
            abort();
        return 0;
    }
    check_set(&set);
    rt_buf out;
    rt_buf_init(&out, 0);
    if (bp_write_json(&set, &out) || bp_read_json(out.data, out.len, "back", &back, err,
                                                  sizeof err))
        abort();
    if (back.n != set.n)
        abort();
    for (int k = 0; k < set.n; k++)
        if (strcmp(back.inst[k].name, set.inst[k].name) || back.inst[k].n != set.inst[k].n ||
            back.inst[k].capacity != set.inst[k].capacity ||
            memcmp(back.inst[k].items, set.inst[k].items,
                   (size_t)set.inst[k].n * sizeof(int)) != 0)
            abort();
    bp_set_free(&back);
    bp_set_free(&set);
    rt_buf_free(&out);
    return 0;
}
