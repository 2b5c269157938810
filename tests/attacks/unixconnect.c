/* unixconnect.c — finding 5: a candidate that talks to a service outside the sandbox through a
 * Unix socket file (an empty network namespace does not cover socket files).
 *
 * usage: unixconnect PATH...
 * Prints "connect PATH: CONNECTED" (and sends a line) or "connect PATH: refused (...)" for each.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            printf("connect %s: refused at socket() (%s)\n", argv[i], strerror(errno));
            continue;
        }
        struct sockaddr_un a;
        memset(&a, 0, sizeof a);
        a.sun_family = AF_UNIX;
        snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[i]);
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
            printf("connect %s: CONNECTED\n", argv[i]);
            if (write(s, "hello from the sandbox\n", 23) < 0)
                printf("write: %s\n", strerror(errno));
        } else {
            printf("connect %s: refused (%s)\n", argv[i], strerror(errno));
        }
        close(s);
    }
    return 0;
}
