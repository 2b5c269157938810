/* program_features.c — features from the evaluator's metrics (program_features.h). */
#include "problems/program/program_features.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Parses one "NAME[:BINS[:LO:HI]]" of length len into d. */
static int parse_dim(const char *s, size_t len, rt_feature_dim *d, char *err, size_t errlen)
{
    char part[160];
    if (len == 0 || len >= sizeof part)
        return rt_fail(err, errlen, RT_EUSAGE, "--features: an empty or too long dimension");
    memcpy(part, s, len);
    part[len] = '\0';
    char *field[4] = {part, NULL, NULL, NULL};
    int n = 1;
    for (char *c = part; *c; c++)
        if (*c == ':') {
            if (n == 4)
                return rt_fail(err, errlen, RT_EUSAGE, "--features %s: NAME[:BINS[:LO:HI]]",
                               part);
            *c = '\0';
            field[n++] = c + 1;
        }
    if (n == 3)
        return rt_fail(err, errlen, RT_EUSAGE, "--features %s: give both LO and HI", field[0]);
    size_t nl = strlen(field[0]);
    if (nl == 0 || nl >= sizeof d->name || strspn(field[0], "abcdefghijklmnopqrstuvwxyz"
                                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
                                               != nl)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "--features: '%s' is not a metric name (letters, digits, _ - .)", field[0]);
    snprintf(d->name, sizeof d->name, "%s", field[0]);
    d->bins = 10;
    d->lo = 0;
    d->hi = 1;
    char *end;
    if (n > 1) {
        long b = strtol(field[1], &end, 10);
        if (end == field[1] || *end || b < 1 || b > RT_FEATURE_MAX_BINS)
            return rt_fail(err, errlen, RT_EUSAGE, "--features %s: bins '%s' is not 1..%d",
                           d->name, field[1], RT_FEATURE_MAX_BINS);
        d->bins = (int)b;
    }
    if (n == 4) {
        d->lo = strtod(field[2], &end);
        int bad = end == field[2] || *end;
        d->hi = strtod(field[3], &end);
        bad = bad || end == field[3] || *end;
        if (bad || !isfinite(d->lo) || !isfinite(d->hi) || !(d->lo < d->hi))
            return rt_fail(err, errlen, RT_EUSAGE,
                           "--features %s: the range '%s:%s' is not two finite numbers LO < HI",
                           d->name, field[2], field[3]);
    }
    return 0;
}

int rt_features_parse(const char *spec, rt_feature_spec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (out->n == RT_MAX_FEATURES)
            return rt_fail(err, errlen, RT_EUSAGE, "--features: at most %d dimensions",
                           RT_MAX_FEATURES);
        int rc = parse_dim(p, len, &out->d[out->n], err, errlen);
        if (rc)
            return rc;
        for (int i = 0; i < out->n; i++)
            if (strcmp(out->d[i].name, out->d[out->n].name) == 0)
                return rt_fail(err, errlen, RT_EUSAGE, "--features: '%s' named twice",
                               out->d[i].name);
        out->n++;
        p += len;
        if (*p == ',' && !*++p)
            return rt_fail(err, errlen, RT_EUSAGE, "--features: a trailing ','");
    }
    if (out->n == 0)
        return rt_fail(err, errlen, RT_EUSAGE, "--features: no dimension");
    size_t at = 0, an = 0;
    for (int i = 0; i < out->n; i++) {
        const rt_feature_dim *d = &out->d[i];
        at += (size_t)snprintf(out->canon + at, sizeof out->canon - at, "%s%s:%d:%.17g:%.17g",
                               i ? "," : "", d->name, d->bins, d->lo, d->hi);
        an += (size_t)snprintf(out->names + an, sizeof out->names - an, "%s%s", i ? "," : "",
                               d->name);
    }
    return 0;
}

int rt_features_coords(const rt_feature_spec *fs, const char *metrics, int *coords, char *why,
                       size_t whylen)
{
    for (int i = 0; i < RT_MAX_FEATURES; i++)
        coords[i] = 0;
    json_t *m = metrics ? json_loads(metrics, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
    int rc = 0;
    for (int i = 0; i < fs->n && !rc; i++) {
        const rt_feature_dim *d = &fs->d[i];
        json_t *v = json_is_object(m) ? json_object_get(m, d->name) : NULL;
        if (!json_is_number(v) || !isfinite(json_number_value(v))) {
            rc = rt_fail(why, whylen, RT_EINVALID,
                         "the evaluator's metrics have no number \"%s\" (a --features "
                         "dimension)",
                         d->name);
            break;
        }
        double x = (json_number_value(v) - d->lo) / (d->hi - d->lo) * d->bins;
        coords[i] = !(x > 0) ? 0 : x >= d->bins ? d->bins - 1 : (int)floor(x); /* NaN: 0 */
    }
    json_decref(m);
    return rc;
}
