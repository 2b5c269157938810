/* matmul_policy.h — matmul's section of the policy: the knobs of its flip-graph search, which
 * reach the policy's table through the class (rt_problem_matmul.knobs; policy.h says how a
 * problem's section is stored). Names are "matmul.knob"; docs/policy.md has the reasons.
 *
 * Ownership: the section is part of an rt_policy value; mm_policy and mm_policy_mut point into
 * the rt_policy they are given.
 */
#ifndef RT_MATMUL_POLICY_H
#define RT_MATMUL_POLICY_H

#include "policy.h"
#include "problem.h"

/* Knobs of matmul's flip-graph search (src/problems/matmul/). */
typedef struct rt_matmul_policy {
    long long walk_flips;    /* flips budget of one walker run (one operator application) */
    long long plateau_flips; /* flips without a rank reduction that make a plateau */
    long long plateau_min;   /* > 0: each plateau's length is drawn log-uniformly from
                                [plateau_min, plateau_flips]; 0: always plateau_flips */
    int plus_drift;          /* at a plateau the plus transition is made from the current scheme
                                while its rank is below the run's lowest + plus_drift, else from
                                the lowest-rank scheme (1: always from the lowest rank) */
    double escape_prob;      /* at a plateau: plus transition and walk on (else the run ends) */
    int max_escapes;         /* plus transitions in one walker run at most */
    double restart_prob;     /* a run starts from the standard algorithm instead of its parent */
    int stop_on_improve;     /* 1: a run ends as soon as its rank is below its parent's */
    double op_walk;          /* operator weights (the bandit's prior; the mix when it is off) */
    double op_plus;
    int proxy_samples;       /* --proxy sampled: random products checked per candidate */
    int proxy_prime;         /* --proxy sampled over the integers: the modulus (GF(2) uses 2) */
    long long sym_walk_flips; /* --symmetric 1: flips in one symmetric walk (one operator) */
    long long sym_plateau_flips; /* --symmetric 1: plateau length of a symmetric run (escapes as
                                    escape_prob, max_escapes, stop_on_improve); 0: plain walks */
    int sym_cubes;           /* --symmetric 1 without --cubes: cube products (diagonal blocks) of
                                the start, 1..n; 0: the block count whose residue mod 3 matches
                                the best known rank (mm_sym_default_parts) */
    double sym_beta;         /* symmetric walk: a flip adding d > 0 nonzero coefficients is taken
                                with probability exp(-sym_beta * d); 0: the plain random walk */
    int sym_headroom;        /* symmetric run: plus transitions allowed above the run's lowest
                                rank, the walk never going back (mm_sym_run); 0: go back to the
                                lowest-rank scheme at each plateau */
    int sym_max_size;        /* symmetric walk: largest product size (product of the factors'
                                nonzero counts) a flip may make; 0: no cap */
    /* The portfolio (the default without --symmetric, --lift or --proxy sampled; docs/recursion.md):
     * the other strategies' weights, and lengths given at <4,4,4> (n*m*p = 64) that the rule
     * length = value * (n*m*p / 64)^exponent scales to the run's shape. */
    double op_lift, op_restart, op_sym, op_twin, op_symlong, op_split, op_cube; /* weights */
    double symlong_exp;       /* op_symlong scales as (n*m*p/64)^symlong_exp (square shapes) */
    double symlong_best;      /* chance that a symlong run continues from its island's best */
    double flips_exp;         /* exponent of the rule for flips budgets */
    double plateau_exp;       /* exponent of the rule for plateau lengths */
    double pf_walk_flips;     /* walk, plus, lift: flips budget of one run at size 64 */
    double pf_plateau;        /* walk, plus, lift: plateau length at size 64 */
    double pf_restart_flips;  /* restart: flips budget of one fresh descent at size 64 */
    double pf_restart_plateau; /* restart: longest plateau at size 64 (the shortest: 1/20 of it) */
    int restart_drift;       /* restart: plus_drift of a fresh descent */
    double pf_sym_flips;      /* sym, twin: flips budget of one symmetric run at size 64 */
    double pf_symlong_flips;  /* symlong: flips of one long headroom run at size 64 */
    int pf_lifts_pay;         /* 1: a run's lift attempts are paid from its flips budget at their
                                 calibrated work (mm_lift_work); 0: lifts are free */
    double pf_sym_work;       /* share of a symmetric flip's measured extra cost over a plain flip
                                 of its field that the bandit is charged (mm_work_cost) */
} rt_matmul_policy;


/* The section's rows and size (the class's `knobs`). */
extern const rt_knob_section mm_policy_section;

/* matmul's section of p. */
static inline const rt_matmul_policy *mm_policy(const rt_policy *p)
{
    return rt_policy_section(p, &rt_problem_matmul);
}
static inline rt_matmul_policy *mm_policy_mut(rt_policy *p)
{
    return rt_policy_section_mut(p, &rt_problem_matmul);
}

#endif
