/* sandbox_policy.c — the seccomp programs and the Landlock ruleset of a sandboxed run (contract in
 * sandbox_policy.h; the list of what is refused and why in docs/sandbox.md). */
#include "sandbox/sandbox_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

/* ---- seccomp ----------------------------------------------------------------------------- */

enum { FILTER_MAX = 1024 }; /* instructions; the largest program is about 150 */
static struct sock_filter filters[4][FILTER_MAX];
static unsigned short filter_len[4]; /* 0: that program could not be built */
static pthread_once_t filters_once = PTHREAD_ONCE_INIT;

/* Writes ctx's BPF program into out[cap] (through a memfd: libseccomp 2.5 exports only to a
 * descriptor). Returns its length in instructions, or 0 on any failure. */
static unsigned short export_filter(const scmp_filter_ctx ctx, struct sock_filter *out, size_t cap)
{
    unsigned short len = 0;
    int fd = memfd_create("ratchet-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (seccomp_export_bpf(ctx, fd) != 0)
        goto done;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || (size_t)size % sizeof *out != 0 || (size_t)size / sizeof *out > cap)
        goto done;
    size_t want = (size_t)size, got = 0;
    while (got < want) {
        ssize_t n = pread(fd, (char *)out + got, want - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto done;
        got += (size_t)n;
    }
    len = (unsigned short)(want / sizeof *out);
done:
    close(fd);
    return len;
}

/* System calls no evaluator, verifier or candidate needs, refused with EPERM: they reach other
 * processes (ptrace and its relatives), escape the file view (file handles, mounts, namespaces),
 * or open kernel surface (keys, BPF, perf, userfaultfd, modules). io_uring answers ENOSYS, so
 * that programs fall back to ordinary calls; clone3 too (its flags cannot be inspected, and
 * glibc falls back to clone, whose flags can). */
static const char *const denied[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "process_madvise", "open_by_handle_at", "name_to_handle_at", "unshare", "setns",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "keyctl", "add_key", "request_key", "bpf",
    "perf_event_open", "userfaultfd", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "iopl", "ioperm", "swapon", "swapoff", "reboot", "acct",
    "quotactl", "quotactl_fd", "lookup_dcookie", "vhangup", "syslog", "fanotify_init",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "uselib", "nfsservctl",
    "open_tree_attr", "lsm_set_self_attr",
};
static const char *const enosys[] = {"io_uring_setup", "io_uring_enter", "io_uring_register",
                                     "clone3"};

/* Builds one program into out. Returns its length, or 0. */
static unsigned short build_one(int fallback, int allow_net, struct sock_filter *out, size_t cap)
{
    unsigned short len = 0;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return 0;
    /* a system call of another architecture (i386 through int 0x80, x32 numbers on x86-64)
     * kills the process */
    if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0)
        goto done;
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        int nr = seccomp_syscall_resolve_name(denied[i]);
        if (nr != __NR_SCMP_ERROR && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) != 0)
            goto done;
    }
    for (size_t i = 0; i < sizeof enosys / sizeof enosys[0]; i++) {
        int nr = seccomp_syscall_resolve_name(enosys[i]);
        if (nr != __NR_SCMP_ERROR && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) != 0)
            goto done;
    }
    /* clone with any namespace flag (one rule a bit: libseccomp compares masked values for
     * equality only) */
    static const scmp_datum_t ns_flags[] = {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS,
                                            CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                                            CLONE_NEWNET};
    for (size_t i = 0; i < sizeof ns_flags / sizeof ns_flags[0]; i++)
        if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i])) != 0)
            goto done;
    /* pushing input into a terminal, and the Linux console's own ioctls */
    if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                         SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t)TIOCSTI)) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                         SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t)TIOCLINUX)) != 0)
        goto done;
    /* sockets: AF_UNIX only (the whole 64-bit family argument is compared) */
    if (!allow_net && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                                       SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)AF_UNIX)) != 0)
        goto done;
    if (fallback) {
        /* without a PID namespace the run must stay in its process group, and without a file
         * view of its own it must not reach the caller's Unix sockets (services listen on
         * SOCK_STREAM or SOCK_DGRAM; the jail's socket is SOCK_SEQPACKET; socketpair stays) */
        if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setsid), 0) != 0 ||
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setpgid), 0) != 0 ||
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 2,
                             SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)AF_UNIX),
                             SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)SOCK_STREAM)) != 0 ||
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 2,
                             SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)AF_UNIX),
                             SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)SOCK_DGRAM)) != 0)
            goto done;
    }
    len = export_filter(ctx, out, cap);
done:
    seccomp_release(ctx);
    return len;
}

static void build_all(void)
{
    for (int i = 0; i < 4; i++)
        filter_len[i] = build_one(i >> 1, i & 1, filters[i], FILTER_MAX);
}

const struct sock_filter *sbx_seccomp_program(int fallback, int allow_net, unsigned short *len)
{
    *len = 0;
    if (pthread_once(&filters_once, build_all) != 0)
        return NULL;
    int i = (fallback ? 2 : 0) | (allow_net ? 1 : 0);
    if (filter_len[i] == 0)
        return NULL;
    *len = filter_len[i];
    return filters[i];
}

/* ---- Landlock ---------------------------------------------------------------------------- */

/* The kernel's structures and rights, declared here: Debian 12's headers know only ABI 2. */
struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net; /* ABI 4 */
    uint64_t scoped;             /* ABI 6 */
};
struct ll_path_beneath {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

#define LL_CREATE_VERSION (1u << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_FS_EXECUTE (1ull << 0)
#define LL_FS_WRITE_FILE (1ull << 1)
#define LL_FS_READ_FILE (1ull << 2)
#define LL_FS_READ_DIR (1ull << 3)
#define LL_FS_REMOVE_DIR (1ull << 4)
#define LL_FS_REMOVE_FILE (1ull << 5)
#define LL_FS_MAKE_CHAR (1ull << 6)
#define LL_FS_MAKE_DIR (1ull << 7)
#define LL_FS_MAKE_REG (1ull << 8)
#define LL_FS_MAKE_SOCK (1ull << 9)
#define LL_FS_MAKE_FIFO (1ull << 10)
#define LL_FS_MAKE_BLOCK (1ull << 11)
#define LL_FS_MAKE_SYM (1ull << 12)
#define LL_FS_REFER (1ull << 13)    /* ABI 2 */
#define LL_FS_TRUNCATE (1ull << 14) /* ABI 3 */
#define LL_NET_BIND_TCP (1ull << 0)    /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ull << 1) /* ABI 4 */
#define LL_SCOPE_ABSTRACT_UNIX (1ull << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ull << 1)        /* ABI 6 */

#define LL_FS_ABI1 ((1ull << 13) - 1)
#define LL_READ (LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR)
#define LL_WRITE (LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR | \
                  LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_SYM |      \
                  LL_FS_REFER | LL_FS_TRUNCATE)

static int abi_cached = -1;

int sbx_landlock_abi(void)
{
    int abi = __atomic_load_n(&abi_cached, __ATOMIC_RELAXED);
    if (abi < 0) {
        long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_VERSION);
        abi = v > 0 ? (int)v : 0;
        __atomic_store_n(&abi_cached, abi, __ATOMIC_RELAXED);
    }
    return abi;
}

int sbx_landlock_make(int abi, const sbx_landlock_rule *rules, size_t n, int allow_net)
{
    if (abi < 1) {
        errno = ENOSYS;
        return -1;
    }
    uint64_t handled = LL_FS_ABI1;
    if (abi >= 2)
        handled |= LL_FS_REFER;
    if (abi >= 3)
        handled |= LL_FS_TRUNCATE;
    struct ll_ruleset_attr attr = {handled, 0, 0};
    size_t size = sizeof attr.handled_access_fs;
    if (abi >= 4 && !allow_net) {
        attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
        size = 2 * sizeof(uint64_t);
    }
    if (abi >= 6) {
        attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
        size = sizeof attr;
    }
    int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0u);
    if (fd < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint64_t allow = 0;
        if (rules[i].access & SBX_LL_READ)
            allow |= LL_READ;
        if (rules[i].access & SBX_LL_WRITE)
            allow |= LL_READ | LL_WRITE;
        if (rules[i].access & SBX_LL_DEV)
            allow |= LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_TRUNCATE;
        int at = open(rules[i].path, O_PATH | O_CLOEXEC);
        if (at < 0)
            continue; /* not on this system */
        struct stat st;
        if (fstat(at, &st) == 0 && !S_ISDIR(st.st_mode))
            allow &= LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_TRUNCATE;
        allow &= handled;
        struct ll_path_beneath pb = {allow, at};
        long rc = syscall(SYS_landlock_add_rule, fd, LL_RULE_PATH_BENEATH, &pb, 0u);
        int saved = errno;
        close(at);
        if (rc != 0) {
            close(fd);
            errno = saved;
            return -1;
        }
    }
    return fd;
}

int sbx_landlock_apply(int fd)
{
    return (int)syscall(SYS_landlock_restrict_self, fd, 0u);
}
