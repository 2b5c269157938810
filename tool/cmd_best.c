/* cmd_best.c — `ratchet best STORE`: prints the run's best verified candidate in a format, or
 * writes its certificate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static void help_best(FILE *f)
{
    fprintf(f, "usage: ratchet best STORE [--format FORMAT] [--json] [--certificate DIR]\n\n"
               "Prints the run's best verified candidate on standard output.\n"
               "  --format FORMAT    matmul: exp (default), json, c (a C function) or lift (a\n"
               "                     GF(2) scheme lifted to the integers); program: text\n"
               "  --json             same as --format json\n"
               "  --certificate DIR  instead, write what an outsider needs to check it without\n"
               "                     ratchet into DIR (matmul: scheme.exp, check_scheme.c,\n"
               "                     README.txt)\n");
}

int cmd_best(int argc, char **argv)
{
    static const char *const flags[] = {"json", "format", NULL};
    const char *path, *format = NULL, *cert_dir = NULL;
    int json = 0;
    /* --certificate DIR is taken out here; open_store_arg reads the rest */
    char *rest[256];
    int nrest = 0;
    for (int i = 0; i < argc && nrest < 255; i++) {
        if (i > 0 && strncmp(argv[i], "--certificate", 13) == 0 &&
            (argv[i][13] == '\0' || argv[i][13] == '=')) {
            if (argv[i][13] == '=') {
                cert_dir = argv[i] + 14;
            } else if (i + 1 < argc) {
                cert_dir = argv[++i];
            } else {
                usage_error("best: --certificate needs a folder");
                return EXIT_USAGE;
            }
            if (!*cert_dir) {
                usage_error("best: --certificate needs a folder");
                return EXIT_USAGE;
            }
            continue;
        }
        rest[nrest++] = argv[i];
    }
    rest[nrest] = NULL;
    int rc = open_store_arg(nrest, rest, "best", help_best, flags, &path, &json, &format);
    if (rc)
        return rc < 0 ? 0 : rc;
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
    if (json)
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
