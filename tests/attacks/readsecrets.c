/* readsecrets.c — finding 4: a candidate that reads what it must not (other users' and the
 * caller's secret files, ratchet's store, /etc/shadow) and learns who runs it (the command lines
 * of /proc/1 and of its ancestors).
 *
 * usage: readsecrets PATH...
 * Prints "PATH: READ <first line>" or "PATH: refused (...)" for each path, then the command lines
 * of /proc/1 and of each ancestor ("cmdline PID: ARGS").
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads up to cap-1 bytes of path into buf; returns the length or -1 (errno). */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    int e = errno;
    close(fd);
    errno = e;
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

static void print_cmdline(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    ssize_t n = slurp(path, buf, sizeof buf);
    if (n < 0) {
        printf("cmdline %ld: refused (%s)\n", pid, strerror(errno));
        return;
    }
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0' || !isprint((unsigned char)buf[i]))
            buf[i] = ' ';
    printf("cmdline %ld: %s\n", pid, buf);
}

/* The parent of pid from /proc/PID/stat, or 0. */
static long parent_of(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (slurp(path, buf, sizeof buf) < 0)
        return 0;
    char *close_paren = strrchr(buf, ')');
    long ppid = 0;
    char state;
    if (!close_paren || sscanf(close_paren + 1, " %c %ld", &state, &ppid) != 2)
        return 0;
    return ppid;
}

int main(int argc, char **argv)
{
    char buf[4096];
    for (int i = 1; i < argc; i++) {
        ssize_t n = slurp(argv[i], buf, sizeof buf);
        if (n < 0) {
            printf("%s: refused (%s)\n", argv[i], strerror(errno));
            continue;
        }
        char *nl = strchr(buf, '\n');
        if (nl)
            *nl = '\0';
        printf("%s: READ %s\n", argv[i], buf);
    }
    print_cmdline(1);
    long pid = getpid();
    for (int depth = 0; depth < 32; depth++) {
        long ppid = parent_of(pid);
        if (ppid <= 0)
            break;
        print_cmdline(ppid);
        if (ppid == 1)
            break;
        pid = ppid;
    }
    return 0;
}
