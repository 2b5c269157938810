/* fuzz_research.c — libFuzzer harness for the research problem's readers of untrusted bytes: the
 * metric reader (a training program's output), the log scrubber, the bundle splitter (a
 * proposer's text) and the change description. The first byte picks the target; the rest is the
 * input (for the description, split at the first NUL into parent and child). Crashes, sanitizer
 * reports and broken invariants (assert) are findings. Built and run by `make fuzz` and, briefly,
 * by `make test`. */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "problems/research/research.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void split_check(const char *s, size_t n)
{
    static const char *const names[] = {"train.py", "model/opt.c", "x"};
    rt_research_part parts[3];
    char why[300];
    for (size_t k = 1; k <= 3; k++) {
        if (rt_research_split(s, n, k, names, parts, why, sizeof why) != 0)
            continue;
        size_t total = 0;
        for (size_t i = 0; i < k; i++) {
            assert(parts[i].data >= s && parts[i].data + parts[i].len <= s + n);
            total += parts[i].len;
        }
        assert(total <= n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    double v = 0;
    rt_buf out;
    rt_buf_init(&out, 0);
    switch (data[0] % 4) {
    case 0:
        if (rt_research_find_metric(s, n, "val_bpb", &v))
            assert(isfinite(v));
        break;
    case 1:
        assert(rt_research_scrub(s, n, "test_bpb", &out) == 0);
        assert(out.len <= n);
        break;
    case 2:
        split_check(s, n);
        break;
    default: {
        const char *nul = memchr(s, '\0', n);
        size_t a = nul ? (size_t)(nul - s) : n / 2;
        char line[200];
        rt_research_describe(s, a, s + a, n - a, line, sizeof line);
        assert(strlen(line) < sizeof line);
        break;
    }
    }
    rt_buf_free(&out);
    return 0;
}
