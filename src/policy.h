/* policy.h — every knob the engine, the problems' searches and the proposers read, in one
 * structure, so that a policy can be saved, loaded, compared and evolved as a whole.
 *
 * Sections: the engine's loop, the operator bandit, the meta level (how new policies are made
 * from this one), then one sub-structure per module that has knobs (matmul's walk, ...). A module
 * reads only its own section.
 *
 * THE KNOB TABLE. Every knob is one row of the table in policy.c:
 *     {name, type, offset, default, min, max, mutation, step, choices, doc}
 * e.g. KNOB_LONG("matmul.walk_flips", matmul.walk_flips, 20000, 1, 1e9, RT_MUT_LOG, 0.5, "...").
 * That row alone drives the defaults (rt_policy_defaults), the JSON file format
 * (rt_policy_parse, rt_policy_print), range checks (rt_policy_validate) and the meta level's
 * mutation (rt_policy_mutate). To add a knob: add the field to the structure below and one row
 * to the table; document it in docs/policy.md. Names are "section.knob"; the JSON file nests
 * them: {"matmul": {"walk_flips": 20000}}.
 *
 * Ownership: an rt_policy is a plain value (no pointers); copy it with '='.
 */
#ifndef RT_POLICY_H
#define RT_POLICY_H

#include <stddef.h>

#include "rng.h"
#include "util.h"

/* Knobs of matmul's flip-graph search (src/problems/matmul*.c). */
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
    long long max_tokens;  /* completion tokens asked for; 0: the server's default */
    int inspirations;      /* programs shown besides the parent (the best, the most different) */
    int history;           /* recent attempts shown with their outcomes */
    long long context_cap; /* bytes of metrics/artifacts text kept per section */
    double bandit_c;       /* exploration constant of the model bandit */
} rt_llm_policy;

/* The operator bandit (src/bandit.c): discounted UCB over a problem's operators, rewarded by
 * verified improvement per unit of work. */
typedef struct rt_bandit_policy {
    int enabled;     /* 0: operators are drawn in proportion to their weights */
    double discount; /* per-update decay of old observations (1 = no forgetting) */
    double explore;  /* UCB exploration coefficient */
    double floor;    /* every operator keeps at least this share of the draws */
} rt_bandit_policy;

/* How the meta level makes a new policy from this one (self-application: the incumbent's own
 * meta section mutates its successors). */
typedef struct rt_meta_policy {
    double step;     /* multiplies every knob's mutation step */
    double knobs;    /* expected number of knobs changed by one mutation */
    double op_mutate;  /* weight of the "mutate" operator for policies */
    double op_reset;   /* weight of the "reset" operator (one knob back to its default) */
} rt_meta_policy;

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

    rt_bandit_policy bandit;
    rt_meta_policy meta;
    rt_matmul_policy matmul;
    rt_llm_policy llm;
} rt_policy;

/* ---- the knob table ---------------------------------------------------------------------- */

enum rt_knob_type {
    RT_KNOB_INT,  /* int */
    RT_KNOB_LONG, /* long long */
    RT_KNOB_REAL, /* double */
    RT_KNOB_BOOL, /* int, 0 or 1; JSON true/false */
    RT_KNOB_ENUM, /* int index into choices ("diff|whole"); JSON string */
    RT_KNOB_STR   /* char[max] in the structure; JSON string of at most max-1 bytes */
};

enum rt_knob_mutation {
    RT_MUT_NONE, /* never changed by the meta level */
    RT_MUT_LOG,  /* multiplied by exp(step * N(0,1)) (scale knobs: lengths, counts) */
    RT_MUT_ADD,  /* step * N(0,1) added (probabilities, coefficients) */
    RT_MUT_FLIP  /* bool flipped / enum redrawn uniformly, with probability min(1, step) */
};

typedef struct rt_knob {
    const char *name;    /* "section.knob" */
    int type;            /* enum rt_knob_type */
    size_t offset;       /* offsetof(rt_policy, field) */
    double def;          /* default (numbers, bools, enum index); STR: unused */
    double min, max;     /* inclusive range; STR: max is the field's size */
    int mutation;        /* enum rt_knob_mutation */
    double step;         /* mutation step, scaled by the mutating policy's meta.step */
    const char *choices; /* ENUM: "a|b|c"; STR: its default text; otherwise NULL */
    const char *doc;     /* one line: what it does */
} rt_knob;

/* The table and its size. */
const rt_knob *rt_policy_knobs(size_t *n);
/* A knob by its dotted name, or NULL. */
const rt_knob *rt_policy_knob_find(const char *name);
/* A numeric (INT/LONG/REAL/BOOL/ENUM) knob's value as a double; STR gives 0. */
double rt_policy_get(const rt_policy *p, const rt_knob *k);
/* Sets a numeric knob, clamped to its range and rounded for integer types. */
void rt_policy_set(rt_policy *p, const rt_knob *k, double v);

/* Fills p with the shipped defaults (the table's `def` column). */
void rt_policy_defaults(rt_policy *p);

/* Reads a JSON policy file over *p (so call rt_policy_defaults first to merge over the
 * defaults). Accepts nested {"matmul": {"walk_flips": 1000}} and dotted {"matmul.walk_flips":
 * 1000} names. Unknown keys, wrong types and out-of-range values fail with RT_EUSAGE and a
 * message naming the key; input over 64 KiB fails with RT_ETOOBIG. On failure *p is unchanged. */
#define RT_POLICY_MAX_BYTES 65536
int rt_policy_parse(rt_policy *p, const char *text, size_t len, char *err, size_t errlen);

/* Appends the canonical JSON of p (every knob, table order, nested by section, one knob a line)
 * to out. Parsing it gives p back exactly. Returns 0 or RT_ENOMEM/RT_ETOOBIG. */
int rt_policy_print(const rt_policy *p, rt_buf *out);

/* Checks every knob against its range; RT_EUSAGE naming the first knob out of range. */
int rt_policy_validate(const rt_policy *p, char *err, size_t errlen);

/* Mutates p in place using meta's meta section (meta may be p itself): each mutable knob changes
 * with probability meta.knobs / (number of mutable knobs), at least one knob changes, and every
 * value stays in range. Returns the number of knobs changed. */
int rt_policy_mutate(rt_policy *p, const rt_policy *meta, rt_rng *rng);

/* The weight of operator `op` of problem `problem` in p ("<problem>.op_<op>"), or def when the
 * policy has no such knob. */
double rt_policy_op_weight(const rt_policy *p, const char *problem, const char *op, double def);

/* A standard normal draw (Box-Muller) from rng. */
double rt_policy_gauss(rt_rng *rng);

#endif
