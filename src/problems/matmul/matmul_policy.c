/* matmul_policy.c — matmul's knob rows: one row per field of rt_matmul_policy (matmul_policy.h);
 * policy.c gathers them into the policy's table after the loop's rows. Adding a matmul knob is
 * its field in matmul_policy.h, one row here and a line in docs/policy.md. */
#include "problems/matmul/matmul_policy.h"

_Static_assert(sizeof(rt_matmul_policy) <= RT_POLICY_SECTION_BYTES,
               "rt_matmul_policy must fit in one section of rt_policy");

#define KNOB_INT(...) RT_KNOB_INT(rt_matmul_policy, __VA_ARGS__)
#define KNOB_LONG(...) RT_KNOB_LONG(rt_matmul_policy, __VA_ARGS__)
#define KNOB_REAL(...) RT_KNOB_REAL(rt_matmul_policy, __VA_ARGS__)
#define KNOB_BOOL(...) RT_KNOB_BOOL(rt_matmul_policy, __VA_ARGS__)

/* clang-format off */
static const rt_knob rows[] = {
    KNOB_LONG("matmul.walk_flips", walk_flips, 2000000, 1, 1e9, RT_MUT_LOG, 0.7,
              "flips budget of one walker run (one application of walk or plus)"),
    KNOB_LONG("matmul.plateau_flips", plateau_flips, 30000, 1, 1e9, RT_MUT_LOG, 0.7,
              "flips without a rank reduction that make a plateau"),
    KNOB_LONG("matmul.plateau_min", plateau_min, 0, 0, 1e9, RT_MUT_LOG, 0.7,
              "> 0: each plateau's length is log-uniform in [plateau_min, plateau_flips]"),
    KNOB_INT("matmul.plus_drift", plus_drift, 1, 1, 16, RT_MUT_LOG, 0.5,
             "a plateau's plus is made from the current scheme while its rank < lowest + drift"),
    KNOB_REAL("matmul.escape_prob", escape_prob, 0.9, 0, 1, RT_MUT_ADD, 0.1,
              "at a plateau: a plus transition and the walk goes on (else the run ends)"),
    KNOB_INT("matmul.max_escapes", max_escapes, 1000, 0, 1000000, RT_MUT_LOG, 0.5,
             "plus transitions in one walker run at most"),
    KNOB_REAL("matmul.restart_prob", restart_prob, 0.02, 0, 1, RT_MUT_ADD, 0.02,
              "a walker run starts from the standard algorithm instead of its parent"),
    KNOB_BOOL("matmul.stop_on_improve", stop_on_improve, 1, RT_MUT_FLIP, 0.1,
              "a walker run ends as soon as its rank is below its parent's"),
    KNOB_LONG("matmul.sym_walk_flips", sym_walk_flips, 2000000, 1, 1e9, RT_MUT_LOG, 0.7,
              "--symmetric: flips budget of one symmetric walker run (one operator application)"),
    KNOB_LONG("matmul.sym_plateau_flips", sym_plateau_flips, 5000, 0, 1e9, RT_MUT_LOG, 0.7,
              "--symmetric: flips without a reduction that make a plateau; 0: plain walks"),
    KNOB_INT("matmul.sym_cubes", sym_cubes, 0, 0, 8, RT_MUT_NONE, 0,
             "--symmetric 1 without --cubes: cube products of the start; 0: by n"),
    KNOB_REAL("matmul.sym_beta", sym_beta, 0, 0, 100, RT_MUT_NONE, 0,
              "symmetric walk: a flip adding d nonzero coefficients is taken with exp(-beta d)"),
    KNOB_INT("matmul.sym_headroom", sym_headroom, 1, 0, 100, RT_MUT_ADD, 1,
             "symmetric run: plus transitions allowed above its lowest rank; 0: go back there"),
    KNOB_INT("matmul.sym_max_size", sym_max_size, 0, 0, 1000000, RT_MUT_NONE, 0,
             "symmetric walk: largest product size a flip may make; 0: no cap"),
    KNOB_REAL("matmul.op_walk", op_walk, 0.9, 0, 100, RT_MUT_LOG, 0.4,
              "weight of the walk operator (flips only)"),
    KNOB_REAL("matmul.op_plus", op_plus, 0.1, 0, 100, RT_MUT_LOG, 0.4,
              "weight of the plus operator (one rank up, then a walk)"),
    KNOB_REAL("matmul.op_lift", op_lift, 1, 0, 100, RT_MUT_LOG, 0.4,
              "portfolio: weight of the lift strategy (a walk over GF(2) admitting lifts)"),
    KNOB_REAL("matmul.op_restart", op_restart, 1, 0, 100, RT_MUT_LOG, 0.4,
              "portfolio: weight of the restart strategy (fresh descents)"),
    KNOB_REAL("matmul.op_sym", op_sym, 1, 0, 100, RT_MUT_LOG, 0.4,
              "portfolio: weight of the cyclic symmetric strategy (square shapes)"),
    KNOB_REAL("matmul.op_twin", op_twin, 0.5, 0, 100, RT_MUT_LOG, 0.4,
              "portfolio: weight of the twin symmetric strategy (square shapes)"),
    KNOB_REAL("matmul.op_symlong", op_symlong, 0.5, 0, 100, RT_MUT_LOG, 0.4,
              "portfolio: weight of the long symmetric headroom runs (square shapes)"),
    KNOB_REAL("matmul.op_split", op_split, 1, 0, 100, RT_MUT_LOG, 0.4,
              "portfolio: weight of the split descents (from a direct sum of two smaller shapes)"),
    KNOB_REAL("matmul.op_cube", op_cube, 1, 0, 100, RT_MUT_LOG, 0.4,
              "portfolio: weight of the cube descents (<k,k,d>: a symmetric cube and a slab)"),
    KNOB_REAL("matmul.symlong_exp", symlong_exp, 3, -4, 8, RT_MUT_ADD, 0.3,
              "portfolio: symlong's weight scales as (n*m*p/64)^symlong_exp"),
    KNOB_REAL("matmul.symlong_best", symlong_best, 0.8, 0, 1, RT_MUT_ADD, 0.15,
              "portfolio: chance that a symlong run continues from its island's best scheme"),
    KNOB_REAL("matmul.flips_exp", flips_exp, 3, -4, 8, RT_MUT_ADD, 0.3,
              "portfolio: flips budgets scale as (n*m*p/64)^flips_exp"),
    KNOB_REAL("matmul.plateau_exp", plateau_exp, 2, -4, 8, RT_MUT_ADD, 0.3,
              "portfolio: plateau lengths scale as (n*m*p/64)^plateau_exp"),
    KNOB_REAL("matmul.pf_walk_flips", pf_walk_flips, 1.12e7, 1e-3, 1e10, RT_MUT_LOG, 0.7,
              "portfolio walk, plus, lift: flips of one run at n*m*p = 64"),
    KNOB_REAL("matmul.pf_plateau", pf_plateau, 9.5e4, 1e-3, 1e10, RT_MUT_LOG, 0.7,
              "portfolio walk, plus, lift: plateau length at n*m*p = 64"),
    KNOB_REAL("matmul.pf_restart_flips", pf_restart_flips, 4.7e7, 1e-3, 1e10, RT_MUT_LOG, 0.7,
              "portfolio restart: flips of one fresh descent at n*m*p = 64"),
    KNOB_REAL("matmul.pf_restart_plateau", pf_restart_plateau, 1.8e5, 1e-3, 1e10, RT_MUT_LOG,
              0.7, "portfolio restart: longest plateau at n*m*p = 64 (shortest: 1/20 of it)"),
    KNOB_INT("matmul.restart_drift", restart_drift, 4, 1, 16, RT_MUT_LOG, 0.5,
             "portfolio restart: plus_drift of a fresh descent"),
    KNOB_REAL("matmul.pf_sym_flips", pf_sym_flips, 2e6, 1e-3, 1e10, RT_MUT_LOG, 0.7,
              "portfolio sym, twin: flips of one symmetric run at n*m*p = 64"),
    KNOB_REAL("matmul.pf_symlong_flips", pf_symlong_flips, 1.34e7, 1e-3, 1e10, RT_MUT_LOG, 0.7,
              "portfolio symlong: flips of one long headroom run at n*m*p = 64"),
    KNOB_BOOL("matmul.pf_lifts_pay", pf_lifts_pay, 0, RT_MUT_FLIP, 0.1,
              "portfolio: a run's lift attempts are paid from its flips budget"),
    KNOB_REAL("matmul.pf_sym_work", pf_sym_work, 0, 0, 1, RT_MUT_ADD, 0.25,
              "portfolio: share of a symmetric flip's measured extra cost charged; 0: plain's"),
    KNOB_INT("matmul.proxy_samples", proxy_samples, 2, 1, 64, RT_MUT_NONE, 0,
             "--proxy sampled: random products checked per candidate"),
    KNOB_INT("matmul.proxy_prime", proxy_prime, 3, 2, 65521, RT_MUT_NONE, 0,
             "--proxy sampled over the integers: the modulus (GF(2) uses 2)"),
};
/* clang-format on */

const rt_knob_section mm_policy_section = {
    .knobs = rows,
    .nknobs = sizeof rows / sizeof rows[0],
    .size = sizeof(rt_matmul_policy),
};
