/* matmul_pack.h — a scheme's text packed into bytes for the store (the problem class's
 * pack_text/unpack_text, problem.h; docs/store.md, "Texts").
 *
 * A packed text is the scheme's coefficients as bit masks, one set of masks per factor, from
 * which the canonical .exp text (mm_print_exp) is written again. The form needs no run
 * parameters: the shape is the one the text's indices span, stored in the header. Version 1:
 *
 *     1, n, m, p, mode, LEB128 rank, then per product and factor (A: n*m entries, B: m*p,
 *     C: p*n, in mm_plain's order) little-endian masks of ceil(entries/8) bytes:
 *       mode 0  the nonzero entries (every coefficient is 1: GF(2) texts);
 *       mode 1  the nonzero entries, then the negative ones (coefficients -1 and 1);
 *       mode 2  the nonzero entries, the negative ones, the ones of magnitude above 1, then
 *               LEB128 (magnitude - 2) for each of those in entry order.
 *
 * A stored form must read back the same forever: a new layout takes a new version byte and this
 * reader keeps reading version 1.
 */
#ifndef RT_MATMUL_PACK_H
#define RT_MATMUL_PACK_H

#include <stddef.h>

#include "util.h"

/* Packs text into out (appended). Returns 0, RT_EUSAGE when the text is not exactly the
 * canonical .exp text of a scheme (the store then keeps it as text), RT_ENOMEM. */
int mm_pack_text(const char *text, size_t len, rt_buf *out);

/* The text of a packed form, appended to out. Returns 0, RT_EUSAGE for bytes that are not a
 * packed form (any bytes are safe), RT_ETOOBIG/RT_ENOMEM from the buffer. */
int mm_unpack_text(const unsigned char *in, size_t n, rt_buf *out);

#endif
