/* rng.h — the seeded random generator (xoshiro256**, seeded through splitmix64).
 * One generator per island keeps runs reproducible whatever the number of threads. */
#ifndef RT_RNG_H
#define RT_RNG_H

#include <stdint.h>

typedef struct rt_rng {
    uint64_t s[4];
} rt_rng;

/* Seeds from (seed, stream): distinct streams give independent sequences. */
void rt_rng_seed(rt_rng *r, uint64_t seed, uint64_t stream);

static inline uint64_t rt_rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rt_rng_next(rt_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rt_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rt_rng_rotl(s[3], 45);
    return result;
}

/* Uniform integer in [0, n), n >= 1 (Lemire's multiply-shift; the bias is below 2^-32 for the
 * small n used here). */
static inline uint32_t rt_rng_below(rt_rng *r, uint32_t n)
{
    return (uint32_t)(((rt_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform double in [0, 1). */
static inline double rt_rng_unit(rt_rng *r) { return (double)(rt_rng_next(r) >> 11) * 0x1.0p-53; }

/* State as 64 hex digits and back (for the store); rt_rng_from_hex returns 0 or -1. */
void rt_rng_to_hex(const rt_rng *r, char hex[65]);
int rt_rng_from_hex(rt_rng *r, const char *hex);

#endif
