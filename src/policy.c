/* policy.c — the shipped default policy. */
#include "policy.h"

#include <string.h>

void rt_policy_defaults(rt_policy *p)
{
    memset(p, 0, sizeof *p);
    p->p_best = 0.5;
    p->migrate_every = 25;
    p->commit_interval = 0.5;
    p->noise_samples = 5;
    p->noise_margin = 1.0;
    p->noise_confirm = 4;
    p->matmul.walk_flips = 20000;
    p->matmul.proxy_samples = 2;
    p->matmul.proxy_prime = 3;
}
