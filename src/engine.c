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
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "bandit.h"
#include "gate.h"
#include "policy.h"
#include "proposer.h"
#include "store.h"

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

    long long generation, evaluations, duplicates, failed;
    long long work; /* rt_proposal.work summed over this session */
    double elapsed_before;
    int sessions;

    int has_best;
    rt_score best;
    double best_metric;
    char metric_name[32];

    double t_session;
    long long evals_at_start;
    rt_buf text;
    volatile int stop;
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
    rt_buf_init(&r->text, 0);
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
    rt_buf_free(&r->text);
    free(r);
}

const char *rt_run_errmsg(const rt_run *r) { return r->errmsg; }

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
    int rc = rt_db_save_checkpoint(r->db, &cp, rows, n);
    free(rows);
    if (!rc) {
        rt_buf_reset(&r->text);
        rc = rt_bandit_save(&r->bandit, &r->text);
        if (rc) {
            rt_db_rollback(r->db);
            return run_fail(r, rc, "out of memory");
        }
        rc = rt_db_put_meta(r->db, "bandit", rt_buf_cstr(&r->text));
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

/* What became of a child, for the operator bandit. */
typedef struct outcome {
    int admitted;
    int new_best;
    rt_score verified;
} outcome;

/* Dedupes, verifies, stores and offers one child (or the seed, which has no parent and is not
 * counted as an evaluation). Takes ownership of child. *out (may be NULL) says what became of
 * it. */
static int process(rt_run *r, int island, const char *parent_hash, const char *op, void *child,
                   outcome *out)
{
    const rt_problem_class *cls = r->problem->cls;
    if (out)
        memset(out, 0, sizeof *out);
    if (parent_hash)
        r->evaluations++;
    if (!child) {
        r->failed++;
        return 0;
    }
    rt_buf_reset(&r->text);
    int rc = cls->encode(r->problem->state, child, &r->text);
    if (rc) {
        cls->free_genome(child);
        return run_fail(r, rc, "cannot encode a candidate (out of memory?)");
    }
    char hash[65];
    rt_sha256_hex(r->text.data, r->text.len, hash);
    int fresh = hashset_add(&r->seen, hash_key(hash));
    if (fresh < 0) {
        cls->free_genome(child);
        return run_fail(r, RT_ENOMEM, "out of memory");
    }
    if (!fresh) {
        r->duplicates++;
        cls->free_genome(child);
        return 0;
    }
    rt_score proxy;
    int coords[RT_MAX_FEATURES] = {0};
    cls->score(r->problem->state, child, &proxy);
    cls->features(r->problem->state, child, coords);
    rt_verdict v;
    int ok = rt_gate_check(&r->gate, r->text.data, r->text.len, proxy, &v);
    rt_score verified = {v.score, v.score2};
    rt_elite *slot = NULL;
    int admitted = 0;
    if (ok) {
        admitted = rt_archive_offer(&r->archive, island, child, verified, coords, hash, 0, &slot);
        if (admitted < 0) {
            cls->free_genome(child);
            return run_fail(r, admitted, "out of memory");
        }
    }
    if (!admitted)
        cls->free_genome(child);
    rt_cand_row row = {
        .hash = hash,
        .text = r->text.data,
        .len = r->text.len,
        .parent = parent_hash,
        .op = op,
        .island = island,
        .generation = r->generation,
        .proxy = proxy,
        .valid = v.valid,
        .verified = verified,
        .metric = v.metric,
        .reason = v.valid ? NULL : v.reason,
        .admitted = admitted,
        .time = run_elapsed(r),
    };
    long long id = 0;
    rc = rt_db_insert(r->db, &row, &id);
    if (rc)
        return db_error(r, rc);
    if (slot)
        slot->cand_id = id;
    if (out) {
        out->admitted = admitted;
        out->verified = verified;
        out->new_best = admitted && (!r->has_best || rt_score_cmp(verified, r->best) > 0);
    }
    if (admitted && (!r->has_best || rt_score_cmp(verified, r->best) > 0)) {
        r->has_best = 1;
        r->best = verified;
        r->best_metric = v.metric;
        snprintf(r->metric_name, sizeof r->metric_name, "%s", v.metric_name);
        char detail[400];
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

typedef struct job {
    const void *parent;
    rt_score parent_score;
    char parent_hash[65];
    rt_proposal prop;
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
        j->rc = r->pcls->propose(r->pstate, r->problem, j->parent, &r->rng[i], &j->prop);
    }
}

static void *worker(void *arg)
{
    run_jobs(arg);
    return NULL;
}

static int generation(rt_run *r)
{
    job jobs[64];
    memset(jobs, 0, sizeof jobs);
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
            jobs[i].parent = e->genome;
            jobs[i].parent_score = e->score;
            memcpy(jobs[i].parent_hash, e->hash, 65);
            /* the operator is drawn here, sequentially, from the island's generator */
            jobs[i].prop.op_index = rt_bandit_choose(&r->bandit, &r->rng[i]);
        }
    }
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

    int rc = 0;
    for (int i = 0; i < r->nislands; i++) {
        if (!jobs[i].parent)
            continue;
        if (!rc && jobs[i].rc)
            rc = run_fail(r, jobs[i].rc, "proposer %s failed (out of memory?)", r->pcls->name);
        if (rc) {
            if (jobs[i].prop.child)
                r->problem->cls->free_genome(jobs[i].prop.child);
            continue;
        }
        outcome oc;
        rc = process(r, i, jobs[i].parent_hash, jobs[i].prop.op ? jobs[i].prop.op : "?",
                     jobs[i].prop.child, &oc);
        if (!rc) {
            /* verified improvement: beating the parent earns 1, a new best of the run 1 more */
            double reward = 0;
            if (oc.admitted && rt_score_cmp(oc.verified, jobs[i].parent_score) > 0)
                reward = 1 + oc.new_best;
            rt_bandit_update(&r->bandit, jobs[i].prop.op_index, reward, jobs[i].prop.work);
            r->work += jobs[i].prop.work;
        }
    }
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
    int rc = rt_bandit_init(&r->bandit, r->problem->cls, &r->policy, r->errmsg,
                            sizeof r->errmsg);
    if (rc)
        return rc;
    r->pcls = rt_proposer_find(proposer);
    if (!r->pcls)
        return run_fail(r, RT_ESTORE, "unknown proposer '%s'", proposer);
    return r->pcls->create(&r->pstate, r->problem, r->errmsg, sizeof r->errmsg);
}

static void set_err(rt_error *err, int code, const char *msg)
{
    err->code = code;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
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
    if ((rc = run_setup(r, options->islands, "builtin")))
        goto fail;
    rt_run_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.problem, sizeof cfg.problem, "%s", problem->cls->name);
    snprintf(cfg.params, sizeof cfg.params, "%s", rt_problem_params(r->problem));
    snprintf(cfg.proposer, sizeof cfg.proposer, "%s", r->pcls->name);
    cfg.seed = options->seed;
    cfg.islands = options->islands;
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
    rt_buf_reset(&r->text);
    if ((rc = rt_policy_print(&r->policy, &r->text)) ||
        (rc = rt_db_put_meta(r->db, "policy", rt_buf_cstr(&r->text)))) {
        cls->free_genome(seed);
        rt_db_rollback(r->db);
        rc = rc == RT_ENOMEM ? run_fail(r, rc, "out of memory") : db_error(r, rc);
        goto fail;
    }
    void *copy = cls->clone(r->problem->state, seed);
    rc = copy ? process(r, 0, NULL, "seed", copy, NULL) : run_fail(r, RT_ENOMEM, "out of memory");
    if (!rc && !r->has_best)
        rc = run_fail(r, RT_EINTERNAL, "the initial candidate failed verification");
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
            rc = run_fail(r, RT_ESTORE, "store %s: archived candidate %lld no longer verifies",
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
        int coords[RT_MAX_FEATURES] = {0};
        cls->features(r->problem->state, g, coords);
        rt_score verified = {v.score, v.score2};
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
    if ((rc = rt_db_each_hash(r->db, add_seen, r))) {
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
