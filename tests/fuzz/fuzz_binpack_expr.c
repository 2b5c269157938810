/* fuzz_binpack_expr.c — libFuzzer harness for the binpack expression language.
 *
 * Feeds each input to both parsers: the search's (bp_parse) and the verifier's (bp_ctree_parse).
 * They must agree on accepting it; when they accept, the canonical text must parse back to the
 * same expression and print the same, and the compiled evaluator's packing of a small fixed
 * instance (bp_sim_run) must use exactly as many bins as the verifier's checked naive packing.
 * Any other outcome calls abort() so that libFuzzer records the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "problems/binpack/bp_check.h"
#include "problems/binpack/bp_expr.h"
#include "problems/binpack/bp_sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int items[40] = {7, 3, 9, 2, 2, 8, 5, 5, 1, 10, 4, 6, 3, 3, 9, 7, 2, 8, 1, 1,
                        6, 6, 4, 5, 10, 9, 2, 3, 7, 7, 5, 4, 8, 2, 1, 9, 3, 6, 5, 10};

static void check_counts(const bp_expr *e, const char *text, size_t len)
{
    bp_instance in = {.capacity = 12, .n = 40, .items = items};
    bp_prog prog;
    bp_compile(e, &prog);
    bp_sim *sim = bp_sim_new();
    long long fast = sim ? bp_sim_run(sim, &prog, &in, NULL) : -1;
    long long scan = sim ? bp_sim_run_scan(sim, &prog, &in, NULL) : -1;
    bp_sim_free(sim);
    bp_ctree *t = NULL;
    char err[256];
    if (bp_ctree_parse(text, len, &t, err, sizeof err))
        abort();
    bp_packing p;
    if (bp_check_pack(t, &in, &p, err, sizeof err))
        abort();
    if (fast != p.nbins || scan != p.nbins)
        abort();
    bp_packing_free(&p);
    bp_ctree_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char err[256];
    bp_expr e, back;
    int rc = bp_parse(text, size, &e, err, sizeof err);
    bp_ctree *t = NULL;
    int rc2 = bp_ctree_parse(text, size, &t, err, sizeof err);
    bp_ctree_free(t);
    if ((rc == 0) != (rc2 == 0))
        abort();
    if (rc)
        return 0;
    rt_buf out, out2;
    rt_buf_init(&out, 0);
    rt_buf_init(&out2, 0);
    if (bp_print(&e, &out) || bp_parse(out.data, out.len, &back, err, sizeof err) ||
        !bp_equal(&e, &back) || bp_print(&back, &out2) || out.len != out2.len ||
        memcmp(out.data, out2.data, out.len) != 0)
        abort();
    check_counts(&e, out.data, out.len);
    rt_buf_free(&out);
    rt_buf_free(&out2);
    return 0;
}
