/* policy.c — the knob table, and everything it drives: defaults, the JSON policy file (parse and
 * print), range checks and the meta level's mutation of policies.
 *
 * The table is gathered once from three parts, in the order of the file format: the loop's rows
 * below (engine, bandit, meta), each registered problem's section (rt_problem_class.knobs, rows
 * kept in the problem's folder), and the proposers' rows below (llm). Adding a core knob is one
 * row here (plus its field in policy.h and a line in docs/policy.md). Rows of one section stay
 * together: the printer nests consecutive rows with the same section prefix into one JSON object.
 */
#include "policy.h"

#include <assert.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"

#define KNOB_INT(...) RT_KNOB_INT(rt_policy, __VA_ARGS__)
#define KNOB_LONG(...) RT_KNOB_LONG(rt_policy, __VA_ARGS__)
#define KNOB_REAL(...) RT_KNOB_REAL(rt_policy, __VA_ARGS__)
#define KNOB_BOOL(...) RT_KNOB_BOOL(rt_policy, __VA_ARGS__)
#define KNOB_STR(...) RT_KNOB_STR(rt_policy, __VA_ARGS__)

/* clang-format off */
/* Before the problems' sections: the loop's. */
static const rt_knob loop_knobs[] = {
    /* engine */
    KNOB_REAL("engine.p_best", p_best, 0.5, 0, 1, RT_MUT_ADD, 0.15,
              "a parent is its island's best elite with this probability, else a random elite"),
    KNOB_INT("engine.migrate_every", migrate_every, 25, 0, 1000000, RT_MUT_LOG, 0.5,
             "generations between migrations of each island's best to the next (0: never)"),
    KNOB_REAL("engine.commit_interval", commit_interval, 0.5, 0.01, 3600, RT_MUT_NONE, 0,
              "seconds between checkpoints (durability, not search)"),
    KNOB_INT("engine.stop_after_failures", stop_after_failures, 20, 0, 1000000, RT_MUT_NONE, 0,
             "end the run (exit 1) after this many failures of one cause in a row (0: never)"),
    KNOB_INT("engine.stop_after_nothing_new", stop_after_nothing_new, 10000, 0, 1000000000,
             RT_MUT_NONE, 0,
             "end the run (exit 1) after this many proposals in a row made no new candidate: "
             "every child a duplicate, or none made (0: never)"),
    /* noise-aware acceptance (problems with a noisy verifier) */
    KNOB_INT("engine.noise_samples", noise_samples, 5, 0, 1000, RT_MUT_NONE, 0,
             "re-evaluations of the incumbent that measure the noise floor; 0 turns it off"),
    KNOB_REAL("engine.noise_margin", noise_margin, 1.0, 0, 100, RT_MUT_NONE, 0,
              "a child must beat the incumbent's mean by this many spreads"),
    KNOB_INT("engine.noise_confirm", noise_confirm, 4, 0, 1000, RT_MUT_NONE, 0,
             "fresh re-evaluations of a winner before it becomes the incumbent"),
    /* bandit */
    KNOB_BOOL("bandit.enabled", bandit.enabled, 1, RT_MUT_FLIP, 0.1,
              "choose operators with a discounted UCB bandit (false: draw by weight)"),
    KNOB_REAL("bandit.discount", bandit.discount, 0.99, 0.5, 1, RT_MUT_ADD, 0.02,
              "per-update decay of old observations"),
    KNOB_REAL("bandit.explore", bandit.explore, 0.5, 0, 10, RT_MUT_LOG, 0.5,
              "UCB exploration coefficient"),
    KNOB_REAL("bandit.floor", bandit.floor, 0.05, 0, 0.5, RT_MUT_ADD, 0.03,
              "every operator keeps at least this share of the draws (of the work: work_exp 1)"),
    KNOB_REAL("bandit.gain", bandit.gain, 0.9, 0, 1, RT_MUT_ADD, 0.15,
              "weight of an improvement's size (over the run's mean step) in its reward"),
    KNOB_REAL("bandit.work_exp", bandit.work_exp, 0, 0, 1, RT_MUT_ADD, 0.25,
              "0: the floor and the index are shares of the draws; 1: of the work (an operator "
              "is drawn in inverse proportion to its mean work per draw, to this power)"),
    KNOB_INT("bandit.work_warm", bandit.work_warm, 1, 1, 100, RT_MUT_LOG, 0.7,
             "with work_exp above 0, an operator drawn fewer times than this is drawn as if "
             "its work per draw were the mean of the others' (1: only one never drawn)"),
    /* meta: how policies are mutated (read from the parent policy itself) */
    KNOB_REAL("meta.step", meta.step, 1, 0.05, 5, RT_MUT_LOG, 0.3,
              "multiplies every knob's mutation step"),
    KNOB_REAL("meta.knobs", meta.knobs, 2, 1, 20, RT_MUT_LOG, 0.3,
              "expected number of knobs one mutation changes"),
    KNOB_REAL("meta.op_mutate", meta.op_mutate, 0.85, 0, 1, RT_MUT_ADD, 0.1,
              "weight of the policy operator that mutates knobs"),
    KNOB_REAL("meta.op_reset", meta.op_reset, 0.15, 0, 1, RT_MUT_ADD, 0.1,
              "weight of the policy operator that resets one knob to its default"),
    KNOB_INT("meta.race_size", meta.race_size, 8, 1, 32, RT_MUT_LOG, 0.4,
             "candidates one meta step makes and races on the training problems"),
    KNOB_INT("meta.race_seeds", meta.race_seeds, 1, 1, 64, RT_MUT_LOG, 0.4,
             "training seeds of a race's first round (multiplied by race_eta each round)"),
    KNOB_REAL("meta.race_eta", meta.race_eta, 2, 1.5, 8, RT_MUT_LOG, 0.3,
              "halving rate of a race: a round keeps 1/eta of the candidates on eta times "
              "the seeds"),
    KNOB_REAL("meta.screen", meta.screen, 0, 0, 10, RT_MUT_ADD, 0.05,
              "a race's winner goes to the gate only beyond this mean log-ratio on training"),
};

/* After the problems' sections: the proposers'. */
static const rt_knob proposer_knobs[] = {
    /* the llm proposer (docs/llm.md says why each default) */
    KNOB_STR("llm.template_set", llm.template_set, "default",
             "prompt template set: the folder prompts/<template_set>/"),
    KNOB_REAL("llm.p_full", llm.p_full, 0.25, 0, 1, RT_MUT_ADD, 0.1,
              "a request asks for a full rewrite with this probability, else SEARCH/REPLACE"),
    KNOB_INT("llm.max_in_flight", llm.max_in_flight, 4, 1, 1024, RT_MUT_NONE, 0,
             "requests open at once, over all islands"),
    KNOB_REAL("llm.timeout", llm.timeout, 300, 0.001, 86400, RT_MUT_NONE, 0,
              "seconds for one attempt of a request"),
    KNOB_REAL("llm.connect_timeout", llm.connect_timeout, 10, 0.001, 3600, RT_MUT_NONE, 0,
              "seconds to connect to the server"),
    KNOB_INT("llm.max_retries", llm.max_retries, 4, 0, 100, RT_MUT_NONE, 0,
             "further attempts on connection errors, 5xx and 429"),
    KNOB_REAL("llm.backoff_base", llm.backoff_base, 1, 0, 3600, RT_MUT_NONE, 0,
              "seconds before the first retry, doubled each time"),
    KNOB_REAL("llm.backoff_max", llm.backoff_max, 60, 0, 86400, RT_MUT_NONE, 0,
              "cap on one wait, Retry-After included"),
    KNOB_REAL("llm.temperature", llm.temperature, 0.7, 0, 2, RT_MUT_ADD, 0.1,
              "sampling temperature of the requests"),
    KNOB_LONG("llm.max_tokens", llm.max_tokens, 4096, 0, 1e7, RT_MUT_NONE, 0,
              "completion tokens asked for; 0 leaves it to the server"),
    KNOB_INT("llm.inspirations", llm.inspirations, 3, 0, 8, RT_MUT_LOG, 0.4,
             "programs shown besides the parent (the best, the most different)"),
    KNOB_INT("llm.history", llm.history, 6, 0, 32, RT_MUT_LOG, 0.4,
             "recent attempts shown with their outcomes"),
    KNOB_LONG("llm.context_cap", llm.context_cap, 4096, 0, 1e6, RT_MUT_NONE, 0,
              "bytes of metrics and artifacts text kept per prompt section"),
    KNOB_REAL("llm.bandit_c", llm.bandit_c, 0.5, 0, 10, RT_MUT_LOG, 0.4,
              "exploration constant of the model bandit"),
};
/* clang-format on */

#define NLOOP (sizeof loop_knobs / sizeof loop_knobs[0])
#define NPROPOSER (sizeof proposer_knobs / sizeof proposer_knobs[0])
#define MAX_KNOBS 512

/* The whole table, gathered once (gather): the loop's rows, each registered problem's section
 * with its offsets moved into rt_policy.section[slot], the proposers' rows. */
static rt_knob knobs[MAX_KNOBS];
static size_t nknobs;
static pthread_once_t gathered = PTHREAD_ONCE_INIT;

static void append(const rt_knob *rows, size_t n, size_t base)
{
    assert(nknobs + n <= MAX_KNOBS);
    for (size_t i = 0; i < n; i++) {
        knobs[nknobs] = rows[i];
        knobs[nknobs++].offset += base;
    }
}

static void gather(void)
{
    append(loop_knobs, NLOOP, 0);
    size_t slot = 0;
    const rt_problem_class *cls;
    for (size_t i = 0; (cls = rt_problem_class_at(i)); i++) {
        const rt_knob_section *sec = cls->knobs;
        if (!sec)
            continue;
        assert(slot < RT_POLICY_SECTIONS && sec->size <= RT_POLICY_SECTION_BYTES);
        for (size_t j = 0; j < sec->nknobs; j++) {
            size_t len = strlen(cls->name);
            assert(strncmp(sec->knobs[j].name, cls->name, len) == 0 &&
                   sec->knobs[j].name[len] == '.');
            assert(sec->knobs[j].offset < sec->size);
            (void)len;
        }
        append(sec->knobs, sec->nknobs,
               offsetof(rt_policy, section) + slot * RT_POLICY_SECTION_BYTES);
        slot++;
    }
    append(proposer_knobs, NPROPOSER, 0);
}

/* The gathered table (gathering it on first use, from any thread). */
static const rt_knob *table(void)
{
    pthread_once(&gathered, gather);
    return knobs;
}

const rt_knob *rt_policy_knobs(size_t *n)
{
    const rt_knob *t = table();
    *n = nknobs;
    return t;
}

/* The slot of cls among the registered problems with knobs, or -1. */
static int section_slot(const rt_problem_class *cls)
{
    int slot = 0;
    const rt_problem_class *c;
    if (!cls->knobs)
        return -1;
    for (size_t i = 0; (c = rt_problem_class_at(i)); i++) {
        if (c == cls)
            return slot;
        slot += c->knobs != NULL;
    }
    return -1;
}

const void *rt_policy_section(const rt_policy *p, const rt_problem_class *cls)
{
    int slot = section_slot(cls);
    return slot < 0 ? NULL : p->section[slot];
}

void *rt_policy_section_mut(rt_policy *p, const rt_problem_class *cls)
{
    int slot = section_slot(cls);
    return slot < 0 ? NULL : p->section[slot];
}

const rt_knob *rt_policy_knob_find(const char *name)
{
    table();
    for (size_t i = 0; i < nknobs; i++)
        if (strcmp(knobs[i].name, name) == 0)
            return &knobs[i];
    return NULL;
}

static void *field(rt_policy *p, const rt_knob *k) { return (char *)p + k->offset; }
static const void *cfield(const rt_policy *p, const rt_knob *k)
{
    return (const char *)p + k->offset;
}

/* Number of choices of an ENUM knob. */
static int nchoices(const rt_knob *k)
{
    int n = 1;
    for (const char *s = k->choices; *s; s++)
        n += *s == '|';
    return n;
}

/* The i-th choice of an ENUM knob into buf. */
static void choice_at(const rt_knob *k, int i, char *buf, size_t len)
{
    const char *s = k->choices;
    for (int j = 0; j < i && s; j++) {
        s = strchr(s, '|');
        if (s)
            s++;
    }
    if (!s) {
        snprintf(buf, len, "?");
        return;
    }
    size_t n = strcspn(s, "|");
    snprintf(buf, len, "%.*s", (int)n, s);
}

static int choice_index(const rt_knob *k, const char *v)
{
    char buf[64];
    for (int i = 0, n = nchoices(k); i < n; i++) {
        choice_at(k, i, buf, sizeof buf);
        if (strcmp(buf, v) == 0)
            return i;
    }
    return -1;
}

double rt_policy_get(const rt_policy *p, const rt_knob *k)
{
    const void *f = cfield(p, k);
    switch (k->type) {
    case RT_KNOB_INT:
    case RT_KNOB_BOOL:
    case RT_KNOB_ENUM: {
        int v;
        memcpy(&v, f, sizeof v);
        return v;
    }
    case RT_KNOB_LONG: {
        long long v;
        memcpy(&v, f, sizeof v);
        return (double)v;
    }
    case RT_KNOB_REAL: {
        double v;
        memcpy(&v, f, sizeof v);
        return v;
    }
    default:
        return 0;
    }
}

/* The range of a numeric knob. */
static void knob_range(const rt_knob *k, double *lo, double *hi)
{
    *lo = k->min;
    *hi = k->max;
    if (k->type == RT_KNOB_ENUM) {
        *lo = 0;
        *hi = nchoices(k) - 1;
    }
}

void rt_policy_set(rt_policy *p, const rt_knob *k, double v)
{
    double lo, hi;
    knob_range(k, &lo, &hi);
    if (!(v >= lo))
        v = lo;
    if (v > hi)
        v = hi;
    void *f = field(p, k);
    switch (k->type) {
    case RT_KNOB_INT:
    case RT_KNOB_BOOL:
    case RT_KNOB_ENUM: {
        int iv = (int)llround(v);
        memcpy(f, &iv, sizeof iv);
        break;
    }
    case RT_KNOB_LONG: {
        long long lv = llround(v);
        memcpy(f, &lv, sizeof lv);
        break;
    }
    case RT_KNOB_REAL:
        memcpy(f, &v, sizeof v);
        break;
    default:
        break;
    }
}

/* The bytes a knob's value takes in rt_policy. */
static size_t knob_bytes(const rt_knob *k)
{
    switch (k->type) {
    case RT_KNOB_LONG:
        return sizeof(long long);
    case RT_KNOB_REAL:
        return sizeof(double);
    case RT_KNOB_STR:
        return (size_t)k->max;
    default: /* INT, BOOL, ENUM */
        return sizeof(int);
    }
}

void rt_policy_rebase(rt_policy *out, const rt_policy *p, const rt_policy *from,
                      const rt_policy *onto)
{
    table();
    rt_policy r = *onto;
    for (size_t i = 0; i < nknobs; i++) {
        const rt_knob *k = &knobs[i];
        size_t n = knob_bytes(k);
        int same = k->type == RT_KNOB_STR ? strncmp(cfield(p, k), cfield(from, k), n) == 0
                                          : memcmp(cfield(p, k), cfield(from, k), n) == 0;
        if (!same)
            memcpy(field(&r, k), cfield(p, k), n);
    }
    *out = r;
}

void rt_policy_table_defaults(rt_policy *p)
{
    table();
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < nknobs; i++) {
        const rt_knob *k = &knobs[i];
        if (k->type == RT_KNOB_STR)
            snprintf(field(p, k), (size_t)k->max, "%s", k->choices ? k->choices : "");
        else
            rt_policy_set(p, k, k->def);
    }
}

/* The shipped default: the table's values with the layers of policy/default.json over them,
 * the knobs that admitted meta runs changed (policy/lineage.json says which runs). The file is
 * built in as a string literal (build/gen/default_policy.inc), so the program carries what its
 * meta runs found. A layer may carry a scope (the problem and the largest instance its gate
 * measured): a run outside it is made without that layer (rt_policy_defaults_for). The head, every
 * layer merged, is computed once, on first use, from any thread. */
static const char shipped_text[] =
#include "default_policy.inc"
    ;
static const char *shipped_src = shipped_text; /* rt_policy_shipped_replace (tests) */
static rt_policy shipped;
static pthread_once_t shipped_once = PTHREAD_ONCE_INIT;

#define MAX_LAYERS 16

static void printable_key(char *dst, size_t len, const char *src);
static int apply_object(rt_policy *out, json_t *root, char *err, size_t errlen);

/* Reads text (at most RT_POLICY_MAX_BYTES, no duplicate keys) into *root; errors start with
 * `what`. */
static int load_json(const char *what, const char *text, size_t len, json_t **root, char *err,
                     size_t errlen)
{
    if (len > RT_POLICY_MAX_BYTES)
        return rt_fail(err, errlen, RT_ETOOBIG, "%s: over %d bytes", what, RT_POLICY_MAX_BYTES);
    json_error_t jerr;
    *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*root) {
        char shown[100];
        printable_key(shown, sizeof shown, jerr.text);
        return rt_fail(err, errlen, RT_EUSAGE, "%s: line %d: %s", what, jerr.line, shown);
    }
    return 0;
}

/* Whether word is one of the space-separated words of list. */
static int word_in(const char *word, const char *list)
{
    size_t n = strlen(word);
    for (const char *w = list; n && *w;) {
        size_t k = strcspn(w, " ");
        if (k == n && memcmp(w, word, n) == 0)
            return 1;
        w += k + (w[k] == ' ');
    }
    return 0;
}

/* Checks one layer's scope; *applies is 1 when a run of `problem` with instance size `size`
 * and field `field` (NULL: the problem has none) is inside it (problem NULL: every scope
 * applies, the head). A scope's field must be one its problem's class names (scope_fields). */
static int scope_check(json_t *scope, int i, const char *problem, long size, const char *field,
                       int *applies, char *err, size_t errlen)
{
    if (!json_is_object(scope))
        return rt_fail(err, errlen, RT_EUSAGE, "default policy: layers[%d].scope is not an object",
                       i);
    const char *key;
    json_t *v;
    json_object_foreach(scope, key, v) {
        if (strcmp(key, "problem") != 0 && strcmp(key, "max_size") != 0 &&
            strcmp(key, "field") != 0) {
            char shown[100];
            printable_key(shown, sizeof shown, key);
            return rt_fail(err, errlen, RT_EUSAGE, "default policy: unknown key 'layers[%d].scope.%s'",
                           i, shown);
        }
    }
    json_t *pr = json_object_get(scope, "problem"), *mx = json_object_get(scope, "max_size");
    json_t *fd = json_object_get(scope, "field");
    if (!json_is_string(pr) || !json_string_value(pr)[0])
        return rt_fail(err, errlen, RT_EUSAGE,
                       "default policy: layers[%d].scope.problem must be a problem's name", i);
    if (!json_is_integer(mx) || json_integer_value(mx) < 1)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "default policy: layers[%d].scope.max_size must be an integer >= 1", i);
    if (fd) {
        const rt_problem_class *cls = rt_problem_class_find(json_string_value(pr));
        const char *names = cls && cls->scope_fields ? cls->scope_fields : NULL;
        if (!json_is_string(fd) || !names || !word_in(json_string_value(fd), names)) {
            char shown[100];
            printable_key(shown, sizeof shown, json_string_value(pr));
            return rt_fail(err, errlen, RT_EUSAGE,
                           "default policy: layers[%d].scope.field must be one of %s's fields "
                           "(%s)",
                           i, shown, names ? names : "it has none");
        }
    }
    *applies = !problem || (strcmp(problem, json_string_value(pr)) == 0 && size >= 1 &&
                            (json_int_t)size <= json_integer_value(mx) &&
                            (!fd || (field && strcmp(field, json_string_value(fd)) == 0)));
    return 0;
}

int rt_policy_defaults_text(rt_policy *p, const char *text, size_t len, const char *problem,
                            long size, const char *field, char *err, size_t errlen)
{
    json_t *root;
    int rc = load_json("default policy", text, len, &root, err, errlen);
    if (rc)
        return rc;
    rt_policy out;
    rt_policy_table_defaults(&out);
    json_t *layers = json_is_object(root) ? json_object_get(root, "layers") : NULL;
    if (!layers) {
        /* a plain policy: one layer without a scope */
        rc = apply_object(&out, root, err, errlen);
    } else if (json_object_size(root) != 1) {
        rc = rt_fail(err, errlen, RT_EUSAGE,
                     "default policy: a file with 'layers' has no other top-level key");
    } else if (!json_is_array(layers) || json_array_size(layers) > MAX_LAYERS) {
        rc = rt_fail(err, errlen, RT_EUSAGE, "default policy: layers must be an array of at most %d",
                     MAX_LAYERS);
    } else {
        size_t i;
        json_t *layer;
        json_array_foreach(layers, i, layer) {
            const char *key;
            json_t *v;
            int applies = 1;
            if (!json_is_object(layer) || !json_is_object(json_object_get(layer, "policy"))) {
                rc = rt_fail(err, errlen, RT_EUSAGE,
                             "default policy: layers[%d] is not an object with a 'policy' object",
                             (int)i);
                break;
            }
            json_object_foreach(layer, key, v) {
                if (strcmp(key, "policy") != 0 && strcmp(key, "scope") != 0) {
                    char shown[100];
                    printable_key(shown, sizeof shown, key);
                    rc = rt_fail(err, errlen, RT_EUSAGE, "default policy: unknown key 'layers[%d].%s'",
                                 (int)i, shown);
                    break;
                }
            }
            json_t *scope = json_object_get(layer, "scope");
            if (rc || (scope && (rc = scope_check(scope, (int)i, problem, size, field, &applies,
                                                   err, errlen))))
                break;
            /* every layer is checked, the ones that do not apply too */
            rt_policy trial = out;
            char sub_err[256];
            if ((rc = apply_object(&trial, json_object_get(layer, "policy"), sub_err,
                                   sizeof sub_err))) {
                rc = rt_fail(err, errlen, rc, "default policy: layers[%d]: %s", (int)i, sub_err);
                break;
            }
            if (applies)
                out = trial;
        }
    }
    json_decref(root);
    if (!rc)
        *p = out;
    return rc;
}

static void merge_shipped(void)
{
    char err[256];
    if (rt_policy_defaults_text(&shipped, shipped_src, strlen(shipped_src), NULL, 0, NULL,
                                err, sizeof err)) {
        /* test_policy checks the file; a build from an edited file that breaks it stops here */
        fprintf(stderr, "ratchet: the built-in policy/default.json is not a policy: %s\n", err);
        abort();
    }
}

void rt_policy_defaults(rt_policy *p)
{
    pthread_once(&shipped_once, merge_shipped);
    memcpy(p, &shipped, sizeof *p);
}

void rt_policy_defaults_for(rt_policy *p, const char *problem, long size, const char *field)
{
    pthread_once(&shipped_once, merge_shipped); /* the file is known to be good past here */
    char err[256];
    if (rt_policy_defaults_text(p, shipped_src, strlen(shipped_src), problem ? problem : "",
                                size, field, err, sizeof err))
        rt_policy_defaults(p); /* out of memory: the head */
}

int rt_policy_shipped_replace(const char *text, char *err, size_t errlen)
{
    pthread_once(&shipped_once, merge_shipped);
    const char *src = text ? text : shipped_text;
    rt_policy head;
    int rc = rt_policy_defaults_text(&head, src, strlen(src), NULL, 0, NULL, err, errlen);
    if (rc)
        return rc;
    shipped_src = src;
    shipped = head;
    return 0;
}

const char *rt_policy_shipped_text(void) { return shipped_src; }

int rt_policy_validate(const rt_policy *p, char *err, size_t errlen)
{
    table();
    for (size_t i = 0; i < nknobs; i++) {
        const rt_knob *k = &knobs[i];
        if (k->type == RT_KNOB_STR) {
            if (!memchr(cfield(p, k), '\0', (size_t)k->max))
                return rt_fail(err, errlen, RT_EUSAGE, "policy: %s is not a terminated string",
                               k->name);
            continue;
        }
        double v = rt_policy_get(p, k), lo, hi;
        knob_range(k, &lo, &hi);
        if (!(v >= lo && v <= hi))
            return rt_fail(err, errlen, RT_EUSAGE, "policy: %s = %g is outside [%g, %g]",
                           k->name, v, lo, hi);
    }
    return 0;
}

/* ---- parsing ----------------------------------------------------------------------------- */

/* A key from the file, made printable for a one-line message (at most 80 bytes, "\xNN" for
 * control and non-ASCII bytes, "..." when cut). */
static void printable_key(char *dst, size_t len, const char *src)
{
    size_t o = 0;
    for (; *src && o + 5 < len && o < 80; src++) {
        unsigned char c = (unsigned char)*src;
        if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(dst + o, len - o, "\\x%02x", c);
        else
            dst[o++] = (char)c;
    }
    dst[o] = '\0';
    if (*src && o + 4 < len)
        snprintf(dst + o, len - o, "...");
}

/* Applies one JSON value to the knob called name in p. */
static int apply_value(rt_policy *p, const char *name, json_t *v, char *err, size_t errlen)
{
    const rt_knob *k = rt_policy_knob_find(name);
    if (!k) {
        char shown[100];
        printable_key(shown, sizeof shown, name);
        return rt_fail(err, errlen, RT_EUSAGE, "policy: unknown key '%s'", shown);
    }
    double x, lo, hi;
    knob_range(k, &lo, &hi);
    switch (k->type) {
    case RT_KNOB_INT:
    case RT_KNOB_LONG:
        if (!json_is_integer(v))
            return rt_fail(err, errlen, RT_EUSAGE, "policy: %s must be an integer", name);
        {
            json_int_t iv = json_integer_value(v);
            if ((double)iv < lo || (double)iv > hi)
                return rt_fail(err, errlen, RT_EUSAGE,
                               "policy: %s = %lld is outside [%.0f, %.0f]", name, (long long)iv,
                               lo, hi);
            x = (double)iv;
        }
        break;
    case RT_KNOB_REAL:
        if (!json_is_number(v))
            return rt_fail(err, errlen, RT_EUSAGE, "policy: %s must be a number", name);
        x = json_number_value(v);
        if (!isfinite(x) || x < lo || x > hi)
            return rt_fail(err, errlen, RT_EUSAGE, "policy: %s = %g is outside [%g, %g]", name,
                           x, lo, hi);
        break;
    case RT_KNOB_BOOL:
        if (!json_is_boolean(v))
            return rt_fail(err, errlen, RT_EUSAGE, "policy: %s must be true or false", name);
        x = json_is_true(v) ? 1 : 0;
        break;
    case RT_KNOB_ENUM: {
        int idx = json_is_string(v) ? choice_index(k, json_string_value(v)) : -1;
        if (idx < 0)
            return rt_fail(err, errlen, RT_EUSAGE, "policy: %s must be one of %s", name,
                           k->choices);
        x = idx;
        break;
    }
    case RT_KNOB_STR: {
        if (!json_is_string(v))
            return rt_fail(err, errlen, RT_EUSAGE, "policy: %s must be a string", name);
        size_t n = json_string_length(v);
        const char *s = json_string_value(v);
        if (n + 1 > (size_t)k->max || memchr(s, '\0', n))
            return rt_fail(err, errlen, RT_EUSAGE,
                           "policy: %s must be a string of at most %.0f bytes without NUL", name,
                           k->max - 1);
        memcpy(field(p, k), s, n + 1);
        return 0;
    }
    default:
        return rt_fail(err, errlen, RT_EINTERNAL, "policy: %s has a bad type", name);
    }
    rt_policy_set(p, k, x);
    return 0;
}

/* Merges the policy object root over *out (the body of rt_policy_parse, for a loaded root);
 * on failure *out is unchanged. */
static int apply_object(rt_policy *out, json_t *root, char *err, size_t errlen)
{
    if (!json_is_object(root))
        return rt_fail(err, errlen, RT_EUSAGE, "policy: expected a JSON object");
    rt_policy p = *out;
    int rc;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (json_is_object(v)) {
            const char *sub;
            json_t *sv;
            json_object_foreach(v, sub, sv) {
                char name[128];
                int n = snprintf(name, sizeof name, "%s.%s", key, sub);
                if (n < 0 || (size_t)n >= sizeof name || strchr(key, '.')) {
                    char a[100], b[100];
                    printable_key(a, sizeof a, key);
                    printable_key(b, sizeof b, sub);
                    return rt_fail(err, errlen, RT_EUSAGE, "policy: unknown key '%s.%s'", a, b);
                }
                if ((rc = apply_value(&p, name, sv, err, errlen)))
                    return rc;
            }
        } else if ((rc = apply_value(&p, key, v, err, errlen))) {
            return rc;
        }
    }
    if ((rc = rt_policy_validate(&p, err, errlen)))
        return rc;
    *out = p;
    return 0;
}

int rt_policy_parse(rt_policy *out, const char *text, size_t len, char *err, size_t errlen)
{
    json_t *root;
    int rc = load_json("policy", text, len, &root, err, errlen);
    if (rc)
        return rc;
    rc = apply_object(out, root, err, errlen);
    json_decref(root);
    return rc;
}

/* ---- printing ---------------------------------------------------------------------------- */

/* Shortest "%.*g" that reads back as exactly v. */
static int print_real(rt_buf *out, double v)
{
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    int rc = rt_buf_puts(out, buf);
    /* keep reals reals in the file, so that the type is visible */
    if (!rc && !strpbrk(buf, ".eEn"))
        rc = rt_buf_puts(out, ".0");
    return rc;
}

static int print_string(rt_buf *out, const char *s)
{
    int rc = rt_buf_puts(out, "\"");
    for (; !rc && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            rc = rt_buf_printf(out, "\\%c", c);
        else if (c == '\n')
            rc = rt_buf_puts(out, "\\n");
        else if (c == '\t')
            rc = rt_buf_puts(out, "\\t");
        else if (c < 0x20)
            rc = rt_buf_printf(out, "\\u%04x", c);
        else
            rc = rt_buf_append(out, s, 1);
    }
    return rc ? rc : rt_buf_puts(out, "\"");
}

int rt_policy_print(const rt_policy *p, rt_buf *out)
{
    table();
    int rc = rt_buf_puts(out, "{");
    char section[64] = "";
    for (size_t i = 0; !rc && i < nknobs; i++) {
        const rt_knob *k = &knobs[i];
        const char *dot = strchr(k->name, '.');
        size_t slen = (size_t)(dot - k->name);
        if (strlen(section) != slen || strncmp(section, k->name, slen) != 0) {
            rc = rt_buf_printf(out, "%s\n  \"%.*s\": {", section[0] ? "\n  }," : "", (int)slen,
                               k->name);
            snprintf(section, sizeof section, "%.*s", (int)slen, k->name);
        } else {
            rc = rt_buf_puts(out, ",");
        }
        if (!rc)
            rc = rt_buf_printf(out, "\n    \"%s\": ", dot + 1);
        if (rc)
            break;
        double v = rt_policy_get(p, k);
        switch (k->type) {
        case RT_KNOB_INT:
        case RT_KNOB_LONG:
            rc = rt_buf_printf(out, "%.0f", v);
            break;
        case RT_KNOB_REAL:
            rc = print_real(out, v);
            break;
        case RT_KNOB_BOOL:
            rc = rt_buf_puts(out, v != 0 ? "true" : "false");
            break;
        case RT_KNOB_ENUM: {
            char buf[64];
            choice_at(k, (int)v, buf, sizeof buf);
            rc = print_string(out, buf);
            break;
        }
        case RT_KNOB_STR:
            rc = print_string(out, cfield(p, k));
            break;
        default:
            rc = RT_EINTERNAL;
        }
    }
    if (!rc)
        rc = rt_buf_puts(out, section[0] ? "\n  }\n}\n" : "}\n");
    return rc;
}

/* ---- mutation ---------------------------------------------------------------------------- */

double rt_policy_gauss(rt_rng *rng)
{
    double u1 = rt_rng_unit(rng), u2 = rt_rng_unit(rng);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Changes one knob; returns 1 if its value changed. */
static int mutate_knob(rt_policy *p, const rt_knob *k, double scale, rt_rng *rng)
{
    double old = rt_policy_get(p, k), v = old, lo, hi;
    knob_range(k, &lo, &hi);
    double step = k->step * scale;
    switch (k->mutation) {
    case RT_MUT_LOG:
        v = (old > 0 ? old : (lo > 0 ? lo : 1e-3)) * exp(step * rt_policy_gauss(rng));
        break;
    case RT_MUT_ADD:
        v = old + step * rt_policy_gauss(rng);
        break;
    case RT_MUT_FLIP:
        if (k->type == RT_KNOB_BOOL)
            v = old != 0 ? 0 : 1;
        else if (hi > lo)
            v = lo + (double)rt_rng_below(rng, (uint32_t)(hi - lo + 1));
        break;
    default:
        return 0;
    }
    if (k->type != RT_KNOB_REAL && v != old && llround(v) == llround(old))
        v = old + (v > old ? 1 : -1); /* an integer knob moves by at least one */
    rt_policy_set(p, k, v);
    return rt_policy_get(p, k) != old;
}

static int in_part(const rt_knob *k, const char *prefix, int inside)
{
    if (k->mutation == RT_MUT_NONE)
        return 0;
    if (!prefix)
        return 1;
    return (strncmp(k->name, prefix, strlen(prefix)) == 0) == (inside != 0);
}

int rt_policy_mutate_part(rt_policy *p, const rt_policy *meta, rt_rng *rng, const char *prefix,
                          int inside)
{
    table();
    double scale = meta->meta.step, want = meta->meta.knobs;
    size_t nmut = 0;
    for (size_t i = 0; i < nknobs; i++)
        nmut += (size_t)in_part(&knobs[i], prefix, inside);
    if (!nmut)
        return 0;
    double prob = want / (double)nmut;
    int changed = 0;
    for (size_t i = 0; i < nknobs; i++) {
        const rt_knob *k = &knobs[i];
        if (!in_part(k, prefix, inside))
            continue;
        if (rt_rng_unit(rng) < prob)
            changed += mutate_knob(p, k, scale, rng);
    }
    /* at least one knob changes (a few tries: a knob at its bound may not move) */
    for (int tries = 0; !changed && tries < 32; tries++) {
        size_t j = rt_rng_below(rng, (uint32_t)nmut);
        for (size_t i = 0; i < nknobs; i++) {
            if (!in_part(&knobs[i], prefix, inside))
                continue;
            if (j-- == 0) {
                changed += mutate_knob(p, &knobs[i], scale, rng);
                break;
            }
        }
    }
    return changed;
}

int rt_policy_mutate(rt_policy *p, const rt_policy *meta, rt_rng *rng)
{
    return rt_policy_mutate_part(p, meta, rng, NULL, 1);
}

double rt_policy_op_weight(const rt_policy *p, const char *problem, const char *op, double def)
{
    char name[128];
    int n = snprintf(name, sizeof name, "%s.op_%s", problem, op);
    if (n < 0 || (size_t)n >= sizeof name)
        return def;
    const rt_knob *k = rt_policy_knob_find(name);
    return k && k->type == RT_KNOB_REAL ? rt_policy_get(p, k) : def;
}

/* ---- public API -------------------------------------------------------------------------- */

int rt_policy_show(const char *text, size_t len, char **json, rt_error *err)
{
    rt_policy p;
    rt_policy_defaults(&p);
    return rt_policy_show_over(&p, text, len, json, err);
}

int rt_policy_show_over(const rt_policy *base, const char *text, size_t len, char **json, rt_error *err)
{
    *json = NULL;
    err->code = 0;
    err->msg[0] = '\0';
    rt_policy p = *base;
    int rc = text ? rt_policy_parse(&p, text, len, err->msg, sizeof err->msg) : 0;
    if (rc) {
        err->code = rc;
        return rc;
    }
    rt_buf b;
    rt_buf_init(&b, 0);
    if ((rc = rt_policy_print(&p, &b))) {
        rt_buf_free(&b);
        err->code = rt_fail(err->msg, sizeof err->msg, rc, "out of memory");
        return rc;
    }
    *json = rt_buf_take(&b);
    return 0;
}
