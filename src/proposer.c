/* proposer.c — the registry of proposers (a new proposer adds one line to `registry`), and the
 * one place that calls a proposer's methods. */
#include "proposer.h"

#include <assert.h>
#include <string.h>

static const rt_proposer_class *const registry[] = {
    &rt_proposer_builtin,
    &rt_proposer_command,
    &rt_proposer_llm,
};

const rt_proposer_class *rt_proposer_find(const char *name)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (name && strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int rt_proposer_init(rt_proposer *p, const char *name, const rt_problem *problem,
                     const char *const *keys, const char *const *values, size_t n,
                     const rt_policy *policy, const volatile int *stop, char *err,
                     size_t errlen)
{
    memset(p, 0, sizeof *p);
    const rt_proposer_class *cls = rt_proposer_find(name);
    if (!cls)
        return rt_fail(err, errlen, RT_EUSAGE, "unknown proposer '%s'", name);
    if (n && !cls->configure)
        return rt_fail(err, errlen, RT_EUSAGE, "proposer %s takes no options (%s given)", name,
                       keys[0]);
    void *state = NULL;
    int rc = cls->create(&state, problem, err, errlen);
    if (rc)
        return rc;
    if (cls->configure &&
        (rc = cls->configure(state, keys, values, n, policy, stop, err, errlen))) {
        cls->destroy(state);
        return rc;
    }
    p->cls = cls;
    p->state = state;
    return 0;
}

void rt_proposer_free(rt_proposer *p)
{
    if (p->cls)
        p->cls->destroy(p->state);
    memset(p, 0, sizeof *p);
}

const char *rt_proposer_name(const rt_proposer *p) { return p->cls->name; }

int rt_proposer_inspirations(const rt_proposer *p) { return p->cls->inspirations; }

int rt_proposer_wants_context(const rt_proposer *p) { return p->cls->context; }

int rt_proposer_propose(const rt_proposer *p, const rt_problem *problem,
                        const rt_propose_ctx *ctx, rt_rng *rng, rt_proposal *out)
{
    assert(p->cls); /* only a proposer that rt_proposer_init made */
    return p->cls->propose(p->state, problem, ctx, rng, out);
}

void rt_proposer_feedback(const rt_proposer *p, long long tag, const rt_proposal_outcome *outcome)
{
    if (p->cls->feedback)
        p->cls->feedback(p->state, tag, outcome);
}

int rt_proposer_account(const rt_proposer *p, rt_db *db)
{
    return p->cls && p->cls->account ? p->cls->account(p->state, db) : 0;
}

int rt_proposer_spent(const rt_proposer *p, char *why, size_t len)
{
    return p->cls->spent ? p->cls->spent(p->state, why, len) : 0;
}
