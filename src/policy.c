/* policy.c — the shipped default policy. */
#include "policy.h"

#include <string.h>

void rt_policy_defaults(rt_policy *p)
{
    memset(p, 0, sizeof *p);
    p->p_best = 0.5;
    p->migrate_every = 25;
    p->commit_interval = 0.5;
    p->matmul.walk_flips = 20000;
    p->matmul.sym_cubes = 0;
    p->matmul.sym_beta = 0;
}
