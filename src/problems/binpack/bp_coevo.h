/* bp_coevo.h — the co-evolution of binpack solvers and posers (docs/coevolution.md), shared by
 * its loop (bp_coevo.c) and its store plumbing (bp_coevo_store.c).
 *
 * One run, one store: the store's problem is binpack with the anchor set's parameters and
 * posers=1, so the gate's verifier, `status`, `best` and `audit` read both kinds of candidate.
 * Island 0 of the store's archive is the solver population, island 1 the posers, island 2 the
 * hall of fame. A candidate enters a population only once verified: a solver's text through the
 * problem's verifier (the anchor set) and, for its curriculum fitness, the verifier's own packing
 * counts on every curriculum instance; a poser's text through bp_poser_check (its instance, the
 * checked reference packing, the lower bound).
 */
#ifndef BP_COEVO_H
#define BP_COEVO_H

#include "problem.h"
#include "problems/binpack/binpack.h"
#include "hashset.h"
#include "store/store.h"

#define CO_MAX_SOLVERS 64
#define CO_MAX_POSERS 32
#define CO_MAX_HALL 16
#define CO_MAX_CURRICULUM (CO_MAX_POSERS + 8)

typedef struct co_solver {
    bp_expr expr;
    long long cand_id;
    double fitness; /* on the current curriculum: mean improvement over best fit, percent */
    double anchor;  /* verified: excess over L1 on the anchor set */
} co_solver;

typedef struct co_poser {
    bp_spec spec;
    bp_instance inst;       /* owned */
    bp_poser_facts facts;   /* verified */
    double reward, frontier, novelty;
    double desc[4];
    long long cand_id;
} co_poser;

typedef struct co_run {
    rt_problem *problem;    /* binpack, anchors, posers=1 */
    rt_db *db;
    rt_coevolve_options opt;
    rt_rng rng[3];          /* solvers, posers, spare */
    co_solver pop[CO_MAX_SOLVERS];
    int npop;
    co_solver hall[CO_MAX_HALL];
    int nhall;
    co_poser posers[CO_MAX_POSERS];
    int nposers;
    bp_set anchors;         /* the problem's training set (borrowed instances copied) */
    long long *anchor_ref, *anchor_bf; /* checked reference packings; best fit */
    /* the curriculum: the best posers' instances, then the anchors (not owned) */
    const bp_instance *cur[CO_MAX_CURRICULUM];
    long long cur_ref[CO_MAX_CURRICULUM], cur_bf[CO_MAX_CURRICULUM];
    int ncur;
    rt_hashset seen;
    long long epoch, evaluations, duplicates;
    long long priority_evals; /* this session's priority function evaluations */
    double elapsed0, start;
    int sessions;
    char errmsg[512];
} co_run;

/* ---- bp_coevo_store.c ---- */
int co_store_create(co_run *r, const char *path);
int co_store_resume(co_run *r, const char *path);
/* Stores a candidate row (valid or not; admitted or not) with its metrics JSON; *id its row. */
int co_store_row(co_run *r, const char *text, size_t len, const char *parent, const char *op,
                 int island, const rt_verdict *v, rt_score proxy, int admitted,
                 const char *metrics, long long *id);
int co_store_checkpoint(co_run *r);
int co_store_event(co_run *r, const char *kind, const char *detail);
double co_elapsed(const co_run *r);
int co_fail(co_run *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- bp_coevo.c ---- */
/* Admits a solver: verified, stored, placed (replacing slot when >= 0, else appended). */
int co_admit_solver(co_run *r, const bp_expr *e, const char *parent, const char *op, int slot,
                    int island);
/* Admits a poser from its text (verified; *out filled). 1 admitted, 0 refused, < 0 error. */
int co_check_poser(co_run *r, const bp_spec *s, co_poser *out, char *why, size_t whylen);
void co_poser_free(co_poser *p);
int co_epoch(co_run *r);

#endif
