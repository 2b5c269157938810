/* research_rule.c — the false-keep rate and power of noise-aware acceptance (gate.c's rule) for
 * normal noise, by simulation: the table in docs/research.md, "Why these numbers".
 *
 * One trial: the incumbent's floor is the mean m and sample spread s of NS draws; the child's
 * first draw x must exceed m + M s; then the mean of NC fresh draws must exceed m + M s/sqrt(NC).
 * Child draws are shifted by d (the true gain in units of the noise's spread; 0: the null).
 * Usage: build/bench/research_rule [TRIALS]  (default 2000000 for the null, a twentieth for
 * the power columns). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t state = 88172645463325252ULL;

static double uniform(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return ((double)(state >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
    return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
}

static double keep_rate(double margin, int ns, int nc, double gain, long trials)
{
    long kept = 0;
    for (long t = 0; t < trials; t++) {
        double sum = 0, sum2 = 0;
        for (int i = 0; i < ns; i++) {
            double x = normal();
            sum += x;
            sum2 += x * x;
        }
        double mean = sum / ns, spread = sqrt((sum2 - sum * sum / ns) / (ns - 1));
        if (!(normal() + gain > mean + margin * spread))
            continue;
        double c = 0;
        for (int i = 0; i < nc; i++)
            c += normal() + gain;
        kept += c / nc > mean + margin * spread / sqrt((double)nc);
    }
    return (double)kept / (double)trials;
}

int main(int argc, char **argv)
{
    long trials = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;
    static const struct {
        double margin;
        int ns, nc;
    } rules[] = {{1, 5, 4}, {3, 5, 4}, {3, 10, 4}, {4, 8, 4}, {4, 10, 3}, {5, 10, 4}};
    printf("margin noise_samples confirm | false keeps per experiment | keeps gain 5 | 8\n");
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        printf("%6g %13d %7d | %26.2e | %12.3f | %.3f\n", rules[i].margin, rules[i].ns,
               rules[i].nc, keep_rate(rules[i].margin, rules[i].ns, rules[i].nc, 0, trials),
               keep_rate(rules[i].margin, rules[i].ns, rules[i].nc, 5, trials / 20),
               keep_rate(rules[i].margin, rules[i].ns, rules[i].nc, 8, trials / 20));
    return 0;
}
