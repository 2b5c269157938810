/* slots.h — job slots: a fixed number of workers that run jobs for one coordinator thread.
 *
 * The engine's asynchronous loop (docs/scheduling.md) hands one job (propose a child, evaluate
 * it) to each free slot, takes finished jobs back in the order they finish, and hands out the
 * next at once: no job waits for another. The coordinator alone submits and collects; a job is
 * the caller's memory, lent to a slot from submit until collect returns it.
 *
 * A slot is a thread here. The interface is what a slot needs and nothing of threads: a job
 * goes out, the same job comes back finished, so a slot may later be a remote worker (an MPI
 * rank) that sends the job's result back.
 *
 * Stopping: raising the cancel flag given at start (the run's stop flag) cancels the sandboxes
 * that jobs run (rt_sandbox_cancel_scope) and whatever else watches that flag (the llm client);
 * the jobs then finish early and rt_slots_stop collects nothing: the coordinator collects every
 * job it submitted before stopping the slots.
 */
#ifndef RT_SLOTS_H
#define RT_SLOTS_H

typedef struct rt_slots rt_slots;

/* What a slot does with a job; runs on the slot's thread. */
typedef void (*rt_slot_work)(void *job, void *user);

/* Starts n >= 1 slots that run work(job, user). Returns 0, or RT_ENOMEM when no thread or
 * memory could be had (fewer threads than asked is not a failure: rt_slots_count says). */
int rt_slots_start(rt_slots **out, int n, rt_slot_work work, void *user,
                   const volatile int *cancel);
/* The number of slots, and of jobs submitted and not yet collected. */
int rt_slots_count(const rt_slots *s);
int rt_slots_busy(rt_slots *s);
/* Hands job to a slot; requires rt_slots_busy(s) < rt_slots_count(s). */
void rt_slots_submit(rt_slots *s, void *job);
/* The next finished job, in the order they finished; waits at most seconds (0: does not wait).
 * NULL when none finished in time. */
void *rt_slots_collect(rt_slots *s, double seconds);
/* Ends the slots' threads and frees s (NULL: no-op). Call it with no job busy. */
void rt_slots_stop(rt_slots *s);

#endif
