/* llm_reply.c — reading what a chat completions server sent back: the JSON body (choices[0]
 * .message.content, usage, finish_reason) and the edit inside the content (SEARCH/REPLACE
 * blocks or a whole program). Every input here is untrusted bytes from the network. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proposers/llm/llm.h"

static const char *const outcome_names[RT_LLM_OUTCOMES] = {
    "ok",        "connect", "timeout", "http",        "malformed", "truncated",
    "empty",     "toobig",  "no-edit", "not-applied", "budget",
};

const char *rt_llm_outcome_name(int outcome)
{
    if (outcome < 0 || outcome >= RT_LLM_OUTCOMES)
        return "?";
    return outcome_names[outcome];
}

void rt_llm_reply_free(rt_llm_reply *reply)
{
    if (!reply)
        return;
    free(reply->content);
    reply->content = NULL;
    reply->len = 0;
}

/* A usage count: a non-negative integer below 2^40, else -1. */
static long long usage_count(json_t *usage, const char *key)
{
    json_t *v = usage ? json_object_get(usage, key) : NULL;
    if (!json_is_integer(v))
        return -1;
    json_int_t n = json_integer_value(v);
    return n >= 0 && n < ((json_int_t)1 << 40) ? (long long)n : -1;
}

int rt_llm_parse_reply(const char *body, size_t len, rt_llm_reply *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->tokens_in = out->tokens_out = -1;
    if (len > RT_LLM_MAX_BODY)
        return rt_fail(err, errlen, RT_ETOOBIG, "reply of %zu bytes is over the cap of %zu",
                       len, RT_LLM_MAX_BODY);
    json_error_t jerr;
    /* JSON_REJECT_DUPLICATES: a body that says two things is not trusted to mean either */
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!root)
        return rt_fail(err, errlen, RT_EUSAGE, "reply is not JSON (line %d: %s)", jerr.line,
                       jerr.text);
    int rc = RT_EUSAGE;
    if (!json_is_object(root)) {
        rt_fail(err, errlen, rc, "reply is not a JSON object");
        goto done;
    }
    json_t *error = json_object_get(root, "error");
    if (error) {
        json_t *msg = json_is_object(error) ? json_object_get(error, "message") : error;
        rt_fail(err, errlen, rc, "server error: %.200s",
                json_is_string(msg) ? json_string_value(msg) : "(no message)");
        goto done;
    }
    json_t *choices = json_object_get(root, "choices");
    if (!json_is_array(choices) || json_array_size(choices) == 0) {
        rt_fail(err, errlen, rc, "reply has no choices");
        goto done;
    }
    json_t *choice = json_array_get(choices, 0);
    json_t *message = json_is_object(choice) ? json_object_get(choice, "message") : NULL;
    if (!json_is_object(message)) {
        rt_fail(err, errlen, rc, "reply's first choice has no message");
        goto done;
    }
    json_t *content = json_object_get(message, "content");
    if (content && !json_is_string(content) && !json_is_null(content)) {
        rt_fail(err, errlen, rc, "reply's message content is not a string");
        goto done;
    }
    json_t *finish = json_object_get(choice, "finish_reason");
    if (json_is_string(finish))
        snprintf(out->finish, sizeof out->finish, "%s", json_string_value(finish));
    json_t *usage = json_object_get(root, "usage");
    out->tokens_in = usage_count(json_is_object(usage) ? usage : NULL, "prompt_tokens");
    out->tokens_out = usage_count(json_is_object(usage) ? usage : NULL, "completion_tokens");
    const char *text = json_is_string(content) ? json_string_value(content) : "";
    size_t n = json_is_string(content) ? json_string_length(content) : 0;
    out->content = malloc(n + 1);
    if (!out->content) {
        rc = rt_fail(err, errlen, RT_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(out->content, text, n);
    out->content[n] = '\0';
    out->len = n;
    rc = 0;
done:
    json_decref(root);
    return rc;
}

/* ---- edits ------------------------------------------------------------------------------- */

/* The line starting at p (up to end): its length without the newline, and where the next line
 * starts. A trailing '\r' is not part of the line. */
static size_t line_at(const char *s, size_t len, size_t p, size_t *next)
{
    const char *nl = memchr(s + p, '\n', len - p);
    size_t e = nl ? (size_t)(nl - s) : len;
    *next = nl ? e + 1 : len;
    size_t n = e - p;
    if (n && s[p + n - 1] == '\r')
        n--;
    return n;
}

/* Whether the line s[p..p+n) is exactly the marker, ignoring trailing spaces, tabs and CRs: the
 * same rule as the applier's (program_text.c), so that the two never disagree on which lines
 * are markers (a disagreement would let a partly malformed reply through as its good part). */
static int is_marker(const char *s, size_t p, size_t n, const char *marker)
{
    size_t m = strlen(marker);
    if (n < m || memcmp(s + p, marker, m) != 0)
        return 0;
    for (size_t i = m; i < n; i++)
        if (s[p + i] != ' ' && s[p + i] != '\t' && s[p + i] != '\r')
            return 0;
    return 1;
}

static int extract_diff(const char *s, size_t len, size_t *start, size_t *span, int *nblocks,
                        char *err, size_t errlen)
{
    enum { OUTSIDE, SEARCH, REPLACE } state = OUTSIDE;
    size_t p = 0, next, first = 0, last_end = 0, search_lines = 0, line_no = 0, open_line = 0;
    int blocks = 0;
    while (p < len) {
        size_t n = line_at(s, len, p, &next);
        line_no++;
        int open = is_marker(s, p, n, "<<<<<<< SEARCH");
        int mid = is_marker(s, p, n, "=======");
        int close = is_marker(s, p, n, ">>>>>>> REPLACE");
        switch (state) {
        case OUTSIDE:
            if (open) {
                if (!blocks)
                    first = p;
                state = SEARCH;
                search_lines = 0;
                open_line = line_no;
            } else if (mid || close) {
                return rt_fail(err, errlen, RT_EINVALID, "line %zu: '%.16s' outside a block",
                               line_no, mid ? "=======" : ">>>>>>> REPLACE");
            }
            break;
        case SEARCH:
            if (open || close)
                return rt_fail(err, errlen, RT_EINVALID,
                               "line %zu: block opened on line %zu has no '=======' line",
                               line_no, open_line);
            if (mid) {
                if (!search_lines)
                    return rt_fail(err, errlen, RT_EINVALID,
                                   "line %zu: block opened on line %zu has an empty SEARCH part",
                                   line_no, open_line);
                state = REPLACE;
            } else {
                search_lines++;
            }
            break;
        case REPLACE:
            if (open || mid)
                return rt_fail(err, errlen, RT_EINVALID,
                               "line %zu: block opened on line %zu is not closed", line_no,
                               open_line);
            if (close) {
                state = OUTSIDE;
                blocks++;
                last_end = next;
            }
            break;
        }
        p = next;
    }
    if (state != OUTSIDE)
        return rt_fail(err, errlen, RT_EINVALID, "block opened on line %zu is not closed "
                       "(reply cut short?)", open_line);
    if (!blocks)
        return rt_fail(err, errlen, RT_EINVALID, "no SEARCH/REPLACE block in the reply");
    *start = first;
    *span = last_end - first;
    *nblocks = blocks;
    return 0;
}

static int is_fence(const char *s, size_t p, size_t n)
{
    size_t i = 0;
    while (i < n && (s[p + i] == ' ' || s[p + i] == '\t'))
        i++;
    return n - i >= 3 && memcmp(s + p + i, "```", 3) == 0;
}

static int extract_full(const char *s, size_t len, size_t *start, size_t *span, int *nblocks,
                        char *err, size_t errlen)
{
    size_t p = 0, next, body = 0, best_start = 0, best_len = 0;
    int inside = 0, found = 0;
    while (p < len) {
        size_t n = line_at(s, len, p, &next);
        if (is_fence(s, p, n)) {
            if (!inside) {
                inside = 1;
                body = next;
            } else {
                inside = 0;
                if (!found || p - body > best_len) {
                    best_start = body;
                    best_len = p - body;
                }
                found = 1;
            }
        }
        p = next;
    }
    if (inside && !found)
        return rt_fail(err, errlen, RT_EINVALID, "code block is not closed (reply cut short?)");
    if (!found)
        return rt_fail(err, errlen, RT_EINVALID, "no fenced code block in the reply");
    size_t i = 0;
    while (i < best_len && (s[best_start + i] == ' ' || s[best_start + i] == '\n' ||
                            s[best_start + i] == '\r' || s[best_start + i] == '\t'))
        i++;
    if (i == best_len)
        return rt_fail(err, errlen, RT_EINVALID, "the rewritten program is empty");
    *start = best_start;
    *span = best_len;
    *nblocks = 1;
    return 0;
}

int rt_llm_extract_edit(const char *content, size_t len, rt_llm_mode mode, size_t *start,
                        size_t *span, int *nblocks, char *err, size_t errlen)
{
    *start = *span = 0;
    *nblocks = 0;
    if (!content || !len)
        return rt_fail(err, errlen, RT_EINVALID, "empty reply");
    if (mode == RT_LLM_DIFF)
        return extract_diff(content, len, start, span, nblocks, err, errlen);
    return extract_full(content, len, start, span, nblocks, err, errlen);
}
