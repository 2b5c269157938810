/* slots.c — job slots on threads (slots.h). */
#include "slots.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "ratchet.h"
#include "sandbox/sandbox.h"

#define MAX_SLOTS 256

struct rt_slots {
    pthread_mutex_t mu;
    pthread_cond_t todo;  /* a job was submitted, or the slots are ending */
    pthread_cond_t done;  /* a job finished */
    pthread_t threads[MAX_SLOTS];
    int nthreads;
    rt_slot_work work;
    void *user;
    const volatile int *cancel;
    /* two rings of nthreads entries: jobs waiting for a thread, jobs finished */
    void **waiting, **finished;
    int nwaiting, wait_head, nfinished, fin_head;
    int busy;             /* submitted, not collected */
    int quit;
};

static void *slot_main(void *arg)
{
    rt_slots *s = arg;
    rt_sandbox_cancel_scope(s->cancel);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->nwaiting && !s->quit)
            pthread_cond_wait(&s->todo, &s->mu);
        if (!s->nwaiting)
            break;
        void *job = s->waiting[s->wait_head];
        s->wait_head = (s->wait_head + 1) % s->nthreads;
        s->nwaiting--;
        pthread_mutex_unlock(&s->mu);
        s->work(job, s->user);
        pthread_mutex_lock(&s->mu);
        s->finished[(s->fin_head + s->nfinished) % s->nthreads] = job;
        s->nfinished++;
        pthread_cond_signal(&s->done);
    }
    pthread_mutex_unlock(&s->mu);
    rt_sandbox_cancel_scope(NULL);
    return NULL;
}

int rt_slots_start(rt_slots **out, int n, rt_slot_work work, void *user,
                   const volatile int *cancel)
{
    *out = NULL;
    rt_slots *s = calloc(1, sizeof *s);
    if (n > MAX_SLOTS)
        n = MAX_SLOTS;
    if (!s || n < 1)
        goto fail;
    s->waiting = calloc((size_t)n, sizeof *s->waiting);
    s->finished = calloc((size_t)n, sizeof *s->finished);
    if (!s->waiting || !s->finished)
        goto fail;
    s->work = work;
    s->user = user;
    s->cancel = cancel;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->todo, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->done, &ca);
    pthread_condattr_destroy(&ca);
    s->nthreads = n; /* the rings' size until the threads are counted */
    int started = 0;
    for (int i = 0; i < n; i++)
        if (pthread_create(&s->threads[started], NULL, slot_main, s) == 0)
            started++;
    if (!started) {
        s->nthreads = 0;
        rt_slots_stop(s);
        return RT_ENOMEM;
    }
    pthread_mutex_lock(&s->mu);
    s->nthreads = started; /* nothing queued yet: the rings shrink safely */
    pthread_mutex_unlock(&s->mu);
    *out = s;
    return 0;
fail:
    if (s) {
        free(s->waiting);
        free(s->finished);
    }
    free(s);
    return RT_ENOMEM;
}

int rt_slots_count(const rt_slots *s) { return s->nthreads; }

int rt_slots_busy(rt_slots *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->busy;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void rt_slots_submit(rt_slots *s, void *job)
{
    pthread_mutex_lock(&s->mu);
    assert(s->busy < s->nthreads);
    s->waiting[(s->wait_head + s->nwaiting) % s->nthreads] = job;
    s->nwaiting++;
    s->busy++;
    pthread_cond_signal(&s->todo);
    pthread_mutex_unlock(&s->mu);
}

void *rt_slots_collect(rt_slots *s, double seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    if (seconds < 0)
        seconds = 0;
    long long ns = until.tv_nsec + (long long)(seconds * 1e9);
    until.tv_sec += (time_t)(ns / 1000000000LL);
    until.tv_nsec = (long)(ns % 1000000000LL);
    pthread_mutex_lock(&s->mu);
    while (!s->nfinished && seconds > 0)
        if (pthread_cond_timedwait(&s->done, &s->mu, &until) != 0)
            break;
    void *job = NULL;
    if (s->nfinished) {
        job = s->finished[s->fin_head];
        s->fin_head = (s->fin_head + 1) % s->nthreads;
        s->nfinished--;
        s->busy--;
    }
    pthread_mutex_unlock(&s->mu);
    return job;
}

void rt_slots_stop(rt_slots *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    assert(s->busy == 0);
    s->quit = 1;
    pthread_cond_broadcast(&s->todo);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nthreads; i++)
        pthread_join(s->threads[i], NULL);
    pthread_cond_destroy(&s->todo);
    pthread_cond_destroy(&s->done);
    pthread_mutex_destroy(&s->mu);
    free(s->waiting);
    free(s->finished);
    free(s);
}
