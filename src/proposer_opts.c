/* proposer_opts.c — a run's proposer options (proposer_opts.h): merging the stored ones with
 * those given to a resume, and the JSON they are stored as. */
#include "proposer_opts.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ratchet.h"

/* Appends a copy of one pair. */
static int opts_add(rt_proposer_opts *o, const char *key, const char *value, char *err,
                    size_t errlen)
{
    if (o->n == RT_PROPOSER_MAX_OPTS)
        return rt_fail(err, errlen, RT_EUSAGE, "more than %d proposer options",
                       RT_PROPOSER_MAX_OPTS);
    if (strlen(key) >= RT_PROPOSER_MAX_OPT_LEN || strlen(value) >= RT_PROPOSER_MAX_OPT_LEN)
        return rt_fail(err, errlen, RT_EUSAGE, "proposer option %.40s: over %d bytes", key,
                       RT_PROPOSER_MAX_OPT_LEN);
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    }
    o->keys[o->n] = k;
    o->values[o->n] = v;
    o->n++;
    return 0;
}

/* Appends the stored pairs whose key is not among the n given ones. */
static int opts_add_stored(rt_proposer_opts *o, const char *stored, const char *const *keys,
                           size_t n, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *arr = json_loads(stored, 0, &jerr);
    int rc = 0;
    if (!json_is_array(arr))
        rc = rt_fail(err, errlen, RT_ESTORE, "stored proposer options are not a JSON array");
    size_t i;
    json_t *pair;
    json_array_foreach(arr, i, pair) {
        if (rc)
            break;
        const char *k = json_string_value(json_array_get(pair, 0));
        const char *v = json_string_value(json_array_get(pair, 1));
        if (!k || !v || json_array_size(pair) != 2) {
            rc = rt_fail(err, errlen, RT_ESTORE, "stored proposer option %zu is not a pair", i);
            break;
        }
        int given = 0;
        for (size_t g = 0; g < n && !given; g++)
            given = strcmp(keys[g], k) == 0;
        if (!given)
            rc = opts_add(o, k, v, err, errlen);
    }
    json_decref(arr);
    return rc;
}

int rt_proposer_opts_merge(rt_proposer_opts *out, const char *stored, const char *const *keys,
                           const char *const *values, size_t n, char *err, size_t errlen)
{
    int rc = stored ? opts_add_stored(out, stored, keys, n, err, errlen) : 0;
    for (size_t i = 0; !rc && i < n; i++)
        rc = opts_add(out, keys[i], values[i] ? values[i] : "", err, errlen);
    if (rc)
        rt_proposer_opts_free(out);
    return rc;
}

int rt_proposer_opts_json(const rt_proposer_opts *o, rt_buf *out)
{
    json_t *arr = json_array();
    int bad = !arr;
    for (size_t i = 0; !bad && i < o->n; i++)
        bad = json_array_append_new(arr, json_pack("[s,s]", o->keys[i], o->values[i])) != 0;
    char *text = bad ? NULL : json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!text)
        return RT_ENOMEM;
    int rc = rt_buf_append(out, text, strlen(text));
    free(text);
    return rc;
}

void rt_proposer_opts_free(rt_proposer_opts *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->keys[i]);
        free(o->values[i]);
    }
    memset(o, 0, sizeof *o);
}
