/* policy.h — every knob the engine, the problems' searches and the proposers read, in one
 * structure, so that a policy can be saved, loaded, compared and evolved as a whole.
 *
 * Sections: the engine's loop, the operator bandit, the meta level (how new policies are made
 * from this one), then each problem's own section (registry order), then the llm proposer's. A
 * module reads only its own section.
 *
 * THE KNOB TABLE. Every knob is one row of a table:
 *     {name, type, offset, default, min, max, mutation, step, choices, doc}
 * e.g. RT_KNOB_REAL(rt_policy, "engine.p_best", p_best, 0.5, 0, 1, RT_MUT_ADD, 0.15, "...").
 * The core's rows (engine, bandit, meta, llm) are in policy.c; a problem's rows are in its own
 * folder, with offsets into its own section structure, and reach the policy through its class
 * (rt_problem_class.knobs); policy.c gathers them all into one table (rt_policy_knobs). That table
 * alone drives the defaults (rt_policy_defaults), the JSON file format (rt_policy_parse,
 * rt_policy_print), range checks (rt_policy_validate) and the meta level's mutation
 * (rt_policy_mutate). To add a knob: add the field to its section's structure and one row to its
 * section's table; document it in docs/policy.md. Names are "section.knob"; the JSON file nests
 * them: {"engine": {"p_best": 0.5}}.
 *
 * Ownership: an rt_policy is a plain value (no pointers); copy it with '='.
 */
#ifndef RT_POLICY_H
#define RT_POLICY_H

#include <stddef.h>

#include "rng.h"
#include "util.h"

/* Problems' sections: each problem with knobs (rt_problem_class.knobs) keeps them in a structure
 * of its own, declared in its folder and stored in one slot of rt_policy.section, in registry
 * order among the problems that have knobs. A slot holds a structure of at most
 * RT_POLICY_SECTION_BYTES, so rt_policy stays a plain value; rt_policy_section gives a problem its
 * slot. */
#define RT_POLICY_SECTIONS 4
#define RT_POLICY_SECTION_BYTES 320

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
    double gain;     /* weight of an improvement's size in its reward (0: every one alike) */
    double work_exp; /* 0: the shares above are of the draws, 1: of the work (bandit.h) */
    int work_warm;   /* draws before an operator's own work per draw counts (bandit.h) */
} rt_bandit_policy;

/* How the meta level makes a new policy from this one (self-application: the incumbent's own
 * meta section mutates its successors). */
typedef struct rt_meta_policy {
    double step;     /* multiplies every knob's mutation step */
    double knobs;    /* expected number of knobs changed by one mutation */
    double op_mutate;  /* weight of the "mutate" operator for policies */
    double op_reset;   /* weight of the "reset" operator (one knob back to its default) */
    int race_size;     /* candidates one application of the meta operator makes and races */
    int race_seeds;    /* training seeds of the race's first round (multiplied by race_eta) */
    double race_eta;   /* halving rate: each round keeps 1/race_eta of the candidates on
                          race_eta times the seeds */
    double screen;     /* the race's winner goes on to the gate only if its mean paired
                          log-ratio against its parent on the training seeds exceeds this */
} rt_meta_policy;

typedef struct rt_policy {
    /* engine */
    double p_best;          /* a parent is its island's best elite with this probability */
    int migrate_every;      /* generations between migrations */
    double commit_interval; /* seconds between checkpoints */
    int stop_after_failures; /* failures of one cause in a row that end the run; 0: never */
    int stop_after_nothing_new; /* proposals in a row that made no new candidate (duplicates,
                                   operators that did not apply) that end the run; 0: never */
    /* noise-aware acceptance, for problems whose verifier is noisy (rt_problem_class.noisy) */
    int noise_samples;      /* re-evaluations of the incumbent that measure the noise floor;
                               0 turns noise-aware acceptance off */
    double noise_margin;    /* a child must beat the incumbent's mean by this many spreads */
    int noise_confirm;      /* fresh re-evaluations of a winner before it becomes incumbent */

    rt_bandit_policy bandit;
    rt_meta_policy meta;
    rt_llm_policy llm;
    /* the problems' sections (see above); read them through rt_policy_section */
    _Alignas(max_align_t) unsigned char section[RT_POLICY_SECTIONS][RT_POLICY_SECTION_BYTES];
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
    size_t offset;       /* offsetof(rt_policy, field); in a problem's own rows, the offset in
                            its section structure (policy.c turns it into one in rt_policy) */
    double def;          /* default (numbers, bools, enum index); STR: unused */
    double min, max;     /* inclusive range; STR: max is the field's size */
    int mutation;        /* enum rt_knob_mutation */
    double step;         /* mutation step, scaled by the mutating policy's meta.step */
    const char *choices; /* ENUM: "a|b|c"; STR: its default text; otherwise NULL */
    const char *doc;     /* one line: what it does */
} rt_knob;

/* Rows: RT_KNOB_INT(T, name, field, ...) is the row of `field` of structure type T. */
#define RT_KNOB(T, nm, ty, field, def, lo, hi, mut, step, choices, doc)                          \
    {nm, ty, offsetof(T, field), def, lo, hi, mut, step, choices, doc}
#define RT_KNOB_INT(T, nm, field, def, lo, hi, mut, step, doc)                                   \
    RT_KNOB(T, nm, RT_KNOB_INT, field, def, lo, hi, mut, step, NULL, doc)
#define RT_KNOB_LONG(T, nm, field, def, lo, hi, mut, step, doc)                                  \
    RT_KNOB(T, nm, RT_KNOB_LONG, field, def, lo, hi, mut, step, NULL, doc)
#define RT_KNOB_REAL(T, nm, field, def, lo, hi, mut, step, doc)                                  \
    RT_KNOB(T, nm, RT_KNOB_REAL, field, def, lo, hi, mut, step, NULL, doc)
#define RT_KNOB_BOOL(T, nm, field, def, mut, step, doc)                                          \
    RT_KNOB(T, nm, RT_KNOB_BOOL, field, def, 0, 1, mut, step, NULL, doc)
/* choices "a|b|c"; def is the index of the default */
#define RT_KNOB_ENUM(T, nm, field, def, choices, mut, step, doc)                                 \
    RT_KNOB(T, nm, RT_KNOB_ENUM, field, def, 0, 0, mut, step, choices, doc)
/* field is a char array; its default text is deftext */
#define RT_KNOB_STR(T, nm, field, deftext, doc)                                                  \
    RT_KNOB(T, nm, RT_KNOB_STR, field, 0, 0, (double)sizeof(((T *)0)->field), RT_MUT_NONE, 0,  \
            deftext, doc)

/* A problem's section of the policy (rt_problem_class.knobs): its rows, all named
 * "<problem>.knob" and in one run, with offsets into its structure of `size` bytes (at most
 * RT_POLICY_SECTION_BYTES). */
typedef struct rt_knob_section {
    const rt_knob *knobs;
    size_t nknobs;
    size_t size;
} rt_knob_section;

struct rt_problem_class;

/* The section of problem class cls in p: a pointer to its structure (the class's own type), or
 * NULL when the class has no knobs. */
const void *rt_policy_section(const rt_policy *p, const struct rt_problem_class *cls);
void *rt_policy_section_mut(rt_policy *p, const struct rt_problem_class *cls);

/* The whole table (the core's rows and every registered problem's, in the order of the file
 * format) and its size. */
const rt_knob *rt_policy_knobs(size_t *n);
/* A knob by its dotted name, or NULL. */
const rt_knob *rt_policy_knob_find(const char *name);
/* A numeric (INT/LONG/REAL/BOOL/ENUM) knob's value as a double; STR gives 0. */
double rt_policy_get(const rt_policy *p, const rt_knob *k);
/* Sets a numeric knob, clamped to its range and rounded for integer types. */
void rt_policy_set(rt_policy *p, const rt_knob *k, double v);

/* Fills p with the shipped defaults' head: the table's `def` column with every layer of the
 * built-in policy/default.json merged over it (the knobs admitted meta runs changed;
 * docs/recursion.md), whatever their scope. A run uses rt_policy_defaults_for. */
void rt_policy_defaults(rt_policy *p);
/* The shipped default for a run of `problem` whose instance has size `size` (its class's
 * scope_size; matmul: n*m*p) and field `field` (scope_field; matmul: "z" or "gf2"; NULL when
 * the problem has none): the table with only the layers of policy/default.json whose scope
 * holds it (a layer without a scope holds every run). rt_policy_defaults is the head, every
 * layer merged: what a meta run continues from. */
void rt_policy_defaults_for(rt_policy *p, const char *problem, long size, const char *field);
/* The same from a text in policy/default.json's format: a plain policy (one layer for every
 * run), or {"layers": [{"scope": {"problem": NAME, "max_size": N}, "policy": {...}}, ...]}
 * merged in order over the table; a scope may also name a "field" (one of the problem class's
 * scope_fields), and then holds only runs of that field. problem NULL: every layer (the head).
 * Every layer is checked whether it applies or not; RT_EUSAGE naming the bad key, RT_ETOOBIG over 64 KiB. On failure
 * *p is unchanged. */
int rt_policy_defaults_text(rt_policy *p, const char *text, size_t len, const char *problem,
                            long size, const char *field, char *err, size_t errlen);
/* For tests: the shipped default becomes text (kept by the caller; NULL: the built-in file
 * again), checked as rt_policy_defaults_text does. Not thread-safe: call it while no run is
 * being made. */
int rt_policy_shipped_replace(const char *text, char *err, size_t errlen);
/* rt_policy_show over *base instead of the head (rt_policy_show_for). */
int rt_policy_show_over(const rt_policy *base, const char *text, size_t len, char **json,
                        rt_error *err);
/* *out = onto with every knob where p differs from `from` set to p's value (out may be any of
 * the three). A meta trial runs its candidate this way: the candidate's changes to the head
 * (from) over the shipped default of the trial's own instance (onto), which is what a run of
 * that instance would start from if those changes shipped as a layer without a scope. */
void rt_policy_rebase(rt_policy *out, const rt_policy *p, const rt_policy *from,
                      const rt_policy *onto);
/* Fills p with the table's `def` column alone (the hand-set root of the shipped default). */
void rt_policy_table_defaults(rt_policy *p);
/* The text of policy/default.json built into the program (or rt_policy_shipped_replace's). */
const char *rt_policy_shipped_text(void);

/* Reads a JSON policy file over *p (so call rt_policy_defaults first to merge over the
 * defaults). Accepts nested {"engine": {"p_best": 0.25}} and dotted {"engine.p_best": 0.25}
 * names. Unknown keys, wrong types and out-of-range values fail with RT_EUSAGE and a
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

/* The same over part of the table: with inside 1 only the knobs whose name begins with prefix
 * change, with inside 0 only the others (the meta level's levels split the table this way:
 * level 1 changes every knob but "meta.", level 2 only "meta."). Returns the knobs changed. */
int rt_policy_mutate_part(rt_policy *p, const rt_policy *meta, rt_rng *rng, const char *prefix,
                          int inside);

/* The weight of operator `op` of problem `problem` in p ("<problem>.op_<op>"), or def when the
 * policy has no such knob. */
double rt_policy_op_weight(const rt_policy *p, const char *problem, const char *op, double def);

/* A standard normal draw (Box-Muller) from rng. */
double rt_policy_gauss(rt_rng *rng);

#endif
