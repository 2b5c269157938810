/* research_int.h — inside the research problem: its state, shared by research.c (parameters,
 * genomes) and research_run.c (running an experiment). Not for other modules. */
#ifndef RT_RESEARCH_INT_H
#define RT_RESEARCH_INT_H

#include <stdint.h>

#include "problems/program/program_text.h"
#include "problems/research/research.h"

#define RT_RESEARCH_MAX_CANON 2000
#define RT_RESEARCH_MAX_VISIBLE 8

typedef struct research_state {
    char dir[4096];
    char edit_line[2048];                     /* --edit as given */
    char edit_buf[2048];                      /* split copy */
    const char *edits[RT_RESEARCH_MAX_FILES]; /* into edit_buf */
    size_t nedits;
    char run[2048];
    char metric[64], test_metric[64]; /* test_metric "" when none */
    int maximize;
    double budget, cpu_budget;
    long memory;
    double command_timeout;
    int has_command;
    char command_line[1024], command_buf[1024];
    const char *command_argv[RT_PROGRAM_MAX_ARGS + 1];
    char visible_line[2048];               /* --visible, real paths joined by ':' */
    char visible_buf[2048];                /* split copy */
    const char *visible[RT_RESEARCH_MAX_VISIBLE + 2]; /* the folder, then those; NULL-ended */
    char tag[128], base[64]; /* stored for the tool's --git; the problem does not use them */
    char *initial_text;
    size_t initial_len;
    rt_regions regions;
    uint64_t seed_base;
    uint64_t seed_counter; /* atomic */
    char canon[RT_RESEARCH_MAX_CANON + 48];
    /* create's parameters as given: borrowed, NULL once it returns */
    const char *given_dir, *given_run, *given_metric, *given_test, *given_command, *given_tag,
        *given_base;
} research_state;

/* Writes st->canon, the canonical parameter string (a stored format). */
int rt_research_write_canon(research_state *st, char *err, size_t errlen);

/* The problem's evaluate() and verify() (contracts in problem.h): one experiment each, with a
 * fresh seed. */
int rt_research_evaluate(const void *state, void *genome, rt_evaluation *out);
int rt_research_verify(const void *state, const char *text, size_t len, rt_verdict *out,
                       char *err, size_t errlen);

/* A copy of the metrics JSON without the test metric (what proposers see); NULL when metrics
 * is NULL, has no test metric, or memory runs out. */
char *rt_research_hide_test(const research_state *st, const char *metrics);

#endif
