/* failures.h — why proposals and evaluations failed, counted by cause.
 *
 * A *cause* is the stable one-line reason a proposal made no child ("command exited with status
 * 1", "llm error: ...") or an evaluation failed ("evaluator exited with status 1"); its *detail*
 * is what a user needs to fix it and what varies between occurrences (the end of the failing
 * program's stderr): the latest one is kept. The engine counts every failure here, resets the
 * streak on every outcome that is not a failure, and ends the run when one cause fails
 * engine.stop_after_failures times in a row (docs/scheduling.md). The table is written into the
 * store at each checkpoint (meta "failures") and read back on resume; `status` prints it.
 *
 * Ownership: an rt_failures is a plain value (no heap); the JSON text is the caller's buffer.
 */
#ifndef RT_FAILURES_H
#define RT_FAILURES_H

#include "util.h"

#define RT_FAILURE_CAUSES 24   /* distinct causes kept; later ones are counted as "other" */
#define RT_FAILURE_CAUSE_LEN 200
#define RT_FAILURE_DETAIL_LEN 400

typedef struct rt_failure_cause {
    char cause[RT_FAILURE_CAUSE_LEN];
    char detail[RT_FAILURE_DETAIL_LEN]; /* the latest occurrence's; may be empty */
    long long count;
} rt_failure_cause;

typedef struct rt_failures {
    rt_failure_cause causes[RT_FAILURE_CAUSES];
    int n;
    long long other;   /* failures of causes past the table's size */
    long long cut;     /* work in flight stopped at the end of a session (not failures) */
    int streak_cause;  /* index of the cause of the latest outcome, -1 after a success */
    long long streak;  /* how many times in a row it failed */
} rt_failures;

void rt_failures_init(rt_failures *f);
/* Counts one failure of cause (NULL or empty: "unknown") with its detail (may be NULL); returns
 * how many times in a row this cause has now failed. */
long long rt_failures_add(rt_failures *f, const char *cause, const char *detail);
/* An outcome that was not a failure: ends the streak. */
void rt_failures_success(rt_failures *f);
/* Total failures counted. */
long long rt_failures_total(const rt_failures *f);

/* The table as one JSON object {"cut":N,"other":N,"causes":[{"cause","count","detail"}...]},
 * causes by count, largest first, appended to out. Returns 0 or RT_ENOMEM / RT_ETOOBIG. */
int rt_failures_to_json(const rt_failures *f, rt_buf *out);
/* Reads a table written by rt_failures_to_json (from a store: untrusted, any bytes). Returns 0,
 * or RT_ESTORE when text is not such an object (f is then empty). The streak starts afresh. */
int rt_failures_from_json(rt_failures *f, const char *text, size_t len);

#endif
