/* cmd_audit.c — `ratchet audit STORE`: re-checks a store in this fresh process from its file
 * alone (rt_store_audit), prints a summary and every failure found; exit 0 when the store
 * passes, 1 when anything fails (each failure named), 2 when the store cannot be read. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

typedef struct audit_args {
    const char *path, *expect_head;
    int json;
} audit_args;

#define AT(field) offsetof(audit_args, field)
static const arg_opt audit_opts[] = {
    {"json", NULL, ARG_FLAG, 0, 0, NULL, AT(json), "print one JSON object"},
    {"expect-head", "HEX", ARG_TEXT, 0, 0, "64 lowercase hex digits", AT(expect_head),
     "also fail unless the chain head is HEX (a head recorded\n"
     "earlier, elsewhere: pins the whole store)"},
    {0},
};

static void help_audit(FILE *f)
{
    fprintf(f, "usage: ratchet audit STORE [--json]\n\n"
               "Re-checks a run's store from the file alone: SQLite's integrity check, every\n"
               "candidate's hash against its text, the lineage chain (each row carries the link\n"
               "of the row before it, so an edited, deleted or reordered row breaks it), the\n"
               "checkpoint's account of the chain, and every admitted candidate decoded,\n"
               "re-scored and re-verified from its stored text.\n"
               "Exit 0 when all hold, 1 naming each failure, 2 when the store cannot be read.\n");
    args_help(f, audit_opts, 20);
}

/* Prints the audit as one JSON object. */
static void audit_json(const char *path, const rt_audit *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "store", json_string(path));
    json_object_set_new(o, "passed", json_boolean(a->nfailures == 0));
    json_object_set_new(o, "rows", json_integer(a->rows));
    json_object_set_new(o, "links", json_integer(a->links));
    json_object_set_new(o, "admitted", json_integer(a->admitted));
    json_object_set_new(o, "reverified", json_integer(a->reverified));
    json_object_set_new(o, "trusted", json_integer(a->trusted));
    json_object_set_new(o, "head", json_string(a->head));
    json_object_set_new(o, "failures_total", json_integer(a->nfailures));
    json_t *arr = json_array();
    for (int i = 0; i < a->nlisted; i++)
        json_array_append_new(arr, json_string(a->failures[i]));
    json_object_set_new(o, "failures", arr);
    print_json(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

/* Prints the audit as text, one failure a line. */
static void audit_text(const char *path, const rt_audit *a)
{
    printf("store        %s\n", path);
    printf("rows         %lld, %lld chain links recomputed and matched\n", a->rows, a->links);
    printf("admitted     %lld, %lld re-verified from their stored text\n", a->admitted,
           a->reverified);
    if (a->trusted)
        printf("WARNING      %lld admitted on the proxy alone (--trust-proxy)\n", a->trusted);
    printf("chain head   %s\n", a->head[0] ? a->head : "(empty)");
    for (int i = 0; i < a->nlisted; i++)
        printf("FAIL         %s\n", a->failures[i]);
    if (a->nfailures > a->nlisted)
        printf("FAIL         ... and %lld more\n", a->nfailures - a->nlisted);
    printf("audit        %s\n", a->nfailures ? "FAILED" : "passed");
}

int cmd_audit(int argc, char **argv)
{
    static const arg_spec spec = {"audit", audit_opts, help_audit, AT(path), NULL, NULL};
    audit_args args = {0};
    int rc = args_parse(&spec, argc, argv, &args, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    const char *path = args.path, *expect_head = args.expect_head;
    if (expect_head && (strlen(expect_head) != 64 ||
                        strspn(expect_head, "0123456789abcdef") != 64)) {
        usage_error("audit: --expect-head needs 64 lowercase hex digits");
        return EXIT_USAGE;
    }
    if (!path) {
        usage_error("audit: name a store file (see ratchet audit --help)");
        return EXIT_USAGE;
    }
    rt_error err = {0};
    rt_store *st = NULL;
    if (rt_store_open(&st, path, &err)) {
        usage_error("audit: %s", err.msg);
        return EXIT_USAGE;
    }
    rt_audit a;
    rc = rt_store_audit(st, &a);
    if (rc) {
        usage_error("audit: %s", rt_store_errmsg(st));
        rt_store_close(st);
        return rc == RT_EINTERNAL ? EXIT_FAIL : EXIT_USAGE;
    }
    rt_store_close(st);
    if (expect_head && strcmp(expect_head, a.head) != 0) {
        if (a.nlisted < RT_AUDIT_MAX_FAILURES)
            snprintf(a.failures[a.nlisted++], sizeof a.failures[0],
                     "the chain head is %.16s..., not the expected %.16s... (the store was "
                     "rewritten or has grown since)",
                     a.head, expect_head);
        a.nfailures++;
    }
    if (args.json)
        audit_json(path, &a);
    else
        audit_text(path, &a);
    return a.nfailures ? EXIT_FAIL : 0;
}
