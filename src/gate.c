/* gate.c — the verification gate between proposers and the archive. */
#include "gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rt_gate_init(rt_gate *g, const rt_problem *problem)
{
    memset(g, 0, sizeof *g);
    g->problem = problem;
}

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

int rt_gate_check(rt_gate *g, const char *text, size_t len, rt_score proxy, rt_verdict *out)
{
    char err[400] = "";
    int rc = rt_problem_verify(g->problem, text, len, out, err, sizeof err);
    return rt_gate_account(g, text, len, rc, err, proxy, out);
}

int rt_gate_account(rt_gate *g, const char *text, size_t len, int rc, const char *err,
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
