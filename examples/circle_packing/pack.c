/* pack.c — 26 circles in the unit square, maximising the sum of their radii.
 *
 * The initial program of ratchet's circle-packing example (examples/circle_packing/README.md).
 * It prints 26 lines "x y r". Between the EVOLVE-BLOCK markers ratchet may change the program;
 * the values annotated with "ratchet:" comments are what the builtin proposer changes.
 *
 * Method: several starts; each moves centres and radii by gradient ascent on
 *     sum of radii - lambda * (squared overlaps + squared excursions past the walls)
 * with lambda growing, then makes the packing feasible by shrinking radii (walls first, then
 * each overlapping pair in proportion), keeps the best start, and prints it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define N 26

/* EVOLVE-BLOCK-START */
static const unsigned long long SEED = 12345;  /* ratchet: int 1 1000000000 */
static const int RESTARTS = 4;                 /* ratchet: int 1 12 */
static const int STEPS = 3000;                 /* ratchet: int 500 12000 */
static const double LR = 0.002;                /* ratchet: log 0.0001 0.05 */
static const double LAMBDA0 = 10.0;            /* ratchet: log 0.1 1000 */
static const double LAMBDA_GROWTH = 1.002;     /* ratchet: real 1.0 1.01 */
static const double R_INIT = 0.05;             /* ratchet: log 0.005 0.2 */
static const double JITTER = 0.5;              /* ratchet: real 0 1 */
static const int LAYOUT = 1;                   /* ratchet: int 0 2 */
/* EVOLVE-BLOCK-END */

static unsigned long long rng_state;

static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1.0p-53;
}

static void start(double *x, double *y, double *r)
{
    int cols = LAYOUT == 0 ? 5 : LAYOUT == 1 ? 6 : 4;
    for (int i = 0; i < N; i++) {
        double gx = (i % cols + 0.5) / cols, gy = (i / cols + 0.5) / ((N + cols - 1) / cols);
        double ox = (uniform() - 0.5) / cols, oy = (uniform() - 0.5) / cols;
        x[i] = gx + JITTER * ox;
        y[i] = gy + JITTER * oy;
        if (LAYOUT == 2) { /* plain random */
            x[i] = 0.05 + 0.9 * uniform();
            y[i] = 0.05 + 0.9 * uniform();
        }
        if (x[i] < 0.01) x[i] = 0.01;
        if (x[i] > 0.99) x[i] = 0.99;
        if (y[i] < 0.01) y[i] = 0.01;
        if (y[i] > 0.99) y[i] = 0.99;
        r[i] = R_INIT;
    }
}

/* Gradient ascent with Adam-style steps on the penalised objective. */
static void optimise(double *x, double *y, double *r)
{
    double m[3 * N] = {0}, v[3 * N] = {0}, g[3 * N];
    double lambda = LAMBDA0;
    for (int t = 1; t <= STEPS; t++) {
        for (int i = 0; i < 3 * N; i++)
            g[i] = 0;
        for (int i = 0; i < N; i++) {
            g[2 * N + i] += 1; /* d(sum r)/dr */
            double w[4] = {r[i] - x[i], r[i] - y[i], x[i] + r[i] - 1, y[i] + r[i] - 1};
            if (w[0] > 0) { g[i] += 2 * lambda * w[0]; g[2 * N + i] -= 2 * lambda * w[0]; }
            if (w[1] > 0) { g[N + i] += 2 * lambda * w[1]; g[2 * N + i] -= 2 * lambda * w[1]; }
            if (w[2] > 0) { g[i] -= 2 * lambda * w[2]; g[2 * N + i] -= 2 * lambda * w[2]; }
            if (w[3] > 0) { g[N + i] -= 2 * lambda * w[3]; g[2 * N + i] -= 2 * lambda * w[3]; }
            if (r[i] < 0) g[2 * N + i] -= 2 * lambda * r[i];
            for (int j = i + 1; j < N; j++) {
                double dx = x[i] - x[j], dy = y[i] - y[j];
                double d = sqrt(dx * dx + dy * dy) + 1e-12;
                double o = r[i] + r[j] - d;
                if (o <= 0)
                    continue;
                double f = 2 * lambda * o;
                g[2 * N + i] -= f;
                g[2 * N + j] -= f;
                g[i] += f * dx / d;
                g[N + i] += f * dy / d;
                g[j] -= f * dx / d;
                g[N + j] -= f * dy / d;
            }
        }
        double b1 = 1 - pow(0.9, t), b2 = 1 - pow(0.999, t);
        for (int k = 0; k < 3 * N; k++) {
            m[k] = 0.9 * m[k] + 0.1 * g[k];
            v[k] = 0.999 * v[k] + 0.001 * g[k] * g[k];
            double step = LR * (m[k] / b1) / (sqrt(v[k] / b2) + 1e-12);
            if (k < N) x[k] += step;
            else if (k < 2 * N) y[k - N] += step;
            else r[k - 2 * N] += step;
        }
        lambda *= LAMBDA_GROWTH;
    }
}

/* Shrinks radii until no circle leaves the square and no two overlap; returns the sum. */
static double repair(const double *x, const double *y, double *r)
{
    for (int i = 0; i < N; i++) {
        if (x[i] <= 0 || x[i] >= 1 || y[i] <= 0 || y[i] >= 1) {
            r[i] = 0;
            continue;
        }
        double lim = fmin(fmin(x[i], y[i]), fmin(1 - x[i], 1 - y[i]));
        if (r[i] > lim) r[i] = lim;
        if (r[i] < 0) r[i] = 0;
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            double d = sqrt((x[i] - x[j]) * (x[i] - x[j]) + (y[i] - y[j]) * (y[i] - y[j]));
            if (r[i] + r[j] > d) {
                double s = d / (r[i] + r[j]);
                r[i] *= s;
                r[j] *= s;
            }
        }
    double sum = 0;
    for (int i = 0; i < N; i++) {
        r[i] = r[i] * (1 - 1e-12) - 1e-15; /* a margin against rounding: the check is exact */
        if (r[i] < 0) r[i] = 0;
        sum += r[i];
    }
    return sum;
}

int main(void)
{
    double bx[N], by[N], br[N], best = -1;
    rng_state = SEED * 2654435761ULL + 88172645463325252ULL;
    for (int s = 0; s < RESTARTS; s++) {
        double x[N], y[N], r[N];
        start(x, y, r);
        optimise(x, y, r);
        double sum = repair(x, y, r);
        if (sum > best) {
            best = sum;
            for (int i = 0; i < N; i++) { bx[i] = x[i]; by[i] = y[i]; br[i] = r[i]; }
        }
    }
    for (int i = 0; i < N; i++)
        printf("%.17g %.17g %.17g\n", bx[i], by[i], br[i]);
    return 0;
}
