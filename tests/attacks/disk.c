/* disk.c — finding 7 (disk): a candidate that fills the disk with files each under the
 * file-size limit, in every writable place (its working directory, /tmp, /dev/shm).
 *
 * usage: disk TAG
 * In each place writes up to two files rt-disk-TAG-N of 16 MiB each, 1 MiB at a time, going to the
 * next place at the first refusal there; prints each file and then "total written: K KiB"
 * (everything at once on disk: nothing is removed). SIGXFSZ is ignored, so passing the file-size
 * limit is a refused write.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHUNK ((size_t)1 << 20)
#define FILE_CHUNKS 16

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: disk TAG\n");
        return 2;
    }
    signal(SIGXFSZ, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    static char chunk[CHUNK];
    memset(chunk, 'd', sizeof chunk);
    static const char *const places[] = {".", "/tmp", "/dev/shm"};
    long long total = 0;
    for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
        for (int f = 0; f < 2; f++) {
            char path[512];
            snprintf(path, sizeof path, "%s/rt-disk-%s-%d", places[p], argv[1], f);
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd < 0) {
                printf("%s: refused (%s)\n", path, strerror(errno));
                break;
            }
            long long here = 0;
            int full = 0;
            for (int c = 0; c < FILE_CHUNKS; c++) {
                ssize_t w = write(fd, chunk, sizeof chunk);
                if (w > 0)
                    here += w;
                if (w != (ssize_t)sizeof chunk) {
                    printf("%s: write refused after %lld KiB (%s)\n", path, here >> 10,
                           w < 0 ? strerror(errno) : "short write");
                    full = 1;
                    break;
                }
            }
            close(fd);
            total += here;
            printf("%s: %lld KiB (total %lld KiB)\n", path, here >> 10, total >> 10);
            if (full)
                break;
        }
    }
    printf("total written: %lld KiB\n", total >> 10);
    return 0;
}
