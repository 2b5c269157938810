/* engine.h — internal access to a run for tests and benchmarks that need more than the public
 * API: the run's policy, which may be changed between rt_run_create/resume and rt_run_execute. */
#ifndef RT_ENGINE_H
#define RT_ENGINE_H

#include "gate.h"
#include "policy.h"
#include "proposer.h"
#include "ratchet.h"
#include "util.h"

/* The run's policy (owned by the run). */
rt_policy *rt_run_policy(rt_run *run);

/* The gate's counters of noise-aware acceptance in this process (rt_noise_counts, gate.h). */
void rt_run_noise_counts(const rt_run *run, rt_noise_counts *out);

/* ---- remote workers (MPI ranks, src/mpi/; docs/scaling.md) ---------------------------------
 * A run given a remote proposes (and, for a problem that evaluates, evaluates) each island's
 * child elsewhere: the call gets the job's self-contained inputs (context, operator, the
 * island's generator) and returns the child decoded here from its canonical text, with the
 * worker's claim (rt_problem_claim) and the generator advanced as the worker advanced it. Every
 * child still goes through this process's duplicate check, gate and store. */
typedef struct rt_remote {
    int workers; /* jobs out at once: the engine runs this many slots (or generation threads) */
    /* Blocking, called from several of the engine's threads at once. Returns 0 (prop filled;
     * prop->child NULL with prop->reason when no child was made, or when stop rose before the
     * reply: the job is then cut), 1 when the worker was lost (err says how: the run stops,
     * failing), or a negative code (out of memory). *evaluated is 1 when ev holds the worker's
     * evaluation of the child (its metrics and artifacts owned by the child). */
    int (*propose)(void *user, const rt_problem *problem, const rt_propose_ctx *ctx, rt_rng *rng,
                   rt_proposal *prop, int *evaluated, rt_evaluation *ev,
                   const volatile int *stop, char *err, size_t errlen);
    void *user;
} rt_remote;

/* Makes the run's proposals through remote (borrowed until the run closes; NULL: locally). Call
 * before rt_run_execute. */
void rt_run_set_remote(rt_run *run, const rt_remote *remote);
/* What a worker needs to make the same children: the run's problem, its proposer's name and
 * options (JSON, rt_proposer_opts_json). */
const rt_problem *rt_run_problem(const rt_run *run);
const char *rt_run_proposer_name(const rt_run *run);
int rt_run_proposer_options(const rt_run *run, rt_buf *json);

#endif
