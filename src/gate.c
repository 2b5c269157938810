/* gate.c — the verification gate between proposers and the archive: every admission decision
 * (gate.h lists them in order). */
#include "gate.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rt_gate_init(rt_gate *g, const rt_problem *problem)
{
    memset(g, 0, sizeof *g);
    g->problem = problem;
}

void rt_gate_bind(rt_gate *g, rt_archive *archive, const rt_policy *policy, int trust_proxy)
{
    assert(archive->problem == g->problem);
    g->archive = archive;
    g->policy = policy;
    g->trust_proxy = trust_proxy;
}

static int gate_fail(rt_gate *g, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int gate_fail(rt_gate *g, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->errmsg, sizeof g->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- verification ------------------------------------------------------------------------- */

int rt_gate_roundtrip(const rt_problem *problem, const char *text, size_t len, rt_score proxy,
                      char *why, size_t whylen)
{
    void *genome = NULL;
    char err[400] = "";
    rt_buf again;
    rt_buf_init(&again, 0);
    int rc = rt_problem_decode(problem, text, len, &genome, err, sizeof err);
    if (rc) {
        if (rc == RT_ENOMEM)
            goto done;
        rc = rt_fail(why, whylen, RT_EINVALID, "stored text does not decode: %s", err);
        goto done;
    }
    if ((rc = rt_problem_encode(problem, genome, &again)))
        goto done;
    if (again.len != len || memcmp(again.data, text, len) != 0) {
        rc = rt_fail(why, whylen, RT_EINVALID,
                     "stored text decodes to a different candidate (it re-encodes to other text)");
        goto done;
    }
    /* for a noisy problem, or one with an external evaluation, the proxy is not a function of
     * the text alone */
    if (!rt_problem_is_noisy(problem) && !rt_problem_evaluates(problem)) {
        rt_score rescored;
        rt_problem_score(problem, genome, &rescored);
        if (rt_score_cmp(rescored, proxy) != 0) {
            rc = rt_fail(why, whylen, RT_EINVALID,
                         "stored text decodes to a candidate the proxy scores %.17g/%.17g, not "
                         "the %.17g/%.17g it was scored",
                         rescored.primary, rescored.secondary, proxy.primary, proxy.secondary);
            goto done;
        }
    }
done:
    rt_problem_free_genome(problem, genome);
    rt_buf_free(&again);
    return rc;
}

/* The decision and counting for a verification that ran (here or ahead): rc and err are what
 * the problem's verify() returned and wrote, out its verdict. 1: may be admitted, 0: not (out
 * says why), RT_ENOMEM. */
static int account(rt_gate *g, const char *text, size_t len, int rc, const char *err,
                   rt_score proxy, rt_verdict *out)
{
    g->checked++;
    if (rc) {
        out->valid = 0;
        snprintf(out->reason, sizeof out->reason, "malformed: %s", err);
    }
    if (!out->valid) {
        g->failed++;
        g->overclaims++;
        return 0;
    }
    /* what was verified must be what was scored: the text must decode to the candidate the
     * proxy judged (a lossy or buggy encoder would otherwise let one candidate be scored and
     * another be stored) */
    char why[400];
    rc = rt_gate_roundtrip(g->problem, text, len, proxy, why, sizeof why);
    if (rc) {
        if (rc == RT_ENOMEM)
            return rc;
        out->valid = 0;
        snprintf(out->reason, sizeof out->reason, "%s", why);
        g->failed++;
        g->mismatched++;
        g->overclaims++;
        return 0;
    }
    g->passed++;
    rt_score verified = {out->score, out->score2};
    if (rt_score_cmp(proxy, verified) > 0)
        g->overclaims++;
    return 1;
}

int rt_gate_check(rt_gate *g, const char *text, size_t len, rt_score proxy, rt_verdict *out)
{
    char err[400] = "";
    int rc = rt_problem_verify(g->problem, text, len, out, err, sizeof err);
    return account(g, text, len, rc, err, proxy, out);
}

void rt_gate_verify_ahead(const rt_gate *g, const rt_evaluation *ev, const char *text,
                          size_t len, rt_gate_verification *out)
{
    if (ev && ev->failed)
        return; /* rejected by the gate without verification */
    out->rc = rt_problem_verify(g->problem, text, len, &out->verdict, out->err, sizeof out->err);
    out->done = 1;
}

/* ---- noise-aware acceptance --------------------------------------------------------------- */

/* Verifies text n times; *mean and *spread (sample standard deviation) of the primary scores.
 * Returns 0, 1 when a re-evaluation failed (malformed or invalid), or RT_ENOMEM. */
static int reevaluate(rt_gate *g, const char *text, size_t len, int n, double *mean,
                      double *spread)
{
    double sum = 0, sum2 = 0;
    for (int k = 0; k < n; k++) {
        rt_verdict v;
        char err[256];
        g->noise.reevaluations++;
        int rc = rt_problem_verify(g->problem, text, len, &v, err, sizeof err);
        if (rc == RT_ENOMEM)
            return gate_fail(g, rc, "out of memory");
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

/* The noise floor of an incumbent elite: its mean and spread over policy->noise_samples fresh
 * evaluations, cached by hash while it stays incumbent. Returns 0, 1 (it no longer verifies),
 * or a negative code. */
static int noise_floor(rt_gate *g, const rt_elite *inc, double *mean, double *spread)
{
    for (size_t k = 0; k < RT_GATE_FLOORS; k++)
        if (strcmp(g->floors[k].hash, inc->hash) == 0) {
            *mean = g->floors[k].mean;
            *spread = g->floors[k].spread;
            return 0;
        }
    rt_buf text;
    rt_buf_init(&text, 0);
    int rc = rt_problem_encode(g->problem, inc->genome, &text);
    if (rc) {
        rt_buf_free(&text);
        return gate_fail(g, rc, "cannot encode a candidate (out of memory?)");
    }
    rc = reevaluate(g, text.data, text.len, g->policy->noise_samples, mean, spread);
    rt_buf_free(&text);
    if (rc)
        return rc;
    struct rt_noise_floor *f = &g->floors[g->next_floor];
    g->next_floor = (g->next_floor + 1) % RT_GATE_FLOORS;
    memcpy(f->hash, inc->hash, sizeof f->hash);
    f->mean = *mean;
    f->spread = *spread;
    return 0;
}

/* Decides whether a verified child of a noisy problem (out->verdict, its text) may be offered
 * to its cell. With an incumbent in the cell, its first score must beat the incumbent's mean by
 * noise_margin spreads; then every winner (also one for an empty cell) is re-evaluated
 * noise_confirm times afresh, and the mean of those fresh scores — not the lucky first draw —
 * must still beat the incumbent's mean by noise_margin standard errors (spread/sqrt(confirm)).
 * On success out->verified becomes that mean. Returns 1 to offer, 0 to keep out (out->note says
 * why), or a negative code. */
static int noise_admit(rt_gate *g, const rt_gate_child *c, const int *coords, rt_gate_ruling *out)
{
    const rt_policy *pol = g->policy;
    const rt_elite *inc = rt_archive_cell(g->archive, c->island, coords);
    double first = out->verdict.score;
    double inc_mean = 0, spread = 0;
    int rc;
    if (inc) {
        rc = noise_floor(g, inc, &inc_mean, &spread);
        if (rc < 0)
            return rc;
        if (rc == 0 && !(first > inc_mean + pol->noise_margin * spread)) {
            g->noise.screened_out++;
            snprintf(out->note, sizeof out->note,
                     "within the noise floor: %.6g is not above the incumbent's %.6g + %g x %.6g",
                     first, inc_mean, pol->noise_margin, spread);
            return 0;
        }
        if (rc == 1)
            inc = NULL; /* the incumbent no longer verifies: compare with nothing */
    }
    int n = pol->noise_confirm;
    if (n <= 0) {
        g->noise.confirmed++;
        return 1;
    }
    double mean = 0, child_spread = 0;
    rc = reevaluate(g, c->text, c->len, n, &mean, &child_spread);
    if (rc < 0)
        return rc;
    double need = inc ? inc_mean + pol->noise_margin * spread / sqrt((double)n) : -INFINITY;
    if (rc == 1 || !(mean > need)) {
        g->noise.unconfirmed++;
        if (rc == 1)
            snprintf(out->note, sizeof out->note, "did not hold up: a re-evaluation failed");
        else
            snprintf(out->note, sizeof out->note,
                     "did not hold up: the mean of %d re-evaluations, %.6g, is not above %.6g",
                     n, mean, need);
        return 0;
    }
    g->noise.confirmed++;
    snprintf(out->note, sizeof out->note, "confirmed: first %.6g, mean of %d re-evaluations %.6g",
             first, n, mean);
    out->verified.primary = mean;
    return 1;
}

/* ---- admission ---------------------------------------------------------------------------- */

const char *rt_gate_reason(const rt_gate_ruling *ruling)
{
    return ruling->verdict.valid ? ruling->note : ruling->verdict.reason;
}

/* Steps 2-4 for a child whose evaluation did not fail: 1 to offer it, 0 to keep it out, or a
 * negative code. */
static int judge(rt_gate *g, const rt_gate_child *c, int *coords, rt_gate_ruling *out)
{
    rt_problem_score(g->problem, c->genome, &out->proxy);
    if (out->proxy.primary <= RT_PROXY_REJECT) {
        out->dropped = 1;
        return 0;
    }
    rt_problem_features(g->problem, c->genome, coords);
    int ok;
    if (c->ahead && c->ahead->done) {
        out->verdict = c->ahead->verdict;
        ok = account(g, c->text, c->len, c->ahead->rc, c->ahead->err, out->proxy,
                     &out->verdict);
    } else {
        ok = rt_gate_check(g, c->text, c->len, out->proxy, &out->verdict);
    }
    if (ok < 0)
        return gate_fail(g, ok, "out of memory");
    out->verified = (rt_score){out->verdict.score, out->verdict.score2};
    if (g->trust_proxy) {
        out->trusted = 1; /* the ablation: the proxy's word is enough */
        return 1;
    }
    if (ok && rt_problem_is_noisy(g->problem) && g->policy->noise_samples > 0)
        ok = noise_admit(g, c, coords, out);
    return ok;
}

int rt_gate_admit(rt_gate *g, const rt_gate_child *c, rt_gate_ruling *out)
{
    assert(g->archive && c->genome && c->island >= 0 && c->island < g->archive->nislands);
    memset(out, 0, sizeof *out);
    int coords[RT_MAX_FEATURES] = {0};
    int ok;
    if (c->ev && c->ev->failed) {
        /* a failed evaluation is stored with its reason; it is never verified, nor trusted */
        snprintf(out->verdict.reason, sizeof out->verdict.reason, "evaluation failed: %s",
                 c->ev->reason);
        ok = 0;
    } else {
        ok = judge(g, c, coords, out);
        if (ok < 0 || out->dropped)
            return ok;
    }
    out->score = out->trusted ? out->proxy : out->verified;
    if (!ok)
        return 0;
    /* nothing enters unverified, except by the ablation's explicit leave */
    assert(out->verdict.valid || out->trusted);
    int admitted = rt_archive_offer(g->archive, c->island, c->genome, out->score, coords,
                                    c->hash, 0, &out->slot);
    if (admitted < 0)
        return gate_fail(g, admitted, "out of memory");
    out->admitted = admitted;
    out->trusted = out->trusted && admitted;
    return 0;
}

/* ---- what is already admitted ------------------------------------------------------------- */

int rt_gate_spread_seed(rt_gate *g, const void *seed)
{
    const rt_island *first = &g->archive->islands[0];
    assert(first->ncells == 1); /* the run's creation admitted the seed there, alone */
    const rt_elite *e0 = &first->cells[0];
    for (int i = 1; i < g->archive->nislands; i++) {
        void *copy = rt_problem_clone(g->problem, seed);
        if (!copy)
            return gate_fail(g, RT_ENOMEM, "out of memory");
        int rc = rt_archive_offer(g->archive, i, copy, e0->score, e0->coords, e0->hash,
                                  e0->cand_id, NULL);
        if (rc != 1)
            rt_problem_free_genome(g->problem, copy);
        if (rc < 0)
            return gate_fail(g, rc, "out of memory");
    }
    return 0;
}

int rt_gate_readmit(rt_gate *g, rt_gate_stored *s, rt_gate_ruling *out)
{
    assert(g->archive && s->island >= 0 && s->island < g->archive->nislands);
    memset(out, 0, sizeof *out);
    void *genome = NULL;
    char why[400];
    int rc;
    /* what comes back from disk passes the gate again before it is trusted */
    if (rt_problem_verify(g->problem, s->text, s->len, &out->verdict, why, sizeof why) ||
        !out->verdict.valid) {
        rc = gate_fail(g, RT_ESTORE,
                       "archived candidate %lld does not verify (was it admitted under "
                       "--trust-proxy? `ratchet audit` says)",
                       s->cand_id);
        goto done;
    }
    if ((rc = rt_problem_decode(g->problem, s->text, s->len, &genome, why, sizeof why))) {
        rc = gate_fail(g, RT_ESTORE, "candidate %lld: %s", s->cand_id, why);
        goto done;
    }
    /* what proposers are shown of an archived parent */
    rt_problem_restore_annotations(g->problem, genome, s->metrics, s->artifacts);
    s->metrics = s->artifacts = NULL;
    int coords[RT_MAX_FEATURES] = {0};
    rt_problem_features(g->problem, genome, coords);
    /* a noisy verifier's fresh draw is not the confirmed score the elite was admitted with */
    out->verified = rt_problem_is_noisy(g->problem)
                        ? s->score
                        : (rt_score){out->verdict.score, out->verdict.score2};
    out->score = out->verified;
    rc = rt_archive_offer(g->archive, s->island, genome, out->score, coords, s->hash, s->cand_id,
                          &out->slot);
    if (rc < 0) {
        rc = gate_fail(g, rc, "out of memory");
        goto done;
    }
    if (rc == 1) {
        genome = NULL; /* the archive's now */
        out->admitted = 1;
        out->slot->migrated = s->migrated;
    }
done:
    rt_problem_free_genome(g->problem, genome);
    free(s->metrics);
    free(s->artifacts);
    s->metrics = s->artifacts = NULL;
    return rc;
}
