/* llm.c — the llm proposer's options of `ratchet run` and its spend in `ratchet status`.
 * Options map to the proposer's keys (docs/llm.md): --llm-url -> url, --model -> model, ... */
#include <string.h>

#include "tool.h"

#define MAX_PROPOSER_OPTS 64

static const char *keys[MAX_PROPOSER_OPTS];
static const char *values[MAX_PROPOSER_OPTS];

/* tool option -> proposer key, with the option's line in `run --help` */
static const struct {
    const char *flag, *key, *value, *help;
} map[] = {
    {"llm-url", "url", "URL", "the server, e.g. http://127.0.0.1:8080/v1 (required)"},
    {"model", "model", "NAME[,NAME]", "model(s); several: a bandit picks one per request"},
    {"llm-key-env", "key-env", "VAR", "send the API key held in environment variable VAR"},
    {"llm-budget-tokens", "budget-tokens", "N", "stop the run once N tokens (in + out) are spent"},
    {"llm-budget-money", "budget-money", "X", "stop the run once X is spent (needs --llm-price)"},
    {"llm-price", "price", "M=IN,OUT", "price of model M per million tokens in and out"},
    {"llm-prompts", "prompts", "DIR", "prompt template folder (default: the shipped prompts/)"},
    {"llm-template", "template", "NAME", "template set DIR/NAME/ (default: default)"},
    {"llm-language", "language", "NAME", "language named on code fences (c, python, ...)"},
    {"llm-timeout", "timeout", "S", "seconds per request attempt (default 300)"},
    {"llm-max-in-flight", "max-in-flight", "N", "requests open at once (default 4)"},
    {"llm-p-full", "p-full", "P", "share of requests asking for full rewrites (default 0.25)"},
    {"llm-retries", "retries", "N", "retries on connection errors, 5xx and 429 (default 4)"},
    {"llm-backoff", "backoff", "S", "first retry wait, doubled each time (default 1)"},
};
#define NMAP (sizeof map / sizeof map[0])

int llm_run_known(const char *name)
{
    for (size_t i = 0; i < NMAP; i++)
        if (strcmp(name, map[i].flag) == 0)
            return 1;
    return 0;
}

/* Drops the pairs of key that came from a configuration file (a flag given on the command line
 * replaces them all: --model b over a file's model = a is b alone, not both). */
static void drop_config_pairs(const char *key, rt_run_options *opt)
{
    size_t w = 0;
    for (size_t r = 0; r < opt->nproposer_params; r++) {
        if (strcmp(keys[r], key) == 0 && args_origin(values[r]))
            continue;
        keys[w] = keys[r];
        values[w] = values[r];
        w++;
    }
    opt->nproposer_params = w;
}

int llm_run_option(const char *name, const char *value, rt_run_options *opt)
{
    for (size_t i = 0; i < NMAP; i++) {
        if (strcmp(name, map[i].flag) != 0)
            continue;
        if (!args_origin(value))
            drop_config_pairs(map[i].key, opt);
        if (opt->nproposer_params == MAX_PROPOSER_OPTS) {
            usage_error("run: too many proposer options");
            return -1;
        }
        keys[opt->nproposer_params] = map[i].key;
        values[opt->nproposer_params] = value;
        opt->nproposer_params++;
        opt->proposer_keys = keys;
        opt->proposer_values = values;
        return 1;
    }
    return 0;
}

void llm_run_help(FILE *f)
{
    fprintf(f, "The llm proposer (--proposer llm: edits from language models on any\n"
               "OpenAI-compatible chat completions server; docs/llm.md):\n");
    for (size_t i = 0; i < NMAP; i++) {
        char head[64];
        snprintf(head, sizeof head, "--%s %s", map[i].flag, map[i].value);
        args_help_line(f, head, map[i].help, 23);
    }
    fprintf(f, "  They are stored with the run and reused by --resume; one given again there\n"
               "  replaces the stored one (never the key itself: only its variable's name).\n");
}

int llm_status(rt_store *st, FILE *out, json_t *obj)
{
    rt_llm_spend sp;
    int rc = rt_store_llm_spend(st, &sp);
    if (rc) {
        usage_error("status: %s", rt_store_errmsg(st));
        return rc;
    }
    if (!sp.requests)
        return 0;
    if (obj) {
        json_t *o = json_object();
        json_object_set_new(o, "requests", json_integer(sp.requests));
        json_object_set_new(o, "tokens_in", json_integer(sp.tokens_in));
        json_object_set_new(o, "tokens_out", json_integer(sp.tokens_out));
        json_object_set_new(o, "cost", json_real(sp.cost));
        json_object_set_new(o, "retries", json_integer(sp.retries));
        json_object_set_new(o, "failed", json_integer(sp.failed));
        json_object_set_new(o, "improved", json_integer(sp.improved));
        json_object_set_new(o, "latency", json_real(sp.latency));
        json_t *models = json_array();
        for (int i = 0; i < sp.nmodels; i++) {
            const rt_llm_model_spend *m = &sp.models[i];
            json_array_append_new(
                models, json_pack("{s:s, s:I, s:I, s:I, s:I, s:f}", "model", m->model,
                                  "requests", (json_int_t)m->requests, "tokens_in",
                                  (json_int_t)m->tokens_in, "tokens_out",
                                  (json_int_t)m->tokens_out, "improved",
                                  (json_int_t)m->improved, "cost", m->cost));
        }
        json_object_set_new(o, "models", models);
        json_object_set_new(obj, "llm", o);
        return 0;
    }
    fprintf(out, "llm          %lld requests (%lld retries, %lld without a usable edit), "
                 "%lld improved\n",
            sp.requests, sp.retries, sp.failed, sp.improved);
    fprintf(out, "llm spend    %lld tokens in, %lld out, cost %.4f, mean latency %.2f s\n",
            sp.tokens_in, sp.tokens_out, sp.cost, sp.latency / (double)sp.requests);
    for (int i = 0; i < sp.nmodels; i++) {
        const rt_llm_model_spend *m = &sp.models[i];
        fprintf(out, "  model %-20s %lld requests, %lld+%lld tokens, cost %.4f, %lld improved\n",
                m->model, m->requests, m->tokens_in, m->tokens_out, m->cost, m->improved);
    }
    return 0;
}
