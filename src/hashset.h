/* hashset.h — a set of fixed-width keys: the hashes (or hash prefixes) a run or an audit has
 * seen. Open addressing with linear probing, at most half full; grows by doubling.
 *
 * Every key of one set has the same width, fixed at rt_hashset_init: the engine's set of seen
 * candidates keeps 8-byte prefixes of their SHA-256 (the store's UNIQUE column is the
 * authority), the audit's set of admitted rows whole 64-digit hex hashes.
 *
 * Ownership: the set copies the keys it is given. Readers (rt_hashset_has) may run on several
 * threads at once while nobody adds.
 */
#ifndef RT_HASHSET_H
#define RT_HASHSET_H

#include <stddef.h>

typedef struct rt_hashset {
    unsigned char *keys; /* cap slots of width bytes */
    unsigned char *used; /* cap flags: 1 where a slot holds a key */
    size_t width, cap, count;
} rt_hashset;

/* An empty set of keys width bytes wide (1 or more); allocates nothing until the first add. */
void rt_hashset_init(rt_hashset *s, size_t width);
/* Releases the set's memory; the set is then empty (and may be used again). */
void rt_hashset_free(rt_hashset *s);

/* Adds the width bytes at key. Returns 1 when the key was new, 0 when it was present, RT_ENOMEM
 * (the set is unchanged). */
int rt_hashset_add(rt_hashset *s, const void *key);

/* 1 when the width bytes at key are in the set, else 0. */
int rt_hashset_has(const rt_hashset *s, const void *key);

#endif
