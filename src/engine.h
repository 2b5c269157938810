/* engine.h — internal access to a run for tests and benchmarks that need more than the public
 * API: the run's policy, which may be changed between rt_run_create/resume and rt_run_execute. */
#ifndef RT_ENGINE_H
#define RT_ENGINE_H

#include "policy.h"
#include "ratchet.h"

/* The run's policy (owned by the run). */
rt_policy *rt_run_policy(rt_run *run);

/* Counters of noise-aware acceptance in this process (not stored). */
typedef struct rt_noise_counts {
    long long reevaluations; /* extra verifier calls: noise floors and confirmations */
    long long screened_out;  /* children within the incumbent's noise floor */
    long long unconfirmed;   /* winners whose fresh re-evaluations did not hold up */
    long long confirmed;     /* winners admitted on their re-evaluated mean */
} rt_noise_counts;

void rt_run_noise_counts(const rt_run *run, rt_noise_counts *out);

#endif
