/* llm.h — talking to language models over any OpenAI-compatible chat completions server
 * (llama.cpp's llama-server, vLLM, Ollama, hosted APIs): the HTTP client with its retry policy,
 * the reply parser and edit extraction, prompts built from template files, and the bandit that
 * picks a model per request. The `llm` proposer (src/proposers/llm.c) puts them together.
 *
 * Everything that comes back from a server is untrusted: bodies are capped (RT_LLM_MAX_BODY),
 * JSON is parsed with a depth limit, and a reply that is malformed, truncated, empty or holds no
 * usable edit is an *outcome* to count, never an error that stops a run.
 *
 * Thread safety: rt_llm_global_init() once on the main thread before any request; after that
 * rt_llm_complete may run on many threads at once (each call uses its own connection). The
 * parsers and prompt builders are pure functions of their inputs. A bandit is not locked: its
 * owner serialises access.
 *
 * Ownership: strings handed in are borrowed; strings and structures handed out are the caller's,
 * released with the matching _free function.
 */
#ifndef RT_LLM_H
#define RT_LLM_H

#include <stddef.h>

#include "rng.h"
#include "util.h"

#define RT_LLM_MAX_BODY ((size_t)4 << 20)   /* bytes of one HTTP response body */
#define RT_LLM_MAX_PROMPT ((size_t)1 << 20) /* bytes of one built prompt */
#define RT_LLM_MAX_MODELS 16

/* ---- what became of one request ---------------------------------------------------------- */

typedef enum rt_llm_outcome {
    RT_LLM_OK = 0,        /* a reply with content */
    RT_LLM_CONNECT,       /* could not connect, or the connection broke, after every retry */
    RT_LLM_TIMEOUT,       /* the per-request deadline passed */
    RT_LLM_HTTP,          /* an HTTP error status after every retry (or a 4xx not retried) */
    RT_LLM_MALFORMED,     /* the body was not a chat completion */
    RT_LLM_TRUNCATED,     /* the model stopped at its token limit (finish_reason "length") */
    RT_LLM_EMPTY,         /* the message had no content */
    RT_LLM_TOOBIG,        /* the body passed RT_LLM_MAX_BODY */
    RT_LLM_NO_EDIT,       /* content, but no usable edit in it */
    RT_LLM_NOT_APPLIED,   /* an edit that the applier rejected */
    RT_LLM_BUDGET,        /* not sent: the token or money budget was spent */
    RT_LLM_OUTCOMES
} rt_llm_outcome;

/* Short lowercase name of an outcome ("ok", "timeout", ...) as stored. */
const char *rt_llm_outcome_name(int outcome);

/* ---- reply parsing ----------------------------------------------------------------------- */

typedef struct rt_llm_reply {
    char *content;          /* the first choice's message content, NUL-terminated (caller frees) */
    size_t len;
    long long tokens_in;    /* usage.prompt_tokens, -1 when the server did not say */
    long long tokens_out;   /* usage.completion_tokens, -1 when the server did not say */
    char finish[32];        /* finish_reason, "" when absent */
} rt_llm_reply;

/* Parses a chat completion response body (untrusted, not necessarily NUL-terminated).
 * Returns 0 with *out filled (content may be empty: check len), RT_EUSAGE when the body is not a
 * chat completion (err says what is missing; an "error" object's message is quoted), RT_ETOOBIG
 * over RT_LLM_MAX_BODY, RT_ENOMEM. On failure *out holds nothing to free. */
int rt_llm_parse_reply(const char *body, size_t len, rt_llm_reply *out, char *err, size_t errlen);
void rt_llm_reply_free(rt_llm_reply *reply);

/* The two ways a model may answer. */
typedef enum rt_llm_mode { RT_LLM_DIFF = 0, RT_LLM_FULL = 1 } rt_llm_mode;

/* Finds the edit in a reply's content.
 * RT_LLM_DIFF: the SEARCH/REPLACE blocks (a line `<<<<<<< SEARCH`, old text, a line `=======`,
 *   new text, a line `>>>>>>> REPLACE`); *start and *span cover from the first block's opening line to
 *   the end of the last block's closing line, so that prose and code fences around them are
 *   dropped. Every block must be complete and its SEARCH text non-empty.
 * RT_LLM_FULL: the body of the longest fenced code block (``` lines); a reply without one has
 *   no usable edit (prose is never taken for a program).
 * Returns 0, or RT_EINVALID with err saying why nothing usable was found (the caller counts the
 * reply as RT_LLM_NO_EDIT). *nblocks receives the number of blocks (DIFF) or 1 (FULL). */
int rt_llm_extract_edit(const char *content, size_t len, rt_llm_mode mode, size_t *start,
                        size_t *span, int *nblocks, char *err, size_t errlen);

/* ---- the client -------------------------------------------------------------------------- */

typedef struct rt_llm_client_opts {
    const char *url;          /* base URL, e.g. http://127.0.0.1:8080/v1 (no trailing path) */
    const char *api_key;      /* sent as a bearer token when not NULL; never logged */
    double timeout;           /* seconds for one attempt, connect to last byte */
    double connect_timeout;   /* seconds to connect */
    int max_retries;          /* further attempts after the first */
    double backoff_base;      /* seconds before the first retry (doubled each time, jittered) */
    double backoff_max;       /* cap on one wait, including a server's Retry-After */
    const volatile int *stop; /* when not NULL and set: the attempt under way is abandoned
                                 (within 0.1 s) and no further attempt or wait starts */
    int fail_fast_connect;    /* 1: a connection that cannot be made (refused, no such host) is
                                 not retried: the proposer sets it until a server has answered
                                 once, so a wrong URL fails at once, a server's restart later
                                 in the run is waited out */
} rt_llm_client_opts;

typedef struct rt_llm_request {
    const char *model;
    const char *system;       /* system message, may be NULL */
    const char *user;         /* user message */
    double temperature;
    long max_tokens;          /* 0: let the server decide */
} rt_llm_request;

typedef struct rt_llm_result {
    int outcome;              /* rt_llm_outcome */
    int http_status;          /* last HTTP status, 0 when none arrived */
    int attempts;             /* requests sent (1 + retries) */
    int retries;
    int rate_limited;         /* 429 answers seen */
    double waited;            /* seconds slept between attempts */
    double latency;           /* seconds from first send to the final answer */
    rt_llm_reply reply;       /* filled when outcome is OK, TRUNCATED or EMPTY */
    char error[256];          /* one line for any other outcome (never holds the key) */
} rt_llm_result;

/* Once per process, on the main thread, before any rt_llm_complete. Returns 0 or RT_EINTERNAL. */
int rt_llm_global_init(void);

/* Sends one chat completion request, retrying with exponential backoff and jitter (drawn from
 * rng) on connection failures, 5xx and 429 (waiting at least the server's Retry-After, capped at
 * backoff_max). A timeout is not retried. Always fills *out (release with rt_llm_result_free);
 * returns 0, or RT_ENOMEM / RT_EUSAGE (a request that cannot be built) — network and server
 * failures are outcomes, not return codes. */
int rt_llm_complete(const rt_llm_client_opts *opts, const rt_llm_request *req, rt_rng *rng,
                    rt_llm_result *out);
void rt_llm_result_free(rt_llm_result *res);

/* The wait before retry number `retry` (1-based): base * 2^(retry-1), capped at max, then drawn
 * uniformly from [half, all] of that ("equal jitter"); at least retry_after when > 0, and never
 * above max. Exposed for tests. */
double rt_llm_backoff(double base, double max, int retry, double retry_after, rt_rng *rng);

/* ---- prompts ----------------------------------------------------------------------------- */

/* One program shown to the model: the parent or an inspiration. */
typedef struct rt_llm_program {
    const char *text;
    size_t len;
    double score;           /* verified score */
    const char *metrics;    /* JSON object text or NULL */
    const char *artifacts;  /* JSON object text or plain text, or NULL */
} rt_llm_program;

/* One recent attempt and what became of it, for the history section. */
typedef struct rt_llm_attempt {
    const char *model;
    const char *mode;       /* "diff" or "full" */
    const char *outcome;    /* "improved 1.2 -> 1.3", "invalid: reason", "no edit", ... */
} rt_llm_attempt;

typedef struct rt_llm_context {
    rt_llm_program parent;
    const rt_llm_program *inspirations;
    size_t ninspirations;
    const rt_llm_attempt *history;
    size_t nhistory;
    const char *ledger;     /* the run's recent experiments (rt_propose_ctx.ledger), or NULL */
    const char *language;   /* for code fences, e.g. "c", "python"; may be "" */
} rt_llm_context;

/* At most this many bytes of the ledger go into a prompt (the engine bounds it below that). */
#define RT_LLM_LEDGER_CAP ((size_t)16 << 10)

/* A template set: the files of prompts/<name>/ read once. */
typedef struct rt_llm_templates {
    char *system;           /* system.md */
    char *user;             /* user.md: {{parent}} {{metrics}} {{artifacts}} {{inspirations}}
                               {{history}} {{ledger}} {{edit_format}} {{language}} {{score}} */
    char *diff;             /* diff.md: the SEARCH/REPLACE instructions ({{edit_format}}) */
    char *full;             /* full.md: the full rewrite instructions */
} rt_llm_templates;

/* Reads prompts/<name>/{system,user,diff,full}.md from dir. name may contain only letters,
 * digits, '-', '_' and '.' (not starting with '.'). Each file is checked for unknown
 * placeholders. Returns 0, RT_EUSAGE (err names file:line), RT_EIO (err names the file). */
int rt_llm_templates_load(rt_llm_templates *t, const char *dir, const char *name, char *err,
                          size_t errlen);
void rt_llm_templates_free(rt_llm_templates *t);

/* The shipped prompts folder, the first of: $RATCHET_PROMPTS; ./prompts when it holds the
 * default set; beside the running program, ../share/ratchet/prompts (an installed tree:
 * PREFIX/bin/ratchet) or ../prompts (the source tree: build/ratchet); the folder `make install`
 * used when this program was built (RT_PROMPTS_DIR); else "prompts". Writes into buf. */
void rt_llm_default_prompts_dir(char *buf, size_t len);

/* Builds the user message from the template for a context and mode into out (capped at
 * RT_LLM_MAX_PROMPT; each program and artifact is cut to artifact_cap bytes with a marker).
 * Returns 0, RT_ETOOBIG, RT_ENOMEM. */
int rt_llm_prompt_build(const rt_llm_templates *t, const rt_llm_context *ctx, rt_llm_mode mode,
                        size_t artifact_cap, rt_buf *out);

/* ---- the model bandit -------------------------------------------------------------------- */

/* UCB1 over models, value per unit of cost (tokens, or money when every model has a price): each model's index is
 *   (mean reward + c * sqrt(ln N / n)) / (mean tokens of the model / mean tokens of all)
 * where a request's reward is 1 when its child verified better than its parent and 0 otherwise.
 * Models not yet tried are tried first, in order. */
typedef struct rt_llm_bandit {
    int n;
    double c;
    long long pulls[RT_LLM_MAX_MODELS];
    double reward[RT_LLM_MAX_MODELS];
    double tokens[RT_LLM_MAX_MODELS];
} rt_llm_bandit;

void rt_llm_bandit_init(rt_llm_bandit *b, int nmodels, double c);
/* Picks a model for the next request and counts the pull. */
int rt_llm_bandit_pick(rt_llm_bandit *b);
/* Adds the reward (0..1) and the tokens of a finished request. */
void rt_llm_bandit_update(rt_llm_bandit *b, int model, double reward, double tokens);

#endif
