/* mpi.c — rank 0's remote job slots and the workers' loop (mpi.h, docs/scaling.md). */
#include "mpi/mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int rt_mpi_launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        long n;
        if (v && rt_parse_long(v, 0, 1L << 30, &n) == 0 && n > 1)
            return 1;
    }
    return 0;
}

#ifndef RT_HAVE_MPI

int rt_mpi_start(int *rank, int *size, char *err, size_t errlen)
{
    *rank = 0;
    *size = 1;
    return rt_fail(err, errlen, RT_EUSAGE,
                   "this ratchet was built without Open MPI (scripts/deps.sh build installs it)");
}

int rt_mpi_worker(void) { return 2; }

int rt_mpi_attach(rt_run *run, const char *store, double timeout, char *err, size_t errlen)
{
    (void)run;
    (void)store;
    (void)timeout;
    return rt_fail(err, errlen, RT_EUSAGE, "this ratchet was built without Open MPI");
}

int rt_mpi_finish(int status) { return status; }

long long rt_mpi_jobs(void) { return 0; }

#else /* RT_HAVE_MPI */

#include <jansson.h>
#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <time.h>

#include "engine.h"
#include "mpi/wire.h"
#include "policy.h"
#include "proposer.h"
#include "proposer_opts.h"
#include "sandbox/sandbox.h"

enum { TAG_SETUP = 1, TAG_READY, TAG_JOB, TAG_REPLY, TAG_CANCEL, TAG_QUIT };

/* Seconds rank 0 still waits for a cancelled job's reply before the worker counts as lost. */
#define CANCEL_GRACE 10.0

static pthread_mutex_t mpi_lock = PTHREAD_MUTEX_INITIALIZER; /* every MPI call on rank 0 */
static atomic_llong njobs;

long long rt_mpi_jobs(void) { return atomic_load(&njobs); }

/* Sleeps a little longer each time it is called in a row (from 20 us to 1 ms): a reply to a
 * matmul job comes within milliseconds, a program's within seconds. */
static void backoff(long *ns)
{
    struct timespec ts = {0, *ns};
    nanosleep(&ts, NULL);
    if (*ns < 1000000)
        *ns *= 2;
}

static void mpi_why(int code, const char *what, int rank, char *err, size_t errlen)
{
    char s[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (MPI_Error_string(code, s, &n) != MPI_SUCCESS)
        snprintf(s, sizeof s, "error %d", code);
    snprintf(err, errlen, "MPI worker rank %d lost: %s: %s", rank, what, s);
}

int rt_mpi_start(int *rank, int *size, char *err, size_t errlen)
{
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
        return rt_fail(err, errlen, RT_EUSAGE, "MPI_Init_thread failed");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    if (provided < MPI_THREAD_SERIALIZED) {
        MPI_Abort(MPI_COMM_WORLD, 2);
        return rt_fail(err, errlen, RT_EUSAGE, "this MPI gives no MPI_THREAD_SERIALIZED");
    }
    return 0;
}

/* Waits for a request under the lock, polling, until deadline (rt_now seconds). 0, or 1 with
 * err set (an error, or the deadline). */
static int wait_req(MPI_Request *req, int rank, double deadline, const char *what, char *err,
                    size_t errlen)
{
    long ns = 20000;
    for (;;) {
        int done = 0;
        pthread_mutex_lock(&mpi_lock);
        int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        pthread_mutex_unlock(&mpi_lock);
        if (rc != MPI_SUCCESS) {
            mpi_why(rc, what, rank, err, errlen);
            return 1;
        }
        if (done)
            return 0;
        if (rt_now() > deadline) {
            snprintf(err, errlen, "MPI worker rank %d lost: %s took over its deadline", rank,
                     what);
            return 1;
        }
        backoff(&ns);
    }
}

/* Sends len bytes to rank and waits until they are out (0, or 1 with err set). */
static int send_to(int rank, int tag, const char *data, size_t len, double deadline,
                   const char *what, char *err, size_t errlen)
{
    if (len > (size_t)1 << 30)
        return rt_fail(err, errlen, 1, "a message to rank %d is over 1 GiB", rank);
    MPI_Request req;
    pthread_mutex_lock(&mpi_lock);
    int rc = MPI_Isend(data, (int)len, MPI_CHAR, rank, tag, MPI_COMM_WORLD, &req);
    pthread_mutex_unlock(&mpi_lock);
    if (rc != MPI_SUCCESS) {
        mpi_why(rc, what, rank, err, errlen);
        return 1;
    }
    return wait_req(&req, rank, deadline, what, err, errlen);
}

/* Probes for a message from rank with tag; receives it into *out (NUL-terminated, the caller
 * frees it). Returns 0 when received, -1 when none yet, 1 on an error (err set). */
static int try_recv(int rank, int tag, char **out, size_t *len, char *err, size_t errlen)
{
    int flag = 0, n = 0;
    MPI_Status st;
    pthread_mutex_lock(&mpi_lock);
    int rc = MPI_Iprobe(rank, tag, MPI_COMM_WORLD, &flag, &st);
    if (rc == MPI_SUCCESS && flag)
        rc = MPI_Get_count(&st, MPI_CHAR, &n);
    char *buf = rc == MPI_SUCCESS && flag ? malloc((size_t)n + 1) : NULL;
    if (buf)
        rc = MPI_Recv(buf, n, MPI_CHAR, rank, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    pthread_mutex_unlock(&mpi_lock);
    if (rc != MPI_SUCCESS) {
        free(buf);
        mpi_why(rc, "receiving", rank, err, errlen);
        return 1;
    }
    if (!flag)
        return -1;
    if (!buf) {
        snprintf(err, errlen, "out of memory for a message of rank %d", rank);
        return 1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = (size_t)n;
    return 0;
}

/* ---- rank 0 ------------------------------------------------------------------------------- */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t freed;
    int size;
    int *idle; /* ranks waiting for a job */
    int nidle;
    int lost;  /* a worker was lost: the job is aborted at the end */
    double timeout;
    rt_remote remote;
} co = {.mu = PTHREAD_MUTEX_INITIALIZER, .freed = PTHREAD_COND_INITIALIZER};

static int take_rank(void)
{
    pthread_mutex_lock(&co.mu);
    while (!co.nidle && !co.lost)
        pthread_cond_wait(&co.freed, &co.mu);
    int rank = co.nidle ? co.idle[--co.nidle] : -1;
    pthread_mutex_unlock(&co.mu);
    return rank;
}

static void give_rank(int rank, int lost)
{
    pthread_mutex_lock(&co.mu);
    if (lost)
        co.lost = 1;
    else
        co.idle[co.nidle++] = rank;
    pthread_cond_broadcast(&co.freed);
    pthread_mutex_unlock(&co.mu);
}

/* Waits for rank's reply to the job out; tells it to stop when stop rises. 0 with *text, or 1
 * (the worker is lost, err says why). */
static int await_reply(int rank, const volatile int *stop, char **text, size_t *len, char *err,
                       size_t errlen)
{
    double deadline = rt_now() + co.timeout;
    int cancelled = 0;
    long ns = 20000;
    for (;;) {
        int rc = try_recv(rank, TAG_REPLY, text, len, err, errlen);
        if (rc >= 0)
            return rc;
        if (*stop && !cancelled) {
            cancelled = 1;
            if (send_to(rank, TAG_CANCEL, "", 0, rt_now() + CANCEL_GRACE, "cancelling a job",
                        err, errlen))
                return 1;
            if (deadline > rt_now() + CANCEL_GRACE)
                deadline = rt_now() + CANCEL_GRACE;
        }
        if (rt_now() > deadline) {
            snprintf(err, errlen, "MPI worker rank %d lost: no reply in %g s", rank,
                     cancelled ? CANCEL_GRACE : co.timeout);
            return 1;
        }
        backoff(&ns);
    }
}

/* The operator's own static name for a name a worker sent ("?" when the problem has none). */
static const char *op_name(const rt_problem *problem, const char *name)
{
    size_t n = 0;
    const rt_operator *ops = rt_problem_operators(problem, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(ops[i].name, name) == 0)
            return ops[i].name;
    return "?";
}

/* Turns a worker's reply into the job's proposal: the child decoded here from its text, the
 * claim attached to it. 0, 1 (a reply rank 0 cannot use: the worker is lost) or RT_ENOMEM. */
static int take_reply(const rt_problem *problem, rt_wire_reply *w, rt_rng *rng, rt_proposal *prop,
                      int *evaluated, rt_evaluation *ev, int rank, char *err, size_t errlen)
{
    *rng = w->rng;
    prop->op = op_name(problem, w->op);
    prop->work = w->work;
    snprintf(prop->reason, sizeof prop->reason, "%s", w->reason);
    snprintf(prop->detail, sizeof prop->detail, "%s", w->detail);
    if (w->rc < 0) /* the worker could not do the job (a parent it cannot decode, no memory) */
        return rt_fail(err, errlen, 1, "MPI worker rank %d lost: it failed a job (%d): %s", rank,
                       w->rc, w->reason);
    if (!w->child || w->cut)
        return 0;
    char why[256];
    void *child = NULL;
    int rc = rt_problem_decode(problem, w->child, w->len, &child, why, sizeof why);
    if (rc == RT_ENOMEM)
        return rc;
    if (rc) {
        snprintf(err, errlen, "MPI worker rank %d lost: its child does not decode: %s", rank,
                 why);
        return 1;
    }
    if (w->evaluated) {
        rt_problem_claim(problem, child, w->failed, &w->score, w->metrics, w->artifacts);
        w->metrics = w->artifacts = NULL;
        memset(ev, 0, sizeof *ev);
        ev->failed = w->failed;
        snprintf(ev->reason, sizeof ev->reason, "%s", w->ev_reason);
        snprintf(ev->detail, sizeof ev->detail, "%s", w->ev_detail);
        rt_problem_annotations(problem, child, &ev->metrics, &ev->artifacts);
        *evaluated = 1;
    }
    prop->child = child;
    return 0;
}

/* The message of a job: the views' canonical texts (with what a proposer is shown of them), the
 * operator and the island's generator. 0, RT_EUSAGE (a text that is not UTF-8) or RT_ENOMEM. */
static int job_message(const rt_problem *problem, const rt_propose_ctx *ctx, const rt_rng *rng,
                       int op_index, rt_buf *out)
{
    rt_wire_job job;
    memset(&job, 0, sizeof job);
    job.island = ctx->island;
    job.generation = ctx->generation;
    job.op_index = op_index;
    job.rng = *rng;
    int rc = 0;
    for (size_t k = 0; !rc && k <= ctx->ninspirations && k < RT_WIRE_MAX_VIEWS; k++) {
        const rt_candidate_view *v = k ? &ctx->inspirations[k - 1] : &ctx->parent;
        rt_wire_view *w = &job.views[job.nviews++];
        rt_buf t;
        rt_buf_init(&t, 0);
        rc = rt_problem_encode(problem, v->genome, &t) ? RT_ENOMEM : 0;
        w->len = t.len;
        w->text = rt_buf_take(&t);
        rt_buf_free(&t);
        snprintf(w->hash, sizeof w->hash, "%s", v->hash);
        w->score = v->score;
        w->metrics = v->metrics ? strdup(v->metrics) : NULL;
        w->artifacts = v->artifacts ? strdup(v->artifacts) : NULL;
        if (!rc && (!w->text || (v->metrics && !w->metrics) || (v->artifacts && !w->artifacts)))
            rc = RT_ENOMEM;
    }
    if (!rc)
        rc = rt_wire_job_encode(&job, out);
    rt_wire_job_free(&job);
    return rc;
}

/* rt_remote.propose: one job on an idle worker. */
static int remote_propose(void *user, const rt_problem *problem, const rt_propose_ctx *ctx,
                          rt_rng *rng, rt_proposal *prop, int *evaluated, rt_evaluation *ev,
                          const volatile int *stop, char *err, size_t errlen)
{
    (void)user;
    prop->child = NULL;
    int rank = take_rank();
    if (rank < 0)
        return rt_fail(err, errlen, 1, "no MPI worker left");
    rt_buf msg;
    rt_buf_init(&msg, 0);
    int erc = job_message(problem, ctx, rng, prop->op_index, &msg);
    if (erc) {
        rt_buf_free(&msg);
        give_rank(rank, 0);
        if (erc == RT_EUSAGE) /* a parent that is not UTF-8 text: this job makes no child */
            snprintf(prop->reason, sizeof prop->reason, "a parent is not UTF-8 text (MPI runs "
                                                        "carry text only)");
        return erc == RT_EUSAGE ? 0 : erc;
    }
    char *text = NULL;
    size_t len = 0;
    int rc = send_to(rank, TAG_JOB, msg.data, msg.len, rt_now() + co.timeout, "sending a job",
                     err, errlen);
    rt_buf_free(&msg);
    if (!rc)
        rc = await_reply(rank, stop, &text, &len, err, errlen);
    atomic_fetch_add(&njobs, 1);
    rt_wire_reply w;
    char why[256];
    if (!rc && rt_wire_reply_decode(text, len, &w, why, sizeof why)) {
        snprintf(err, errlen, "MPI worker rank %d lost: %s", rank, why);
        rc = 1;
    } else if (!rc) {
        rc = take_reply(problem, &w, rng, prop, evaluated, ev, rank, err, errlen);
        rt_wire_reply_free(&w);
    }
    free(text);
    give_rank(rank, rc == 1);
    return rc;
}

/* The setup every worker gets: the run's problem, proposer, its options and policy. */
static int setup_text(rt_run *run, const char *store, rt_buf *out)
{
    rt_buf opts, pol;
    rt_buf_init(&opts, 0);
    rt_buf_init(&pol, 0);
    const rt_problem *p = rt_run_problem(run);
    int rc = rt_run_proposer_options(run, &opts);
    if (!rc)
        rc = rt_policy_print(rt_run_policy(run), &pol);
    json_t *o = rc ? NULL : json_object();
    if (o) {
        json_object_set_new(o, "problem", json_string(rt_problem_name(p)));
        json_object_set_new(o, "params", json_string(rt_problem_params(p)));
        json_object_set_new(o, "proposer", json_string(rt_run_proposer_name(run)));
        json_object_set_new(o, "options", json_string(rt_buf_cstr(&opts)));
        json_object_set_new(o, "policy", json_string(rt_buf_cstr(&pol)));
        json_object_set_new(o, "store", json_string(store));
        char *s = json_dumps(o, JSON_COMPACT);
        rc = s ? rt_buf_puts(out, s) : RT_ENOMEM;
        free(s);
        json_decref(o);
    }
    rt_buf_free(&opts);
    rt_buf_free(&pol);
    return rc ? RT_ENOMEM : 0;
}

/* Waits for every worker's answer to the setup. 0, or RT_EUSAGE naming the first that failed. */
static int await_ready(char *err, size_t errlen)
{
    for (int rank = 1; rank < co.size; rank++) {
        double deadline = rt_now() + co.timeout;
        char *text = NULL;
        size_t len = 0;
        long ns = 20000;
        int rc;
        while ((rc = try_recv(rank, TAG_READY, &text, &len, err, errlen)) < 0) {
            if (rt_now() > deadline)
                return rt_fail(err, errlen, RT_EUSAGE, "MPI rank %d did not answer", rank);
            backoff(&ns);
        }
        if (rc)
            return RT_EUSAGE;
        int bad = len > 0;
        if (bad)
            rt_fail(err, errlen, RT_EUSAGE, "MPI rank %d: %s", rank, text);
        free(text);
        if (bad)
            return RT_EUSAGE;
    }
    return 0;
}

int rt_mpi_attach(rt_run *run, const char *store, double timeout, char *err, size_t errlen)
{
    if (strcmp(rt_run_proposer_name(run), "builtin") != 0)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "an MPI run takes the builtin proposer, not %s (docs/scaling.md)",
                       rt_run_proposer_name(run));
    if (!rt_problem_takes_claims(rt_run_problem(run)))
        return rt_fail(err, errlen, RT_EUSAGE,
                       "an MPI run of %s is not supported yet: the problem cannot take a "
                       "worker's evaluation (no claim method; docs/scaling.md)",
                       rt_problem_name(rt_run_problem(run)));
    MPI_Comm_size(MPI_COMM_WORLD, &co.size);
    co.timeout = timeout;
    co.idle = calloc((size_t)co.size, sizeof *co.idle);
    rt_buf msg;
    rt_buf_init(&msg, 0);
    if (!co.idle || setup_text(run, store, &msg)) {
        rt_buf_free(&msg);
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    }
    int rc = 0;
    for (int rank = 1; !rc && rank < co.size; rank++)
        if (send_to(rank, TAG_SETUP, msg.data, msg.len, rt_now() + timeout, "setting up", err,
                    errlen))
            rc = RT_EUSAGE;
    rt_buf_free(&msg);
    if (!rc)
        rc = await_ready(err, errlen);
    if (rc)
        return rc;
    for (int rank = co.size - 1; rank >= 1; rank--)
        co.idle[co.nidle++] = rank;
    co.remote = (rt_remote){.workers = co.size - 1, .propose = remote_propose};
    rt_run_set_remote(run, &co.remote);
    return 0;
}

static double cpu_seconds(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* One line on stderr: the jobs rank 0 handed out and the CPU time it spent on them (what bounds
 * how many workers one store owner can feed: docs/scaling.md). */
static void report_use(void)
{
    /* the programs rank 0 ran (the verifier, re-run evaluators) count: they are its work */
    double self = cpu_seconds(RUSAGE_SELF), kids = cpu_seconds(RUSAGE_CHILDREN);
    double cpu = self + kids;
    long long jobs = rt_mpi_jobs();
    fprintf(stderr, "ratchet: MPI: %lld jobs on %d workers; rank 0 used %.2f CPU s (%.2f its "
                    "own, %.2f in programs it ran): %.0f jobs per CPU second of rank 0\n",
            jobs, co.size - 1, cpu, self, kids, cpu > 0 ? (double)jobs / cpu : 0);
}

int rt_mpi_finish(int status)
{
    if (co.size > 1)
        report_use();
    if (co.lost) {
        /* the store is closed and complete; MPI_Abort ends the workers (one of which may hang)
         * and this process, without the stop message of the run's SIGTERM handler */
        signal(SIGTERM, SIG_DFL);
        fflush(NULL);
        MPI_Abort(MPI_COMM_WORLD, status ? status : 1);
        return status;
    }
    int size = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char err[256];
    for (int rank = 1; rank < size; rank++)
        send_to(rank, TAG_QUIT, "", 0, rt_now() + CANCEL_GRACE, "quitting", err, sizeof err);
    MPI_Finalize();
    free(co.idle);
    return status;
}

#endif /* RT_HAVE_MPI */
