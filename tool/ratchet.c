/* ratchet.c — the command-line tool: main and the command table. It uses only the public API in
 * include/ratchet.h; each command lives in its own file (tool/cmd_NAME.c), and tool/tool.h lists
 * them with the helpers they share.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char *progname = "ratchet";

void usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int exit_for(int code)
{
    switch (code) {
    case RT_OK:
        return 0;
    case RT_EINVALID:
    case RT_EINTERNAL:
    case RT_EFAILED:
        return EXIT_FAIL;
    default:
        return EXIT_USAGE;
    }
}

/* ---- the command table ------------------------------------------------------------------ */

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* NULL: dispatched by main before the table */
    const char *help;                  /* its line in `ratchet --help` */
} command;

static int cmd_version(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: ratchet version\n\nPrints the version.\n");
            return 0;
        }
    if (argc > 1) {
        usage_error("version: unexpected argument '%s'", argv[1]);
        return EXIT_USAGE;
    }
    printf("ratchet %s\n", RT_VERSION);
    return 0;
}

static const command commands[] = {
    {"run", cmd_run, "search a problem, or resume a run (ratchet run --help)"},
    {"status", cmd_status, "summarise a run's store"},
    {"best", cmd_best, "print a run's best verified candidate"},
    {"verify", cmd_verify, "verify a candidate file independently"},
    {"lift", cmd_lift, "lift a GF(2) matmul scheme to the integers (ratchet lift --help)"},
    {"audit", cmd_audit, "re-check a store: hashes, lineage chain, every admitted candidate"},
    {"policy", cmd_policy, "print the default policy, or a policy file merged over it"},
    {"meta", cmd_meta, "evolve policies on training problems, admit on held-out ones"},
    {"coevolve", cmd_coevolve, "co-evolve bin packing solvers and task posers (ratchet coevolve --help)"},
    {"gen", cmd_gen, "write generated bin packing instances (ratchet gen --help)"},
    {"eval", cmd_eval, "pack instance files with a binpack solver, checked (ratchet eval --help)"},
    {"list", cmd_list, "list a store's candidates (filters, top N, --json)"},
    {"show", cmd_show, "show one candidate: text, scores, verdict, metrics"},
    {"diff", cmd_diff, "unified diff of a candidate against its parent or another"},
    {"lineage", cmd_lineage, "a candidate's ancestors back to the seed, with scores"},
    {"report", cmd_report, "write a self-contained HTML report of a run"},
    {"watch", cmd_watch, "live view of a run in the terminal (read-only)"},
    {"research", cmd_research, "experiments on a training program, kept when they hold up"},
    {"jail", NULL, "(inside a sandbox) run a candidate in a jail of its own (ratchet jail --help)"},
    {"version", cmd_version, "print the version"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void help_main(FILE *f)
{
    fprintf(f, "usage: ratchet COMMAND [ARGS]\n"
               "\n"
               "ratchet searches for better programs and algorithms and keeps only what an\n"
               "independent verifier has proved. Every run lives in one store file that survives\n"
               "a crash and can be resumed.\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    fputc('\n', f);
    print_problems(f);
    fprintf(f, "\nExit codes: 0 ok, 1 verification or run failure, 2 bad usage or input.\n");
}

int main(int argc, char **argv)
{
    signal(SIGXFSZ, SIG_IGN); /* a file-size limit makes writes fail instead of killing us */
    signal(SIGPIPE, SIG_IGN);
    /* inside a sandbox this program is also the jail's client ($RATCHET_JAIL) */
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (strcmp(base, "ratchet-jail") == 0)
        return rt_jail_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "jail") == 0)
        return rt_jail_main(argc - 1, argv + 1);
    /* every sandbox this process starts offers this program as its jail (or the client that
     * RATCHET_JAIL_HELPER names: a sanitizer build cannot start under the sandbox's limits) */
    const char *helper = getenv("RATCHET_JAIL_HELPER");
    if (rt_jail_set_helper(helper && helper[0] ? helper : "/proc/self/exe") != 0)
        fprintf(stderr, "ratchet: RATCHET_JAIL_HELPER=%s is not an executable file: no jail\n",
                helper ? helper : "");
    if (argc < 2) {
        help_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc < 3 || strcmp(cmd, "help") != 0) {
            help_main(stdout);
            return 0;
        }
        /* ratchet help COMMAND: that command's --help */
        char *help_argv[] = {argv[2], "--help", NULL};
        if (strcmp(argv[2], "jail") == 0)
            return rt_jail_main(2, help_argv);
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (commands[i].run && strcmp(argv[2], commands[i].name) == 0)
                return commands[i].run(2, help_argv);
        usage_error("help: unknown command '%s' (see ratchet --help)", argv[2]);
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "--version") == 0)
        cmd = "version";
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].run && strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    usage_error("unknown command '%s' (see ratchet --help)", cmd);
    return EXIT_USAGE;
}
