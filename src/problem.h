/* problem.h — what a problem is, for the engine: the interface every built-in problem implements.
 *
 * A problem class is a table of functions (rt_problem_class). Adding a problem is one new file in
 * src/problems/ defining such a table, plus one line in the registry in problem.c.
 *
 * Genomes are the problem's in-memory form of a candidate (for matmul a packed scheme); the engine
 * treats them as opaque pointers. The store keeps only canonical *text*, and everything the gate
 * decides is decided from that text: verify() never sees a genome.
 *
 * Ownership: genomes returned by seed/clone/decode belong to the caller and are released with
 * free_genome. Problem state belongs to the rt_problem that created it.
 */
#ifndef RT_PROBLEM_H
#define RT_PROBLEM_H

#include <stddef.h>

#include "param.h"
#include "policy.h"
#include "ratchet.h"
#include "rng.h"
#include "util.h"

/* Proxy or verified score: higher is better, compared primary first, then secondary. */
typedef struct rt_score {
    double primary;
    double secondary;
} rt_score;

/* A proxy primary score at or below this says the proxy itself rejects the candidate (for
 * matmul's sampled proxy: a random test product came out wrong). The engine drops such a child
 * before the gate; it is counted, not stored. */
#define RT_PROXY_REJECT (-1e300)

/* -1, 0 or 1 as a is worse than, equal to or better than b. */
int rt_score_cmp(rt_score a, rt_score b);

/* A mutation operator: changes the genome in place. Returns 0, or -1 when it could not apply
 * (the engine then drops the child). An operator may do a great deal of work internally (a walk
 * of many flips); the engine pays per-candidate costs only for its end point. */
typedef struct rt_operator {
    const char *name;
    double weight; /* default selection weight */
    int (*apply)(const void *state, void *genome, rt_rng *rng, long long *work);
} rt_operator;

#define RT_MAX_FEATURES 2

/* The outcome of an expensive evaluation (rt_problem_class.evaluate). */
typedef struct rt_evaluation {
    int failed;            /* 1: no usable score (crash, time-out, malformed output, ...) */
    char reason[400];      /* one line, when failed: the failure's cause */
    char detail[400];      /* when failed: the end of the evaluator's stderr (one line), or "" */
    const char *metrics;   /* JSON object text owned by the genome, or NULL */
    const char *artifacts; /* JSON object text owned by the genome (stderr tail, ...), or NULL;
                              stored with the candidate whether or not it failed */
} rt_evaluation;

typedef struct rt_problem_class {
    const char *name;
    const char *summary;
    const char *params_help; /* "  --key VALUE   text\n" lines */
    /* The parameter table (param.h) that create() applies: which keys exist, and which of them
     * verifying a candidate reads (rows without RT_PARAM_SEARCH). */
    const rt_param_table *param_table;

    /* Parses parameters into a new state; RT_EUSAGE with a message naming the bad key or value. */
    int (*create)(void **state, const char *const *keys, const char *const *values,
                  size_t nparams, char *err, size_t errlen);
    void (*destroy)(void *state);
    /* Canonical parameter string ("shape=3x3x3 field=gf2"), owned by state. */
    const char *(*params)(const void *state);

    void *(*seed)(const void *state);
    void *(*clone)(const void *state, const void *genome);
    void (*free_genome)(void *genome);

    /* Canonical text of a genome: equal genomes (as the problem defines equality) give equal
     * text, so its hash identifies the candidate. */
    int (*encode)(const void *state, const void *genome, rt_buf *out);
    /* Text in any accepted format back to a genome (for resuming). */
    int (*decode)(const void *state, const char *text, size_t len, void **genome, char *err,
                  size_t errlen);

    /* The proxy: what the search believes of a genome. */
    void (*score)(const void *state, const void *genome, rt_score *out);
    /* MAP-Elites descriptors: RT_MAX_FEATURES integer coordinates. */
    void (*features)(const void *state, const void *genome, int *coords);

    /* The independent check, from text alone. Returns 0 when checked (out->valid says how),
     * RT_EUSAGE/RT_ETOOBIG when the text is malformed. */
    int (*verify)(const void *state, const char *text, size_t len, rt_verdict *out, char *err,
                  size_t errlen);
    /* Converts text in any accepted format to the named format. */
    int (*convert)(const void *state, const char *text, size_t len, const char *format,
                   rt_buf *out, char *err, size_t errlen);

    const rt_operator *operators;
    size_t noperators;

    /* Optional: reads the problem's section of the run's policy (rt_policy_section; called once
     * the run's policy is known, before the first proposal). NULL when it has no knobs there.
     * Returns 0, or RT_EUSAGE with err naming the knob when the policy cannot serve this
     * instance (a length its rule makes non-positive, weights that sum to zero). */
    int (*configure)(void *state, const rt_policy *policy, char *err, size_t errlen);

    int metric_lower_is_better; /* direction of rt_verdict.metric (matmul: rank, so 1) */

    /* Optional: the operators for this instance (for example matmul's sampled proxy adds moves
     * that may break a scheme). NULL, or a NULL result: the class's table above. */
    const rt_operator *(*operators_for)(const void *state, size_t *n);
    /* Optional: why none of the operators can change anything in this instance (a program
     * without annotations), or NULL when they can. NULL: they always can. */
    const char *(*operators_idle)(const void *state);
    /* Optional: a factor on the policy's weight of operator op (its bandit prior) for this
     * instance, for instance a rule of matmul's shape. NULL: 1. */
    double (*op_scale)(const void *state, const char *op);
    /* Optional: the instance's size as the scopes of the shipped default's layers measure it
     * (policy/default.json; matmul: n*m*p). NULL: 0, which no scope holds. */
    long (*scope_size)(const void *state);
    /* Optional: the instance's field as a scope may name it (matmul: "z" or "gf2", the field
     * its results are verified over), and the names a scope may use, space-separated. NULL: a
     * scope that names a field never holds this problem's runs. */
    const char *(*scope_field)(const void *state);
    const char *scope_fields;
    /* 1: a run of this problem starts from the head of the shipped default (every layer,
     * rt_policy_defaults) whatever the scopes: the meta level, whose candidates are policies for
     * every problem and whose trials each take their own instance's scope (rt_meta_run_trial). */
    int defaults_head;
    /* Optional: the chance that a child of operator op is made from its island's best elite
     * whatever the engine's own selection drew (an operator that continues a long run from the
     * best, say). NULL or 0: the engine's selection alone. */
    double (*op_best_parent)(const void *state, const char *op);
    /* 1 when verify() is noisy (two calls on the same text may score differently): the engine
     * then uses noise-aware acceptance, and the gate and the audit compare validity only. */
    int noisy;
    /* Optional: writes a certificate for a verified candidate's text into the folder dir (which
     * exists): files an outsider can check without ratchet. NULL: the problem has none. */
    int (*certificate)(const void *state, const char *text, size_t len, const char *dir,
                       char *err, size_t errlen);
    /* ---- optional, for problems whose proxy is expensive (an external evaluator) ---- */

    /* Evaluates a genome once, from a worker thread, concurrently with other genomes (state is
     * shared: read-only or under the problem's own lock). Caches the result in the genome, so
     * that score() and features() afterwards only read it. Returns 0 and sets out->failed when
     * the evaluation failed (out->reason says why); the engine then stores the candidate as
     * invalid without verifying it. A negative return stops the run (out of memory).
     * When set, the engine also runs the gate's verify() on worker threads. NULL: score() is
     * cheap and everything runs on the engine's thread. */
    int (*evaluate)(const void *state, void *genome, rt_evaluation *out);
    /* The JSON texts a genome's evaluation left (metrics, artifacts), owned by the genome;
     * either may be NULL. For proposers that write programs (rt_candidate_view). */
    void (*annotations)(const void *state, const void *genome, const char **metrics,
                        const char **artifacts);
    /* Gives a genome decoded from the store (on resume) the metrics and artifacts stored with
     * it; takes ownership of both strings (either may be NULL). */
    void (*restore_annotations)(const void *state, void *genome, char *metrics,
                                char *artifacts);
    /* Text whose hash identifies a candidate for duplicate detection when that is coarser
     * than the canonical text (program: whitespace runs collapsed). NULL: the canonical text. */
    int (*dedupe_text)(const void *state, const char *text, size_t len, rt_buf *out);
    /* Optional: what proposers are shown of a genome's evaluation, when that is less than what
     * is stored (research: never the test metric). NULL: the annotations above. */
    void (*shown)(const void *state, const void *genome, const char **metrics,
                  const char **artifacts);
    /* Optional: the problem's own knobs, its section of the policy ("<name>.knob" rows with
     * offsets into its own structure; policy.h). NULL: the problem has no knobs. */
    const rt_knob_section *knobs;
    /* Optional: a picture of a candidate for the HTML report (src/report/), as a JSON object
     * of a kind the report draws ({"kind":"matmul",...}, {"kind":"circles",...}: docs/report.md)
     * written into out, from its text and the metrics and artifacts stored with it (either may
     * be NULL). Returns 0, or RT_EUSAGE when this candidate has no picture. NULL: none. */
    int (*picture)(const void *state, const char *text, size_t len, const char *metrics,
                   const char *artifacts, rt_buf *out);
    /* How far the proxy's primary score may lie above the verified one and still count as the
     * same figure (drift, rt_store_drift): relative, scaled by max(1, |verified|). 0 for exact
     * problems; a problem whose proxy and verifier compute the score in floating point by
     * different programs declares its round-off here. */
    double score_tolerance;
    /* How far a fresh verification may differ from the stored verified score and still
     * reproduce it (the audit): relative, scaled by max(1, |stored|), as this instance's
     * settings declare (the program problem's --reproduce-tolerance). NULL: exactly. */
    double (*reproduce_tolerance)(const void *state);
    /* Optional, with evaluate(): gives a genome decoded from text the evaluation another process
     * made of it (an MPI worker's claim, docs/scaling.md): failed, or its proxy score; takes
     * ownership of metrics and artifacts (either may be NULL). Afterwards score(), features()
     * and annotations() read the claim as if evaluate() had run here. */
    void (*claim)(const void *state, void *genome, int failed, const rt_score *score,
                  char *metrics, char *artifacts);
    /* ---- optional: a compact form of the problem's texts for the store (docs/store.md) ----
     * State-free, so that any reader of a store can use them from the problem's name alone.
     * pack_text appends a byte form of text to out, or returns RT_EUSAGE when it has none for
     * this text; unpack_text appends the text of such bytes to out, and must survive arbitrary
     * bytes (RT_EUSAGE). The store keeps the packed form only when unpacking it gives the text
     * back exactly, checks every text it reads against its hash, and needs a packed form to read
     * the same forever (a new layout is a new version inside the bytes). */
    int (*pack_text)(const char *text, size_t len, rt_buf *out);
    int (*unpack_text)(const unsigned char *in, size_t n, rt_buf *out);
    /* 1 when verify() costs whole runs (the policy problem's gate reruns its trials): readers
     * that only show a store (status, report, the end of a run) then do not verify its best
     * again, and leave that to `ratchet audit`. A problem that evaluates (evaluate() above)
     * counts as dear whatever this says: its verify runs a program. */
    int verify_dear;
    /* Optional: the name of verify()'s metric (rt_verdict.metric_name) without verifying
     * anything, for readers that do not verify. NULL: "metric". */
    const char *(*metric_name)(const void *state);
} rt_problem_class;

/* An instance: class plus state. The public rt_problem handle. */
struct rt_problem {
    const rt_problem_class *cls;
    void *state;
};

/* ---- calling a problem ---------------------------------------------------------------------
 * Everything outside this module calls a problem's methods through these wrappers (as SQLite
 * calls every VFS method through os.c), never through problem->cls: a reader finds every use of
 * a method by its wrapper's name, and optional methods have their default here, once. Each
 * wrapper has the contract of the method it calls (rt_problem_class above). */

void *rt_problem_seed(const rt_problem *problem);
void *rt_problem_clone(const rt_problem *problem, const void *genome);
/* free_genome; NULL is a no-op. */
void rt_problem_free_genome(const rt_problem *problem, void *genome);
int rt_problem_encode(const rt_problem *problem, const void *genome, rt_buf *out);
int rt_problem_decode(const rt_problem *problem, const char *text, size_t len, void **genome,
                      char *err, size_t errlen);
/* The proxy. */
void rt_problem_score(const rt_problem *problem, const void *genome, rt_score *out);
void rt_problem_features(const rt_problem *problem, const void *genome, int *coords);
/* The independent check, from text alone. Only the gate (gate.c) decides anything from it;
 * elsewhere it is reported (the public rt_problem_verify_text, status, audit, store checks). */
int rt_problem_verify(const rt_problem *problem, const char *text, size_t len, rt_verdict *out,
                      char *err, size_t errlen);
/* configure; 0 (a no-op) for a problem without knobs in the policy. */
int rt_problem_configure(const rt_problem *problem, const rt_policy *policy, char *err,
                         size_t errlen);
/* The instance's operators (operators_for, or the class's table). */
const rt_operator *rt_problem_operators(const rt_problem *problem, size_t *n);
/* The factor on the policy's weight of operator op for this instance (op_scale; 1 without). */
double rt_problem_op_scale(const rt_problem *problem, const char *op);
/* The instance's size for the shipped default's scopes (scope_size; 0 without). */
long rt_problem_scope_size(const rt_problem *problem);
/* The instance's field for the shipped default's scopes (scope_field; NULL without). */
const char *rt_problem_scope_field(const rt_problem *problem);
/* The shipped default policy for this instance: rt_policy_defaults_for with its class's name
 * and scope size (the head for a class with defaults_head). */
void rt_problem_defaults(const rt_problem *problem, rt_policy *p);
/* The chance that operator op's parent is its island's best (op_best_parent), in [0, 1]. */
double rt_problem_op_best_parent(const rt_problem *problem, const char *op);
/* Why the problem's operators can change nothing in this instance, or NULL (operators_idle). */
const char *rt_problem_operators_idle(const rt_problem *problem);
/* Applies one of those operators to genome (its apply()). */
int rt_problem_apply(const rt_problem *problem, const rt_operator *op, void *genome, rt_rng *rng,
                     long long *work);
/* evaluate; only for a problem that evaluates (rt_problem_evaluates). */
int rt_problem_evaluate(const rt_problem *problem, void *genome, rt_evaluation *out);
/* annotations; both NULL for a problem without them. */
void rt_problem_annotations(const rt_problem *problem, const void *genome, const char **metrics,
                            const char **artifacts);
/* shown: what a proposer may see of them (annotations for a problem without it). */
void rt_problem_shown(const rt_problem *problem, const void *genome, const char **metrics,
                      const char **artifacts);
/* restore_annotations (takes ownership of both strings); frees them for a problem without. */
void rt_problem_restore_annotations(const rt_problem *problem, void *genome, char *metrics,
                                    char *artifacts);
/* 1 when a worker's evaluation can be handed to this problem (it has no evaluate(), or it has
 * claim()): what an MPI run needs. */
int rt_problem_takes_claims(const rt_problem *problem);
/* claim; frees both strings for a problem without one. */
void rt_problem_claim(const rt_problem *problem, void *genome, int failed, const rt_score *score,
                      char *metrics, char *artifacts);
/* dedupe_text; only for a problem that has one (rt_problem_dedupes). */
int rt_problem_dedupe_text(const rt_problem *problem, const char *text, size_t len, rt_buf *out);
/* certificate; RT_EUSAGE naming the problem when it has none. */
int rt_problem_certificate(const rt_problem *problem, const char *text, size_t len,
                           const char *dir, char *err, size_t errlen);

/* picture; RT_EUSAGE for a problem without pictures. */
int rt_problem_picture(const rt_problem *problem, const char *text, size_t len,
                       const char *metrics, const char *artifacts, rt_buf *out);

/* What the class offers: 1 or 0. */
int rt_problem_is_noisy(const rt_problem *problem);        /* verify() is noisy */
int rt_problem_evaluates(const rt_problem *problem);       /* evaluate(): an expensive proxy */
int rt_problem_verify_dear(const rt_problem *problem);     /* verify_dear, or evaluates */
const char *rt_problem_metric_name(const rt_problem *problem); /* metric_name(), or "metric" */
int rt_problem_annotated(const rt_problem *problem);       /* restore_annotations() */
int rt_problem_dedupes(const rt_problem *problem);         /* dedupe_text() */
int rt_problem_lower_is_better(const rt_problem *problem); /* metric_lower_is_better */
/* Whether a fresh verification's score reproduces the stored one, within the instance's
 * reproduce_tolerance (exact where it has none). */
int rt_problem_reproduces(const rt_problem *problem, double stored, double fresh);
/* The score_tolerance of the class called name (0 for a name this ratchet does not know). */
double rt_problem_score_tolerance(const char *name);
/* pack_text and unpack_text of the class called name: RT_EUSAGE for a name this ratchet does not
 * know or a class without them. */
int rt_problem_pack_text(const char *name, const char *text, size_t len, rt_buf *out);
int rt_problem_unpack_text(const char *name, const unsigned char *in, size_t n, rt_buf *out);
/* 1 when the class called name has unpack_text (a store's packed texts can be read), else 0. */
int rt_problem_unpacks_text(const char *name);

const rt_problem_class *rt_problem_class_find(const char *name);
/* The i-th class of the registry, or NULL when i is past its end. */
const rt_problem_class *rt_problem_class_at(size_t i);

/* Creates an instance from the canonical parameter string stored in a run
 * ("shape=3x3x3 field=gf2"). */
int rt_problem_open_canonical(rt_problem **out, const char *name, const char *params,
                              char *err, size_t errlen);

/* A second instance of the same class with the same canonical parameters. */
int rt_problem_reopen(const rt_problem *src, rt_problem **out, char *err, size_t errlen);

extern const rt_problem_class rt_problem_matmul;
extern const rt_problem_class rt_problem_noisy;
extern const rt_problem_class rt_problem_program;
extern const rt_problem_class rt_problem_research; /* src/problems/research/ */
extern const rt_problem_class rt_problem_policy; /* the meta level: src/problems/policy.c */
extern const rt_problem_class rt_problem_binpack; /* src/problems/binpack/ */

#endif
