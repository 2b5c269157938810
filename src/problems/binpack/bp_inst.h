/* bp_inst.h — bin packing instances: sets of them, the generated families (OR-style, Weibull,
 * uniform), FunSearch's JSON format (read strictly, written canonically), and the L1 bound.
 *
 * FunSearch's format is one JSON object mapping instance names to
 * {"capacity": C, "num_items": n, "items": [s1, ..., sn]} with integer sizes 1 <= s <= C.
 *
 * Ownership: a bp_set owns its instances and their item arrays (bp_set_free).
 */
#ifndef BP_INST_H
#define BP_INST_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define BP_MAX_CAPACITY 1000000
#define BP_MAX_ITEMS 1000000       /* per instance */
#define BP_MAX_TOTAL_ITEMS 20000000 /* per set */
#define BP_MAX_INSTANCES 100000
#define BP_MAX_FILE (256L << 20)

typedef struct bp_instance {
    char name[64];
    int capacity;
    int n;
    int *items;
} bp_instance;

typedef struct bp_set {
    int n;
    bp_instance *inst;
} bp_set;

void bp_set_free(bp_set *set);
/* Appends an instance taking ownership of items (n of them); RT_ENOMEM (items freed). */
int bp_set_add(bp_set *set, const char *name, int capacity, int *items, int n);

/* L1 lower bound: ceil(sum of sizes / capacity). */
long long bp_l1(const bp_instance *in);

/* The generated families: "or" (sizes uniform in 20..100, capacity 150), "weibull" (Weibull
 * scale 45 shape 3, rounded, clipped to 1..100, capacity 100), "uniform" (sizes uniform in
 * lo..hi, capacity cap). count instances of items items each, named "<family>_<i>", from seed.
 * RT_EUSAGE naming the bad value. */
int bp_generate(bp_set *out, const char *family, int items, int count, uint64_t seed, int cap,
                int lo, int hi, char *err, size_t errlen);

/* Parses FunSearch's JSON (len bytes; label names the file in messages). RT_EUSAGE with one
 * line naming the file and the instance/key at fault; RT_ETOOBIG over the caps. */
int bp_read_json(const char *text, size_t len, const char *label, bp_set *out, char *err,
                 size_t errlen);
/* Reads a file of that format (RT_EIO when it cannot be read). */
int bp_read_file(const char *path, bp_set *out, char *err, size_t errlen);
/* Appends s as a JSON string (quoted, escaped). RT_ENOMEM. */
int bp_json_quote(const char *s, rt_buf *out);
/* Writes the set in that format (instances in order, one per line). RT_ENOMEM. */
int bp_write_json(const bp_set *set, rt_buf *out);

#endif
