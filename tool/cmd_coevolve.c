/* cmd_coevolve.c — `ratchet coevolve binpack --seconds N --store FILE [--resume]`: co-evolves
 * bin packing solvers and the posers that set their curriculum (docs/coevolution.md). */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

typedef struct coevolve_args {
    const char *problem, *store, *out;
    int resume, quiet;
    rt_coevolve_options o;
} coevolve_args;

#define AT(field) offsetof(coevolve_args, field)
static const arg_opt coevolve_opts[] = {
    {"store", "FILE", ARG_TEXT, 0, 0, "a file", AT(store), "the run's store (new, or --resume)"},
    {"seconds", "N", ARG_NUM, 0.001, 1e7, "a number of seconds", AT(o.seconds),
     "this session's budget"},
    {"resume", NULL, ARG_FLAG, 0, 0, NULL, AT(resume), "continue the run in --store"},
    {"seed", "S", ARG_SEED, 0, 0, NULL, AT(o.seed), "random seed of a new run (default 1)"},
    {"epoch-seconds", "N", ARG_NUM, 0.01, 3600, "0.01 to 3600", AT(o.epoch_seconds),
     "solver search per epoch (default 2)"},
    {"solvers", "N", ARG_INT, 2, 64, "2 to 64", AT(o.solvers), "solver population (16)"},
    {"posers", "N", ARG_INT, 2, 32, "2 to 32", AT(o.posers), "poser population (8)"},
    {"curriculum", "N", ARG_INT, 0, 32, "0 to 32", AT(o.curriculum),
     "best posers whose instances the solvers train on (6)"},
    {"hall", "N", ARG_INT, 1, 16, "1 to 16", AT(o.hall), "hall of fame (8)"},
    {"out", "FILE", ARG_TEXT, 0, 0, "a file", AT(out),
     "write the final generalist's expression there"},
    {"quiet", NULL, ARG_FLAG, 0, 0, NULL, AT(quiet), "no line per epoch"},
    {0},
};

static void help_coevolve(FILE *f)
{
    fprintf(f, "usage: ratchet coevolve binpack --seconds N --store FILE [--resume] [OPTIONS]\n\n"
               "Co-evolves online bin packing solvers (priority expressions) and posers\n"
               "(instance generators): posers are rewarded for instances where the best\n"
               "solvers disagree or fall behind a verified reference packing, and for novelty;\n"
               "solvers train on the best posers' instances plus a fixed anchor set. Both\n"
               "populations live in one store (status, best, audit read it).\n");
    args_help(f, coevolve_opts, 18);
}

static volatile int stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void print_line(const char *line, void *user)
{
    (void)user;
    printf("%s\n", line);
    fflush(stdout);
}

int cmd_coevolve(int argc, char **argv)
{
    static const arg_spec spec = {"coevolve", coevolve_opts, help_coevolve, AT(problem), NULL,
                                  NULL};
    coevolve_args a = {0};
    rt_coevolve_options_init(&a.o);
    int rc = args_parse(&spec, argc, argv, &a, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.problem || strcmp(a.problem, "binpack") != 0 || !a.store || !(a.o.seconds > 0)) {
        usage_error("coevolve: usage: ratchet coevolve binpack --seconds N --store FILE "
                    "(see ratchet coevolve --help)");
        return EXIT_USAGE;
    }
    if (!a.quiet)
        a.o.report = print_line;
    a.o.stop = &stop_flag;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    char *generalist = NULL;
    rt_error err = {0};
    rc = rt_binpack_coevolve(a.store, a.resume, &a.o, &generalist, &err);
    if (rc) {
        usage_error("coevolve: %s", err.msg);
        return exit_for(rc);
    }
    printf("generalist %s", generalist);
    if (a.out) {
        FILE *f = fopen(a.out, "w");
        int bad = !f || fputs(generalist, f) < 0;
        if (f)
            bad |= fclose(f) != 0;
        if (bad) {
            usage_error("coevolve: cannot write --out %s", a.out);
            free(generalist);
            return EXIT_USAGE;
        }
    }
    free(generalist);
    return 0;
}
