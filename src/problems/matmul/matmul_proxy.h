/* matmul_proxy.h — matmul's cheap proxy and the moves that only make sense with it.
 *
 * The sampled proxy does not check the Brent equations. It multiplies a few random matrices
 * modulo a small prime with the scheme and compares with the true product: a scheme that fails
 * is certainly wrong; one that passes may still be wrong (over GF(2) a single missing product
 * goes unnoticed by one random sample with probability 3/4). The matrices come from a fixed seed,
 * so the proxy is a deterministic function of the scheme (and can be re-scored by the audit).
 *
 * The moves drop (remove a product) and perturb (change one coefficient) make children that are
 * usually invalid: the kind of shortcut a search takes when nothing but its proxy checks it. The
 * matmul problem offers them only with --proxy sampled, so that the ablation (docs/verification.md)
 * has something for the gate to catch.
 */
#ifndef RT_MATMUL_PROXY_H
#define RT_MATMUL_PROXY_H

#include "problems/matmul/matmul_search.h"

#define MM_PROXY_MAX_SAMPLES 64
#define MM_PROXY_MAX_PRIME 65521

/* Returns 1 when the scheme multiplies `samples` random pairs of matrices with entries modulo
 * prime correctly (GF(2) schemes: modulo 2 whatever prime says), 0 when one comes out wrong. */
int mm_proxy_sampled(const mm_scheme *s, int samples, int prime);

/* Removes a random product (rank >= 2). Returns 0, or -1 when it cannot apply. */
int mm_drop(mm_scheme *s, rt_rng *rng);

/* Changes one random coefficient of one random product to another value (GF(2): flips it; over
 * the integers: another of -1, 0, 1), then applies reductions. Returns 0, or -1. */
int mm_perturb(mm_scheme *s, rt_rng *rng);

#endif
