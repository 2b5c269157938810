/* engine.c — the loop: select parents, propose children, drop duplicates, ask the gate, record.
 *
 * Two schedules (docs/scheduling.md):
 * - *generations*, for work done inside the process (the builtin proposer on a problem without
 *   an external evaluator: matmul): one generation makes one child per island, parents selected
 *   and children proposed with each island's own random generator, in parallel on worker
 *   threads; the children are then deduplicated, judged by the gate and stored one by one in
 *   island order. So a run is the same for a given seed whatever the number of threads.
 * - *job slots*, for work that leaves the process (an evaluator, a proposer command, a language
 *   model), and for in-process work when rt_run_options.steady asks (`ratchet run`'s default
 *   on one machine: at <5,5,5> a generation kept a thread idle beside one long run): each free
 *   slot gets the next island's job (propose, then evaluate) at once, and each finished job is
 *   judged and stored as soon as it is back, whatever the others are doing. With
 *   one slot the order is fixed, so a seed still gives one run; with more it follows the order
 *   in which jobs finish. At the deadline, or on rt_run_stop, the jobs in flight are cut: their
 *   sandboxes killed, their requests abandoned, a `cut` event stored for each.
 *
 * Failures (a proposal without a child, a failed evaluation) are counted by cause (failures.h);
 * engine.stop_after_failures of one cause in a row end the run with RT_EFAILED.
 *
 * A child flows one way: proposal -> prepared (text, hash, duplicate key; evaluation and
 * verification ahead on a worker thread when the problem's proxy is expensive) -> the gate's
 * ruling (gate.c decides everything about admission and is the only caller of
 * rt_archive_offer) -> its row in the store -> the proposer's feedback and the bandit.
 *
 * The store gets one transaction per checkpoint: candidate rows and the engine state that
 * accounts for them commit together, every commit_interval seconds and at once whenever a new
 * best is admitted (a reported best is always a committed one).
 */
#include <assert.h>
#include <pthread.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "engine.h"
#include "bandit.h"
#include "failures.h"
#include "gate.h"
#include "hashset.h"
#include "policy.h"
#include "proposer.h"
#include "proposer_opts.h"
#include "recent.h"
#include "sandbox/sandbox.h"
#include "slots.h"
#include "store/query.h"
#include "store/store.h"
#include "store/write.h"

/* Duplicates are recognised by the first 16 hex digits (64 bits) of a candidate's SHA-256 (or of
 * its problem's dedupe text); the store's UNIQUE column is the authority. */
#define SEEN_KEY_DIGITS 16

/* ---- the run ----------------------------------------------------------------------------- */

struct rt_run {
    rt_db *db;
    rt_problem *problem;
    rt_proposer proposer;
    rt_proposer_opts popts; /* the proposer's options: given, or stored and given (resume) */
    rt_archive archive;
    rt_gate gate;
    rt_rng *rng;
    int nislands;
    rt_policy policy;
    rt_bandit bandit; /* chooses operators; updated in island order */
    rt_hashset seen; /* duplicate keys of every candidate of the run */
    pthread_mutex_t seen_lock; /* job slots read seen while the engine's thread adds to it */
    rt_failures failures;
    rt_recent recent; /* the recent experiments, for proposers that read a prompt */
    int failing; /* stopped by a run of failures of one cause (stop_reason says which) */
    long long nothing_new, dup_streak; /* proposals in a row that made no new candidate, and
                                          the duplicates among them */
    rt_run_options opt;
    const rt_remote *remote; /* proposals made elsewhere (MPI workers), or NULL */

    long long generation, evaluations, duplicates, failed, proxy_rejected;
    long long work; /* rt_proposal.work summed over this session */
    long long evals_committed; /* r->evaluations at the last checkpoint */
    double elapsed_before;
    int sessions;

    int has_best;
    rt_score best;
    double best_metric;
    char metric_name[32];

    double t_session;
    long long evals_at_start;
    volatile int stop;
    char stop_reason[640];
    int hashset_failed;
    char errmsg[512];
};

static int run_fail(rt_run *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int run_fail(rt_run *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

static int db_error(rt_run *r, int code)
{
    return run_fail(r, code, "%s", rt_db_errmsg(r->db));
}

void rt_run_options_init(rt_run_options *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->islands = 4;
    o->threads = 1;
    o->progress_interval = 0.25;
}

static double run_elapsed(const rt_run *r)
{
    return r->elapsed_before + (r->t_session > 0 ? rt_now() - r->t_session : 0);
}

static rt_run *run_new(const rt_run_options *opt)
{
    rt_run *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->opt = *opt;
    if (r->opt.threads < 1)
        r->opt.threads = 1;
    if (r->opt.progress_interval <= 0)
        r->opt.progress_interval = 0.25;
    rt_policy_defaults(&r->policy);
    rt_hashset_init(&r->seen, SEEN_KEY_DIGITS);
    pthread_mutex_init(&r->seen_lock, NULL);
    rt_failures_init(&r->failures);
    rt_recent_init(&r->recent);
    snprintf(r->metric_name, sizeof r->metric_name, "score");
    return r;
}

void rt_run_close(rt_run *r)
{
    if (!r)
        return;
    if (r->archive.islands)
        rt_archive_free(&r->archive);
    rt_proposer_free(&r->proposer);
    rt_proposer_opts_free(&r->popts);
    rt_problem_close(r->problem);
    rt_db_close(r->db);
    free(r->rng);
    rt_hashset_free(&r->seen);
    rt_recent_free(&r->recent);
    pthread_mutex_destroy(&r->seen_lock);
    free(r);
}

const char *rt_run_errmsg(const rt_run *r) { return r->errmsg; }

rt_policy *rt_run_policy(rt_run *r) { return &r->policy; }

void rt_run_noise_counts(const rt_run *r, rt_noise_counts *out) { *out = r->gate.noise; }

void rt_run_stop(rt_run *r) { r->stop = 1; }

void rt_run_set_remote(rt_run *r, const rt_remote *remote) { r->remote = remote; }

const rt_problem *rt_run_problem(const rt_run *r) { return r->problem; }

const char *rt_run_proposer_name(const rt_run *r) { return rt_proposer_name(&r->proposer); }

int rt_run_proposer_options(const rt_run *r, rt_buf *json)
{
    return rt_proposer_opts_json(&r->popts, json);
}

/* Puts the failure counts into the store's open transaction (meta "failures"). */
static int save_failures(rt_run *r)
{
    rt_buf b;
    rt_buf_init(&b, 0);
    int rc = rt_failures_to_json(&r->failures, &b);
    if (!rc)
        rc = rt_db_put_meta(r->db, "failures", rt_buf_cstr(&b));
    rt_buf_free(&b);
    return rc;
}

/* Writes the checkpoint (counters, generators, archive) and commits; opens the next
 * transaction. */
static int checkpoint(rt_run *r, int reopen)
{
    rt_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    cp.generation = r->generation;
    cp.evaluations = r->evaluations;
    cp.duplicates = r->duplicates;
    cp.failed = r->failed;
    cp.proxy_rejected = r->proxy_rejected;
    cp.elapsed = run_elapsed(r);
    cp.sessions = r->sessions;
    cp.nislands = r->nislands;
    for (int i = 0; i < r->nislands; i++)
        rt_rng_to_hex(&r->rng[i], cp.rng[i]);
    size_t n = 0;
    for (int i = 0; i < r->nislands; i++)
        n += (size_t)r->archive.islands[i].ncells;
    rt_archive_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        return run_fail(r, RT_ENOMEM, "out of memory");
    n = 0;
    for (int i = 0; i < r->nislands; i++) {
        const rt_island *is = &r->archive.islands[i];
        for (int c = 0; c < is->ncells; c++) {
            /* every elite is stored before anything checkpoints (record() names its row) */
            assert(is->cells[c].cand_id > 0);
            rows[n++] = (rt_archive_row){i, is->cells[c].cand_id, is->cells[c].migrated};
        }
    }
    int rc = rt_proposer_account(&r->proposer, r->db);
    if (!rc)
        rc = rt_db_save_checkpoint(r->db, &cp, rows, n);
    free(rows);
    if (!rc) {
        rt_buf bt;
        rt_buf_init(&bt, 0);
        rc = rt_bandit_save(&r->bandit, &bt);
        if (rc) {
            rt_buf_free(&bt);
            rt_db_rollback(r->db);
            return run_fail(r, rc, "out of memory");
        }
        rc = rt_db_put_meta(r->db, "bandit", rt_buf_cstr(&bt));
        rt_buf_free(&bt);
    }
    if (!rc)
        rc = save_failures(r);
    if (!rc)
        rc = rt_db_commit(r->db);
    if (!rc && reopen)
        rc = rt_db_begin(r->db);
    if (!rc)
        r->evals_committed = r->evaluations;
    if (rc) {
        rt_db_rollback(r->db);
        return db_error(r, rc);
    }
    return 0;
}

static void report(rt_run *r)
{
    if (!r->opt.progress)
        return;
    rt_progress p;
    memset(&p, 0, sizeof p);
    p.elapsed = run_elapsed(r);
    p.evaluations = r->evaluations;
    p.evaluated = r->evaluations - r->failed - r->duplicates;
    p.work = r->work;
    p.admitted = r->gate.passed;
    double dt = rt_now() - r->t_session;
    p.evals_per_second = dt > 0 ? (double)(r->evaluations - r->evals_at_start) / dt : 0;
    p.has_best = r->has_best;
    p.best_metric = r->best_metric;
    p.metric_name = r->metric_name;
    r->opt.progress(&p, r->opt.progress_user);
}

/* ---- one child: prepared, judged at the gate, recorded ------------------------------------ */

/* What the loop knows of one child, filled in the order it flows: canonical text, hash and
 * duplicate key; for problems with an expensive evaluation (rt_problem_evaluates) the evaluation
 * and the verification of the text, both done ahead on worker threads; then what became of it:
 * dropped as a duplicate, or the gate's ruling and whether it became the run's best. */
typedef struct prepared {
    int has_text;
    rt_buf text;
    char hash[65];
    char key[65];       /* duplicate key: hash of the problem's dedupe text, or of the text */
    int seen;           /* the key was seen in an earlier generation: nothing else was done */
    int evaluated;
    rt_evaluation ev;
    rt_gate_verification ahead;
    long long generation; /* of the proposal that made it */
    int made;           /* it reached the duplicate check */
    int duplicate;      /* dropped there */
    rt_gate_ruling ruling;
    int new_best;       /* admitted as the run's new best */
    int cut;            /* the gate's own runs were stopped by the end of the session: unjudged */
} prepared;

static void prepared_init(prepared *p)
{
    memset(p, 0, sizeof *p);
    rt_buf_init(&p->text, 0);
}

/* Encodes the child and computes its hash and duplicate key. Thread-safe (reads the run). */
static int prepare_text(const rt_run *r, const void *child, prepared *p)
{
    rt_buf_reset(&p->text);
    int rc = rt_problem_encode(r->problem, child, &p->text);
    if (rc)
        return rc;
    rt_sha256_hex(p->text.data, p->text.len, p->hash);
    memcpy(p->key, p->hash, sizeof p->key);
    if (rt_problem_dedupes(r->problem)) {
        rt_buf norm;
        rt_buf_init(&norm, 0);
        rc = rt_problem_dedupe_text(r->problem, p->text.data, p->text.len, &norm);
        if (!rc)
            rt_sha256_hex(norm.data, norm.len, p->key);
        rt_buf_free(&norm);
        if (rc)
            return rc;
    }
    p->has_text = 1;
    return 0;
}

/* The expensive part, for problems with evaluate(): runs on worker threads. Skips children
 * seen in earlier generations; the gate verifies ahead what evaluated without failure (and
 * decides later, in island order). Returns 0 or a negative code (out of memory). */
static int prepare_eval(rt_run *r, void *child, prepared *p, int check_seen)
{
    int rc = p->has_text ? 0 : prepare_text(r, child, p);
    if (rc)
        return rc;
    if (check_seen) {
        pthread_mutex_lock(&r->seen_lock);
        p->seen = rt_hashset_has(&r->seen, p->key);
        pthread_mutex_unlock(&r->seen_lock);
        if (p->seen)
            return 0;
    }
    if (!p->evaluated) { /* else a remote worker evaluated it (rt_remote) */
        rc = rt_problem_evaluate(r->problem, child, &p->ev);
        if (rc)
            return rc;
        p->evaluated = 1;
    }
    rt_gate_verify_ahead(&r->gate, &p->ev, p->text.data, p->text.len, &p->ahead);
    return 0;
}

/* A child just admitted beat the run's best: it becomes the best, an event says so, and the
 * checkpoint commits at once (a reported best is always a committed one). */
static int new_best(rt_run *r, const rt_gate_ruling *g, double time, const char *hash)
{
    const rt_verdict *v = &g->verdict;
    r->has_best = 1;
    r->best = g->score;
    r->best_metric = v->metric;
    snprintf(r->metric_name, sizeof r->metric_name, "%s", v->metric_name);
    char detail[400];
    if (g->trusted)
        snprintf(detail, sizeof detail, "%s %g: %s (admitted on the proxy alone; verified %s)",
                 v->metric_name, v->metric, hash, v->valid ? "valid" : "INVALID");
    else
        snprintf(detail, sizeof detail, "%s %g: %s", v->metric_name, v->metric, hash);
    int rc = rt_db_event(r->db, time, "best", detail);
    if (rc)
        return db_error(r, rc);
    if ((rc = checkpoint(r, 1)))
        return rc;
    report(r);
    return 0;
}

/* A score in the verifier's metric units, when its verdict says how they relate (the problem's
 * metric is its score or minus its score, as for research and matmul); else 0. */
static int metric_units(const rt_verdict *v, rt_score s, double *out)
{
    if (!v->valid || v->metric == 0 || !isfinite(v->score))
        return 0;
    double sign = v->score / v->metric;
    if (fabs(fabs(sign) - 1) > 1e-9)
        return 0;
    *out = sign > 0 ? s.primary : -s.primary;
    return 1;
}

/* Adds a judged child to the ledger of recent experiments (only for proposers that read a
 * prompt): what proposers are shown of its evaluation, never the stored metrics. */
static int note_recent(rt_run *r, const char *parent_hash, const void *child, const prepared *p,
                       long long id)
{
    if (!rt_proposer_wants_context(&r->proposer))
        return 0;
    const rt_gate_ruling *g = &p->ruling;
    const char *shown = NULL, *artifacts = NULL;
    rt_problem_shown(r->problem, child, &shown, &artifacts);
    rt_recent_set_metric(&r->recent, g->verdict.metric_name);
    int crashed = p->evaluated && p->ev.failed;
    rt_recent_entry e = {
        .id = id,
        .hash = p->hash,
        .parent_hash = parent_hash,
        .text = p->text.data,
        .len = p->text.len,
        .status = g->admitted ? "keep" : crashed ? "crash" : "discard",
        .trusted = g->trusted,
        .metrics = shown,
        .reason = g->admitted ? NULL : rt_gate_reason(g),
    };
    if (!crashed)
        e.has_value = metric_units(&g->verdict, g->proxy, &e.value);
    e.has_verified = metric_units(&g->verdict, g->verified, &e.verified);
    if (!e.has_verified && g->verdict.valid) {
        e.has_verified = 1;
        e.verified = g->verdict.metric;
    }
    return rt_recent_add(&r->recent, &e) ? run_fail(r, RT_ENOMEM, "out of memory") : 0;
}

/* Stores a judged child's row (its text, the proxy's claim, the gate's ruling), gives its
 * archive cell the row's id, and keeps the run's best. Frees child unless the archive took it. */
static int record(rt_run *r, int island, const char *parent_hash, const char *op, void *child,
                  prepared *p)
{
    const rt_gate_ruling *g = &p->ruling;
    const char *metrics, *artifacts;
    rt_problem_annotations(r->problem, child, &metrics, &artifacts);
    rt_cand_row row = {
        .hash = p->hash,
        .text = p->text.data,
        .len = p->text.len,
        .parent = parent_hash,
        .op = op,
        .island = island,
        .generation = p->generation,
        .proxy = g->proxy,
        .valid = g->verdict.valid,
        .verified = g->verified,
        .metric = g->verdict.metric,
        .reason = rt_gate_reason(g),
        .admitted = g->admitted,
        .time = run_elapsed(r),
        .trusted = g->trusted,
        .metrics = metrics,
        .artifacts = artifacts,
    };
    long long id = 0;
    int rc = rt_db_insert(r->db, &row, &id);
    int noted = rc ? 0 : note_recent(r, parent_hash, child, p, id);
    if (!g->admitted) /* after the insert: metrics and artifacts live in the genome */
        rt_problem_free_genome(r->problem, child);
    if (rc)
        return db_error(r, rc);
    if (noted)
        return noted;
    assert(!g->admitted || g->slot);
    if (g->slot)
        g->slot->cand_id = id;
    p->new_best = g->admitted && (!r->has_best || rt_score_cmp(g->score, r->best) > 0);
    return p->new_best ? new_best(r, g, row.time, p->hash) : 0;
}

/* Takes one child (or the seed, which has no parent and is not counted as an evaluation) through
 * the loop: duplicate check, evaluation unless a worker did it, the gate, the store. Takes
 * ownership of child (NULL: the proposer made none); p may carry work already done on a worker
 * thread and says afterwards what became of the child. */
static int process(rt_run *r, int island, const char *parent_hash, const char *op, void *child,
                   prepared *p)
{
    if (parent_hash)
        r->evaluations++;
    if (!child) {
        r->failed++;
        return 0;
    }
    int rc = p->has_text ? 0 : prepare_text(r, child, p);
    if (rc) {
        rt_problem_free_genome(r->problem, child);
        return run_fail(r, rc, "cannot encode a candidate (out of memory?)");
    }
    pthread_mutex_lock(&r->seen_lock);
    int fresh = rt_hashset_add(&r->seen, p->key);
    pthread_mutex_unlock(&r->seen_lock);
    if (fresh <= 0) {
        rt_problem_free_genome(r->problem, child);
        if (fresh < 0)
            return run_fail(r, RT_ENOMEM, "out of memory");
        p->made = p->duplicate = 1;
        r->duplicates++;
        return 0;
    }
    p->made = 1;
    if (rt_problem_evaluates(r->problem) && !p->evaluated &&
        (rc = prepare_eval(r, child, p, 0))) {
        rt_problem_free_genome(r->problem, child);
        return run_fail(r, rc, "cannot evaluate a candidate (out of memory?)");
    }
    assert(p->has_text && (p->evaluated || !rt_problem_evaluates(r->problem)));
    rt_gate_child at_gate = {
        .island = island,
        .genome = child,
        .text = p->text.data,
        .len = p->text.len,
        .hash = p->hash,
        .ev = p->evaluated ? &p->ev : NULL,
        .ahead = &p->ahead,
    };
    int cancelled = rt_sandbox_cancelled();
    rc = rt_gate_admit(&r->gate, &at_gate, &p->ruling);
    if (rc >= 0 && !p->ruling.admitted && rt_sandbox_cancelled() > cancelled) {
        /* a re-run of the gate (noise floor, confirmation) was stopped with the session: the
         * child was not judged, so nothing is stored for it (a later session may make it) */
        rt_problem_free_genome(r->problem, child);
        p->cut = 1;
        return 0;
    }
    if (rc < 0 || p->ruling.dropped) {
        rt_problem_free_genome(r->problem, child);
        if (rc < 0)
            return run_fail(r, rc, "%s", r->gate.errmsg);
        r->proxy_rejected++; /* the proxy itself rejected it: counted, not stored */
        return 0;
    }
    return record(r, island, parent_hash, op, child, p);
}

/* What became of a processed proposal, as its proposer's feedback() is told. */
static void outcome_of(const prepared *p, rt_score parent, rt_proposal_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->parent = parent;
    out->made = p->made;
    out->duplicate = p->duplicate;
    if (!p->made || p->duplicate || p->ruling.dropped)
        return;
    out->valid = p->ruling.verdict.valid;
    out->admitted = p->ruling.admitted;
    out->verified = p->ruling.verified;
    out->reason = out->valid ? NULL : p->ruling.verdict.reason;
}

/* ---- one generation ---------------------------------------------------------------------- */

#define MAX_INSPIRATIONS 8

typedef struct job {
    const rt_elite *parent;
    char parent_hash[65];
    rt_propose_ctx ctx;
    rt_candidate_view views[1 + MAX_INSPIRATIONS]; /* parent, then inspirations */
    rt_buf texts[1 + MAX_INSPIRATIONS];
    rt_buf ledger; /* the recent experiments' table, for ctx.ledger */
    rt_proposal prop;
    prepared pre;
    int rc;
    int lost;            /* the remote worker that had it was lost (lost_why says how) */
    int cut;             /* its in-process work was cut short by the end of the session */
    char lost_why[256];
} job;

typedef struct generation_ctx {
    rt_run *run;
    job *jobs;
    atomic_int next;
} generation_ctx;

/* The job's proposal: by the proposer here, or by a remote worker (which may also have
 * evaluated the child: j->pre.evaluated). */
static void propose_job(rt_run *r, job *j, rt_rng *rng)
{
    if (!r->remote) {
        j->rc = rt_proposer_propose(&r->proposer, r->problem, &j->ctx, rng, &j->prop);
        return;
    }
    int rc = r->remote->propose(r->remote->user, r->problem, &j->ctx, rng, &j->prop,
                                &j->pre.evaluated, &j->pre.ev, &r->stop, j->lost_why,
                                sizeof j->lost_why);
    j->lost = rc > 0;
    j->rc = rc > 0 ? 0 : rc;
}

static void run_jobs(generation_ctx *g)
{
    rt_run *r = g->run;
    double deadline = r->opt.seconds > 0 ? r->t_session + r->opt.seconds : 0;
    for (;;) {
        int i = atomic_fetch_add(&g->next, 1);
        if (i >= r->nislands)
            break;
        job *j = &g->jobs[i];
        if (!j->parent)
            continue;
        /* long in-process work (a walker run) stops at the deadline or on rt_run_stop */
        rt_work_scope(&r->stop, deadline);
        propose_job(r, j, &r->rng[i]);
        /* expensive evaluations run here, in parallel; the verdicts are counted in order */
        if (!j->rc && j->prop.child && rt_problem_evaluates(r->problem))
            j->rc = prepare_eval(r, j->prop.child, &j->pre, 1);
        j->cut = rt_work_cuts() > 0;
        rt_work_scope(NULL, 0);
    }
}

static void *worker(void *arg)
{
    run_jobs(arg);
    return NULL;
}

/* Fills one view of an elite for a proposer that asked for context. */
static int fill_view(rt_run *r, const rt_elite *e, rt_candidate_view *v, rt_buf *text)
{
    memset(v, 0, sizeof *v);
    v->genome = e->genome;
    v->hash = e->hash;
    v->score = e->score;
    if (!rt_proposer_wants_context(&r->proposer))
        return 0;
    rt_buf_reset(text);
    int rc = rt_problem_encode(r->problem, e->genome, text);
    if (rc)
        return rc;
    v->text = rt_buf_cstr(text);
    v->len = text->len;
    rt_problem_shown(r->problem, e->genome, &v->metrics, &v->artifacts);
    return 0;
}

/* The proposer's context for island i: the parent, and for proposers that want them, the run's
 * best elite and elites drawn at random with the island's generator. */
static int make_context(rt_run *r, int i, job *j)
{
    j->ctx.island = i;
    j->ctx.generation = r->generation;
    int rc = fill_view(r, j->parent, &j->views[0], &j->texts[0]);
    j->ctx.ledger = NULL;
    if (!rc && rt_proposer_wants_context(&r->proposer)) {
        rc = rt_recent_parent(&r->recent, j->parent->hash, j->views[0].text, j->views[0].len);
        if (!rc)
            rc = rt_recent_render(&r->recent, &j->ledger);
        j->ctx.ledger = !rc && j->ledger.len ? rt_buf_cstr(&j->ledger) : NULL;
    }
    j->ctx.parent = j->views[0];
    j->ctx.inspirations = &j->views[1];
    j->ctx.ninspirations = 0;
    int want = rt_proposer_inspirations(&r->proposer);
    if (want > MAX_INSPIRATIONS)
        want = MAX_INSPIRATIONS;
    const rt_elite *best = rt_archive_best(&r->archive);
    for (int k = 0; !rc && k < want; k++) {
        const rt_elite *e = NULL;
        if (k == 0 && best && best != j->parent) {
            e = best;
        } else {
            int isl = (int)(rt_rng_next(&r->rng[i]) % (uint64_t)r->nislands);
            e = rt_archive_select(&r->archive, isl, &r->rng[i], 0.0);
        }
        if (!e || e == j->parent)
            continue;
        int dup = 0;
        for (size_t m = 0; m < j->ctx.ninspirations; m++)
            dup |= j->views[1 + m].genome == e->genome;
        if (dup)
            continue;
        size_t slot = 1 + j->ctx.ninspirations;
        assert(slot <= MAX_INSPIRATIONS);
        rc = fill_view(r, e, &j->views[slot], &j->texts[slot]);
        if (!rc)
            j->ctx.ninspirations++;
    }
    return rc;
}

/* Island i's parent and operator, drawn sequentially from the island's generator: the
 * archive's selection, the bandit's operator, then, with the chance the problem gives that
 * operator (rt_problem_op_best_parent), the island's best instead of the selected parent. NULL
 * when the island is empty. */
static const rt_elite *select_parent(rt_run *r, int i, int *op)
{
    const rt_elite *e = rt_archive_select(&r->archive, i, &r->rng[i], r->policy.p_best);
    if (!e)
        return NULL;
    *op = rt_bandit_choose(&r->bandit, &r->rng[i]);
    double q = rt_problem_op_best_parent(r->problem, r->bandit.arms[*op].name);
    if (q > 0 && rt_rng_unit(&r->rng[i]) < q)
        e = rt_archive_select(&r->archive, i, &r->rng[i], 1.0);
    return e;
}

/* Selects each island's parent and operator (select_parent) and fills the proposer's context,
 * sequentially, in island order. Under an evaluation budget the last
 * generation is cut short, islands in order. */
static int choose_parents(rt_run *r, job *jobs)
{
    int rc = 0;
    int nprop = r->nislands;
    if (r->opt.evaluations > 0) {
        long long left = r->opt.evaluations - (r->evaluations - r->evals_at_start);
        if (left < nprop)
            nprop = (int)left;
    }
    for (int i = 0; i < nprop; i++) {
        int op = 0;
        const rt_elite *e = select_parent(r, i, &op);
        if (e) {
            jobs[i].parent = e;
            jobs[i].pre.generation = r->generation;
            jobs[i].prop.op_index = op;
            memcpy(jobs[i].parent_hash, e->hash, 65);
            if (!rc && make_context(r, i, &jobs[i]))
                rc = run_fail(r, RT_ENOMEM, "out of memory");
        }
    }
    return rc;
}

/* How many proposals may be under way at once: --threads (--jobs), or the remote workers. */
static int workers(const rt_run *r)
{
    return r->remote ? r->remote->workers : r->opt.threads;
}

/* Runs the proposals (and expensive evaluations) on up to workers(r) threads. */
static void propose_all(rt_run *r, job *jobs)
{
    generation_ctx g = {.run = r, .jobs = jobs};
    atomic_init(&g.next, 0);
    int nthreads = workers(r) < r->nislands ? workers(r) : r->nislands;
    assert(nthreads <= 64); /* islands are at most 64 */
    pthread_t tids[64];
    int started = 0;
    for (int t = 1; t < nthreads; t++)
        if (pthread_create(&tids[started], NULL, worker, &g) == 0)
            started++;
    run_jobs(&g);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
}

/* Counts what became of one proposal in the failure table: a proposal that made no child and
 * said why (a command, a model) and a failed evaluation are failures of their cause; anything
 * else ends the streak, except an operator that did not apply (the builtin proposer gives no
 * reason: matmul's move that found no partner, the meta problem's child that failed its
 * screening), an ordinary outcome of a search that counts as "made no child" only. Past
 * engine.stop_after_failures of one cause in a row the run stops, failing. */
static void count_nothing_new(rt_run *r, const job *j);

static void count_outcome(rt_run *r, const job *j)
{
    count_nothing_new(r, j);
    const char *cause = NULL, *detail = NULL;
    if (!j->prop.child && !j->prop.reason[0])
        return;
    if (!j->prop.child) {
        cause = j->prop.reason;
        detail = j->prop.detail;
    } else if (j->pre.evaluated && j->pre.ev.failed && !j->pre.duplicate) {
        cause = j->pre.ev.reason;
        detail = j->pre.ev.detail;
    }
    if (!cause) {
        rt_failures_success(&r->failures);
        return;
    }
    long long streak = rt_failures_add(&r->failures, cause, detail);
    int k = r->policy.stop_after_failures;
    if (k > 0 && streak >= k && !r->failing) {
        r->failing = 1;
        snprintf(r->stop_reason, sizeof r->stop_reason, "%lld failures in a row: %.200s%s%.200s",
                 streak, cause, detail && *detail ? ": " : "", detail ? detail : "");
        r->stop = 1;
    }
}

/* Counts the proposals in a row that made no new candidate: a child equal to an earlier one
 * (a duplicate) or no child and no reason (an operator that did not apply). A new candidate ends
 * the streak; a failure with a cause is count_outcome's. Past engine.stop_after_nothing_new the
 * run stops, failing: a builtin proposer whose every neighbour has been seen would otherwise
 * spin through millions of proposals without evaluating anything. */
static void count_nothing_new(rt_run *r, const job *j)
{
    if (!j->prop.child && j->prop.reason[0])
        return;
    if (j->prop.child && !j->pre.duplicate) {
        r->nothing_new = r->dup_streak = 0;
        return;
    }
    r->nothing_new++;
    r->dup_streak += j->pre.duplicate;
    long long k = r->policy.stop_after_nothing_new;
    if (k > 0 && r->nothing_new >= k && !r->failing) {
        r->failing = 1;
        snprintf(r->stop_reason, sizeof r->stop_reason,
                 "%lld proposals in a row made no new candidate (%lld duplicates of earlier "
                 "candidates, %lld made none): the proposer cannot leave what the run has "
                 "seen (engine.stop_after_nothing_new)",
                 r->nothing_new, r->dup_streak, r->nothing_new - r->dup_streak);
        r->stop = 1;
    }
}

/* Stores the event of a proposal that made no child and gave a reason. */
static int note_rejected(rt_run *r, int island, const rt_proposal *prop)
{
    if (prop->child || !prop->reason[0])
        return 0;
    char detail[600];
    snprintf(detail, sizeof detail, "island %d: %s%s%s", island, prop->reason,
             prop->detail[0] ? ": " : "", prop->detail);
    int rc = rt_db_event(r->db, run_elapsed(r), "rejected", detail);
    return rc ? db_error(r, rc) : 0;
}

/* A job whose remote worker was lost: an event says so, and the run stops as after a run of
 * failures (the checkpoint commits, the run ends with RT_EFAILED; docs/scaling.md). */
static int note_lost(rt_run *r, int island, job *j)
{
    rt_problem_free_genome(r->problem, j->prop.child);
    j->prop.child = NULL;
    char detail[400];
    snprintf(detail, sizeof detail, "island %d: %s", island, j->lost_why);
    if (!r->failing) {
        r->failing = 1;
        snprintf(r->stop_reason, sizeof r->stop_reason, "%s", j->lost_why);
    }
    r->stop = 1;
    int rc = rt_db_event(r->db, run_elapsed(r), "lost", detail);
    return rc ? db_error(r, rc) : 0;
}

/* Takes one proposal of island i through process(), then tells its proposer (feedback), the
 * bandit and the failure table what became of it. parent_score is the parent's verified score
 * (copied before: process() may move the island's elites). Takes ownership of the child. */
/* Stores a `cut` event for a job that the end of the session stopped: its proposal's own work
 * (a walker run cut short, whose child is dropped: it is not the result of the work asked for)
 * or the gate's re-runs of its child (on the engine's thread, under the run's cancel scope);
 * the proposer hears nothing was made. */
static int note_gate_cut(rt_run *r, int i, job *j, rt_score parent_score)
{
    char detail[200];
    if (j->cut)
        snprintf(detail, sizeof detail, "island %d: the proposal's %s run was stopped", i,
                 j->prop.op ? j->prop.op : "operator");
    else
        snprintf(detail, sizeof detail, "island %d: the gate's re-runs of %.16s were stopped", i,
                 j->pre.hash);
    r->failures.cut++;
    if (j->prop.tag) {
        rt_proposal_outcome none;
        memset(&none, 0, sizeof none);
        none.parent = parent_score;
        rt_proposer_feedback(&r->proposer, j->prop.tag, &none);
    }
    int rc = rt_db_event(r->db, run_elapsed(r), "cut", detail);
    return rc ? db_error(r, rc) : 0;
}

static int take_one(rt_run *r, int i, job *j, rt_score parent_score)
{
    if (j->lost)
        return note_lost(r, i, j);
    if (j->rc) {
        rt_problem_free_genome(r->problem, j->prop.child);
        return run_fail(r, j->rc, "proposer %s failed (out of memory?)",
                        rt_proposer_name(&r->proposer));
    }
    if (j->cut) { /* the child, if any, is not what the work asked for would have made */
        rt_problem_free_genome(r->problem, j->prop.child);
        j->prop.child = NULL;
        return note_gate_cut(r, i, j, parent_score);
    }
    int rc = note_rejected(r, i, &j->prop);
    if (rc) {
        rt_problem_free_genome(r->problem, j->prop.child);
        return rc;
    }
    rc = process(r, i, j->parent_hash, j->prop.op ? j->prop.op : "?", j->prop.child, &j->pre);
    if (rc)
        return rc;
    if (j->pre.cut)
        return note_gate_cut(r, i, j, parent_score);
    count_outcome(r, j);
    rt_proposal_outcome outcome;
    outcome_of(&j->pre, parent_score, &outcome);
    if (j->prop.tag)
        rt_proposer_feedback(&r->proposer, j->prop.tag, &outcome);
    /* verified improvement: beating the parent earns 1, a new best of the run 1 more, grown by
     * the size of the step (bandit.h) */
    double reward = 0;
    if (outcome.admitted && rt_score_cmp(outcome.verified, parent_score) > 0)
        reward = rt_bandit_reward(&r->bandit, 1 + j->pre.new_best,
                                  outcome.verified.primary - parent_score.primary);
    rt_bandit_update(&r->bandit, j->prop.op_index, reward, j->prop.work);
    r->work += j->prop.work;
    return 0;
}

/* Takes the children in island order (take_one). After a failure the remaining children are
 * freed. */
static int take_children(rt_run *r, job *jobs)
{
    int rc = 0;
    for (int i = 0; i < r->nislands; i++) {
        job *j = &jobs[i];
        if (!j->parent)
            continue;
        if (rc) {
            rt_problem_free_genome(r->problem, j->prop.child);
            continue;
        }
        /* process() may grow the island's archive, which moves its elites: j->parent is not
         * valid after it, so its score is copied first */
        rc = take_one(r, i, j, j->parent->score);
    }
    return rc;
}

/* One generation: parents chosen, children proposed in parallel, then taken in island order. */
static int generation(rt_run *r)
{
    job *jobs = calloc((size_t)r->nislands, sizeof *jobs);
    if (!jobs)
        return run_fail(r, RT_ENOMEM, "out of memory");
    for (int i = 0; i < r->nislands; i++) {
        prepared_init(&jobs[i].pre);
        for (int k = 0; k <= MAX_INSPIRATIONS; k++)
            rt_buf_init(&jobs[i].texts[k], 0);
        rt_buf_init(&jobs[i].ledger, 0);
    }
    int rc = choose_parents(r, jobs);
    if (!rc) {
        propose_all(r, jobs);
        rc = take_children(r, jobs);
    }
    for (int i = 0; i < r->nislands; i++) {
        rt_buf_free(&jobs[i].pre.text);
        for (int k = 0; k <= MAX_INSPIRATIONS; k++)
            rt_buf_free(&jobs[i].texts[k]);
        rt_buf_free(&jobs[i].ledger);
    }
    free(jobs);
    return rc;
}

static int target_reached(const rt_run *r)
{
    if (!r->opt.has_target || !r->has_best)
        return 0;
    if (rt_problem_lower_is_better(r->problem))
        return r->best_metric <= r->opt.target;
    return r->best_metric >= r->opt.target;
}

/* Why the session ends now, or NULL: a stop, a run of failures, a budget, the target. */
static const char *session_over(rt_run *r)
{
    if (r->failing)
        return r->stop_reason;
    if (r->stop)
        return "stopped";
    if (r->opt.seconds > 0 && rt_now() - r->t_session >= r->opt.seconds)
        return "time budget spent";
    if (r->opt.evaluations > 0 && r->evaluations - r->evals_at_start >= r->opt.evaluations)
        return "evaluation budget spent";
    if (r->opt.work > 0 && r->work >= r->opt.work)
        return "work budget spent";
    if (target_reached(r))
        return "target reached";
    char spent[128];
    if (rt_proposer_spent(&r->proposer, spent, sizeof spent)) {
        snprintf(r->stop_reason, sizeof r->stop_reason, "%s", spent);
        return r->stop_reason;
    }
    return NULL;
}

/* Between steps: a checkpoint every commit_interval seconds when a proposal was taken since the
 * last (no commit while slots only wait), progress every progress_interval. */
static int tick(rt_run *r, double *last_commit, double *last_report)
{
    double now = rt_now();
    if (now - *last_commit >= r->policy.commit_interval &&
        r->evaluations != r->evals_committed) {
        int rc = checkpoint(r, 1);
        if (rc)
            return rc;
        *last_commit = now;
    }
    if (now - *last_report >= r->opt.progress_interval) {
        report(r);
        *last_report = now;
    }
    return 0;
}

/* Counts one more generation, and migrates every migrate_every of them. */
static int next_generation(rt_run *r)
{
    r->generation++;
    if (r->policy.migrate_every > 0 && r->generation % r->policy.migrate_every == 0) {
        int moved = rt_archive_migrate(&r->archive);
        if (moved < 0)
            return run_fail(r, moved, "out of memory");
    }
    return 0;
}

/* The generations schedule (in-process work): until the session is over. */
static int run_generations(rt_run *r, const char **why)
{
    double last_commit = r->t_session, last_report = r->t_session;
    for (;;) {
        if ((*why = session_over(r)))
            return 0;
        int rc = generation(r);
        if (!rc)
            rc = next_generation(r);
        if (!rc)
            rc = tick(r, &last_commit, &last_report);
        if (rc)
            return rc;
    }
}

/* ---- the job slots schedule (work that leaves the process) -------------------------------- */

/* One island's job: its proposal and evaluation, done on a slot while the engine goes on. The
 * job owns copies of everything it reads (the views' genomes and hashes, the island's
 * generator), so the archive may change under it. */
typedef struct async_job {
    job j;
    int island;
    int busy;                                /* on a slot */
    int cut;                                 /* stopped by the end of the session */
    rt_rng rng;                              /* the island's generator, lent to the job */
    rt_score parent_score;
    char hashes[1 + MAX_INSPIRATIONS][65];   /* the views' hashes */
    void *genomes[1 + MAX_INSPIRATIONS];     /* clones of the views' genomes */
} async_job;

static void async_job_init(async_job *a)
{
    memset(a, 0, sizeof *a);
    prepared_init(&a->j.pre);
    for (int k = 0; k <= MAX_INSPIRATIONS; k++)
        rt_buf_init(&a->j.texts[k], 0);
    rt_buf_init(&a->j.ledger, 0);
}

/* Frees what the job holds (not a child, which its take owns) and makes it empty again. */
static void async_job_clear(rt_run *r, async_job *a)
{
    rt_buf_free(&a->j.pre.text);
    rt_buf_free(&a->j.ledger);
    for (int k = 0; k <= MAX_INSPIRATIONS; k++) {
        rt_buf_free(&a->j.texts[k]);
        rt_problem_free_genome(r->problem, a->genomes[k]);
    }
    async_job_init(a);
}

/* Makes the job's views its own: clones of the genomes (with their metrics and artifacts) and
 * copies of the hashes. */
static int detach_views(rt_run *r, async_job *a)
{
    rt_candidate_view *v = a->j.views;
    for (size_t k = 0; k <= a->j.ctx.ninspirations; k++) {
        a->genomes[k] = rt_problem_clone(r->problem, v[k].genome);
        if (!a->genomes[k])
            return run_fail(r, RT_ENOMEM, "out of memory");
        v[k].genome = a->genomes[k];
        snprintf(a->hashes[k], sizeof a->hashes[k], "%s", v[k].hash);
        v[k].hash = a->hashes[k];
        if (v[k].text)
            rt_problem_shown(r->problem, a->genomes[k], &v[k].metrics, &v[k].artifacts);
    }
    a->j.ctx.parent = v[0];
    return 0;
}

/* Fills island i's job as choose_parents does for a generation: parent, context, operator.
 * *made is 0 when the island has no parent to offer. */
static int async_prepare(rt_run *r, int i, async_job *a, int *made)
{
    async_job_clear(r, a);
    *made = 0;
    int op = 0;
    const rt_elite *e = select_parent(r, i, &op);
    if (!e)
        return 0;
    a->island = i;
    a->j.parent = e;
    a->j.pre.generation = r->generation;
    a->j.prop.op_index = op;
    a->parent_score = e->score;
    memcpy(a->j.parent_hash, e->hash, 65);
    if (make_context(r, i, &a->j))
        return run_fail(r, RT_ENOMEM, "out of memory");
    int rc = detach_views(r, a);
    a->j.parent = NULL; /* the archive's: not to be read once the job is out */
    a->rng = r->rng[i];
    *made = !rc;
    return rc;
}

/* A slot's work: the proposal, then (for problems with an evaluator) the evaluation and the
 * verification ahead. A job is cut when the run stopped before it was complete. */
static void async_work(void *job_, void *user)
{
    async_job *a = job_;
    rt_run *r = user;
    int before = rt_sandbox_cancelled();
    /* in-process work (a walker run, under --steady) stops at the deadline or on rt_run_stop,
     * as in a generation */
    rt_work_scope(&r->stop, r->opt.seconds > 0 ? r->t_session + r->opt.seconds : 0);
    propose_job(r, &a->j, &a->rng);
    void *child = a->j.prop.child;
    int evaluates = rt_problem_evaluates(r->problem);
    if (!a->j.rc && child && evaluates && !r->stop)
        a->j.rc = prepare_eval(r, child, &a->j.pre, 1);
    int complete = child && (!evaluates || a->j.pre.seen || a->j.pre.evaluated);
    a->cut = !a->j.rc && !a->j.lost &&
             (rt_sandbox_cancelled() > before || rt_work_cuts() > 0 || (r->stop && !complete));
    rt_work_scope(NULL, 0);
}

/* Stores a `cut` event for a job stopped by the end of the session; its child, if any, was
 * never judged and is dropped (a later session may make it again). */
static int note_cut(rt_run *r, async_job *a)
{
    char detail[400];
    if (a->j.prop.child && a->j.pre.has_text)
        snprintf(detail, sizeof detail, "island %d: the evaluation of %.16s was stopped",
                 a->island, a->j.pre.hash);
    else
        snprintf(detail, sizeof detail, "island %d: the proposal was stopped%s%s", a->island,
                 a->j.prop.reason[0] ? ": " : "", a->j.prop.reason);
    rt_problem_free_genome(r->problem, a->j.prop.child);
    a->j.prop.child = NULL;
    r->failures.cut++;
    if (a->j.prop.tag) { /* the proposer's bookkeeping of the request ends here */
        rt_proposal_outcome none;
        memset(&none, 0, sizeof none);
        none.parent = a->parent_score;
        rt_proposer_feedback(&r->proposer, a->j.prop.tag, &none);
    }
    int rc = rt_db_event(r->db, run_elapsed(r), "cut", detail);
    return rc ? db_error(r, rc) : 0;
}

/* A finished job back from its slot: cut, or taken like a generation's child. The island's
 * generator comes back with it. */
static int async_take(rt_run *r, async_job *a)
{
    a->busy = 0;
    r->rng[a->island] = a->rng;
    int rc = a->cut ? note_cut(r, a) : take_one(r, a->island, &a->j, a->parent_score);
    a->j.prop.child = NULL; /* taken (or freed) */
    async_job_clear(r, a);
    return rc;
}

/* Hands jobs to free slots, islands in turn from *next, one job per island at a time; under
 * an evaluation budget no more than the budget has left. Returns 0 or a failure. */
static int async_dispatch(rt_run *r, rt_slots *slots, async_job *jobs, int *next)
{
    int tried = 0;
    while (rt_slots_busy(slots) < rt_slots_count(slots) && tried < r->nislands) {
        if (r->opt.evaluations > 0 && r->evaluations - r->evals_at_start +
                                              rt_slots_busy(slots) >= r->opt.evaluations)
            return 0;
        int i = *next;
        *next = (i + 1) % r->nislands;
        tried++;
        if (jobs[i].busy)
            continue;
        int made = 0;
        int rc = async_prepare(r, i, &jobs[i], &made);
        if (rc)
            return rc;
        if (!made)
            continue;
        jobs[i].busy = 1;
        rt_slots_submit(slots, &jobs[i]);
        tried = 0;
        if (i == r->nislands - 1 && (rc = next_generation(r)))
            return rc;
    }
    return 0;
}

/* Collects every job still on a slot, the run being stopped: each is cut or taken. A failure
 * is kept (the first) while the rest are still collected. */
static int async_drain(rt_run *r, rt_slots *slots, async_job *jobs, int rc)
{
    while (rt_slots_busy(slots) > 0) {
        async_job *a = rt_slots_collect(slots, 0.05);
        if (!a)
            continue;
        int trc = rc ? 0 : async_take(r, a);
        if (rc) {
            rt_problem_free_genome(r->problem, a->j.prop.child);
            a->j.prop.child = NULL;
            a->busy = 0;
            async_job_clear(r, a);
        }
        rc = rc ? rc : trc;
    }
    for (int i = 0; i < r->nislands; i++)
        async_job_clear(r, &jobs[i]);
    return rc;
}

/* The loop of the job slots schedule: dispatch, wait for the next finished job (at most 50 ms,
 * so that a deadline or a stop is seen at once), take it. */
static int async_loop(rt_run *r, rt_slots *slots, async_job *jobs, const char **why)
{
    double last_commit = r->t_session, last_report = r->t_session;
    int next = 0;
    for (;;) {
        if ((*why = session_over(r)))
            return 0;
        int rc = async_dispatch(r, slots, jobs, &next);
        if (rc)
            return rc;
        if (rt_slots_busy(slots) == 0) {
            *why = "no island has a parent to propose from";
            return 0;
        }
        double wait = 0.05;
        if (r->opt.seconds > 0) {
            double left = r->t_session + r->opt.seconds - rt_now();
            wait = left < wait ? (left > 0 ? left : 0) : wait;
        }
        async_job *a = rt_slots_collect(slots, wait);
        if (a && (rc = async_take(r, a)))
            return rc;
        if ((rc = tick(r, &last_commit, &last_report)))
            return rc;
    }
}

/* The job slots schedule: one slot per job (--jobs), at most one per island. At the end the
 * jobs in flight are stopped (the run's stop flag kills their sandboxes and ends their
 * requests) and collected. */
static int run_slots(rt_run *r, const char **why)
{
    int n = workers(r) < r->nislands ? workers(r) : r->nislands;
    async_job *jobs = calloc((size_t)r->nislands, sizeof *jobs);
    rt_slots *slots = NULL;
    if (!jobs || rt_slots_start(&slots, n, async_work, r, &r->stop)) {
        free(jobs);
        return run_fail(r, RT_ENOMEM, "out of memory");
    }
    for (int i = 0; i < r->nislands; i++)
        async_job_init(&jobs[i]);
    /* the gate's own runs on this thread (noise floors, confirmations) stop with the run too */
    rt_sandbox_cancel_scope(&r->stop);
    int rc = async_loop(r, slots, jobs, why);
    int stopped = r->stop;
    /* what was taken commits before the jobs out are collected: a launcher that tears the
     * process down meanwhile (mpirun, a second after a worker rank died) loses nothing taken */
    if (!rc && r->remote && stopped && rt_slots_busy(slots) > 0)
        rc = checkpoint(r, 1);
    if (rt_slots_busy(slots) > 0)
        r->stop = 1;
    rc = async_drain(r, slots, jobs, rc);
    rt_sandbox_cancel_scope(NULL);
    if (!stopped)
        r->stop = 0; /* raised here only to end the jobs in flight */
    rt_slots_stop(slots);
    free(jobs);
    return rc;
}

/* Whether this run's work leaves the process (an evaluator, a proposer other than builtin): it
 * then runs on job slots, else in generations. */
static int runs_on_slots(const rt_run *r)
{
    return r->opt.steady || rt_problem_evaluates(r->problem) ||
           strcmp(rt_proposer_name(&r->proposer), "builtin") != 0;
}

/* The start of a session: its transaction and events. */
static int session_begin(rt_run *r)
{
    int rc = rt_db_begin(r->db);
    if (rc)
        return db_error(r, rc);
    char detail[64];
    snprintf(detail, sizeof detail, "session %d", r->sessions);
    if ((rc = rt_db_event(r->db, run_elapsed(r), "session", detail)))
        return db_error(r, rc);
    if (r->opt.trust_proxy &&
        (rc = rt_db_event(r->db, run_elapsed(r), "trust-proxy",
                          "WARNING: this session admits candidates on the proxy alone; the "
                          "verifier's verdicts are recorded, not enforced")))
        return db_error(r, rc);
    return 0;
}

int rt_run_execute(rt_run *r)
{
    /* problems that run external evaluations: one sandbox slot per worker thread (--jobs) */
    if (rt_problem_evaluates(r->problem))
        rt_sandbox_set_jobs(workers(r));
    r->t_session = rt_now();
    r->evals_at_start = r->evaluations;
    r->work = 0;
    int rc = session_begin(r);
    const char *why = "stopped";
    if (!rc)
        rc = runs_on_slots(r) ? run_slots(r, &why) : run_generations(r, &why);
    if (!rc && (rc = rt_db_event(r->db, run_elapsed(r), "stop", why)))
        rc = db_error(r, rc);
    if (!rc)
        rc = checkpoint(r, 0);
    if (rc) {
        rt_db_rollback(r->db);
        return rc;
    }
    report(r);
    if (r->failing)
        return run_fail(r, RT_EFAILED, "the run stopped: %s", r->stop_reason);
    return 0;
}

/* ---- creating and resuming --------------------------------------------------------------- */

static void add_seen(const char *hash, void *user)
{
    rt_run *r = user;
    char key[65] = {0}; /* a short hash from a damaged store still gives SEEN_KEY_DIGITS bytes */
    snprintf(key, sizeof key, "%s", hash ? hash : "");
    if (rt_hashset_add(&r->seen, key) < 0)
        r->hashset_failed = 1;
}

static void add_seen_text(const char *text, size_t len, void *user)
{
    rt_run *r = user;
    char key[65];
    rt_sha256_hex(text, len, key);
    rt_buf norm;
    rt_buf_init(&norm, 0);
    if (rt_problem_dedupe_text(r->problem, text, len, &norm) == 0)
        rt_sha256_hex(norm.data, norm.len, key);
    else
        r->hashset_failed = 1;
    rt_buf_free(&norm);
    if (rt_hashset_add(&r->seen, key) < 0)
        r->hashset_failed = 1;
}

/* Common setup once problem and config are known. */
static int run_setup(rt_run *r, int nislands, const char *proposer)
{
    r->nislands = nislands;
    int rc = rt_problem_configure(r->problem, &r->policy, r->errmsg, sizeof r->errmsg);
    if (rc)
        return rc;
    r->rng = calloc((size_t)nislands, sizeof *r->rng);
    if (!r->rng)
        return run_fail(r, RT_ENOMEM, "out of memory");
    if (rt_archive_init(&r->archive, r->problem, nislands))
        return run_fail(r, RT_ENOMEM, "out of memory");
    rt_gate_init(&r->gate, r->problem);
    rt_gate_bind(&r->gate, &r->archive, &r->policy, r->opt.trust_proxy);
    rc = rt_bandit_init(&r->bandit, r->problem, &r->policy, r->errmsg, sizeof r->errmsg);
    if (rc)
        return rc;
    return rt_proposer_init(&r->proposer, proposer, r->problem,
                            (const char *const *)r->popts.keys,
                            (const char *const *)r->popts.values, r->popts.n, &r->policy,
                            &r->stop, r->errmsg, sizeof r->errmsg);
}

static void set_err(rt_error *err, int code, const char *msg)
{
    err->code = code;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
}

/* Hides the store (and SQLite's files beside it) from every program the run starts, even when
 * it lies in a folder the sandbox shows them (an evaluator's). */
static void hide_store(const char *store_path)
{
    char dir[4096], path[4200];
    const char *slash = strrchr(store_path, '/');
    const char *name = slash ? slash + 1 : store_path;
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - store_path), store_path);
    else
        snprintf(dir, sizeof dir, ".");
    char *real = realpath(dir[0] ? dir : "/", NULL);
    if (!real)
        return;
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(path, sizeof path, "%s/%s%s", strcmp(real, "/") == 0 ? "" : real, name,
                 suffixes[i]);
        rt_sandbox_hide(path);
    }
    free(real);
}

/* Stores the proposer's options with the run (a resume reuses them). */
static int save_proposer_opts(rt_run *r)
{
    rt_buf js;
    rt_buf_init(&js, 0);
    int rc = rt_proposer_opts_json(&r->popts, &js);
    if (!rc)
        rc = rt_db_put_meta(r->db, "proposer-options", rt_buf_cstr(&js));
    rt_buf_free(&js);
    return rc;
}

/* The message of a seed that was not admitted: why, and for a failed evaluation the end of the
 * evaluator's stderr (what a new user needs to see first). Returns RT_EINVALID. */
static int seed_failed(rt_run *r, const prepared *pre)
{
    if (pre->ruling.verdict.valid)
        return run_fail(r, RT_EINVALID, "the initial candidate failed: not admitted");
    if (!(pre->evaluated && pre->ev.failed))
        return run_fail(r, RT_EINVALID, "the initial candidate failed: %s",
                        pre->ruling.verdict.reason);
    return run_fail(r, RT_EINVALID, "the initial candidate failed: %.150s%s%.300s",
                    pre->ev.reason, pre->ev.detail[0] ? "; stderr: " : "", pre->ev.detail);
}

/* The first transaction of a new run: its start, its policy (stored with the run, so that a
 * resume uses the same one), and the seed, which goes through the gate like every other
 * candidate and then onto every island. Rolled back on failure. */
static int create_first(rt_run *r)
{
    void *seed = rt_problem_seed(r->problem);
    if (!seed)
        return run_fail(r, RT_ENOMEM, "cannot make the initial candidate");
    int rc = rt_db_begin(r->db);
    if (rc) {
        rt_problem_free_genome(r->problem, seed);
        return db_error(r, rc);
    }
    rt_db_event(r->db, 0, "start", rt_problem_params(r->problem));
    rt_buf pt;
    rt_buf_init(&pt, 0);
    if (!(rc = rt_policy_print(&r->policy, &pt)))
        rc = rt_db_put_meta(r->db, "policy", rt_buf_cstr(&pt));
    rt_buf_free(&pt);
    if (!rc)
        rc = save_proposer_opts(r);
    if (rc) {
        rt_problem_free_genome(r->problem, seed);
        rt_db_rollback(r->db);
        return rc == RT_ENOMEM ? run_fail(r, rc, "out of memory") : db_error(r, rc);
    }
    void *copy = rt_problem_clone(r->problem, seed);
    prepared pre;
    prepared_init(&pre);
    rc = copy ? process(r, 0, NULL, "seed", copy, &pre) : run_fail(r, RT_ENOMEM, "out of memory");
    rt_buf_free(&pre.text);
    if (!rc && !r->has_best)
        rc = seed_failed(r, &pre);
    if (!rc && (rc = rt_gate_spread_seed(&r->gate, seed)))
        rc = run_fail(r, rc, "%s", r->gate.errmsg);
    rt_problem_free_genome(r->problem, seed);
    if (!rc)
        rc = checkpoint(r, 0);
    if (rc)
        rt_db_rollback(r->db);
    return rc;
}

int rt_run_create(rt_run **out, const char *store_path, const rt_problem *problem,
                  const rt_run_options *options, rt_error *err)
{
    *out = NULL;
    rt_run *r = run_new(options);
    if (!r) {
        set_err(err, RT_ENOMEM, "out of memory");
        return RT_ENOMEM;
    }
    int rc;
    if (options->islands < 1 || options->islands > 64) {
        rc = run_fail(r, RT_EUSAGE, "islands must be between 1 and 64, not %d", options->islands);
        goto fail;
    }
    /* the shipped default for this instance: a layer of policy/default.json whose scope does
     * not hold it (a larger shape than its gate measured) is left out */
    rt_problem_defaults(problem, &r->policy);
    if (options->policy &&
        (rc = rt_policy_parse(&r->policy, options->policy, strlen(options->policy), r->errmsg,
                              sizeof r->errmsg)))
        goto fail;
    rc = rt_problem_reopen(problem, &r->problem, r->errmsg, sizeof r->errmsg);
    if (!rc)
        rc = rt_proposer_opts_merge(&r->popts, NULL, options->proposer_keys,
                                    options->proposer_values, options->nproposer_params,
                                    r->errmsg, sizeof r->errmsg);
    if (rc)
        goto fail;
    if ((rc = run_setup(r, options->islands, options->proposer ? options->proposer : "builtin")))
        goto fail;
    rt_run_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.problem, sizeof cfg.problem, "%s", rt_problem_name(problem));
    snprintf(cfg.params, sizeof cfg.params, "%s", rt_problem_params(r->problem));
    snprintf(cfg.proposer, sizeof cfg.proposer, "%s", rt_proposer_name(&r->proposer));
    cfg.seed = options->seed;
    cfg.islands = options->islands;
    hide_store(store_path);
    rc = rt_db_create(&r->db, store_path, &cfg, r->errmsg, sizeof r->errmsg);
    if (rc)
        goto fail;
    for (int i = 0; i < r->nislands; i++)
        rt_rng_seed(&r->rng[i], options->seed, (uint64_t)i);
    r->sessions = 1;
    if ((rc = create_first(r)))
        goto fail;
    if ((rc = rt_db_publish(&r->db, r->errmsg, sizeof r->errmsg)))
        goto fail;
    *out = r;
    return 0;
fail:
    set_err(err, rc, r->errmsg);
    rt_run_close(r);
    return rc;
}

/* Opens the store of a run to resume, checks that it is a run of problem (when one is given),
 * and reads what the run was made with: its configuration, problem and policy. */
static int resume_open(rt_run *r, const char *store_path, const rt_problem *problem,
                       rt_run_config *cfg)
{
    hide_store(store_path);
    int rc = rt_db_open(&r->db, store_path, 1, r->errmsg, sizeof r->errmsg);
    if (rc)
        return rc;
    if ((rc = rt_db_config(r->db, cfg)))
        return db_error(r, rc);
    if (problem && (strcmp(rt_problem_name(problem), cfg->problem) != 0 ||
                    strcmp(rt_problem_params(problem), cfg->params) != 0))
        return run_fail(r, RT_ESTORE, "store %s is a run of %s (%s), not of %s (%s)", store_path,
                        cfg->problem, cfg->params, rt_problem_name(problem),
                        rt_problem_params(problem));
    char why[400];
    if (rt_problem_open_canonical(&r->problem, cfg->problem, cfg->params, why, sizeof why))
        return run_fail(r, RT_ESTORE, "store %s: %s", store_path, why);
    char *stored = NULL;
    if ((rc = rt_db_get_meta(r->db, "policy", &stored)))
        return db_error(r, rc);
    /* stores made before policies were stored run with the defaults */
    if (stored && rt_policy_parse(&r->policy, stored, strlen(stored), why, sizeof why))
        rc = run_fail(r, RT_ESTORE, "store %s: %s", store_path, why);
    free(stored);
    if (rc)
        return rc;
    /* the stored proposer options, with the ones given now in place of theirs */
    stored = NULL;
    if ((rc = rt_db_get_meta(r->db, "proposer-options", &stored)))
        return db_error(r, rc);
    const rt_run_options *o = &r->opt;
    rc = rt_proposer_opts_merge(&r->popts, stored, o->proposer_keys, o->proposer_values,
                                o->nproposer_params, why, sizeof why);
    free(stored);
    if (rc)
        rc = run_fail(r, rc, "store %s: %s", store_path, why);
    return rc;
}

/* Stores the proposer options a resume was given (merged over the stored ones) in their own
 * transaction, so the next resume reuses them. */
static int resume_save_opts(rt_run *r)
{
    if (!r->opt.nproposer_params)
        return 0;
    int rc = rt_db_begin(r->db);
    if (rc)
        return db_error(r, rc);
    if ((rc = save_proposer_opts(r)) || (rc = rt_db_commit(r->db))) {
        rt_db_rollback(r->db);
        return rc == RT_ENOMEM ? run_fail(r, rc, "out of memory") : db_error(r, rc);
    }
    return 0;
}

/* Reads the failure counts of the earlier sessions (stores made before they were kept have
 * none; a damaged table starts afresh: it only reports). */
static int resume_failures(rt_run *r)
{
    char *stored = NULL;
    int rc = rt_db_get_meta(r->db, "failures", &stored);
    if (rc)
        return db_error(r, rc);
    if (stored)
        rt_failures_from_json(&r->failures, stored, strlen(stored));
    free(stored);
    return 0;
}

/* Restores the bandit and the last checkpoint's counters and generators; *rows (the caller
 * frees it) and *nrows are the checkpoint's archive. */
static int resume_state(rt_run *r, const char *store_path, int islands, rt_archive_row **rows,
                        size_t *nrows)
{
    char *stored = NULL, why[400];
    int rc = rt_db_get_meta(r->db, "bandit", &stored);
    if (rc)
        return db_error(r, rc);
    if (stored && rt_bandit_load(&r->bandit, stored, strlen(stored), why, sizeof why))
        rc = run_fail(r, RT_ESTORE, "store %s: %s", store_path, why);
    free(stored);
    if (rc)
        return rc;
    rt_checkpoint cp;
    if ((rc = rt_db_load_checkpoint(r->db, &cp, rows, nrows)))
        return db_error(r, rc);
    if (cp.nislands != islands)
        return run_fail(r, RT_ESTORE, "store %s: checkpoint has %d generators for %d islands",
                        store_path, cp.nislands, islands);
    for (int i = 0; i < r->nislands; i++)
        if (rt_rng_from_hex(&r->rng[i], cp.rng[i]))
            return run_fail(r, RT_ESTORE, "store %s: bad generator state", store_path);
    r->generation = cp.generation;
    r->evaluations = cp.evaluations;
    r->duplicates = cp.duplicates;
    r->failed = cp.failed;
    r->proxy_rejected = cp.proxy_rejected;
    r->elapsed_before = cp.elapsed;
    r->sessions = cp.sessions + 1;
    return resume_failures(r);
}

/* Brings one archived candidate of the checkpoint back through the gate (rt_gate_readmit), and
 * the run's best with it. */
static int resume_elite(rt_run *r, const char *store_path, const rt_archive_row *row)
{
    if (row->island < 0 || row->island >= r->nislands)
        return run_fail(r, RT_ESTORE, "store %s: archive names island %d", store_path,
                        row->island);
    rt_gate_stored stored = {.island = row->island, .cand_id = row->cand_id,
                             .migrated = row->migrated};
    char *text = NULL, hash[65];
    int rc = rt_db_candidate(r->db, row->cand_id, &text, &stored.len, hash, &stored.score);
    if (rc)
        return db_error(r, rc);
    stored.text = text;
    stored.hash = hash;
    /* what proposers are shown of an archived parent */
    if (rt_problem_annotated(r->problem) &&
        (rc = rt_db_evaluation(r->db, row->cand_id, &stored.metrics, &stored.artifacts))) {
        free(text);
        return db_error(r, rc);
    }
    rt_gate_ruling ruling;
    rc = rt_gate_readmit(&r->gate, &stored, &ruling);
    free(text);
    if (rc == RT_ENOMEM)
        return run_fail(r, rc, "out of memory");
    if (rc < 0)
        return run_fail(r, rc, "store %s: %s", store_path, r->gate.errmsg);
    if (rc == 1 && (!r->has_best || rt_score_cmp(ruling.score, r->best) > 0)) {
        r->has_best = 1;
        r->best = ruling.score;
        r->best_metric = ruling.verdict.metric;
        snprintf(r->metric_name, sizeof r->metric_name, "%s", ruling.verdict.metric_name);
    }
    return 0;
}

/* Every candidate of the run is seen again: children equal to one are duplicates. */
static int resume_seen(rt_run *r)
{
    int rc = rt_problem_dedupes(r->problem) ? rt_db_each_text(r->db, add_seen_text, r)
                                            : rt_db_each_hash(r->db, add_seen, r);
    if (rc)
        return db_error(r, rc);
    if (r->hashset_failed)
        return run_fail(r, RT_ENOMEM, "out of memory");
    return 0;
}

int rt_run_resume(rt_run **out, const char *store_path, const rt_problem *problem,
                  const rt_run_options *options, rt_error *err)
{
    *out = NULL;
    rt_run *r = run_new(options);
    if (!r) {
        set_err(err, RT_ENOMEM, "out of memory");
        return RT_ENOMEM;
    }
    rt_run_config cfg;
    rt_archive_row *rows = NULL;
    size_t nrows = 0;
    int rc = resume_open(r, store_path, problem, &cfg);
    if (!rc)
        rc = run_setup(r, cfg.islands, cfg.proposer);
    if (!rc)
        rc = resume_state(r, store_path, cfg.islands, &rows, &nrows);
    for (size_t k = 0; !rc && k < nrows; k++)
        rc = resume_elite(r, store_path, &rows[k]);
    if (!rc)
        rc = resume_seen(r);
    if (!rc)
        rc = resume_save_opts(r);
    free(rows);
    if (rc) {
        set_err(err, rc, r->errmsg);
        rt_run_close(r);
        return rc;
    }
    *out = r;
    return 0;
}
