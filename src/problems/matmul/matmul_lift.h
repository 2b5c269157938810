/* matmul_lift.h — Hensel lifting of a GF(2) matrix multiplication scheme to the integers.
 *
 * A scheme valid modulo 2 is lifted one bit at a time: given coefficients X that satisfy the
 * Brent equations F(X) = T modulo 2^k, the correction X + 2^k d satisfies them modulo 2^(k+1)
 * exactly when J d = (T - F(X)) / 2^k (mod 2), where J is the Jacobian of F at the GF(2) scheme,
 * the same matrix at every step. J is eliminated once (Gauss-Jordan over GF(2), the row
 * operations recorded); each step replays them on a new right-hand side. The 2-adic
 * coefficients are read back as symmetric residues (signed integers) and checked exactly with
 * matmul_plain.c's verifier, which alone decides success; rationals with odd denominators are
 * recognised (rational reconstruction) and reported, since the .exp format cannot hold them.
 *
 * Failure at the first step (modulo 4) is a proof: every integer lift of the scheme reduces to a
 * lift modulo 4, and solvability there does not depend on which integer representatives are
 * taken. Failure at a later step depends on the free variables chosen earlier; the lifter then
 * retries from other sign patterns and, when all fail, says that none was found (not that none
 * exists). See docs/matmul-lifting.md.
 *
 * Ownership: *out is written only on success and then owned by the caller (mm_plain_free).
 */
#ifndef RT_MATMUL_LIFT_H
#define RT_MATMUL_LIFT_H

#include <stdint.h>

#include "problems/matmul/matmul_plain.h"

#define MM_LIFT_MAX_BITS 60                 /* 2-adic precision, at most */
#define MM_LIFT_MAX_BYTES ((size_t)1 << 30) /* memory for the eliminated Jacobian */

typedef struct mm_lift_options {
    int bits;       /* 2-adic precision to reach before giving up on integers (default 40) */
    int tries;      /* sign patterns tried in all, over all column orders (default 64) */
    int orders;     /* column orders that share the tries (default 4; each costs an elimination) */
    uint64_t seed;  /* for the random sign patterns */
} mm_lift_options;

typedef struct mm_lift_info {
    int proof;          /* failure: 1 when no lift exists (obstruction modulo 4) */
    int tries;          /* sign patterns tried (patterns already covered are skipped) */
    int bits;           /* precision reached on the successful (or last) try */
    int variables;      /* coefficients: rank * (nm + mp + pn) */
    int equations;      /* Brent equations that involve any coefficient */
    int jacobian_rank;  /* rank of J over GF(2) */
    int free_odd;       /* odd coefficients that are free variables (their signs are guessed) */
    int rational;       /* failure: 1 when a lift with rational (odd-denominator) coefficients
                           was found and checked, but none with integer coefficients */
    int64_t max_coef;   /* success: largest |coefficient| of the lift */
    double seconds;     /* wall time of the call */
} mm_lift_info;

void mm_lift_options_init(mm_lift_options *o);

/* Lifts gf2 (coefficients read modulo 2; products with a zero factor dropped) to a scheme over
 * the integers that reduces to it modulo 2 and passes mm_verify(MM_Z). Returns 0 with the lift
 * in *out; RT_EINVALID when no lift was found, with the reason in why (info->proof says whether
 * it is a proof); RT_EUSAGE when gf2 is not a valid GF(2) scheme (why says which equation
 * fails); RT_ETOOBIG when the linear system would need more than MM_LIFT_MAX_BYTES; RT_ENOMEM.
 * o and info may be NULL. */
int mm_lift_ex(const mm_plain *gf2, const mm_lift_options *o, mm_plain *out, mm_lift_info *info,
               char *why, size_t len);

/* 1 if lifting a scheme of this shape and rank stays within MM_LIFT_MAX_BYTES (counting every
 * equation, the worst case), else 0. */
int mm_lift_fits(int n, int m, int p, int rank);

/* mm_lift_ex with the default options. */
int mm_lift(const mm_plain *gf2, mm_plain *out, char *why, size_t len);

/* The conversions the matmul problem offers on top of exp and json: "lift" (the text read as a
 * GF(2) scheme, written as its integer lift in .exp) and "c" (a C function, matmul_codegen.h,
 * over `field`). Returns 0; RT_EINVALID with the reason when there is no lift; RT_EUSAGE for
 * another format or malformed text; RT_ENOMEM. */
int mm_lift_convert(const char *text, size_t len, int n, int m, int p, enum mm_field field,
                    const char *format, rt_buf *out, char *err, size_t errlen);

struct mm_scheme;
/* For searches that walk over GF(2) and admit integer schemes: lifts the GF(2) scheme s (in
 * canonical order, so equal schemes give equal text) and appends the lift's .exp text.
 * Returns 0, RT_EINVALID when no lift was found, RT_ENOMEM. Keeps the last result per thread,
 * so that checking a child and then encoding it lifts once. */
int mm_lift_encode(const struct mm_scheme *s, rt_buf *out);

/* The nonzero coefficients of s's lift (mm_lift_encode, so a scheme just checked or encoded is
 * not lifted again); -1 when there is none or memory ran out. */
long mm_lift_nnz(const struct mm_scheme *s);

#endif
