/* matmul_codegen.h — a matrix multiplication scheme as a self-contained C function.
 *
 * The generated code (C99 or later, no includes but <stdint.h>) defines
 *
 *     void NAME(const T *A, const T *B, T *C);
 *
 * computing C = A B for A n x m and B m x p, all three row-major and contiguous (A[i*m+j],
 * B[j*p+k], C[i*p+k]); C is overwritten and may not alias A or B. T is RATCHET_MM_T, int64_t
 * unless the includer defines it first (any type with +, - and * works: int32_t, double, a
 * modular type). A scheme over the integers gives the exact product over any commutative ring;
 * a GF(2) scheme gives the product modulo 2 only: its function takes and returns uint8_t entries
 * 0 or 1 and is named for that. The function makes exactly `rank` multiplications of two
 * matrix-entry sums (plus multiplications by constant coefficients other than +-1).
 */
#ifndef RT_MATMUL_CODEGEN_H
#define RT_MATMUL_CODEGEN_H

#include "problems/matmul/matmul_plain.h"

#define MM_CODEGEN_MAX_NAME 64

/* Appends the C source for scheme s (not checked here: callers pass verified schemes) with
 * function name `name` (an identifier of at most MM_CODEGEN_MAX_NAME bytes; NULL gives
 * ratchet_matmul_NxMxP). Returns 0, RT_EUSAGE (bad name or scheme), or the buffer's error. */
int mm_print_c(const mm_plain *s, enum mm_field field, const char *name, rt_buf *out);

#endif
