/* matmul_solve.h — the third factors of a scheme from its first two.
 *
 * Given the A and B factors of r products, the Brent equations (matmul_plain.h) are linear in the
 * C factors: for every A entry x = (i,j), B entry y = (j',k) and C entry z = (k',i'),
 *     sum_t u_t[x] v_t[y] w_t[z] = [j==j'][k==k'][i==i'].
 * Column z of the C factors (w_1[z] .. w_r[z]) is the solution of one system whose matrix, the
 * n*m * m*p rows u_t[x] v_t[y], is the same for every z. When that matrix has full column rank r
 * the solution is unique, so a valid scheme's C factors are determined by its A and B factors.
 * The store uses this to keep two factors of three (matmul_pack.h, version 3).
 *
 * The system is solved modulo 2 (GF(2) schemes) or modulo the prime 2^31 - 1, whose residues are
 * read back as the integers nearest zero (Z schemes, whose coefficients are far smaller). The
 * result is a pure function of A, B and the modulus: any correct solver gives the same one.
 */
#ifndef RT_MATMUL_SOLVE_H
#define RT_MATMUL_SOLVE_H

#include <stdint.h>

#include "problems/matmul/matmul_plain.h"

enum mm_solve_mod { MM_SOLVE_MOD2 = 1, MM_SOLVE_MODP = 2 };

/* The largest schemes solved: their rank and the system's rows (n*m * m*p). Beyond them the cost
 * (rows x rank x (rank + p*n) steps, about 4e7 at the limits) is not worth the bytes. */
#define MM_SOLVE_MAX_RANK 160
#define MM_SOLVE_MAX_ROWS 1296

/* Overwrites the C factors of s with the unique solution of the Brent equations for its A and
 * B factors, modulo mod. Returns 0, RT_EUSAGE when the system is not of full column rank (no
 * unique solution; s is left unchanged) or the scheme is beyond the limits above, RT_ENOMEM. */
int mm_solve_third(mm_plain *s, enum mm_solve_mod mod);

#endif
