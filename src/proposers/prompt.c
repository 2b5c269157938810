/* prompt.c — the JSON prompt of proposers that write programs (contract in prompt.h). */
#include "proposers/prompt.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const char rt_prompt_edit_format[] =
    "Reply with the changes as SEARCH/REPLACE blocks: a line '<<<<<<< SEARCH', the exact lines "
    "to find, a line '=======', the lines to put instead, a line '>>>>>>> REPLACE'. Each SEARCH "
    "text must occur exactly once inside the editable regions. Or reply with the whole new "
    "program, keeping every line outside the editable regions unchanged.";

static const char editable_note[] =
    "Only the text between lines containing EVOLVE-BLOCK-START and EVOLVE-BLOCK-END may change; "
    "without such lines, the whole program may.";

/* A JSON string of bytes that may not be UTF-8: invalid sequences become U+FFFD. */
static json_t *text_string(const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    if (j)
        return j;
    char *fixed = malloc(3 * len + 1);
    if (!fixed)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = n > 0 && i + n <= len && c != 0;
        for (size_t k = 1; ok && k < n; k++)
            ok = ((unsigned char)s[i + k] >> 6) == 2;
        if (ok && n > 1) {
            json_t *probe = json_stringn(s + i, n); /* overlong forms and surrogates */
            ok = probe != NULL;
            json_decref(probe);
        }
        if (ok) {
            memcpy(fixed + w, s + i, n);
            w += n;
            i += n;
        } else {
            memcpy(fixed + w, "\xEF\xBF\xBD", 3);
            w += 3;
            i++;
        }
    }
    j = json_stringn(fixed, w);
    free(fixed);
    return j;
}

static json_t *view_json(const rt_candidate_view *v)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "program", text_string(v->text ? v->text : "", v->text ? v->len : 0));
    json_object_set_new(o, "hash", json_string(v->hash ? v->hash : ""));
    json_object_set_new(o, "score", json_real(v->score.primary));
    if (v->metrics) {
        json_t *m = json_loads(v->metrics, 0, NULL);
        if (m)
            json_object_set_new(o, "metrics", m);
    }
    if (v->artifacts) {
        json_t *a = json_loads(v->artifacts, 0, NULL);
        if (a)
            json_object_set_new(o, "artifacts", a);
    }
    return o;
}

int rt_prompt_json(const rt_propose_ctx *ctx, uint64_t seed, rt_buf *out)
{
    json_t *root = json_object();
    json_t *insp = json_array();
    if (!root || !insp) {
        json_decref(root);
        json_decref(insp);
        return RT_ENOMEM;
    }
    json_object_set_new(root, "parent", view_json(&ctx->parent));
    for (size_t i = 0; i < ctx->ninspirations; i++)
        json_array_append_new(insp, view_json(&ctx->inspirations[i]));
    json_object_set_new(root, "inspirations", insp);
    json_object_set_new(root, "island", json_integer(ctx->island));
    json_object_set_new(root, "generation", json_integer(ctx->generation));
    json_object_set_new(root, "seed", json_integer((json_int_t)(seed >> 1)));
    if (ctx->ledger)
        json_object_set_new(root, "ledger", text_string(ctx->ledger, strlen(ctx->ledger)));
    json_object_set_new(root, "edit_format", json_string(rt_prompt_edit_format));
    json_object_set_new(root, "editable", json_string(editable_note));
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!s)
        return RT_ENOMEM;
    rt_buf_reset(out);
    int rc = rt_buf_puts(out, s);
    free(s);
    return rc;
}
