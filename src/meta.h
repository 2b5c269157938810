/* meta.h — what the meta level measures: one *trial* is a whole `ratchet run` of one problem
 * with one policy and one seed, under a deterministic budget, and its *cost* is the work it took
 * to reach the problem's target.
 *
 * Cost of a trial = work (rt_progress.work; matmul: flips) + RT_META_EVAL_COST per evaluation
 * (the engine's own per-child cost: encode, hash, verify, store; about 100 microseconds against
 * some 4 million flips per second, measured on 3x3x3 gf2). A trial that misses the target within
 * its caps costs twice the caps' cost, 2 * (work cap + RT_META_EVAL_COST * evaluation cap), more
 * than any trial that hits. Trials are deterministic: the engine's result depends only on the
 * policy, the problem and the seed.
 *
 * Problem specs are "PROBLEM:SHAPE:FIELD[@TARGET]" (matmul only for now), e.g. "matmul:3x3x4:gf2"
 * or "matmul:2x3x3:z@15". Without @TARGET the target is the best known rank for small shapes
 * (a table in meta.c); shapes outside it need @TARGET.
 *
 * Ownership: plain values; the trial's store is a scratch file under tmpdir, removed afterwards.
 */
#ifndef RT_META_H
#define RT_META_H

#include <stdint.h>

#include "policy.h"

#define RT_META_MAX_SPECS 4
#define RT_META_EVAL_COST 500.0

typedef struct rt_meta_spec {
    char text[48];   /* canonical "matmul:3x3x4:gf2@29" */
    char shape[16];
    char field[8];
    double target;
} rt_meta_spec;

/* Parses a comma-separated list of at most RT_META_MAX_SPECS specs. RT_EUSAGE naming the bad
 * spec. */
int rt_meta_parse_specs(const char *list, rt_meta_spec *out, int *n, char *err, size_t errlen);

typedef struct rt_meta_caps {
    long long evaluations; /* per trial */
    long long work;        /* per trial */
    int islands;           /* the trial run's islands */
} rt_meta_caps;

typedef struct rt_meta_trial {
    int reached;
    long long evaluations, work;
    double seconds; /* wall clock, for reports only (never part of a score) */
    double cost;
} rt_meta_trial;

/* Runs one trial in a scratch store under tmpdir. Returns 0 or a negative code (err says why).
 * A policy whose first generation alone could exceed the work cap (the largest flips budget of
 * a strategy of the default matmul portfolio at this shape, times islands, above work) is not
 * run: it misses; so does one the problem refuses (RT_EUSAGE when the run is set up: a length
 * its rule makes non-positive, weights that sum to zero). */
int rt_meta_run_trial(const rt_policy *policy, const rt_meta_spec *spec, uint64_t seed,
                      const rt_meta_caps *caps, const char *tmpdir, rt_meta_trial *out,
                      char *err, size_t errlen);

/* Makes a scratch folder for trials (under $TMPDIR, else /dev/shm, else /tmp) into buf; removes one with its files. */
int rt_meta_tmpdir(char *buf, size_t len, char *err, size_t errlen);
void rt_meta_tmpdir_remove(const char *dir);

#endif
