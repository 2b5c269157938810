/* bp_coevo_store.c — the co-evolution's store: creating it, resuming it, its rows, events and
 * checkpoints (bp_coevo.h), and the public rt_binpack_coevolve. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems/binpack/bp_coevo.h"
#include "problems/binpack/bp_sim.h"
#include "store/query.h"
#include "store/write.h"

/* The anchor set: a small fixed set of neither target family (sizes uniform in 10..70 of 100). */
static const char *const anchor_keys[] = {"family", "capacity", "lo", "hi", "items", "count",
                                          "train-seed", "posers"};
static const char *const anchor_values[] = {"uniform", "100", "10", "70", "200", "2", "1", "1"};

#define CO_PROPOSER "coevolve"

int co_fail(co_run *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

static int db_fail(co_run *r, int rc)
{
    return co_fail(r, rc, "%s", rt_db_errmsg(r->db));
}

double co_elapsed(const co_run *r) { return r->elapsed0 + (rt_now() - r->start); }

int co_store_event(co_run *r, const char *kind, const char *detail)
{
    int rc = rt_db_event(r->db, co_elapsed(r), kind, detail);
    return rc ? db_fail(r, rc) : 0;
}

int co_store_row(co_run *r, const char *text, size_t len, const char *parent, const char *op,
                 int island, const rt_verdict *v, rt_score proxy, int admitted,
                 const char *metrics, long long *id)
{
    char hash[65];
    rt_sha256_hex(text, len, hash);
    rt_cand_row row = {
        .hash = hash, .text = text, .len = len, .parent = parent, .op = op, .island = island,
        .generation = r->epoch, .proxy = proxy, .valid = v->valid,
        .verified = {v->score, v->score2}, .metric = v->metric,
        .reason = v->valid ? NULL : v->reason, .admitted = admitted, .time = co_elapsed(r),
        .metrics = metrics,
    };
    int rc = rt_db_insert(r->db, &row, id);
    if (rc)
        return db_fail(r, rc);
    return rt_hashset_add(&r->seen, hash) < 0 ? co_fail(r, RT_ENOMEM, "out of memory") : 0;
}

int co_store_checkpoint(co_run *r)
{
    rt_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    cp.generation = r->epoch;
    cp.evaluations = r->evaluations;
    cp.duplicates = r->duplicates;
    cp.elapsed = co_elapsed(r);
    cp.sessions = r->sessions;
    cp.nislands = 3;
    for (int i = 0; i < 3; i++)
        rt_rng_to_hex(&r->rng[i], cp.rng[i]);
    rt_archive_row rows[CO_MAX_SOLVERS + CO_MAX_POSERS + CO_MAX_HALL];
    size_t n = 0;
    for (int i = 0; i < r->npop; i++)
        rows[n++] = (rt_archive_row){0, r->pop[i].cand_id, 0};
    for (int i = 0; i < r->nposers; i++)
        rows[n++] = (rt_archive_row){1, r->posers[i].cand_id, 0};
    for (int i = 0; i < r->nhall; i++)
        rows[n++] = (rt_archive_row){2, r->hall[i].cand_id, 0};
    int rc = rt_db_save_checkpoint(r->db, &cp, rows, n);
    if (!rc)
        rc = rt_db_commit(r->db);
    if (!rc)
        rc = rt_db_begin(r->db);
    return rc ? db_fail(r, rc) : 0;
}

/* The anchors and their checked reference packings. */
static int load_anchors(co_run *r, const char *params)
{
    char err[400];
    int rc = rt_problem_open_canonical(&r->problem, "binpack", params, err, sizeof err);
    if (rc)
        return co_fail(r, rc, "%s", err);
    const bp_set *train = bp_problem_training(r->problem);
    r->anchor_ref = calloc((size_t)train->n + 1, sizeof *r->anchor_ref);
    r->anchor_bf = calloc((size_t)train->n + 1, sizeof *r->anchor_bf);
    if (!r->anchor_ref || !r->anchor_bf)
        return co_fail(r, RT_ENOMEM, "out of memory");
    r->anchors = *train; /* borrowed: the problem owns the instances */
    for (int i = 0; i < train->n; i++) {
        if ((r->anchor_ref[i] = bp_reference(&train->inst[i], err, sizeof err)) < 0 ||
            (r->anchor_bf[i] = bp_best_fit(&train->inst[i])) < 0)
            return co_fail(r, RT_EINVALID, "anchor %d: %s", i, err);
    }
    return 0;
}

/* A new run's first members: best fit, and random posers until the population is full. */
static int first_members(co_run *r)
{
    bp_expr bf;
    char err[200];
    if (bp_parse("(neg f)", 7, &bf, err, sizeof err))
        return co_fail(r, RT_EINTERNAL, "%s", err);
    for (int i = 0; i < r->anchors.n; i++) {
        r->cur[i] = &r->anchors.inst[i];
        r->cur_ref[i] = r->anchor_ref[i];
        r->cur_bf[i] = r->anchor_bf[i];
    }
    r->ncur = r->anchors.n;
    int rc = co_admit_solver(r, &bf, NULL, "seed", -1, 0);
    if (rc != 1)
        return rc < 0 ? rc : co_fail(r, RT_EINTERNAL, "best fit failed verification");
    r->hall[r->nhall++] = r->pop[0];
    return 0;
}

int co_store_create(co_run *r, const char *path)
{
    rt_error err = {0};
    rt_problem *pb = NULL;
    if (rt_problem_open(&pb, "binpack", anchor_keys, anchor_values, 8, &err))
        return co_fail(r, err.code, "%s", err.msg);
    char params[2048];
    snprintf(params, sizeof params, "%s", rt_problem_params(pb));
    rt_problem_close(pb);
    int rc = load_anchors(r, params);
    if (rc)
        return rc;
    rt_run_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.problem, sizeof cfg.problem, "binpack");
    snprintf(cfg.params, sizeof cfg.params, "%s", params);
    snprintf(cfg.proposer, sizeof cfg.proposer, CO_PROPOSER);
    cfg.seed = r->opt.seed;
    cfg.islands = 3;
    if ((rc = rt_db_create(&r->db, path, &cfg, r->errmsg, sizeof r->errmsg)))
        return rc;
    for (int i = 0; i < 3; i++)
        rt_rng_seed(&r->rng[i], r->opt.seed, (uint64_t)i);
    r->sessions = 1;
    if ((rc = rt_db_begin(r->db)))
        return db_fail(r, rc);
    if ((rc = co_store_event(r, "start", params)))
        return rc;
    if ((rc = first_members(r)) || (rc = co_store_checkpoint(r)))
        return rc;
    rt_db_rollback(r->db); /* the empty transaction the checkpoint opened */
    if ((rc = rt_db_publish(&r->db, r->errmsg, sizeof r->errmsg)))
        return rc;
    return rt_db_begin(r->db) ? db_fail(r, RT_EIO) : 0;
}

static void add_seen(const char *hash, void *user)
{
    co_run *r = user;
    if (rt_hashset_add(&r->seen, hash) < 0)
        r->errmsg[0] = '!';
}

/* Puts an archived row back in its population, verified again from its stored text. */
static int restore_member(co_run *r, const rt_archive_row *row)
{
    char *text = NULL, hash[65], why[400] = "";
    size_t len = 0;
    rt_score verified;
    int rc = rt_db_candidate(r->db, row->cand_id, &text, &len, hash, &verified);
    if (rc) {
        free(text);
        return db_fail(r, rc);
    }
    rt_verdict v;
    void *genome = NULL;
    rc = rt_problem_verify(r->problem, text, len, &v, why, sizeof why);
    if (!rc && !v.valid)
        rc = co_fail(r, RT_ESTORE, "archived row %lld no longer verifies: %s", row->cand_id,
                     v.reason);
    if (!rc && (rc = rt_problem_decode(r->problem, text, len, &genome, why, sizeof why)))
        co_fail(r, rc, "archived row %lld: %s", row->cand_id, why);
    free(text);
    if (rc)
        return rc;
    bp_genome *g = genome;
    if (row->island == 1 && g->poser && r->nposers < CO_MAX_POSERS) {
        rc = co_check_poser(r, &g->spec, &r->posers[r->nposers], why, sizeof why);
        if (rc == 1)
            r->posers[r->nposers++].cand_id = row->cand_id;
        rc = rc < 0 ? co_fail(r, rc, "out of memory") : 0;
    } else if (!g->poser && row->island != 1) {
        co_solver s = {.expr = g->expr, .cand_id = row->cand_id, .anchor = v.metric};
        if (row->island == 0 && r->npop < CO_MAX_SOLVERS)
            r->pop[r->npop++] = s;
        else if (row->island == 2 && r->nhall < CO_MAX_HALL)
            r->hall[r->nhall++] = s;
    }
    rt_problem_free_genome(r->problem, genome);
    return rc;
}

int co_store_resume(co_run *r, const char *path)
{
    int rc = rt_db_open(&r->db, path, 1, r->errmsg, sizeof r->errmsg);
    rt_run_config cfg;
    if (!rc && (rc = rt_db_config(r->db, &cfg)))
        return db_fail(r, rc);
    if (rc)
        return rc;
    if (strcmp(cfg.proposer, CO_PROPOSER) != 0 || strcmp(cfg.problem, "binpack") != 0)
        return co_fail(r, RT_ESTORE, "%s is not a store of ratchet coevolve", path);
    if ((rc = load_anchors(r, cfg.params)))
        return rc;
    rt_checkpoint cp;
    rt_archive_row *rows = NULL;
    size_t nrows = 0;
    if ((rc = rt_db_load_checkpoint(r->db, &cp, &rows, &nrows)))
        return db_fail(r, rc);
    for (size_t i = 0; !rc && i < nrows; i++)
        rc = restore_member(r, &rows[i]);
    free(rows);
    if (rc)
        return rc;
    if (r->npop == 0)
        return co_fail(r, RT_ESTORE, "%s: the checkpoint holds no solver", path);
    for (int i = 0; i < 3; i++)
        if (rt_rng_from_hex(&r->rng[i], cp.rng[i]))
            return co_fail(r, RT_ESTORE, "%s: a bad generator state", path);
    r->epoch = cp.generation;
    r->evaluations = cp.evaluations;
    r->duplicates = cp.duplicates;
    r->elapsed0 = cp.elapsed;
    r->sessions = cp.sessions + 1;
    if ((rc = rt_db_each_hash(r->db, add_seen, r)) || r->errmsg[0] == '!')
        return rc ? db_fail(r, rc) : co_fail(r, RT_ENOMEM, "out of memory");
    return rt_db_begin(r->db) ? db_fail(r, RT_EIO) : 0;
}

void rt_coevolve_options_init(rt_coevolve_options *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->epoch_seconds = 2;
    o->solvers = 16;
    o->posers = 8;
    o->curriculum = 6;
    o->hall = 8;
}

static int check_options(const rt_coevolve_options *o, char *err, size_t errlen)
{
    if (!(o->seconds > 0) || !(o->epoch_seconds > 0))
        return rt_fail(err, errlen, RT_EUSAGE, "coevolve needs --seconds and --epoch-seconds "
                       "above 0");
    if (o->solvers < 2 || o->solvers > CO_MAX_SOLVERS || o->posers < 2 ||
        o->posers > CO_MAX_POSERS || o->hall < 1 || o->hall > CO_MAX_HALL ||
        o->curriculum < 0 || o->curriculum > o->posers)
        return rt_fail(err, errlen, RT_EUSAGE, "coevolve: solvers 2..%d, posers 2..%d, hall "
                       "1..%d, curriculum 0..posers", CO_MAX_SOLVERS, CO_MAX_POSERS,
                       CO_MAX_HALL);
    return 0;
}

static void co_close(co_run *r)
{
    rt_db_close(r->db);
    rt_problem_close(r->problem);
    for (int i = 0; i < r->nposers; i++)
        co_poser_free(&r->posers[i]);
    free(r->anchor_ref);
    free(r->anchor_bf);
    rt_hashset_free(&r->seen);
    free(r);
}

/* The session: epochs until the budget, then a stop event and a last checkpoint. */
static int co_session(co_run *r, char **generalist)
{
    char detail[64];
    snprintf(detail, sizeof detail, "session %d", r->sessions);
    int rc = co_store_event(r, "session", detail);
    double until = rt_now() + r->opt.seconds;
    while (!rc && rt_now() < until && !(r->opt.stop && *r->opt.stop))
        rc = co_epoch(r);
    if (rc)
        return rc;
    rt_buf text;
    rt_buf_init(&text, 0);
    if (bp_print(&r->pop[0].expr, &text) || rt_buf_puts(&text, "\n"))
        return co_fail(r, RT_ENOMEM, "out of memory");
    if ((rc = co_store_event(r, "generalist", rt_buf_cstr(&text))) ||
        (rc = co_store_checkpoint(r))) {
        rt_buf_free(&text);
        return rc;
    }
    *generalist = rt_buf_take(&text);
    return 0;
}

int rt_binpack_coevolve(const char *store_path, int resume, const rt_coevolve_options *options,
                        char **generalist, rt_error *err)
{
    *generalist = NULL;
    err->code = 0;
    co_run *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return err->code = RT_ENOMEM;
    }
    r->opt = *options;
    r->start = rt_now();
    rt_hashset_init(&r->seen, 64);
    int rc = check_options(options, r->errmsg, sizeof r->errmsg);
    if (!rc)
        rc = resume ? co_store_resume(r, store_path) : co_store_create(r, store_path);
    if (!rc)
        rc = co_session(r, generalist);
    if (rc) {
        err->code = rc;
        snprintf(err->msg, sizeof err->msg, "%s", r->errmsg);
    }
    co_close(r);
    return rc;
}
