/* program_openevolve.h — evaluators written for OpenEvolve, run unchanged (docs/migrating.md).
 *
 * Such an evaluator is a Python module defining evaluate(program_path) (and optionally
 * evaluate_stage1..3) that returns a dict of metrics or an EvaluationResult. ratchet runs it
 * through a shim it ships (openevolve_shim.py, compiled into the binary): the shim is placed
 * read-only in the evaluator's sandbox next to the candidate and run as
 *     /usr/bin/python3 ratchet_openevolve.py /abs/evaluator.py candidate.EXT
 * and prints ratchet's evaluator report ({"score", "metrics", "artifacts"}). The evaluator's
 * folder is made visible (read-only) to the run, as OpenEvolve puts it on sys.path.
 */
#ifndef RT_PROGRAM_OPENEVOLVE_H
#define RT_PROGRAM_OPENEVOLVE_H

#include <stddef.h>

#define RT_OE_SHIM_NAME "ratchet_openevolve.py"
#define RT_OE_PYTHON "/usr/bin/python3"

/* The shim's source text. */
extern const char rt_oe_shim[];
extern const size_t rt_oe_shim_len;

/* 1 when the file at path looks like an OpenEvolve evaluator module: its name ends in ".py", it
 * is not an executable script (starting with "#!" and executable: those follow ratchet's own
 * contract), and a line starts with "def evaluate(" or "def evaluate_stage1(". 0 otherwise or
 * when unreadable. */
int rt_oe_detect(const char *path);

#endif
