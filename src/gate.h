/* gate.h — nothing enters the archive unverified.
 *
 * The gate takes a candidate's canonical text — the exact bytes that will be stored — and the
 * proxy score the search claimed for it, runs the problem's independent verifier on the text,
 * and says whether the candidate may be admitted and with which score: always the verified one,
 * never the proxy. It counts how often the proxy claimed more than verification gave (drift).
 */
#ifndef RT_GATE_H
#define RT_GATE_H

#include "problem.h"

typedef struct rt_gate {
    const rt_problem *problem;
    long long checked;    /* candidates verified */
    long long passed;     /* verified valid */
    long long failed;     /* verified invalid or malformed */
    long long overclaims; /* proxy better than the verified score (or claimed for an invalid one) */
} rt_gate;

void rt_gate_init(rt_gate *g, const rt_problem *problem);

/* Verifies text. Returns 1 if the candidate may be admitted (out->valid, out->score set), 0 if
 * not (out->reason says why, also for malformed text). */
int rt_gate_check(rt_gate *g, const char *text, size_t len, rt_score proxy, rt_verdict *out);

/* The same decision and counting for a verification that already ran elsewhere (a worker
 * thread): rc and err are what the problem's verify() returned and wrote, out its verdict. */
int rt_gate_account(rt_gate *g, int rc, const char *err, rt_score proxy, rt_verdict *out);

#endif
