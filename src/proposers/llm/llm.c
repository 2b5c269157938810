/* llm.c — the `llm` proposer: asks language models behind an OpenAI-compatible chat completions
 * server for edits of the parent's text, applies them strictly, and accounts for every request.
 *
 * Per request: the bandit picks a model, the policy picks the mode (SEARCH/REPLACE or full
 * rewrite), the prompt is built from the template set, the client sends it (retrying as llm.h
 * says), and the reply's edit is applied to the parent's canonical text and decoded by the
 * problem. Whatever goes wrong with a request becomes an outcome on its row and a NULL child with
 * a reason: it never stops the run. The engine then tells the proposer (feedback) whether the
 * child verified better than its parent: that is the bandit's reward and the history shown in
 * later prompts. Rows reach the store at checkpoints (account) once their outcome is known.
 *
 * Concurrency: propose() runs on the engine's worker threads, several at once; at most
 * llm.max_in_flight requests are open (the others wait for a slot), while evaluations of other
 * islands' children proceed on their threads. Everything mutable sits under st->mu.
 *
 * Secrets: the API key is read from the environment variable the user names (key-env), kept in
 * memory only, wiped on destroy, and never written to the store, a message or a log.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proposers/llm/llm.h"
#include "problems/program/program_text.h"
#include "proposer.h"
#include "store/llm_requests.h"

#define LLM_MAX_HISTORY 32
#define LLM_OFFERED_INSPIRATIONS 8 /* asked of the engine; the policy says how many are shown */

typedef struct llm_model {
    char name[128];
    double price_in, price_out; /* per million tokens */
    int priced;
} llm_model;

typedef struct llm_attempt {
    char model[128];
    char mode[8];
    char outcome[320];
} llm_attempt;

typedef struct llm_pending {
    long long tag;
    int complete;     /* outcome known: ready for the store */
    rt_llm_row row;
    char error[256];
    char parent[65];
    char outcome[16];
    char mode[8];
    int model;
} llm_pending;

typedef struct llm_state {
    const rt_problem *problem;
    char url[1024];
    char *api_key;
    llm_model models[RT_LLM_MAX_MODELS];
    int nmodels;
    char prompts_dir[1024];
    char language[32];
    rt_llm_policy pol;
    rt_llm_templates tpl;
    long long budget_tokens;
    double budget_money;
    const volatile int *stop;

    pthread_mutex_t mu;
    pthread_cond_t slot_free;
    int in_flight;
    int answered; /* a server has answered a request of this run (HTTP status seen) */
    rt_llm_bandit bandit;
    long long next_tag;
    long long tokens_in, tokens_out, requests, retries;
    double cost;
    int spent;
    char spent_why[128];
    llm_attempt history[LLM_MAX_HISTORY];
    int nhistory, history_next;
    llm_pending *pending;
    size_t npending, cap_pending;
} llm_state;

static int llm_create(void **state, const rt_problem *problem, char *err, size_t errlen)
{
    llm_state *st = calloc(1, sizeof *st);
    if (!st)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    st->problem = problem;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->slot_free, NULL);
    rt_policy p;
    rt_policy_defaults(&p);
    st->pol = p.llm;
    *state = st;
    return 0;
}

static void llm_destroy(void *state)
{
    llm_state *st = state;
    if (!st)
        return;
    if (st->api_key) {
        explicit_bzero(st->api_key, strlen(st->api_key));
        free(st->api_key);
    }
    rt_llm_templates_free(&st->tpl);
    free(st->pending);
    pthread_cond_destroy(&st->slot_free);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* ---- options ----------------------------------------------------------------------------- */

static int add_models(llm_state *st, const char *list, char *err, size_t errlen)
{
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof st->models[0].name)
            return rt_fail(err, errlen, RT_EUSAGE, "model: bad name in '%.100s'", list);
        if (st->nmodels == RT_LLM_MAX_MODELS)
            return rt_fail(err, errlen, RT_EUSAGE, "model: at most %d models",
                           RT_LLM_MAX_MODELS);
        for (int m = 0; m < st->nmodels; m++)
            if (strlen(st->models[m].name) == n && memcmp(st->models[m].name, p, n) == 0)
                return rt_fail(err, errlen, RT_EUSAGE, "model: '%.*s' named twice", (int)n, p);
        llm_model *m = &st->models[st->nmodels++];
        memcpy(m->name, p, n);
        m->name[n] = '\0';
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* Reads the template set from --llm-prompts, or from the shipped prompts' folder (whose
 * failure says how to name another). */
static int load_templates(llm_state *st, const char *set, char *err, size_t errlen)
{
    int given = st->prompts_dir[0] != 0;
    if (!given)
        rt_llm_default_prompts_dir(st->prompts_dir, sizeof st->prompts_dir);
    int rc = rt_llm_templates_load(&st->tpl, st->prompts_dir, set, err, errlen);
    size_t at = strlen(err);
    if (rc == RT_EIO && !given && at + 1 < errlen)
        snprintf(err + at, errlen - at,
                 " (no prompts found: give --llm-prompts DIR or set RATCHET_PROMPTS)");
    return rc;
}

/* "MODEL=IN,OUT" or "IN,OUT" (every model): prices per million tokens. */
static int set_price(llm_state *st, const char *v, char *err, size_t errlen)
{
    const char *eq = strrchr(v, '=');
    const char *nums = eq ? eq + 1 : v;
    const char *comma = strchr(nums, ',');
    char a[64], b[64];
    if (!comma || (size_t)(comma - nums) >= sizeof a || strlen(comma + 1) >= sizeof b)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "price: '%.100s' is not MODEL=IN,OUT (per million tokens)", v);
    snprintf(a, sizeof a, "%.*s", (int)(comma - nums), nums);
    snprintf(b, sizeof b, "%s", comma + 1);
    double pin, pout;
    if (rt_parse_double(a, 0, 1e9, &pin) || rt_parse_double(b, 0, 1e9, &pout))
        return rt_fail(err, errlen, RT_EUSAGE, "price: bad number in '%.100s'", v);
    int hit = 0;
    for (int m = 0; m < st->nmodels; m++) {
        if (eq && (strlen(st->models[m].name) != (size_t)(eq - v) ||
                   memcmp(st->models[m].name, v, (size_t)(eq - v)) != 0))
            continue;
        st->models[m].price_in = pin;
        st->models[m].price_out = pout;
        st->models[m].priced = 1;
        hit = 1;
    }
    if (!hit)
        return rt_fail(err, errlen, RT_EUSAGE, "price: no model named '%.*s' (give --model first)",
                       (int)(eq ? eq - v : 0), v);
    return 0;
}

static int llm_configure(void *state, const char *const *keys, const char *const *values,
                         size_t n, const rt_policy *policy, const volatile int *stop, char *err,
                         size_t errlen)
{
    llm_state *st = state;
    st->pol = policy->llm;
    st->stop = stop;
    int rc = rt_llm_global_init();
    if (rc)
        return rt_fail(err, errlen, rc, "cannot initialise libcurl");
    const char *key_env = NULL, *template_set = st->pol.template_set;
    /* models first, so that prices may name them whatever the order of the options */
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i], "model") == 0 && (rc = add_models(st, values[i], err, errlen)))
            return rc;
    for (size_t i = 0; i < n; i++) {
        const char *k = keys[i], *v = values[i];
        long l;
        double d;
        if (strcmp(k, "model") == 0) {
            continue;
        } else if (strcmp(k, "url") == 0) {
            if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
                return rt_fail(err, errlen, RT_EUSAGE,
                               "llm-url: '%.200s' is not an http:// or https:// URL", v);
            if (strlen(v) >= sizeof st->url - 32)
                return rt_fail(err, errlen, RT_EUSAGE, "llm-url: too long");
            snprintf(st->url, sizeof st->url, "%s", v);
        } else if (strcmp(k, "key-env") == 0) {
            key_env = v;
        } else if (strcmp(k, "budget-tokens") == 0) {
            if (rt_parse_long(v, 0, 1L << 50, &l))
                return rt_fail(err, errlen, RT_EUSAGE, "llm-budget-tokens: bad count '%.50s'", v);
            st->budget_tokens = l;
        } else if (strcmp(k, "budget-money") == 0) {
            if (rt_parse_double(v, 0, 1e12, &d))
                return rt_fail(err, errlen, RT_EUSAGE, "llm-budget-money: bad amount '%.50s'", v);
            st->budget_money = d;
        } else if (strcmp(k, "price") == 0) {
            if ((rc = set_price(st, v, err, errlen)))
                return rc;
        } else if (strcmp(k, "prompts") == 0) {
            snprintf(st->prompts_dir, sizeof st->prompts_dir, "%s", v);
        } else if (strcmp(k, "template") == 0) {
            template_set = v;
        } else if (strcmp(k, "language") == 0) {
            if (strlen(v) >= sizeof st->language || strpbrk(v, "`\n\r"))
                return rt_fail(err, errlen, RT_EUSAGE, "llm-language: bad name '%.40s'", v);
            snprintf(st->language, sizeof st->language, "%s", v);
        } else if (strcmp(k, "timeout") == 0) {
            if (rt_parse_double(v, 0.001, 86400, &d))
                return rt_fail(err, errlen, RT_EUSAGE, "llm-timeout: bad seconds '%.50s'", v);
            st->pol.timeout = d;
        } else if (strcmp(k, "max-in-flight") == 0) {
            if (rt_parse_long(v, 1, 1024, &l))
                return rt_fail(err, errlen, RT_EUSAGE, "llm-max-in-flight: bad count '%.50s'", v);
            st->pol.max_in_flight = (int)l;
        } else if (strcmp(k, "p-full") == 0) {
            if (rt_parse_double(v, 0, 1, &d))
                return rt_fail(err, errlen, RT_EUSAGE, "llm-p-full: bad probability '%.50s'", v);
            st->pol.p_full = d;
        } else if (strcmp(k, "retries") == 0) {
            if (rt_parse_long(v, 0, 100, &l))
                return rt_fail(err, errlen, RT_EUSAGE, "llm-retries: bad count '%.50s'", v);
            st->pol.max_retries = (int)l;
        } else if (strcmp(k, "backoff") == 0) {
            if (rt_parse_double(v, 0, 3600, &d))
                return rt_fail(err, errlen, RT_EUSAGE, "llm-backoff: bad seconds '%.50s'", v);
            st->pol.backoff_base = d;
        } else {
            return rt_fail(err, errlen, RT_EUSAGE, "proposer llm has no option '%.60s'", k);
        }
    }
    if (!st->url[0])
        return rt_fail(err, errlen, RT_EUSAGE,
                       "proposer llm needs --llm-url (e.g. http://127.0.0.1:8080/v1)");
    if (!st->nmodels)
        return rt_fail(err, errlen, RT_EUSAGE, "proposer llm needs --model NAME");
    if (st->budget_money > 0)
        for (int m = 0; m < st->nmodels; m++)
            if (!st->models[m].priced)
                return rt_fail(err, errlen, RT_EUSAGE,
                               "llm-budget-money needs a price for model '%s' (--llm-price)",
                               st->models[m].name);
    if (key_env) {
        const char *key = getenv(key_env);
        if (!key || !*key) /* name the variable, never the value */
            return rt_fail(err, errlen, RT_EUSAGE,
                           "llm-key-env: environment variable %.100s is not set", key_env);
        st->api_key = strdup(key);
        if (!st->api_key)
            return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    }
    if ((rc = load_templates(st, template_set, err, errlen)))
        return rc;
    if (st->pol.max_in_flight < 1)
        st->pol.max_in_flight = 1;
    rt_llm_bandit_init(&st->bandit, st->nmodels, st->pol.bandit_c);
    return 0;
}

/* ---- prompts ----------------------------------------------------------------------------- */

/* Distance between two texts: 1 - Jaccard similarity of their sets of line hashes (a few hundred
 * lines are enough to tell programs apart). */
#define DIST_LINES 512

static size_t line_hashes(const char *t, size_t len, uint64_t *out)
{
    size_t n = 0, p = 0;
    while (p < len && n < DIST_LINES) {
        uint64_t h = 1469598103934665603ULL;
        while (p < len && t[p] != '\n')
            h = (h ^ (unsigned char)t[p++]) * 1099511628211ULL;
        p++;
        out[n++] = h;
    }
    return n;
}

static double text_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    static __thread uint64_t ha[DIST_LINES], hb[DIST_LINES];
    size_t na = line_hashes(a, alen, ha), nb = line_hashes(b, blen, hb);
    if (!na && !nb)
        return 0;
    size_t common = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (ha[i] == hb[j]) {
                common++;
                break;
            }
    size_t uni = na + nb - common;
    return uni ? 1.0 - (double)common / (double)uni : 0;
}

/* The inspirations shown: the engine's first (the run's best) and then the ones most different
 * from the parent. */
static size_t pick_inspirations(const llm_state *st, const rt_propose_ctx *ctx,
                                rt_llm_program *out, size_t max)
{
    size_t want = st->pol.inspirations > 0 ? (size_t)st->pol.inspirations : 0;
    if (want > max)
        want = max;
    size_t n = 0;
    int used[LLM_OFFERED_INSPIRATIONS] = {0};
    size_t avail = ctx->ninspirations < LLM_OFFERED_INSPIRATIONS ? ctx->ninspirations
                                                                 : LLM_OFFERED_INSPIRATIONS;
    double dist[LLM_OFFERED_INSPIRATIONS];
    for (size_t i = 0; i < avail; i++) {
        const rt_candidate_view *v = &ctx->inspirations[i];
        dist[i] = v->text ? text_distance(ctx->parent.text, ctx->parent.len, v->text, v->len)
                          : -1;
    }
    while (n < want) {
        size_t pick = avail;
        if (n == 0 && avail && ctx->inspirations[0].text) {
            pick = 0;
        } else {
            for (size_t i = 0; i < avail; i++)
                if (!used[i] && dist[i] >= 0 && (pick == avail || dist[i] > dist[pick]))
                    pick = i;
        }
        if (pick == avail)
            break;
        used[pick] = 1;
        const rt_candidate_view *v = &ctx->inspirations[pick];
        out[n++] = (rt_llm_program){.text = v->text, .len = v->len, .score = v->score.primary,
                                    .metrics = v->metrics, .artifacts = v->artifacts};
    }
    return n;
}

/* ---- proposing --------------------------------------------------------------------------- */

static double wall_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Adds an attempt to the history ring (st->mu held). */
static void history_add(llm_state *st, const char *model, const char *mode, const char *text)
{
    llm_attempt *a = &st->history[st->history_next];
    snprintf(a->model, sizeof a->model, "%s", model);
    snprintf(a->mode, sizeof a->mode, "%s", mode);
    snprintf(a->outcome, sizeof a->outcome, "%s", text);
    st->history_next = (st->history_next + 1) % LLM_MAX_HISTORY;
    if (st->nhistory < LLM_MAX_HISTORY)
        st->nhistory++;
}

/* Queues a row (st->mu held); RT_ENOMEM. */
static int pending_add(llm_state *st, const llm_pending *p)
{
    if (st->npending == st->cap_pending) {
        size_t cap = st->cap_pending ? 2 * st->cap_pending : 16;
        llm_pending *np = realloc(st->pending, cap * sizeof *np);
        if (!np)
            return RT_ENOMEM;
        st->pending = np;
        st->cap_pending = cap;
    }
    st->pending[st->npending++] = *p;
    return 0;
}

/* What a request cost the bandit: its money when every model has a price (so that a dearer
 * model is charged for it), else its tokens. */
static double bandit_cost(const llm_state *st, const rt_llm_row *row)
{
    for (int m = 0; m < st->nmodels; m++)
        if (!st->models[m].priced)
            return (double)(row->tokens_in + row->tokens_out);
    return row->cost;
}

/* One request of llm_propose, from its slot to its row. */
typedef struct llm_call {
    int model;
    rt_llm_mode mode;
    const char *mode_name;
    long long tag;
    size_t nhistory;
    llm_attempt hist_copy[LLM_MAX_HISTORY]; /* the ring's entries, copied under st->mu */
    rt_llm_attempt hist[LLM_MAX_HISTORY];   /* views of hist_copy, oldest first */
    llm_pending p;                          /* the row, queued for the store at the end */
    int outcome;                            /* rt_llm_outcome */
    double sent_at;
    int fail_fast;                          /* no server has answered yet: no connect retries */
    rt_buf prompt, edited;
    rt_llm_result res;
} llm_call;

/* Waits for a request slot and draws the model and the mode. Returns 0 holding a slot, or 1
 * (out->reason says why) when the budget is spent or the run stops. */
static int call_begin(llm_state *st, rt_rng *rng, llm_call *c, rt_proposal *out)
{
    pthread_mutex_lock(&st->mu);
    while (st->in_flight >= st->pol.max_in_flight && !st->spent && !(st->stop && *st->stop))
        pthread_cond_wait(&st->slot_free, &st->mu);
    if (st->spent || (st->stop && *st->stop)) {
        snprintf(out->reason, sizeof out->reason, "llm: %s",
                 st->spent ? st->spent_why : "stopped");
        pthread_mutex_unlock(&st->mu);
        return 1;
    }
    st->in_flight++;
    c->fail_fast = !st->answered;
    c->model = rt_llm_bandit_pick(&st->bandit);
    c->mode = rt_rng_unit(rng) < st->pol.p_full ? RT_LLM_FULL : RT_LLM_DIFF;
    c->tag = ++st->next_tag;
    size_t nh = (size_t)(st->pol.history > 0 ? st->pol.history : 0);
    if (nh > (size_t)st->nhistory)
        nh = (size_t)st->nhistory;
    for (size_t i = 0; i < nh; i++) { /* oldest first */
        int k = (st->history_next - (int)nh + (int)i + LLM_MAX_HISTORY) % LLM_MAX_HISTORY;
        c->hist_copy[i] = st->history[k];
        c->hist[i] = (rt_llm_attempt){c->hist_copy[i].model, c->hist_copy[i].mode,
                                      c->hist_copy[i].outcome};
    }
    c->nhistory = nh;
    pthread_mutex_unlock(&st->mu);
    return 0;
}

/* Builds the prompt and sends it. Returns 0 with c->outcome and c->res set (a prompt over the
 * cap is an outcome, not an error), or the error that ends the proposal (RT_ENOMEM, ...). */
static int call_ask(llm_state *st, const rt_propose_ctx *ctx, rt_rng *rng, llm_call *c)
{
    rt_llm_program insp[LLM_OFFERED_INSPIRATIONS];
    rt_llm_context lc = {
        .parent = {.text = ctx->parent.text, .len = ctx->parent.len,
                   .score = ctx->parent.score.primary, .metrics = ctx->parent.metrics,
                   .artifacts = ctx->parent.artifacts},
        .inspirations = insp,
        .history = c->hist,
        .nhistory = c->nhistory,
        .ledger = ctx->ledger,
        .language = st->language,
    };
    lc.ninspirations = pick_inspirations(st, ctx, insp, LLM_OFFERED_INSPIRATIONS);
    int rc = rt_llm_prompt_build(&st->tpl, &lc, c->mode, (size_t)st->pol.context_cap,
                                 &c->prompt);
    c->sent_at = wall_time();
    c->outcome = RT_LLM_OK;
    if (rc == RT_ETOOBIG) {
        c->outcome = RT_LLM_TOOBIG;
        snprintf(c->p.error, sizeof c->p.error, "prompt over %zu bytes", RT_LLM_MAX_PROMPT);
        return 0;
    }
    if (rc)
        return rc;
    rt_llm_client_opts co = {
        .url = st->url,
        .api_key = st->api_key,
        .timeout = st->pol.timeout,
        .connect_timeout = st->pol.connect_timeout,
        .max_retries = st->pol.max_retries,
        .backoff_base = st->pol.backoff_base,
        .backoff_max = st->pol.backoff_max,
        .stop = st->stop,
        .fail_fast_connect = c->fail_fast,
    };
    rt_llm_request req = {
        .model = st->models[c->model].name,
        .system = st->tpl.system,
        .user = rt_buf_cstr(&c->prompt),
        .temperature = st->pol.temperature,
        .max_tokens = st->pol.max_tokens,
    };
    rc = rt_llm_complete(&co, &req, rng, &c->res);
    if (rc)
        return rc;
    c->outcome = c->res.outcome;
    if (c->res.error[0])
        snprintf(c->p.error, sizeof c->p.error, "%s", c->res.error);
    return 0;
}

/* Applies the reply's edit to the parent's text and decodes the child into out->child. An edit
 * that cannot be found, applied or decoded is an outcome (c->outcome, c->p.error); returns 0,
 * or RT_ENOMEM. */
static int call_make_child(const rt_problem *problem, const rt_propose_ctx *ctx, llm_call *c,
                           rt_proposal *out)
{
    size_t start, span;
    int nblocks;
    char why[256];
    const char *content = c->res.reply.content;
    size_t clen = c->res.reply.len;
    /* models do not always answer in the mode asked: take blocks wherever they are, and a
     * fenced program in diff mode */
    rt_llm_mode used = rt_edit_has_blocks(content, clen)                     ? RT_LLM_DIFF
                       : c->mode == RT_LLM_DIFF && strstr(content, "```") ? RT_LLM_FULL
                                                                            : c->mode;
    int erc = rt_llm_extract_edit(content, clen, used, &start, &span, &nblocks, why, sizeof why);
    if (erc) {
        c->outcome = RT_LLM_NO_EDIT;
        snprintf(c->p.error, sizeof c->p.error, "%s", why);
        return 0;
    }
    const char *parent = ctx->parent.text;
    size_t plen = ctx->parent.len;
    if (used == RT_LLM_DIFF) {
        erc = rt_edit_apply(parent, plen, content + start, span, &c->edited, why, sizeof why);
        /* a REPLACE text may add EVOLVE-BLOCK markers: the applier lets it through, the
         * rewrite check does not (everything outside the old regions is kept) */
        if (!erc)
            erc = rt_edit_check_rewrite(parent, plen, rt_buf_cstr(&c->edited), c->edited.len,
                                        why, sizeof why);
    } else if (!(erc = rt_edit_check_rewrite(parent, plen, content + start, span, why,
                                             sizeof why))) {
        erc = rt_buf_append(&c->edited, content + start, span);
    }
    if (erc == RT_ENOMEM)
        return RT_ENOMEM;
    void *child = NULL;
    if (!erc && (erc = rt_problem_decode(problem, rt_buf_cstr(&c->edited), c->edited.len,
                                         &child, why, sizeof why)) == RT_ENOMEM)
        return RT_ENOMEM;
    if (erc) {
        c->outcome = RT_LLM_NOT_APPLIED;
        snprintf(c->p.error, sizeof c->p.error, "%s", why);
        return 0;
    }
    out->child = child;
    out->op = used == RT_LLM_DIFF ? "llm-diff" : "llm-full";
    return 0;
}

/* Fills the request's row (tokens, cost, timings) and out's reason and tag. */
static void call_finish_row(const llm_state *st, const rt_propose_ctx *ctx, llm_call *c,
                            rt_proposal *out)
{
    const rt_llm_result *res = &c->res;
    const llm_model *m = &st->models[c->model];
    /* tokens: the server's count, else an estimate of four bytes a token for a prompt that
     * reached a server (an answer came, or it timed out working on it) */
    int reached = res->http_status != 0 || res->outcome == RT_LLM_TIMEOUT;
    long long tin = res->reply.tokens_in >= 0 ? res->reply.tokens_in
                    : reached                 ? (long long)(c->prompt.len / 4)
                                              : 0;
    long long tout = res->reply.tokens_out >= 0 ? res->reply.tokens_out
                                                : (long long)(res->reply.len / 4);
    if (!out->child)
        snprintf(out->reason, sizeof out->reason, "llm %s (%.40s): %.180s",
                 rt_llm_outcome_name(c->outcome), m->name,
                 c->p.error[0] ? c->p.error : "no child");
    snprintf(c->p.outcome, sizeof c->p.outcome, "%s", rt_llm_outcome_name(c->outcome));
    c->p.row = (rt_llm_row){
        .at = c->sent_at,
        .island = ctx->island,
        .generation = ctx->generation,
        .tokens_in = tin,
        .tokens_out = tout,
        .cost = ((double)tin * m->price_in + (double)tout * m->price_out) / 1e6,
        .latency = res->latency,
        .attempts = res->attempts,
        .retries = res->retries,
        .http_status = res->http_status,
        .made = out->child != NULL,
        .parent_score = ctx->parent.score.primary,
    };
    out->tag = c->tag;
}

/* Marks the run spent when a token or money budget is used up (st->mu held). */
static void check_budgets(llm_state *st)
{
    if (st->budget_tokens > 0 && st->tokens_in + st->tokens_out >= st->budget_tokens) {
        st->spent = 1;
        snprintf(st->spent_why, sizeof st->spent_why, "llm token budget spent (%lld tokens)",
                 st->tokens_in + st->tokens_out);
    }
    if (st->budget_money > 0 && st->cost >= st->budget_money) {
        st->spent = 1;
        snprintf(st->spent_why, sizeof st->spent_why, "llm money budget spent (%.4f)", st->cost);
    }
    if (st->spent)
        pthread_cond_broadcast(&st->slot_free);
}

/* Gives the slot back and, unless the proposal failed (rc), counts the request and queues its
 * row. Returns rc, or RT_ENOMEM when the row could not be queued. */
static int call_end(llm_state *st, llm_call *c, rt_proposal *out, int rc)
{
    pthread_mutex_lock(&st->mu);
    st->in_flight--;
    pthread_cond_signal(&st->slot_free);
    if (c->res.http_status != 0)
        st->answered = 1;
    if (!rc) {
        st->requests += c->res.attempts ? 1 : 0;
        st->retries += c->res.retries;
        st->tokens_in += c->p.row.tokens_in;
        st->tokens_out += c->p.row.tokens_out;
        st->cost += c->p.row.cost;
        if (!out->child) {
            char line[320];
            snprintf(line, sizeof line, "no child: %s%s%s", rt_llm_outcome_name(c->outcome),
                     c->p.error[0] ? ": " : "", c->p.error);
            history_add(st, st->models[c->model].name, c->mode_name, line);
            /* a request that made nothing taught the bandit something too */
            rt_llm_bandit_update(&st->bandit, c->model, 0, bandit_cost(st, &c->p.row));
        }
        check_budgets(st);
        c->p.complete = out->child == NULL; /* with a child, complete once judged */
        rc = pending_add(st, &c->p);
        if (rc)
            out->tag = 0;
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}

static int llm_propose(void *state, const rt_problem *problem, const rt_propose_ctx *ctx,
                       rt_rng *rng, rt_proposal *out)
{
    llm_state *st = state;
    out->child = NULL;
    out->op = "llm";
    out->tag = 0;
    if (!ctx->parent.text) {
        snprintf(out->reason, sizeof out->reason, "llm: the parent has no text");
        return 0;
    }
    llm_call c = {0};
    if (call_begin(st, rng, &c, out))
        return 0;
    c.mode_name = c.mode == RT_LLM_FULL ? "full" : "diff";
    c.p.tag = c.tag;
    c.p.model = c.model;
    snprintf(c.p.parent, sizeof c.p.parent, "%s", ctx->parent.hash ? ctx->parent.hash : "");
    snprintf(c.p.mode, sizeof c.p.mode, "%s", c.mode_name);
    rt_buf_init(&c.prompt, RT_LLM_MAX_PROMPT);
    rt_buf_init(&c.edited, 0);

    int rc = call_ask(st, ctx, rng, &c);
    if (!rc && c.outcome == RT_LLM_OK)
        rc = call_make_child(problem, ctx, &c, out);
    if (!rc)
        call_finish_row(st, ctx, &c, out);
    rc = call_end(st, &c, out, rc);
    if (rc && out->child) {
        rt_problem_free_genome(problem, out->child);
        out->child = NULL;
    }
    rt_llm_result_free(&c.res);
    rt_buf_free(&c.prompt);
    rt_buf_free(&c.edited);
    return rc;
}

static void llm_feedback(void *state, long long tag, const rt_proposal_outcome *o)
{
    llm_state *st = state;
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < st->npending; i++) {
        llm_pending *p = &st->pending[i];
        if (p->tag != tag)
            continue;
        if (p->complete) /* no child: already counted */
            break;
        p->complete = 1;
        p->row.duplicate = o->duplicate;
        p->row.valid = o->valid;
        p->row.admitted = o->admitted;
        p->row.child_score = o->verified.primary;
        p->row.improved = o->valid && rt_score_cmp(o->verified, o->parent) > 0;
        char line[320];
        if (o->duplicate)
            snprintf(line, sizeof line, "a program already seen: no new information");
        else if (p->row.improved)
            snprintf(line, sizeof line, "improved: verified score %.10g (parent %.10g)",
                     o->verified.primary, o->parent.primary);
        else if (o->valid)
            snprintf(line, sizeof line, "valid but not better: %.10g (parent %.10g)",
                     o->verified.primary, o->parent.primary);
        else
            snprintf(line, sizeof line, "rejected: %.280s", o->reason ? o->reason : "invalid");
        history_add(st, st->models[p->model].name, p->mode, line);
        rt_llm_bandit_update(&st->bandit, p->model, p->row.improved ? 1.0 : 0.0,
                             bandit_cost(st, &p->row));
        break;
    }
    pthread_mutex_unlock(&st->mu);
}

static int llm_account(void *state, rt_db *db)
{
    llm_state *st = state;
    int rc = 0;
    pthread_mutex_lock(&st->mu);
    size_t keep = 0;
    for (size_t i = 0; i < st->npending; i++) {
        llm_pending *p = &st->pending[i];
        if (!rc && p->complete) {
            p->row.model = st->models[p->model].name;
            p->row.mode = p->mode;
            p->row.outcome = p->outcome;
            p->row.error = p->error;
            p->row.parent = p->parent[0] ? p->parent : NULL;
            rc = rt_db_llm_insert(db, &p->row);
            if (!rc)
                continue;
        }
        st->pending[keep++] = *p;
    }
    st->npending = keep;
    pthread_mutex_unlock(&st->mu);
    return rc;
}

static int llm_spent(void *state, char *why, size_t len)
{
    llm_state *st = state;
    pthread_mutex_lock(&st->mu);
    int spent = st->spent;
    if (spent)
        snprintf(why, len, "%s", st->spent_why);
    pthread_mutex_unlock(&st->mu);
    return spent;
}

const rt_proposer_class rt_proposer_llm = {
    .name = "llm",
    .inspirations = LLM_OFFERED_INSPIRATIONS,
    .context = 1,
    .create = llm_create,
    .destroy = llm_destroy,
    .propose = llm_propose,
    .configure = llm_configure,
    .feedback = llm_feedback,
    .account = llm_account,
    .spent = llm_spent,
};
