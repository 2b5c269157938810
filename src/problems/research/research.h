/* research.h — the `research` problem: experiments on a training program (docs/research.md).
 *
 * A candidate is the text of the editable files of a project folder (one file: its text; more:
 * a bundle, each file after a header line). An experiment runs the user's command in a private
 * copy of the folder with the candidate's files in place, in the sandbox, under a fixed budget,
 * with RATCHET_SEED and RATCHET_BUDGET in its environment, and reads one metric from its output
 * (`name: value` lines, or a JSON line). The proxy is one such run (evaluate); the verifier is
 * another with a fresh seed, and the problem is noisy, so the gate's noise-aware acceptance keeps
 * a change only when it beats the incumbent's measured noise floor and holds on fresh re-runs.
 * The test metric, when named, is stored with each experiment and never shown to proposers.
 *
 * The genome is the program problem's (rt_program_genome), so that the command and llm
 * proposers write children for it as for any program.
 */
#ifndef RT_RESEARCH_H
#define RT_RESEARCH_H

#include <stddef.h>

#include "problem.h"
#include "problems/program/program.h"
#include "util.h"

#define RT_RESEARCH_MAX_FILES 16
#define RT_RESEARCH_HEADER "@@@ ratchet-file "
#define RT_RESEARCH_HEADER_END " @@@"

/* ---- reading the output of a run (research_text.c) ---------------------------------------- */

/* Finds the metric called name in a run's output: the last line that reads `name: VALUE` (blanks
 * allowed around the colon, anything after the number ignored) or the last line that is a JSON
 * object with a numeric member called name. Returns 1 with *value set (a finite number), or 0
 * when no line gives one. Never reads past len; s need not be NUL-terminated. */
int rt_research_find_metric(const char *s, size_t len, const char *name, double *value);

/* Copies s into out without the lines that contain needle (the test metric's name: what
 * proposers see of a log never shows it). 0 or RT_ENOMEM / RT_ETOOBIG (out's cap). */
int rt_research_scrub(const char *s, size_t len, const char *needle, rt_buf *out);

/* ---- the bundle of editable files (research_text.c) --------------------------------------- */

/* One file of a candidate: its path relative to the project folder and its bytes (borrowed
 * from the text it was split from). */
typedef struct rt_research_part {
    const char *data;
    size_t len;
} rt_research_part;

/* The candidate text of files data[i] (len[i] bytes) named names[i], i < n: the file itself
 * when n is 1; else each file after the line RT_RESEARCH_HEADER name RT_RESEARCH_HEADER_END
 * (a file not ending in a newline gets one). 0, RT_ENOMEM, or RT_ETOOBIG past out's cap. */
int rt_research_bundle(size_t n, const char *const *names, const char *const *data,
                       const size_t *len, rt_buf *out);

/* Splits a candidate text back into its n files, named names[0..n) in that order. Returns 0,
 * or RT_EINVALID with why set when the headers are not exactly those lines, in that order. */
int rt_research_split(const char *text, size_t len, size_t n, const char *const *names,
                      rt_research_part *parts, char *why, size_t whylen);

/* One line saying what changed from parent to child (their first differing lines, trimmed:
 * "LR = 0.003 -> LR = 0.0051"), into out (always NUL-terminated). */
void rt_research_describe(const char *parent, size_t plen, const char *child, size_t clen,
                          char *out, size_t outlen);

/* ---- the problem (research.c) -------------------------------------------------------------- */

/* The program problem's view of a research problem (the command proposer's program, limits),
 * as rt_program_info_get gives it for a program problem; RT_EUSAGE for any other problem. */
int rt_research_program_info(const rt_problem *problem, rt_program_info *info);

#endif
