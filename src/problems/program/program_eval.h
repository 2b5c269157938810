/* program_eval.h — reading what an evaluator or a verifier printed (the `program` problem's
 * contracts, docs/program.md).
 *
 * Evaluator: the last non-blank line of stdout is one JSON object
 *     {"score": <finite number, higher is better>, "metrics": {...}, "artifacts": {...}}
 * ("metrics" and "artifacts" optional, objects when present). Anything else fails with a
 * one-line reason: no output, a last line that is not a JSON object, a missing, non-numeric or
 * non-finite score (JSON has no NaN or Infinity; numbers that overflow a double are refused),
 * a key given twice, or a score printed twice (an earlier line that is a JSON object with a
 * "score").
 * Verifier: the same rule, with {"valid": true|false, "score": <finite number>, "reason": "..."}
 * ("score" required when valid).
 *
 * Caps: the output is at most RT_EVAL_MAX_OUTPUT bytes; metrics and artifacts are kept as
 * compact JSON of at most RT_EVAL_MAX_JSON bytes each (over it they are replaced by a note).
 * Ownership: the metrics and artifacts strings are the caller's (rt_eval_output_free).
 */
#ifndef RT_PROGRAM_EVAL_H
#define RT_PROGRAM_EVAL_H

#include <stddef.h>

#define RT_EVAL_MAX_OUTPUT ((size_t)4 << 20)
#define RT_EVAL_MAX_JSON ((size_t)64 << 10)

typedef struct rt_eval_output {
    double score;
    char *metrics;   /* compact JSON object, or NULL */
    char *artifacts; /* compact JSON object, or NULL */
} rt_eval_output;

/* Parses an evaluator's stdout. Returns 0, RT_EINVALID (err: why it is not a valid report) or
 * RT_ENOMEM. On failure nothing needs freeing. */
int rt_eval_parse(const char *out, size_t len, rt_eval_output *res, char *err, size_t errlen);
void rt_eval_output_free(rt_eval_output *res);

typedef struct rt_verify_output {
    int valid;
    double score;      /* valid only */
    char reason[256];  /* the verifier's "reason", if it gave one */
} rt_verify_output;

/* Parses a verifier's stdout. Returns 0 (res->valid says the verdict), RT_EINVALID when the
 * output breaks the contract (err says how). */
int rt_verify_parse(const char *out, size_t len, rt_verify_output *res, char *err,
                    size_t errlen);

#endif
