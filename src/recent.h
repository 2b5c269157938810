/* recent.h — the ledger of a run's recent experiments, as proposers that read a prompt are shown
 * it (the command proposer's JSON "ledger", the llm proposer's {{ledger}}): one row per judged
 * child, with what changed from its parent, the problem's figure of its own run, its status and
 * the verifier's figure. The engine adds a row after storing each judged child and renders the
 * table into every context it hands out (docs/research.md).
 *
 * What goes in is what proposers may see: the figure of a child's own run is read from the
 * metrics the problem shows (rt_problem_shown: research leaves its test metric out), never from
 * the stored ones. Bounded: the rows kept here and the rendered table have fixed caps, whatever
 * the run's length. Not thread-safe: the engine's thread adds and renders.
 */
#ifndef RT_RECENT_H
#define RT_RECENT_H

#include <stddef.h>

#include "util.h"

#define RT_RECENT_ROWS 24     /* the latest experiments shown */
#define RT_RECENT_KEPT 8      /* and the latest kept ones, however old */
#define RT_RECENT_TEXTS 8     /* texts of the latest kept candidates: the parents described from */
#define RT_RECENT_WHAT 160    /* bytes of a row's description */
#define RT_RECENT_REASON 120  /* bytes of a row's reason */

/* One experiment as added (borrowed for the call). */
typedef struct rt_recent_entry {
    long long id;            /* its row in the store */
    const char *hash;        /* 64 hex digits */
    const char *parent_hash; /* NULL for the seed (the baseline) */
    const char *text;        /* its canonical text, len bytes */
    size_t len;
    const char *status;      /* "keep", "discard" or "crash" */
    int trusted;             /* kept on the proxy's word (--trust-proxy) */
    const char *metrics;     /* what proposers are shown of its evaluation (JSON), or NULL:
                              * the figure of its own run is its member named as the metric */
    int has_value;
    double value;            /* else this figure of its own run, when has_value */
    int has_verified;
    double verified;         /* the verifier's: a noisy problem's mean of fresh re-runs */
    const char *reason;      /* why it was not kept, or NULL */
} rt_recent_entry;

typedef struct rt_recent_row {
    long long id;
    char hash[8];
    char status[16];
    int has_value, has_verified;
    double value, verified;
    char what[RT_RECENT_WHAT];
    char reason[RT_RECENT_REASON];
} rt_recent_row;

typedef struct rt_recent {
    char metric[32];                       /* the figure's name ("score" until told) */
    rt_recent_row rows[RT_RECENT_ROWS];    /* ring of the latest */
    size_t nrows, next;
    rt_recent_row kept[RT_RECENT_KEPT];    /* ring of the latest kept */
    size_t nkept, next_kept;
    struct {
        char hash[65];
        char *text;
        size_t len;
    } texts[RT_RECENT_TEXTS];              /* ring of the latest kept texts */
    size_t next_text;
    long long total;                       /* experiments added */
} rt_recent;

void rt_recent_init(rt_recent *r);
void rt_recent_free(rt_recent *r);

/* Names the figure (the verifier's metric name, e.g. "val_bpb"); a name already set stays. */
void rt_recent_set_metric(rt_recent *r, const char *name);

/* Adds one experiment. Its description is what changed from its parent's text when the parent is
 * one of the latest kept candidates, "baseline" for the seed, else "". 0 or RT_ENOMEM. */
int rt_recent_add(rt_recent *r, const rt_recent_entry *e);

/* Remembers a parent's text (a candidate proposers are about to be shown), so that its
 * children are described after a resume too. 0 or RT_ENOMEM. */
int rt_recent_parent(rt_recent *r, const char *hash, const char *text, size_t len);

/* The table, oldest row first: the latest kept rows and the latest rows, each once, under a
 * header line; nothing when no experiment was added. Its size is bounded (about 12 KB). 0,
 * RT_ENOMEM or RT_ETOOBIG (out's cap). */
int rt_recent_render(const rt_recent *r, rt_buf *out);

/* One line saying what changed from parent to child, line by line ("LR = 0.003 -> LR = 0.0051",
 * three changed lines at most, then how many more), comments after the code left out; "no
 * change" for equal texts. Always NUL-terminated. */
void rt_text_describe(const char *parent, size_t plen, const char *child, size_t clen, char *out,
                      size_t outlen);

#endif
