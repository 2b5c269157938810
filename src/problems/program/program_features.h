/* program_features.h — MAP-Elites features of the `program` problem taken from the evaluator's
 * metrics, as OpenEvolve's `feature_dimensions` (docs/migrating.md, docs/program.md).
 *
 * A spec names up to RT_MAX_FEATURES metrics, each cut into bins over a fixed range:
 *     NAME[:BINS[:LO:HI]][,NAME...]        e.g.  "accuracy:10,runtime:8:0:2"
 * NAME: letters, digits, '_', '-' and '.' (at most 63); BINS 1..1000 (default 10); LO < HI,
 * finite (default 0:1). A value v falls in bin floor((v - LO) / (HI - LO) * BINS), clamped to
 * 0..BINS-1: fixed ranges, because a cell's coordinates must not move once candidates are in it
 * (OpenEvolve rescales its bins as values arrive).
 */
#ifndef RT_PROGRAM_FEATURES_H
#define RT_PROGRAM_FEATURES_H

#include <stddef.h>

#include "problem.h"

#define RT_FEATURE_MAX_BINS 1000

typedef struct rt_feature_dim {
    char name[64];
    int bins;
    double lo, hi;
} rt_feature_dim;

typedef struct rt_feature_spec {
    int n; /* 0: no features from metrics */
    rt_feature_dim d[RT_MAX_FEATURES];
    char canon[320]; /* "name:bins:lo:hi,..." (%.17g), the form stored with a run */
    char names[140]; /* "name,name" */
} rt_feature_spec;

/* Parses spec into out. Returns 0, or RT_EUSAGE with err naming the bad part. */
int rt_features_parse(const char *spec, rt_feature_spec *out, char *err, size_t errlen);

/* The cell of an evaluation's metrics (a JSON object's text): coords[0..RT_MAX_FEATURES), unused
 * dimensions 0. Returns 0, or RT_EINVALID with why naming the metric that is missing or not a
 * number. */
int rt_features_coords(const rt_feature_spec *fs, const char *metrics, int *coords, char *why,
                       size_t whylen);

#endif
