/* bp_coevo.c — the co-evolution loop: posers pose at the solvers' frontier, solvers train on a
 * rolling curriculum of the posers' instances plus the anchor set (bp_coevo.h,
 * docs/coevolution.md). */
#include "problems/binpack/bp_coevo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems/binpack/bp_check.h"
#include "problems/binpack/bp_sim.h"

/* ---- solvers ------------------------------------------------------------------------------ */

/* The mean improvement over best fit on the curriculum, per instance in percent of its verified
 * reference ((best fit's bins - bins) / reference bins), so that an instance that is hard for
 * everyone weighs no more than its room for improvement. bins[i] per instance when bins is not
 * NULL. 0 or RT_ENOMEM. */
static int fitness(co_run *r, const bp_expr *e, double *out, long long *bins)
{
    bp_prog prog;
    bp_compile(e, &prog);
    bp_sim *sim = bp_sim_new();
    if (!sim)
        return RT_ENOMEM;
    double sum = 0;
    for (int i = 0; i < r->ncur; i++) {
        long long b = bp_sim_run(sim, &prog, r->cur[i], &r->priority_evals);
        if (b < 0) {
            bp_sim_free(sim);
            return RT_ENOMEM;
        }
        if (bins)
            bins[i] = b;
        sum += 100.0 * (double)(r->cur_bf[i] - b) / (double)r->cur_ref[i];
    }
    bp_sim_free(sim);
    *out = r->ncur ? sum / r->ncur : 0;
    return 0;
}

/* The verifier's own counts on the curriculum must be the search's: 0, RT_EINVALID with why. */
static int verify_curriculum(co_run *r, const char *text, size_t len, const long long *bins,
                             char *why, size_t whylen)
{
    bp_ctree *t = NULL;
    int rc = bp_ctree_parse(text, len, &t, why, whylen);
    for (int i = 0; !rc && i < r->ncur; i++) {
        bp_packing p;
        rc = bp_check_pack(t, r->cur[i], &p, why, whylen);
        if (!rc && p.nbins != bins[i])
            rc = rt_fail(why, whylen, RT_EINVALID, "curriculum instance %d: the search counted "
                         "%lld bins, the verifier %lld", i, bins[i], p.nbins);
        bp_packing_free(&p);
    }
    bp_ctree_free(t);
    return rc;
}

int co_admit_solver(co_run *r, const bp_expr *e, const char *parent, const char *op, int slot,
                    int island)
{
    long long bins[CO_MAX_CURRICULUM];
    co_solver s = {.expr = *e};
    int rc = fitness(r, e, &s.fitness, bins);
    rt_buf text;
    rt_buf_init(&text, 0);
    if (!rc)
        rc = bp_print(e, &text) ? RT_ENOMEM : rt_buf_puts(&text, "\n");
    if (rc) {
        rt_buf_free(&text);
        return co_fail(r, RT_ENOMEM, "out of memory");
    }
    rt_verdict v;
    char why[400] = "";
    rc = rt_problem_verify(r->problem, text.data, text.len, &v, why, sizeof why);
    if (!rc && v.valid && verify_curriculum(r, text.data, text.len, bins, why, sizeof why)) {
        v.valid = 0;
        snprintf(v.reason, sizeof v.reason, "%s", why);
    }
    char metrics[200];
    snprintf(metrics, sizeof metrics, "{\"role\":\"solver\",\"epoch\":%lld,\"curriculum_fitness\":"
             "%.10g,\"curriculum\":%d}", r->epoch, s.fitness, r->ncur);
    rt_score proxy = {v.valid ? v.score : RT_PROXY_REJECT, v.valid ? v.score2 : 0};
    if (!rc)
        rc = co_store_row(r, text.data, text.len, parent, op, island, &v, proxy, v.valid,
                          metrics, &s.cand_id);
    rt_buf_free(&text);
    if (rc || !v.valid)
        return rc;
    s.anchor = v.metric;
    if (slot >= 0)
        r->pop[slot] = s;
    else if (r->npop < CO_MAX_SOLVERS)
        r->pop[r->npop++] = s;
    return 1;
}

static int cmp_solver(const void *a, const void *b)
{
    const co_solver *x = a, *y = b;
    if (x->fitness != y->fitness)
        return x->fitness < y->fitness ? 1 : -1;
    return (x->expr.n > y->expr.n) - (x->expr.n < y->expr.n);
}

/* Re-scores the population and the hall of fame on the current curriculum and keeps the best
 * opt.solvers of them (each expression once). */
static int rescore_solvers(co_run *r)
{
    co_solver all[CO_MAX_SOLVERS + CO_MAX_HALL];
    int n = 0;
    for (int i = 0; i < r->npop + r->nhall; i++) {
        const co_solver *s = i < r->npop ? &r->pop[i] : &r->hall[i - r->npop];
        int dup = 0;
        for (int j = 0; j < n; j++)
            dup |= bp_equal(&all[j].expr, &s->expr);
        if (dup)
            continue;
        all[n] = *s;
        if (fitness(r, &all[n].expr, &all[n].fitness, NULL))
            return co_fail(r, RT_ENOMEM, "out of memory");
        n++;
    }
    for (int i = 0; i < r->nhall; i++) /* the hall's own scores, for the report */
        for (int j = 0; j < n; j++)
            if (bp_equal(&all[j].expr, &r->hall[i].expr))
                r->hall[i].fitness = all[j].fitness;
    qsort(all, (size_t)n, sizeof all[0], cmp_solver);
    r->npop = n < r->opt.solvers ? n : r->opt.solvers;
    memcpy(r->pop, all, (size_t)r->npop * sizeof all[0]);
    return 0;
}

static int tournament(const co_run *r, rt_rng *rng)
{
    int a = (int)rt_rng_below(rng, (uint32_t)r->npop), b = (int)rt_rng_below(rng, (uint32_t)r->npop);
    return cmp_solver(&r->pop[a], &r->pop[b]) <= 0 ? a : b;
}

static const char *const op_names[] = {"subtree", "point", "const", "addterm", "cross",
                                       "simplify"};

/* One child by one GP operator; its name, or NULL when nothing applied. */
static const char *vary(co_run *r, bp_expr *e, rt_rng *rng)
{
    int k = (int)rt_rng_below(rng, 6), rc;
    switch (k) {
    case 0: rc = bp_mut_subtree(e, rng); break;
    case 1: rc = bp_mut_point(e, rng); break;
    case 2: rc = bp_mut_const(e, rng); break;
    case 3: rc = bp_mut_addterm(e, rng); break;
    case 4: rc = bp_crossover(e, &r->pop[rt_rng_below(rng, (uint32_t)r->npop)].expr, rng); break;
    default: rc = bp_simplify(e); break;
    }
    return rc ? NULL : op_names[k];
}

/* The hash of an expression's canonical text, 64 hex digits. 0 or RT_ENOMEM. */
static int expr_hash(const bp_expr *e, char hash[65])
{
    rt_buf text;
    rt_buf_init(&text, 0);
    int rc = bp_print(e, &text) || rt_buf_puts(&text, "\n") ? RT_ENOMEM : 0;
    if (!rc)
        rt_sha256_hex(text.data, text.len, hash);
    rt_buf_free(&text);
    return rc;
}

/* The text's hash; 1 when it was seen before (counted), 0 new, < 0 error. */
static int seen_before(co_run *r, const bp_expr *e, char hash[65])
{
    if (expr_hash(e, hash))
        return RT_ENOMEM;
    int rc = rt_hashset_has(&r->seen, hash);
    r->duplicates += rc;
    return rc;
}

/* One child: made, scored, and admitted in the worst member's place when it beats it. */
static int solver_child(co_run *r)
{
    rt_rng *rng = &r->rng[0];
    int p = tournament(r, rng);
    bp_expr e = r->pop[p].expr;
    const char *op = vary(r, &e, rng);
    if (!op)
        return 0;
    char hash[65], parent[65];
    int rc = seen_before(r, &e, hash);
    if (rc)
        return rc < 0 ? co_fail(r, rc, "out of memory") : 0;
    double fit;
    r->evaluations++;
    if (fitness(r, &e, &fit, NULL))
        return co_fail(r, RT_ENOMEM, "out of memory");
    int worst = 0;
    for (int i = 1; i < r->npop; i++)
        if (cmp_solver(&r->pop[i], &r->pop[worst]) > 0)
            worst = i;
    co_solver trial = {.expr = e, .fitness = fit};
    int full = r->npop >= r->opt.solvers;
    if (full && cmp_solver(&trial, &r->pop[worst]) >= 0)
        return 0;
    if (expr_hash(&r->pop[p].expr, parent))
        return co_fail(r, RT_ENOMEM, "out of memory");
    rc = co_admit_solver(r, &e, parent, op, full ? worst : -1, 0);
    return rc < 0 ? rc : 0;
}

/* ---- posers ------------------------------------------------------------------------------- */

void co_poser_free(co_poser *p)
{
    free(p->inst.items);
    p->inst.items = NULL;
}

int co_check_poser(co_run *r, const bp_spec *s, co_poser *out, char *why, size_t whylen)
{
    (void)r;
    memset(out, 0, sizeof *out);
    out->spec = *s;
    rt_buf text;
    rt_buf_init(&text, 0);
    if (bp_spec_print(s, &text))
        return RT_ENOMEM;
    int rc = bp_poser_check(text.data, text.len, &out->facts, &out->inst, why, whylen);
    rt_buf_free(&text);
    if (rc == RT_ENOMEM)
        return rc;
    if (rc)
        return 0;
    bp_spec_descriptor(&out->inst, s->order, out->desc);
    return 1;
}

static double distance(const double *a, const double *b)
{
    double d = 0;
    for (int i = 0; i < 4; i++)
        d += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(d);
}

/* Bins of e on in (fast path); -1 out of memory. */
static long long pack(co_run *r, bp_sim *sim, const bp_expr *e, const bp_instance *in)
{
    bp_prog prog;
    bp_compile(e, &prog);
    return bp_sim_run(sim, &prog, in, &r->priority_evals);
}

/* The frontier, Agent0's uncertainty: how much the solvers disagree on the instance (the best
 * two of the population, best fit and first fit: the spread of their gaps over the verified
 * reference,
 * capped at 5 points), plus a little for how far the best of them falls behind it. Nothing for
 * degenerate instances, ones where they all agree, or ones the best already packs at the lower
 * bound. Novelty (the distance to the nearest other poser, capped at 0.25) scales the reward
 * from a quarter (a twin) to all of it, so the posers spread out rather than cycle. */
static int reward(co_run *r, co_poser *p, const co_poser *others, int nothers)
{
    static bp_expr bestfit = {.n = 2, .node = {{BP_NEG, 0}, {BP_F, 0}}};
    static bp_expr firstfit = {.n = 1, .node = {{BP_CONST, 0}}};
    const bp_expr *judges[4];
    int nj = 0;
    for (int i = 0; i < r->npop && i < 2; i++) /* the population is sorted best first */
        judges[nj++] = &r->pop[i].expr;
    judges[nj++] = &bestfit;
    judges[nj++] = &firstfit;
    double lo = INFINITY, hi = -INFINITY;
    long long best = -1;
    bp_sim *sim = bp_sim_new();
    if (!sim)
        return RT_ENOMEM;
    for (int i = 0; i < nj; i++) {
        long long b = pack(r, sim, judges[i], &p->inst);
        if (b < 0) {
            bp_sim_free(sim);
            return RT_ENOMEM;
        }
        double gap = bp_excess_percent(b, p->facts.reference);
        lo = fmin(lo, gap);
        hi = fmax(hi, gap);
        best = best < 0 || b < best ? b : best;
    }
    bp_sim_free(sim);
    int trivial = p->facts.degenerate || best <= p->facts.lower || hi == lo;
    p->frontier = trivial ? 0 : fmin(hi - lo, 5) + 0.1 * fmin(fmax(lo, 0), 10);
    p->novelty = 0.25;
    for (int i = 0; i < nothers; i++)
        if (&others[i] != p)
            p->novelty = fmin(p->novelty, distance(p->desc, others[i].desc));
    p->reward = p->frontier * (0.25 + 3 * p->novelty);
    return 0;
}

static int cmp_poser(const void *a, const void *b)
{
    const co_poser *x = a, *y = b;
    return (x->reward < y->reward) - (x->reward > y->reward);
}

/* Stores a checked poser child (admitted when it entered the population). */
static int store_poser(co_run *r, co_poser *p, const char *op, int admitted)
{
    rt_buf text;
    rt_buf_init(&text, 0);
    if (bp_spec_print(&p->spec, &text))
        return co_fail(r, RT_ENOMEM, "out of memory");
    rt_verdict v;
    char err[300];
    int rc = rt_problem_verify(r->problem, text.data, text.len, &v, err, sizeof err);
    char metrics[256];
    snprintf(metrics, sizeof metrics, "{\"role\":\"poser\",\"epoch\":%lld,\"reward\":%.6g,"
             "\"frontier\":%.6g,\"novelty\":%.6g}", r->epoch, p->reward, p->frontier, p->novelty);
    rt_score proxy = {v.valid ? v.score : RT_PROXY_REJECT, 0};
    if (!rc)
        rc = co_store_row(r, text.data, text.len, NULL, op, 1, &v, proxy, admitted && v.valid,
                          metrics, &p->cand_id);
    rt_buf_free(&text);
    return rc;
}

/* Children of the poser population, then the best opt.posers of old and new by reward. */
static int poser_step(co_run *r)
{
    co_poser all[2 * CO_MAX_POSERS];
    int n = 0, nkids = r->opt.posers, rc = 0;
    for (int i = 0; i < r->nposers; i++)
        all[n++] = r->posers[i];
    rt_rng *rng = &r->rng[1];
    const char *ops[2 * CO_MAX_POSERS];
    for (int k = 0; k < nkids && !rc; k++) {
        bp_spec s;
        int fresh = r->nposers == 0 || rt_rng_below(rng, 5) == 0;
        if (fresh)
            bp_spec_random(&s, rng);
        else if (s = r->posers[rt_rng_below(rng, (uint32_t)r->nposers)].spec,
                 bp_spec_mutate(&s, rng))
            continue;
        char why[300], hash[65];
        rt_buf text;
        rt_buf_init(&text, 0);
        if (bp_spec_print(&s, &text))
            return co_fail(r, RT_ENOMEM, "out of memory");
        rt_sha256_hex(text.data, text.len, hash);
        rt_buf_free(&text);
        if (rt_hashset_has(&r->seen, hash)) {
            r->duplicates++;
            continue;
        }
        if (rt_hashset_add(&r->seen, hash) < 0) /* also keeps this batch's twins out */
            return co_fail(r, RT_ENOMEM, "out of memory");
        r->evaluations++;
        rc = co_check_poser(r, &s, &all[n], why, sizeof why);
        if (rc == 1) {
            ops[n] = fresh ? "random" : "mutate";
            n++;
            rc = 0;
        }
    }
    for (int i = 0; !rc && i < n; i++)
        rc = reward(r, &all[i], all, n);
    if (rc)
        return co_fail(r, RT_ENOMEM, "out of memory");
    int old = r->nposers;
    for (int i = old; i < n; i++) /* mark the children */
        all[i].cand_id = -1 - i;
    qsort(all, (size_t)n, sizeof all[0], cmp_poser);
    int keep = n < r->opt.posers ? n : r->opt.posers;
    for (int i = 0; i < n && !rc; i++) {
        if (all[i].cand_id < 0)
            rc = store_poser(r, &all[i], ops[-1 - all[i].cand_id], i < keep);
        if (i >= keep)
            co_poser_free(&all[i]);
    }
    r->nposers = keep;
    memcpy(r->posers, all, (size_t)keep * sizeof all[0]);
    return rc;
}

/* The curriculum: the best posers' instances, each at least 0.1 from those before it in the
 * descriptor space (niches, so that one kind of instance cannot fill it), at most
 * opt.curriculum of them; then the anchors. */
static void build_curriculum(co_run *r)
{
    r->ncur = 0;
    int chosen[CO_MAX_POSERS], nchosen = 0;
    for (int i = 0; i < r->nposers && nchosen < r->opt.curriculum; i++) {
        if (r->posers[i].reward <= 0)
            break;
        int near = 0;
        for (int j = 0; j < nchosen; j++)
            near |= distance(r->posers[i].desc, r->posers[chosen[j]].desc) < 0.1;
        if (near)
            continue;
        chosen[nchosen++] = i;
        r->cur[r->ncur] = &r->posers[i].inst;
        r->cur_bf[r->ncur] = r->posers[i].facts.best_fit;
        r->cur_ref[r->ncur++] = r->posers[i].facts.reference;
    }
    for (int i = 0; i < r->anchors.n; i++) {
        r->cur[r->ncur] = &r->anchors.inst[i];
        r->cur_bf[r->ncur] = r->anchor_bf[i];
        r->cur_ref[r->ncur++] = r->anchor_ref[i];
    }
}

/* ---- the epoch ---------------------------------------------------------------------------- */

static void hall_update(co_run *r)
{
    const co_solver *best = &r->pop[0];
    for (int i = 0; i < r->nhall; i++)
        if (bp_equal(&r->hall[i].expr, &best->expr))
            return;
    if (r->nhall == r->opt.hall) {
        memmove(r->hall, r->hall + 1, (size_t)(r->nhall - 1) * sizeof r->hall[0]);
        r->nhall--;
    }
    r->hall[r->nhall++] = *best;
}

static void epoch_report(co_run *r)
{
    rt_buf line;
    rt_buf_init(&line, 0);
    rt_buf_printf(&line, "epoch %lld  %.0fs  best fitness %.3f  anchors %.3f%%  posed:",
                  r->epoch, co_elapsed(r), r->pop[0].fitness, r->pop[0].anchor);
    static const char kinds[] = "UWNSE", orders[] = "rade";
    for (int i = 0; i < r->nposers && i < r->opt.curriculum; i++) {
        const bp_spec *s = &r->posers[i].spec;
        rt_buf_printf(&line, " [c%d n%d ", s->capacity, s->items);
        for (int k = 0; k < s->nmix; k++)
            rt_buf_printf(&line, "%c", kinds[s->mix[k].kind]);
        rt_buf_printf(&line, " %c r%.2f m%.2f]", orders[s->order], r->posers[i].reward,
                      r->posers[i].desc[0]);
    }
    co_store_event(r, "epoch", rt_buf_cstr(&line));
    if (r->opt.report)
        r->opt.report(rt_buf_cstr(&line), r->opt.report_user);
    rt_buf_free(&line);
}

int co_epoch(co_run *r)
{
    r->epoch++;
    int rc = poser_step(r);
    if (rc)
        return rc;
    build_curriculum(r);
    if ((rc = rescore_solvers(r)))
        return rc;
    double until = rt_now() + r->opt.epoch_seconds;
    long long made = 0;
    while (!rc && (made < 8 || rt_now() < until) && !(r->opt.stop && *r->opt.stop)) {
        rc = solver_child(r);
        made++;
    }
    if (rc)
        return rc;
    qsort(r->pop, (size_t)r->npop, sizeof r->pop[0], cmp_solver);
    hall_update(r);
    epoch_report(r);
    return co_store_checkpoint(r);
}
