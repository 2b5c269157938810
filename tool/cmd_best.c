/* cmd_best.c — `ratchet best STORE`: prints the run's best verified candidate in a format, or
 * writes its certificate. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

typedef struct best_args {
    const char *path, *format, *cert_dir;
    int json;
} best_args;

#define AT(field) offsetof(best_args, field)
static const arg_opt best_opts[] = {
    {"format", "FORMAT", ARG_TEXT, 0, 0, NULL, AT(format),
     "matmul: exp (default), json, c (a C function) or lift (a\n"
     "GF(2) scheme lifted to the integers); program: text;\n"
     "binpack: text, c (a C priority function) or python (a\n"
     "FunSearch-style priority(item, bins) over NumPy arrays)"},
    {"json", NULL, ARG_FLAG, 0, 0, NULL, AT(json), "same as --format json"},
    {"certificate", "DIR", ARG_TEXT, 0, 0, "a folder", AT(cert_dir),
     "instead, write what an outsider needs to check it without\n"
     "ratchet into DIR (matmul: scheme.exp, check_scheme.c,\n"
     "README.txt)"},
    {0},
};

static void help_best(FILE *f)
{
    fprintf(f, "usage: ratchet best STORE [--format FORMAT] [--json] [--certificate DIR]\n\n"
               "Prints the run's best verified candidate on standard output.\n");
    args_help(f, best_opts, 19);
}

int cmd_best(int argc, char **argv)
{
    static const arg_spec spec = {"best", best_opts, help_best, AT(path), NULL, NULL};
    best_args a = {0};
    int rc = args_parse(&spec, argc, argv, &a, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.path) {
        usage_error("best: name a store file (see ratchet best --help)");
        return EXIT_USAGE;
    }
    const char *path = a.path, *format = a.format, *cert_dir = a.cert_dir;
    if (cert_dir) {
        rt_error cerr = {0};
        rt_store *cst = NULL;
        if (rt_store_open(&cst, path, &cerr)) {
            usage_error("best: %s", cerr.msg);
            return exit_for(cerr.code);
        }
        rc = rt_store_certificate(cst, cert_dir);
        if (rc)
            usage_error("best: %s", rt_store_errmsg(cst));
        else
            printf("certificate written to %s (see %s/README.txt)\n", cert_dir, cert_dir);
        rt_store_close(cst);
        return exit_for(rc);
    }
    if (a.json)
        format = "json";
    rt_error err = {0};
    rt_store *st = NULL;
    if (rt_store_open(&st, path, &err)) {
        usage_error("best: %s", err.msg);
        return exit_for(err.code);
    }
    char *text = NULL, *out = NULL;
    rt_problem *pb = NULL;
    rc = rt_store_best(st, &text);
    if (!rc)
        rc = rt_store_problem(st, &pb);
    if (rc) {
        usage_error("best: %s", rt_store_errmsg(st));
        rt_store_close(st);
        free(text);
        return exit_for(rc);
    }
    rt_store_close(st);
    if (!format) /* each problem's natural format */
        format = strcmp(rt_problem_name(pb), "matmul") == 0 ? "exp" : "text";
    rc = rt_problem_convert(pb, text, strlen(text), format, &out, &err);
    free(text);
    rt_problem_close(pb);
    if (rc) {
        usage_error("best: %s", err.msg);
        return exit_for(rc);
    }
    fputs(out, stdout);
    if (*out && out[strlen(out) - 1] != '\n')
        fputc('\n', stdout);
    free(out);
    return 0;
}
