/* fuzz_policy_parse.c — libFuzzer harness for the policy file reader (src/policy.c).
 *
 * Whatever the input, rt_policy_parse must return 0 or a negative code with a one-line message;
 * when it accepts, the policy must validate, and print -> parse must give the same policy back
 * (byte-identical canonical text). A failed parse must leave the policy it was given unchanged.
 * The same bytes go to the shipped default's reader (rt_policy_defaults_text, with layers and
 * scopes): a one-line error and *p unchanged, or a valid policy; the head (every layer) and a
 * run's view of the same text must agree on whether the text is good.
 * Any other outcome calls abort() so that libFuzzer records the input.
 *
 * Build: see `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "problem.h"
#include "problems/matmul/matmul_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The registry as far as the policy reads it (the real one, problem.c, would bring in every
 * problem): matmul's section of knobs and the fields its scopes may name. */
static const rt_problem_class matmul_knobs = {
    .name = "matmul", .knobs = &mm_policy_section, .scope_fields = "z gf2"};

const rt_problem_class *rt_problem_class_at(size_t i) { return i == 0 ? &matmul_knobs : NULL; }
const rt_problem_class *rt_problem_class_find(const char *name)
{
    return name && strcmp(name, "matmul") == 0 ? &matmul_knobs : NULL;
}

static void fuzz_layers(const uint8_t *data, size_t size)
{
    rt_policy p, before, q;
    memset(&p, 0x3c, sizeof p);
    before = p;
    char err[256] = "";
    int rc = rt_policy_defaults_text(&p, (const char *)data, size, NULL, 0, NULL, err, sizeof err);
    if (rc) {
        if (rc >= 0 || !err[0] || strchr(err, '\n') || memcmp(&p, &before, sizeof p) != 0)
            abort();
    } else if (rt_policy_validate(&p, err, sizeof err)) {
        abort();
    }
    int rc2 = rt_policy_defaults_text(&q, (const char *)data, size, "matmul", 27, "gf2", err,
                                      sizeof err);
    if ((rc == 0) != (rc2 == 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_layers(data, size);
    rt_policy p, before;
    rt_policy_defaults(&p);
    before = p;
    char err[256] = "";
    int rc = rt_policy_parse(&p, (const char *)data, size, err, sizeof err);
    if (rc) {
        if (rc >= 0 || !err[0] || strchr(err, '\n'))
            abort();
        rt_buf x, y;
        rt_buf_init(&x, 0);
        rt_buf_init(&y, 0);
        if (rt_policy_print(&p, &x) || rt_policy_print(&before, &y) || x.len != y.len ||
            memcmp(x.data, y.data, x.len) != 0)
            abort();
        rt_buf_free(&x);
        rt_buf_free(&y);
        return 0;
    }
    if (rt_policy_validate(&p, err, sizeof err))
        abort();
    rt_buf a, b;
    rt_buf_init(&a, 0);
    rt_buf_init(&b, 0);
    if (rt_policy_print(&p, &a))
        abort();
    rt_policy q;
    rt_policy_defaults(&q);
    if (rt_policy_parse(&q, a.data, a.len, err, sizeof err))
        abort();
    if (rt_policy_print(&q, &b) || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    rt_buf_free(&a);
    rt_buf_free(&b);
    return 0;
}
