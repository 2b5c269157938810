/* wire.c — the job and reply messages of MPI workers (wire.h). */
#include "mpi/wire.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratchet.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static json_t *hexfloat(double x)
{
    char b[64];
    snprintf(b, sizeof b, "%a", x);
    return json_string(b);
}

static int get_hexfloat(const json_t *o, const char *key, double *x)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s || !*s)
        return -1;
    char *end;
    *x = strtod(s, &end);
    return *end ? -1 : 0;
}

/* A JSON string of s, bytes that are not UTF-8 (the end of some program's stderr) made '?'. */
static json_t *text_json(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80 || (unsigned char)*c < 0x20)
            *c = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

static json_t *bytes(const char *s, size_t len)
{
    return s ? json_stringn(s, len) : json_null();
}

/* A copy of the string at key (NULL when absent or null); -1 when not a string or no memory. */
static int get_bytes(const json_t *o, const char *key, char **out, size_t *len)
{
    *out = NULL;
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    size_t n = json_string_length(v);
    *out = malloc(n + 1);
    if (!*out)
        return -1;
    memcpy(*out, json_string_value(v), n);
    (*out)[n] = '\0';
    if (len)
        *len = n;
    return 0;
}

static int get_text(const json_t *o, const char *key, char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        return -1;
    snprintf(out, cap, "%s", s);
    return 0;
}

static int get_int(const json_t *o, const char *key, long long lo, long long hi, long long *out)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return -1;
    *out = json_integer_value(v);
    return *out < lo || *out > hi ? -1 : 0;
}

static int get_rng(const json_t *o, const char *key, rt_rng *rng)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && strlen(s) == 64 ? rt_rng_from_hex(rng, s) : -1;
}

static json_t *rng_json(const rt_rng *rng)
{
    char hex[65];
    rt_rng_to_hex(rng, hex);
    return json_string(hex);
}

static int dump(json_t *o, rt_buf *out)
{
    if (!o)
        return RT_ENOMEM;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return RT_ENOMEM;
    int rc = rt_buf_puts(out, s);
    free(s);
    return rc ? RT_ENOMEM : 0;
}

static json_t *parse(const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (o && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    if (!o)
        rt_fail(err, errlen, RT_EUSAGE, "not a JSON object: %s", je.text);
    return o;
}

/* ---- the job ------------------------------------------------------------------------------ */

static json_t *view_json(const rt_wire_view *v)
{
    json_t *o = json_object(), *text = bytes(v->text ? v->text : "", v->len);
    if (!o || !text) {
        json_decref(o);
        json_decref(text);
        return NULL;
    }
    json_object_set_new(o, "text", text);
    json_object_set_new(o, "hash", json_string(v->hash));
    json_object_set_new(o, "primary", hexfloat(v->score.primary));
    json_object_set_new(o, "secondary", hexfloat(v->score.secondary));
    if (v->metrics)
        json_object_set_new(o, "metrics", text_json(v->metrics));
    if (v->artifacts)
        json_object_set_new(o, "artifacts", text_json(v->artifacts));
    return o;
}

int rt_wire_job_encode(const rt_wire_job *job, rt_buf *out)
{
    json_t *o = json_object(), *views = json_array();
    if (!o || !views) {
        json_decref(o);
        json_decref(views);
        return RT_ENOMEM;
    }
    json_object_set_new(o, "views", views);
    for (size_t k = 0; k < job->nviews; k++) {
        json_t *v = view_json(&job->views[k]);
        if (!v) { /* a text that is not UTF-8, or no memory */
            json_decref(o);
            return RT_EUSAGE;
        }
        json_array_append_new(views, v);
    }
    json_object_set_new(o, "island", json_integer(job->island));
    json_object_set_new(o, "generation", json_integer(job->generation));
    json_object_set_new(o, "op", json_integer(job->op_index));
    json_object_set_new(o, "rng", rng_json(&job->rng));
    return dump(o, out);
}

static int view_decode(const json_t *o, rt_wire_view *v)
{
    const char *hash = json_string_value(json_object_get(o, "hash"));
    if (!hash || strlen(hash) != 64)
        return -1;
    memcpy(v->hash, hash, 65);
    if (get_hexfloat(o, "primary", &v->score.primary) ||
        get_hexfloat(o, "secondary", &v->score.secondary))
        return -1;
    if (get_bytes(o, "text", &v->text, &v->len) || !v->text)
        return -1;
    if (get_bytes(o, "metrics", &v->metrics, NULL) || get_bytes(o, "artifacts", &v->artifacts, NULL))
        return -1;
    return 0;
}

int rt_wire_job_decode(const char *text, size_t len, rt_wire_job *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *o = parse(text, len, err, errlen);
    if (!o)
        return RT_EUSAGE;
    long long island = 0, generation = 0, op = 0;
    const char *bad = NULL;
    if (get_int(o, "island", 0, 63, &island))
        bad = "island";
    else if (get_int(o, "generation", 0, (long long)1 << 62, &generation))
        bad = "generation";
    else if (get_int(o, "op", 0, 1 << 20, &op))
        bad = "op";
    else if (get_rng(o, "rng", &out->rng))
        bad = "rng";
    const json_t *views = json_object_get(o, "views");
    size_t n = json_array_size(views);
    if (!bad && (n < 1 || n > RT_WIRE_MAX_VIEWS))
        bad = "views";
    for (size_t k = 0; !bad && k < n; k++) {
        out->nviews = k + 1;
        if (view_decode(json_array_get(views, k), &out->views[k]))
            bad = "views";
    }
    json_decref(o);
    if (bad) {
        rt_wire_job_free(out);
        return rt_fail(err, errlen, RT_EUSAGE, "job: bad or missing '%s'", bad);
    }
    out->island = (int)island;
    out->generation = generation;
    out->op_index = (int)op;
    return 0;
}

void rt_wire_job_free(rt_wire_job *job)
{
    for (size_t k = 0; k < job->nviews; k++) {
        free(job->views[k].text);
        free(job->views[k].metrics);
        free(job->views[k].artifacts);
    }
    memset(job, 0, sizeof *job);
}

/* ---- the reply ---------------------------------------------------------------------------- */

int rt_wire_reply_encode(const rt_wire_reply *r, rt_buf *out)
{
    json_t *o = json_object();
    if (!o)
        return RT_ENOMEM;
    json_object_set_new(o, "rc", json_integer(r->rc));
    json_object_set_new(o, "cut", json_boolean(r->cut));
    json_t *child = bytes(r->child, r->len);
    if (!child) { /* not UTF-8: JSON cannot carry it */
        json_decref(o);
        return RT_EUSAGE;
    }
    json_object_set_new(o, "child", child);
    json_object_set_new(o, "op", text_json(r->op));
    json_object_set_new(o, "work", json_integer(r->work));
    json_object_set_new(o, "rng", rng_json(&r->rng));
    json_object_set_new(o, "reason", text_json(r->reason));
    json_object_set_new(o, "detail", text_json(r->detail));
    json_object_set_new(o, "evaluated", json_boolean(r->evaluated));
    json_object_set_new(o, "failed", json_boolean(r->failed));
    json_object_set_new(o, "primary", hexfloat(r->score.primary));
    json_object_set_new(o, "secondary", hexfloat(r->score.secondary));
    json_object_set_new(o, "ev_reason", text_json(r->ev_reason));
    json_object_set_new(o, "ev_detail", text_json(r->ev_detail));
    json_object_set_new(o, "metrics", r->metrics ? text_json(r->metrics) : json_null());
    json_object_set_new(o, "artifacts", r->artifacts ? text_json(r->artifacts) : json_null());
    return dump(o, out);
}

/* The reply's fields into out; the name of the first bad one, or NULL. */
static const char *reply_fields(const json_t *o, rt_wire_reply *out)
{
    long long rc = 0, work = 0;
    if (get_int(o, "rc", -1000, 1000, &rc))
        return "rc";
    out->rc = (int)rc;
    if (get_int(o, "work", 0, (long long)1 << 62, &work))
        return "work";
    out->work = work;
    if (get_rng(o, "rng", &out->rng))
        return "rng";
    if (get_bytes(o, "child", &out->child, &out->len))
        return "child";
    if (get_text(o, "op", out->op, sizeof out->op))
        return "op";
    if (get_text(o, "reason", out->reason, sizeof out->reason) ||
        get_text(o, "detail", out->detail, sizeof out->detail))
        return "reason";
    if (!json_is_boolean(json_object_get(o, "cut")) ||
        !json_is_boolean(json_object_get(o, "evaluated")) ||
        !json_is_boolean(json_object_get(o, "failed")))
        return "cut";
    out->cut = json_is_true(json_object_get(o, "cut"));
    out->evaluated = json_is_true(json_object_get(o, "evaluated"));
    out->failed = json_is_true(json_object_get(o, "failed"));
    if (get_hexfloat(o, "primary", &out->score.primary) ||
        get_hexfloat(o, "secondary", &out->score.secondary))
        return "primary";
    if (get_text(o, "ev_reason", out->ev_reason, sizeof out->ev_reason) ||
        get_text(o, "ev_detail", out->ev_detail, sizeof out->ev_detail))
        return "ev_reason";
    if (get_bytes(o, "metrics", &out->metrics, NULL) ||
        get_bytes(o, "artifacts", &out->artifacts, NULL))
        return "metrics";
    return NULL;
}

int rt_wire_reply_decode(const char *text, size_t len, rt_wire_reply *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *o = parse(text, len, err, errlen);
    if (!o)
        return RT_EUSAGE;
    const char *bad = reply_fields(o, out);
    json_decref(o);
    if (bad) {
        rt_wire_reply_free(out);
        return rt_fail(err, errlen, RT_EUSAGE, "reply: bad or missing '%s'", bad);
    }
    return 0;
}

void rt_wire_reply_free(rt_wire_reply *r)
{
    free(r->child);
    free(r->metrics);
    free(r->artifacts);
    memset(r, 0, sizeof *r);
}
