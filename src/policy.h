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
    long long walk_flips;    /* flips budget of one walker run (one operator application) */
    long long plateau_flips; /* flips without a rank reduction that make a plateau */
    double escape_prob;      /* at a plateau: plus transition and walk on (else the run ends) */
    int max_escapes;         /* plus transitions in one walker run at most */
    double restart_prob;     /* a run starts from the standard algorithm instead of its parent */
    int stop_on_improve;     /* 1: a run ends as soon as its rank is below its parent's */
    long long sym_walk_flips; /* --symmetric 1: flips in one symmetric walk (one operator) */
    long long sym_plateau_flips; /* --symmetric 1: plateau length of a symmetric run (escapes as
                                    escape_prob, max_escapes, stop_on_improve); 0: plain walks */
    int sym_cubes;           /* --symmetric 1 without --cubes: cube products (diagonal blocks) of
                                the start, 1..n; 0: the block count whose residue mod 3 matches
                                the best known rank (mm_sym_default_parts) */
    double sym_beta;         /* symmetric walk: a flip adding d > 0 nonzero coefficients is taken
                                with probability exp(-sym_beta * d); 0: the plain random walk */
} rt_matmul_policy;

typedef struct rt_policy {
    /* engine */
    double p_best;          /* a parent is its island's best elite with this probability */
    int migrate_every;      /* generations between migrations */
    double commit_interval; /* seconds between checkpoints */

    rt_matmul_policy matmul;
} rt_policy;

/* Fills p with the shipped defaults. */
void rt_policy_defaults(rt_policy *p);

#endif
