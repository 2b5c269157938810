/* cmd_show.c — `ratchet show STORE ID`: one candidate: its text, scores, verdict and reason,
 * metrics and artifacts (read-only). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

typedef struct show_args {
    const char *pos[2]; /* STORE ID */
    int json, text_only;
} show_args;

#define AT(field) offsetof(show_args, field)
static const arg_opt show_opts[] = {
    {"json", NULL, ARG_FLAG, 0, 0, NULL, AT(json), "one JSON object"},
    {"text", NULL, ARG_FLAG, 0, 0, NULL, AT(text_only), "print the text alone"},
    {0},
};

static void help_show(FILE *f)
{
    fprintf(f, "usage: ratchet show STORE ID [--json|--text]\n\n"
               "Shows candidate ID (a row id, or 'best'): the proxy's claim, the verifier's\n"
               "verdict (and why it failed), the gate's decision, the metrics and artifacts of\n"
               "an external evaluation, and the stored text. Read-only.\n");
    args_help(f, show_opts, 9);
}

/* Prints the candidate as text. */
static void show_text(const rt_candidate *c, const char *text, const char *metrics,
                      const char *artifacts)
{
    printf("candidate  %lld  (hash %s)\n", c->id, c->hash);
    printf("parent     %s\n", c->parent[0] ? c->parent : "none (the seed)");
    printf("made by    %s on island %d, generation %lld, %.3f s into the run\n", c->op,
           c->island, c->generation, c->time);
    printf("proxy      %.17g, %.17g\n", c->proxy, c->proxy2);
    if (c->valid)
        printf("verified   valid: metric %.17g, score %.17g, %.17g\n", c->metric, c->score,
               c->score2);
    else
        printf("verified   INVALID: %s\n", c->reason[0] ? c->reason : "(no reason stored)");
    printf("gate       %s%s\n", c->admitted ? "admitted" : c->valid ? "kept out" : "rejected",
           c->trusted ? " (on the proxy alone: --trust-proxy)" : "");
    if (metrics)
        printf("metrics    %s\n", metrics);
    if (artifacts)
        printf("artifacts  %s\n", artifacts);
    printf("---- text (%zu bytes) ----\n%s", strlen(text), text);
    if (*text && text[strlen(text) - 1] != '\n')
        fputc('\n', stdout);
}

/* Prints the candidate as one JSON object; -1 when it could not be written. */
static int show_json(const rt_candidate *c, const char *text, const char *metrics,
                     const char *artifacts)
{
    json_t *o = cand_json(c);
    json_object_set_new(o, "text", json_string(text));
    json_object_set_new(o, "metrics", metrics ? json_loads(metrics, 0, NULL) : json_null());
    json_object_set_new(o, "artifacts", artifacts ? json_loads(artifacts, 0, NULL) : json_null());
    return print_json(o, JSON_INDENT(2));
}

int cmd_show(int argc, char **argv)
{
    static const arg_spec spec = {"show", show_opts, help_show, AT(pos), NULL, NULL};
    show_args a = {0};
    int rc = args_parse_n(&spec, 1, argc, argv, &a, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.pos[1]) {
        usage_error("show: name a store file and a candidate id (see ratchet show --help)");
        return EXIT_USAGE;
    }
    rt_store *st = browse_open("show", a.pos[0]);
    if (!st)
        return EXIT_USAGE;
    long long id;
    rt_candidate c;
    char *text = NULL, *metrics = NULL, *artifacts = NULL;
    rc = browse_id("show", st, a.pos[1], &id);
    if (!rc && (rt_store_candidate(st, id, &c) || rt_store_candidate_text(st, id, &text) ||
                rt_store_candidate_eval(st, id, &metrics, &artifacts))) {
        usage_error("show: %s", rt_store_errmsg(st));
        rc = EXIT_USAGE;
    }
    if (!rc && a.text_only)
        fputs(text, stdout);
    else if (!rc && a.json && show_json(&c, text, metrics, artifacts))
        rc = EXIT_USAGE, usage_error("show: cannot write the candidate");
    else if (!rc && !a.json)
        show_text(&c, text, metrics, artifacts);
    free(text);
    free(metrics);
    free(artifacts);
    rt_store_close(st);
    return rc;
}
