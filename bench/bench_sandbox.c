/* bench_sandbox.c — what the sandbox costs per evaluation.
 *
 * A trivial evaluator (a /bin/sh script that prints {"score": 1} for the candidate path it gets)
 * is run, one run at a time, three ways in the same process, interleaved round by round so that
 * the machine's load affects all three alike:
 *   plain     fork + execve + read stdout through a pipe + waitpid: the least any runner does;
 *   sandbox   rt_sandbox_run with namespaces (the normal path), the candidate placed in a fresh
 *             working directory, everything removed afterwards;
 *   fallback  rt_sandbox_run with RT_SANDBOX_NO_NAMESPACES (process group + seccomp).
 * Prints evaluations per second for each (median over the rounds) and the ratio plain/sandbox,
 * i.e. how many times longer a sandboxed evaluation takes than the bare minimum.
 *
 * usage: bench_sandbox [--quick]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ratchet.h"
#include "sandbox/sandbox.h"
#include "util.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static const char k_expect[] = "{\"score\": 1}\n";

/* One plain evaluation: returns 0 when the evaluator printed the expected line and exited 0. */
static int plain_run(const char *evaluator, const char *candidate)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(pfd[1], 1);
        char *argv[] = {(char *)evaluator, (char *)candidate, NULL};
        char *envp[] = {"PATH=/usr/bin:/bin", NULL};
        execve(evaluator, argv, envp);
        _exit(127);
    }
    close(pfd[1]);
    char buf[256];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(pfd[0], buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len >= sizeof buf - 1)
            break;
    }
    buf[len] = '\0';
    close(pfd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 && strcmp(buf, k_expect) == 0 ? 0 : -1;
}

static int sandbox_run(const char *evaluator, int flags, unsigned *containment)
{
    static const char program[] = "int main(void) { return 0; }\n";
    rt_sandbox_file f = {"candidate.c", NULL, program, sizeof program - 1, 0, 0};
    const char *argv[] = {evaluator, "candidate.c", NULL};
    rt_sandbox_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = argv;
    spec.files = &f;
    spec.nfiles = 1;
    spec.flags = flags;
    spec.limits.wall_seconds = 10;
    rt_sandbox_result r;
    char err[256];
    if (rt_sandbox_run(&spec, &r, err, sizeof err) != 0) {
        fprintf(stderr, "bench_sandbox: %s\n", err);
        return -1;
    }
    int ok = r.outcome == RT_SANDBOX_EXITED && r.exit_code == 0 &&
             strcmp(r.stdout_data, k_expect) == 0;
    if (!ok)
        fprintf(stderr, "bench_sandbox: %s: %s\n", r.reason, r.stderr_data);
    *containment = r.containment;
    rt_sandbox_result_free(&r);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int rounds = quick ? 3 : 7, per_round = quick ? 20 : 100;
    char dir[] = "/tmp/ratchet-bench-sandbox-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench_sandbox: mkdtemp");
        return 1;
    }
    chmod(dir, 0755); /* as root the sandboxed evaluator runs as "others" */
    char evaluator[128], candidate[160];
    snprintf(evaluator, sizeof evaluator, "%s/evaluate", dir);
    snprintf(candidate, sizeof candidate, "%s/candidate.c", dir);
    FILE *f = fopen(evaluator, "w");
    FILE *c = fopen(candidate, "w");
    if (!f || !c) {
        perror("bench_sandbox: fopen");
        return 1;
    }
    fputs("#!/bin/sh\n# trivial evaluator: checks that the candidate exists, prints a score\n"
          "test -r \"$1\" || exit 1\necho '{\"score\": 1}'\n", f);
    fputs("int main(void) { return 0; }\n", c);
    fclose(f);
    fclose(c);
    chmod(evaluator, 0755);

    double plain[16], sbx[16], fb[16];
    unsigned contained = 0, fb_contained = 0;
    int rc = 0;
    for (int r = 0; r < rounds && rc == 0; r++) {
        double t0 = rt_now();
        for (int i = 0; i < per_round && rc == 0; i++)
            rc = plain_run(evaluator, candidate);
        double t1 = rt_now();
        for (int i = 0; i < per_round && rc == 0; i++)
            rc = sandbox_run(evaluator, 0, &contained);
        double t2 = rt_now();
        for (int i = 0; i < per_round && rc == 0; i++)
            rc = sandbox_run(evaluator, RT_SANDBOX_NO_NAMESPACES, &fb_contained);
        double t3 = rt_now();
        plain[r] = per_round / (t1 - t0);
        sbx[r] = per_round / (t2 - t1);
        fb[r] = per_round / (t3 - t2);
    }
    unlink(evaluator);
    unlink(candidate);
    rmdir(dir);
    if (rc != 0) {
        fprintf(stderr, "bench_sandbox: an evaluation failed\n");
        return 1;
    }
    double mp = median(plain, rounds), ms = median(sbx, rounds), mf = median(fb, rounds);
    char cs[128], cf[128];
    printf("ratchet %s bench: sandboxed evaluations, trivial /bin/sh evaluator, one at a time\n",
           RT_VERSION);
    printf("  median of %d rounds of %d evaluations each (rounds interleaved):\n", rounds, per_round);
    printf("  plain fork+exec+wait   %8.1f evaluations/s\n", mp);
    printf("  sandbox                %8.1f evaluations/s  (%.2fx the time of plain; %s)\n", ms,
           mp / ms, rt_sandbox_containment_str(contained, cs, sizeof cs));
    printf("  sandbox, fallback      %8.1f evaluations/s  (%.2fx the time of plain; %s)\n", mf,
           mp / mf, rt_sandbox_containment_str(fb_contained, cf, sizeof cf));
    return 0;
}
