/* engine.h — internal access to a run for tests and benchmarks that need more than the public
 * API: the run's policy, which may be changed between rt_run_create/resume and rt_run_execute. */
#ifndef RT_ENGINE_H
#define RT_ENGINE_H

#include "gate.h"
#include "policy.h"
#include "ratchet.h"

/* The run's policy (owned by the run). */
rt_policy *rt_run_policy(rt_run *run);

/* The gate's counters of noise-aware acceptance in this process (rt_noise_counts, gate.h). */
void rt_run_noise_counts(const rt_run *run, rt_noise_counts *out);

#endif
