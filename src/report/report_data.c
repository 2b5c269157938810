/* report_data.c — the report's data (report_data.h): one pass over the store's rows (no text)
 * for the curves, then the lineage tree, the MAP-Elites grids and the picture of the best from
 * a few candidates' texts (read through store/query.h). */
#include "report/report_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "store/browse.h"
#include "store/query.h"
#include "store/view.h"

#define MAX_OPS 24
#define MAX_ISLANDS 64
#define MAX_META_ROWS 5000

/* One row, as much as the curves need. */
typedef struct row {
    double time, proxy, score;
    double gap;         /* proxy - verified score when it verified below the claim, else 0 */
    int generation;
    short island;
    unsigned char op;
    unsigned char valid : 1, admitted : 1, overclaim : 1;
} row;

/* The best valid rows seen, best first (by score, score2, then the earlier id). */
typedef struct toplist {
    rt_candidate c[RT_REPORT_TOP];
    int n;
} toplist;

typedef struct gather {
    row *rows;
    size_t n, cap;
    char ops[MAX_OPS][32];
    int nops;
    double best[MAX_ISLANDS];
    int has_best[MAX_ISLANDS];
    json_t *steps;     /* per island: [[time, score, metric, id], ...] at each improvement */
    json_t *meta_rows; /* the meta level's rows (problem "policy"), NULL otherwise */
    long long valid, admitted, trusted_admitted;
    double tol;                  /* the problem's score tolerance, for drift */
    toplist leaders;                  /* over all islands */
    toplist island_leader[MAX_ISLANDS]; /* each island's best (n 0 or 1) */
    int oom;
} gather;

/* A number, or null when it is not finite. */
static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* The index of operator name in g's table (the last slot takes the rest). */
static unsigned char op_index(gather *g, const char *name)
{
    for (int i = 0; i < g->nops; i++)
        if (strcmp(g->ops[i], name) == 0)
            return (unsigned char)i;
    if (g->nops == MAX_OPS - 1) {
        snprintf(g->ops[g->nops++], sizeof g->ops[0], "%s", "(others)");
        return MAX_OPS - 2;
    }
    if (g->nops == MAX_OPS)
        return MAX_OPS - 2;
    snprintf(g->ops[g->nops], sizeof g->ops[0], "%s", name);
    return (unsigned char)g->nops++;
}

/* A meta row: what the gate decided about one policy. */
static void meta_row(gather *g, const rt_candidate *c)
{
    if (json_array_size(g->meta_rows) >= MAX_META_ROWS)
        return;
    json_t *r = json_pack("{s:I,s:I,s:i,s:s,s:b,s:b,s:o,s:o,s:s}", "id", (json_int_t)c->id,
                          "generation", (json_int_t)c->generation, "island", c->island, "op",
                          c->op, "valid", c->valid, "admitted", c->admitted, "proxy",
                          num(c->proxy), "score", num(c->score), "reason", c->reason);
    g->oom |= !r || json_array_append_new(g->meta_rows, r) != 0;
}

/* 1 when a is better than b: score, then score2, then the earlier row. */
static int better(const rt_candidate *a, const rt_candidate *b)
{
    if (a->score != b->score)
        return a->score > b->score;
    if (a->score2 != b->score2)
        return a->score2 > b->score2;
    return a->id < b->id;
}

/* Offers a valid row to a top list of at most cap rows. */
static void top_offer(toplist *t, int cap, const rt_candidate *c)
{
    if (t->n == cap && !better(c, &t->c[cap - 1]))
        return;
    int i = t->n < cap ? t->n++ : cap - 1;
    while (i > 0 && better(c, &t->c[i - 1])) {
        t->c[i] = t->c[i - 1];
        i--;
    }
    t->c[i] = *c;
}

/* Drift's rule (store/query.h): a row overclaims when it failed verification or verified below
 * its proxy's claim (proxy, then proxy2 on a tie) by more than the problem's tolerance tol,
 * relative to the verified figure (at least 1 in absolute terms). */
static int overclaims(const rt_candidate *c, double tol)
{
    double t1 = tol * fmax(1.0, fabs(c->score)), t2 = tol * fmax(1.0, fabs(c->score2));
    return !c->valid || c->proxy > c->score + t1 ||
           (c->proxy >= c->score - t1 && c->proxy2 > c->score2 + t2);
}

/* Its gap: proxy - score when it overclaims by its primary score, else 0. */
static double claim_gap(const rt_candidate *c, double tol)
{
    return c->valid && c->proxy > c->score + tol * fmax(1.0, fabs(c->score))
               ? c->proxy - c->score
               : 0;
}

static int on_row(const rt_candidate *c, void *user)
{
    gather *g = user;
    if (g->n == g->cap) {
        size_t ncap = g->cap ? 2 * g->cap : 4096;
        row *nr = realloc(g->rows, ncap * sizeof *nr);
        if (!nr)
            return RT_ENOMEM;
        g->rows = nr;
        g->cap = ncap;
    }
    row *r = &g->rows[g->n++];
    *r = (row){.time = c->time, .proxy = c->proxy, .score = c->score,
               .generation = (int)c->generation, .island = (short)c->island,
               .op = op_index(g, c->op)};
    r->valid = c->valid != 0;
    r->admitted = c->admitted != 0;
    r->overclaim = overclaims(c, g->tol) != 0;
    r->gap = claim_gap(c, g->tol);
    g->valid += c->valid != 0;
    g->admitted += c->admitted != 0;
    g->trusted_admitted += c->admitted && c->trusted;
    int i = c->island;
    if (c->valid && isfinite(c->score)) {
        top_offer(&g->leaders, RT_REPORT_TOP, c);
        if (i >= 0 && i < MAX_ISLANDS)
            top_offer(&g->island_leader[i], 1, c);
    }
    if (c->admitted && c->valid && isfinite(c->score) && i >= 0 && i < MAX_ISLANDS &&
        (!g->has_best[i] || c->score > g->best[i])) {
        g->has_best[i] = 1;
        g->best[i] = c->score;
        while (json_array_size(g->steps) <= (size_t)i)
            json_array_append_new(g->steps, json_array());
        json_t *p = json_pack("[f,f,o,I]", c->time, c->score, num(c->metric), (json_int_t)c->id);
        g->oom |= !p || json_array_append_new(json_array_get(g->steps, (size_t)i), p) != 0;
    }
    if (g->meta_rows)
        meta_row(g, c);
    return g->oom ? RT_ENOMEM : 0;
}

/* Keeps at most RT_REPORT_STEPS points of each island's curve: evenly spaced, and the last. */
static void thin_steps(json_t *steps)
{
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s) {
        size_t n = json_array_size(s);
        if (n <= RT_REPORT_STEPS)
            continue;
        json_t *t = json_array();
        for (size_t k = 0; k < RT_REPORT_STEPS - 1; k++)
            json_array_append(t, json_array_get(s, k * n / (RT_REPORT_STEPS - 1)));
        json_array_append(t, json_array_get(s, n - 1));
        json_array_set_new(steps, i, t);
    }
}

/* Sets key to a new array of n numbers (null where v is NaN). */
static void set_series(json_t *o, const char *key, const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, num(v[i]));
    json_object_set_new(o, key, a);
}

/* The curves over time: RT_REPORT_BINS bins of [0, tmax]. */
static json_t *bins_json(const gather *g, double tmax)
{
    enum { B = RT_REPORT_BINS };
    double count[B], invalid[B], admitted[B], proxy[B], score[B];
    for (int b = 0; b < B; b++)
        count[b] = invalid[b] = admitted[b] = 0, proxy[b] = score[b] = NAN;
    double width = tmax > 0 ? tmax / B : 1;
    for (size_t i = 0; i < g->n; i++) {
        const row *r = &g->rows[i];
        int b = (int)(r->time / width);
        b = b < 0 ? 0 : b >= B ? B - 1 : b;
        count[b]++;
        invalid[b] += !r->valid;
        admitted[b] += r->admitted;
        if (isfinite(r->proxy) && r->proxy > RT_PROXY_REJECT && !(r->proxy <= proxy[b]))
            proxy[b] = r->proxy;
        if (r->valid && isfinite(r->score) && !(r->score <= score[b]))
            score[b] = r->score;
    }
    json_t *o = json_pack("{s:f,s:i}", "width", width, "n", B);
    set_series(o, "count", count, B);
    set_series(o, "invalid", invalid, B);
    set_series(o, "admitted", admitted, B);
    set_series(o, "proxy_max", proxy, B);
    set_series(o, "score_max", score, B);
    return o;
}

/* Per tenth of the run's generations (drift's buckets: min(G, 10) of them, bucket k holding
 * generations [k*G/nb, (k+1)*G/nb)): children by operator, the gate's decisions, drift. */
typedef struct tenth {
    double ops[MAX_OPS], wins[MAX_OPS], admitted, kept_out, invalid, overclaims, gapped, gap_sum,
        max_gap;
} tenth;

/* The buckets as JSON (nb of them). */
static json_t *tenths_out(const gather *g, const tenth *t, int nb, long long G)
{
    json_t *o = json_pack("{s:I,s:i}", "generations", (json_int_t)G, "n", nb);
    json_t *by = json_object(), *won = json_object(), *drift = json_array();
    double v[10], w[10];
    for (int i = 0; i < g->nops; i++) {
        for (int k = 0; k < nb; k++)
            v[k] = t[k].ops[i], w[k] = t[k].wins[i];
        set_series(by, g->ops[i], v, (size_t)nb);
        set_series(won, g->ops[i], w, (size_t)nb);
    }
    json_object_set_new(o, "ops", by);
    json_object_set_new(o, "ops_admitted", won);
    double adm[10], out[10], inv[10];
    for (int k = 0; k < nb; k++) {
        adm[k] = t[k].admitted, out[k] = t[k].kept_out, inv[k] = t[k].invalid;
        json_array_append_new(
            drift, json_pack("{s:I,s:I,s:f,s:f,s:f,s:f,s:f}", "from", (json_int_t)(G * k / nb),
                             "to", (json_int_t)(G * (k + 1) / nb), "candidates",
                             t[k].admitted + t[k].kept_out + t[k].invalid, "overclaims",
                             t[k].overclaims, "false_passes", t[k].invalid, "mean_gap",
                             t[k].gapped > 0 ? t[k].gap_sum / t[k].gapped : 0, "max_gap",
                             t[k].max_gap));
    }
    set_series(o, "admitted", adm, (size_t)nb);
    set_series(o, "kept_out", out, (size_t)nb);
    set_series(o, "invalid", inv, (size_t)nb);
    json_object_set_new(o, "drift", drift);
    return o;
}

static json_t *tenths_json(const gather *g, long long gmax)
{
    tenth t[10];
    memset(t, 0, sizeof t);
    long long G = g->n ? gmax + 1 : 0;
    int nb = G < 10 ? (int)G : 10;
    for (size_t i = 0; nb && i < g->n; i++) {
        const row *r = &g->rows[i];
        if (r->generation < 0 || r->generation >= G)
            continue;
        tenth *k = &t[r->generation * nb / G];
        k->ops[r->op]++;
        k->wins[r->op] += r->admitted;
        k->admitted += r->admitted;
        k->kept_out += r->valid && !r->admitted;
        k->invalid += !r->valid;
        k->overclaims += r->overclaim;
        k->gap_sum += r->gap;
        k->gapped += r->gap > 0;
        k->max_gap = r->gap > k->max_gap ? r->gap : k->max_gap;
    }
    return tenths_out(g, t, nb, G);
}

/* Drift's totals over the rows (the buckets are the tenths'). */
static json_t *drift_json(const gather *g, long long proxy_rejected)
{
    long long over = 0, gapped = 0;
    double gap_sum = 0, max_gap = 0;
    for (size_t i = 0; i < g->n; i++) {
        const row *r = &g->rows[i];
        over += r->overclaim;
        gapped += r->gap > 0;
        gap_sum += r->gap;
        max_gap = r->gap > max_gap ? r->gap : max_gap;
    }
    return json_pack("{s:I,s:I,s:I,s:I,s:f,s:f,s:I}", "candidates", (json_int_t)g->n,
                     "overclaims", (json_int_t)over, "false_passes",
                     (json_int_t)((long long)g->n - g->valid), "proxy_rejected",
                     (json_int_t)proxy_rejected, "mean_gap",
                     gapped ? gap_sum / (double)gapped : 0, "max_gap", max_gap,
                     "trusted_admitted", (json_int_t)g->trusted_admitted);
}

/* ---- language models --------------------------------------------------------------------- */

#define MAX_MODELS 16

typedef struct llm_point {
    double at, cost, tokens;
    int model, improved;
} llm_point;

typedef struct llm_gather {
    char models[MAX_MODELS][64];
    int nmodels;
    llm_point *p;
    size_t n, cap;
    int oom;
} llm_gather;

static void on_llm(const rt_db_llm_point *p, void *user)
{
    llm_gather *l = user;
    int m = 0;
    while (m < l->nmodels && strcmp(l->models[m], p->model) != 0)
        m++;
    if (m == l->nmodels && l->nmodels < MAX_MODELS)
        snprintf(l->models[l->nmodels++], sizeof l->models[0], "%s", p->model);
    if (m == MAX_MODELS)
        m = MAX_MODELS - 1;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? 2 * l->cap : 256;
        llm_point *np = realloc(l->p, ncap * sizeof *np);
        if (!np) {
            l->oom = 1;
            return;
        }
        l->p = np, l->cap = ncap;
    }
    l->p[l->n++] = (llm_point){p->at, p->cost, (double)(p->tokens_in + p->tokens_out), m,
                               p->improved};
}

/* Requests and improvements per model per tenth of the requests' time span, and the spend in
 * RT_REPORT_BINS bins of it (requests carry clock times: the span is first to last request). */
static json_t *llm_out(const llm_gather *l)
{
    double t0 = l->p[0].at, t1 = l->p[0].at, cost = 0, tok = 0;
    for (size_t i = 0; i < l->n; i++)
        t0 = fmin(t0, l->p[i].at), t1 = fmax(t1, l->p[i].at);
    double span = t1 > t0 ? t1 - t0 : 1, req[MAX_MODELS][10], imp[MAX_MODELS][10];
    double spend[RT_REPORT_BINS] = {0}, tokens[RT_REPORT_BINS] = {0};
    memset(req, 0, sizeof req), memset(imp, 0, sizeof imp);
    for (size_t i = 0; i < l->n; i++) {
        const llm_point *p = &l->p[i];
        int k = (int)((p->at - t0) * 10 / span), b = (int)((p->at - t0) * RT_REPORT_BINS / span);
        k = k > 9 ? 9 : k, b = b >= RT_REPORT_BINS ? RT_REPORT_BINS - 1 : b;
        req[p->model][k]++, imp[p->model][k] += p->improved;
        spend[b] += p->cost, tokens[b] += p->tokens, cost += p->cost, tok += p->tokens;
    }
    for (int b = 1; b < RT_REPORT_BINS; b++) /* cumulative */
        spend[b] += spend[b - 1], tokens[b] += tokens[b - 1];
    json_t *o = json_pack("{s:I,s:f,s:f,s:f}", "requests", (json_int_t)l->n, "cost", cost,
                          "tokens_total", tok, "span", span);
    json_t *by = json_object(), *won = json_object();
    for (int m = 0; m < l->nmodels; m++) {
        set_series(by, l->models[m], req[m], 10);
        set_series(won, l->models[m], imp[m], 10);
    }
    json_object_set_new(o, "by_model", by);
    json_object_set_new(o, "improved_by_model", won);
    set_series(o, "spend", spend, RT_REPORT_BINS);
    set_series(o, "tokens", tokens, RT_REPORT_BINS);
    return o;
}

/* The llm proposer's requests, or null for runs without language models. */
static json_t *llm_json(rt_store *store)
{
    llm_gather *l = calloc(1, sizeof *l);
    json_t *o = NULL;
    if (l && rt_db_each_llm_point(rt_store_db(store), on_llm, l) == 0 && !l->oom && l->n)
        o = llm_out(l);
    if (l)
        free(l->p);
    free(l);
    return o ? o : json_null();
}

/* ---- candidates' texts: the grid, the lineage, the picture -------------------------------- */

/* A genome decoded from candidate id's stored text, with its stored annotations; NULL when it
 * does not decode. */
static void *decode_stored(rt_store *store, const rt_problem *pb, long long id)
{
    rt_db *db = rt_store_db(store);
    char *text = NULL, *metrics = NULL, *artifacts = NULL, hash[65], err[256];
    size_t len;
    rt_score sc;
    void *genome = NULL;
    if (rt_db_candidate(db, id, &text, &len, hash, &sc) == 0 &&
        rt_problem_decode(pb, text, len, &genome, err, sizeof err) == 0 &&
        rt_db_evaluation(db, id, &metrics, &artifacts) == 0) {
        rt_problem_restore_annotations(pb, genome, metrics, artifacts);
        metrics = artifacts = NULL;
    }
    free(text);
    free(metrics);
    free(artifacts);
    return genome;
}

/* Each island's MAP-Elites grid at the last checkpoint: [[x, y, score, metric, id], ...]. */
static json_t *grid_json(rt_store *store, const rt_problem *pb)
{
    rt_checkpoint cp;
    rt_archive_row *rows = NULL;
    size_t n = 0;
    json_t *islands = json_array();
    if (!pb || rt_db_load_checkpoint(rt_store_db(store), &cp, &rows, &n) != 0)
        return islands;
    for (size_t i = 0; i < n; i++) {
        rt_candidate c;
        int found = 0;
        if (rows[i].island < 0 || rows[i].island >= MAX_ISLANDS ||
            rt_db_candidate_info(rt_store_db(store), rows[i].cand_id, &found, &c) || !found)
            continue;
        void *genome = decode_stored(store, pb, rows[i].cand_id);
        if (!genome)
            continue;
        int xy[RT_MAX_FEATURES] = {0};
        rt_problem_features(pb, genome, xy);
        rt_problem_free_genome(pb, genome);
        while (json_array_size(islands) <= (size_t)rows[i].island)
            json_array_append_new(islands, json_array());
        json_array_append_new(json_array_get(islands, (size_t)rows[i].island),
                              json_pack("[i,i,o,o,I]", xy[0], xy[1], num(c.score),
                                        num(c.metric), (json_int_t)c.id));
    }
    free(rows);
    return islands;
}

/* The problem's picture of candidate id, or null. */
static json_t *picture_json(rt_store *store, const rt_problem *pb, long long id)
{
    rt_db *db = rt_store_db(store);
    char *text = NULL, *metrics = NULL, *artifacts = NULL, hash[65];
    size_t len;
    rt_score sc;
    json_t *pic = NULL;
    rt_buf b;
    rt_buf_init(&b, (size_t)1 << 20);
    if (pb && id && rt_db_candidate(db, id, &text, &len, hash, &sc) == 0 &&
        rt_db_evaluation(db, id, &metrics, &artifacts) == 0 &&
        rt_problem_picture(pb, text, len, metrics, artifacts, &b) == 0)
        pic = json_loadb(b.data, b.len, 0, NULL);
    rt_buf_free(&b);
    free(text);
    free(metrics);
    free(artifacts);
    if (pic)
        json_object_set_new(pic, "id", json_integer(id));
    return pic ? pic : json_null();
}

/* ---- the lineage tree --------------------------------------------------------------------- */

typedef struct tree {
    json_t *nodes;   /* [{id, parent, ...}] */
    json_t *index;   /* "id" -> position in nodes */
    size_t text_bytes;
    int omitted;
} tree;

/* Adds the ancestors of id not yet in the tree (stopping at the first one that is). */
static int tree_add_lineage(rt_store *store, tree *t, long long id)
{
    long long *ids = NULL;
    size_t n = 0;
    int rc = rt_store_lineage(store, id, &ids, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        char key[24];
        snprintf(key, sizeof key, "%lld", ids[i]);
        if (json_object_get(t->index, key) ||
            json_array_size(t->nodes) >= RT_REPORT_LINEAGE_NODES)
            break;
        json_object_set_new(t->index, key, json_integer((json_int_t)json_array_size(t->nodes)));
        json_array_append_new(t->nodes, json_pack("{s:I,s:I}", "id", (json_int_t)ids[i], "parent",
                                                  (json_int_t)(i + 1 < n ? ids[i + 1] : 0)));
    }
    free(ids);
    return rc;
}

/* Fills a node's columns, and its text while the budget lasts. */
static int tree_fill(rt_store *store, tree *t, json_t *node)
{
    rt_db *db = rt_store_db(store);
    long long id = (long long)json_integer_value(json_object_get(node, "id"));
    rt_candidate c;
    int found = 0, rc = rt_db_candidate_info(db, id, &found, &c);
    if (rc || !found)
        return rc;
    json_object_update_new(
        node, json_pack("{s:I,s:i,s:s,s:b,s:b,s:o,s:o,s:o,s:f,s:s}", "generation",
                        (json_int_t)c.generation, "island", c.island, "op", c.op, "valid",
                        c.valid, "admitted", c.admitted, "proxy", num(c.proxy), "score",
                        num(c.score), "metric", num(c.metric), "time", c.time, "reason",
                        c.reason));
    char *text = NULL, hash[65];
    size_t len = 0;
    rt_score sc;
    if (t->text_bytes < RT_REPORT_TEXT_BUDGET &&
        (rc = rt_db_candidate(db, id, &text, &len, hash, &sc)) == 0 &&
        t->text_bytes + len <= RT_REPORT_TEXT_BUDGET) {
        json_object_set_new(node, "text", json_stringn(text, len));
        t->text_bytes += len;
    } else {
        t->omitted++;
    }
    free(text);
    return rc;
}

static json_t *top_row(const rt_candidate *c)
{
    return json_pack("{s:I,s:I,s:i,s:s,s:o,s:o,s:o,s:f}", "id", (json_int_t)c->id, "generation",
                     (json_int_t)c->generation, "island", c->island, "op", c->op, "proxy",
                     num(c->proxy), "score", num(c->score), "metric", num(c->metric), "time",
                     c->time);
}

/* The tree: the lineages of the top candidates by verified score and of each island's best,
 * the best's first (so that its lineage is whole when the tree is cut); top receives the top
 * candidates' rows. */
static int lineage_json(rt_store *store, const gather *g, json_t *top, tree *t)
{
    int rc = 0;
    for (int i = 0; !rc && i < g->leaders.n; i++) {
        json_array_append_new(top, top_row(&g->leaders.c[i]));
        rc = tree_add_lineage(store, t, g->leaders.c[i].id);
    }
    for (int i = 0; !rc && i < MAX_ISLANDS; i++)
        if (g->island_leader[i].n)
            rc = tree_add_lineage(store, t, g->island_leader[i].c[0].id);
    size_t k;
    json_t *r;
    json_array_foreach(t->nodes, k, r)
        if (!rc)
            rc = tree_fill(store, t, r);
    return rc;
}

/* ---- the whole ---------------------------------------------------------------------------- */

/* The run's description and totals (the counts from the pass over the rows, so that nothing
 * scans the table twice). */
static json_t *summary_json(rt_store *store, const gather *g, const rt_problem *pb,
                            const char *metric_name, long long *proxy_rejected)
{
    rt_db *db = rt_store_db(store);
    rt_run_config cfg;
    rt_checkpoint cp;
    rt_archive_row *rows = NULL;
    size_t nrows = 0;
    memset(&cp, 0, sizeof cp);
    if (rt_db_config(db, &cfg))
        return NULL;
    if (rt_db_load_checkpoint(db, &cp, &rows, &nrows))
        memset(&cp, 0, sizeof cp); /* a store without one: no counts yet */
    free(rows);
    *proxy_rejected = cp.proxy_rejected;
    const rt_candidate *best = g->leaders.n ? &g->leaders.c[0] : NULL;
    return json_pack("{s:s,s:s,s:I,s:i,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:o,s:s,s:I,s:i,s:b}",
                     "problem", cfg.problem, "params", cfg.params, "seed", (json_int_t)cfg.seed,
                     "sessions", cp.sessions, "elapsed", cp.elapsed, "evaluations",
                     (json_int_t)cp.evaluations, "duplicates", (json_int_t)cp.duplicates,
                     "stored", (json_int_t)g->n, "valid", (json_int_t)g->valid, "invalid",
                     (json_int_t)((long long)g->n - g->valid), "admitted",
                     (json_int_t)g->admitted, "has_best", best != NULL, "best_metric",
                     best ? num(best->metric) : json_null(), "metric_name", metric_name,
                     "best_id", (json_int_t)(best ? best->id : 0), "islands", cfg.islands,
                     "lower_is_better", pb ? rt_problem_lower_is_better(pb) : 0);
}

/* The name of the problem's verified figure, from verifying the best where that is cheap (not
 * for problems whose checks run programs or whole trial runs). */
static void metric_name_of(rt_store *store, const rt_problem *pb, long long best, char *out,
                           size_t len)
{
    snprintf(out, len, "%s", pb ? rt_problem_metric_name(pb) : "metric");
    if (!pb || !best || rt_problem_verify_dear(pb))
        return;
    char *text = NULL, hash[65], err[256];
    size_t n;
    rt_score sc;
    rt_verdict v;
    if (rt_db_candidate(rt_store_db(store), best, &text, &n, hash, &sc) == 0 &&
        rt_problem_verify(pb, text, n, &v, err, sizeof err) == 0 && v.metric_name[0])
        snprintf(out, len, "%s", v.metric_name);
    free(text);
}

/* The curves and tenths from one pass over the rows. */
static int rows_json(rt_store *store, json_t *o, gather *g)
{
    int rc = rt_store_candidates(store, NULL, on_row, g);
    if (rc)
        return rc;
    double tmax = 0;
    long long gmax = 0;
    for (size_t i = 0; i < g->n; i++) {
        tmax = g->rows[i].time > tmax ? g->rows[i].time : tmax;
        gmax = g->rows[i].generation > gmax ? g->rows[i].generation : gmax;
    }
    thin_steps(g->steps);
    json_object_set_new(o, "time_span", json_real(tmax));
    json_object_set(o, "best_steps", g->steps);
    json_object_set_new(o, "bins", bins_json(g, tmax));
    json_object_set_new(o, "tenths", tenths_json(g, gmax));
    json_object_set_new(o, "llm", llm_json(store));
    if (g->meta_rows)
        json_object_set(o, "meta", g->meta_rows);
    return g->oom ? RT_ENOMEM : 0;
}

/* The bandit's stored state (rt_store_bandit), or null. */
static json_t *bandit_json(rt_store *store)
{
    char *b = NULL;
    json_t *o = rt_store_bandit(store, &b) == 0 && b ? json_loads(b, 0, NULL) : NULL;
    free(b);
    return o ? o : json_null();
}

/* The parts read from a few candidates' texts: grids, lineage, the best's picture. */
static int texts_json(rt_store *store, json_t *o, const gather *g, const rt_problem *pb,
                      tree *t)
{
    json_t *top = json_array();
    int rc = lineage_json(store, g, top, t);
    json_object_set_new(o, "top", top);
    json_object_set(o, "lineage", t->nodes);
    json_object_set_new(o, "grid", grid_json(store, pb));
    json_object_set_new(o, "picture", picture_json(store, pb, g->leaders.n ? g->leaders.c[0].id : 0));
    return rc;
}

int rt_report_data(rt_store *store, json_t **out, rt_report_info *info)
{
    rt_problem *pb = NULL;
    rt_store_problem(store, &pb); /* without it (a problem this build lacks): no grid, picture */
    gather *g = calloc(1, sizeof *g);
    tree t = {.nodes = json_array(), .index = json_object()};
    json_t *o = json_object();
    if (!g) {
        rt_problem_close(pb);
        return rt_db_fail(rt_store_db(store), RT_ENOMEM, "out of memory");
    }
    g->steps = json_array();
    rt_run_config cfg;
    if (rt_db_config(rt_store_db(store), &cfg) == 0)
        g->tol = rt_problem_score_tolerance(cfg.problem);
    if (pb && strcmp(rt_problem_name(pb), "policy") == 0)
        g->meta_rows = json_array();
    int rc = rows_json(store, o, g);
    long long proxy_rejected = 0;
    if (!rc) {
        char metric[32];
        metric_name_of(store, pb, g->leaders.n ? g->leaders.c[0].id : 0, metric, sizeof metric);
        json_t *summary = summary_json(store, g, pb, metric, &proxy_rejected);
        rc = summary ? 0 : RT_ESTORE;
        json_object_set_new(o, "summary", summary);
    }
    if (!rc) {
        json_object_set_new(o, "drift", drift_json(g, proxy_rejected));
        json_object_set_new(o, "bandit", bandit_json(store));
        rc = texts_json(store, o, g, pb, &t);
    }
    info->candidates = (long long)g->n;
    info->lineage_nodes = (int)json_array_size(t.nodes);
    info->texts_omitted = t.omitted;
    free(g->rows);
    json_decref(g->steps);
    json_decref(g->meta_rows);
    free(g);
    json_decref(t.nodes);
    json_decref(t.index);
    rt_problem_close(pb);
    if (rc)
        json_decref(o);
    *out = rc ? NULL : o;
    return rc;
}
