/* matmul_sym.h — schemes for <n,n,n> invariant under the cyclic rotation of the three factors,
 * and the flip graph on them (after Moosbauer and Poole, "Flip graphs with symmetry and new
 * matrix multiplication schemes", 2025).
 *
 * With matmul_plain.h's convention the tensor is sum a[i][j] b[j][k] c[k][i] (the third factor's
 * entry (k,i) sits at k*n+i), so all three factors are n x n matrices in row-major order and
 * rotating a product (u,v,w) -> (v,w,u) maps the tensor to itself: no transposition is needed.
 * A symmetric scheme is then
 *   - orbits: a representative (u,v,w) standing for the three products (u,v,w), (v,w,u), (w,u,v);
 *   - cubes: products (x,x,x), fixed by the rotation.
 * Its rank is 3 * orbits + cubes.
 *
 * Starting point (mm_sym_trivial): the diagonal indices 0..n-1 are split into `parts` blocks
 * P; each block gives the cube (sum_{i in P} E_ii)^3, whose unwanted terms a_ii b_jj c_kk
 * (i,j,k in P, not all equal) are cancelled by orbits of -(E_ii, E_jj, E_kk); every other term
 * a_ij b_jk c_ki (i,j,k not all equal) of the standard algorithm is grouped into orbits. The
 * number of cubes never changes afterwards, so rank = parts (mod 3): `parts` picks the residue
 * class of the ranks the search can reach.
 *
 * Moves, each applied to whole orbits so that the scheme stays symmetric (the cubes are never
 * touched):
 *   - flip: two distinct orbits whose representatives share a factor (up to sign, in any
 *     position: a rotation aligns them) trade terms as in matmul_search.h; the same flip on the
 *     other two rotations is implied by the representation;
 *   - reduction: an orbit with a zero factor disappears (rank - 3); two orbits that agree (up to
 *     sign, after rotation) in two positions merge into one (rank - 3);
 *   - plus: two orbits become three (rank + 3), an escape from a plateau.
 * Over Z coefficients stay in {-1,0,1}; a move that would leave that range is not made.
 *
 * Twin symmetry (twin = 1): the scheme is also invariant under g, A -> P A P^T applied to all three
 * factors at once, where P is the permutation matrix of the involution pi that swaps the index
 * pairs (0,1), (2,3), ... and fixes the last index when n is odd; tr(ABC) is invariant under g
 * and g commutes with the rotation. Each orbit then also stands for the three rotations of
 * (g u, g v, g w): six products, rank 6 * orbits + cubes, and every move is made on whole
 * six-product orbits (a move and its image under g, so the search space is smaller again). The
 * diagonal blocks of the start must be unions of pi's cycles (blocks of even size, the last one
 * odd when n is, as mm_sym_default_parts gives for n = 4, 5, 6). An orbit whose twin equals it
 * up to rotation and signs of opposite product sign (over GF(2): always) cancels with its twin
 * and disappears (rank - 6).
 *
 * The engine's genomes stay expanded mm_scheme values (so encode, the store and the gate see
 * ordinary full schemes); mm_sym_from_scheme recovers the orbits from an expanded scheme.
 *
 * Ownership: mm_sym owns its arrays; mm_sym_free releases them.
 */
#ifndef RT_MATMUL_SYM_H
#define RT_MATMUL_SYM_H

#include "problems/matmul/matmul_search.h"

#define MM_SYM_MAX_ORBITS (MM_MAX_RANK / 3)

typedef struct mm_sym {
    int n;               /* matrices are n x n, 1 <= n <= 8 */
    enum mm_field field;
    int twin;            /* 1: also invariant under g (above); each orbit is six products */
    int ncube;
    mm_vec *cube;        /* ncube factors x, each the product (x,x,x) */
    int norb;            /* orbit slots in use, live or dead */
    int cap;             /* orbit slots allocated */
    mm_vec *f;           /* 3*cap factors: orbit o's representative is f[3o], f[3o+1], f[3o+2];
                            a dead orbit has all three zero */
} mm_sym;

typedef struct mm_sym_stats {
    long long flips;      /* flips made */
    long long attempts;   /* tries, including pairs in one orbit and moves out of range */
    long long reductions; /* orbits removed */
} mm_sym_stats;

/* The starting scheme described above, with `parts` cubes (1 <= parts <= n). Returns 0,
 * RT_EUSAGE (bad n or parts) or RT_ENOMEM. */
int mm_sym_trivial(mm_sym *s, int n, enum mm_field field, int parts);

/* The same, with twin symmetry when twin is 1: RT_EUSAGE also when a block is not a union of
 * pi's cycles. */
int mm_sym_start(mm_sym *s, int n, enum mm_field field, int parts, int twin);

/* 1 if `parts` diagonal blocks of <n,n,n> are unions of pi's cycles (twin symmetry can start
 * from them), else 0. Allocates nothing. */
int mm_sym_twin_blocks_ok(int n, int parts);

/* g applied to one factor of an n x n scheme (bit (r,c) -> (pi r, pi c)). */
mm_vec mm_sym_g(int n, mm_vec v);

/* The number of diagonal blocks that puts the rank in the residue class of the best known rank
 * for n = 2..6 (2: 1, 3: 2, 4: 1, 5: 3, 6: 3); for other n, n blocks of one index. */
int mm_sym_default_parts(int n);

void mm_sym_free(mm_sym *s);
int mm_sym_copy(mm_sym *dst, const mm_sym *src);

/* 3 * live orbits + cubes (6 * live orbits + cubes with twin symmetry). */
int mm_sym_rank(const mm_sym *s);

/* Expands into a full scheme (caller frees with mm_scheme_free). Returns 0 or RT_ENOMEM. */
int mm_sym_expand(const mm_sym *s, mm_scheme *out);

/* Groups the products of a full scheme of shape <n,n,n> into cubes and orbits. A product
 * (a,b,c) whose factors agree up to sign is a cube; every other product must come with its two
 * rotations (equal as tensors: up to the signs of factors). Returns 0, RT_EUSAGE with the reason
 * in err when the scheme is not square or not invariant, or RT_ENOMEM. */
int mm_sym_from_scheme(mm_sym *s, const mm_scheme *full, char *err, size_t errlen);

/* The same, and with twin = 1 also pairs each orbit with its image under g (the cubes must be
 * mapped to cubes): RT_EUSAGE when some orbit has no twin. */
int mm_sym_from_scheme_twin(mm_sym *s, const mm_scheme *full, int twin, char *err,
                            size_t errlen);

/* A random walk of at most `flips` symmetric flips. An orbit that gets a zero factor is removed
 * at once; two orbits that agree in two positions are merged by any flip between them (one of
 * its two sums is zero) and, for those left, when the walk ends. Stops early when no two
 * distinct orbits share a factor. Dead orbits are dropped at the end. Accumulates into stats
 * (may be NULL). Returns 0 or RT_ENOMEM (s unchanged then). */
int mm_sym_walk(mm_sym *s, rt_rng *rng, long long flips, mm_sym_stats *stats);

/* Like mm_sym_walk, but stops as soon as the rank is at most target_rank, and with beta > 0
 * takes a flip that adds d > 0 nonzero coefficients only with probability exp(-beta * d)
 * (a Metropolis bias towards sparse schemes, whose factors coincide, and so reduce, more
 * often). */
int mm_sym_walk_to(mm_sym *s, rt_rng *rng, long long flips, int target_rank, double beta,
                   mm_sym_stats *stats);

/* Like mm_sym_walk_to, but with max_size > 0 a flip is made only when both products it
 * changes have size (the product of their three factors' numbers of nonzero coefficients) at
 * most max_size: the walk stays among sparse schemes (Poole's solver for the Moosbauer-Poole
 * search has such a cap). */
int mm_sym_walk_capped(mm_sym *s, rt_rng *rng, long long flips, int target_rank, double beta,
                       int max_size, mm_sym_stats *stats);

/* A walker run with plateaus: walks in chunks until the rank drops; `plateau` flips in a row
 * without a reduction make a plateau. There, with headroom 0, the run goes back to its lowest-rank
 * scheme and makes a plus transition (with probability escape_prob, at most max_escapes times),
 * else it ends. With headroom h > 0 the run never goes back and never ends at a plateau: it makes
 * a plus transition on the scheme it is at when that scheme's rank is below the run's lowest rank
 * plus h orbits, and otherwise walks on (so it wanders at most h plus transitions above its best,
 * the whole budget long). With stop_on_improve the run ends as soon as it is below its starting
 * rank. s becomes the run's lowest-rank scheme (the latest one reached). plateau <= 0 is a plain
 * mm_sym_walk_to. */
typedef struct mm_sym_run_opts {
    long long flips;     /* flips budget */
    long long plateau;   /* flips without a reduction that make a plateau; <= 0: none */
    double escape_prob;  /* headroom 0 only */
    int max_escapes;     /* headroom 0 only */
    int stop_on_improve;
    double beta;         /* as mm_sym_walk_to */
    int headroom;        /* plus transitions allowed above the run's lowest rank; 0: go back */
    int max_size;        /* as mm_sym_walk_capped; 0: none */
    int stop_rank;       /* > 0: stop_on_improve ends the run below this rank instead of below
                            its starting rank (a restarted run aims below its parent's) */
} mm_sym_run_opts;

/* Returns 0 or RT_ENOMEM. */
int mm_sym_run(mm_sym *s, rt_rng *rng, const mm_sym_run_opts *o, mm_sym_stats *stats);

/* One plus transition on two random orbits that share no factor after a random rotation
 * (rank + 3, or + 6 with twin symmetry). Returns 0, -1 when none was found in a bounded number of tries, RT_ETOOBIG past
 * MM_SYM_MAX_ORBITS orbits, or RT_ENOMEM. */
int mm_sym_plus(mm_sym *s, rt_rng *rng);

#endif
