/* chain.h — the lineage chain's link (chain.c). Every candidate row, in id order, carries `prev`
 * (the link of the row before it, NULL for the first) and `link` = SHA-256 of a canonical
 * serialization of prev and the row's fields: its text's hash, its parent's hash, operator,
 * island, generation, proxy and verified scores, verdict, admission, trust and time (see
 * docs/verification.md for the exact bytes). The writer computes it on insert (write.c), the
 * audit recomputes it from the columns read back (audit/audit.c). */
#ifndef RT_STORE_CHAIN_H
#define RT_STORE_CHAIN_H

#include "store/store.h"

#define RT_CHAIN_TAG "ratchet-chain 2"

/* Computes a row's link (64 hex digits) from prev (NULL for the first row) and the row; NaN
 * reals and the scores of an invalid row count as absent. Returns 0 or RT_ENOMEM. */
int rt_chain_link(const char *prev, const rt_cand_row *row, char link[65]);

#endif
