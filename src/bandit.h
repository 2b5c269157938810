/* bandit.h — in-run adaptation: which operator makes the next child.
 *
 * A discounted UCB over a problem's operators. Each operator k keeps discounted sums of its
 * draws N_k, of the verified reward R_k its children earned and of the work C_k they cost
 * (rt_proposal.work + 1, so that an operator that does no internal work still costs one
 * evaluation). Its rate is reward per unit of work, R_k / C_k; its index is
 *     index_k = rate_k + s_k * explore * rate_ref * sqrt(ln(1 + sum N) / (1 + N_k)),
 * where rate_ref is the best rate so far (or 1/mean cost while nothing has paid) and
 * s_k = K * prior_k / sum(prior) is the operator's prior share (1 for equal weights), so the
 * policy's operator weights shape exploration and the rates decide exploitation. Operators are
 * then *drawn* with probabilities floor + (1 - K*floor) * index_k / sum(index), so every
 * operator keeps a floor share and the islands of one generation do not all pile on one arm.
 * With bandit.enabled = 0 the draw follows the weights alone.
 *
 * Draws or work (bandit.work_exp, e in [0, 1]). With e = 0 the shares above are shares of the
 * *draws*: at a plateau, where no operator earns anything, the exploration term gives every
 * operator about as many draws, so the one whose draws cost most takes most of the work (at
 * <2,4,6> over Z, restart: 37 of 197 draws and 80% of the work in 20 s, with no win). With e > 0
 * the draw probability of k is its share divided by (C_k / N_k)^e, its mean work per draw to the
 * power e (an operator not yet drawn, or drawn fewer than bandit.work_warm times: the mean over
 * the others), renormalised; e = 1 makes the shares shares of the *work*. The rates are already
 * per unit of work, so what changes is that exploration and the floor are paid in work, not in
 * draws. docs/recursion.md has what it did.
 *
 * The reward of a child (rt_bandit_reward) is 0 when it did not beat its parent, else its base
 * (1, plus 1 for a new best of the run) times (1 - gain) + gain * size / mean, where size is how
 * much the child's primary score rose over its parent's and mean the discounted mean size of the
 * run's improvements so far, this one included (bandit.gain in [0, 1]: 0 makes every improvement
 * alike, 1 makes the reward proportional to the size, and a gain in the secondary score alone
 * earns the base times 1 - gain). The index above is the same when every reward is multiplied by
 * one constant, and size / mean is free of the score's units, so one gain serves ranks,
 * percentages and log-costs: a run where one operator takes 20 ranks in a step and another one
 * rank credits the first for 20.
 *
 * Determinism: choose() only reads the state (with the island's generator); update() is called
 * by the engine in island order in the sequential part of a generation. So a run is the same for
 * a seed whatever the number of threads.
 *
 * Ownership: a plain value; no allocations.
 */
#ifndef RT_BANDIT_H
#define RT_BANDIT_H

#include "policy.h"
#include "problem.h"

#define RT_BANDIT_MAX_ARMS 16

typedef struct rt_bandit_arm {
    char name[32];
    double prior;  /* the policy's operator weight */
    double n;      /* discounted draws */
    double reward; /* discounted verified reward */
    double cost;   /* discounted work */
    long long pulls, wins; /* undiscounted totals, for reports */
} rt_bandit_arm;

typedef struct rt_bandit {
    int enabled;
    double discount, explore, floor, gain;
    double work_exp;
    long long work_warm; /* pulls before an arm's own mean work counts in shares_of_work */
    double step_sum, step_n; /* discounted sum and count of the improvements' sizes */
    int narms;
    rt_bandit_arm arms[RT_BANDIT_MAX_ARMS];
} rt_bandit;

/* Sets up one arm per operator of the problem (rt_problem_operators) with the priors from policy (rt_policy_op_weight, the
 * operator's own weight when the policy has no knob). RT_EUSAGE if the class has no operators,
 * more than RT_BANDIT_MAX_ARMS, or all priors are zero. */
int rt_bandit_init(rt_bandit *b, const rt_problem *problem, const rt_policy *policy, char *err,
                   size_t errlen);

/* Probability of each arm (probs[narms]). */
void rt_bandit_probs(const rt_bandit *b, double *probs);
/* Draws an arm with rng. */
int rt_bandit_choose(const rt_bandit *b, rt_rng *rng);
/* The reward of a child that improved on its parent's primary score by size (<= 0 or not finite:
 * not at all, e.g. a better secondary score) with base reward base (0: no improvement, nothing is
 * recorded): base * ((1 - gain) + gain * size / mean), see above. Records size in the mean first. */
double rt_bandit_reward(rt_bandit *b, double base, double size);
/* Records that arm made a child at cost work with verified reward (0 nothing, more is better). */
void rt_bandit_update(rt_bandit *b, int arm, double reward, long long work);

/* The state as one JSON object {"enabled":..,"step_sum":..,"step_n":..,"arms":[{"op":..,"n":..,"reward":..,"cost":..,"pulls":..,
 * "wins":..,"p":..}]}, appended to out. */
int rt_bandit_save(const rt_bandit *b, rt_buf *out);
/* Restores the learned sums saved by rt_bandit_save into a bandit set up by rt_bandit_init
 * (arms matched by name; unknown names are an error). RT_ESTORE with a message when malformed. */
int rt_bandit_load(rt_bandit *b, const char *text, size_t len, char *err, size_t errlen);

#endif
