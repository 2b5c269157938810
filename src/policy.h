/* policy.h — every knob the engine, the problems' searches and the proposers read, in one
 * structure, so that a policy can be saved, loaded, compared and evolved as a whole.
 *
 * Sections: the engine's loop; then one sub-structure per module that has knobs (matmul's walk,
 * ...). A module reads only its own section. Defaults come from rt_policy_defaults() and are
 * documented, with the reason for each, in docs/policy.md.
 */
#ifndef RT_POLICY_H
#define RT_POLICY_H

/* Knobs of matmul's flip-graph search (src/problems/matmul*.c). */
typedef struct rt_matmul_policy {
    long long walk_flips; /* flips in one application of the walk operator */
    int proxy_samples;    /* --proxy sampled: random products checked per candidate */
    int proxy_prime;      /* --proxy sampled over the integers: the modulus (GF(2) uses 2) */
} rt_matmul_policy;

/* Knobs of the llm proposer (src/proposers/llm.c); docs/llm.md says why each default. */
typedef struct rt_llm_policy {
    char template_set[64]; /* prompt template set: the folder prompts/<template_set>/ */
    double p_full;         /* a request asks for a full rewrite (else SEARCH/REPLACE) */
    int max_in_flight;     /* requests open at once, over all islands */
    double timeout;        /* seconds for one attempt of a request */
    double connect_timeout;
    int max_retries;       /* further attempts on connection errors, 5xx, 429 */
    double backoff_base;   /* seconds before the first retry, doubled each time */
    double backoff_max;    /* cap on one wait (Retry-After included) */
    double temperature;
    long max_tokens;       /* completion tokens asked for; 0: the server's default */
    int inspirations;      /* programs shown besides the parent (the best, the most different) */
    int history;           /* recent attempts shown with their outcomes */
    long context_cap;      /* bytes of metrics/artifacts text kept per section */
    double bandit_c;       /* exploration constant of the model bandit */
} rt_llm_policy;

typedef struct rt_policy {
    /* engine */
    double p_best;          /* a parent is its island's best elite with this probability */
    int migrate_every;      /* generations between migrations */
    double commit_interval; /* seconds between checkpoints */
    /* noise-aware acceptance, for problems whose verifier is noisy (rt_problem_class.noisy) */
    int noise_samples;      /* re-evaluations of the incumbent that measure the noise floor;
                               0 turns noise-aware acceptance off */
    double noise_margin;    /* a child must beat the incumbent's mean by this many spreads */
    int noise_confirm;      /* fresh re-evaluations of a winner before it becomes incumbent */

    rt_matmul_policy matmul;
    rt_llm_policy llm;
} rt_policy;

/* Fills p with the shipped defaults. */
void rt_policy_defaults(rt_policy *p);

#endif
