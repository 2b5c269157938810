/* matmul_strategy.h — the ways matmul searches a shape, as functions of an explicit
 * configuration: a walker run on the flip graph (plain, plus first, or a fresh descent from the
 * standard algorithm or from a direct sum of smaller shapes' schemes: two parts of a random cut,
 * or a symmetric cube and its slab), a symmetric walker run (cyclic or twin, from the parent or from a fresh symmetric start), the
 * change of field between the integers and GF(2) that lets one archive hold the schemes of
 * walks over either, and the rule that sets a strategy's lengths from the shape.
 *
 * matmul.c builds the configurations: from the policy as given in the override modes
 * (--symmetric, --lift) and, in the default portfolio, one per strategy with its lengths from the
 * rule (docs/recursion.md). Nothing here reads the policy.
 *
 * Work: every function adds to *work the calibrated cost of what it did (mm_work_cost), so that
 * the engine's bandit can credit a strategy with verified improvement per unit of CPU time while a
 * run stays the same for a seed whatever the number of threads (measured CPU time would not).
 *
 * Ownership: schemes are the caller's; a function that fails leaves them valid.
 */
#ifndef RT_MATMUL_STRATEGY_H
#define RT_MATMUL_STRATEGY_H

#include "problems/matmul/matmul_search.h"

/* What a run did, in the units mm_work_cost weighs. */
typedef struct mm_effort {
    long long flips_z, flips_gf2; /* flips of plain walks over each field */
    long long sym_flips[2][2];    /* flips of symmetric walks, [twin][field is GF(2)]: each
                                     moves a whole orbit, so it costs more than a plain flip */
    long long pluses;             /* plus transitions */
    long long lifts;              /* lift attempts (mm_lift_encode calls that were not cached) */
    double lift_work;             /* their calibrated work (mm_lift_work of each one's shape) */
    long long split_starts;       /* fresh starts built from parts (split, cube; their part
                                     descents' flips are in flips_z, flips_gf2 and sym_flips) */
} mm_effort;

/* A symmetric walker run (matmul_sym.h's mm_sym_run). */
typedef struct mm_sym_cfg {
    long long flips, plateau;
    double escape_prob;
    int max_escapes, stop_on_improve, headroom, max_size;
    double beta;
    int twin;      /* 1: twin symmetry (six-product orbits) */
    int parts;     /* cube products of a fresh symmetric start */
    int fresh;     /* 1: a parent that is not symmetric, or (parts > 0) whose number of cubes is
                      not parts, is replaced by the fresh symmetric start (the run then has to
                      beat the parent's rank to stop early); 0: the run fails on a parent that is
                      not symmetric and takes any symmetric one */
    int need_lift; /* as mm_walk_cfg */
    int lifts_pay; /* as mm_walk_cfg */
} mm_sym_cfg;

enum { MM_SPLIT_CUT = 1, MM_SPLIT_CUBE = 2 };

/* A plain walker run (docs/policy.md, matmul): budget, plateaus, escapes, restarts. */
typedef struct mm_walk_cfg {
    long long flips;        /* flips budget */
    long long plateau_hi;   /* flips without a reduction that make a plateau */
    long long plateau_min;  /* > 0: each plateau log-uniform in [plateau_min, plateau_hi] */
    int drift;              /* plus from the current scheme while rank < lowest + drift */
    double escape_prob;     /* at a plateau: escape by a plus (else the run ends) */
    int max_escapes;
    double restart_prob;    /* start from the standard algorithm instead of the parent */
    int stop_on_improve;    /* end as soon as below the parent's rank (and lifted, need_lift) */
    int need_lift;          /* the gate is over Z and the walk over GF(2): only a lifting
                               improvement ends the run, and the child must lift */
    int lifts_pay;          /* 1: lift attempts are paid from the flips budget, at their
                               calibrated work (mm_lift_work), so that a run costs at most its
                               budget and one lift; 0 (the override modes): lifts are free */
    int split;              /* a restart starts from a direct sum of smaller shapes' schemes
                               instead of the standard algorithm: MM_SPLIT_CUT two parts at a
                               random cut (split_start), MM_SPLIT_CUBE the cube and the slab
                               of <k,k,d> (cube_start); 0: none */
    double flips_exp, plateau_exp; /* split: the parts' lengths are this run's times
                               (part's n*m*p / n*m*p)^exp, the rule of the shape */
    mm_sym_cfg cube;        /* MM_SPLIT_CUBE: the symmetric run that descends the cube from its
                               fresh symmetric start (its flips are the cube's own) */
} mm_walk_cfg;


/* One walker run on s (in s's own field); s becomes the run's lowest-rank scheme. Returns 0, or
 * -1 when nothing was done or the walker could not be built (s unchanged then). */
int mm_run_walk(const mm_walk_cfg *c, mm_scheme *s, rt_rng *rng, int plus_first,
                mm_effort *effort);

/* One symmetric walker run on s (in s's own field), a plus transition first when plus is set;
 * s becomes the expanded result. -1 when s is not symmetric (and c->fresh is 0), when nothing was
 * done, or when c->need_lift and no scheme of the run below its parent lifts. */
int mm_run_sym(const mm_sym_cfg *c, mm_scheme *s, rt_rng *rng, int plus, mm_effort *effort);

/* 1 when s (over GF(2)) lifts to the integers, or when need_lift is 0. Counts the attempt. */
int mm_liftable(const mm_scheme *s, int need_lift, mm_effort *effort);

/* out = in over `field`: a copy; over GF(2) a scheme over Z taken modulo 2 (then reduced); over Z
 * a GF(2) scheme's lift (mm_lift_encode), which must stay within {-1,0,1}. Returns 0, -1 when the
 * GF(2) scheme has no such lift, or RT_ENOMEM. */
int mm_scheme_to_field(const mm_scheme *in, enum mm_field field, mm_scheme *out,
                       mm_effort *effort);

/* The rule of the shape: base * (n*m*p / 64)^exponent, rounded; 64 is <4,4,4>'s n*m*p, the
 * reference size at which a portfolio length knob is given. Returns the length, 0 or less when
 * the rule gives less than one flip. */
long long mm_rule_length(double base, int n, int m, int p, double exponent);

/* The side k of the cube strategy's cube: k when <n,m,p> is <k,k,d> with d > k >= 2 in some
 * order (one dimension above two equal ones: the cube and one slab), else 0. */
int mm_cube_side(int n, int m, int p);

/* The flips of an effort, of every kind and field, uncalibrated. */
long long mm_effort_flips(const mm_effort *e);

/* The calibrated work of an effort, in units of one flip over Z (docs/recursion.md has the
 * measurements behind the weights). A symmetric flip costs a plain flip of its field and
 * sym_share (0..1, the policy's matmul.pf_sym_work) of what it was measured to cost beyond. */
long long mm_work_cost(const mm_effort *e, double sym_share);

/* The calibrated work of one lift attempt for <n,m,p>, in Z flips: the measured cost at <4,4,4>
 * scaled as (n*m*p/64)^3 (a lift's linear system grows with the shape; measured 1.5 ms at
 * <3,3,3>, 64 ms at <4,4,4>, 0.57 s at <5,5,5>, docs/recursion.md). */
double mm_lift_work(int n, int m, int p);

#endif
