/* policy.c — the meta problem: candidates are policies, so that `ratchet meta` evolves policies
 * with the same engine, archive, gate and store as any run.
 *
 * Genome: a policy and its *baseline* (the parent policy it was made from). Canonical text:
 *     {"policy": {...every knob...}, "baseline": {...every knob...}}
 *
 * Proxy (what the search believes): the mean log cost (meta.h) of the policy's trials on the
 * TRAINING problems with the training seeds 1..seeds, negated (higher is better).
 *
 * Verification (from the text alone): the policy and its baseline are both run on the HELD-OUT
 * problems with the held-out seeds vfirst..vfirst+vseeds-1 (default 1000001.., never used in
 * training; a later run moves them to seeds no earlier gate saw). For each
 * (problem, seed) pair d = log(cost of baseline) - log(cost of policy). The candidate verifies
 * only if mean(d) > 2 * sd(d)/sqrt(n), i.e. it beats its baseline by more than twice the
 * standard error of the seed-to-seed differences, which the verifier measures here. A policy
 * equal to its baseline (the seed of a meta run) verifies as the reference. The verified score is
 * -(mean log held-out cost); the metric is the geometric mean held-out cost.
 *
 * The archive has one cell per island: an island's elite is its incumbent policy.
 *
 * Operator "evolve" (self-application): the child's baseline is the parent's policy, and the
 * child's policy is made with the PARENT's own meta section: it resets one knob to its default
 * with weight meta.op_reset, otherwise mutates knobs (rt_policy_mutate with the parent's
 * meta.step and meta.knobs). So an admitted policy changes how its successors are made. One
 * application makes meta.race_size such children and RACES them on the training problems
 * (successive halving with paired comparisons on common seeds: all on meta.race_seeds seeds,
 * the better half on twice as many, ..., the last one on every training seed), so the training
 * budget goes to the contenders. The winner goes on to the gate only if its training cost is
 * lower than its parent's on every training seed together (screening); otherwise nothing is
 * proposed (counted as a failed proposal), so held-out trials are spent only on policies that
 * improved in training.
 *
 * Trials are deterministic, so their costs are cached by (policy, problem, seed) in the state.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "meta.h"
#include "param.h"
#include "problem.h"

#define CACHE_MAX 8192
/* the first held-out seed unless --vfirst moves it (a number, and the text of its row) */
#define VFIRST_DEFAULT 1000001
#define TEXT_OF(x) #x
#define TEXT(x) TEXT_OF(x)

typedef struct cache_entry {
    char key[65]; /* sha256 of the policy's canonical text */
    int spec;     /* 0..ntrain-1 training, 100+i held-out */
    uint64_t seed;
    double cost;
} cache_entry;

typedef struct policy_state {
    rt_meta_spec train[RT_META_MAX_SPECS], heldout[RT_META_MAX_SPECS];
    int ntrain, nheld;
    int seeds, vseeds, jobs;
    long long vfirst; /* the first held-out seed */
    rt_meta_caps caps;
    /* level 2: a trial unit is one suite (a level-1 run), and there is one of each; at level 1
     * a unit is one problem */
    int level;
    int utrain, uheld;
    rt_meta_suite strain, sheld;
    rt_meta1_caps l1;
    rt_policy start; /* the seed: the run's policy (configure), else the defaults */
    char tmpdir[4096];
    char params[512];
    pthread_mutex_t lock;
    cache_entry *cache;
    size_t ncache;
} policy_state;

typedef struct policy_genome {
    rt_policy policy;
    rt_policy baseline;
} policy_genome;

static int train_param(void *state, const char *v, char *err, size_t errlen)
{
    policy_state *st = state;
    return rt_meta_parse_specs(v, st->train, &st->ntrain, err, errlen);
}

static int heldout_param(void *state, const char *v, char *err, size_t errlen)
{
    policy_state *st = state;
    return rt_meta_parse_specs(v, st->heldout, &st->nheld, err, errlen);
}

#define COUNT_ROW(key, member, def_, text)                                                        \
    {.name = key, .type = RT_PARAM_INT, RT_PARAM_AT(policy_state, member), .lo = 1, .hi = 64,     \
     .def = def_, .metavar = "N", .help = text}
#define CAP_ROW(key, member, def_, text)                                                          \
    {.name = key, .type = RT_PARAM_INT, RT_PARAM_AT(policy_state, member), .lo = 1,             \
     .hi = 1000000000000.0, .expected = "a positive integer", .def = def_, .metavar = "N",       \
     .help = text}

static const rt_param policy_rows[] = {
    {.name = "train", .type = RT_PARAM_CUSTOM, .parse = train_param, .flags = RT_PARAM_REQUIRED,
     .metavar = "SPECS", .help = "training problems, e.g. matmul:2x3x3:gf2,matmul:3x3x3:gf2"},
    {.name = "heldout", .type = RT_PARAM_CUSTOM, .parse = heldout_param,
     .flags = RT_PARAM_REQUIRED, .metavar = "SPECS",
     .help = "held-out problems (disjoint from training)"},
    COUNT_ROW("seeds", seeds, "3", "training seeds per problem (default 3)"),
    COUNT_ROW("vseeds", vseeds, "5", "held-out seeds per problem (default 5)"),
    {.name = "vfirst", .type = RT_PARAM_INT, RT_PARAM_AT(policy_state, vfirst), .lo = 65,
     .hi = 1e15, .expected = "an integer from 65 (above every training seed) to 1e15",
     .def = TEXT(VFIRST_DEFAULT), .metavar = "N",
     .help = "first held-out seed (default 1000001; move it so a gate sees fresh seeds)"},
    CAP_ROW("evals", caps.evaluations, "2000", "evaluation cap of one trial run (default 2000)"),
    CAP_ROW("work", caps.work, "50000000", "work cap of one trial run (default 50000000 flips)"),
    COUNT_ROW("islands", caps.islands, "2", "islands of a trial run (default 2)"),
    COUNT_ROW("jobs", jobs, "1", "trial runs at once in a verification (default 1)"),
    {.name = "level", .type = RT_PARAM_INT, RT_PARAM_AT(policy_state, level), .lo = 1, .hi = 2,
     .def = "1", .metavar = "N",
     .help = "1: tune the policy on level-0 runs; 2: tune the meta knobs on level-1 runs"},
    COUNT_ROW("l1seeds", l1.seeds, "2", "level 2: training seeds of each level-1 run (default 2)"),
    COUNT_ROW("l1vseeds", l1.vseeds, "3",
              "level 2: held-out seeds of each level-1 run (default 3)"),
    COUNT_ROW("l1steps", l1.proposals, "6", "level 2: meta steps of one level-1 run (default 6)"),
    {.name = "l1work", .type = RT_PARAM_DOUBLE, RT_PARAM_AT(policy_state, l1.work), .lo = 1,
     .hi = 1e18, .def = "2e9", .metavar = "N",
     .help = "level 2: level-0 cost one level-1 run may spend (default 2e9)"},
};

static const rt_param_table policy_table = {
    .owner = "policy",
    .rows = policy_rows,
    .nrows = sizeof policy_rows / sizeof policy_rows[0],
    .column = 20,
    .list_unknown = 1,
    .missing = "policy needs --train SPECS and --heldout SPECS",
};

/* Level 2: the training and held-out specs become one suite each. */
static int make_suites(policy_state *st, char *err, size_t errlen)
{
    st->utrain = st->ntrain;
    st->uheld = st->nheld;
    if (st->level < 2)
        return 0;
    char msg[300];
    int rc = rt_meta_suite_make(st->train, st->ntrain, &st->strain, msg, sizeof msg);
    if (!rc)
        rc = rt_meta_suite_make(st->heldout, st->nheld, &st->sheld, msg, sizeof msg);
    if (rc)
        return rt_fail(err, errlen, rc, "level 2: %s", msg);
    for (int i = 0; i < st->ntrain; i++) /* disjoint shapes, whatever the field */
        for (int j = 0; j < st->nheld; j++)
            if (strcmp(st->train[i].shape, st->heldout[j].shape) == 0)
                return rt_fail(err, errlen, RT_EUSAGE,
                               "level 2: shape %s is in both the training and the held-out "
                               "suite; they must be disjoint", st->train[i].shape);
    st->l1.trial = st->caps;
    st->utrain = st->uheld = 1;
    return 0;
}

RT_PARAM_HELP_TEXT(policy_help, policy_table)

static int policy_create(void **out, const char *const *keys, const char *const *values,
                         size_t nparams, char *err, size_t errlen)
{
    policy_state *st = calloc(1, sizeof *st);
    if (!st)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    int rc = rt_param_apply(&policy_table, st, keys, values, nparams, err, errlen);
    if (rc)
        goto fail;
    for (int i = 0; i < st->ntrain; i++)
        for (int j = 0; j < st->nheld; j++)
            if (strcmp(st->train[i].text, st->heldout[j].text) == 0) {
                rc = rt_fail(err, errlen, RT_EUSAGE,
                             "%s is both a training and a held-out problem; they must be "
                             "disjoint", st->train[i].text);
                goto fail;
            }
    if ((rc = make_suites(st, err, errlen)))
        goto fail;
    if ((rc = rt_meta_tmpdir(st->tmpdir, sizeof st->tmpdir, err, errlen)))
        goto fail;
    rt_policy_defaults(&st->start);
    char a[256], b[256];
    int k = snprintf(st->params, sizeof st->params,
                     "train=%s heldout=%s seeds=%d vseeds=%d evals=%lld work=%lld islands=%d "
                     "jobs=%d", rt_meta_spec_list(a, sizeof a, st->train, st->ntrain),
                     rt_meta_spec_list(b, sizeof b, st->heldout, st->nheld), st->seeds, st->vseeds,
                     st->caps.evaluations, st->caps.work, st->caps.islands, st->jobs);
    if (st->vfirst != VFIRST_DEFAULT && k > 0 && (size_t)k < sizeof st->params)
        k += snprintf(st->params + k, sizeof st->params - (size_t)k, " vfirst=%lld", st->vfirst);
    if (st->level > 1 && k > 0 && (size_t)k < sizeof st->params)
        snprintf(st->params + k, sizeof st->params - (size_t)k,
                 " level=%d l1seeds=%d l1vseeds=%d l1steps=%lld l1work=%.17g", st->level,
                 st->l1.seeds, st->l1.vseeds, st->l1.proposals, st->l1.work);
    pthread_mutex_init(&st->lock, NULL);
    *out = st;
    return 0;
fail:
    free(st);
    return rc;
}

static void policy_destroy(void *state)
{
    policy_state *st = state;
    if (!st)
        return;
    rt_meta_tmpdir_remove(st->tmpdir);
    pthread_mutex_destroy(&st->lock);
    free(st->cache);
    free(st);
}

static const char *policy_params(const void *state)
{
    return ((const policy_state *)state)->params;
}

/* The run's policy is the seed (so `ratchet meta --policy FILE` starts from FILE, and a level-2
 * trial starts level 1 from the meta policy it measures). */
static int policy_configure(void *state, const rt_policy *policy, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    ((policy_state *)state)->start = *policy;
    return 0;
}

static void *policy_seed(const void *state)
{
    policy_genome *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->policy = ((const policy_state *)state)->start;
    g->baseline = g->policy;
    return g;
}

static void *policy_clone(const void *state, const void *genome)
{
    (void)state;
    policy_genome *g = malloc(sizeof *g);
    if (g)
        memcpy(g, genome, sizeof *g);
    return g;
}

static void policy_free(void *genome) { free(genome); }

static int policy_encode(const void *state, const void *genome, rt_buf *out)
{
    (void)state;
    const policy_genome *g = genome;
    int rc = rt_buf_puts(out, "{\"policy\":\n");
    if (!rc)
        rc = rt_policy_print(&g->policy, out);
    if (!rc)
        rc = rt_buf_puts(out, ",\"baseline\":\n");
    if (!rc)
        rc = rt_policy_print(&g->baseline, out);
    if (!rc)
        rc = rt_buf_puts(out, "}\n");
    return rc;
}

/* Reads one member of the candidate object as a policy over the defaults. */
static int read_member(json_t *root, const char *key, rt_policy *p, char *err, size_t errlen)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_object(v))
        return rt_fail(err, errlen, RT_EUSAGE, "candidate has no \"%s\" object", key);
    char *text = json_dumps(v, JSON_COMPACT);
    if (!text)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    rt_policy_defaults(p);
    int rc = rt_policy_parse(p, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

static int policy_decode(const void *state, const char *text, size_t len, void **out, char *err,
                         size_t errlen)
{
    (void)state;
    *out = NULL;
    if (len > 4 * RT_POLICY_MAX_BYTES)
        return rt_fail(err, errlen, RT_ETOOBIG, "candidate over %d bytes",
                       4 * RT_POLICY_MAX_BYTES);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return rt_fail(err, errlen, RT_EUSAGE, "candidate: line %d: not JSON", jerr.line);
    int rc = 0;
    policy_genome *g = calloc(1, sizeof *g);
    if (!g) {
        rc = rt_fail(err, errlen, RT_ENOMEM, "out of memory");
        goto done;
    }
    if (!json_is_object(root) || json_object_size(root) != 2) {
        rc = rt_fail(err, errlen, RT_EUSAGE,
                     "candidate: expected {\"policy\": {...}, \"baseline\": {...}}");
        goto done;
    }
    if ((rc = read_member(root, "policy", &g->policy, err, errlen)) ||
        (rc = read_member(root, "baseline", &g->baseline, err, errlen)))
        goto done;
    *out = g;
    g = NULL;
done:
    free(g);
    json_decref(root);
    return rc;
}

/* ---- trials ------------------------------------------------------------------------------ */

/* The cache key of a policy: at level 1 the hash of its canonical text with the meta section at
 * its defaults, since the meta section changes how policies are made, not how a level-0 trial
 * runs; at level 2 the hash of the meta section alone (a level-1 trial starts from the defaults
 * with it). */
static void policy_key(const policy_state *st, const rt_policy *policy, char key[65])
{
    rt_policy p = *policy, def;
    rt_policy_defaults(&def);
    if (st->level > 1) {
        def.meta = p.meta;
        p = def;
    } else {
        p.meta = def.meta;
    }
    rt_buf b;
    rt_buf_init(&b, 0);
    if (rt_policy_print(&p, &b) == 0)
        rt_sha256_hex(b.data, b.len, key);
    else
        memset(key, 0, 65);
    rt_buf_free(&b);
}

static int cache_get(policy_state *st, const char *key, int spec, uint64_t seed, double *cost)
{
    int found = 0;
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < st->ncache; i++)
        if (st->cache[i].spec == spec && st->cache[i].seed == seed &&
            strcmp(st->cache[i].key, key) == 0) {
            *cost = st->cache[i].cost;
            found = 1;
            break;
        }
    pthread_mutex_unlock(&st->lock);
    return found;
}

static void cache_put(policy_state *st, const char *key, int spec, uint64_t seed, double cost)
{
    pthread_mutex_lock(&st->lock);
    if (!st->cache)
        st->cache = calloc(CACHE_MAX, sizeof *st->cache);
    if (st->cache && st->ncache < CACHE_MAX) {
        cache_entry *e = &st->cache[st->ncache++];
        memcpy(e->key, key, 65);
        e->spec = spec;
        e->seed = seed;
        e->cost = cost;
    }
    pthread_mutex_unlock(&st->lock);
}

/* One unit of trial work: policy p on spec index `spec` (>= 100: held-out) with seed. */
typedef struct trial_job {
    const rt_policy *policy;
    const char *key;
    int spec;
    uint64_t seed;
    double cost;
    long long work;
    int rc;
} trial_job;

typedef struct trial_batch {
    policy_state *st;
    trial_job *jobs;
    int n;
    int next;
    pthread_mutex_t lock;
    char err[400];
} trial_batch;

/* Runs one trial: a level-0 run of a problem, or at level 2 a level-1 run of a suite, whose
 * cost is the level-0 cost it spent to its first verified improvement (meta.h). */
static int one_trial(policy_state *st, const trial_job *j, rt_meta_trial *t, char *err,
                     size_t errlen)
{
    if (st->level < 2) {
        const rt_meta_spec *spec = j->spec >= 100 ? &st->heldout[j->spec - 100]
                                                  : &st->train[j->spec];
        return rt_meta_run_trial(j->policy, spec, j->seed, &st->caps, st->tmpdir, t, err,
                                 errlen);
    }
    rt_meta1_trial l1;
    int rc = rt_meta1_run_trial(j->policy, j->spec >= 100 ? &st->sheld : &st->strain, j->seed,
                                &st->l1, st->tmpdir, &l1, err, errlen);
    memset(t, 0, sizeof *t);
    t->reached = l1.reached;
    t->cost = l1.cost;
    t->work = (long long)l1.work;
    return rc;
}

static void *trial_worker(void *arg)
{
    trial_batch *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        int i = b->next++;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->n)
            return NULL;
        trial_job *j = &b->jobs[i];
        if (cache_get(b->st, j->key, j->spec, j->seed, &j->cost))
            continue;
        rt_meta_trial t;
        char err[400];
        j->rc = one_trial(b->st, j, &t, err, sizeof err);
        if (j->rc) {
            pthread_mutex_lock(&b->lock);
            snprintf(b->err, sizeof b->err, "%s", err);
            pthread_mutex_unlock(&b->lock);
            continue;
        }
        j->cost = t.cost;
        j->work = t.work;
        cache_put(b->st, j->key, j->spec, j->seed, t.cost);
    }
}

/* Runs the jobs on `threads` threads (the results do not depend on it). */
static int run_batch(policy_state *st, trial_job *jobs, int n, int threads, char *err,
                     size_t errlen)
{
    trial_batch b = {.st = st, .jobs = jobs, .n = n};
    pthread_mutex_init(&b.lock, NULL);
    pthread_t tids[64];
    int started = 0;
    for (int t = 1; t < threads && t < n && t < 64; t++)
        if (pthread_create(&tids[started], NULL, trial_worker, &b) == 0)
            started++;
    trial_worker(&b);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    pthread_mutex_destroy(&b.lock);
    for (int i = 0; i < n; i++)
        if (jobs[i].rc)
            return rt_fail(err, errlen, jobs[i].rc, "%s", b.err);
    return 0;
}

/* Mean log training cost of p; *work receives the trials' work. */
static int train_cost(policy_state *st, const rt_policy *p, double *mean, long long *work)
{
    char key[65];
    policy_key(st, p, key);
    trial_job jobs[RT_META_MAX_SPECS * 64];
    int n = 0;
    for (int i = 0; i < st->utrain; i++)
        for (int s = 0; s < st->seeds; s++)
            jobs[n++] = (trial_job){.policy = p, .key = key, .spec = i,
                                    .seed = (uint64_t)s + 1};
    char err[400];
    int rc = run_batch(st, jobs, n, 1, err, sizeof err);
    if (rc)
        return rc;
    double sum = 0;
    *work = 0;
    for (int i = 0; i < n; i++) {
        sum += log(jobs[i].cost);
        *work += jobs[i].work;
    }
    *mean = sum / n;
    return 0;
}

static void policy_score(const void *state, const void *genome, rt_score *out)
{
    policy_state *st = (policy_state *)state; /* only the mutex-protected cache changes */
    const policy_genome *g = genome;
    double mean = 0;
    long long work = 0;
    out->secondary = 0;
    out->primary = train_cost(st, &g->policy, &mean, &work) ? -1e300 : -mean;
}

static void policy_features(const void *state, const void *genome, int *coords)
{
    (void)state;
    (void)genome;
    coords[0] = coords[1] = 0;
}

static int policy_verify(const void *state, const char *text, size_t len, rt_verdict *out,
                         char *err, size_t errlen)
{
    policy_state *st = (policy_state *)state;
    memset(out, 0, sizeof *out);
    void *gv = NULL;
    int rc = policy_decode(state, text, len, &gv, err, errlen);
    if (rc)
        return rc;
    policy_genome *g = gv;
    char kp[65], kb[65];
    policy_key(st, &g->policy, kp);
    policy_key(st, &g->baseline, kb);
    int self = strcmp(kp, kb) == 0;
    snprintf(out->metric_name, sizeof out->metric_name, "heldout_cost");
    /* jobs[p] is the candidate's trial of pair p, jobs[p + nper] the baseline's, seed by seed
     * (p = seed * uheld + problem), so the first k pairs are every problem's first seeds.
     * Two rounds: the first takes the first third of the seeds (at least one). A trial is a
     * function of its policy, problem and seed alone, so when every pair of that round costs
     * exactly what its baseline's trial costs, the candidate's changes acted on none of those
     * runs (an operator weight of a strategy these shapes never draw, a knob of another
     * problem): it is rejected there, and the rest of the gate's trials go to changes that act.
     * A gate never admits more for it. */
    int nper = st->uheld * st->vseeds, first = (st->vseeds + 2) / 3;
    int k = self ? nper : st->uheld * first;
    trial_job jobs[2 * RT_META_MAX_SPECS * 64];
    for (int s = 0; s < st->vseeds; s++)
        for (int i = 0; i < st->uheld; i++) {
            uint64_t seed = (uint64_t)st->vfirst + (uint64_t)s;
            int p = s * st->uheld + i;
            jobs[p] = (trial_job){.policy = &g->policy, .key = kp, .spec = 100 + i, .seed = seed};
            jobs[p + nper] =
                (trial_job){.policy = &g->baseline, .key = kb, .spec = 100 + i, .seed = seed};
        }
    rc = run_batch(st, jobs, k, st->jobs, err, errlen);
    if (!rc && !self)
        rc = run_batch(st, jobs + nper, k, st->jobs, err, errlen);
    int ties = 0;
    double sum_first = 0;
    for (int p = 0; !rc && !self && p < k; p++) {
        ties += jobs[p].cost == jobs[p + nper].cost;
        sum_first += log(jobs[p].cost);
    }
    if (!rc && !self && ties == k) {
        out->score = -sum_first / k;
        out->metric = exp(-out->score);
        snprintf(out->summary, sizeof out->summary,
                 "held-out cost %.4g, the baseline's exactly, over the first %d paired trials",
                 out->metric, k);
        snprintf(out->reason, sizeof out->reason,
                 "changes nothing on the held-out problems: its first %d paired trials (%d "
                 "seeds of each) cost exactly what its baseline's do",
                 k, first);
        free(g);
        return 0;
    }
    if (!rc && k < nper)
        rc = run_batch(st, jobs + k, nper - k, st->jobs, err, errlen);
    if (!rc && k < nper)
        rc = run_batch(st, jobs + nper + k, nper - k, st->jobs, err, errlen);
    if (rc == RT_META_ECUT) { /* rejected, not judged: the store says why */
        snprintf(out->reason, sizeof out->reason,
                 "cut at the meta run's deadline before its held-out trials finished: not "
                 "judged");
        free(g);
        return 0;
    }
    if (rc) {
        free(g);
        return rc;
    }
    double sum_c = 0, sum_b = 0;
    double cand[RT_META_MAX_SPECS * 64], base[RT_META_MAX_SPECS * 64];
    for (int p = 0; p < nper; p++) {
        cand[p] = jobs[p].cost;
        base[p] = self ? cand[p] : jobs[p + nper].cost;
        sum_c += log(cand[p]);
        sum_b += log(base[p]);
    }
    double mean_c = sum_c / nper, mean_b = sum_b / nper;
    rt_meta_gate gate;
    rt_meta_gate_decide(cand, base, nper,
                        st->level >= 2 ? rt_meta1_miss_cost(&st->l1) : rt_meta_miss_cost(&st->caps),
                        &gate);
    out->score = -mean_c;
    out->score2 = 0;
    out->metric = exp(mean_c);
    if (self) {
        out->valid = 1;
        snprintf(out->summary, sizeof out->summary,
                 "reference policy: held-out geometric mean cost %.4g over %d trials", out->metric,
                 nper);
    } else {
        int n = snprintf(out->summary, sizeof out->summary,
                         "held-out cost %.4g vs baseline %.4g over %d paired trials: log-ratio "
                         "%.3f, noise (standard error) %.3f",
                         out->metric, exp(mean_b), nper, gate.mean, gate.se);
        if (gate.misses && n > 0 && (size_t)n < sizeof out->summary)
            snprintf(out->summary + n, sizeof out->summary - (size_t)n,
                     "; %d pairs with a miss: %d cheaper, %d dearer, sign test p %.3g",
                     gate.misses, gate.wins, gate.losses, gate.sign_p);
        out->valid = gate.admit;
        if (!gate.beyond_noise)
            snprintf(out->reason, sizeof out->reason,
                     "does not beat its baseline on the held-out problems by more than the "
                     "noise: log-ratio %.3f <= 2 x %.3f",
                     gate.mean, gate.se);
        else if (!gate.admit)
            snprintf(out->reason, sizeof out->reason,
                     "does not beat its baseline on the held-out problems by more than the "
                     "noise where trials missed: cheaper in %d pairs, dearer in %d, tied in "
                     "the rest (sign test p %.3g > 0.025; log-ratio %.3f > 2 x %.3f)",
                     gate.wins, gate.losses, gate.sign_p, gate.mean, gate.se);
    }
    free(g);
    return 0;
}

static int policy_convert(const void *state, const char *text, size_t len, const char *format,
                          rt_buf *out, char *err, size_t errlen)
{
    void *gv = NULL;
    int rc = policy_decode(state, text, len, &gv, err, errlen);
    if (rc)
        return rc;
    const policy_genome *g = gv;
    if (strcmp(format, "policy") == 0 || strcmp(format, "json") == 0)
        rc = rt_policy_print(&g->policy, out);
    else if (strcmp(format, "exp") == 0)
        rc = policy_encode(state, g, out);
    else
        rc = rt_fail(err, errlen, RT_EUSAGE, "unknown format '%s' (policy or json)", format);
    free(gv);
    return rc;
}

/* ---- the operator ------------------------------------------------------------------------ */

/* Makes one child of parent into *child with the parent's own meta section: with weight
 * meta.op_reset one knob that differs from its default goes back to it, otherwise
 * rt_policy_mutate_part. Level 1 changes every knob but the meta section's, level 2 only the
 * meta section's (so level 1 keeps the meta policy it was given, and level 2 changes nothing
 * else). Returns 0, or -1 when nothing changed. */
static int make_child(const policy_state *st, const rt_policy *parent, rt_policy *child,
                      rt_rng *rng)
{
    *child = *parent;
    int inside = st->level > 1;
    double wm = parent->meta.op_mutate, wr = parent->meta.op_reset;
    if (wm + wr > 0 && rt_rng_unit(rng) * (wm + wr) < wr) {
        size_t n;
        const rt_knob *k = rt_policy_knobs(&n);
        rt_policy def;
        rt_policy_defaults(&def);
        size_t diff[128], nd = 0;
        for (size_t i = 0; i < n && nd < 128; i++)
            if (k[i].type != RT_KNOB_STR && (strncmp(k[i].name, "meta.", 5) == 0) == inside &&
                rt_policy_get(&def, &k[i]) != rt_policy_get(parent, &k[i]))
                diff[nd++] = i;
        if (nd) {
            const rt_knob *r = &k[diff[rt_rng_below(rng, (uint32_t)nd)]];
            rt_policy_set(child, r, rt_policy_get(&def, r));
            return 0;
        }
    }
    return rt_policy_mutate_part(child, parent, rng, "meta.", inside) == 0 ? -1 : 0;
}

/* Log costs of p on the training problems with seeds 1..nseeds, in the order (seed, problem), so
 * that the first k*ntrain entries are those of seeds 1..k for every nseeds >= k (paired
 * comparisons on common seeds). *work receives the work of the trials not cached. */
static int train_logs(policy_state *st, const rt_policy *p, int nseeds, double *logs,
                      long long *work)
{
    char key[65];
    policy_key(st, p, key);
    int n = nseeds * st->utrain;
    trial_job *jobs = calloc((size_t)n, sizeof *jobs);
    if (!jobs)
        return RT_ENOMEM;
    for (int s = 0; s < nseeds; s++)
        for (int i = 0; i < st->utrain; i++)
            jobs[s * st->utrain + i] =
                (trial_job){.policy = p, .key = key, .spec = i, .seed = (uint64_t)s + 1};
    char err[400];
    int rc = run_batch(st, jobs, n, 1, err, sizeof err);
    for (int i = 0; !rc && i < n; i++) {
        logs[i] = log(jobs[i].cost);
        *work += jobs[i].work;
    }
    free(jobs);
    return rc;
}

/* The next round's size: ceil(x * f), at least 1 and at most cap. */
static int scaled(int x, double f, int cap)
{
    double v = ceil((double)x * f - 1e-9);
    return v < 1 ? 1 : v > cap ? cap : (int)v;
}

/* Best first (insertion sort; ties keep the earlier candidate). */
static void sort_alive(int *alive, int nalive, const double *ratio)
{
    for (int a = 1; a < nalive; a++)
        for (int b = a; b > 0 && ratio[alive[b]] > ratio[alive[b - 1]]; b--) {
            int t = alive[b];
            alive[b] = alive[b - 1];
            alive[b - 1] = t;
        }
}

/* One race (successive halving with paired comparisons), run by the parent's meta section: the
 * candidates all run on the first meta.race_seeds training seeds; each is judged by its mean
 * paired log-ratio against the parent on the seeds run so far; the best 1/meta.race_eta go on to
 * race_eta times as many seeds, until one is left, which runs on every training seed. Returns
 * the winner's index, or -1 when its log-ratio over all training seeds is not above
 * meta.screen (the screening: only such a child goes on to the gate). */
static int race(policy_state *st, const rt_policy *parent, rt_policy *cand, int k,
                long long *work)
{
    int all = st->seeds, n = all * st->utrain, alive[32], nalive = k, best = -1;
    int first = parent->meta.race_seeds;
    double eta = parent->meta.race_eta > 1 ? parent->meta.race_eta : 2;
    double *lp = malloc((size_t)n * sizeof *lp), *lc = malloc((size_t)n * sizeof *lc);
    double ratio[32];
    if (!lp || !lc || train_logs(st, parent, all, lp, work))
        goto done;
    for (int i = 0; i < k; i++)
        alive[i] = i;
    for (int seeds = first < all ? first : all;; seeds = scaled(seeds, eta, all)) {
        if (nalive == 1)
            seeds = all;
        int m = seeds * st->utrain;
        for (int a = 0; a < nalive; a++) {
            if (train_logs(st, &cand[alive[a]], seeds, lc, work))
                goto done;
            double d = 0;
            for (int i = 0; i < m; i++)
                d += lp[i] - lc[i];
            ratio[alive[a]] = d / m;
        }
        sort_alive(alive, nalive, ratio);
        if (seeds == all) {
            best = ratio[alive[0]] > parent->meta.screen ? alive[0] : -1;
            break;
        }
        nalive = scaled(nalive, 1 / eta, nalive);
    }
done:
    free(lp);
    free(lc);
    return best;
}

/* The meta operator: meta.race_size children of the parent (each made with the parent's own meta
 * section), raced on the training problems (race); the winner, if it beats the parent there,
 * becomes the child, with the parent as its baseline. race_size 1 is a plain mutation screened on
 * every training seed. */
static int op_evolve(const void *state, void *genome, rt_rng *rng, long long *work)
{
    policy_state *st = (policy_state *)state;
    policy_genome *g = genome;
    rt_policy parent = g->policy;
    int want = parent.meta.race_size < 1 ? 1 : parent.meta.race_size > 32 ? 32
                                                                           : parent.meta.race_size;
    rt_policy *cand = malloc((size_t)want * sizeof *cand);
    if (!cand)
        return -1;
    int k = 0;
    for (int tries = 0; k < want && tries < 4 * want; tries++)
        if (make_child(st, &parent, &cand[k], rng) == 0)
            k++;
    long long w = 0;
    int win = k ? race(st, &parent, cand, k, &w) : -1;
    *work += w;
    if (win >= 0) {
        g->baseline = parent;
        g->policy = cand[win];
    }
    free(cand);
    return win >= 0 ? 0 : -1;
}

static const rt_operator policy_operators[] = {
    {"evolve", 1.0, op_evolve},
};

static const char *policy_metric_name(const void *state)
{
    (void)state;
    return "heldout_cost";
}

const rt_problem_class rt_problem_policy = {
    .name = "policy",
    .summary = "policies for ratchet itself (the meta level; see ratchet meta)",
    .params_help = policy_help,
    .param_table = &policy_table,
    .create = policy_create,
    .destroy = policy_destroy,
    .params = policy_params,
    .seed = policy_seed,
    .clone = policy_clone,
    .free_genome = policy_free,
    .encode = policy_encode,
    .decode = policy_decode,
    .score = policy_score,
    .features = policy_features,
    .verify = policy_verify,
    .convert = policy_convert,
    .configure = policy_configure,
    .operators = policy_operators,
    .noperators = 1,
    .metric_lower_is_better = 1,
    .verify_dear = 1, /* a verdict reruns the held-out gate's trials */
    .defaults_head = 1, /* the lineage continues from every layer of the shipped default */
    .metric_name = policy_metric_name,
};
