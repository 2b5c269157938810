/* research_run.c — one experiment of the research problem: the user's command in a private copy
 * of the project folder, with the candidate's files in place, in the sandbox, under the budget,
 * with a fresh seed; its outcome (ok, crash, timeout, oom, no metric) and what it printed.
 *
 * Threads: evaluate() and verify() run on the engine's worker threads; the state is read-only
 * but for the seed counter (an atomic).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems/research/research_int.h"
#include "sandbox/sandbox.h"

#define TAIL_BYTES 2048
#define REASON_TAIL 160

/* The copy of the folder, then the candidate's files over their originals (keeping their
 * modes), then the user's command. Paths come through the environment, never through the text
 * of the script. */
static const char COPY_SCRIPT[] =
    "set -e\n"
    "(cd \"$RATCHET_SRC\" &&"
    " find . -mindepth 1 -name .git -prune -o \\( -type f -o -type d \\) -print |"
    " tar --no-recursion -T - -cf -) | tar -xmf - --no-same-owner\n"
    "i=0\n"
    "while [ \"$i\" -lt \"$RATCHET_NEDIT\" ]; do\n"
    "  eval \"p=\\$RATCHET_EDIT_$i\"\n"
    "  chmod u+w \"$p\" 2>/dev/null || true\n"
    "  cat \".ratchet-edit-$i\" > \"$p\"\n"
    "  i=$((i+1))\n"
    "done\n"
    "unset RATCHET_SRC RATCHET_NEDIT\n"
    "exec /bin/sh -c \"$RATCHET_RUN\"\n";

/* What one experiment gave. */
typedef struct experiment {
    int failed;
    char reason[400];
    double value;    /* the metric (not failed) */
    int has_test;
    double test;     /* the test metric, when printed */
    uint64_t seed;
    rt_sandbox_result res;
} experiment;

/* Appends " key=value" to the canonical parameters (rt_canon_put). */
static int canon_put(research_state *st, size_t *at, const char *key, const char *value)
{
    return rt_canon_put(st->canon, sizeof st->canon, at, key, value);
}

int rt_research_write_canon(research_state *st, char *err, size_t errlen)
{
    char num[64];
    size_t at = 0;
    int bad = canon_put(st, &at, "dir", st->dir) || canon_put(st, &at, "edit", st->edit_line) ||
              canon_put(st, &at, "run", st->run) || canon_put(st, &at, "metric", st->metric);
    snprintf(num, sizeof num, "%d", st->maximize);
    bad = bad || canon_put(st, &at, "maximize", num);
    if (st->test_metric[0])
        bad = bad || canon_put(st, &at, "test-metric", st->test_metric);
    snprintf(num, sizeof num, "%.17g", st->budget);
    bad = bad || canon_put(st, &at, "budget", num);
    snprintf(num, sizeof num, "%.17g", st->cpu_budget);
    bad = bad || canon_put(st, &at, "cpu-budget", num);
    snprintf(num, sizeof num, "%ld", st->memory);
    bad = bad || canon_put(st, &at, "memory", num);
    if (st->visible_line[0])
        bad = bad || canon_put(st, &at, "visible", st->visible_line);
    if (st->has_command) {
        bad = bad || canon_put(st, &at, "command", st->command_line);
        snprintf(num, sizeof num, "%.17g", st->command_timeout);
        bad = bad || canon_put(st, &at, "command-timeout", num);
    }
    if (st->tag[0])
        bad = bad || canon_put(st, &at, "git-tag", st->tag);
    if (st->base[0])
        bad = bad || canon_put(st, &at, "git-base", st->base);
    if (bad || at > RT_RESEARCH_MAX_CANON)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "research: the folder, files and command together are too long to store "
                       "(%d bytes)", RT_RESEARCH_MAX_CANON);
    return 0;
}

char *rt_research_hide_test(const research_state *st, const char *metrics)
{
    if (!metrics || !st->test_metric[0])
        return NULL;
    json_t *o = json_loads(metrics, 0, NULL);
    char *s = NULL;
    if (o && json_is_object(o) && json_object_get(o, st->test_metric)) {
        json_object_del(o, st->test_metric);
        s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    }
    json_decref(o);
    return s;
}

static uint64_t next_seed(const research_state *st)
{
    research_state *w = (research_state *)st; /* the counter alone changes, atomically */
    uint64_t z = st->seed_base + __atomic_fetch_add(&w->seed_counter, 1, __ATOMIC_RELAXED) *
                                     0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31)) & 0x7fffffffULL; /* fits any program's 32-bit seed */
}

/* The end of what a run printed (stdout, then stderr), without the test metric's lines, on one
 * line of printable bytes, into out. */
static void reason_tail(const research_state *st, const rt_sandbox_result *res, char *out,
                        size_t outlen)
{
    rt_buf all, clean;
    rt_buf_init(&all, 0);
    rt_buf_init(&clean, 0);
    out[0] = '\0';
    if (rt_buf_append(&all, res->stdout_data ? res->stdout_data : "", res->stdout_len) ||
        rt_buf_append(&all, res->stderr_data ? res->stderr_data : "", res->stderr_len) ||
        rt_research_scrub(all.data ? all.data : "", all.len, st->test_metric, &clean))
        goto done;
    size_t from = clean.len > REASON_TAIL ? clean.len - REASON_TAIL : 0, k = 0;
    while (from < clean.len && clean.data[from] == '\n')
        from++;
    for (size_t i = from; i < clean.len && k + 4 < outlen; i++) {
        unsigned char c = (unsigned char)clean.data[i];
        if (c == '\n' && i + 1 < clean.len)
            k += (size_t)snprintf(out + k, outlen - k, " | ");
        else if (c >= 32 && c < 127)
            out[k++] = (char)c;
    }
    out[k] = '\0';
done:
    rt_buf_free(&all);
    rt_buf_free(&clean);
}

/* Classifies a finished run: 0 when it exited 0 with the metric, else ex->failed and the
 * reason ("crash: ...", "timeout: ...", "oom: ...", "no metric: ..."), with the output's tail. */
static void classify(const research_state *st, experiment *ex)
{
    const rt_sandbox_result *res = &ex->res;
    char what[200], tail[REASON_TAIL + 40];
    reason_tail(st, res, tail, sizeof tail);
    if (res->outcome == RT_SANDBOX_EXITED && res->exit_code == 0) {
        const char *out = res->stdout_data ? res->stdout_data : "";
        const char *errs = res->stderr_data ? res->stderr_data : "";
        if (rt_research_find_metric(out, res->stdout_len, st->metric, &ex->value) ||
            rt_research_find_metric(errs, res->stderr_len, st->metric, &ex->value)) {
            if (st->test_metric[0])
                ex->has_test =
                    rt_research_find_metric(out, res->stdout_len, st->test_metric, &ex->test) ||
                    rt_research_find_metric(errs, res->stderr_len, st->test_metric, &ex->test);
            return;
        }
        snprintf(what, sizeof what, "no metric: '%s' does not appear in the output", st->metric);
    } else if (res->outcome == RT_SANDBOX_EXITED) {
        snprintf(what, sizeof what, "crash: exit status %d", res->exit_code);
    } else if (res->outcome == RT_SANDBOX_SIGNALED) {
        snprintf(what, sizeof what, "crash: killed by signal %d", res->signal);
    } else if (res->outcome == RT_SANDBOX_TIMEOUT || res->outcome == RT_SANDBOX_CPU) {
        snprintf(what, sizeof what, "timeout: %.150s", res->reason);
    } else if (res->outcome == RT_SANDBOX_MEMORY) {
        snprintf(what, sizeof what, "oom: %.150s", res->reason);
    } else {
        snprintf(what, sizeof what, "crash: %.20s: %.150s", rt_sandbox_outcome_name(res->outcome),
                 res->reason);
    }
    ex->failed = 1;
    snprintf(ex->reason, sizeof ex->reason, "%.180s%s%.180s", what,
             tail[0] ? "; output: ... " : "", tail);
}

/* Runs one experiment on text. Returns 0 with *ex filled (ex->res to free), or RT_ENOMEM. */
static int run_experiment(const research_state *st, const char *text, size_t len,
                          experiment *ex)
{
    memset(ex, 0, sizeof *ex);
    rt_research_part parts[RT_RESEARCH_MAX_FILES];
    char why[300];
    if (rt_research_split(text, len, st->nedits, st->edits, parts, why, sizeof why)) {
        ex->failed = 1;
        snprintf(ex->reason, sizeof ex->reason, "crash: %s", why);
        return 0;
    }
    ex->seed = next_seed(st);
    char names[RT_RESEARCH_MAX_FILES][40], envs[RT_RESEARCH_MAX_FILES + 8][4200];
    const char *env[RT_RESEARCH_MAX_FILES + 8];
    rt_sandbox_file files[RT_RESEARCH_MAX_FILES];
    size_t ne = 0;
    snprintf(envs[ne], sizeof envs[ne], "RATCHET_SEED=%llu", (unsigned long long)ex->seed);
    ne++;
    snprintf(envs[ne++], sizeof envs[0], "RATCHET_BUDGET=%.17g", st->budget);
    snprintf(envs[ne++], sizeof envs[0], "RATCHET_SRC=%s", st->dir);
    snprintf(envs[ne++], sizeof envs[0], "RATCHET_RUN=%s", st->run);
    snprintf(envs[ne++], sizeof envs[0], "RATCHET_NEDIT=%zu", st->nedits);
    for (size_t i = 0; i < st->nedits; i++) {
        snprintf(names[i], sizeof names[i], ".ratchet-edit-%zu", i);
        snprintf(envs[ne++], sizeof envs[0], "RATCHET_EDIT_%zu=%s", i, st->edits[i]);
        files[i] = (rt_sandbox_file){.name = names[i], .data = parts[i].data,
                                     .len = parts[i].len};
    }
    for (size_t i = 0; i < ne; i++)
        env[i] = envs[i];
    env[ne] = NULL;
    const char *argv[] = {"/bin/sh", "-c", COPY_SCRIPT, "ratchet-research", NULL};
    rt_sandbox_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = argv;
    spec.env = env;
    spec.files = files;
    spec.nfiles = st->nedits;
    spec.visible = st->visible;
    spec.limits.wall_seconds = st->budget;
    spec.limits.cpu_seconds = st->cpu_budget > 0 ? st->cpu_budget : -1;
    spec.limits.memory_mib = st->memory;
    char err[256] = "";
    int rc = rt_sandbox_run(&spec, &ex->res, err, sizeof err);
    if (rc == RT_ENOMEM)
        return rc;
    if (rc) {
        ex->failed = 1;
        snprintf(ex->reason, sizeof ex->reason, "crash: sandbox: %s", err);
        return 0;
    }
    classify(st, ex);
    return 0;
}

/* Last bytes of s (at most TAIL_BYTES) without the test metric's lines, as a JSON string. */
static json_t *log_tail(const research_state *st, const char *s, size_t len)
{
    rt_buf clean;
    rt_buf_init(&clean, 0);
    if (rt_research_scrub(s ? s : "", len, st->test_metric, &clean)) {
        rt_buf_free(&clean);
        return json_string("");
    }
    size_t from = clean.len > TAIL_BYTES ? clean.len - TAIL_BYTES : 0;
    char buf[TAIL_BYTES + 1];
    size_t k = 0;
    for (size_t i = from; i < clean.len; i++) {
        unsigned char c = (unsigned char)clean.data[i];
        buf[k++] = (c == '\n' || c == '\t' || (c >= 32 && c < 127)) ? (char)c : '?';
    }
    buf[k] = '\0';
    rt_buf_free(&clean);
    return json_string(buf);
}

/* The genome's metrics, shown metrics and artifacts from an experiment; 0 or RT_ENOMEM. */
static int annotate(const research_state *st, rt_program_genome *g, const experiment *ex)
{
    json_t *m = json_object(), *a = json_object();
    if (!m || !a)
        goto nomem;
    const rt_sandbox_result *res = &ex->res;
    if (!ex->failed)
        json_object_set_new(m, st->metric, json_real(ex->value));
    if (ex->has_test)
        json_object_set_new(m, st->test_metric, json_real(ex->test));
    json_object_set_new(m, "seed", json_integer((json_int_t)ex->seed));
    json_object_set_new(m, "seconds", json_real(res->wall_seconds));
    json_object_set_new(m, "cpu_seconds", json_real(res->cpu_seconds));
    json_object_set_new(m, "memory_gb", json_real((double)res->max_rss_kib / 1048576.0));
    json_object_set_new(a, "outcome", json_string(ex->failed ? ex->reason : "ok"));
    json_object_set_new(a, "stdout_tail", log_tail(st, res->stdout_data, res->stdout_len));
    json_object_set_new(a, "stderr_tail", log_tail(st, res->stderr_data, res->stderr_len));
    g->metrics = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    g->artifacts = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
    if (!g->metrics || !g->artifacts)
        goto nomem;
    g->shown = rt_research_hide_test(st, g->metrics);
    json_decref(m);
    json_decref(a);
    return 0;
nomem:
    json_decref(m);
    json_decref(a);
    return RT_ENOMEM;
}

int rt_research_evaluate(const void *state, void *genome, rt_evaluation *out)
{
    const research_state *st = state;
    rt_program_genome *g = genome;
    memset(out, 0, sizeof *out);
    free(g->metrics);
    free(g->artifacts);
    free(g->shown);
    g->metrics = g->artifacts = g->shown = NULL;
    g->evaluated = 1;
    g->failed = 0;
    experiment ex;
    int rc = run_experiment(st, g->text, g->len, &ex);
    if (!rc)
        rc = annotate(st, g, &ex);
    rt_sandbox_result_free(&ex.res);
    if (rc)
        return rc;
    if (ex.failed) {
        g->failed = out->failed = 1;
        snprintf(out->reason, sizeof out->reason, "%s", ex.reason);
    } else {
        g->score = st->maximize ? ex.value : -ex.value;
    }
    out->metrics = g->metrics;
    out->artifacts = g->artifacts;
    return 0;
}

int rt_research_verify(const void *state, const char *text, size_t len, rt_verdict *out,
                       char *err, size_t errlen)
{
    const research_state *st = state;
    memset(out, 0, sizeof *out);
    snprintf(out->metric_name, sizeof out->metric_name, "%.31s", st->metric);
    if (len > RT_PROGRAM_MAX_TEXT)
        return rt_fail(err, errlen, RT_ETOOBIG, "candidate over the cap of %zu bytes",
                       (size_t)RT_PROGRAM_MAX_TEXT);
    char why[400] = "";
    /* text outside the editable regions is the initial text's, byte for byte */
    if (rt_edit_check_rewrite(st->initial_text, st->initial_len, text, len, why, sizeof why)) {
        snprintf(out->reason, sizeof out->reason, "%s", why);
        return 0;
    }
    experiment ex;
    int rc = run_experiment(st, text, len, &ex);
    rt_sandbox_result_free(&ex.res);
    if (rc)
        return rt_fail(err, errlen, rc, "out of memory");
    if (ex.failed) {
        snprintf(out->reason, sizeof out->reason, "re-run (seed %llu): %s",
                 (unsigned long long)ex.seed, ex.reason);
        return 0;
    }
    out->valid = 1;
    out->score = st->maximize ? ex.value : -ex.value;
    out->metric = ex.value;
    snprintf(out->summary, sizeof out->summary, "re-run with seed %llu: %s %.17g",
             (unsigned long long)ex.seed, st->metric, ex.value);
    return 0;
}
