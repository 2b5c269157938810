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
    g->checked++;
    int rc = g->problem->cls->verify(g->problem->state, text, len, out, err, sizeof err);
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
