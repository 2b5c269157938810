/* sandbox_child.c — the two processes of a sandboxed run on the far side of the clone (the
 * caller's side is sandbox.c; docs/sandbox.md has the design):
 *
 *   INIT  PID 1 of the run's namespaces (or, without them, a subreaper): joins the network
 *         namespace, leaves the caller's session, builds the run's file view (a tmpfs root holding
 *         the system folders, the visible paths, the working directory, /tmp and /dev/shm, then
 *         pivot_root), makes the Landlock ruleset, starts EXEC, and then watches the tree: it
 *         reaps, it kills the whole tree when the processes together hold more memory (or, without
 *         a view, have written more) than allowed, and it reports the command's end.
 *   EXEC  sets the limits, drops every capability and the caller's uid (as root), sets
 *         no_new_privs, enters the Landlock domain, installs the seccomp program and executes the
 *         command.
 *
 * Both run after a raw clone of a possibly threaded process: async-signal-safe system calls only,
 * no allocation, no stdio; every buffer is on the stack. Failures are reported on the status pipe
 * (step and errno) and end the process.
 */
#include "sandbox/sandbox_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/seccomp.h>

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

long sbx_raw_clone(unsigned long flags)
{
    return syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
}

static void child_send(int kind, int a, int b)
{
    sbx_msg m = {kind, a, b};
    ssize_t n;
    do
        n = write(SBX_STATUS_FD, &m, sizeof m);
    while (n < 0 && errno == EINTR);
}

static __attribute__((noreturn)) void child_fail(int step, int code)
{
    child_send(MSG_FAIL, step, errno);
    _exit(code);
}

static int write_whole(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)len ? 0 : -1;
}

/* dst = a followed by b (b may be ""), within cap. Returns 0, or -1 (ENAMETOOLONG). */
static int join(char *dst, size_t cap, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb + 1 > cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(dst, a, la);
    memcpy(dst + la, b, lb + 1);
    return 0;
}

/* Makes every folder of path (an absolute path under the view's root) that does not exist. */
static int mkdir_all(char *path, size_t from)
{
    for (size_t i = from + 1; path[i]; i++) {
        if (path[i] != '/')
            continue;
        path[i] = '\0';
        int rc = mkdir(path, 0755);
        path[i] = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* An empty file at path to mount a non-folder over (existing ones are kept). */
static int touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return errno == EEXIST ? 0 : -1;
    close(fd);
    return 0;
}

/* Shows host path src at the same path in the view (root + src), read-only later. A folder's
 * sub-mounts come along. Missing sources are skipped. */
static int show(const char *root, const char *src, int is_dir)
{
    char dst[PATH_MAX];
    if (join(dst, sizeof dst, root, src) != 0)
        return -1;
    if (is_dir) {
        if (mkdir_all(dst, strlen(root)) != 0)
            return -1;
    } else {
        char *slash = strrchr(dst, '/');
        if (slash && slash > dst + strlen(root)) {
            *slash = '\0';
            int rc = mkdir_all(dst, strlen(root));
            *slash = '/';
            if (rc != 0)
                return -1;
        }
        if (touch(dst) != 0)
            return -1;
    }
    return mount(src, dst, NULL, MS_BIND | MS_REC, NULL);
}

/* The system folders every program needs, shown read-only; a symbolic link among them (/bin ->
 * usr/bin on merged-/usr systems) is recreated as a link. */
static const char *const system_dirs[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                          "/libx32", "/etc", "/opt", "/sys"};
static const char *const devices[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                      "/dev/urandom"};

static int show_system(const char *root)
{
    for (size_t i = 0; i < sizeof system_dirs / sizeof system_dirs[0]; i++) {
        struct stat st;
        if (lstat(system_dirs[i], &st) != 0)
            continue;
        char dst[PATH_MAX];
        if (join(dst, sizeof dst, root, system_dirs[i]) != 0)
            return -1;
        if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlink(system_dirs[i], target, sizeof target - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            if (symlink(target, dst) != 0 && errno != EEXIST)
                return -1;
        } else if (S_ISDIR(st.st_mode) && show(root, system_dirs[i], 1) != 0) {
            return -1;
        }
    }
    return 0;
}

/* /dev of the view: a few device nodes, the standard links, and /dev/shm (a folder of the
 * scratch tmpfs, made writable later). */
static int make_dev(const char *root)
{
    char path[PATH_MAX];
    if (join(path, sizeof path, root, "/dev") != 0 || mkdir(path, 0755) != 0)
        return -1;
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++)
        if (show(root, devices[i], 0) != 0)
            return -1;
    static const char *const links[][2] = {{"/proc/self/fd", "/dev/fd"},
                                           {"/proc/self/fd/0", "/dev/stdin"},
                                           {"/proc/self/fd/1", "/dev/stdout"},
                                           {"/proc/self/fd/2", "/dev/stderr"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (join(path, sizeof path, root, links[i][1]) != 0 || symlink(links[i][0], path) != 0)
            return -1;
    if (join(path, sizeof path, root, "/dev/shm") != 0 || mkdir(path, 01777) != 0 ||
        chmod(path, 01777) != 0)
        return -1;
    return 0;
}

/* Copies the placed file name from the caller's working directory into the view's. */
static int copy_placed(const sbx_prep *p, const char *name, unsigned char mode)
{
    char dir[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
    if (join(dir, sizeof dir, p->workdir, "/") != 0 || join(src, sizeof src, dir, name) != 0 ||
        join(dst, sizeof dst, p->root, src) != 0)
        return -1;
    int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        return -1;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[8192];
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -1 : 0;
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = -1;
                break;
            }
            off += w;
        }
        if (rc)
            break;
    }
    int writable = mode & 1, exec = mode & 2;
    mode_t m = writable ? (exec ? 0755 : 0644) : (exec ? 0555 : 0444);
    if (rc == 0 && (p->mode & RT_SANDBOX_C_UID) && writable &&
        fchown(out, (uid_t)p->run_id, (gid_t)p->run_id) != 0)
        rc = -1;
    if (rc == 0 && fchmod(out, m) != 0)
        rc = -1;
    close(in);
    close(out);
    /* a read-only file is its own mount: it cannot be written, removed or replaced */
    if (rc == 0 && !writable)
        rc = mount(dst, dst, NULL, MS_BIND, NULL);
    return rc;
}

/* The working directory, /tmp and /dev/shm of the view, all in the scratch tmpfs (one size for
 * everything the run writes), each a mount of its own so that it stays writable when the rest of
 * the view is made read-only. */
static int make_scratch(const sbx_prep *p)
{
    char path[PATH_MAX];
    if (join(path, sizeof path, p->root, "/tmp") != 0 || mkdir(path, 01777) != 0 ||
        chmod(path, 01777) != 0)
        return -1;
    if (join(path, sizeof path, p->root, p->workdir) != 0 || mkdir_all(path, strlen(p->root)) != 0)
        return -1;
    if (p->mode & RT_SANDBOX_C_UID) {
        /* root-owned, group of the run, sticky: the run may add files but not remove ours */
        if (chown(path, 0, (gid_t)p->run_id) != 0 || chmod(path, 01770) != 0)
            return -1;
    }
    static const char *const own[] = {"/tmp", "/dev/shm", NULL};
    for (size_t i = 0; i < 3; i++) {
        const char *d = own[i] ? own[i] : p->workdir;
        if (join(path, sizeof path, p->root, d) != 0 || mount(path, path, NULL, MS_BIND, NULL) != 0)
            return -1;
    }
    for (size_t i = 0; i < p->nfiles; i++)
        if (copy_placed(p, p->names[i], p->placed_mode[i]) != 0)
            return -1;
    return 0;
}

/* Builds the run's view under p->root and makes it the root: a tmpfs (of disk_mib: it also holds
 * the working directory, /tmp and /dev/shm) with the system folders, a few devices, a /proc of
 * the run's PID namespace (read-only), the visible paths, the jail's helper and socket; hidden
 * paths covered. Then pivot_root, and every mount read-only but the three writable ones. */
static int child_view(const sbx_prep *p, int *proc_ok)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", p->root, "tmpfs", MS_NOSUID | MS_NODEV, p->scratch_opts) != 0 ||
        chmod(p->root, 0755) != 0)
        return -1;
    if (show_system(p->root) != 0 || make_dev(p->root) != 0 || make_scratch(p) != 0)
        return -1;
    char path[PATH_MAX];
    if (join(path, sizeof path, p->root, "/proc") != 0 || mkdir(path, 0555) != 0)
        return -1;
    /* a /proc of the run's own PID namespace, read-only (no write to /proc/PID/mem); when the
     * kernel refuses one (a /proc already partly covered), /proc stays empty and the memory
     * total cannot be watched */
    *proc_ok = mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) == 0;
    for (size_t i = 0; i < p->nvisible; i++)
        if (show(p->root, p->visible[i], p->visible_dir[i]) != 0)
            return -1;
    for (size_t i = 0; i < p->nhidden; i++) {
        struct stat st;
        if (join(path, sizeof path, p->root, p->hidden[i]) != 0 || lstat(path, &st) != 0)
            continue; /* not in the view */
        if (S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=4k") != 0
                                : mount("/dev/null", path, NULL, MS_BIND, NULL) != 0)
            return -1;
    }
    if (p->jail_helper[0]) {
        if (join(path, sizeof path, p->root, "/run/ratchet") != 0 ||
            mkdir_all(path, strlen(p->root)) != 0 ||
            join(path, sizeof path, p->root, "/run/ratchet/ratchet-jail") != 0 ||
            touch(path) != 0 || mount(p->jail_helper, path, NULL, MS_BIND, NULL) != 0 ||
            join(path, sizeof path, p->root, "/run/ratchet/jail.sock") != 0 || touch(path) != 0 ||
            mount(p->jail_socket, path, NULL, MS_BIND, NULL) != 0)
            return -1;
    }
    if (chdir(p->root) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
        umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
        return -1;
    struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID};
    if (syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof ro) != 0)
        return -1;
    struct mount_attr rw = {.attr_clr = MOUNT_ATTR_RDONLY};
    if (syscall(SYS_mount_setattr, AT_FDCWD, "/tmp", 0, &rw, sizeof rw) != 0 ||
        syscall(SYS_mount_setattr, AT_FDCWD, "/dev/shm", 0, &rw, sizeof rw) != 0 ||
        syscall(SYS_mount_setattr, AT_FDCWD, p->workdir, 0, &rw, sizeof rw) != 0)
        return -1;
    return 0;
}

/* Sets the capability sets to exactly keep (bits of the first 32). */
static int child_caps(unsigned keep)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = data[0].inheritable = keep;
    return syscall(SYS_capset, &hdr, data) != 0 ? -1 : 0;
}

/* The command's process: limits, identity, Landlock, seccomp, then exec. Never returns. */
static __attribute__((noreturn)) void child_exec(const sbx_prep *p, int ruleset)
{
    /* the command starts with default signals: no blocked signal and no ignored one (ignoring
     * survives exec); the raw call, since glibc's sigaction refuses the two real-time signals it
     * reserves, which the caller may have inherited as ignored */
    struct { void (*handler)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; }
        dfl = {SIG_DFL, 0, NULL, 0};
    for (int sig = 1; sig <= 64; sig++)
        syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask); /* fails for KILL, STOP */
    uint64_t none = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
    if (fcntl(SBX_STATUS_FD, F_SETFD, FD_CLOEXEC) != 0)
        child_fail(STEP_FDS, 126);
    if ((p->set_cpu && setrlimit(RLIMIT_CPU, &p->rl_cpu) != 0) ||
        (p->set_fsize && setrlimit(RLIMIT_FSIZE, &p->rl_fsize) != 0) ||
        (p->set_nofile && setrlimit(RLIMIT_NOFILE, &p->rl_nofile) != 0) ||
        (p->set_nproc && setrlimit(RLIMIT_NPROC, &p->rl_nproc) != 0))
        child_fail(STEP_RLIMIT, 126);
    /* no capability can come back through an exec: the bounding set emptied (fails harmlessly
     * where the process may not, as an unprivileged caller's fallback), no ambient ones */
    for (int cap = 0; cap < 64; cap++)
        prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (p->mode & RT_SANDBOX_C_UID) {
        gid_t g = (gid_t)p->run_id;
        uid_t u = (uid_t)p->run_id;
        /* raw system calls: glibc's wrappers would try to change the ids of the caller's other
         * threads too (they do not exist in this process, and it would wait for them forever);
         * leaving uid 0 without PR_SET_KEEPCAPS clears every capability */
        if (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresgid, g, g, g) != 0 ||
            syscall(SYS_setresuid, u, u, u) != 0)
            child_fail(STEP_IDS, 126);
    }
    if (child_caps(0) != 0 && (p->root_stays || (p->mode & RT_SANDBOX_C_UID)))
        child_fail(STEP_CAPS, 126);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        child_fail(STEP_NNP, 126);
    if (ruleset >= 0) {
        if (sbx_landlock_apply(ruleset) != 0)
            child_fail(STEP_LANDLOCK, 126);
        close(ruleset);
    }
    if (p->filter) {
        struct sock_fprog prog = {p->filter_len, (struct sock_filter *)p->filter};
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
            child_fail(STEP_SECCOMP, 126);
    }
    if (chdir(p->workdir) != 0)
        child_fail(STEP_CHDIR, 126);
    /* the address-space limit last: the steps above must not fail for want of it */
    if (p->set_as && setrlimit(RLIMIT_AS, &p->rl_as) != 0)
        child_fail(STEP_RLIMIT, 126);
    execve(p->exe, p->argv, p->envp);
    child_fail(STEP_EXEC, 127);
}

/* ---- watching the tree's totals ------------------------------------------------------------ */

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Reads a small file whole into buf (NUL-terminated). Returns its length or -1. */
static ssize_t read_small(int dirfd, const char *name, char *buf, size_t cap)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

static unsigned long next_number(const char **s)
{
    while (**s == ' ')
        (*s)++;
    unsigned long v = 0;
    while (**s >= '0' && **s <= '9')
        v = v * 10 + (unsigned long)(*(*s)++ - '0');
    return v;
}

/* Field k (1-based, as proc(5) numbers them, k >= 3) of a /proc/PID/stat line, as a number;
 * 0 when missing or negative. The command's name (field 2) may hold spaces and parentheses: the
 * fields are counted from its closing parenthesis. */
static unsigned long stat_field(const char *text, int k)
{
    const char *s = strrchr(text, ')');
    if (!s)
        return 0;
    s++;
    for (int f = 3; f < k; f++) {
        while (*s == ' ')
            s++;
        while (*s && *s != ' ')
            s++;
    }
    return next_number(&s);
}

/* Anonymous resident memory (KiB) of the run's processes in proc: with a PID namespace every
 * process there, without one those in the command's process group pgid. A process whose code
 * is at the same place as this one's is a copy of the caller not yet executed (this process,
 * or the command between clone and exec): its pages are the caller's, and it is not counted. */
static long tree_memory_kib(int proc, long pgid, unsigned long own_code, long page_kib)
{
    char dents[4096], path[64], text[1024];
    long total = 0;
    if (lseek(proc, 0, SEEK_SET) != 0)
        return 0;
    for (;;) {
        long n = syscall(SYS_getdents64, proc, dents, sizeof dents);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(dents + off);
            off += d->d_reclen;
            if (d->d_name[0] < '1' || d->d_name[0] > '9')
                continue;
            if (join(path, sizeof path, d->d_name, "/stat") != 0 ||
                read_small(proc, path, text, sizeof text) <= 0)
                continue;
            if ((pgid > 0 && (long)stat_field(text, 5) != pgid) ||
                stat_field(text, 26) == own_code)
                continue;
            if (join(path, sizeof path, d->d_name, "/statm") != 0 ||
                read_small(proc, path, text, sizeof text) <= 0)
                continue;
            const char *s = text;
            next_number(&s);
            unsigned long resident = next_number(&s), shared = next_number(&s);
            if (resident > shared)
                total += (long)(resident - shared) * page_kib;
        }
    }
    return total;
}

/* KiB the folder dirfd holds (blocks of every file, nested folders included, to a depth). */
static long folder_kib(int dirfd, int depth)
{
    char dents[2048];
    long total = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, dirfd, dents, sizeof dents);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(dents + off);
            off += d->d_reclen;
            if (d->d_name[0] == '.' &&
                (!d->d_name[1] || (d->d_name[1] == '.' && !d->d_name[2])))
                continue;
            struct stat st;
            if (fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
                continue;
            total += (long)st.st_blocks / 2;
            if (S_ISDIR(st.st_mode) && depth < 32) {
                int sub = openat(dirfd, d->d_name,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0) {
                    total += folder_kib(sub, depth + 1);
                    close(sub);
                }
            }
        }
    }
    return total;
}

/* ---- INIT ------------------------------------------------------------------------------- */

/* Blanks the caller's command line in this process's copy of its memory, so that
 * /proc/1/cmdline shows the run nothing of it (the store's path, the evaluator's...). */
static void blank_cmdline(const sbx_prep *p)
{
    if (p->arg_start && p->arg_end > p->arg_start) {
        char *a = (char *)p->arg_start;
        size_t n = p->arg_end - p->arg_start;
        memset(a, 0, n);
        static const char name[] = "ratchet-init";
        if (n > sizeof name)
            memcpy(a, name, sizeof name);
    }
    prctl(PR_SET_NAME, "ratchet-init", 0, 0, 0);
}

/* Reaps and watches until the command is gone (with a PID namespace; the kernel then kills the
 * rest) or until nothing is left (without). Never returns. */
static __attribute__((noreturn)) void watch(const sbx_prep *p, long pid, int ns, int proc_ok)
{
    int proc = (p->memory_kib > 0 && proc_ok) ? open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    unsigned long own_code = 0; /* where this process's code starts: a copy of the caller */
    if (proc >= 0) {
        char text[1024];
        if (read_small(proc, "self/stat", text, sizeof text) > 0)
            own_code = stat_field(text, 26);
    }
    int work = (!ns && p->disk_kib > 0)
                   ? open(p->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int reported = 0, over = 0;
    for (unsigned tick = 0;; tick++) {
        for (;;) {
            int st = 0;
            pid_t got = waitpid(-1, &st, WNOHANG | __WALL);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0) {
                if (!reported)
                    child_send(MSG_STATUS, 0x7f00, ECHILD);
                _exit(0);
            }
            if (got == 0)
                break;
            if (got == (pid_t)pid) {
                child_send(MSG_STATUS, st, 0);
                reported = 1;
                if (ns)
                    _exit(0);
            }
        }
        if (!over && !reported) {
            long used = 0;
            int kind = 0;
            if (proc >= 0 &&
                (used = tree_memory_kib(proc, ns ? 0 : pid, own_code, p->page_kib)) > p->memory_kib)
                kind = RT_SANDBOX_MEMORY;
            if (!kind && work >= 0 && tick % 4 == 0 && lseek(work, 0, SEEK_SET) == 0 &&
                     (used = folder_kib(work, 0)) > p->disk_kib)
                kind = RT_SANDBOX_DISK;
            if (kind) {
                if (ns)
                    kill(-1, SIGKILL); /* every process of the namespace but this one */
                else
                    kill(-(pid_t)pid, SIGKILL);
                child_send(MSG_OVER, kind, (int)(used >> 10));
                over = 1;
            }
        }
        /* a tick: at once when a child ends, else 20 ms */
        struct timespec ts = {0, 20 * 1000 * 1000};
        sigtimedwait(&chld, NULL, &ts);
    }
}

void sbx_child_init(const sbx_prep *p)
{
    /* the four descriptors to 0..3, whatever numbers they had, then nothing else open */
    int tmp[5] = {p->fd_in, p->fd_out, p->fd_err, p->fd_status, p->fd_netns};
    for (int i = 0; i < 5; i++) {
        if (tmp[i] < 0)
            continue;
        tmp[i] = fcntl(tmp[i], F_DUPFD, 10);
        if (tmp[i] < 0)
            _exit(125);
    }
    for (int i = 0; i < 4; i++)
        if (dup2(tmp[i], i) != i)
            _exit(125);
    if (tmp[4] >= 0 && setns(tmp[4], CLONE_NEWNET) != 0)
        child_fail(STEP_NETNS, 125);
    if (syscall(SYS_close_range, 4u, ~0u, 0u) != 0) {
        for (int fd = 4; fd < 1024; fd++)
            close(fd);
    }
    /* a session of its own: no controlling terminal (no /dev/tty) for the run */
    if (setsid() < 0)
        child_fail(STEP_SESSION, 125);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    int ns = (p->mode & RT_SANDBOX_C_PIDNS) != 0;
    unsigned have = p->mode & (RT_SANDBOX_C_PIDNS | RT_SANDBOX_C_NETNS | RT_SANDBOX_C_USERNS |
                               RT_SANDBOX_C_UID | RT_SANDBOX_C_PGROUP);
    if (p->mode & RT_SANDBOX_C_USERNS) {
        if (write_whole("/proc/self/setgroups", "deny") != 0 ||
            write_whole("/proc/self/uid_map", p->uid_map) != 0 ||
            write_whole("/proc/self/gid_map", p->gid_map) != 0)
            child_fail(STEP_USERNS, 125);
    }
    /* nothing of the run may read or trace this process (it holds the caller's memory image);
     * after the id maps, which a non-dumpable process may not write */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    blank_cmdline(p);
    int proc_ok = 1; /* /proc lists the run's processes (for the memory total) */
    if (p->mode & RT_SANDBOX_C_VIEW) {
        if (child_view(p, &proc_ok) != 0)
            child_fail(STEP_VIEW, 125);
        have |= RT_SANDBOX_C_VIEW | RT_SANDBOX_C_ROFS;
    }
    int ruleset = -1;
    if (p->landlock_abi > 0) {
        ruleset = sbx_landlock_make(p->landlock_abi, p->rules, p->nrules, p->allow_net);
        if (ruleset < 0)
            child_fail(STEP_LANDLOCK, 125);
        have |= RT_SANDBOX_C_LANDLOCK;
    }
    if (p->filter)
        have |= RT_SANDBOX_C_SECCOMP;
    if (p->memory_kib > 0 && proc_ok && ((have & RT_SANDBOX_C_VIEW) || p->disk_kib > 0))
        have |= RT_SANDBOX_C_TOTALS;
    child_send(MSG_CONTAIN, (int)have, 0);
    /* without a PID namespace, orphans of the run are reparented here (not to the system's
     * init), so that this process can reap every one of them before it exits */
    if (!ns)
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);

    long pid = sbx_raw_clone(SIGCHLD);
    if (pid < 0)
        child_fail(STEP_CLONE, 125);
    if (pid == 0) {
        if (!ns) {
            setpgid(0, 0);
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        }
        child_exec(p, ruleset);
    }
    if (ruleset >= 0)
        close(ruleset);
    if (!ns) {
        /* the command's own group (set here too, so that it exists before the caller hears of
         * it); the seccomp program keeps every descendant in it */
        setpgid((pid_t)pid, (pid_t)pid);
        child_send(MSG_PID, (int)pid, 0);
    }
    close(0);
    close(1);
    close(2);
    watch(p, pid, ns, proc_ok);
}
