/* gate.h — nothing enters the archive unverified: every admission decision of a run, in one file.
 *
 * The gate is the archive's only door: rt_archive_offer is called from gate.c and nowhere else
 * (the archive's own migration copies elites that are already in). The engine hands the gate
 * each fresh child (its genome and its canonical text, the exact bytes that will be stored), and
 * the gate decides, in this order (rt_gate_admit):
 *
 *   1. a child whose expensive evaluation failed is rejected without verification;
 *   2. the proxy scores it; a primary score at or below RT_PROXY_REJECT drops it (the engine
 *      counts it and stores nothing);
 *   3. the problem's verifier checks the text, and the text must decode to the candidate that
 *      was scored (rt_gate_check, rt_gate_roundtrip);
 *   4. under trust_proxy (the ablation) the proxy's word admits it whatever the verdict;
 *      otherwise a valid child of a noisy problem must also clear the incumbent's noise floor
 *      (docs/verification.md, "Noise-aware acceptance");
 *   5. the archive takes it if its cell is empty or holds no better elite.
 *
 * It enters with its verified score (for a noisy problem the mean of fresh re-evaluations), and
 * with the proxy's only under trust_proxy. What comes back from the store on resume passes again
 * (rt_gate_readmit), and the seed's copies for the other islands enter under the seed's verdict
 * (rt_gate_spread_seed). The gate counts how often the proxy claimed more than verification gave
 * (drift) and the work of noise-aware acceptance.
 *
 * Ownership: a child's genome passes to the archive when its ruling says admitted, and stays the
 * caller's otherwise (also on error). The gate keeps its last error message (errmsg).
 */
#ifndef RT_GATE_H
#define RT_GATE_H

#include "archive.h"
#include "policy.h"
#include "problem.h"

/* Counters of noise-aware acceptance in this process (not stored). */
typedef struct rt_noise_counts {
    long long reevaluations; /* extra verifier calls: noise floors and confirmations */
    long long screened_out;  /* children within the incumbent's noise floor */
    long long unconfirmed;   /* winners whose fresh re-evaluations did not hold up */
    long long confirmed;     /* winners admitted on their re-evaluated mean */
} rt_noise_counts;

#define RT_GATE_FLOORS 16 /* incumbents whose noise floor is remembered */

typedef struct rt_gate {
    const rt_problem *problem;
    /* set by rt_gate_bind, for the functions that admit */
    rt_archive *archive;
    const rt_policy *policy; /* the run's: its noise knobs are read at each decision */
    int trust_proxy;         /* the ablation: the proxy's word admits */

    long long checked;    /* candidates verified */
    long long passed;     /* verified valid */
    long long failed;     /* verified invalid or malformed */
    long long overclaims; /* proxy better than the verified score (or claimed for an invalid one) */
    long long mismatched; /* text that decodes to something other than what was scored */
    rt_noise_counts noise;

    struct rt_noise_floor {
        char hash[65];
        double mean, spread;
    } floors[RT_GATE_FLOORS];
    int next_floor;
    char errmsg[512];
} rt_gate;

/* A gate that verifies (rt_gate_check) but admits nothing until bound to an archive. */
void rt_gate_init(rt_gate *g, const rt_problem *problem);
/* Binds the gate to the run's archive and policy (borrowed; both outlive the gate). */
void rt_gate_bind(rt_gate *g, rt_archive *archive, const rt_policy *policy, int trust_proxy);

/* ---- a fresh child ------------------------------------------------------------------------ */

/* A verification run ahead of the gate on a worker thread (rt_gate_verify_ahead). */
typedef struct rt_gate_verification {
    int done; /* verify() ran: rc, err and verdict hold what it returned and wrote */
    int rc;
    char err[400];
    rt_verdict verdict;
} rt_gate_verification;

/* A child at the gate. Everything is borrowed for the call. */
typedef struct rt_gate_child {
    int island;
    void *genome;                          /* passes to the archive if admitted */
    const char *text;                      /* its canonical text, what will be stored */
    size_t len;
    const char *hash;                      /* SHA-256 of text, 64 hex digits */
    const rt_evaluation *ev;               /* its expensive evaluation, or NULL (none) */
    const rt_gate_verification *ahead;     /* verification already run, or NULL */
} rt_gate_child;

/* What the gate made of a child. */
typedef struct rt_gate_ruling {
    int dropped;        /* the proxy itself rejected it: nothing else was done */
    int admitted;       /* it entered the archive, which now owns the genome */
    int trusted;        /* admitted on the proxy's word (trust_proxy), not on the verdict */
    rt_score proxy;     /* what the proxy claimed (0 when the evaluation failed) */
    rt_score verified;  /* the verifier's score; a noisy problem's confirmed mean */
    rt_score score;     /* what it entered the archive with: verified, or proxy when trusted */
    rt_verdict verdict; /* the verifier's verdict; reason says why an invalid child failed */
    char note[512];     /* a valid child of a noisy problem: why it stayed out, or how it held */
    rt_elite *slot;     /* its cell when admitted, until the island next changes */
} rt_gate_ruling;

/* The reason stored with a judged child: the verdict's when invalid, else the note. */
const char *rt_gate_reason(const rt_gate_ruling *ruling);

/* Verifies a child's text ahead of rt_gate_admit, which then only decides (for problems with an
 * expensive evaluation, whose verifications run in parallel). Thread-safe: reads the gate's
 * problem only. A child whose evaluation failed is not verified (out->done stays 0). */
void rt_gate_verify_ahead(const rt_gate *g, const rt_evaluation *ev, const char *text,
                          size_t len, rt_gate_verification *out);

/* Judges a fresh child (steps 1-5 above) and offers it to its cell when it may enter. Returns 0
 * with *out filled, or RT_ENOMEM / the problem's error with errmsg set. */
int rt_gate_admit(rt_gate *g, const rt_gate_child *child, rt_gate_ruling *out);

/* ---- what is already admitted ------------------------------------------------------------- */

/* The seed, admitted on island 0 as its only elite, enters every other island too: a copy of
 * seed (the genome the admitted one was copied from) per island, under island 0's ruling.
 * Returns 0 or RT_ENOMEM. */
int rt_gate_spread_seed(rt_gate *g, const void *seed);

/* An archived candidate read back from the store on resume. */
typedef struct rt_gate_stored {
    int island;        /* in range: the caller checks it against the archive */
    long long cand_id; /* its row */
    int migrated;      /* as stored with the archive */
    const char *text;  /* its stored text */
    size_t len;
    const char *hash;
    rt_score score;    /* the verified score stored with it */
    char *metrics;     /* its evaluation's annotations, or NULL: taken over by the gate */
    char *artifacts;
} rt_gate_stored;

/* Trusts a stored candidate again only if its text verifies now; then decodes it from that text
 * and offers it to its island with the score it was admitted with (the stored one for a noisy
 * problem, where a fresh draw is not the confirmed mean; else the verified one, which is the
 * same). Returns 1 with *out set (the verdict and score) when it entered, 0 when the island
 * already holds it or better, RT_ESTORE when it does not verify or decode (errmsg says which
 * candidate and why), RT_ENOMEM. */
int rt_gate_readmit(rt_gate *g, rt_gate_stored *stored, rt_gate_ruling *out);

/* ---- the checks themselves ---------------------------------------------------------------- */

/* Verifies text, then checks that the text decodes to the candidate that was scored: it must
 * re-encode to the same bytes and (unless the problem is noisy) get the same proxy score.
 * Returns 1 if the candidate may be admitted (out->valid, out->score set), 0 if not
 * (out->valid is 0 and out->reason says why, also for malformed or mismatched text), RT_ENOMEM. */
int rt_gate_check(rt_gate *g, const char *text, size_t len, rt_score proxy, rt_verdict *out);

/* The round-trip check alone (the audit uses it too): 0 when text decodes and re-encodes to
 * itself and the decoded candidate's proxy score equals proxy (not compared for noisy
 * problems, nor for those whose proxy is an external evaluation); RT_EINVALID with why filled
 * otherwise; RT_ENOMEM. */
int rt_gate_roundtrip(const rt_problem *problem, const char *text, size_t len, rt_score proxy,
                      char *why, size_t whylen);

#endif
