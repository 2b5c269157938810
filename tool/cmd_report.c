/* cmd_report.c — `ratchet report STORE -o FILE`: writes one self-contained HTML page about a
 * run (docs/report.md). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

typedef struct report_args {
    const char *path, *out;
    int quiet;
} report_args;

#define AT(field) offsetof(report_args, field)
static const arg_opt report_opts[] = {
    {"output", "FILE", ARG_TEXT, 0, 0, "a file name", AT(out),
     "write the page to FILE (also -o FILE); default report.html"},
    {"quiet", NULL, ARG_FLAG, 0, 0, NULL, AT(quiet), "print nothing on success"},
    {0},
};

static void help_report(FILE *f)
{
    fprintf(f, "usage: ratchet report STORE [-o FILE]\n\n"
               "Writes one HTML page about the run (best score over time per island, proxy\n"
               "against verdict, rate, drift, operator and model credit, MAP-Elites grids, the\n"
               "lineage of the best with texts and diffs, the problem's picture of the best).\n"
               "The page is self-contained: it loads nothing from the network. Read-only.\n");
    args_help(f, report_opts, 14);
}

int cmd_report(int argc, char **argv)
{
    static const arg_spec spec = {"report", report_opts, help_report, AT(path), NULL, NULL};
    report_args a = {0};
    for (int i = 1; i < argc; i++) /* -o FILE: the short form of --output */
        if (strcmp(argv[i], "-o") == 0)
            argv[i] = "--output";
    int rc = args_parse(&spec, argc, argv, &a, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.path) {
        usage_error("report: name a store file (see ratchet report --help)");
        return EXIT_USAGE;
    }
    const char *out = a.out ? a.out : "report.html";
    rt_error err = {0};
    rt_store *st = NULL;
    if (rt_store_open(&st, a.path, &err)) {
        usage_error("report: %s", err.msg);
        return EXIT_USAGE;
    }
    rt_report_info info;
    rc = rt_store_report(st, out, &info);
    if (rc)
        usage_error("report: %s", rt_store_errmsg(st));
    else if (!a.quiet)
        printf("wrote %s: %zu bytes, %lld candidates, %d in the lineage tree%s\n", out, info.bytes,
               info.candidates, info.lineage_nodes,
               info.texts_omitted ? " (some texts left out)" : "");
    rt_store_close(st);
    return rc ? EXIT_USAGE : 0;
}
