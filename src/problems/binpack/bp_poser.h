/* bp_poser.h — posers: instance generators in text form, for the co-evolution
 * (docs/coevolution.md, "The poser").
 *
 * A poser's text, one directive a line (order fixed in the canonical form; '#' starts a comment):
 *
 *     poser
 *     capacity 120
 *     items 300
 *     mix 2 uniform 15 80        weight, then a size distribution:
 *     mix 1 weibull 30 2.5         uniform LO HI | weibull SCALE SHAPE | normal MEAN SD |
 *     mix 1 set 20 35 50           set S1 .. S6 | exact K (K items whose sizes sum to the
 *     mix 1 exact 3                capacity exactly)
 *     order random               random | ascending | descending | interleaved
 *     seed 12345
 *
 * The instance is a pure function of the text. The poser's verified facts (bp_poser_check) come
 * from the generated instance alone: every size in 1..capacity, an offline reference packing
 * (best fit decreasing) that passes the packing check, the Martello-Toth L2 lower bound, and
 * whether the reference is a proven optimum (it meets the bound).
 */
#ifndef BP_POSER_H
#define BP_POSER_H

#include <stddef.h>
#include <stdint.h>

#include "problems/binpack/bp_inst.h"
#include "rng.h"
#include "util.h"

#define BP_POSER_MAX_MIX 6
#define BP_POSER_MAX_SET 6
#define BP_POSER_MIN_ITEMS 20
#define BP_POSER_MAX_ITEMS 2000
#define BP_POSER_MIN_CAPACITY 10
#define BP_POSER_MAX_CAPACITY 1000
#define BP_POSER_MAX_TEXT 4096

enum { BP_D_UNIFORM, BP_D_WEIBULL, BP_D_NORMAL, BP_D_SET, BP_D_EXACT };
enum { BP_O_RANDOM, BP_O_ASCENDING, BP_O_DESCENDING, BP_O_INTERLEAVED };

typedef struct bp_mix {
    int weight;  /* 1..9 */
    int kind;    /* BP_D_* */
    double a, b; /* uniform lo hi; weibull scale shape; normal mean sd */
    int nset;    /* set: sizes; exact: K in a */
    int set[BP_POSER_MAX_SET];
} bp_mix;

typedef struct bp_spec {
    int capacity, items;
    int nmix;
    bp_mix mix[BP_POSER_MAX_MIX];
    int order;
    uint32_t seed;
} bp_spec;

/* Parses a poser's text. 0, or RT_EUSAGE / RT_ETOOBIG with err naming the line. */
int bp_spec_parse(const char *text, size_t len, bp_spec *out, char *err, size_t errlen);
/* Canonical text (ends with a newline). RT_ENOMEM. */
int bp_spec_print(const bp_spec *s, rt_buf *out);
/* The instance (items: exactly s->items). RT_ENOMEM. */
int bp_spec_generate(const bp_spec *s, bp_instance *out);

/* A poser's verified facts. */
typedef struct bp_poser_facts {
    long long l1, lower;  /* L1 and the L2 bound (lower >= l1) */
    long long reference;  /* bins of the checked offline packing */
    int optimal;          /* reference == lower: a proven optimum */
    long long best_fit;   /* bins of online best fit in the instance's order */
    int degenerate;       /* one distinct size, or every item over half the capacity */
} bp_poser_facts;

/* Generates, checks and measures the instance of a poser's text (a code path apart from the
 * search's: the packing check is bp_check_packing's). 0 (facts filled, *inst owned by the caller
 * when inst is not NULL), RT_EUSAGE (malformed text), RT_EINVALID (a check failed; err says
 * which), RT_ENOMEM. */
int bp_poser_check(const char *text, size_t len, bp_poser_facts *facts, bp_instance *inst,
                   char *err, size_t errlen);

/* Best fit decreasing as a packing that passed bp_check_packing: its bins, or -1 (out of memory,
 * or the check failed: why says so). */
long long bp_reference(const bp_instance *in, char *why, size_t whylen);

/* Martello and Toth's L2 bound. */
long long bp_lower_bound(const bp_instance *in);

/* A descriptor for novelty: mean size / capacity, spread, share of large items, order. */
void bp_spec_descriptor(const bp_instance *in, int order, double d[4]);

/* A random valid spec, and a mutation of one (0, or -1 when it did not change). */
void bp_spec_random(bp_spec *s, rt_rng *rng);
int bp_spec_mutate(bp_spec *s, rt_rng *rng);

#endif
