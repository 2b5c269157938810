/* program_eval.c — evaluator and verifier output parsers (contracts in program_eval.h). */
#include "problems/program/program_eval.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The last non-blank line of out: [*b, *e). Returns 0 when there is none. */
static int last_line(const char *out, size_t len, size_t *b, size_t *e)
{
    size_t end = len;
    for (;;) {
        while (end > 0 && (out[end - 1] == '\n' || out[end - 1] == '\r' ||
                           out[end - 1] == ' ' || out[end - 1] == '\t'))
            end--;
        if (end == 0)
            return 0;
        size_t beg = end;
        while (beg > 0 && out[beg - 1] != '\n')
            beg--;
        *b = beg;
        *e = end;
        return 1;
    }
}

/* Parses s[0..n) as one JSON object (duplicate keys refused; integers read as doubles). */
static json_t *load_object(const char *s, size_t n, char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
    if (!j) {
        snprintf(why, whylen, "%s", jerr.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        snprintf(why, whylen, "not a JSON object");
        return NULL;
    }
    return j;
}

/* Looks for an earlier line (before offset upto) that is a JSON object with key. Returns its
 * 1-based line number, or 0. */
static size_t earlier_with(const char *out, size_t upto, const char *key)
{
    size_t lineno = 0;
    for (size_t at = 0; at < upto;) {
        const char *nl = memchr(out + at, '\n', upto - at);
        size_t end = nl ? (size_t)(nl - out) : upto;
        lineno++;
        size_t b = at;
        while (b < end && (out[b] == ' ' || out[b] == '\t'))
            b++;
        if (b < end && out[b] == '{') {
            char why[8];
            json_t *j = load_object(out + b, end - b, why, sizeof why);
            int has = j && json_object_get(j, key) != NULL;
            json_decref(j);
            if (has)
                return lineno;
        }
        at = nl ? end + 1 : upto;
    }
    return 0;
}

static int last_object(const char *out, size_t len, const char *what, json_t **obj,
                       size_t *line_begin, char *err, size_t errlen)
{
    *obj = NULL;
    if (len > RT_EVAL_MAX_OUTPUT)
        return rt_fail(err, errlen, RT_EINVALID, "%s printed %zu bytes, over the cap of %zu",
                       what, len, RT_EVAL_MAX_OUTPUT);
    size_t b, e;
    if (!last_line(out, len, &b, &e))
        return rt_fail(err, errlen, RT_EINVALID, "%s printed nothing on stdout", what);
    if (memchr(out + b, '\0', e - b))
        return rt_fail(err, errlen, RT_EINVALID, "%s's last line contains a NUL byte", what);
    char why[160];
    *obj = load_object(out + b, e - b, why, sizeof why);
    if (!*obj)
        return rt_fail(err, errlen, RT_EINVALID, "%s's last line is not a JSON object: %s",
                       what, why);
    *line_begin = b;
    return 0;
}

static int get_score(json_t *obj, const char *what, double *out, char *err, size_t errlen)
{
    json_t *s = json_object_get(obj, "score");
    if (!s)
        return rt_fail(err, errlen, RT_EINVALID, "%s's report has no \"score\"", what);
    if (!json_is_number(s))
        return rt_fail(err, errlen, RT_EINVALID, "%s's \"score\" is not a number", what);
    double v = json_number_value(s);
    if (!isfinite(v))
        return rt_fail(err, errlen, RT_EINVALID, "%s's \"score\" is not finite", what);
    *out = v;
    return 0;
}

/* Compact JSON of an optional object member; NULL when absent. RT_EINVALID when present but not
 * an object. */
static int dump_member(json_t *obj, const char *key, char **out, char *err, size_t errlen)
{
    *out = NULL;
    json_t *m = json_object_get(obj, key);
    if (!m)
        return 0;
    if (!json_is_object(m))
        return rt_fail(err, errlen, RT_EINVALID, "evaluator's \"%s\" is not a JSON object", key);
    char *s = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    if (strlen(s) > RT_EVAL_MAX_JSON) {
        free(s);
        char note[96];
        snprintf(note, sizeof note, "{\"note\":\"%s over %zu bytes, dropped\"}", key,
                 RT_EVAL_MAX_JSON);
        s = strdup(note);
        if (!s)
            return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    }
    *out = s;
    return 0;
}

int rt_eval_parse(const char *out, size_t len, rt_eval_output *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    json_t *obj = NULL;
    size_t b = 0;
    int rc = last_object(out, len, "evaluator", &obj, &b, err, errlen);
    if (rc)
        return rc;
    if ((rc = get_score(obj, "evaluator", &res->score, err, errlen)))
        goto fail;
    size_t twice = earlier_with(out, b, "score");
    if (twice) {
        rc = rt_fail(err, errlen, RT_EINVALID,
                     "evaluator printed a score twice (line %zu and its last line)", twice);
        goto fail;
    }
    if ((rc = dump_member(obj, "metrics", &res->metrics, err, errlen)) ||
        (rc = dump_member(obj, "artifacts", &res->artifacts, err, errlen)))
        goto fail;
    json_decref(obj);
    return 0;
fail:
    json_decref(obj);
    rt_eval_output_free(res);
    return rc;
}

void rt_eval_output_free(rt_eval_output *res)
{
    free(res->metrics);
    free(res->artifacts);
    res->metrics = res->artifacts = NULL;
}

int rt_verify_parse(const char *out, size_t len, rt_verify_output *res, char *err,
                    size_t errlen)
{
    memset(res, 0, sizeof *res);
    json_t *obj = NULL;
    size_t b = 0;
    int rc = last_object(out, len, "verifier", &obj, &b, err, errlen);
    if (rc)
        return rc;
    json_t *valid = json_object_get(obj, "valid");
    json_t *reason = json_object_get(obj, "reason");
    if (!json_is_boolean(valid)) {
        rc = rt_fail(err, errlen, RT_EINVALID, "verifier's report has no boolean \"valid\"");
        goto done;
    }
    if (earlier_with(out, b, "valid")) {
        rc = rt_fail(err, errlen, RT_EINVALID, "verifier printed a verdict twice");
        goto done;
    }
    if (json_is_string(reason))
        snprintf(res->reason, sizeof res->reason, "%s", json_string_value(reason));
    res->valid = json_is_true(valid);
    if (res->valid && (rc = get_score(obj, "verifier", &res->score, err, errlen)))
        res->valid = 0;
done:
    json_decref(obj);
    return rc;
}
