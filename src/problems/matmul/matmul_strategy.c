/* matmul_strategy.c — walker runs, symmetric runs, field changes and the rule of the shape (see
 * matmul_strategy.h). The walker run and the symmetric run are the former operators of matmul.c,
 * unchanged in what they do for a given configuration and seed. */
#include "problems/matmul/matmul_strategy.h"

#include <math.h>
#include <stdlib.h>

#include "problems/matmul/matmul_lift.h"
#include "problems/matmul/matmul_sym.h"
#include "problems/matmul/matmul_walk.h"
#include "util.h"

/* Work weights, in Z flips (docs/recursion.md): a GF(2) flip costs 25.8/40.9 of a Z flip (the
 * walker's rates per CPU second, docs/matmul.md), a plus transition about one flip, a lift
 * attempt at <4,4,4> 64 ms of CPU, that is 1.37e6 GF(2) flips at the 21.4 M flips/s measured
 * beside it (bench of 3 Dec 2026), 8.6e5 Z flips; other shapes scale it by (n*m*p/64)^3.
 * A symmetric flip moves a whole orbit, three products (cyclic) or six (twin): measured per
 * flip against a plain Z flip of the same square shape, n = 3..6 (bench_matmul part 4,
 * docs/recursion.md), cyclic 1.7-2.2 over Z and 1.0-2.0 over GF(2), twin 2.8-4.3 and 1.5-2.8. */
#define WORK_GF2_FLIP 0.63
#define WORK_LIFT_64 8.6e5
#define WORK_LIFT_EXP 3.0

long long mm_effort_flips(const mm_effort *e)
{
    return e->flips_z + e->flips_gf2 + e->sym_flips[0][0] + e->sym_flips[0][1] +
           e->sym_flips[1][0] + e->sym_flips[1][1];
}

/* A plain flip's work by field, and a symmetric flip's as measured, [twin][field is GF(2)] as
 * mm_effort's sym_flips. */
static const double plain_flip[2] = {1, WORK_GF2_FLIP};
static const double sym_flip[2][2] = {{2.0, 1.3}, {3.2, 2.1}};

long long mm_work_cost(const mm_effort *e, double sym_share)
{
    double w = (double)e->flips_z + WORK_GF2_FLIP * (double)e->flips_gf2 + (double)e->pluses;
    for (int twin = 0; twin < 2; twin++) /* a plain flip of the field and sym_share of the rest */
        for (int gf2 = 0; gf2 < 2; gf2++)
            w += (plain_flip[gf2] + sym_share * (sym_flip[twin][gf2] - plain_flip[gf2])) *
                 (double)e->sym_flips[twin][gf2];
    w += e->lift_work;
    return w > 9e18 ? (long long)9e18 : (long long)w;
}

double mm_lift_work(int n, int m, int p)
{
    return WORK_LIFT_64 * pow((double)n * (double)m * (double)p / 64.0, WORK_LIFT_EXP);
}

static void count_lift(mm_effort *effort, const mm_scheme *s)
{
    effort->lifts++;
    effort->lift_work += mm_lift_work(s->n, s->m, s->p);
}

static void add_flips(mm_effort *e, enum mm_field field, long long flips)
{
    if (field == MM_GF2)
        e->flips_gf2 += flips;
    else
        e->flips_z += flips;
}

long long mm_rule_length(double base, int n, int m, int p, double exponent)
{
    double len = base * pow((double)n * (double)m * (double)p / 64.0, exponent);
    if (!(len >= 1))
        return 0;
    return len > 1e12 ? (long long)1e12 : llround(len);
}

int mm_liftable(const mm_scheme *s, int need_lift, mm_effort *effort)
{
    if (!need_lift)
        return 1;
    rt_buf tmp;
    rt_buf_init(&tmp, MM_MAX_TEXT);
    int ok = mm_lift_encode(s, &tmp) == 0;
    rt_buf_free(&tmp);
    count_lift(effort, s);
    return ok;
}

/* GF(2) -> Z through the lift's text; -1 when there is no lift within {-1,0,1}. */
static int lift_to_z(const mm_scheme *in, mm_scheme *out, mm_effort *effort)
{
    rt_buf text;
    rt_buf_init(&text, MM_MAX_TEXT);
    mm_plain plain = {0};
    char err[256];
    int rc = mm_lift_encode(in, &text);
    count_lift(effort, in);
    if (!rc)
        rc = mm_parse_any(text.data, text.len, in->n, in->m, in->p, &plain, err, sizeof err);
    if (!rc)
        rc = mm_scheme_from_plain_exact(out, &plain, MM_Z, err, sizeof err);
    mm_plain_free(&plain);
    rt_buf_free(&text);
    return rc == RT_ENOMEM ? rc : rc ? -1 : 0;
}

int mm_scheme_to_field(const mm_scheme *in, enum mm_field field, mm_scheme *out,
                       mm_effort *effort)
{
    if (in->field == field)
        return mm_scheme_copy(out, in);
    if (field == MM_Z)
        return lift_to_z(in, out, effort);
    int rc = mm_scheme_copy(out, in);
    if (rc)
        return rc;
    out->field = MM_GF2;
    for (int t = 0; t < out->rank; t++)
        for (int q = 0; q < 3; q++) {
            out->prod[t].f[q].p |= out->prod[t].f[q].n;
            out->prod[t].f[q].n = 0;
        }
    return 0;
}

/* The length of the next plateau: plateau_hi, or (plateau_min > 0) drawn log-uniformly from
 * [plateau_min, plateau_hi] each time, so that one run mixes short and long plateaus. */
static long long plateau_length(const mm_walk_cfg *c, rt_rng *rng, long long budget)
{
    long long hi = c->plateau_hi > 0 ? c->plateau_hi : budget;
    long long lo = c->plateau_min;
    if (lo <= 0 || lo >= hi)
        return hi;
    double len = (double)lo * exp(rt_rng_unit(rng) * log((double)hi / (double)lo));
    return len < (double)lo ? lo : len > (double)hi ? hi : (long long)len;
}

/* len * ratio^exponent, at least 1 (0 stays 0: plateau_min's "none"): the rule of the shape
 * (mm_rule_length) taken from one shape to another of ratio times its size. */
static long long scaled_length(long long len, double ratio, double exponent)
{
    if (len <= 0)
        return len;
    double v = (double)len * pow(ratio, exponent);
    return v < 1 ? 1 : v > 1e12 ? (long long)1e12 : (long long)v;
}

/* One part of a start built from parts of the shape dims: the standard algorithm of
 * <pd[0],pd[1],pd[2]> descended by a walker run of c's configuration scaled by the rule of the
 * shape from dims to the part's size. A part no flip changes (<n,m,1> and the like) stays the
 * standard algorithm. Returns 0 or RT_ENOMEM (out empty then). */
static int descend_part(const mm_walk_cfg *c, const int dims[3], const int pd[3],
                        enum mm_field field, rt_rng *rng, mm_scheme *out, mm_effort *effort)
{
    int rc = mm_scheme_standard(out, pd[0], pd[1], pd[2], field);
    if (rc)
        return rc;
    double ratio = (double)pd[0] * pd[1] * pd[2] / ((double)dims[0] * dims[1] * dims[2]);
    mm_walk_cfg pc = *c;
    pc.flips = scaled_length(c->flips, ratio, c->flips_exp);
    pc.plateau_hi = scaled_length(c->plateau_hi, ratio, c->plateau_exp);
    pc.plateau_min = scaled_length(c->plateau_min, ratio, c->plateau_exp);
    pc.restart_prob = 0;
    pc.stop_on_improve = 0;
    pc.need_lift = 0;
    pc.split = 0;
    (void)mm_run_walk(&pc, out, rng, 0, effort);
    return 0;
}

/* The split start (the meta flip graph's extensions, Kauers and Wood 2025, made a fresh start):
 * one dimension of <n,m,p> of at least 2 is cut at a random point, each part's standard
 * algorithm descends (descend_part), and the start is the direct sum of the two parts' schemes.
 * <3,4,5> cut in p as <3,4,2> + <3,4,3> starts near 20 + 29 = 49 instead of 60, in a region of
 * the flip graph that descents from the standard algorithm do not visit first. The start is
 * reduced. Returns 0, -1 when the shape has no dimension to cut, or RT_ENOMEM. */
static int split_start(const mm_walk_cfg *c, const mm_scheme *s, rt_rng *rng, mm_scheme *out,
                       mm_effort *effort)
{
    int dims[3] = {s->n, s->m, s->p}, cuts = dims[0] + dims[1] + dims[2] - 3;
    if (cuts == 0)
        return -1;
    /* cut number pick of the n-1, m-1 and p-1 cuts in turn (rt_rng_unit < 1) */
    int pick = (int)(rt_rng_unit(rng) * cuts), axis = 0;
    while (pick >= dims[axis] - 1)
        pick -= dims[axis++] - 1;
    int cut = pick + 1;
    mm_scheme part[2] = {{0}, {0}};
    int rc = 0;
    for (int k = 0; k < 2 && !rc; k++) {
        int pd[3] = {dims[0], dims[1], dims[2]};
        pd[axis] = k ? dims[axis] - cut : cut;
        rc = descend_part(c, dims, pd, s->field, rng, &part[k], effort);
    }
    if (!rc && !(rc = mm_scheme_direct_sum(&part[0], &part[1], axis, out))) {
        mm_scheme_reduce_all(out);
        effort->split_starts++;
    }
    mm_scheme_free(&part[0]);
    mm_scheme_free(&part[1]);
    return rc == RT_ENOMEM ? rc : rc ? -1 : 0;
}

int mm_cube_side(int n, int m, int p)
{
    int k = n < m ? (n < p ? n : p) : (m < p ? m : p);
    int above = (n > k) + (m > k) + (p > k);
    return k >= 2 && above == 1 ? k : 0;
}

/* The cube start (the meta flip graph's extension edge, Kauers and Wood 2025, from the square
 * shape inside): for <k,k,d> (d > k, in any order) the cube <k,k,k> descends by a symmetric run
 * from its fresh symmetric start (c->cube), the slab <k,k,d-k> that completes the shape
 * descends as a split part, and the start is their direct sum. <4,4,5> starts from <4,4,4>'s
 * symmetric 49-58 beside <4,4,1>'s 16, a region that plain and split descents (64 at best) do
 * not reach: walks from it reach 62 in seconds (docs/recursion.md). The start is reduced.
 * Returns 0, -1 when the shape is not of that form (mm_cube_side), or RT_ENOMEM. */
static int cube_start(const mm_walk_cfg *c, const mm_scheme *s, rt_rng *rng, mm_scheme *out,
                      mm_effort *effort)
{
    int dims[3] = {s->n, s->m, s->p}, k = mm_cube_side(s->n, s->m, s->p);
    if (!k)
        return -1;
    int axis = dims[0] > k ? 0 : dims[1] > k ? 1 : 2, pd[3] = {k, k, k};
    pd[axis] = dims[axis] - k;
    mm_scheme cube = {0}, slab = {0};
    int rc = mm_scheme_standard(&cube, k, k, k, s->field);
    if (!rc && mm_run_sym(&c->cube, &cube, rng, 0, effort) == 0) /* else the standard cube */
        mm_scheme_reduce_all(&cube);
    if (!rc)
        rc = descend_part(c, dims, pd, s->field, rng, &slab, effort);
    if (!rc && !(rc = mm_scheme_direct_sum(&cube, &slab, axis, out))) {
        mm_scheme_reduce_all(out);
        effort->split_starts++;
    }
    mm_scheme_free(&cube);
    mm_scheme_free(&slab);
    return rc == RT_ENOMEM ? rc : rc ? -1 : 0;
}

/* With probability restart_prob, s becomes the standard algorithm (split: the split or the cube
 * start); returns the rank the run must beat to stop early (the parent's), or -1 when s is still
 * the parent. */
static int maybe_restart(const mm_walk_cfg *c, mm_scheme *s, rt_rng *rng, mm_effort *effort)
{
    if (!(c->restart_prob > 0 && rt_rng_unit(rng) < c->restart_prob))
        return -1;
    mm_scheme fresh = {0};
    int rc = c->split == MM_SPLIT_CUBE  ? cube_start(c, s, rng, &fresh, effort)
             : c->split == MM_SPLIT_CUT ? split_start(c, s, rng, &fresh, effort)
                                        : mm_scheme_standard(&fresh, s->n, s->m, s->p, s->field);
    if (rc)
        return -1;
    int parent_rank = s->rank;
    mm_scheme_free(s);
    *s = fresh;
    return parent_rank;
}

/* The lift work done since lift0, when lifts are paid from the budget (else 0). */
static long long lifts_paid(int pay, const mm_effort *effort, double lift0)
{
    double w = pay ? effort->lift_work - lift0 : 0;
    return w > 1e15 ? (long long)1e15 : (long long)w;
}

/* The walk of one run after its setup: chunks up to the next plateau, escapes, early stop.
 * Returns the flips made; *best and *best_rank follow the run's lowest rank, *lifted is set when
 * a lifting improvement ended the run, *escapes counts plus transitions. -2 on failure. */
static long long walk_loop(const mm_walk_cfg *c, mm_walker *w, rt_rng *rng, int parent_rank,
                           mm_scheme *best, int *best_rank, int *escapes, int *lifted,
                           mm_effort *effort)
{
    long long budget = c->flips, done_flips = 0, since = 0;
    long long plateau = plateau_length(c, rng, budget);
    double lift0 = effort->lift_work;
    while (done_flips + lifts_paid(c->lifts_pay, effort, lift0) < budget && !rt_work_cut()) {
        long long chunk = budget - done_flips - lifts_paid(c->lifts_pay, effort, lift0);
        if (chunk > plateau - since)
            chunk = plateau - since;
        int r0 = mm_walker_rank(w);
        long long f = mm_walker_run(w, rng, chunk, r0, NULL);
        done_flips += f;
        since += f;
        if (mm_walker_rank(w) < r0) {
            since = 0;
            if (mm_walker_rank(w) <= *best_rank) {
                *best_rank = mm_walker_rank(w);
                if (mm_walker_store(w, best))
                    return -2;
            }
            if (c->stop_on_improve && *best_rank < parent_rank &&
                mm_walker_rank(w) == *best_rank &&
                (*lifted = mm_liftable(best, c->need_lift, effort)))
                break;
            continue;
        }
        if (since < plateau)
            break; /* budget spent, or isolated (no flip left) */
        if (*escapes >= c->max_escapes || rt_rng_unit(rng) >= c->escape_prob)
            break;
        if (mm_walker_rank(w) >= *best_rank + c->drift && mm_walker_load(w, best))
            return -2;
        if (mm_walker_plus(w, rng))
            break;
        (*escapes)++;
        effort->pluses++;
        since = 0;
        plateau = plateau_length(c, rng, budget);
    }
    return done_flips;
}

/* One walker run (docs/policy.md, matmul). The walker flips until the budget is spent; at a
 * plateau it escapes by a plus transition, made from its current scheme while that is less than
 * drift above the run's lowest rank, else from that lowest-rank scheme; otherwise the run ends.
 * With stop_on_improve the run ends as soon as its rank is below the parent's (with need_lift:
 * on a scheme that lifts; from one that does not, the walk goes on, since its escapes and the
 * reductions after them reach other schemes of that rank, which may lift). A restarted run starts
 * from the standard algorithm and still ends early only below the parent's rank. */
int mm_run_walk(const mm_walk_cfg *c, mm_scheme *s, rt_rng *rng, int plus_first,
                mm_effort *effort)
{
    int parent_rank = maybe_restart(c, s, rng, effort);
    mm_walk_cfg cfg = *c;
    if (cfg.drift < 1)
        cfg.drift = 1;
    mm_walker *w = NULL;
    if (mm_walker_new(&w, s, cfg.drift + 1))
        return -1;
    mm_scheme best = {0};
    int rc = -1, escapes = 0, lifted = 0;
    int best_rank = mm_walker_rank(w);
    if (parent_rank < 0)
        parent_rank = best_rank;
    if (mm_walker_store(w, &best))
        goto done;
    if (plus_first) {
        if (mm_walker_plus(w, rng))
            goto done;
        escapes++;
        effort->pluses++;
    }
    long long done_flips =
        walk_loop(&cfg, w, rng, parent_rank, &best, &best_rank, &escapes, &lifted, effort);
    if (done_flips < 0)
        goto done;
    add_flips(effort, s->field, done_flips);
    if (lifted || best_rank < mm_walker_rank(w)) {
        mm_scheme_free(s);
        *s = best;
        best.prod = NULL;
    } else if (mm_walker_store(w, s)) {
        goto done;
    }
    rc = done_flips > 0 || escapes > 0 ? 0 : -1;
done:
    mm_scheme_free(&best);
    mm_walker_free(w);
    return rc;
}

/* The orbits of genome, or (c->fresh) the fresh symmetric start when it has none or (c->parts
 * set) when its number of cubes is not c->parts: a walk never changes the cubes, so a symmetric
 * parent with other cubes lies in another class of ranks (the standard algorithm of <n,n,n> is
 * itself symmetric, with n cubes, and <4,4,4>'s 49 or <5,5,5>'s 93 are not reachable from it).
 * *parent_rank is the rank the run must beat to stop early. */
static int sym_start(const mm_sym_cfg *c, const mm_scheme *genome, mm_sym *sym, int *parent_rank)
{
    if (mm_sym_from_scheme_twin(sym, genome, c->twin, NULL, 0) == 0) {
        if (!c->fresh || c->parts <= 0 || sym->ncube == c->parts) {
            *parent_rank = mm_sym_rank(sym);
            return 0;
        }
        mm_sym_free(sym); /* symmetric, but not in the strategy's class of cube counts */
    }
    if (!c->fresh || genome->n != genome->m || genome->m != genome->p)
        return -1;
    *parent_rank = genome->rank;
    return mm_sym_start(sym, genome->n, genome->field, c->parts, c->twin) ? -1 : 0;
}

/* The symmetric run: recover the orbits (or start fresh), walk (after a plus when plus is set),
 * expand back. With need_lift the child must lift: a run that ends below its start on a scheme
 * that does not lift goes on from there with the rest of its budget (a lower rank that lifts is
 * often a few reductions further on), and the child is dropped (-1) only when the budget ends
 * without a liftable scheme below the parent. */
int mm_run_sym(const mm_sym_cfg *c, mm_scheme *genome, rt_rng *rng, int plus, mm_effort *effort)
{
    mm_sym sym;
    mm_scheme out = {0};
    mm_sym_stats ss = {0};
    int parent_rank;
    if (sym_start(c, genome, &sym, &parent_rank))
        return -1;
    enum mm_field field = genome->field;
    int rc = plus ? mm_sym_plus(&sym, rng) : 0, ok = 0;
    mm_sym_run_opts ro = {c->flips,           c->plateau,  c->escape_prob,
                          c->max_escapes,     c->stop_on_improve, c->beta,
                          c->headroom,        c->max_size, 0};
    double lift0 = effort->lift_work;
    while (!rc && !rt_work_cut()) {
        long long before = ss.flips;
        ro.flips = c->flips - ss.flips - lifts_paid(c->lifts_pay, effort, lift0);
        if (ro.flips <= 0)
            break; /* the lift attempts spent the budget */
        /* after a plus (or from a fresh start), the run aims below the parent */
        ro.stop_rank = mm_sym_rank(&sym) > parent_rank ? parent_rank : 0;
        rc = mm_sym_run(&sym, rng, &ro, &ss);
        if (!rc) {
            mm_scheme_free(&out);
            rc = mm_sym_expand(&sym, &out);
        }
        if (rc)
            break;
        ok = (ss.flips > 0 || plus) && mm_liftable(&out, c->need_lift, effort);
        /* without need_lift every run is final; with it, an unliftable improvement walks on */
        if (ok || !c->need_lift || mm_sym_rank(&sym) >= parent_rank ||
            ss.flips + lifts_paid(c->lifts_pay, effort, lift0) >= c->flips ||
            ss.flips == before)
            break;
    }
    mm_sym_free(&sym);
    effort->sym_flips[c->twin != 0][field == MM_GF2] += ss.flips;
    effort->pluses += plus;
    if (rc || !ok) {
        mm_scheme_free(&out);
        return -1;
    }
    mm_scheme_free(genome);
    *genome = out;
    return 0;
}
