/* program_text.h — the text operations of the `program` problem: editable regions, strict
 * SEARCH/REPLACE edits, whole-program rewrites, whitespace-blind duplicate keys, and the values
 * a program annotates for the builtin proposer. Pure functions on byte strings: no I/O.
 *
 * Editable regions: the text strictly between a line containing EVOLVE-BLOCK-START and the next
 * line containing EVOLVE-BLOCK-END. Without any marker the whole text is one region. Markers
 * must alternate START, END, START, END...; anything else is malformed.
 *
 * Edits (the common format): a line `<<<<<<< SEARCH`, the old text, a line `=======`, the new
 * text, a line `>>>>>>> REPLACE`. Text around the blocks is ignored. Applied strictly: every
 * SEARCH text must occur exactly once inside the editable regions (occurrences outside them are
 * protected and do not count, but a match that straddles a region's edge does not count either),
 * blocks apply in order to the result of the previous ones, and if any block fails nothing is
 * applied and the reason names the block.
 *
 * Annotations: a line whose comment contains `ratchet:` followed by one of
 *     real LO HI      a number, uniform changes         log LO HI   a positive number, in log scale
 *     int LO HI       an integer                        choice A|B|C   one of the words
 * annotates the last number (or, for choice, the last listed word) on that line before the
 * comment. Comments start with `//`, slash-star, `#` or `--` (the opener nearest before `ratchet:`).
 * Only annotations inside editable regions are used.
 *
 * Caps: texts up to RT_PROGRAM_MAX_TEXT bytes, RT_PROGRAM_MAX_BLOCKS edit blocks,
 * RT_PROGRAM_MAX_REGIONS regions, RT_PROGRAM_MAX_ANNOTATIONS annotations of at most
 * RT_PROGRAM_MAX_CHOICES choices each.
 *
 * Ownership: results written to an rt_buf belong to that buffer; annotation lists are the
 * caller's (rt_annotations_free).
 */
#ifndef RT_PROGRAM_TEXT_H
#define RT_PROGRAM_TEXT_H

#include <stddef.h>

#include "rng.h"
#include "util.h"

#define RT_PROGRAM_MAX_TEXT ((size_t)1 << 20)
#define RT_PROGRAM_MAX_BLOCKS 64
#define RT_PROGRAM_MAX_REGIONS 64
#define RT_PROGRAM_MAX_ANNOTATIONS 256
#define RT_PROGRAM_MAX_CHOICES 16

typedef struct rt_region {
    size_t begin, end; /* byte offsets: text[begin..end) is editable */
} rt_region;

typedef struct rt_regions {
    rt_region r[RT_PROGRAM_MAX_REGIONS];
    size_t n;
    int marked; /* 1: the text has markers; 0: the whole text is one region */
} rt_regions;

/* Finds the editable regions. Returns 0, or RT_EUSAGE (err names the line) for unbalanced or
 * nested markers, more than RT_PROGRAM_MAX_REGIONS regions, or a text over the cap. */
int rt_regions_find(const char *text, size_t len, rt_regions *out, char *err, size_t errlen);

/* Says whether a reply contains edit blocks (a line `<<<<<<< SEARCH`). */
int rt_edit_has_blocks(const char *reply, size_t len);

/* Applies the reply's SEARCH/REPLACE blocks to text, writing the whole new program to out.
 * Returns 0, RT_EINVALID when a block does not apply (err: "block 2: SEARCH text matches 3
 * times in the editable regions", ...), RT_EUSAGE when the reply is malformed (no blocks, an
 * unterminated block, a missing separator, an empty SEARCH), RT_ETOOBIG, RT_ENOMEM. On failure
 * out is left empty: there is no partial application. */
int rt_edit_apply(const char *text, size_t len, const char *reply, size_t rlen, rt_buf *out,
                  char *err, size_t errlen);

/* Checks that a whole new program keeps every byte outside the old program's editable regions
 * (same markers, same fixed text between them). Returns 0, RT_EINVALID with the reason, or
 * RT_EUSAGE when either text's markers are malformed. */
int rt_edit_check_rewrite(const char *old, size_t olen, const char *new_text, size_t nlen,
                          char *err, size_t errlen);

/* The duplicate key: the text with every whitespace byte removed, so two programs that differ
 * only in whitespace have the same key. */
int rt_text_strip_space(const char *text, size_t len, rt_buf *out);

typedef enum rt_annotation_kind {
    RT_ANN_REAL,
    RT_ANN_LOG,
    RT_ANN_INT,
    RT_ANN_CHOICE
} rt_annotation_kind;

typedef struct rt_annotation {
    rt_annotation_kind kind;
    size_t line;          /* 1-based */
    size_t value_at;      /* byte offset of the annotated value in the text */
    size_t value_len;
    double lo, hi;        /* numbers */
    size_t nchoices;
    char choices[RT_PROGRAM_MAX_CHOICES][64];
} rt_annotation;

typedef struct rt_annotations {
    rt_annotation *a;
    size_t n;
} rt_annotations;

/* Parses every annotation inside the editable regions. Returns 0 (out->n may be 0), or
 * RT_EUSAGE naming the line for a malformed annotation (unknown kind, bad bounds, LO > HI, a
 * log range that is not positive, no value before the comment, a value outside its range),
 * RT_ENOMEM. */
int rt_annotations_parse(const char *text, size_t len, const rt_regions *regions,
                         rt_annotations *out, char *err, size_t errlen);
void rt_annotations_free(rt_annotations *list);

/* Writes text with annotation k's value replaced by a new value drawn with rng (a small move
 * most of the time, a uniform draw in the range sometimes; never the same text for a range of
 * more than one value). Returns 0, or -1 when the annotation admits no other value. */
int rt_annotation_mutate(const char *text, size_t len, const rt_annotation *ann, rt_rng *rng,
                         rt_buf *out);

#endif
