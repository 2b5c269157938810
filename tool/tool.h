/* tool.h — the `ratchet` command's shared declarations. The tool uses only the public API
 * (include/ratchet.h); nothing here is part of the library.
 *
 * Layout: ratchet.c holds main and the command table; each command is one file cmd_NAME.c with
 * its entry point cmd_NAME; the helpers several commands share are the modules below, each
 * named for its job.
 *
 * Strings: option values and positional arguments are pointers into argv (which commands may
 * split in place, "--name=value"); nothing here frees them.
 */
#ifndef RT_TOOL_H
#define RT_TOOL_H

#include <jansson.h>
#include <stdio.h>

#include "ratchet.h"

/* Exit codes: 0 success; 1 a verification failed or a run failed; 2 bad usage or bad input
 * (unknown options, malformed files, unreadable or foreign stores, a full disk); 130 stopped by
 * Ctrl-C before anything was stored (a meta run judging its start policy). */
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_STOPPED 130

/* ---- the commands (one file each: tool/cmd_NAME.c) ---------------------------------------- */

/* Each takes the command's own arguments (argv[0] is the command's name) and returns the exit
 * status; usage errors are one line on stderr. */
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_best(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_lift(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_meta(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_coevolve(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_lineage(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_research(int argc, char **argv);

/* cmd_research.c: the kept chain of a research run for `status` (nothing for other runs). */
void research_status(rt_store *st, FILE *f);

/* ---- ratchet.c: messages and exit codes -------------------------------------------------- */

/* Prints "ratchet: " and the message as one line on stderr. */
void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The exit status for a library error code: 0 for RT_OK, 1 for a failed verification or an
 * internal error, 2 for everything else (usage, input, stores, I/O). */
int exit_for(int code);

/* ---- args.c: options from a table ------------------------------------------------------- */

/* A command's options are rows of a table, as curl's: the parser, the range checks, the error
 * messages and the option lines of the help all come from the rows. An option is given as
 * `--name value` or `--name=value` (a flag as `--name`); --help and -h print the help. */
typedef enum arg_type {
    ARG_FLAG, /* no value: sets an int to 1 */
    ARG_TEXT, /* a string: a const char * into argv */
    ARG_INT,  /* an integer within [lo, hi]: an int */
    ARG_LONG, /* an integer within [lo, hi]: a long long */
    ARG_SEED, /* any non-negative integer: a uint64_t */
    ARG_NUM,  /* a number within [lo, hi]: a double */
} arg_type;

typedef struct arg_opt {
    const char *name;   /* without the leading "--"; NULL ends a table */
    const char *value;  /* the value's name in the help ("FILE", "N"); NULL for a flag */
    arg_type type;
    double lo, hi;      /* ARG_INT, ARG_LONG, ARG_NUM: the accepted range */
    const char *expect; /* numbers: what a bad value was expected to be ("1 to 64"); text: when
                           set, the value may not be empty and a missing one "needs" this */
    size_t offset;      /* where the value goes in the command's struct (offsetof) */
    const char *help;   /* the help text, lines separated by '\n'; NULL: not listed */
} arg_opt;

/* How a command reads its arguments. */
typedef struct arg_spec {
    const char *cmd;       /* the command: the prefix of every message */
    const arg_opt *opts;   /* its options */
    void (*help)(FILE *f); /* prints the command's help */
    long positional;       /* offset of the const char * taking the first positional argument,
                              or -1 when the command takes none */
    /* An option not in opts (it takes a value): returns 0, or EXIT_USAGE after printing one
     * line. NULL: such an option is an error. */
    int (*other)(void *dest, const char *name, const char *value);
    /* 1 when other takes the option name, 0 when it is unknown (named in the error before any
     * value is read). NULL: other takes every option. */
    int (*known)(const void *dest, const char *name);
} arg_spec;

/* Reads argv[1..argc-1] into dest (the command's struct) as spec says, splitting
 * "--name=value" arguments in place. seen, when not NULL, has one int per row, zeroed by the
 * caller; each given row's is set to the index in argv of its last occurrence. Returns 0, -1
 * after printing the help (the command then exits 0), or EXIT_USAGE after printing one line. */
int args_parse(const arg_spec *spec, int argc, char **argv, void *dest, int *seen);
/* The same for a command taking 1 + more positional arguments, into the const char * slots
 * from spec->positional on (an array: const char *pos[1 + more]). */
int args_parse_n(const arg_spec *spec, int more, int argc, char **argv, void *dest, int *seen);
/* A look at the arguments before they are parsed (what the options of a command depend on: the
 * problem named, the store resumed). The caller sets names (NULL-terminated); args_peek sets
 * values[i] to the last value of --names[i] (NULL when not given), positional to the first
 * positional argument and help when -h or --help is among the arguments. Options that are not
 * in the table are taken to have a value, as args_parse reads them. Nothing is printed. */
#define ARGS_PEEK_MAX 4
typedef struct args_seen {
    const char *names[ARGS_PEEK_MAX];
    const char *values[ARGS_PEEK_MAX];
    const char *positional;
    int help;
} args_seen;
void args_peek(const arg_spec *spec, int argc, char **argv, args_seen *out);

/* Arguments read from a configuration file: args_note_origin records where the argument string
 * arg (a copy the caller keeps as long as the arguments are used) came from ("FILE:LINE"; at
 * most 256 are kept); args_parse then puts that place in front of its messages about it.
 * args_origin returns the place of an argument, or of a pointer into one (an option's value),
 * or NULL. */
void args_note_origin(const char *arg, const char *where);
const char *args_origin(const char *p);

/* Prints the rows' option lines, descriptions starting width columns after the indent. */
void args_help(FILE *f, const arg_opt *opts, int width);
/* One option line: head ("--name VALUE"), then help's lines, the later ones indented. */
void args_help_line(FILE *f, const char *head, const char *help, int width);

#define ARG_MAX_PARAMS 16

/* A problem's parameters as given on the command line (pointers into argv). */
typedef struct arg_params {
    const char *keys[ARG_MAX_PARAMS];
    const char *values[ARG_MAX_PARAMS];
    size_t n;
} arg_params;

/* Adds a parameter: 0, or EXIT_USAGE after printing "CMD: too many options". */
int args_param(const char *cmd, arg_params *params, const char *name, const char *value);

/* ---- input.c: reading files ------------------------------------------------------------- */

/* Reads PATH ("-": standard input) into a fresh NUL-terminated buffer (the caller frees *out),
 * refusing files of limit bytes or more. Returns 0, or -1 with the reason in msg. */
int input_read(const char *path, size_t limit, char **out, size_t *len, char *msg,
               size_t msglen);
/* Reads a policy file (under 64 KiB, no NUL byte) the same way; what is put before the path in
 * messages ("policy ": "cannot read policy PATH: ...", "policy PATH: over 64 KiB"). */
int input_read_policy(const char *path, const char *what, char **out, size_t *len, char *msg,
                      size_t msglen);

/* ---- output.c: what several commands print ---------------------------------------------- */

/* A JSON number: an integer when the value is one (ranks print as 23, not 23.0). */
json_t *json_number(double v);
/* Prints o and a newline on stdout and releases o. Returns 0, or -1 when it could not be
 * written out (nothing printed). */
int print_json(json_t *o, size_t flags);
/* The "Problems:" list of the help texts. */
void print_problems(FILE *f);

/* ---- browse.c: what list, show, diff, lineage and watch share ---------------------------- */

/* Opens path read-only for command cmd; NULL after printing one line ("cmd: why"). */
rt_store *browse_open(const char *cmd, const char *path);
/* Reads a candidate id ("17"; "best" for the best verified one) into *id. Returns 0, or
 * EXIT_USAGE after printing one line; a store that has no such candidate is refused the same way. */
int browse_id(const char *cmd, rt_store *st, const char *s, long long *id);
/* The row as a new JSON object (the caller owns it). */
json_t *cand_json(const rt_candidate *c);
/* The row as one line of text: id, verdict, scores, island, generation, operator. */
void cand_line(FILE *f, const rt_candidate *c);

/* ---- config_args.c: `run` options from a configuration file ------------------------------ */

/* Expands the arguments of `ratchet run` (argv[0] is "run"; opts its option table) with the
 * entries of a configuration file, placed before the command line's own options so that flags
 * override the file. The file is --config FILE, else ratchet.ini next to --initial FILE when the
 * problem is `program`; with neither, *out_argv is argv. A key is any long option (run's own,
 * the llm proposer's, the problem's; a flag takes true or false); args_parse checks them as it
 * checks flags, and names FILE:LINE in its messages (args_note_origin). Relative paths in the
 * file (initial, evaluator, verifier, store, resume, policy, llm-prompts, visible, the command's
 * program) are taken relative to the file's folder. Returns 0, or EXIT_USAGE after printing one
 * line naming FILE:LINE. Free the result with config_args_free(argv, *out_argv, *out_argc). */
int config_args_expand(const arg_opt *opts, int argc, char **argv, int *out_argc,
                       char ***out_argv);
void config_args_free(char **argv, char **expanded, int argc);

/* ---- llm.c: the llm proposer's options of `run` and its lines in `status` ----------------- */

/* Takes a `run` option that belongs to the llm proposer (--model, --llm-*); returns 1
 * when it did (value stored in opt, which keeps pointers into argv), 0 when the option is not
 * one of them, -1 after printing a usage error (too many options). */
int llm_run_option(const char *name, const char *value, rt_run_options *opt);
/* 1 when name is one of those options, else 0. */
int llm_run_known(const char *name);
/* Help lines for those options. */
void llm_run_help(FILE *f);
/* Prints the run's model spend (nothing for runs without requests), as text or into a JSON
 * object ("llm"). Returns 0, or a library error code with the store's message printed. */
int llm_status(rt_store *st, FILE *out, json_t *obj);

/* ---- drift.c: the drift section of `status` ---------------------------------------------- */

/* Prints the drift lines (proxy against verdict, the --trust-proxy warnings) on stdout. */
void drift_print(const rt_drift *d);
/* The same as a new JSON object (the caller owns it). */
json_t *drift_json(const rt_drift *d);

/* ---- runs_dir.c: where a new run's store goes when none is named ------------------------ */

/* Creates a new run (rt_run_create) in runs/NAME-DATE-TIME.db (runs/ made when missing; -2,
 * -3, ... after the time when a store of that name exists or appears meanwhile); path receives
 * the store's path. Returns a library code; RT_EUSAGE with err->msg empty after printing one
 * line ("CMD: why") when no name could be made, else err has the message. */
int runs_dir_create(const char *cmd, const char *name, const rt_problem *problem,
                    const rt_run_options *opt, rt_run **run, char *path, size_t pathlen,
                    rt_error *err);
/* Makes runs/ when missing. Returns 0, or -1 after printing one line ("CMD: why") when it cannot
 * (a file in the way, no permission): a command that prints notes before creating its run asks
 * first, so that this bad input is refused before them. */
int runs_dir_ready(const char *cmd);

/* ---- stopping.c: Ctrl-C while a run executes --------------------------------------------- */

/* Until called with work NULL, SIGINT and SIGTERM stop run: the first prints that it cuts WORK
 * ("the work", "the experiment") in flight and calls rt_run_stop; the second exits at once,
 * naming `ratchet COMMAND --resume` as the way on. run may be NULL while a run is being created
 * (meta judges its reference policy then): the first signal then only calls the function of
 * stop_also_calls, and the second says that no store was made. */
void stop_on_signals(rt_run *run, const char *work, const char *command);
/* The first signal also calls fn (async-signal-safe; NULL: nothing), until stop_on_signals is
 * called with work NULL. */
void stop_also_calls(void (*fn)(void));
/* 1 once a first signal was handled (in this process), else 0. */
int stop_signalled(void);

#endif
