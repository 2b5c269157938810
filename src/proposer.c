/* proposer.c — the registry of proposers (a new proposer adds one line to `registry`), and the
 * one place that calls a proposer's methods. */
#include "proposer.h"

#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const rt_proposer_class *const registry[] = {
    &rt_proposer_builtin,
    &rt_proposer_command,
    &rt_proposer_llm,
};

const rt_proposer_class *rt_proposer_find(const char *name)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (name && strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int rt_proposer_init(rt_proposer *p, const char *name, const rt_problem *problem,
                     const char *const *keys, const char *const *values, size_t n,
                     const rt_policy *policy, const volatile int *stop, char *err,
                     size_t errlen)
{
    memset(p, 0, sizeof *p);
    const rt_proposer_class *cls = rt_proposer_find(name);
    if (!cls)
        return rt_fail(err, errlen, RT_EUSAGE, "unknown proposer '%s'", name);
    if (n && !cls->configure)
        return rt_fail(err, errlen, RT_EUSAGE, "proposer %s takes no options (%s given)", name,
                       keys[0]);
    void *state = NULL;
    int rc = cls->create(&state, problem, err, errlen);
    if (rc)
        return rc;
    if (cls->configure &&
        (rc = cls->configure(state, keys, values, n, policy, stop, err, errlen))) {
        cls->destroy(state);
        return rc;
    }
    p->cls = cls;
    p->state = state;
    return 0;
}

void rt_proposer_free(rt_proposer *p)
{
    if (p->cls)
        p->cls->destroy(p->state);
    memset(p, 0, sizeof *p);
}

const char *rt_proposer_name(const rt_proposer *p) { return p->cls->name; }

int rt_proposer_inspirations(const rt_proposer *p) { return p->cls->inspirations; }

int rt_proposer_wants_context(const rt_proposer *p) { return p->cls->context; }

int rt_proposer_propose(const rt_proposer *p, const rt_problem *problem,
                        const rt_propose_ctx *ctx, rt_rng *rng, rt_proposal *out)
{
    assert(p->cls); /* only a proposer that rt_proposer_init made */
    return p->cls->propose(p->state, problem, ctx, rng, out);
}

void rt_proposer_feedback(const rt_proposer *p, long long tag, const rt_proposal_outcome *outcome)
{
    if (p->cls->feedback)
        p->cls->feedback(p->state, tag, outcome);
}

int rt_proposer_account(const rt_proposer *p, rt_db *db)
{
    return p->cls && p->cls->account ? p->cls->account(p->state, db) : 0;
}

int rt_proposer_spent(const rt_proposer *p, char *why, size_t len)
{
    return p->cls->spent ? p->cls->spent(p->state, why, len) : 0;
}

/* ---- a run's proposer options ------------------------------------------------------------ */

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
