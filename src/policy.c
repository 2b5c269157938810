/* policy.c — the shipped default policy. */
#include "policy.h"

#include <string.h>

void rt_policy_defaults(rt_policy *p)
{
    memset(p, 0, sizeof *p);
    p->p_best = 0.5;
    p->migrate_every = 25;
    p->commit_interval = 0.5;
    /* matmul: see docs/policy.md for the reasons */
    p->matmul.walk_flips = 2000000;
    p->matmul.plateau_flips = 30000;
    p->matmul.escape_prob = 0.9;
    p->matmul.max_escapes = 1000;
    p->matmul.restart_prob = 0.02;
    p->matmul.stop_on_improve = 1;
    p->matmul.sym_walk_flips = 20000;
    p->matmul.sym_plateau_flips = 0;
    p->matmul.sym_cubes = 0;
    p->matmul.sym_beta = 0;
}
