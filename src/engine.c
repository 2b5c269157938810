/* engine.c — the loop: select parents, propose children, drop duplicates, verify, admit, record.
 *
 * One *generation* makes one child per island. Parents are selected and children proposed with
 * each island's own random generator, in parallel on worker threads; the children are then
 * deduplicated, verified, admitted and stored one by one in island order. So a run is the same
 * for a given seed whatever the number of threads.
 *
 * The store gets one transaction per checkpoint: candidate rows and the engine state that
 * accounts for them commit together, every commit_interval seconds and at once whenever a new
 * best is admitted (a reported best is always a committed one).
 *
 * Before the gate, a child the proxy itself rejects (RT_PROXY_REJECT) is dropped and counted.
 * Under rt_run_options.trust_proxy (the ablation) children are admitted on the proxy's word; the
 * verifier still runs and its verdict is stored beside the proxy, but it decides nothing. For
 * noisy problems a verified child must also clear the incumbent's noise floor (noise_admit).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "engine.h"
#include "bandit.h"
#include "gate.h"
#include "policy.h"
#include "proposer.h"
#include "sandbox/sandbox.h"
#include "store/query.h"
#include "store/store.h"
#include "store/write.h"

/* ---- set of seen hashes (64-bit prefixes; the store's UNIQUE column is the authority) ---- */

typedef struct hashset {
    uint64_t *slots;
    size_t cap, count;
} hashset;

static uint64_t hash_key(const char *hex)
{
    uint64_t k = 0;
    for (int i = 0; i < 16 && hex[i]; i++) {
        char c = hex[i];
        k = (k << 4) | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return k ? k : 1;
}

static int hashset_grow(hashset *h)
{
    size_t cap = h->cap ? 2 * h->cap : 1024;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return RT_ENOMEM;
    for (size_t i = 0; i < h->cap; i++) {
        uint64_t k = h->slots[i];
        if (!k)
            continue;
        size_t j = (size_t)(k * 0x9e3779b97f4a7c15ULL) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = k;
    }
    free(h->slots);
    h->slots = slots;
    h->cap = cap;
    return 0;
}

/* Adds key; returns 1 if it was new, 0 if present, RT_ENOMEM. */
static int hashset_add(hashset *h, uint64_t k)
{
    if (2 * (h->count + 1) > h->cap && hashset_grow(h))
        return RT_ENOMEM;
    size_t j = (size_t)(k * 0x9e3779b97f4a7c15ULL) & (h->cap - 1);
    while (h->slots[j]) {
        if (h->slots[j] == k)
            return 0;
        j = (j + 1) & (h->cap - 1);
    }
    h->slots[j] = k;
    h->count++;
    return 1;
}

/* Says whether key is present (read-only: safe from several threads while nobody adds). */
static int hashset_has(const hashset *h, uint64_t k)
{
    if (!h->cap)
        return 0;
    size_t j = (size_t)(k * 0x9e3779b97f4a7c15ULL) & (h->cap - 1);
    while (h->slots[j]) {
        if (h->slots[j] == k)
            return 1;
        j = (j + 1) & (h->cap - 1);
    }
    return 0;
}

/* ---- the run ----------------------------------------------------------------------------- */

struct rt_run {
    rt_db *db;
    rt_problem *problem;
    const rt_proposer_class *pcls;
    void *pstate;
    rt_archive archive;
    rt_gate gate;
    rt_rng *rng;
    int nislands;
    rt_policy policy;
    rt_bandit bandit; /* chooses operators; updated in island order */
    hashset seen;
    rt_run_options opt;

    long long generation, evaluations, duplicates, failed, proxy_rejected;
    rt_noise_counts noise;
    struct noise_floor {
        char hash[65];
        double mean, spread;
    } floors[16];
    int next_floor;
    long long work; /* rt_proposal.work summed over this session */
    double elapsed_before;
    int sessions;

    int has_best;
    rt_score best;
    double best_metric;
    char metric_name[32];

    double t_session;
    long long evals_at_start;
    volatile int stop;
    rt_proposal_outcome last; /* what process() made of the last child, for feedback() */
    int last_new_best;        /* and whether it became the run's best (the bandit's bonus) */
    char last_reason[512];
    int hashset_failed;
    char errmsg[512];
};

static int run_fail(rt_run *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

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
    snprintf(r->metric_name, sizeof r->metric_name, "score");
    return r;
}

void rt_run_close(rt_run *r)
{
    if (!r)
        return;
    if (r->archive.islands)
        rt_archive_free(&r->archive);
    if (r->pcls && r->pstate)
        r->pcls->destroy(r->pstate);
    rt_problem_close(r->problem);
    rt_db_close(r->db);
    free(r->rng);
    free(r->seen.slots);
    free(r);
}

const char *rt_run_errmsg(const rt_run *r) { return r->errmsg; }

rt_policy *rt_run_policy(rt_run *r) { return &r->policy; }

void rt_run_noise_counts(const rt_run *r, rt_noise_counts *out) { *out = r->noise; }

void rt_run_stop(rt_run *r) { r->stop = 1; }

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
        for (int c = 0; c < is->ncells; c++)
            rows[n++] = (rt_archive_row){i, is->cells[c].cand_id, is->cells[c].migrated};
    }
    int rc = r->pcls && r->pcls->account ? r->pcls->account(r->pstate, r->db) : 0;
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
        rc = rt_db_commit(r->db);
    if (!rc && reopen)
        rc = rt_db_begin(r->db);
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
    p.work = r->work;
    p.admitted = r->gate.passed;
    double dt = rt_now() - r->t_session;
    p.evals_per_second = dt > 0 ? (double)(r->evaluations - r->evals_at_start) / dt : 0;
    p.has_best = r->has_best;
    p.best_metric = r->best_metric;
    p.metric_name = r->metric_name;
    r->opt.progress(&p, r->opt.progress_user);
}

/* ---- noise-aware acceptance ------------------------------------------------------------- */

/* Verifies text n times; *mean and *spread (sample standard deviation) of the primary scores.
 * Returns 0, 1 when a re-evaluation failed (malformed or invalid), or a negative code. */
static int reevaluate(rt_run *r, const char *text, size_t len, int n, double *mean,
                      double *spread)
{
    double sum = 0, sum2 = 0;
    for (int k = 0; k < n; k++) {
        rt_verdict v;
        char err[256];
        r->noise.reevaluations++;
        int rc = r->problem->cls->verify(r->problem->state, text, len, &v, err, sizeof err);
        if (rc == RT_ENOMEM)
            return run_fail(r, rc, "out of memory");
        if (rc || !v.valid)
            return 1;
        sum += v.score;
        sum2 += v.score * v.score;
    }
    *mean = n > 0 ? sum / n : 0;
    double var = n > 1 ? (sum2 - sum * sum / n) / (n - 1) : 0;
    *spread = var > 0 ? sqrt(var) : 0;
    return 0;
}

/* The noise floor of an incumbent elite: its mean and spread over policy.noise_samples fresh
 * evaluations, cached by hash while it stays incumbent. Returns 0, 1 (it no longer verifies),
 * or a negative code. */
static int noise_floor(rt_run *r, const rt_elite *inc, double *mean, double *spread)
{
    for (size_t k = 0; k < sizeof r->floors / sizeof r->floors[0]; k++)
        if (strcmp(r->floors[k].hash, inc->hash) == 0) {
            *mean = r->floors[k].mean;
            *spread = r->floors[k].spread;
            return 0;
        }
    rt_buf text;
    rt_buf_init(&text, 0);
    int rc = r->problem->cls->encode(r->problem->state, inc->genome, &text);
    if (rc) {
        rt_buf_free(&text);
        return run_fail(r, rc, "cannot encode a candidate (out of memory?)");
    }
    rc = reevaluate(r, text.data, text.len, r->policy.noise_samples, mean, spread);
    rt_buf_free(&text);
    if (rc)
        return rc;
    struct noise_floor *f = &r->floors[r->next_floor];
    r->next_floor = (r->next_floor + 1) % (int)(sizeof r->floors / sizeof r->floors[0]);
    memcpy(f->hash, inc->hash, sizeof f->hash);
    f->mean = *mean;
    f->spread = *spread;
    return 0;
}

/* Decides whether a verified child of a noisy problem (v, its text) may be offered
 * to its cell. With an incumbent in the cell, its first score must beat the incumbent's mean by
 * noise_margin spreads; then every winner (also one for an empty cell) is re-evaluated
 * noise_confirm times afresh, and the mean of those fresh scores — not the lucky first draw —
 * must still beat the incumbent's mean by noise_margin standard errors (spread/sqrt(confirm)).
 * On success v->score becomes that mean. Returns 1 to offer, 0 to keep out (note says why), or a
 * negative code. */
static int noise_admit(rt_run *r, int island, const int *coords, const char *text, size_t len,
                       rt_verdict *v, char *note, size_t notelen)
{
    const rt_elite *inc = rt_archive_cell(&r->archive, island, coords);
    double inc_mean = 0, spread = 0;
    int rc;
    if (inc) {
        rc = noise_floor(r, inc, &inc_mean, &spread);
        if (rc < 0)
            return rc;
        if (rc == 0 && !(v->score > inc_mean + r->policy.noise_margin * spread)) {
            r->noise.screened_out++;
            snprintf(note, notelen,
                     "within the noise floor: %.6g is not above the incumbent's %.6g + %g x %.6g",
                     v->score, inc_mean, r->policy.noise_margin, spread);
            return 0;
        }
        if (rc == 1)
            inc = NULL; /* the incumbent no longer verifies: compare with nothing */
    }
    int n = r->policy.noise_confirm;
    if (n <= 0) {
        r->noise.confirmed++;
        return 1;
    }
    double mean = 0, child_spread = 0;
    rc = reevaluate(r, text, len, n, &mean, &child_spread);
    if (rc < 0)
        return rc;
    double need = inc ? inc_mean + r->policy.noise_margin * spread / sqrt((double)n) : -INFINITY;
    if (rc == 1 || !(mean > need)) {
        r->noise.unconfirmed++;
        if (rc == 1)
            snprintf(note, notelen, "did not hold up: a re-evaluation failed");
        else
            snprintf(note, notelen,
                     "did not hold up: the mean of %d re-evaluations, %.6g, is not above %.6g",
                     n, mean, need);
        return 0;
    }
    r->noise.confirmed++;
    snprintf(note, notelen, "confirmed: first %.6g, mean of %d re-evaluations %.6g", v->score, n,
             mean);
    v->score = mean;
    return 1;
}

/* What is known of a child before process() judges it. For problems with an expensive
 * evaluation (rt_problem_class.evaluate) the worker threads fill it in parallel: canonical text,
 * hash, duplicate key, the evaluation, and the gate's verification of the text. */
typedef struct prepared {
    int has_text;
    rt_buf text;
    char hash[65];
    uint64_t key;       /* duplicate key (hash of the problem's dedupe text, or of the text) */
    int seen;           /* the key was seen in an earlier generation: nothing else was done */
    int evaluated;
    rt_evaluation ev;
    int verified;       /* verify() already ran: vrc, verr and verdict hold its result */
    int vrc;
    char verr[400];
    rt_verdict verdict;
} prepared;

static void prepared_init(prepared *p)
{
    memset(p, 0, sizeof *p);
    rt_buf_init(&p->text, 0);
}

/* Encodes the child and computes its hash and duplicate key. Thread-safe (reads the run). */
static int prepare_text(const rt_run *r, const void *child, prepared *p)
{
    const rt_problem_class *cls = r->problem->cls;
    rt_buf_reset(&p->text);
    int rc = cls->encode(r->problem->state, child, &p->text);
    if (rc)
        return rc;
    rt_sha256_hex(p->text.data, p->text.len, p->hash);
    p->key = hash_key(p->hash);
    if (cls->dedupe_text) {
        rt_buf norm;
        rt_buf_init(&norm, 0);
        rc = cls->dedupe_text(r->problem->state, p->text.data, p->text.len, &norm);
        if (!rc) {
            char h[65];
            rt_sha256_hex(norm.data, norm.len, h);
            p->key = hash_key(h);
        }
        rt_buf_free(&norm);
        if (rc)
            return rc;
    }
    p->has_text = 1;
    return 0;
}

/* The expensive part, for problems with evaluate(): runs on worker threads. Skips children
 * seen in earlier generations; verifies (the gate's check, counted later by process()) only
 * what evaluated without failure. Returns 0 or a negative code (out of memory). */
static int prepare_eval(const rt_run *r, void *child, prepared *p, int check_seen)
{
    const rt_problem_class *cls = r->problem->cls;
    int rc = p->has_text ? 0 : prepare_text(r, child, p);
    if (rc)
        return rc;
    if (check_seen && hashset_has(&r->seen, p->key)) {
        p->seen = 1;
        return 0;
    }
    rc = cls->evaluate(r->problem->state, child, &p->ev);
    if (rc)
        return rc;
    p->evaluated = 1;
    if (p->ev.failed)
        return 0;
    p->vrc = cls->verify(r->problem->state, p->text.data, p->text.len, &p->verdict, p->verr,
                         sizeof p->verr);
    p->verified = 1;
    return 0;
}

/* Dedupes, verifies, stores and offers one child (or the seed, which has no parent and is not
 * counted as an evaluation). Takes ownership of child; p may carry work already done on a
 * worker thread (it is reset before returning). */
static int process(rt_run *r, int island, const char *parent_hash, const char *op, void *child,
                   prepared *p)
{
    const rt_problem_class *cls = r->problem->cls;
    int rc = 0;
    if (parent_hash)
        r->evaluations++;
    if (!child) {
        r->failed++;
        return 0;
    }
    if (!p->has_text && (rc = prepare_text(r, child, p))) {
        cls->free_genome(child);
        return run_fail(r, rc, "cannot encode a candidate (out of memory?)");
    }
    const char *hash = p->hash;
    int fresh = hashset_add(&r->seen, p->key);
    if (fresh < 0) {
        cls->free_genome(child);
        return run_fail(r, RT_ENOMEM, "out of memory");
    }
    r->last.made = 1;
    if (!fresh) {
        r->last.duplicate = 1;
        r->duplicates++;
        cls->free_genome(child);
        return 0;
    }
    if (cls->evaluate && !p->evaluated && (rc = prepare_eval(r, child, p, 0))) {
        cls->free_genome(child);
        return run_fail(r, rc, "cannot evaluate a candidate (out of memory?)");
    }
    rt_score proxy = {0, 0};
    int coords[RT_MAX_FEATURES] = {0};
    rt_verdict v;
    memset(&v, 0, sizeof v);
    int ok = 0;
    int proxy_failed = 0;
    if (p->evaluated && p->ev.failed) {
        /* a failed evaluation is stored with its reason; it never reaches the gate */
        snprintf(v.reason, sizeof v.reason, "evaluation failed: %s", p->ev.reason);
        proxy_failed = 1;
    } else {
        cls->score(r->problem->state, child, &proxy);
        if (proxy.primary <= RT_PROXY_REJECT) {
            r->proxy_rejected++;
            cls->free_genome(child);
            return 0;
        }
        cls->features(r->problem->state, child, coords);
        if (p->verified)
            ok = rt_gate_account(&r->gate, p->text.data, p->text.len, p->vrc, p->verr, proxy,
                                 &p->verdict);
        else
            ok = rt_gate_check(&r->gate, p->text.data, p->text.len, proxy, &p->verdict);
        if (ok < 0) {
            cls->free_genome(child);
            return run_fail(r, ok, "out of memory");
        }
        v = p->verdict;
    }
    rt_score verified = {v.score, v.score2};
    rt_score admit_score = verified;
    char note[512] = "";
    int trusted = 0;
    if (r->opt.trust_proxy && !proxy_failed) {
        /* the ablation: the proxy's word is enough */
        trusted = 1;
        admit_score = proxy;
        ok = 1;
    } else if (ok && cls->noisy && r->policy.noise_samples > 0) {
        ok = noise_admit(r, island, coords, p->text.data, p->text.len, &v, note, sizeof note);
        if (ok < 0) {
            cls->free_genome(child);
            return ok;
        }
        verified = (rt_score){v.score, v.score2};
        admit_score = verified;
    }
    rt_elite *slot = NULL;
    int admitted = 0;
    if (ok) {
        admitted = rt_archive_offer(&r->archive, island, child, admit_score, coords, hash, 0, &slot);
        if (admitted < 0) {
            cls->free_genome(child);
            return run_fail(r, admitted, "out of memory");
        }
    }
    const char *metrics = NULL, *artifacts = NULL;
    if (cls->annotations)
        cls->annotations(r->problem->state, child, &metrics, &artifacts);
    rt_cand_row row = {
        .hash = hash,
        .text = p->text.data,
        .len = p->text.len,
        .parent = parent_hash,
        .op = op,
        .island = island,
        .generation = r->generation,
        .proxy = proxy,
        .valid = v.valid,
        .verified = verified,
        .metric = v.metric,
        .reason = v.valid ? note : v.reason,
        .admitted = admitted,
        .time = run_elapsed(r),
        .trusted = trusted && admitted,
        .metrics = metrics,
        .artifacts = artifacts,
    };
    r->last.valid = v.valid;
    r->last.admitted = admitted;
    r->last.verified = verified;
    if (!v.valid) {
        snprintf(r->last_reason, sizeof r->last_reason, "%s", v.reason);
        r->last.reason = r->last_reason;
    }
    long long id = 0;
    rc = rt_db_insert(r->db, &row, &id);
    if (!admitted)
        cls->free_genome(child); /* after the insert: metrics and artifacts live in the genome */
    if (rc)
        return db_error(r, rc);
    if (slot)
        slot->cand_id = id;
    r->last_new_best = admitted && (!r->has_best || rt_score_cmp(admit_score, r->best) > 0);
    if (admitted && (!r->has_best || rt_score_cmp(admit_score, r->best) > 0)) {
        r->has_best = 1;
        r->best = admit_score;
        r->best_metric = v.metric;
        snprintf(r->metric_name, sizeof r->metric_name, "%s", v.metric_name);
        char detail[400];
        if (trusted)
            snprintf(detail, sizeof detail, "%s %g: %s (admitted on the proxy alone; verified %s)",
                     v.metric_name, v.metric, hash, v.valid ? "valid" : "INVALID");
        else
            snprintf(detail, sizeof detail, "%s %g: %s", v.metric_name, v.metric, hash);
        if ((rc = rt_db_event(r->db, row.time, "best", detail)))
            return db_error(r, rc);
        if ((rc = checkpoint(r, 1)))
            return rc;
        report(r);
    }
    return 0;
}

/* ---- one generation ---------------------------------------------------------------------- */

#define MAX_INSPIRATIONS 8

typedef struct job {
    const rt_elite *parent;
    char parent_hash[65];
    rt_propose_ctx ctx;
    rt_candidate_view views[1 + MAX_INSPIRATIONS]; /* parent, then inspirations */
    rt_buf texts[1 + MAX_INSPIRATIONS];
    rt_proposal prop;
    prepared pre;
    int rc;
} job;

typedef struct generation_ctx {
    rt_run *run;
    job *jobs;
    atomic_int next;
} generation_ctx;

static void run_jobs(generation_ctx *g)
{
    rt_run *r = g->run;
    for (;;) {
        int i = atomic_fetch_add(&g->next, 1);
        if (i >= r->nislands)
            break;
        job *j = &g->jobs[i];
        if (!j->parent)
            continue;
        j->rc = r->pcls->propose(r->pstate, r->problem, &j->ctx, &r->rng[i], &j->prop);
        /* expensive evaluations run here, in parallel; the verdicts are counted in order */
        if (!j->rc && j->prop.child && r->problem->cls->evaluate)
            j->rc = prepare_eval(r, j->prop.child, &j->pre, 1);
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
    const rt_problem_class *cls = r->problem->cls;
    memset(v, 0, sizeof *v);
    v->genome = e->genome;
    v->hash = e->hash;
    v->score = e->score;
    if (!r->pcls->context)
        return 0;
    rt_buf_reset(text);
    int rc = cls->encode(r->problem->state, e->genome, text);
    if (rc)
        return rc;
    v->text = rt_buf_cstr(text);
    v->len = text->len;
    if (cls->annotations)
        cls->annotations(r->problem->state, e->genome, &v->metrics, &v->artifacts);
    return 0;
}

/* The proposer's context for island i: the parent, and for proposers that want them, the run's
 * best elite and elites drawn at random with the island's generator. */
static int make_context(rt_run *r, int i, job *j)
{
    j->ctx.island = i;
    j->ctx.generation = r->generation;
    int rc = fill_view(r, j->parent, &j->views[0], &j->texts[0]);
    j->ctx.parent = j->views[0];
    j->ctx.inspirations = &j->views[1];
    j->ctx.ninspirations = 0;
    int want = r->pcls->inspirations < MAX_INSPIRATIONS ? r->pcls->inspirations
                                                       : MAX_INSPIRATIONS;
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
        rc = fill_view(r, e, &j->views[slot], &j->texts[slot]);
        if (!rc)
            j->ctx.ninspirations++;
    }
    return rc;
}

static int generation(rt_run *r)
{
    job *jobs = calloc((size_t)r->nislands, sizeof *jobs);
    if (!jobs)
        return run_fail(r, RT_ENOMEM, "out of memory");
    for (int i = 0; i < r->nislands; i++) {
        prepared_init(&jobs[i].pre);
        for (int k = 0; k <= MAX_INSPIRATIONS; k++)
            rt_buf_init(&jobs[i].texts[k], 0);
    }
    int rc = 0;
    /* under an evaluation budget the last generation is cut short, islands in order */
    int nprop = r->nislands;
    if (r->opt.evaluations > 0) {
        long long left = r->opt.evaluations - (r->evaluations - r->evals_at_start);
        if (left < nprop)
            nprop = (int)left;
    }
    for (int i = 0; i < nprop; i++) {
        const rt_elite *e = rt_archive_select(&r->archive, i, &r->rng[i], r->policy.p_best);
        if (e) {
            jobs[i].parent = e;
            memcpy(jobs[i].parent_hash, e->hash, 65);
            if (!rc && make_context(r, i, &jobs[i]))
                rc = run_fail(r, RT_ENOMEM, "out of memory");
            /* the operator is drawn here, sequentially, from the island's generator */
            jobs[i].prop.op_index = rt_bandit_choose(&r->bandit, &r->rng[i]);
        }
    }
    if (rc)
        goto done;
    generation_ctx g = {.run = r, .jobs = jobs};
    atomic_init(&g.next, 0);
    int nthreads = r->opt.threads < r->nislands ? r->opt.threads : r->nislands;
    pthread_t tids[64];
    int started = 0;
    for (int t = 1; t < nthreads; t++)
        if (pthread_create(&tids[started], NULL, worker, &g) == 0)
            started++;
    run_jobs(&g);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);

    for (int i = 0; i < r->nislands; i++) {
        job *j = &jobs[i];
        if (!j->parent)
            continue;
        if (!rc && j->rc)
            rc = run_fail(r, j->rc, "proposer %s failed (out of memory?)", r->pcls->name);
        if (rc) {
            if (j->prop.child)
                r->problem->cls->free_genome(j->prop.child);
            continue;
        }
        if (!j->prop.child && j->prop.reason[0]) {
            char detail[400];
            snprintf(detail, sizeof detail, "island %d: %s", i, j->prop.reason);
            if ((rc = rt_db_event(r->db, run_elapsed(r), "rejected", detail))) {
                rc = db_error(r, rc);
                continue;
            }
        }
        memset(&r->last, 0, sizeof r->last);
        r->last_new_best = 0;
        /* process() may grow the island's archive, which moves its elites: j->parent is not
         * valid after it, so its score is copied first */
        rt_score parent_score = j->parent->score;
        r->last.parent = parent_score;
        rc = process(r, i, j->parent_hash, j->prop.op ? j->prop.op : "?", j->prop.child,
                     &j->pre);
        if (!rc && j->prop.tag && r->pcls->feedback)
            r->pcls->feedback(r->pstate, j->prop.tag, &r->last);
        if (!rc) {
            /* verified improvement: beating the parent earns 1, a new best of the run 1 more */
            double reward = 0;
            if (r->last.admitted && rt_score_cmp(r->last.verified, parent_score) > 0)
                reward = 1 + r->last_new_best;
            rt_bandit_update(&r->bandit, j->prop.op_index, reward, j->prop.work);
            r->work += j->prop.work;
        }
    }
done:
    for (int i = 0; i < r->nislands; i++) {
        rt_buf_free(&jobs[i].pre.text);
        for (int k = 0; k <= MAX_INSPIRATIONS; k++)
            rt_buf_free(&jobs[i].texts[k]);
    }
    free(jobs);
    return rc;
}

static int target_reached(const rt_run *r)
{
    if (!r->opt.has_target || !r->has_best)
        return 0;
    if (r->problem->cls->metric_lower_is_better)
        return r->best_metric <= r->opt.target;
    return r->best_metric >= r->opt.target;
}

int rt_run_execute(rt_run *r)
{
    /* problems that run external evaluations: one sandbox slot per worker thread (--jobs) */
    if (r->problem->cls->evaluate)
        rt_sandbox_set_jobs(r->opt.threads);
    r->t_session = rt_now();
    r->evals_at_start = r->evaluations;
    r->work = 0;
    double last_commit = r->t_session, last_report = r->t_session;
    int rc = rt_db_begin(r->db);
    if (rc)
        return db_error(r, rc);
    char detail[64];
    snprintf(detail, sizeof detail, "session %d", r->sessions);
    if ((rc = rt_db_event(r->db, run_elapsed(r), "session", detail)))
        goto db_fail;
    if (r->opt.trust_proxy &&
        (rc = rt_db_event(r->db, run_elapsed(r), "trust-proxy",
                          "WARNING: this session admits candidates on the proxy alone; the "
                          "verifier's verdicts are recorded, not enforced")))
        goto db_fail;
    const char *why = "stopped";
    while (!r->stop) {
        double now = rt_now();
        if (r->opt.seconds > 0 && now - r->t_session >= r->opt.seconds) {
            why = "time budget spent";
            break;
        }
        if (r->opt.evaluations > 0 && r->evaluations - r->evals_at_start >= r->opt.evaluations) {
            why = "evaluation budget spent";
            break;
        }
        if (r->opt.work > 0 && r->work >= r->opt.work) {
            why = "work budget spent";
            break;
        }
        if (target_reached(r)) {
            why = "target reached";
            break;
        }
        char spent[128];
        if (r->pcls->spent && r->pcls->spent(r->pstate, spent, sizeof spent)) {
            snprintf(r->last_reason, sizeof r->last_reason, "%s", spent);
            why = r->last_reason;
            break;
        }
        if ((rc = generation(r)))
            goto fail;
        r->generation++;
        if (r->policy.migrate_every > 0 && r->generation % r->policy.migrate_every == 0) {
            int moved = rt_archive_migrate(&r->archive);
            if (moved < 0) {
                rc = run_fail(r, moved, "out of memory");
                goto fail;
            }
        }
        now = rt_now();
        if (now - last_commit >= r->policy.commit_interval) {
            if ((rc = checkpoint(r, 1)))
                goto fail;
            last_commit = now;
        }
        if (now - last_report >= r->opt.progress_interval) {
            report(r);
            last_report = now;
        }
    }
    if ((rc = rt_db_event(r->db, run_elapsed(r), "stop", why)))
        goto db_fail;
    if ((rc = checkpoint(r, 0)))
        goto fail;
    report(r);
    return 0;
db_fail:
    rc = db_error(r, rc);
fail:
    rt_db_rollback(r->db);
    return rc;
}

/* ---- creating and resuming --------------------------------------------------------------- */

static void add_seen(const char *hash, void *user)
{
    rt_run *r = user;
    if (hashset_add(&r->seen, hash_key(hash)) < 0)
        r->hashset_failed = 1;
}

static void add_seen_text(const char *text, size_t len, void *user)
{
    rt_run *r = user;
    char hash[65];
    rt_sha256_hex(text, len, hash);
    uint64_t key = hash_key(hash);
    rt_buf norm;
    rt_buf_init(&norm, 0);
    if (r->problem->cls->dedupe_text(r->problem->state, text, len, &norm) == 0) {
        rt_sha256_hex(norm.data, norm.len, hash);
        key = hash_key(hash);
    } else {
        r->hashset_failed = 1;
    }
    rt_buf_free(&norm);
    if (hashset_add(&r->seen, key) < 0)
        r->hashset_failed = 1;
}

/* Common setup once problem and config are known. */
static int run_setup(rt_run *r, int nislands, const char *proposer)
{
    r->nislands = nislands;
    if (r->problem->cls->configure)
        r->problem->cls->configure(r->problem->state, &r->policy);
    r->rng = calloc((size_t)nislands, sizeof *r->rng);
    if (!r->rng)
        return run_fail(r, RT_ENOMEM, "out of memory");
    if (rt_archive_init(&r->archive, r->problem, nislands))
        return run_fail(r, RT_ENOMEM, "out of memory");
    rt_gate_init(&r->gate, r->problem);
    int rc = rt_bandit_init(&r->bandit, r->problem, &r->policy, r->errmsg,
                            sizeof r->errmsg);
    if (rc)
        return rc;
    r->pcls = rt_proposer_find(proposer);
    if (!r->pcls)
        return run_fail(r, RT_EUSAGE, "unknown proposer '%s'", proposer);
    if (r->opt.nproposer_params && !r->pcls->configure)
        return run_fail(r, RT_EUSAGE, "proposer %s takes no options (%s given)", proposer,
                        r->opt.proposer_keys[0]);
    rc = r->pcls->create(&r->pstate, r->problem, r->errmsg, sizeof r->errmsg);
    if (!rc && r->pcls->configure)
        rc = r->pcls->configure(r->pstate, r->opt.proposer_keys, r->opt.proposer_values,
                                r->opt.nproposer_params, &r->policy, &r->stop, r->errmsg,
                                sizeof r->errmsg);
    return rc;
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
    if (options->policy &&
        (rc = rt_policy_parse(&r->policy, options->policy, strlen(options->policy), r->errmsg,
                              sizeof r->errmsg)))
        goto fail;
    rc = rt_problem_reopen(problem, &r->problem, r->errmsg, sizeof r->errmsg);
    if (rc)
        goto fail;
    if ((rc = run_setup(r, options->islands, options->proposer ? options->proposer : "builtin")))
        goto fail;
    rt_run_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.problem, sizeof cfg.problem, "%s", problem->cls->name);
    snprintf(cfg.params, sizeof cfg.params, "%s", rt_problem_params(r->problem));
    snprintf(cfg.proposer, sizeof cfg.proposer, "%s", r->pcls->name);
    cfg.seed = options->seed;
    cfg.islands = options->islands;
    hide_store(store_path);
    rc = rt_db_create(&r->db, store_path, &cfg, r->errmsg, sizeof r->errmsg);
    if (rc)
        goto fail;
    for (int i = 0; i < r->nislands; i++)
        rt_rng_seed(&r->rng[i], options->seed, (uint64_t)i);
    r->sessions = 1;

    /* the seed goes through the gate like every other candidate */
    const rt_problem_class *cls = r->problem->cls;
    void *seed = cls->seed(r->problem->state);
    if (!seed) {
        rc = run_fail(r, RT_ENOMEM, "cannot make the initial candidate");
        goto fail;
    }
    if ((rc = rt_db_begin(r->db))) {
        cls->free_genome(seed);
        rc = db_error(r, rc);
        goto fail;
    }
    rt_db_event(r->db, 0, "start", rt_problem_params(r->problem));
    /* the policy is stored with the run, so that a resume uses the same one */
    rt_buf pt;
    rt_buf_init(&pt, 0);
    if (!(rc = rt_policy_print(&r->policy, &pt)))
        rc = rt_db_put_meta(r->db, "policy", rt_buf_cstr(&pt));
    rt_buf_free(&pt);
    if (rc) {
        cls->free_genome(seed);
        rt_db_rollback(r->db);
        rc = rc == RT_ENOMEM ? run_fail(r, rc, "out of memory") : db_error(r, rc);
        goto fail;
    }
    void *copy = cls->clone(r->problem->state, seed);
    prepared pre;
    prepared_init(&pre);
    rc = copy ? process(r, 0, NULL, "seed", copy, &pre) : run_fail(r, RT_ENOMEM, "out of memory");
    rt_buf_free(&pre.text);
    if (!rc && !r->has_best)
        rc = run_fail(r, RT_EINVALID, "the initial candidate failed: %s",
                      pre.verdict.valid                  ? "not admitted"
                      : (pre.evaluated && pre.ev.failed) ? pre.ev.reason
                                                         : pre.verdict.reason);
    for (int i = 1; !rc && i < r->nislands; i++) {
        const rt_elite *e0 = &r->archive.islands[0].cells[0];
        void *c = cls->clone(r->problem->state, seed);
        if (!c) {
            rc = run_fail(r, RT_ENOMEM, "out of memory");
            break;
        }
        if (rt_archive_offer(&r->archive, i, c, e0->score, e0->coords, e0->hash, e0->cand_id,
                             NULL) != 1)
            cls->free_genome(c);
    }
    cls->free_genome(seed);
    if (!rc)
        rc = checkpoint(r, 0);
    if (rc) {
        rt_db_rollback(r->db);
        goto fail;
    }
    if ((rc = rt_db_publish(&r->db, r->errmsg, sizeof r->errmsg)))
        goto fail;
    *out = r;
    return 0;
fail:
    set_err(err, rc, r->errmsg);
    rt_run_close(r);
    return rc;
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
    rt_archive_row *rows = NULL;
    size_t nrows = 0;
    hide_store(store_path);
    int rc = rt_db_open(&r->db, store_path, 1, r->errmsg, sizeof r->errmsg);
    if (rc)
        goto fail;
    rt_run_config cfg;
    if ((rc = rt_db_config(r->db, &cfg))) {
        rc = db_error(r, rc);
        goto fail;
    }
    if (problem && (strcmp(problem->cls->name, cfg.problem) != 0 ||
                    strcmp(rt_problem_params(problem), cfg.params) != 0)) {
        rc = run_fail(r, RT_ESTORE, "store %s is a run of %s (%s), not of %s (%s)", store_path,
                      cfg.problem, cfg.params, problem->cls->name, rt_problem_params(problem));
        goto fail;
    }
    char reason[400];
    rc = rt_problem_open_canonical(&r->problem, cfg.problem, cfg.params, reason, sizeof reason);
    if (rc) {
        rc = run_fail(r, RT_ESTORE, "store %s: %s", store_path, reason);
        goto fail;
    }
    char *stored = NULL;
    if ((rc = rt_db_get_meta(r->db, "policy", &stored))) {
        rc = db_error(r, rc);
        goto fail;
    }
    if (stored) { /* stores made before policies were stored run with the defaults */
        char why[400];
        rc = rt_policy_parse(&r->policy, stored, strlen(stored), why, sizeof why);
        free(stored);
        if (rc) {
            rc = run_fail(r, RT_ESTORE, "store %s: %s", store_path, why);
            goto fail;
        }
    }
    if ((rc = run_setup(r, cfg.islands, cfg.proposer)))
        goto fail;
    if ((rc = rt_db_get_meta(r->db, "bandit", &stored))) {
        rc = db_error(r, rc);
        goto fail;
    }
    if (stored) {
        char why[400];
        rc = rt_bandit_load(&r->bandit, stored, strlen(stored), why, sizeof why);
        free(stored);
        if (rc) {
            rc = run_fail(r, RT_ESTORE, "store %s: %s", store_path, why);
            goto fail;
        }
    }
    rt_checkpoint cp;
    if ((rc = rt_db_load_checkpoint(r->db, &cp, &rows, &nrows))) {
        rc = db_error(r, rc);
        goto fail;
    }
    if (cp.nislands != cfg.islands) {
        rc = run_fail(r, RT_ESTORE, "store %s: checkpoint has %d generators for %d islands",
                      store_path, cp.nislands, cfg.islands);
        goto fail;
    }
    for (int i = 0; i < r->nislands; i++)
        if (rt_rng_from_hex(&r->rng[i], cp.rng[i])) {
            rc = run_fail(r, RT_ESTORE, "store %s: bad generator state", store_path);
            goto fail;
        }
    r->generation = cp.generation;
    r->evaluations = cp.evaluations;
    r->duplicates = cp.duplicates;
    r->failed = cp.failed;
    r->proxy_rejected = cp.proxy_rejected;
    r->elapsed_before = cp.elapsed;
    r->sessions = cp.sessions + 1;
    const rt_problem_class *cls = r->problem->cls;
    for (size_t k = 0; k < nrows; k++) {
        if (rows[k].island < 0 || rows[k].island >= r->nislands) {
            rc = run_fail(r, RT_ESTORE, "store %s: archive names island %d", store_path,
                          rows[k].island);
            goto fail;
        }
        char *text = NULL;
        size_t len = 0;
        char hash[65];
        rt_score sc;
        if ((rc = rt_db_candidate(r->db, rows[k].cand_id, &text, &len, hash, &sc))) {
            rc = db_error(r, rc);
            goto fail;
        }
        /* what comes back from disk passes the gate again before it is trusted */
        rt_verdict v;
        char why[512];
        if (cls->verify(r->problem->state, text, len, &v, why, sizeof why) || !v.valid) {
            free(text);
            rc = run_fail(r, RT_ESTORE,
                          "store %s: archived candidate %lld does not verify (was it admitted "
                          "under --trust-proxy? `ratchet audit` says)",
                          store_path, rows[k].cand_id);
            goto fail;
        }
        void *g = NULL;
        rc = cls->decode(r->problem->state, text, len, &g, why, sizeof why);
        free(text);
        if (rc) {
            rc = run_fail(r, RT_ESTORE, "store %s: candidate %lld: %s", store_path,
                          rows[k].cand_id, why);
            goto fail;
        }
        if (cls->restore_annotations) { /* what proposers are shown of an archived parent */
            char *metrics = NULL, *artifacts = NULL;
            if ((rc = rt_db_evaluation(r->db, rows[k].cand_id, &metrics, &artifacts))) {
                cls->free_genome(g);
                rc = db_error(r, rc);
                goto fail;
            }
            cls->restore_annotations(r->problem->state, g, metrics, artifacts);
        }
        int coords[RT_MAX_FEATURES] = {0};
        cls->features(r->problem->state, g, coords);
        /* a noisy verifier's fresh draw is not the confirmed score the elite was admitted with */
        rt_score verified = cls->noisy ? sc : (rt_score){v.score, v.score2};
        rt_elite *slot = NULL;
        int a = rt_archive_offer(&r->archive, rows[k].island, g, verified, coords, hash,
                                 rows[k].cand_id, &slot);
        if (a != 1) {
            cls->free_genome(g);
            if (a < 0) {
                rc = run_fail(r, RT_ENOMEM, "out of memory");
                goto fail;
            }
            continue;
        }
        slot->migrated = rows[k].migrated;
        if (!r->has_best || rt_score_cmp(verified, r->best) > 0) {
            r->has_best = 1;
            r->best = verified;
            r->best_metric = v.metric;
            snprintf(r->metric_name, sizeof r->metric_name, "%s", v.metric_name);
        }
    }
    rc = r->problem->cls->dedupe_text ? rt_db_each_text(r->db, add_seen_text, r)
                                      : rt_db_each_hash(r->db, add_seen, r);
    if (rc) {
        rc = db_error(r, rc);
        goto fail;
    }
    if (r->hashset_failed) {
        rc = run_fail(r, RT_ENOMEM, "out of memory");
        goto fail;
    }
    free(rows);
    *out = r;
    return 0;
fail:
    free(rows);
    set_err(err, rc, r->errmsg);
    rt_run_close(r);
    return rc;
}
