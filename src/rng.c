/* rng.c — seeding and (de)serialising the generator. */
#include "rng.h"

#include <stdio.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rt_rng_seed(rt_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
}

void rt_rng_to_hex(const rt_rng *r, char hex[65])
{
    for (int i = 0; i < 4; i++)
        snprintf(hex + 16 * i, 17, "%016llx", (unsigned long long)r->s[i]);
}

int rt_rng_from_hex(rt_rng *r, const char *hex)
{
    if (!hex || strlen(hex) != 64)
        return -1;
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 16; j++) {
            char c = hex[16 * i + j];
            int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
            if (d < 0)
                return -1;
            v = (v << 4) | (uint64_t)d;
        }
        r->s[i] = v;
    }
    return (r->s[0] | r->s[1] | r->s[2] | r->s[3]) ? 0 : -1;
}
