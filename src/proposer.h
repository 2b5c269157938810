/* proposer.h — what makes children: the interface every proposer implements.
 *
 * A proposer turns a parent into a child genome. `builtin` applies the problem's own operators;
 * `command` (and `llm`) write programs from a prompt that needs more than the parent's genome:
 * its text, its evaluation's metrics and artifacts, and a few inspiration programs from the
 * archive. The engine hands all of that over in an rt_propose_ctx. Adding a proposer is one file
 * in src/proposers/ plus one line in the registry in proposer.c.
 *
 * propose() is called from worker threads, one call per island at a time: it may read its state
 * but must not change it without its own locking. Under job slots (docs/scheduling.md) the
 * engine's own hooks (feedback, account, spent) run while other islands' propose() calls are
 * under way, so a proposer with both locks its state (as llm.c does).
 *
 * Ownership: everything in the context (parent, inspirations, their texts) is borrowed for the
 * duration of the call and not modified; the child belongs to the caller.
 */
#ifndef RT_PROPOSER_H
#define RT_PROPOSER_H

#include "problem.h"

typedef struct rt_proposal {
    int op_index;       /* in: the operator the engine's bandit chose (index into the
                         * problem's operators); a proposer that makes children another way
                         * may ignore it */
    void *child;        /* NULL when the proposer could not make one */
    const char *op;     /* name of what made it (static string) */
    long long work;     /* problem-specific units of work done (matmul: flips) */
    char reason[256];   /* when child is NULL: why, one stable line that counts as the failure's
                         * cause (stored as a `rejected` event; may be empty) */
    char detail[256];   /* when child is NULL: what varies and helps to fix it (the end of a
                         * command's stderr); may be empty */
    long long tag;      /* non-zero: the engine reports what became of it through feedback() */
} rt_proposal;

/* What became of a tagged proposal, told to the proposer that made it. */
typedef struct rt_proposal_outcome {
    int made;           /* a child was made (else the rest is zero) */
    int duplicate;      /* dropped as already seen */
    int valid;          /* verified */
    int admitted;       /* entered the archive */
    rt_score parent;    /* the parent's verified score */
    rt_score verified;  /* the child's, valid only */
    const char *reason; /* why it failed (evaluation or verification), or NULL */
} rt_proposal_outcome;

typedef struct rt_db rt_db;

/* One archived candidate as a proposer sees it. text, metrics and artifacts are filled only for
 * proposers that ask for context (rt_proposer_class.context); otherwise NULL. */
typedef struct rt_candidate_view {
    const void *genome;
    const char *hash;      /* 64 hex digits */
    rt_score score;        /* verified */
    const char *text;      /* canonical text (NUL-terminated), len bytes */
    size_t len;
    const char *metrics;   /* JSON object text from the problem's evaluation, or NULL */
    const char *artifacts; /* JSON object text (e.g. stderr tails, verifier reasons), or NULL */
} rt_candidate_view;

/* What a proposer knows when it makes one child. */
typedef struct rt_propose_ctx {
    rt_candidate_view parent;
    const rt_candidate_view *inspirations; /* other elites: the best of the run first, then
                                              others chosen at random; may be empty */
    size_t ninspirations;
    int island;
    long long generation;
    const char *ledger; /* the run's recent experiments, a table (src/recent.h), or NULL; for
                           proposers that ask for context. Never the stored metrics: only what
                           the problem shows (research: never its test metric) */
} rt_propose_ctx;

typedef struct rt_proposer_class {
    const char *name;
    /* How many inspiration programs it wants (0: none), and whether it needs the texts,
     * metrics and artifacts of the context filled (costs an encode per view). */
    int inspirations;
    int context;
    int (*create)(void **state, const rt_problem *problem, char *err, size_t errlen);
    void (*destroy)(void *state);
    /* Makes a child of ctx->parent; returns 0 (out->child may still be NULL if nothing applied,
     * with out->reason saying why) or a negative code on a failure that should stop the run. */
    int (*propose)(void *state, const rt_problem *problem, const rt_propose_ctx *ctx,
                   rt_rng *rng, rt_proposal *out);

    /* ---- optional hooks (NULL when unused); all but propose run on the engine's thread ---- */

    /* Reads the proposer's own options (rt_run_options.proposer_keys/values, e.g. "url") and
     * its policy section, once after create, on new runs and resumes alike. stop is the run's
     * stop flag, for waits inside propose(). RT_EUSAGE with a message naming the bad option. */
    int (*configure)(void *state, const char *const *keys, const char *const *values, size_t n,
                     const rt_policy *policy, const volatile int *stop, char *err,
                     size_t errlen);
    /* What became of a proposal with a non-zero tag, in island order after it was judged. */
    void (*feedback)(void *state, long long tag, const rt_proposal_outcome *outcome);
    /* Writes the proposer's accounting into the store's open transaction, at each checkpoint. */
    int (*account)(void *state, rt_db *db);
    /* Returns 1 when the proposer can make no more children (a budget is spent); why says so. */
    int (*spent)(void *state, char *why, size_t len);
} rt_proposer_class;

const rt_proposer_class *rt_proposer_find(const char *name);

/* An instance: class plus state, held by the run. */
typedef struct rt_proposer {
    const rt_proposer_class *cls; /* NULL until rt_proposer_init succeeds */
    void *state;
} rt_proposer;

/* ---- calling a proposer --------------------------------------------------------------------
 * The engine calls every proposer method through these wrappers, never through p->cls (as
 * problem.h's wrappers for problems); optional hooks have their default here. */

/* Finds the proposer called name, creates it for problem and, when it has a configure hook,
 * configures it with its options (keys/values, n of them), the run's policy and stop flag.
 * Returns 0, or RT_EUSAGE ("unknown proposer 'NAME'", "proposer NAME takes no options (KEY
 * given)") or what create/configure return, with err filled; p is then empty. */
int rt_proposer_init(rt_proposer *p, const char *name, const rt_problem *problem,
                     const char *const *keys, const char *const *values, size_t n,
                     const rt_policy *policy, const volatile int *stop, char *err,
                     size_t errlen);
/* Destroys the proposer's state; an empty p is a no-op. */
void rt_proposer_free(rt_proposer *p);

const char *rt_proposer_name(const rt_proposer *p);
/* How many inspirations it wants, and whether it needs the views' texts (the class's fields). */
int rt_proposer_inspirations(const rt_proposer *p);
int rt_proposer_wants_context(const rt_proposer *p);

/* propose(): from worker threads, as the class says. */
int rt_proposer_propose(const rt_proposer *p, const rt_problem *problem,
                        const rt_propose_ctx *ctx, rt_rng *rng, rt_proposal *out);
/* feedback(); a no-op without the hook. */
void rt_proposer_feedback(const rt_proposer *p, long long tag, const rt_proposal_outcome *outcome);
/* account(); 0 without the hook. */
int rt_proposer_account(const rt_proposer *p, rt_db *db);
/* spent(); 0 (not spent) without the hook. */
int rt_proposer_spent(const rt_proposer *p, char *why, size_t len);

extern const rt_proposer_class rt_proposer_builtin;
extern const rt_proposer_class rt_proposer_command;
extern const rt_proposer_class rt_proposer_llm;

#endif
