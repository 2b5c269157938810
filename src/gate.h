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
    long long mismatched; /* text that decodes to something other than what was scored */
} rt_gate;

void rt_gate_init(rt_gate *g, const rt_problem *problem);

/* Verifies text, then checks that the text decodes to the candidate that was scored: it must
 * re-encode to the same bytes and (unless the problem is noisy) get the same proxy score.
 * Returns 1 if the candidate may be admitted (out->valid, out->score set), 0 if not
 * (out->valid is 0 and out->reason says why, also for malformed or mismatched text), RT_ENOMEM. */
int rt_gate_check(rt_gate *g, const char *text, size_t len, rt_score proxy, rt_verdict *out);

/* The round-trip check alone (the audit uses it too): 0 when text decodes and re-encodes to
 * itself and the decoded candidate's proxy score equals proxy (not compared for noisy
 * problems, nor for those whose proxy is an external evaluation); RT_EINVALID with why filled otherwise; RT_ENOMEM. */
int rt_gate_roundtrip(const rt_problem *problem, const char *text, size_t len, rt_score proxy,
                      char *why, size_t whylen);
/* The same decision and counting for a verification that already ran elsewhere (a worker
 * thread): rc and err are what the problem's verify() returned and wrote, out its verdict. */
int rt_gate_account(rt_gate *g, const char *text, size_t len, int rc, const char *err,
                    rt_score proxy, rt_verdict *out);

#endif
