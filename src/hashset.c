/* hashset.c — the set of seen hashes (hashset.h). */
#include "hashset.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ratchet.h"

void rt_hashset_init(rt_hashset *s, size_t width)
{
    assert(width > 0);
    memset(s, 0, sizeof *s);
    s->width = width;
}

void rt_hashset_free(rt_hashset *s)
{
    free(s->keys);
    free(s->used);
    s->keys = s->used = NULL;
    s->cap = s->count = 0;
}

/* The home slot of a key in a table of cap slots (a power of two): FNV-1a over its bytes. */
static size_t home(const unsigned char *key, size_t width, size_t cap)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < width; i++)
        h = (h ^ key[i]) * 1099511628211ULL;
    return (size_t)h & (cap - 1);
}

/* The slot holding key, or the empty slot where it would go. The table is never full. */
static size_t probe(const rt_hashset *s, const unsigned char *key)
{
    size_t j = home(key, s->width, s->cap);
    while (s->used[j] && memcmp(s->keys + j * s->width, key, s->width) != 0)
        j = (j + 1) & (s->cap - 1);
    return j;
}

static int grow(rt_hashset *s)
{
    rt_hashset bigger = *s;
    bigger.cap = s->cap ? 2 * s->cap : 1024;
    bigger.keys = malloc(bigger.cap * s->width);
    bigger.used = calloc(bigger.cap, 1);
    if (!bigger.keys || !bigger.used) {
        free(bigger.keys);
        free(bigger.used);
        return RT_ENOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->used[i])
            continue;
        size_t j = probe(&bigger, s->keys + i * s->width);
        memcpy(bigger.keys + j * s->width, s->keys + i * s->width, s->width);
        bigger.used[j] = 1;
    }
    free(s->keys);
    free(s->used);
    *s = bigger;
    return 0;
}

int rt_hashset_add(rt_hashset *s, const void *key)
{
    if (rt_hashset_has(s, key))
        return 0;
    if (2 * (s->count + 1) > s->cap && grow(s))
        return RT_ENOMEM;
    size_t j = probe(s, key);
    assert(!s->used[j]);
    memcpy(s->keys + j * s->width, key, s->width);
    s->used[j] = 1;
    s->count++;
    return 1;
}

int rt_hashset_has(const rt_hashset *s, const void *key)
{
    if (!s->cap)
        return 0;
    return s->used[probe(s, key)];
}
