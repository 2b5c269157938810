/* fuzz_llm_reply.c — libFuzzer harness for what comes back from a chat completions server:
 * rt_llm_parse_reply on the raw body, then rt_llm_extract_edit in both modes on the content
 * (and on the raw bytes, as if they were content).
 *
 * Whatever the input, the parser returns 0 or a negative code with a message, never reads past
 * the body, and on success hands back a NUL-terminated content of the stated length; an
 * extracted edit lies inside the content, a diff span starts with a SEARCH line and ends with a
 * REPLACE line, and a failure leaves nothing to free. Anything else calls abort() so that
 * libFuzzer records the input.
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proposers/llm/llm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_extract(const char *c, size_t len)
{
    for (int mode = 0; mode < 2; mode++) {
        size_t start = 99, span = 99;
        int n = -1;
        char err[256];
        err[0] = '\0';
        int rc = rt_llm_extract_edit(c, len, (rt_llm_mode)mode, &start, &span, &n, err,
                                     sizeof err);
        if (rc == 0) {
            if (start > len || span > len - start || span == 0 || n < 1)
                abort();
            if (mode == RT_LLM_DIFF &&
                (span < 14 || memcmp(c + start, "<<<<<<< SEARCH", 14) != 0))
                abort();
        } else if (rc != RT_EINVALID || !err[0]) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so that a read past the body is caught */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    memcpy(body, data, size);
    rt_llm_reply r;
    char err[256];
    err[0] = '\0';
    int rc = rt_llm_parse_reply(body, size, &r, err, sizeof err);
    if (rc == 0) {
        if (!r.content || r.content[r.len] != '\0' || r.tokens_in < -1 || r.tokens_out < -1)
            abort();
        check_extract(r.content, r.len);
        rt_llm_reply_free(&r);
    } else {
        if ((rc != RT_EUSAGE && rc != RT_ETOOBIG && rc != RT_ENOMEM) || !err[0] || r.content)
            abort();
    }
    check_extract(body, size);
    free(body);
    return 0;
}
