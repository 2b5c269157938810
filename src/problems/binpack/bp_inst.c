/* bp_inst.c — bin packing instances: generation, FunSearch's JSON format, L1 (bp_inst.h). */
#include "problems/binpack/bp_inst.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

void bp_set_free(bp_set *set)
{
    if (!set)
        return;
    for (int i = 0; i < set->n; i++)
        free(set->inst[i].items);
    free(set->inst);
    set->inst = NULL;
    set->n = 0;
}

int bp_set_add(bp_set *set, const char *name, int capacity, int *items, int n)
{
    bp_instance *grown = realloc(set->inst, (size_t)(set->n + 1) * sizeof *grown);
    if (!grown) {
        free(items);
        return RT_ENOMEM;
    }
    set->inst = grown;
    bp_instance *in = &set->inst[set->n++];
    memset(in, 0, sizeof *in);
    snprintf(in->name, sizeof in->name, "%s", name);
    in->capacity = capacity;
    in->n = n;
    in->items = items;
    return 0;
}

long long bp_l1(const bp_instance *in)
{
    long long sum = 0;
    for (int i = 0; i < in->n; i++)
        sum += in->items[i];
    return (sum + in->capacity - 1) / in->capacity;
}

/* ---- generation -------------------------------------------------------------------------- */

static int uniform_int(rt_rng *rng, int lo, int hi)
{
    return lo + (int)rt_rng_below(rng, (uint32_t)(hi - lo + 1));
}

/* Weibull(scale, shape) rounded to the nearest integer and clipped to [1, hi]. */
static int weibull_int(rt_rng *rng, double scale, double shape, int hi)
{
    double u = rt_rng_unit(rng);
    double x = scale * pow(-log1p(-u), 1.0 / shape);
    double r = nearbyint(x);
    if (!(r >= 1))
        return 1;
    return r > hi ? hi : (int)r;
}

static int family_params(const char *family, int *cap, int *lo, int *hi, char *err,
                         size_t errlen)
{
    if (strcmp(family, "or") == 0) {
        *cap = 150;
        *lo = 20;
        *hi = 100;
    } else if (strcmp(family, "weibull") == 0) {
        *cap = 100;
        *lo = 1;
        *hi = 100;
    } else if (strcmp(family, "uniform") == 0) {
        if (*cap < 1 || *cap > BP_MAX_CAPACITY || *lo < 1 || *hi < *lo || *hi > *cap)
            return rt_fail(err, errlen, RT_EUSAGE,
                           "uniform family: need 1 <= lo <= hi <= capacity <= %d",
                           BP_MAX_CAPACITY);
    } else {
        return rt_fail(err, errlen, RT_EUSAGE, "unknown family '%s': expected or, weibull or "
                       "uniform", family);
    }
    return 0;
}

int bp_generate(bp_set *out, const char *family, int items, int count, uint64_t seed, int cap,
                int lo, int hi, char *err, size_t errlen)
{
    out->n = 0;
    out->inst = NULL;
    int rc = family_params(family, &cap, &lo, &hi, err, errlen);
    if (rc)
        return rc;
    if (items < 1 || items > BP_MAX_ITEMS || count < 1 || count > BP_MAX_INSTANCES ||
        (long long)items * count > BP_MAX_TOTAL_ITEMS)
        return rt_fail(err, errlen, RT_EUSAGE, "need 1..%d items, 1..%d instances, at most %d "
                       "items in all", BP_MAX_ITEMS, BP_MAX_INSTANCES, BP_MAX_TOTAL_ITEMS);
    int weibull = strcmp(family, "weibull") == 0;
    for (int k = 0; k < count; k++) {
        rt_rng rng;
        rt_rng_seed(&rng, seed, (uint64_t)k);
        int *sizes = malloc((size_t)items * sizeof *sizes);
        if (!sizes) {
            bp_set_free(out);
            return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
        }
        for (int i = 0; i < items; i++)
            sizes[i] = weibull ? weibull_int(&rng, 45, 3, hi) : uniform_int(&rng, lo, hi);
        char name[64];
        snprintf(name, sizeof name, "%s_%d", family, k);
        if (bp_set_add(out, name, cap, sizes, items)) {
            bp_set_free(out);
            return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
        }
    }
    return 0;
}

/* ---- FunSearch's JSON -------------------------------------------------------------------- */

static int json_int(json_t *v, long long lo, long long hi, long long *out)
{
    if (!json_is_integer(v))
        return -1;
    long long x = json_integer_value(v);
    if (x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

static int read_items(json_t *arr, const char *label, const char *name, int cap, int n,
                      int **out, char *err, size_t errlen)
{
    if (!json_is_array(arr))
        return rt_fail(err, errlen, RT_EUSAGE, "%s: instance '%s': \"items\" is not an array",
                       label, name);
    if ((long long)json_array_size(arr) != n)
        return rt_fail(err, errlen, RT_EUSAGE, "%s: instance '%s': \"num_items\" is %d but "
                       "\"items\" has %zu", label, name, n, json_array_size(arr));
    int *items = malloc((size_t)(n ? n : 1) * sizeof *items);
    if (!items)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        long long s;
        if (json_int(json_array_get(arr, (size_t)i), 1, cap, &s)) {
            free(items);
            return rt_fail(err, errlen, RT_EUSAGE, "%s: instance '%s': items[%d] is not an "
                           "integer size in 1..%d", label, name, i, cap);
        }
        items[i] = (int)s;
    }
    *out = items;
    return 0;
}

static int check_name(const char *name, const char *label, char *err, size_t errlen)
{
    size_t len = strlen(name);
    int bad = len == 0 || len >= sizeof((bp_instance *)0)->name;
    for (size_t i = 0; i < len; i++)
        bad |= (unsigned char)name[i] < 0x20 || name[i] == 0x7f;
    if (bad)
        return rt_fail(err, errlen, RT_EUSAGE, "%s: an instance name is empty, longer than 63 "
                       "bytes or has control characters", label);
    return 0;
}

static int read_instance(const char *name, json_t *obj, const char *label, bp_set *out,
                         long long *total, char *err, size_t errlen)
{
    int rc = check_name(name, label, err, errlen);
    if (rc)
        return rc;
    if (!json_is_object(obj))
        return rt_fail(err, errlen, RT_EUSAGE, "%s: instance '%s' is not an object", label, name);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (strcmp(key, "capacity") && strcmp(key, "num_items") && strcmp(key, "items"))
            return rt_fail(err, errlen, RT_EUSAGE, "%s: instance '%s': unknown key \"%.40s\"",
                           label, name, key);
    }
    long long cap, n;
    if (json_int(json_object_get(obj, "capacity"), 1, BP_MAX_CAPACITY, &cap))
        return rt_fail(err, errlen, RT_EUSAGE, "%s: instance '%s': \"capacity\" missing or not "
                       "an integer in 1..%d", label, name, BP_MAX_CAPACITY);
    if (json_int(json_object_get(obj, "num_items"), 1, BP_MAX_ITEMS, &n))
        return rt_fail(err, errlen, RT_EUSAGE, "%s: instance '%s': \"num_items\" missing or "
                       "not an integer in 1..%d", label, name, BP_MAX_ITEMS);
    if (*total + n > BP_MAX_TOTAL_ITEMS)
        return rt_fail(err, errlen, RT_ETOOBIG, "%s: more than %d items in all", label,
                       BP_MAX_TOTAL_ITEMS);
    *total += n;
    int *items = NULL;
    rc = read_items(json_object_get(obj, "items"), label, name, (int)cap, (int)n, &items, err,
                    errlen);
    if (rc)
        return rc;
    if (bp_set_add(out, name, (int)cap, items, (int)n))
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    return 0;
}

/* Messages are one line: control bytes quoted from the input become '?'. */
static void one_line(char *err)
{
    for (; err && *err; err++)
        if ((unsigned char)*err < 0x20 || *err == 0x7f)
            *err = '?';
}

static int read_json(const char *text, size_t len, const char *label, bp_set *out, char *err,
                     size_t errlen);

int bp_read_json(const char *text, size_t len, const char *label, bp_set *out, char *err,
                 size_t errlen)
{
    int rc = read_json(text, len, label, out, err, errlen);
    if (rc)
        one_line(err);
    return rc;
}

static int read_json(const char *text, size_t len, const char *label, bp_set *out, char *err,
                     size_t errlen)
{
    out->n = 0;
    out->inst = NULL;
    if (len > (size_t)BP_MAX_FILE)
        return rt_fail(err, errlen, RT_ETOOBIG, "%s: larger than %ld bytes", label, BP_MAX_FILE);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return rt_fail(err, errlen, RT_EUSAGE, "%s:%d:%d: %s", label, jerr.line, jerr.column,
                       jerr.text);
    int rc = 0;
    if (!json_is_object(root) || json_object_size(root) == 0)
        rc = rt_fail(err, errlen, RT_EUSAGE, "%s: expected a JSON object of instances (name: "
                     "{\"capacity\", \"num_items\", \"items\"})", label);
    else if (json_object_size(root) > BP_MAX_INSTANCES)
        rc = rt_fail(err, errlen, RT_ETOOBIG, "%s: more than %d instances", label,
                     BP_MAX_INSTANCES);
    long long total = 0;
    const char *name;
    json_t *obj;
    json_object_foreach(root, name, obj) {
        if (rc)
            break;
        rc = read_instance(name, obj, label, out, &total, err, errlen);
    }
    json_decref(root);
    if (rc)
        bp_set_free(out);
    return rc;
}

int bp_read_file(const char *path, bp_set *out, char *err, size_t errlen)
{
    out->n = 0;
    out->inst = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = rt_read_file(path, (size_t)BP_MAX_FILE, &text, &len, err, errlen);
    if (rc)
        return rc;
    rc = bp_read_json(text, len, path, out, err, errlen);
    free(text);
    return rc;
}

int bp_json_quote(const char *s, rt_buf *out)
{
    json_t *str = json_string(s);
    char *quoted = str ? json_dumps(str, JSON_ENCODE_ANY) : NULL;
    json_decref(str);
    if (!quoted)
        return RT_ENOMEM;
    int rc = rt_buf_puts(out, quoted);
    free(quoted);
    return rc;
}

int bp_write_json(const bp_set *set, rt_buf *out)
{
    int rc = rt_buf_puts(out, "{");
    for (int k = 0; !rc && k < set->n; k++) {
        const bp_instance *in = &set->inst[k];
        rc = rt_buf_puts(out, k ? ",\n " : "\n ");
        if (!rc)
            rc = bp_json_quote(in->name, out);
        if (!rc)
            rc = rt_buf_printf(out, ": {\"capacity\": %d, \"num_items\": %d, \"items\": [",
                               in->capacity, in->n);
        for (int i = 0; !rc && i < in->n; i++)
            rc = rt_buf_printf(out, i ? ", %d" : "%d", in->items[i]);
        if (!rc)
            rc = rt_buf_puts(out, "]}");
    }
    return rc ? rc : rt_buf_puts(out, "\n}\n");
}
