/* policy.c — the shipped default policy. */
#include "policy.h"

#include <stdio.h>
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
    snprintf(p->llm.template_set, sizeof p->llm.template_set, "default");
    p->llm.p_full = 0.25;
    p->llm.max_in_flight = 4;
    p->llm.timeout = 300;
    p->llm.connect_timeout = 10;
    p->llm.max_retries = 4;
    p->llm.backoff_base = 1;
    p->llm.backoff_max = 60;
    p->llm.temperature = 0.7;
    p->llm.max_tokens = 4096;
    p->llm.inspirations = 3;
    p->llm.history = 6;
    p->llm.context_cap = 4096;
    p->llm.bandit_c = 0.5;
    p->matmul.proxy_samples = 2;
    p->matmul.proxy_prime = 3;
}
