/* builtin.c — the builtin proposer: applies one of the problem's own operators: the one the
 * engine's bandit chose (rt_proposal.op_index), or, when that is out of range, one drawn at
 * random in proportion to the operators' default weights. */
#include <stdlib.h>

#include "proposer.h"

typedef struct builtin_state {
    double total;
} builtin_state;

static int builtin_create(void **state, const rt_problem *problem, char *err, size_t errlen)
{
    builtin_state *st = calloc(1, sizeof *st);
    if (!st)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    size_t nops = 0;
    const rt_operator *ops = rt_problem_operators(problem, &nops);
    for (size_t i = 0; i < nops; i++)
        st->total += ops[i].weight;
    if (nops == 0 || !(st->total > 0)) {
        free(st);
        return rt_fail(err, errlen, RT_EUSAGE, "problem %s has no operators",
                       problem->cls->name);
    }
    const char *idle = rt_problem_operators_idle(problem);
    if (idle) {
        free(st);
        return rt_fail(err, errlen, RT_EUSAGE, "proposer builtin can make no child: %s", idle);
    }
    *state = st;
    return 0;
}

static void builtin_destroy(void *state) { free(state); }

static int builtin_propose(void *state, const rt_problem *problem, const rt_propose_ctx *ctx,
                           rt_rng *rng, rt_proposal *out)
{
    const void *parent = ctx->parent.genome;
    const builtin_state *st = state;
    size_t nops = 0;
    const rt_operator *ops = rt_problem_operators(problem, &nops);
    size_t k = 0;
    if (out->op_index >= 0 && (size_t)out->op_index < nops) {
        k = (size_t)out->op_index; /* the engine's bandit chose */
    } else {
        double r = rt_rng_unit(rng) * st->total;
        while (k + 1 < nops && r >= ops[k].weight) {
            r -= ops[k].weight;
            k++;
        }
    }
    const rt_operator *op = &ops[k];
    out->op = op->name;
    out->work = 0;
    out->child = rt_problem_clone(problem, parent);
    if (!out->child)
        return RT_ENOMEM;
    if (rt_problem_apply(problem, op, out->child, rng, &out->work) != 0) {
        rt_problem_free_genome(problem, out->child);
        out->child = NULL;
    }
    return 0;
}

const rt_proposer_class rt_proposer_builtin = {
    .name = "builtin",
    .create = builtin_create,
    .destroy = builtin_destroy,
    .propose = builtin_propose,
};
