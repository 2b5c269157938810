/* ratchet.h — the public API of ratchet, a library for verified recursive self-improvement.
 *
 * A *problem* is a space of candidates (for example matrix multiplication schemes) with a proxy
 * score for the search and an independent verifier. A *run* searches a problem with an
 * evolutionary loop (islands of MAP-Elites grids fed by proposers) and records every candidate in
 * a *store*, one SQLite file, that survives a crash and can be resumed. Nothing enters a run's
 * archive until the problem's verifier has accepted its stored text.
 *
 * Conventions:
 * - Functions return int: 0 on success, a negative RT_E* code on failure.
 * - Handles are opaque; each has a create/destroy pair and destroy(NULL) is a no-op.
 * - Functions that fail before a handle exists write a one-line message to an rt_error.
 *   Handles keep their last error message (rt_run_errmsg, rt_store_errmsg).
 * - Strings returned through `char **` are owned by the caller and released with free().
 *   `const char *` results are owned by the handle and live as long as it does.
 */
#ifndef RATCHET_H
#define RATCHET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RT_VERSION "0.1.0"

enum {
    RT_OK = 0,
    RT_EUSAGE = -1,   /* bad argument or malformed input */
    RT_EINVALID = -2, /* input was well formed but did not verify */
    RT_ENOMEM = -3,
    RT_EIO = -4,      /* a file could not be read or written */
    RT_ESTORE = -5,   /* a store is corrupt, foreign, or of another problem */
    RT_EFULL = -6,    /* the disk (or file-size limit) is full */
    RT_ETOOBIG = -7,  /* input over a documented cap */
    RT_EBUSY = -8,    /* another process holds the store */
    RT_EINTERNAL = -9, /* a bug in ratchet */
    RT_EFAILED = -10  /* a run stopped because its proposals or evaluations kept failing the same
                         way (engine.stop_after_failures); the message names the cause */
};

typedef struct rt_error {
    int code;
    char msg[512];
} rt_error;

/* ---- the sandbox's jail ------------------------------------------------------------------ */

/* Evaluators and verifiers run candidates through $RATCHET_JAIL (docs/sandbox.md, "The jail"):
 * rt_jail_set_helper names the program that answers to that name inside every sandbox (the
 * ratchet tool; NULL offers none) and returns 0, or RT_EUSAGE when path is not an executable
 * file. rt_jail_main is the client that program runs when called as ratchet-jail (or as
 * `ratchet jail`): argv as in `ratchet jail --help`; returns the exit status to end with. */
int rt_jail_set_helper(const char *path);
int rt_jail_main(int argc, char **argv);

/* ---- problems ---------------------------------------------------------------------------- */

typedef struct rt_problem rt_problem;

/* Number of built-in problems and their names and one-line summaries (i < rt_problem_count()). */
size_t rt_problem_count(void);
const char *rt_problem_name_at(size_t i);
const char *rt_problem_summary_at(size_t i);
/* Help text for a problem's parameters (one "  --key VALUE  text" line each), or NULL. */
const char *rt_problem_params_help(const char *name);

/* 1 when problem name takes the parameter key (for_verify: and verifying a candidate reads it,
 * as `ratchet verify` does; search settings such as matmul's --walk are left out), else 0. */
int rt_problem_has_param(const char *name, const char *key, int for_verify);
/* The help lines of the parameters verifying a candidate reads, or NULL for an unknown name. */
const char *rt_problem_verify_params_help(const char *name);

/* Parameters given again for a resumed run, against the run's stored canonical parameter
 * string params: applies the n given key/value pairs over the stored ones and compares each
 * given key's canonical value with its stored one. *differ receives the index of the first key
 * whose value differs (-1 when none does), was and now (len bytes each) its stored and given
 * canonical values ("" when the key is absent from one). Returns 0, RT_EUSAGE (err names the
 * key) for an unknown key or a bad value, RT_ESTORE when params cannot be read. */
int rt_problem_params_compare(const char *name, const char *params, const char *const *keys,
                              const char *const *values, size_t n, int *differ, char *was,
                              char *now, size_t len, rt_error *err);

/* Creates a problem instance. params is a list of nparams key/value pairs such as
 * {"shape","3x3x3"},{"field","gf2"}; unknown keys and bad values fail with RT_EUSAGE. */
int rt_problem_open(rt_problem **out, const char *name, const char *const *keys,
                    const char *const *values, size_t nparams, rt_error *err);
void rt_problem_close(rt_problem *problem);
const char *rt_problem_name(const rt_problem *problem);
/* Canonical parameter string, e.g. "shape=3x3x3 field=gf2". */
const char *rt_problem_params(const rt_problem *problem);

/* The outcome of an independent verification. */
typedef struct rt_verdict {
    int valid;             /* 1: verified; 0: checked and failed */
    double score;          /* verified score, higher is better (valid only) */
    double score2;         /* verified tie-break, higher is better (valid only) */
    double metric;         /* the problem's natural figure (for matmul: the rank) */
    char metric_name[32];  /* its name, e.g. "rank" */
    char summary[256];     /* one line: what was checked */
    char reason[512];      /* one line: why it failed (invalid only) */
} rt_verdict;

/* Verifies a candidate given as text in any format the problem reads (for matmul: .exp or JSON).
 * Returns 0 when the text was checked (then out->valid says the verdict), RT_EUSAGE when the text
 * is malformed (err says where), RT_ETOOBIG over the size caps. */
int rt_problem_verify_text(const rt_problem *problem, const char *text, size_t len,
                           rt_verdict *out, rt_error *err);

/* Converts candidate text (any format the problem reads) to the named output format
 * ("exp" or "json" for matmul). *out is caller-owned. */
int rt_problem_convert(const rt_problem *problem, const char *text, size_t len,
                       const char *format, char **out, rt_error *err);

/* ---- binpack: instance files and evaluation (docs/coevolution.md) ------------------------ */

/* Writes count generated instances of family "or" (sizes uniform in 20..100, capacity 150) or
 * "weibull" (Weibull scale 45 shape 3, rounded, clipped to 1..100, capacity 100), items items
 * each, from seed, in FunSearch's JSON format into *json (caller frees). RT_EUSAGE naming the
 * bad value. */
int rt_binpack_generate(const char *family, int items, int count, uint64_t seed, char **json,
                        rt_error *err);

typedef struct rt_binpack_row {
    char name[64];
    long long items, bins, l1;
    double excess; /* percent of l1 */
} rt_binpack_row;

/* Packs every instance of the FunSearch-style JSON file instances_path with the priority
 * expression solver (its text, or "bestfit" / "firstfit"), through the verifier's code path:
 * each packing is checked (every item once, no bin over capacity) and counted in integers.
 * *rows (caller frees) gets one row per instance plus a last row named "(all)" summing them.
 * When packing is not NULL, *packing (caller frees) gets a JSON object mapping each instance to
 * its bins as lists of item indices (0-based, in arrival order). RT_EUSAGE naming the bad
 * input (the expression, the file and key), RT_EIO, RT_ENOMEM. */
int rt_binpack_evaluate(const char *solver, size_t len, const char *instances_path,
                        rt_binpack_row **rows, size_t *nrows, char **packing, rt_error *err);

/* The co-evolution of solvers and posers (`ratchet coevolve binpack`, docs/coevolution.md). */
typedef struct rt_coevolve_options {
    uint64_t seed;          /* new runs */
    double seconds;         /* this session's budget, > 0 */
    double epoch_seconds;   /* solver search per epoch (default 2) */
    int solvers;            /* solver population, 2..64 (default 16) */
    int posers;             /* poser population, 2..32 (default 8) */
    int curriculum;         /* the best posers whose instances the solvers train on (default 6) */
    int hall;               /* hall of fame, 1..16 (default 8) */
    /* one line per epoch (what the poser posed, how the solvers did); may be NULL */
    void (*report)(const char *line, void *user);
    void *report_user;
    const volatile int *stop; /* set (from a signal handler) to stop at the next step; or NULL */
} rt_coevolve_options;

void rt_coevolve_options_init(rt_coevolve_options *options);

/* Runs (resume = 0: creates the store, RT_EUSAGE if it exists; 1: continues it) the
 * co-evolution for options->seconds. On success *generalist (caller frees) is the canonical
 * text of the solver population's best on its last curriculum. */
int rt_binpack_coevolve(const char *store_path, int resume, const rt_coevolve_options *options,
                        char **generalist, rt_error *err);

/* ---- runs -------------------------------------------------------------------------------- */

typedef struct rt_run rt_run;

typedef struct rt_progress {
    double elapsed;           /* seconds, over all sessions of the run */
    long long evaluations;    /* candidates proposed, over all sessions */
    long long evaluated;      /* of those, the children scored (not failed nor duplicates) */
    long long admitted;       /* verified and admitted to the archive */
    long long work;           /* the problem's units of work in this session (matmul: flips) */
    double evals_per_second;  /* in this session */
    int has_best;
    double best_metric;       /* the problem's figure for the best verified candidate */
    const char *metric_name;
} rt_progress;

typedef void (*rt_progress_fn)(const rt_progress *progress, void *user);

typedef struct rt_run_options {
    uint64_t seed;          /* random seed (new runs) */
    int islands;            /* number of islands (new runs); default 4 */
    int threads;            /* worker threads; the result does not depend on it (but see
                             * steady) */
    int steady;             /* in-process work (matmul) on job slots instead of generations: a
                             * free thread takes the next island's proposal at once instead of
                             * waiting for the generation's slowest, so long runs keep every
                             * thread busy; the run then follows the order in which proposals
                             * finish, so with threads > 1 a seed no longer gives one run. For
                             * this session only; 0 here, `ratchet run`'s default is 1 unless
                             * --reproducible or under mpirun (docs/scheduling.md) */
    double seconds;         /* budget for this session in seconds; 0 = none */
    long long evaluations;  /* budget for this session in evaluations; 0 = none */
    long long work;         /* budget for this session in the problem's units of work (matmul:
                             * flips), checked between generations; 0 = none */
    int has_target;         /* stop once the best verified metric reaches target */
    double target;
    rt_progress_fn progress; /* called about every progress_interval seconds, and at the end */
    void *progress_user;
    double progress_interval;
    int trust_proxy;        /* ABLATION ONLY: admit children on the proxy's word alone, without
                               the verifier's (which still runs and is recorded). Recorded in the
                               store as a "trust-proxy" event per session; `status` and `audit`
                               report it. For this session only; a resume without it is gated. */
    const char *proposer;   /* what makes children (new runs): "builtin" (default when NULL),
                               "command", ...; the store remembers it for resumes */
    /* The proposer's own options as key/value pairs (llm: "url", "model", "key-env", ...; see
     * docs/llm.md), borrowed for the call. They are stored with the run (no option holds a
     * secret: the API key's option is the *name* of the variable that holds it), and a resume
     * reuses them: options given to rt_run_resume replace the stored ones of the same key (all
     * of them, for a key given several times, as "price") and are stored in their place. */
    const char *const *proposer_keys;
    const char *const *proposer_values;
    size_t nproposer_params;
    const char *policy;      /* new runs: a policy file's JSON text, merged over the defaults
                              * (NULL: the defaults); stored with the run, and a resume uses the
                              * stored one. See docs/policy.md. */
} rt_run_options;

void rt_run_options_init(rt_run_options *options);

/* Creates a new run in a new store file (RT_EUSAGE if the path exists). The problem is copied
 * (its name and parameters), not retained. */
int rt_run_create(rt_run **out, const char *store_path, const rt_problem *problem,
                  const rt_run_options *options, rt_error *err);
/* Reopens a run from its store. If problem is not NULL, it must match the store's problem and
 * parameters (RT_ESTORE otherwise). Only the budget, threads, steady, target, progress,
 * trust_proxy and proposer option fields of options are used (the proposer options over the
 * stored ones, see above); the seed, islands, proposer and policy are the store's. To refuse
 * parameters given again that differ from the stored ones, compare them first
 * (rt_store_run_info, rt_problem_params_compare), as `ratchet run --resume` does. */
int rt_run_resume(rt_run **out, const char *store_path, const rt_problem *problem,
                  const rt_run_options *options, rt_error *err);
/* Runs the loop until a budget or the target is reached, or rt_run_stop() is called (from a
 * signal handler, for instance). Everything admitted is committed before it returns. */
int rt_run_execute(rt_run *run);
/* Asks a running rt_run_execute to stop at the next step; safe from a signal handler. */
void rt_run_stop(rt_run *run);
const char *rt_run_errmsg(const rt_run *run);
void rt_run_close(rt_run *run);

/* A run of the policy problem (`ratchet meta`) does its work inside proposals and verifications
 * (races and gates of whole trial runs), which rt_run_stop and the run's seconds reach only
 * between steps. rt_meta_deadline(s) cuts every trial s seconds from now (0: never), and
 * rt_meta_stop() at once (safe from a signal handler): the trials in flight stop, a race cut short
 * makes no child, and a gate cut short rejects its child as "not judged" (docs/recursion.md). */
void rt_meta_deadline(double seconds);
void rt_meta_stop(void);
/* The level-0 trial runs this process has started so far (at level 2, those of its level-1
 * runs): what a progress line can count while a meta run works inside one long step. */
long long rt_meta_trials(void);

/* ---- policies ---------------------------------------------------------------------------- */

/* The canonical JSON of a policy: text (a policy file's JSON, len bytes) merged over the
 * defaults, or the defaults when text is NULL. *json is caller-owned. RT_EUSAGE with a message
 * naming the bad key for unknown keys, wrong types and out-of-range values; RT_ETOOBIG over
 * 64 KiB. */
int rt_policy_show(const char *text, size_t len, char **json, rt_error *err);
/* The same over the default that a run of this problem instance starts from (the layers of the
 * shipped default whose scope holds it; rt_policy_show's are all of them). */
int rt_policy_show_for(const rt_problem *problem, const char *text, size_t len, char **json,
                       rt_error *err);

/* ---- stores (read-only views) ------------------------------------------------------------ */

typedef struct rt_store rt_store;

typedef struct rt_island_summary {
    int island;
    long long admitted;     /* candidates admitted on this island */
    int cells;              /* occupied MAP-Elites cells */
    int has_best;
    double best_metric;
} rt_island_summary;

typedef struct rt_summary {
    char problem[64];
    char params[2048];
    uint64_t seed;
    int sessions;              /* how many times the run was started or resumed */
    double elapsed;            /* seconds over all sessions */
    long long evaluations;     /* candidates proposed (the count --evaluations budgets); the
                                  same as proposals, kept for older callers */
    long long proposals;       /* children asked of the proposer */
    long long evaluated;       /* children scored (an evaluator ran, or the problem's proxy):
                                  stored rows but the seed, plus those the proxy dropped */
    long long failed;          /* proposals that made no child */
    long long duplicates;      /* children dropped as already seen */
    long long stored;          /* candidate rows in the store */
    long long valid;           /* rows that verified */
    long long invalid;         /* rows that failed verification */
    long long admitted;        /* rows admitted to the archive */
    int has_best;
    double best_metric;
    char metric_name[32];
    char best_hash[65];
    char best_summary[256];
    int nislands;
    rt_island_summary islands[64];
} rt_summary;

/* Opens a store read-only: nothing is ever written to it, so a store in a read-only folder or
 * mount can be read (RT_EIO, saying why, when its -wal holds transactions that SQLite cannot read
 * there). */
int rt_store_open(rt_store **out, const char *path, rt_error *err);
void rt_store_close(rt_store *store);
const char *rt_store_errmsg(const rt_store *store);
/* The counts, and the best candidate verified again for its metric's name and summary line,
 * except for problems whose verification reruns trials or programs (the policy problem, an
 * external evaluator): their summary says it was verified when admitted, and `ratchet audit`
 * repeats the check. */
int rt_store_summary(rt_store *store, rt_summary *out);
/* The same without verifying the best candidate again (best_summary and metric_name stay
 * empty): for callers that need the counts only, where a verification costs a whole gate of
 * trial runs (`ratchet meta`'s closing report). */
int rt_store_counts(rt_store *store, rt_summary *out);

/* What a run was made with (read from its configuration, without verifying anything). */
typedef struct rt_run_info {
    char problem[64];
    char params[2048];   /* the canonical parameter string */
    uint64_t seed;
    int islands;
    char proposer[32];
} rt_run_info;

int rt_store_run_info(rt_store *store, rt_run_info *out);
/* The proposer options stored with the run as a JSON array of [key, value] pairs (caller
 * frees *json; "[]" for a run without any, or one made before they were stored). */
int rt_store_proposer_options(rt_store *store, char **json);
/* The best verified candidate's canonical text (caller frees *text). RT_EUSAGE if none. */
int rt_store_best(rt_store *store, char **text);
/* Opens the problem the store's run was made for (caller closes it). */
int rt_store_problem(rt_store *store, rt_problem **out);

/* What a run's language model requests cost (the llm proposer; all zero for other runs). */
typedef struct rt_llm_model_spend {
    char model[128];
    long long requests, tokens_in, tokens_out, improved;
    double cost;
} rt_llm_model_spend;

typedef struct rt_llm_spend {
    long long requests;     /* requests made (each counted once, however many retries) */
    long long tokens_in, tokens_out;
    double cost;            /* from the prices given to the run, in the user's unit */
    long long retries;
    long long failed;       /* requests with no usable reply (timeouts, errors, no edit, ...) */
    long long improved;     /* children that verified better than their parent */
    double latency;         /* seconds summed over requests */
    int nmodels;
    rt_llm_model_spend models[16];
} rt_llm_spend;

int rt_store_llm_spend(rt_store *store, rt_llm_spend *out);

/* Drift: how far the proxy's claims were from the verifier's verdicts, over the candidates the
 * proxy passed (every stored row). A row *overclaims* when the verifier found it invalid
 * ("false pass") or gave it a lower score than the proxy claimed (the primary score, or on a tie
 * the tie-break score2); the gap is proxy minus verified primary score over the valid rows that
 * overclaim by their primary score. Buckets are tenths of the run's
 * generations (bucket k holds generations in [k*G/10, (k+1)*G/10) for G the last generation+1). */
typedef struct rt_drift_bucket {
    long long generation_from, generation_to; /* [from, to) */
    long long candidates;
    long long overclaims;
    long long false_passes;  /* proxy passed, verification failed */
    double mean_gap, max_gap;
} rt_drift_bucket;

typedef struct rt_drift {
    long long candidates;      /* rows: candidates the proxy passed */
    long long proxy_rejected;  /* children the proxy itself rejected (not stored) */
    long long overclaims;
    long long false_passes;
    long long score_overclaims; /* valid, but verified below the proxy's primary score */
    long long tie_overclaims;   /* valid, the primary score as claimed, below on score2 */
    double mean_gap, max_gap;   /* over score_overclaims; 0 when none */
    int nbuckets;
    rt_drift_bucket buckets[10];
    /* --trust-proxy */
    int trusted_sessions;       /* sessions run with --trust-proxy */
    long long trusted_admitted; /* rows admitted on the proxy alone */
    long long invalid_admitted; /* admitted rows that fail verification (0 in a gated run) */
    int has_claimed_best;       /* the best admitted row by the score it was admitted with */
    double claimed_best_proxy;  /* its proxy primary score */
    int claimed_best_valid;     /* and whether the verifier accepts it */
    char claimed_best_hash[65];
} rt_drift;

int rt_store_drift(rt_store *store, rt_drift *out);

/* The audit: re-checks a store from its file alone, as a fresh process would.
 * - SQLite's integrity check;
 * - every row: its text's SHA-256 against its hash; its `prev` against the link of the row
 *   before it and its `link` recomputed from its fields (an edited, deleted or reordered row
 *   breaks the chain); its parent among the earlier admitted rows;
 * - the checkpoint's row count and chain head against the last row (rows cut from the end);
 * - every admitted row: decoded from its stored text and re-encoded to the same text,
 *   re-verified (valid, with the stored verified score unless the problem is noisy) and
 *   re-scored by the proxy (the stored proxy score, unless noisy);
 * - every archive entry names an admitted row.
 * Returns 0 when the audit ran (then out->nfailures says whether it passed), a negative code
 * when it could not run (the store's error message says why). */
#define RT_AUDIT_MAX_FAILURES 16
typedef struct rt_audit {
    long long rows;         /* candidate rows read */
    long long links;        /* chain links recomputed and matched */
    long long admitted;     /* admitted rows */
    long long reverified;   /* admitted rows that re-verified */
    long long trusted;      /* rows admitted on the proxy alone */
    char head[65];          /* the chain's head link (record it elsewhere to pin the store) */
    long long nfailures;    /* all failures found */
    int nlisted;            /* failures[0..nlisted) */
    char failures[RT_AUDIT_MAX_FAILURES][256];
} rt_audit;

int rt_store_audit(rt_store *store, rt_audit *out);

/* Writes what an outsider needs to check the best verified candidate without ratchet into the
 * folder dir (created if missing; existing files of the same names are replaced). For matmul:
 * scheme.exp, check_scheme.c (a standalone checker in plain C) and README.txt saying how to
 * build and run it. RT_EUSAGE when the problem has no certificate or the store no best. */
int rt_store_certificate(rt_store *store, const char *dir);

/* The run's policy as canonical JSON (caller frees *json); the defaults for stores made before
 * policies were stored. */
int rt_store_policy(rt_store *store, char **json);
/* The operator bandit's state as JSON (caller frees *json): {"enabled":..,"arms":[{"op",
 * "prior","n","reward","cost","pulls","wins","p"}]}, p the probability of the next draw;
 * *json is NULL when the store has none. */
int rt_store_bandit(rt_store *store, char **json);
/* Why proposals and evaluations failed, by cause, as JSON (caller frees *json): {"cut":N,
 * "other":N,"causes":[{"cause","count","detail"}]}, causes by count, largest first; "cut" counts
 * the jobs stopped at the end of a session. *json is NULL when the store has none. */
int rt_store_failures(rt_store *store, char **json);

/* One stored candidate, for lineage reports. */
typedef struct rt_cand_info {
    long long id;         /* row id: order of discovery */
    long long generation;
    int island;
    double time;          /* seconds since the run began */
    double proxy;         /* what the search believed (its proxy score) */
    double metric;        /* verified figure */
    char hash[65];
    char parent[65];      /* parent's hash, "" for the seed */
    char op[32];          /* operator that made it */
} rt_cand_info;

/* Calls fn for every admitted candidate in the order they were found; a nonzero return from fn
 * stops the walk and is returned. */
int rt_store_admitted(rt_store *store, int (*fn)(const rt_cand_info *info, void *user),
                      void *user);
/* A candidate's stored text by row id (caller frees *text). */
int rt_store_candidate_text(rt_store *store, long long id, char **text);

/* ---- browsing a store (list, show, diff, lineage, report, watch) ---------------------------- */

/* One stored candidate row, every column but its text (rt_store_candidate_text gives that). */
typedef struct rt_candidate {
    long long id;          /* row id: order of discovery */
    long long generation;
    int island;
    double time;           /* seconds since the run began */
    double proxy, proxy2;  /* what the proxy claimed; NaN where none was stored */
    int valid;             /* the verifier's verdict */
    double score, score2;  /* verified score (higher is better); NaN when invalid */
    double metric;         /* the verified figure (matmul: rank); NaN when invalid */
    int admitted;          /* entered the archive */
    int trusted;           /* admitted on the proxy alone (--trust-proxy) */
    char hash[65];
    char parent[65];       /* parent's hash, "" for a seed */
    char op[32];           /* operator that made it ("seed" for the first) */
    char reason[512];      /* why verification failed, "" when it did not (cut to fit) */
} rt_candidate;

/* Which rows rt_store_candidates walks. Zero (or NULL) means every row, in id order. */
typedef struct rt_cand_filter {
    int admitted;          /* 1: admitted rows only; -1: rows not admitted only */
    int island;            /* island + 1 (0: every island) */
    const char *op;        /* operator name, NULL: any */
    const char *model;     /* llm model that wrote the child (llm runs), NULL: any */
    long long top;         /* > 0: the top N valid rows by verified score, best first */
    long long limit;       /* > 0: at most this many rows (the last ones, in id order) */
} rt_cand_filter;

/* Calls fn for each row the filter passes; a nonzero return from fn stops the walk and is
 * returned. */
int rt_store_candidates(rt_store *store, const rt_cand_filter *filter,
                        int (*fn)(const rt_candidate *c, void *user), void *user);
/* One row by id: RT_EUSAGE ("store S has no candidate ID") when there is none. */
int rt_store_candidate(rt_store *store, long long id, rt_candidate *out);
/* Metrics and artifacts stored with a candidate (JSON texts, caller frees; NULL when none). */
int rt_store_candidate_eval(rt_store *store, long long id, char **metrics, char **artifacts);
/* The ancestors of candidate id: (*ids)[0] is id, each next one its parent, the last the seed
 * (or the first ancestor whose parent is not in the store). Caller frees *ids. */
int rt_store_lineage(rt_store *store, long long id, long long **ids, size_t *n);
/* rt_store_summary without verifying the best (metric_name "score", best_summary ""): cheap
 * enough to call every second while a run writes the store. */
int rt_store_totals(rt_store *store, rt_summary *out);
/* 1 when a run holds the store open for writing now (its lock), 0 when none does, -1 when it
 * cannot be told (errno says why). */
int rt_store_running(const char *path);

/* A unified diff of text a (named la) against text b (named lb), three lines of context, into
 * a new string (caller frees); "" when they are equal. RT_ENOMEM, or RT_ETOOBIG for texts of
 * over 200000 lines. */
int rt_text_diff(const char *a, const char *b, const char *la, const char *lb, char **out);

/* What rt_store_report wrote. */
typedef struct rt_report_info {
    long long candidates;  /* rows read */
    size_t bytes;          /* size of the page */
    int lineage_nodes;     /* candidates in the lineage tree */
    int texts_omitted;     /* lineage texts left out to keep the page small */
} rt_report_info;

/* Writes one self-contained HTML page about the run in store (inline SVG, CSS and script, no
 * network reference) to path, atomically (a temporary renamed into place). RT_EIO naming path
 * when it cannot be written. info may be NULL. */
int rt_store_report(rt_store *store, const char *path, rt_report_info *info);

/* Re-checks a store: SQLite's integrity check, every hash against its text, and every admitted
 * candidate re-verified from its stored text. Returns 0 when all hold, RT_EINVALID with the first
 * failure in the store's error message otherwise. *checked receives the number re-verified. */
int rt_store_check(rt_store *store, long long *checked);

/* ---- research: experiments on a training program (docs/research.md) -------------------- */

/* One experiment of a `research` run, as its ledger shows it. */
typedef struct rt_experiment {
    long long id;             /* row id: order of the experiments */
    double time;              /* seconds since the run began */
    char hash[65];
    char parent[65];          /* "" for the baseline */
    const char *op;           /* what made it: "seed", "tweak", "command", "llm" */
    const char *status;       /* "keep", "discard" or "crash" */
    int trusted;              /* kept on its single figure alone (--trust-proxy) */
    int has_value;
    double value;             /* the metric of its own run */
    int has_verified;
    double verified;          /* the verifier's figure: a kept change's mean of its fresh
                                 re-runs, else the one re-run */
    int has_test;
    double test;              /* the test metric of its own run (never selected on) */
    double memory_gb, seconds;
    long long seed;           /* RATCHET_SEED of its own run */
    const char *reason;       /* why it was discarded or crashed; "" when kept */
    char description[200];    /* what changed from its parent */
    const char *metric;       /* the metrics' names ("" when there is no test metric) */
    const char *test_metric;
} rt_experiment;

/* Calls fn for every experiment of a research run's store in order; a nonzero return from fn
 * stops the walk and is returned. RT_EUSAGE when the store is not a research run. Everything in
 * *e is valid during the call only. */
int rt_research_each(rt_store *store, int (*fn)(const rt_experiment *e, void *user),
                     void *user);

/* Before a new research run with --git: dir must lie in a git repository whose index holds no
 * staged change to the editable files (edits: "A,B" relative to dir), and the branch
 * ratchet/TAG must not exist unless resume is set. base receives HEAD's commit (40 hex digits).
 * RT_EUSAGE with one line in err otherwise; the repository is not changed. */
int rt_research_git_prepare(const char *dir, const char *edits, const char *tag, int resume,
                            char base[41], rt_error *err);

typedef struct rt_research_git {
    char branch[160]; /* "ratchet/TAG" */
    char head[41];    /* its commit after the call */
    int commits;      /* commits this call made */
} rt_research_git;

/* Commits every kept change of a research run made with --git that is not on its branch yet,
 * one commit each in order (the baseline first), on ratchet/TAG of the repository holding the
 * run's folder, without touching the working tree, the index or the current branch. Returns 0
 * (out->commits 0 for a run without --git), or a code with one line in err (git failed, the
 * branch moved to a commit that is not one of the run's). */
int rt_research_git_sync(rt_store *store, rt_research_git *out, rt_error *err);

/* ---- configuration files ----------------------------------------------------------------- */

/* Called for each `key = value` entry of a configuration file, in file order; returns 0 to go on
 * or a negative RT_E* code to stop (it may fill the rt_error passed to the reader itself; if it
 * does not, the reader names the file, line and key). */
typedef int (*rt_config_fn)(const char *key, const char *value, int line, void *user);

/* Reads a configuration file: INI syntax with `key = value` lines, comments starting with ';'
 * or '#', and at most a [ratchet] section. Returns 0; RT_EIO when it cannot be read; RT_EUSAGE
 * (err: "FILE:LINE: what") for a malformed line, another section, a line over 199 bytes, a
 * continuation line or a NUL byte; RT_ETOOBIG over 64 KiB; or the callback's code. */
int rt_config_read(const char *path, rt_config_fn fn, void *user, rt_error *err);
/* The same on text in memory (name is used in messages). */
int rt_config_parse(const char *text, size_t len, const char *name, rt_config_fn fn, void *user,
                    rt_error *err);

/* ---- one run over MPI ranks (src/mpi/, docs/scaling.md) -------------------------------------
 * `mpirun -np N ratchet run ...`: rank 0 runs the engine and owns the store, the archive and the
 * gate; ranks 1..N-1 propose (and evaluate) children for it and send back their canonical text
 * and their claim, which rank 0 verifies as it would a local child. */

/* 1 when an MPI launcher (mpirun, srun) started this process in a job of more than one rank
 * (reads the environment only). */
int rt_mpi_launched(void);
/* Initialises MPI: *rank and *size of the job. RT_EUSAGE with a message when unavailable. */
int rt_mpi_start(int *rank, int *size, char *err, size_t errlen);
/* A worker rank's whole life (setup, jobs, quit); returns its exit status. */
int rt_mpi_worker(void);
/* Rank 0: sets up every worker for run and makes the run propose through them. timeout: the
 * seconds a job may take before its worker counts as lost; store: the store's path (hidden from
 * what the workers run). RT_EUSAGE with a message naming the rank that could not set up. */
int rt_mpi_attach(rt_run *run, const char *store, double timeout, char *err, size_t errlen);
/* Rank 0, after the run is closed: tells the workers to quit and finalises MPI, or aborts the
 * job with status (1 if 0) when a worker was lost. Returns status. */
int rt_mpi_finish(int status);
/* Jobs this rank sent out so far. */
long long rt_mpi_jobs(void);

#ifdef __cplusplus
}
#endif
#endif
