/* program.h — the `program` problem's internals shared with the proposers that write programs
 * (command, llm): the genome, the limits and the command line.
 *
 * A candidate is a program text (any language). Its proxy score comes from the user's evaluator,
 * run in the sandbox (src/sandbox.h) as `EVALUATOR candidate.EXT` in a fresh working directory,
 * its verdict from the verifier (or, without one, from a second evaluation whose score must
 * reproduce). Contracts: docs/program.md.
 *
 * Ownership: a genome owns its text, metrics and artifacts; rt_program_genome_new copies.
 */
#ifndef RT_PROGRAM_H
#define RT_PROGRAM_H

#include <stddef.h>

#include "problem.h"

typedef struct rt_program_genome {
    char *text;      /* NUL-terminated */
    size_t len;
    int evaluated;   /* evaluate() ran */
    int failed;
    double score;    /* the evaluator's score (evaluated and not failed) */
    char *metrics;   /* JSON object text or NULL */
    char *artifacts; /* JSON object text or NULL */
    int has_coords;  /* coords hold the cell of the metrics (--features) */
    int coords[RT_MAX_FEATURES];
    char *shown;     /* what proposers are shown of metrics when it differs from them (the
                        research problem: without the test metric), or NULL */
} rt_program_genome;

/* A fresh, unevaluated genome holding a copy of text; NULL when out of memory. */
rt_program_genome *rt_program_genome_new(const char *text, size_t len);

/* Copies a genome (text, evaluation, metrics, artifacts, shown) and frees one (NULL: no-op);
 * the methods of every problem whose genome this is (program, research). */
void *rt_program_genome_clone(const void *state, const void *genome);
void rt_program_genome_free(void *genome);

/* The builtin proposer's operator: changes one to three annotated values of the program's
 * editable regions (program_text.h); -1 when there is none to change. state is unused. */
int rt_program_tweak(const void *state, void *genome, rt_rng *rng, long long *work);

/* Splits a command line on blanks, with '...' and "..." quoting (no escapes), into buf (buflen
 * bytes) and argv (at most RT_PROGRAM_MAX_ARGS words, then NULL). 0, or RT_EUSAGE naming
 * --command (empty, too long, an unbalanced quote). */
#define RT_PROGRAM_MAX_ARGS 64
int rt_program_split_command(const char *line, char *buf, size_t buflen, const char **argv,
                             char *err, size_t errlen);

/* What a proposer of the program problem needs from its state. */
typedef struct rt_program_info {
    const char *initial_path;
    const char *const *command; /* argv of --command (NULL-terminated), or NULL if none */
    double command_timeout;     /* seconds */
    long memory_mib;
    const char *extension;      /* of the candidate file, e.g. ".c" */
} rt_program_info;

/* Fills info for a problem; RT_EUSAGE when problem is not a `program` problem (a `research`
 * problem answers the same through rt_research_program_info). */
int rt_program_info_get(const rt_problem *problem, rt_program_info *info);

/* The report's picture of a candidate: the "picture" member of its evaluator's artifacts (JSON
 * text, NULL: none) when it is one the report draws (docs/report.md: kind "circles", at most
 * 10000 finite [x, y, r], an optional finite box), rebuilt from its numbers alone into out, so
 * that nothing else the evaluator printed reaches the page. 0, RT_EUSAGE when there is no such
 * picture, RT_ENOMEM. */
int rt_program_picture(const char *artifacts, rt_buf *out);

#endif

/* Makes a child program from a proposer's reply to a parent: SEARCH/REPLACE blocks when the
 * reply has any (applied strictly, program_text.h), otherwise the reply is the whole new program
 * and must keep every byte outside the editable regions. Returns 0 with *child set (a fresh,
 * unevaluated genome), RT_EINVALID with reason when the reply cannot be used (empty, a block
 * that does not apply, a rewrite that touches fixed text, over the size cap), RT_ENOMEM. */
int rt_program_apply_reply(const char *parent, size_t plen, const char *reply, size_t rlen,
                           rt_program_genome **child, char *reason, size_t reasonlen);
