/* naive_check.c — a deliberately naive packing checker (tests/test_program_drift.c): it reads
 * "x y r" with scanf and checks walls and overlaps with plain comparisons, so NaN coordinates
 * pass every check (each comparison with NaN is false). The exact verifier must catch what it
 * lets through. Prints {"score": SUM_OF_RADII}; exit 1 on a packing it does see is bad. */
#include <math.h>
#include <stdio.h>

#define N 26

int main(int argc, char **argv)
{
    double x[N], y[N], r[N], sum = 0;
    FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
    if (!f)
        return 1;
    for (int i = 0; i < N; i++) {
        if (fscanf(f, "%lf %lf %lf", &x[i], &y[i], &r[i]) != 3 || r[i] <= 0)
            return 1;
        if (x[i] - r[i] < 0 || y[i] - r[i] < 0 || x[i] + r[i] > 1 || y[i] + r[i] > 1)
            return 1;
        for (int j = 0; j < i; j++)
            if (hypot(x[i] - x[j], y[i] - y[j]) < r[i] + r[j])
                return 1;
        sum += r[i];
    }
    printf("{\"score\": %.17g}\n", sum);
    return 0;
}
