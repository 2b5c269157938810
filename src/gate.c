/* gate.c — the verification gate between proposers and the archive. */
#include "gate.h"

#include <stdio.h>
#include <string.h>

void rt_gate_init(rt_gate *g, const rt_problem *problem)
{
    memset(g, 0, sizeof *g);
    g->problem = problem;
}

int rt_gate_check(rt_gate *g, const char *text, size_t len, rt_score proxy, rt_verdict *out)
{
    char err[400] = "";
    int rc = g->problem->cls->verify(g->problem->state, text, len, out, err, sizeof err);
    return rt_gate_account(g, rc, err, proxy, out);
}

int rt_gate_account(rt_gate *g, int rc, const char *err, rt_score proxy, rt_verdict *out)
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
    g->passed++;
    rt_score verified = {out->score, out->score2};
    if (rt_score_cmp(proxy, verified) > 0)
        g->overclaims++;
    return 1;
}
