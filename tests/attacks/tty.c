/* tty.c — finding 2: a candidate that types into the user's terminal.
 *
 * usage: tty
 * Opens /dev/tty (the controlling terminal of its session, if it still has one), writes
 * "RT-TTY-WRITE" to it and pushes "RT-TTY-STI\n" into its input queue with ioctl(TIOCSTI), as if
 * typed by the user; then tries TIOCSTI on descriptors 0, 1 and 2. Each step is described on
 * stdout ("/dev/tty write: ok", "TIOCSTI /dev/tty: refused (...)").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Pushes text into fd's terminal input; returns the number of characters accepted. */
static int push(int fd, const char *text, int *err)
{
    int n = 0;
    *err = 0;
    for (const char *c = text; *c; c++) {
        if (ioctl(fd, TIOCSTI, c) != 0) {
            *err = errno;
            break;
        }
        n++;
    }
    return n;
}

int main(void)
{
    static const char sti[] = "RT-TTY-STI\n";
    int err;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        printf("/dev/tty open: refused (%s)\n", strerror(errno));
    } else {
        printf("/dev/tty open: ok\n");
        static const char mark[] = "RT-TTY-WRITE\r\n";
        if (write(fd, mark, sizeof mark - 1) == (ssize_t)(sizeof mark - 1))
            printf("/dev/tty write: ok\n");
        else
            printf("/dev/tty write: refused (%s)\n", strerror(errno));
        int n = push(fd, sti, &err);
        if (n == (int)strlen(sti))
            printf("TIOCSTI /dev/tty: ok\n");
        else
            printf("TIOCSTI /dev/tty: refused after %d characters (%s)\n", n, strerror(err));
        close(fd);
    }
    for (int i = 0; i <= 2; i++) {
        int n = push(i, sti, &err);
        if (n == (int)strlen(sti))
            printf("TIOCSTI fd %d: ok\n", i);
        else
            printf("TIOCSTI fd %d: refused (%s)\n", i, strerror(err));
    }
    return 0;
}
