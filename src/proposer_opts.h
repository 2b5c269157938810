/* proposer_opts.h — a run's proposer options: what a run was given for its proposer (llm: url,
 * model, price, budgets, the *name* of the key's variable), stored with the run as a JSON array
 * of [key, value] string pairs and reused on resume (docs/cli.md, "Resume keeps its word").
 *
 * Ownership: an rt_proposer_opts owns its strings; rt_proposer_opts_free releases them. The
 * stored text is untrusted (a store may be damaged or forged): it is read under the caps below
 * and refused when it is not such an array (tests/fuzz/fuzz_proposer_opts.c).
 */
#ifndef RT_PROPOSER_OPTS_H
#define RT_PROPOSER_OPTS_H

#include <stddef.h>

#include "util.h"

#define RT_PROPOSER_MAX_OPTS 64
#define RT_PROPOSER_MAX_OPT_LEN 4096

typedef struct rt_proposer_opts {
    size_t n;
    char *keys[RT_PROPOSER_MAX_OPTS]; /* owned */
    char *values[RT_PROPOSER_MAX_OPTS];
} rt_proposer_opts;

/* Fills out (zeroed by the caller) with the stored pairs (stored: their JSON text, or NULL) and
 * then the n given pairs, leaving out every stored pair whose key is among the given ones (a
 * key given again replaces all its stored values). Returns 0, RT_ENOMEM, RT_EUSAGE over
 * RT_PROPOSER_MAX_OPTS pairs or RT_PROPOSER_MAX_OPT_LEN bytes, or RT_ESTORE for stored text that
 * is not such an array (err says which); out is then empty. */
int rt_proposer_opts_merge(rt_proposer_opts *out, const char *stored, const char *const *keys,
                           const char *const *values, size_t n, char *err, size_t errlen);
/* Appends the pairs to out as the JSON text that is stored. Returns 0 or RT_ENOMEM. */
int rt_proposer_opts_json(const rt_proposer_opts *o, rt_buf *out);
void rt_proposer_opts_free(rt_proposer_opts *o);

#endif
