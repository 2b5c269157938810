/* prompt.h — the JSON prompt that proposers writing programs send (command: on the program's
 * stdin; llm: as the user message's material). One structure for all of them:
 *
 *   {"parent": {"program": TEXT, "hash": HEX, "score": NUMBER, "metrics": {...},
 *               "artifacts": {...}},
 *    "inspirations": [{"program": ..., "hash": ..., "score": ..., "metrics": ...,
 *                      "artifacts": ...}, ...],
 *    "island": N, "generation": N, "seed": N, "ledger": TEXT,
 *    "edit_format": "...", "editable": "..."}
 *
 * ledger is the run's recent experiments as a table (src/recent.h), present once there is one;
 * metrics and artifacts are present when the evaluation left them; texts that are not valid
 * UTF-8 have the offending bytes replaced by U+FFFD so the prompt is always valid JSON.
 * docs/program.md shows a complete example.
 */
#ifndef RT_PROMPT_H
#define RT_PROMPT_H

#include <stdint.h>

#include "proposer.h"

/* The instructions given in "edit_format". */
extern const char rt_prompt_edit_format[];

/* Writes the prompt for ctx to out (compact JSON, no trailing newline). seed is a number the
 * proposer may use for its own randomness. Returns 0, RT_ENOMEM or RT_ETOOBIG. */
int rt_prompt_json(const rt_propose_ctx *ctx, uint64_t seed, rt_buf *out);

#endif
