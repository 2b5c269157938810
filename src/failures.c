/* failures.c — failures counted by cause (failures.h). */
#include "failures.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rt_failures_init(rt_failures *f)
{
    memset(f, 0, sizeof *f);
    f->streak_cause = -1;
}

/* Copies src into dst[len] as one printable line (control bytes become spaces). */
static void copy_line(char *dst, size_t len, const char *src)
{
    size_t k = 0;
    for (; src && src[k] && k + 1 < len; k++) {
        unsigned char c = (unsigned char)src[k];
        dst[k] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    dst[k] = '\0';
}

static int find_cause(const rt_failures *f, const char *cause)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->causes[i].cause, cause) == 0)
            return i;
    return -1;
}

long long rt_failures_add(rt_failures *f, const char *cause, const char *detail)
{
    char key[RT_FAILURE_CAUSE_LEN];
    copy_line(key, sizeof key, cause && *cause ? cause : "unknown");
    int i = find_cause(f, key);
    if (i < 0 && f->n < RT_FAILURE_CAUSES) {
        i = f->n++;
        memcpy(f->causes[i].cause, key, sizeof key);
    }
    if (i < 0) {
        f->other++;
        f->streak_cause = -1;
        f->streak = 0;
        return 0;
    }
    rt_failure_cause *c = &f->causes[i];
    c->count++;
    if (detail && *detail)
        copy_line(c->detail, sizeof c->detail, detail);
    f->streak = f->streak_cause == i ? f->streak + 1 : 1;
    f->streak_cause = i;
    return f->streak;
}

void rt_failures_success(rt_failures *f)
{
    f->streak_cause = -1;
    f->streak = 0;
}

long long rt_failures_total(const rt_failures *f)
{
    long long n = f->other;
    for (int i = 0; i < f->n; i++)
        n += f->causes[i].count;
    return n;
}

static int by_count(const void *a, const void *b)
{
    const rt_failure_cause *x = a, *y = b;
    return (x->count < y->count) - (x->count > y->count);
}

int rt_failures_to_json(const rt_failures *f, rt_buf *out)
{
    rt_failure_cause sorted[RT_FAILURE_CAUSES];
    memcpy(sorted, f->causes, sizeof sorted);
    qsort(sorted, (size_t)f->n, sizeof sorted[0], by_count);
    json_t *o = json_object(), *arr = json_array();
    int bad = !o || !arr;
    bad |= json_object_set_new(o, "cut", json_integer(f->cut));
    bad |= json_object_set_new(o, "other", json_integer(f->other));
    for (int i = 0; !bad && i < f->n; i++) {
        json_t *c = json_object();
        bad |= !c;
        bad |= json_object_set_new(c, "cause", json_string(sorted[i].cause));
        bad |= json_object_set_new(c, "count", json_integer(sorted[i].count));
        bad |= json_object_set_new(c, "detail", json_string(sorted[i].detail));
        bad |= json_array_append_new(arr, c);
    }
    bad |= json_object_set(o, "causes", arr);
    char *text = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(arr);
    json_decref(o);
    if (!text)
        return RT_ENOMEM;
    int rc = rt_buf_puts(out, text);
    free(text);
    return rc;
}

/* A non-negative integer member of o, or -1. */
static long long count_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

/* Reads the "causes" array into f; returns 0 or -1 on anything malformed. */
static int read_causes(rt_failures *f, json_t *arr)
{
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        const char *cause = json_string_value(json_object_get(c, "cause"));
        const char *detail = json_string_value(json_object_get(c, "detail"));
        long long count = count_of(c, "count");
        if (!cause || count < 0 || f->n == RT_FAILURE_CAUSES)
            return -1;
        rt_failure_cause *dst = &f->causes[f->n++];
        copy_line(dst->cause, sizeof dst->cause, cause);
        copy_line(dst->detail, sizeof dst->detail, detail ? detail : "");
        dst->count = count;
    }
    return 0;
}

int rt_failures_from_json(rt_failures *f, const char *text, size_t len)
{
    rt_failures_init(f);
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *arr = json_object_get(o, "causes");
    int rc = json_is_object(o) && json_is_array(arr) ? 0 : RT_ESTORE;
    if (!rc) {
        f->cut = count_of(o, "cut");
        f->other = count_of(o, "other");
        if (f->cut < 0 || f->other < 0 || read_causes(f, arr))
            rc = RT_ESTORE;
    }
    json_decref(o);
    if (rc)
        rt_failures_init(f);
    return rc;
}
