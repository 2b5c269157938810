/* cmd_llm.h — the tool's side of the llm proposer: its run options and its lines in status. */
#ifndef RT_TOOL_CMD_LLM_H
#define RT_TOOL_CMD_LLM_H

#include <jansson.h>
#include <stdio.h>

#include "ratchet.h"

/* Takes a `run` option that belongs to the llm proposer (--model, --llm-*); returns 1
 * when it did (value stored in opt, which keeps pointers into argv), 0 when the option is not
 * one of them, -1 after printing a usage error (too many options). */
int llm_run_option(const char *name, const char *value, rt_run_options *opt);
/* Help lines for those options. */
void llm_run_help(FILE *f);
/* Prints the run's model spend (nothing for runs without requests), as text or into a JSON
 * object ("llm"). Returns 0, or a library error code with the store's message printed. */
int llm_status(rt_store *st, FILE *out, json_t *obj);

#endif
