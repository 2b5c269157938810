/* matmul_pack.h — a scheme's text packed into bytes for the store (the problem class's
 * pack_text/unpack_text, problem.h; docs/store.md, "Texts").
 *
 * A packed text is the scheme's coefficients as bit masks, from which the canonical .exp text
 * (mm_print_exp) is written again. The form needs no run parameters: the shape is the one the
 * text's indices span, stored in the header. Both versions start with
 *
 *     version, n, m, p, mode, LEB128 rank
 *
 * where mode is 0 when every coefficient is 1 (GF(2) texts), 1 when they are -1 and 1, else 2.
 * A factor's mask is little-endian, ceil(entries/8) bytes (A: n*m entries, B: m*p, C: p*n, in
 * mm_plain's order).
 *
 * Version 1 (written by format 4 as first landed; read only): per product and factor
 *       mode 0  the mask of the nonzero entries;
 *       mode 1  that mask, then the mask of the negative ones;
 *       mode 2  those two, the mask of the ones of magnitude above 1, then LEB128 (magnitude - 2)
 *               for each of those in entry order.
 *
 * Version 2 (written when version 3 does not apply): the nonzero masks of every product and
 * factor in turn (for mode 0 the same bytes as version 1); then, for modes 1 and 2, one bit per
 * nonzero coefficient (in that order, least significant bit first, zero bits padding the last
 * byte): set when it is negative; then, for mode 2, the same for magnitude above 1, and LEB128
 * (magnitude - 2) for each of those. A sign costs one bit a nonzero coefficient instead of one a
 * cell: on <4,4,4> Z schemes (2.8 nonzero entries of 16 a factor) the form is 40% smaller and
 * compresses 14% better (docs/store.md).
 *
 * Version 3 (written now, when it applies): the C factors are not stored. A valid scheme's C
 * factors are the unique solution of the Brent equations given its A and B factors whenever that
 * linear system has full column rank (matmul_solve.h), so the form is version 2 of the A and B
 * factors alone: after the rank, one byte names the modulus of the solve (1: modulo 2, for
 * GF(2) schemes; 2: modulo 2^31 - 1, read back as the integers nearest zero), then the A and B
 * nonzero masks of every product, then their sign bits, magnitude bits and magnitudes as in
 * version 2, over the A and B entries only; mode is that of the A and B entries. The writer uses
 * it only when the solve gives back exactly the text's C factors (modulo 2 first for texts whose
 * coefficients are all 1), else version 2: an invalid scheme, or one whose system is singular.
 * On <4,4,4> it saves a third of the form (docs/store.md); schemes beyond matmul_solve.h's
 * limits (rank 160, n*m*m*p 1296) are never solved, so reading any bytes stays bounded.
 *
 * A stored form must read back the same forever: a new layout takes a new version byte and this
 * reader keeps reading versions 1 to 3.
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
