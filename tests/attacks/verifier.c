/* verifier.c — a stand-in for an evaluator or verifier that runs a candidate program and reports
 * a score held in its own memory (finding 1 of the sandbox attack suite, tests/test_sandbox_attacks.c).
 *
 * usage: verifier [--jail] CANDIDATE [ARGS...]
 * Reads secret.txt of its working directory (when there is one) into memory and keeps it there,
 * runs CANDIDATE directly (fork + exec) or, with --jail, through "$RATCHET_JAIL --file NAME --
 * ./NAME ARGS..." (NAME: CANDIDATE without a leading "./"), waits for it, sleeps 300 ms (time for
 * a detached descendant of the candidate to act), then prints "report: " and its report.
 * Exit status: 0, 3 when --jail is asked for and RATCHET_JAIL is not set, 4 on a setup failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char report[32] = "RT-REPORT score 1"; /* the verdict, rewritten by nothing but this program */
static char secret[256];               /* a secret the candidate must not learn */

int main(int argc, char **argv)
{
    int jail = argc > 1 && strcmp(argv[1], "--jail") == 0;
    int first = 1 + jail;
    if (argc <= first) {
        fprintf(stderr, "usage: verifier [--jail] CANDIDATE [ARGS...]\n");
        return 4;
    }
    int fd = open("secret.txt", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, secret, sizeof secret - 1);
        if (n > 0)
            secret[n] = '\0';
        close(fd);
    }
    const char *jail_path = getenv("RATCHET_JAIL");
    if (jail && (!jail_path || !jail_path[0])) {
        printf("verifier: RATCHET_JAIL is not set: no jail offered, the candidate is not run\n");
        return 3;
    }
    /* the jail's command line: RATCHET_JAIL --file NAME -- ./NAME ARGS... */
    const char *name = argv[first];
    if (strncmp(name, "./", 2) == 0)
        name += 2;
    char run_path[300];
    snprintf(run_path, sizeof run_path, "./%s", name);
    char *jargv[64];
    int j = 0;
    if (jail) {
        jargv[j++] = (char *)jail_path;
        jargv[j++] = (char *)"--file";
        jargv[j++] = (char *)name;
        jargv[j++] = (char *)"--";
        jargv[j++] = run_path;
        for (int i = first + 1; i < argc && j < 63; i++)
            jargv[j++] = argv[i];
        jargv[j] = NULL;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("verifier: fork");
        return 4;
    }
    if (pid == 0) {
        if (jail)
            execv(jail_path, jargv);
        else
            execv(argv[first], argv + first);
        fprintf(stderr, "verifier: exec: %s\n", strerror(errno));
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    struct timespec pause = {0, 300 * 1000 * 1000};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
    }
    if (WIFEXITED(st))
        printf("verifier: candidate exit %d\n", WEXITSTATUS(st));
    else
        printf("verifier: candidate ended with status %d\n", st);
    printf("report: %s\n", report);
    return 0;
}
