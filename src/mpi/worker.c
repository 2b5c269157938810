/* worker.c — a worker rank of an MPI run (mpi.h): set up from rank 0's description of the run,
 * then propose and evaluate the jobs it is sent, one at a time, until told to quit. */
#ifdef RT_HAVE_MPI

#include <jansson.h>
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi/mpi.h"
#include "mpi/wire.h"
#include "policy.h"
#include "problem.h"
#include "proposer.h"
#include "proposer_opts.h"
#include "sandbox/sandbox.h"

enum { TAG_SETUP = 1, TAG_READY, TAG_JOB, TAG_REPLY, TAG_CANCEL, TAG_QUIT };

typedef struct worker {
    rt_problem *problem;
    rt_policy policy;
    rt_proposer proposer;
    rt_proposer_opts popts;
    volatile int cancel;  /* rank 0 said stop: the job's sandboxes are killed */
    pthread_t thread;
    int running;
    atomic_int done;
    char *job;            /* the job's text, while it runs */
    size_t job_len;
    rt_buf reply;
} worker;

static void nap(long *ns)
{
    struct timespec ts = {0, *ns};
    nanosleep(&ts, NULL);
    if (*ns < 1000000)
        *ns *= 2;
}

/* The next message from rank 0, if there is one: 0 (received), -1 (none), 1 (MPI error). */
static int poll_msg(int *tag, char **text, size_t *len)
{
    int flag = 0, n = 0;
    MPI_Status st;
    if (MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS)
        return 1;
    if (!flag)
        return -1;
    if (MPI_Get_count(&st, MPI_CHAR, &n) != MPI_SUCCESS)
        return 1;
    char *buf = malloc((size_t)n + 1);
    if (!buf || MPI_Recv(buf, n, MPI_CHAR, 0, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE) !=
                    MPI_SUCCESS) {
        free(buf);
        return 1;
    }
    buf[n] = '\0';
    *tag = st.MPI_TAG;
    *text = buf;
    *len = (size_t)n;
    return 0;
}

static void hide(const char *store)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[4200];
    for (size_t i = 0; store && *store && i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(path, sizeof path, "%s%s", store, suffixes[i]);
        rt_sandbox_hide(path);
    }
}

/* Makes the run's problem, policy and proposer from rank 0's setup. 0, or 1 with err set. */
static int setup(worker *w, const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = json_loadb(text, len, 0, &je);
    const char *problem = json_string_value(json_object_get(o, "problem"));
    const char *params = json_string_value(json_object_get(o, "params"));
    const char *proposer = json_string_value(json_object_get(o, "proposer"));
    const char *options = json_string_value(json_object_get(o, "options"));
    const char *policy = json_string_value(json_object_get(o, "policy"));
    int rc = 1;
    rt_policy_defaults(&w->policy);
    if (!problem || !params || !proposer || !options || !policy)
        snprintf(err, errlen, "a setup without its problem, proposer or policy");
    else if (rt_policy_parse(&w->policy, policy, strlen(policy), err, errlen) ||
             rt_problem_open_canonical(&w->problem, problem, params, err, errlen))
        ;
    else if (rt_proposer_opts_merge(&w->popts, options, NULL, NULL, 0, err, errlen) == 0 &&
             rt_problem_configure(w->problem, &w->policy, err, errlen) == 0) {
        rc = rt_proposer_init(&w->proposer, proposer, w->problem,
                              (const char *const *)w->popts.keys,
                              (const char *const *)w->popts.values, w->popts.n, &w->policy,
                              &w->cancel, err, errlen) != 0;
    }
    hide(json_string_value(json_object_get(o, "store")));
    json_decref(o);
    return rc;
}

/* The job's views as genomes of this process (the proposer reads them). */
static int job_views(worker *w, rt_wire_job *job, rt_candidate_view *v, void **genomes)
{
    int context = rt_proposer_wants_context(&w->proposer);
    for (size_t k = 0; k < job->nviews; k++) {
        rt_wire_view *jv = &job->views[k];
        char why[256];
        if (rt_problem_decode(w->problem, jv->text, jv->len, &genomes[k], why, sizeof why))
            return -1;
        rt_problem_restore_annotations(w->problem, genomes[k], jv->metrics, jv->artifacts);
        jv->metrics = jv->artifacts = NULL;
        v[k] = (rt_candidate_view){.genome = genomes[k], .hash = jv->hash, .score = jv->score};
        if (context) {
            v[k].text = jv->text;
            v[k].len = jv->len;
            rt_problem_annotations(w->problem, genomes[k], &v[k].metrics, &v[k].artifacts);
        }
    }
    return 0;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* Evaluates the child (a problem with an evaluator) into the reply: the claim. */
static int evaluate(worker *w, void *child, rt_wire_reply *out)
{
    rt_evaluation ev;
    memset(&ev, 0, sizeof ev);
    int rc = rt_problem_evaluate(w->problem, child, &ev);
    if (rc < 0)
        return rc;
    out->evaluated = 1;
    out->failed = ev.failed;
    rt_problem_score(w->problem, child, &out->score);
    snprintf(out->ev_reason, sizeof out->ev_reason, "%s", ev.reason);
    snprintf(out->ev_detail, sizeof out->ev_detail, "%s", ev.detail);
    out->metrics = dup_or_null(ev.metrics);
    out->artifacts = dup_or_null(ev.artifacts);
    return 0;
}

/* Proposes (and evaluates) the child of a decoded job into out. */
static void propose(worker *w, rt_wire_job *job, rt_wire_reply *out)
{
    rt_candidate_view v[RT_WIRE_MAX_VIEWS];
    void *genomes[RT_WIRE_MAX_VIEWS] = {0};
    rt_proposal prop;
    memset(&prop, 0, sizeof prop);
    prop.op_index = job->op_index;
    int before = rt_sandbox_cancelled();
    if (job_views(w, job, v, genomes)) {
        out->rc = RT_EUSAGE;
        snprintf(out->reason, sizeof out->reason, "a job's parent does not decode");
    } else {
        rt_propose_ctx ctx = {.parent = v[0], .inspirations = &v[1],
                              .ninspirations = job->nviews - 1, .island = job->island,
                              .generation = job->generation};
        out->rc = rt_proposer_propose(&w->proposer, w->problem, &ctx, &job->rng, &prop);
    }
    out->rng = job->rng;
    snprintf(out->op, sizeof out->op, "%s", prop.op ? prop.op : "?");
    out->work = prop.work;
    snprintf(out->reason, sizeof out->reason, "%s", prop.reason);
    snprintf(out->detail, sizeof out->detail, "%s", prop.detail);
    int evaluates = rt_problem_evaluates(w->problem);
    if (!out->rc && prop.child && evaluates && !w->cancel)
        out->rc = evaluate(w, prop.child, out);
    rt_buf t;
    rt_buf_init(&t, 0);
    if (!out->rc && prop.child && rt_problem_encode(w->problem, prop.child, &t) == 0) {
        out->len = t.len;
        out->child = rt_buf_take(&t);
    }
    rt_buf_free(&t);
    out->cut = w->cancel && (rt_sandbox_cancelled() > before || (evaluates && !out->evaluated));
    rt_problem_free_genome(w->problem, prop.child);
    for (size_t k = 0; k < job->nviews; k++)
        rt_problem_free_genome(w->problem, genomes[k]);
}

static void *job_main(void *arg)
{
    worker *w = arg;
    rt_sandbox_cancel_scope(&w->cancel);
    rt_wire_job job;
    rt_wire_reply out;
    memset(&out, 0, sizeof out);
    char why[256];
    if (rt_wire_job_decode(w->job, w->job_len, &job, why, sizeof why)) {
        out.rc = RT_EUSAGE;
        snprintf(out.reason, sizeof out.reason, "%s", why);
    } else {
        propose(w, &job, &out);
        rt_wire_job_free(&job);
    }
    rt_buf_reset(&w->reply);
    int rc = rt_wire_reply_encode(&out, &w->reply);
    if (rc == RT_EUSAGE) { /* a child that is not UTF-8 text: dropped with its reason */
        free(out.child);
        out.child = NULL;
        out.evaluated = 0;
        snprintf(out.reason, sizeof out.reason, "the child is not UTF-8 text (MPI runs carry "
                                                "text only)");
        rt_buf_reset(&w->reply);
        rc = rt_wire_reply_encode(&out, &w->reply);
    }
    if (rc)
        rt_buf_reset(&w->reply); /* an empty reply: rank 0 counts this worker lost */
    rt_wire_reply_free(&out);
    rt_sandbox_cancel_scope(NULL);
    atomic_store(&w->done, 1);
    return NULL;
}

/* Sends the finished job's reply. 0, or 1 on an MPI error. */
static int finish_job(worker *w)
{
    pthread_join(w->thread, NULL);
    w->running = 0;
    free(w->job);
    w->job = NULL;
    return MPI_Send(w->reply.data ? w->reply.data : "", (int)w->reply.len, MPI_CHAR, 0,
                    TAG_REPLY, MPI_COMM_WORLD) != MPI_SUCCESS;
}

/* Jobs until rank 0 says quit. 0, or 1 when MPI failed (rank 0 is gone). */
static int serve(worker *w)
{
    long ns = 20000;
    for (;;) {
        if (w->running && atomic_load(&w->done)) {
            if (finish_job(w))
                return 1;
            ns = 20000;
            continue;
        }
        int tag = 0;
        char *text = NULL;
        size_t len = 0;
        int rc = poll_msg(&tag, &text, &len);
        if (rc > 0)
            return 1;
        if (rc < 0) {
            nap(&ns);
            continue;
        }
        ns = 20000;
        if (tag == TAG_JOB && !w->running) {
            w->cancel = 0;
            w->job = text;
            w->job_len = len;
            atomic_store(&w->done, 0);
            w->running = pthread_create(&w->thread, NULL, job_main, w) == 0;
            if (!w->running)
                return 1;
            continue;
        }
        free(text);
        if (tag == TAG_CANCEL || tag == TAG_QUIT)
            w->cancel = 1;
        if (tag == TAG_QUIT) {
            if (w->running)
                pthread_join(w->thread, NULL);
            free(w->job);
            return 0;
        }
    }
}

int rt_mpi_worker(void)
{
    worker w;
    memset(&w, 0, sizeof w);
    rt_buf_init(&w.reply, 0);
    int tag = 0, rc;
    char *text = NULL;
    size_t len = 0;
    long ns = 20000;
    while ((rc = poll_msg(&tag, &text, &len)) < 0)
        nap(&ns);
    char err[512] = "";
    if (!rc && tag == TAG_SETUP) {
        setup(&w, text, len, err, sizeof err);
        free(text);
        rc = MPI_Send(err, (int)strlen(err), MPI_CHAR, 0, TAG_READY, MPI_COMM_WORLD) !=
             MPI_SUCCESS;
        if (!rc)
            rc = serve(&w); /* after a failed setup rank 0 only says quit */
    } else if (!rc) {
        free(text); /* quit before any setup: rank 0 could not open the run */
    }
    rt_proposer_free(&w.proposer);
    rt_proposer_opts_free(&w.popts);
    rt_problem_close(w.problem);
    rt_buf_free(&w.reply);
    if (!rc)
        MPI_Finalize();
    return rc ? 1 : 0;
}

#endif /* RT_HAVE_MPI */
