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
 * (a table in meta.c); shapes outside it need @TARGET. The never-used shapes of
 * docs/recursion.md (<2,2,5>, <2,4,5>, <2,5,5> over Z, in any order) are refused, so that no
 * meta run at any level can train or gate on them.
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
/* The specs' texts joined with commas into buf (cut at len); returns buf. */
const char *rt_meta_spec_list(char *buf, size_t len, const rt_meta_spec *s, int n);

typedef struct rt_meta_caps {
    long long evaluations; /* per trial */
    long long work;        /* per trial */
    int islands;           /* the trial run's islands */
} rt_meta_caps;

/* What a level-0 trial that misses its target costs: twice the caps' cost, more than any hit. */
double rt_meta_miss_cost(const rt_meta_caps *caps);

typedef struct rt_meta_trial {
    int reached;
    long long evaluations, work;
    double seconds; /* wall clock, for reports only (never part of a score) */
    double cost;
} rt_meta_trial;

/* Runs one trial in a scratch store under tmpdir. Returns 0 or a negative code (err says why).
 * The trial runs policy's changes to the head (rt_policy_defaults) over the shipped default of
 * spec's own instance (rt_policy_rebase), so a layer of policy/default.json whose scope does not
 * hold spec stays out of it, as out of a `ratchet run` of spec.
 * A policy whose first generation alone could exceed the work cap (the largest flips budget of
 * a strategy of the default matmul portfolio at this shape, times islands, above work) is not
 * run: it misses; so does one the problem refuses (RT_EUSAGE when the run is set up: a length
 * its rule makes non-positive, weights that sum to zero). */
int rt_meta_run_trial(const rt_policy *policy, const rt_meta_spec *spec, uint64_t seed,
                      const rt_meta_caps *caps, const char *tmpdir, rt_meta_trial *out,
                      char *err, size_t errlen);

/* ---- the deadline of a meta run ---------------------------------------------------------- */

/* A trial stopped by the meta run's deadline or by Ctrl-C before it finished: it has no cost
 * (what it spent says nothing about the policy), so no race and no gate uses it. */
#define RT_META_ECUT (-64)

/* Process-wide: from time `at` on (rt_now()'s clock; 0: never) every trial that starts is cut
 * at once and every trial running is stopped (level 0: its engine run's seconds end there; level
 * 1: the same for the level-1 run and its own trials), returning RT_META_ECUT. `ratchet meta
 * --seconds` sets it, so that the run ends within about a second of its deadline instead of
 * after the races and gates in flight. */
void rt_meta_set_deadline(double at);
/* The same at once, from anywhere (a signal handler included): the first Ctrl-C. */
void rt_meta_cut_now(void);
/* 1 when the deadline has passed or rt_meta_cut_now was called. */
int rt_meta_is_cut(void);

/* Every level-0 trial that runs (a cached one does not) is counted on the calling thread:
 * rt_meta_thread_count gives the count and the summed cost (work + RT_META_EVAL_COST per
 * evaluation, what the trial spent, without the miss penalty) since the thread began. */
void rt_meta_thread_count(long long *trials, double *cost);

/* Tests and benches may watch every level-0 trial as it starts (NULL: none). Process-wide;
 * set it before any trial runs. */
typedef void (*rt_meta_observer)(const rt_meta_spec *spec, uint64_t seed, void *user);
void rt_meta_observe(rt_meta_observer fn, void *user);

/* ---- level 2: a trial is a whole level-1 run (docs/recursion.md) ------------------------- */

/* A meta suite: the problems of one level-1 run, made from a list of 2 to RT_META_MAX_SPECS
 * specs: the first half (rounded up) are its training problems, the rest its held-out ones. */
typedef struct rt_meta_suite {
    rt_meta_spec train[RT_META_MAX_SPECS], heldout[RT_META_MAX_SPECS];
    int ntrain, nheld;
    char train_text[200], heldout_text[200]; /* comma-separated canonical specs */
} rt_meta_suite;

/* Splits n parsed specs into a suite; RT_EUSAGE when n < 2. */
int rt_meta_suite_make(const rt_meta_spec *specs, int n, rt_meta_suite *out, char *err,
                       size_t errlen);

#define RT_META1_MAX_PROPOSALS 64

/* The caps of a level-1 trial run. */
typedef struct rt_meta1_caps {
    int seeds, vseeds;   /* level 1's training and held-out seeds per problem */
    long long proposals; /* meta steps (races) of the run */
    double work;         /* level-0 cost the run may spend (trials' cost summed, gate included) */
    rt_meta_caps trial;  /* caps of each level-0 trial */
} rt_meta1_caps;

/* What a level-1 trial that admits nothing within its caps costs: 2 * caps.work. */
double rt_meta1_miss_cost(const rt_meta1_caps *caps);

typedef struct rt_meta1_trial {
    int reached;         /* the run admitted a policy beyond its start (a verified improvement) */
    long long trials;    /* level-0 trials run until then (in all, on a miss) */
    double work;         /* their summed cost */
    long long proposals; /* meta steps until then */
    double cpu;          /* CPU seconds of the calling thread until then */
    double cost;         /* work when reached within caps.work, else 2 * caps.work */
    /* the held-out geometric mean cost of the run's best policy (its verified metric) before
     * the first step (curve[0]) and after each step; ncurve entries */
    double curve[RT_META1_MAX_PROPOSALS + 1];
    int ncurve;
} rt_meta1_trial;

/* Runs level 1 (a run of the policy problem on the suite, seed `seed`, one island, one thread)
 * from `policy` (its meta section drives the run) in a scratch store under tmpdir, up to
 * caps->proposals meta steps or caps->work level-0 cost. Deterministic for a seed. Returns 0 or
 * a negative code (err says why). */
int rt_meta1_run_trial(const rt_policy *policy, const rt_meta_suite *suite, uint64_t seed,
                       const rt_meta1_caps *caps, const char *tmpdir, rt_meta1_trial *out,
                       char *err, size_t errlen);

/* The held-out gate's decision (the policy problem's verify, at both levels) on n paired trial
 * costs: cand[i] and base[i] ran the same problem (level 2: suite) with the same seed. A cost of
 * miss or more is a trial that missed its target within its caps (miss: rt_meta_miss_cost, at
 * level 2 rt_meta1_miss_cost).
 * - mean, se: the mean paired log-ratio log(base / cand) and its standard error;
 * - admitted when mean > 2 se, and, if any trial of either side missed, also when the exact
 *   one-sided sign test over the pairs whose order is known (both hit: the cheaper one wins; one
 *   hit: it wins; both missed: a tie, left out) gives p <= 0.025. A miss's cost is a stand-in,
 *   not a measurement: a baseline that missed on every seed has no spread, and a candidate that
 *   hits on 3 of 8 then clears 2 se whatever its costs (a level-2 gate did so on 7 Dec, and 10
 *   fresh seeds measured the candidate 1.00x). */
typedef struct rt_meta_gate {
    double mean, se;
    int misses;       /* pairs in which either trial missed */
    int wins, losses; /* pairs the candidate is cheaper, dearer in */
    double sign_p;    /* the sign test's p (1 when no trial missed: not applied) */
    int beyond_noise; /* mean > 2 se (and > 0): the t margin alone */
    int admit;        /* beyond_noise, and the sign test where a trial missed */
} rt_meta_gate;
void rt_meta_gate_decide(const double *cand, const double *base, int n, double miss,
                         rt_meta_gate *out);

/* Makes a scratch folder for trials (under $TMPDIR, else /dev/shm, else /tmp) into buf, named
 * ratchet-meta-PID-XXXXXX; first removes the folders there of meta runs that were killed (their
 * process is gone, the folder is ours and untouched for a minute). rt_meta_tmpdir_remove removes
 * one folder with its files. */
int rt_meta_tmpdir(char *buf, size_t len, char *err, size_t errlen);
void rt_meta_tmpdir_remove(const char *dir);

#endif
