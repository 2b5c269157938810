/* memory.c — finding 7 (memory): a candidate that spreads its memory over several processes,
 * each under the per-process limit.
 *
 * usage: memory NPROC MIB
 * Starts NPROC processes; each allocates MIB MiB, touches every page (memset) and reports on a
 * pipe, then holds it until released (at most 2 s). Once every process has reported or ended,
 * prints "held together: M MiB by K processes" (all at the same time), releases them and waits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: memory NPROC MIB\n");
        return 2;
    }
    int nproc = (int)strtol(argv[1], NULL, 10);
    long mib = strtol(argv[2], NULL, 10);
    if (nproc < 1 || nproc > 64 || mib < 1 || mib > 4096)
        return 2;
    int report[2], release[2];
    if (pipe(report) != 0 || pipe(release) != 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int started = 0;
    for (int i = 0; i < nproc; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            printf("fork %d: refused (%s)\n", i, strerror(errno));
            break;
        }
        if (pid == 0) {
            close(report[0]);
            close(release[1]);
            size_t len = (size_t)mib << 20;
            char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                printf("process %d: mmap of %ld MiB refused (errno %d)\n", i, mib, errno);
                _exit(1);
            }
            memset(p, 'm', len);
            char one = 1;
            if (write(report[1], &one, 1) != 1)
                _exit(1);
            struct pollfd pf = {release[0], POLLIN, 0};
            poll(&pf, 1, 2000); /* held until released, at most 2 s */
            _exit(p[len - 1] == 'm' ? 0 : 1);
        }
        started++;
    }
    close(report[1]);
    close(release[0]);
    int held = 0;
    char c;
    while (held < started) {
        ssize_t n = read(report[0], &c, 1); /* 0 once every child has ended */
        if (n == 1)
            held++;
        else if (!(n < 0 && errno == EINTR))
            break;
    }
    printf("held together: %ld MiB by %d processes (of %d started)\n", (long)held * mib, held, started);
    close(release[1]);
    while (wait(NULL) > 0 || errno == EINTR) {
    }
    return 0;
}
