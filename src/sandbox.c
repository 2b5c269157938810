/* sandbox.c — runs one untrusted command under containment (contract in sandbox.h; design in
 * docs/sandbox.md).
 *
 * Process tree of one run:
 *   caller thread ──clone(new PID/net/mount namespaces)──> INIT (PID 1 of the namespace)
 *                                                          └─clone──> EXEC (execve the command)
 * INIT sets up the mounts, starts EXEC, reaps until EXEC is gone, reports EXEC's wait status on
 * the status pipe and exits: the kernel then kills whatever else lives in the namespace. Without
 * namespaces INIT is a child subreaper, EXEC leads a process group of its own that a seccomp
 * filter keeps every descendant in; the caller kills that group when EXEC is gone (or at a limit)
 * and INIT exits once it has reaped every descendant.
 *
 * Everything the children use (paths, argv, envp, id maps, the seccomp program, rlimits) is built
 * before the clone; the children make only async-signal-safe system calls and end with _exit.
 * Raw clone (not fork) is used so that no atfork handler or malloc lock of another thread is
 * touched in the child.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <seccomp.h>

#include "ratchet.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#endif

/* First uid/gid of the per-run ids used when the caller is root: far above any real account. */
#define SBX_UID_BASE 0x3f000000u
#define SBX_UID_SPAN 65536u
#define SBX_STATUS_FD 3 /* the status pipe's number in the children */

/* ---- the pool ---------------------------------------------------------------------------- */

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static int pool_limit; /* 0: not yet set, use the number of CPUs */
static int pool_running;
static unsigned uid_counter;

static int default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 1024 ? 1024 : (int)n);
}

void rt_sandbox_set_jobs(int n)
{
    pthread_mutex_lock(&pool_lock);
    pool_limit = n > 0 ? n : default_jobs();
    pthread_cond_broadcast(&pool_cond);
    pthread_mutex_unlock(&pool_lock);
}

int rt_sandbox_jobs(void)
{
    pthread_mutex_lock(&pool_lock);
    if (pool_limit <= 0)
        pool_limit = default_jobs();
    int n = pool_limit;
    pthread_mutex_unlock(&pool_lock);
    return n;
}

static void pool_enter(void)
{
    pthread_mutex_lock(&pool_lock);
    if (pool_limit <= 0)
        pool_limit = default_jobs();
    while (pool_running >= pool_limit)
        pthread_cond_wait(&pool_cond, &pool_lock);
    pool_running++;
    pthread_mutex_unlock(&pool_lock);
}

static void pool_leave(void)
{
    pthread_mutex_lock(&pool_lock);
    pool_running--;
    pthread_cond_signal(&pool_cond);
    pthread_mutex_unlock(&pool_lock);
}

/* ---- process-wide settings: hidden paths, the jail's helper ------------------------------ */

static pthread_mutex_t settings_lock = PTHREAD_MUTEX_INITIALIZER;
static char *hidden_paths[RT_SANDBOX_MAX_HIDDEN];
static size_t nhidden;
static char *jail_helper; /* real path of the jail client, or NULL */

int rt_sandbox_hide(const char *path)
{
    if (!path || path[0] != '/')
        return RT_EUSAGE;
    int rc = 0;
    pthread_mutex_lock(&settings_lock);
    for (size_t i = 0; i < nhidden; i++)
        if (strcmp(hidden_paths[i], path) == 0)
            goto done;
    if (nhidden == RT_SANDBOX_MAX_HIDDEN) {
        rc = RT_ETOOBIG;
        goto done;
    }
    if (!(hidden_paths[nhidden] = strdup(path))) {
        rc = RT_ENOMEM;
        goto done;
    }
    nhidden++;
done:
    pthread_mutex_unlock(&settings_lock);
    return rc;
}

int rt_sandbox_set_jail_helper(const char *path)
{
    char *real = NULL;
    if (path) {
        struct stat st;
        real = realpath(path, NULL);
        if (!real || stat(real, &st) != 0 || !S_ISREG(st.st_mode) || access(real, X_OK) != 0) {
            free(real);
            return RT_EUSAGE;
        }
    }
    pthread_mutex_lock(&settings_lock);
    free(jail_helper);
    jail_helper = real;
    pthread_mutex_unlock(&settings_lock);
    return 0;
}

/* ---- names ------------------------------------------------------------------------------- */

const char *rt_sandbox_outcome_name(rt_sandbox_outcome o)
{
    switch (o) {
    case RT_SANDBOX_EXITED: return "exited";
    case RT_SANDBOX_SIGNALED: return "signaled";
    case RT_SANDBOX_TIMEOUT: return "timeout";
    case RT_SANDBOX_CPU: return "cpu";
    case RT_SANDBOX_OUTPUT_CAP: return "output_cap";
    case RT_SANDBOX_MEMORY: return "memory";
    case RT_SANDBOX_SPAWN_FAILED: return "spawn_failed";
    case RT_SANDBOX_DISK: return "disk";
    }
    return "unknown";
}

const char *rt_sandbox_containment_str(unsigned c, char *buf, size_t len)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        {RT_SANDBOX_C_PIDNS, "pidns"},     {RT_SANDBOX_C_NETNS, "netns"},
        {RT_SANDBOX_C_USERNS, "userns"},   {RT_SANDBOX_C_ROFS, "rofs"},
        {RT_SANDBOX_C_UID, "uid"},         {RT_SANDBOX_C_SECCOMP, "seccomp"},
        {RT_SANDBOX_C_PGROUP, "pgroup"},   {RT_SANDBOX_C_VIEW, "view"},
        {RT_SANDBOX_C_LANDLOCK, "landlock"}, {RT_SANDBOX_C_TOTALS, "totals"},
    };
    if (len == 0)
        return buf;
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(c & names[i].bit))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", names[i].name);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    if (used == 0)
        snprintf(buf, len, "none");
    return buf;
}

void rt_sandbox_result_free(rt_sandbox_result *res)
{
    if (!res)
        return;
    free(res->stdout_data);
    free(res->stderr_data);
    memset(res, 0, sizeof *res);
}

/* ---- what the children need, prepared before the clone ----------------------------------- */

/* Steps a child reports a failure of (message kind MSG_FAIL). */
enum {
    STEP_FDS = 1, STEP_SESSION, STEP_USERNS, STEP_CLONE, STEP_RLIMIT, STEP_IDS, STEP_CAPS,
    STEP_NNP, STEP_SECCOMP, STEP_CHDIR, STEP_EXEC, STEP_NETNS
};

static const char *step_name(int step)
{
    switch (step) {
    case STEP_FDS: return "setting up descriptors";
    case STEP_SESSION: return "creating the process group";
    case STEP_USERNS: return "mapping the user namespace";
    case STEP_CLONE: return "starting the command";
    case STEP_RLIMIT: return "setting limits";
    case STEP_IDS: return "dropping to the run's uid";
    case STEP_CAPS: return "setting capabilities";
    case STEP_NNP: return "setting no_new_privs";
    case STEP_SECCOMP: return "installing the seccomp filter";
    case STEP_CHDIR: return "entering the working directory";
    case STEP_EXEC: return "exec";
    case STEP_NETNS: return "joining the network namespace";
    }
    return "setup";
}

/* One message on the status pipe; small enough to be written atomically. */
enum { MSG_FAIL = 1, MSG_CONTAIN = 2, MSG_STATUS = 3, MSG_PID = 4 };
typedef struct sbx_msg {
    int kind;
    int a; /* MSG_FAIL: step; MSG_CONTAIN: bits; MSG_STATUS: wait status; MSG_PID: pid */
    int b; /* MSG_FAIL: errno */
} sbx_msg;

typedef struct sbx_prep {
    unsigned mode;       /* RT_SANDBOX_C_* the children try to set up */
    char workdir[PATH_MAX];
    char exe[PATH_MAX];
    char **argv;
    char **envp;
    char **ro_paths;     /* absolute paths of the read-only placed files (bind-mounted) */
    size_t nro;
    char uid_map[64], gid_map[64];
    unsigned run_id;     /* the run's uid and gid when the caller is root */
    struct rlimit rl_cpu, rl_as, rl_fsize, rl_nofile, rl_nproc;
    int set_cpu, set_as, set_fsize, set_nofile, set_nproc;
    const struct sock_filter *filter; /* the seccomp program (static storage), when mode has it */
    unsigned short filter_len;
    int fd_in, fd_out, fd_err, fd_status; /* the child's ends */
    int fd_netns;        /* the shared empty network namespace to join, or -1 */
    char shm_opts[64];   /* mount options of the private /dev/shm */
    int root_stays;      /* the caller is root and the run keeps uid 0: drop every capability */
} sbx_prep;

/* ---- the children (async-signal-safe code only) ------------------------------------------ */

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

static long raw_clone(unsigned long flags)
{
    return syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
}

/* Makes every mount read-only except the working directory, the placed read-only files staying
 * read-only (bind mounts over themselves). Returns 0, or -1 (the mounts may be half done; the
 * caller then does not count on them). */
static int child_mounts(const sbx_prep *p)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return -1;
    if (mount(p->workdir, p->workdir, NULL, MS_BIND, NULL) != 0)
        return -1;
    for (size_t i = 0; i < p->nro; i++)
        if (mount(p->ro_paths[i], p->ro_paths[i], NULL, MS_BIND, NULL) != 0)
            return -1;
    struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID};
    if (syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof ro) != 0)
        return -1;
    struct mount_attr rw = {.attr_clr = MOUNT_ATTR_RDONLY};
    if (syscall(SYS_mount_setattr, AT_FDCWD, p->workdir, 0, &rw, sizeof rw) != 0)
        return -1;
    return 0;
}

/* Keeps only the capabilities in keep (bits of the first 32), as ambient ones so that they survive
 * the exec of an ordinary program under a non-zero uid. */
static int child_caps(unsigned keep)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = data[0].inheritable = keep;
    if (syscall(SYS_capset, &hdr, data) != 0)
        return -1;
    for (unsigned cap = 0; cap < 32; cap++)
        if ((keep & (1u << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
            return -1;
    return 0;
}

/* The command's process: limits, identity, filter, then exec. Never returns. */
static __attribute__((noreturn)) void child_exec(const sbx_prep *p)
{
    /* the command starts with default signals: no blocked signal (the caller's thread blocks
     * SIGPIPE during a run) and no ignored one (ignoring survives exec) */
    /* the raw call: glibc's sigaction refuses the two real-time signals it reserves, which the
     * caller may have inherited as ignored */
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
    /* no capability can come back through an exec: empty the bounding set (all but the one the
     * run keeps); fails harmlessly where the process may not (an unprivileged caller's fallback) */
    for (int cap = 0; cap < 64; cap++)
        if (!((p->mode & RT_SANDBOX_C_UID) && cap == CAP_DAC_READ_SEARCH))
            prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (p->root_stays) {
        /* uid 0 of a user namespace that maps nothing else: it keeps the uid, not the powers
         * (which would let it remount the read-only mounts of its namespace) */
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (child_caps(0) != 0)
            child_fail(STEP_CAPS, 126);
    }
    if (p->mode & RT_SANDBOX_C_UID) {
        gid_t g = (gid_t)p->run_id;
        uid_t u = (uid_t)p->run_id;
        /* raw system calls: glibc's wrappers would try to change the ids of the caller's other
         * threads too (they do not exist in this process, and it would wait for them forever) */
        if (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresgid, g, g, g) != 0)
            child_fail(STEP_IDS, 126);
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
            child_fail(STEP_CAPS, 126);
        if (syscall(SYS_setresuid, u, u, u) != 0)
            child_fail(STEP_IDS, 126);
        /* The caller's evaluator may sit in root-only folders: the run may read and search
         * everything (CAP_DAC_READ_SEARCH), never write past permissions (no CAP_DAC_OVERRIDE:
         * device nodes stay writable on a read-only mount). */
        if (child_caps(1u << CAP_DAC_READ_SEARCH) != 0)
            child_fail(STEP_CAPS, 126);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        child_fail(STEP_NNP, 126);
    if (p->mode & RT_SANDBOX_C_SECCOMP) {
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

/* PID 1 of the run (or the group leader without namespaces). Never returns. */
static __attribute__((noreturn)) void child_init(const sbx_prep *p)
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
    /* a process group of its own (not a session: setsid() would also create a scheduler
     * autogroup, which costs milliseconds) */
    if (setpgid(0, 0) != 0)
        child_fail(STEP_SESSION, 125);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    unsigned have = p->mode & (RT_SANDBOX_C_PIDNS | RT_SANDBOX_C_NETNS | RT_SANDBOX_C_USERNS |
                               RT_SANDBOX_C_UID | RT_SANDBOX_C_SECCOMP | RT_SANDBOX_C_PGROUP);
    if (p->mode & RT_SANDBOX_C_USERNS) {
        if (write_whole("/proc/self/setgroups", "deny") != 0 ||
            write_whole("/proc/self/uid_map", p->uid_map) != 0 ||
            write_whole("/proc/self/gid_map", p->gid_map) != 0)
            child_fail(STEP_USERNS, 125);
    }
    /* Without namespaces and a uid of its own, the command shares INIT's uid and powers: it must
     * not ptrace INIT to forge its reports. (Elsewhere the command lacks a capability INIT has, or
     * runs under another uid, and cannot; non-dumpable costs about a millisecond a run.) */
    if (!(p->mode & (RT_SANDBOX_C_PIDNS | RT_SANDBOX_C_UID)))
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if ((p->mode & RT_SANDBOX_C_ROFS) && child_mounts(p) == 0)
        have |= RT_SANDBOX_C_ROFS;
    /* a /proc of the new PID namespace: the run sees its own processes only (best effort) */
    if (p->mode & RT_SANDBOX_C_PIDNS)
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    /* a small private /dev/shm of its own (POSIX semaphores, Python's multiprocessing) */
    if (have & RT_SANDBOX_C_ROFS)
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, p->shm_opts);
    child_send(MSG_CONTAIN, (int)have, 0);
    /* without a PID namespace, orphans of the run are reparented here (not to the system's
     * init), so that this process can reap every one of them before it exits */
    int ns = (p->mode & RT_SANDBOX_C_PIDNS) != 0;
    if (!ns)
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    long pid = raw_clone(SIGCHLD);
    if (pid < 0)
        child_fail(STEP_CLONE, 125);
    if (pid == 0) {
        if (!ns) {
            setpgid(0, 0);
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        }
        child_exec(p);
    }
    if (!ns) {
        /* the command's own group (set here too, so that it exists before the caller hears of
         * it); the seccomp filter keeps every descendant in it */
        setpgid((pid_t)pid, (pid_t)pid);
        child_send(MSG_PID, (int)pid, 0);
    }
    close(0);
    close(1);
    close(2);
    /* With a PID namespace: reap until the command is gone, report, exit; the kernel then kills
     * the rest of the namespace. Without: report when the command is gone, then reap until no
     * descendant is left (the caller kills the command's group when it hears the report). */
    int reported = 0;
    for (;;) {
        int st = 0;
        pid_t got = waitpid(-1, &st, __WALL);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            if (!reported)
                child_send(MSG_STATUS, 0x7f00, ECHILD);
            _exit(0);
        }
        if (got == (pid_t)pid) {
            child_send(MSG_STATUS, st, 0);
            reported = 1;
            if (ns)
                _exit(0);
        }
    }
}

/* ---- preparation (caller's thread, ordinary code) ---------------------------------------- */

static void prep_free(sbx_prep *p)
{
    if (p->argv)
        for (size_t i = 0; p->argv[i]; i++)
            free(p->argv[i]);
    free(p->argv);
    if (p->envp)
        for (size_t i = 0; p->envp[i]; i++)
            free(p->envp[i]);
    free(p->envp);
    for (size_t i = 0; i < p->nro; i++)
        free(p->ro_paths[i]);
    free(p->ro_paths);
}

static int valid_name(const char *name)
{
    if (!name || !name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0 || strlen(name) > 255)
        return 0;
    return 1;
}

/* Copies src (or the bytes) to dir/name. Returns 0 or RT_EIO. */
static int place_file(const char *dir, const rt_sandbox_file *f, char *err, size_t errlen)
{
    char path[PATH_MAX];
    int in = -1, out = -1, rc = RT_EIO;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, f->name) >= sizeof path)
        return rt_fail(err, errlen, RT_EIO, "sandbox: path too long for %s", f->name);
    out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
        rt_fail(err, errlen, RT_EIO, "sandbox: cannot create %s: %s", path, strerror(errno));
        goto fail;
    }
    if (f->src) {
        in = open(f->src, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
            rt_fail(err, errlen, RT_EIO, "sandbox: cannot read %s: %s", f->src, strerror(errno));
            goto fail;
        }
        char buf[65536];
        for (;;) {
            ssize_t n = read(in, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                rt_fail(err, errlen, RT_EIO, "sandbox: cannot read %s: %s", f->src, strerror(errno));
                goto fail;
            }
            if (n == 0)
                break;
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(out, buf + off, (size_t)(n - off));
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0) {
                    rt_fail(err, errlen, RT_EIO, "sandbox: cannot write %s: %s", path, strerror(errno));
                    goto fail;
                }
                off += w;
            }
        }
    } else {
        for (size_t off = 0; off < f->len;) {
            ssize_t w = write(out, f->data + off, f->len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rt_fail(err, errlen, RT_EIO, "sandbox: cannot write %s: %s", path, strerror(errno));
                goto fail;
            }
            off += (size_t)w;
        }
    }
    mode_t mode = f->writable ? (f->executable ? 0755 : 0644) : (f->executable ? 0555 : 0444);
    if (fchmod(out, mode) != 0) {
        rt_fail(err, errlen, RT_EIO, "sandbox: cannot chmod %s: %s", path, strerror(errno));
        goto fail;
    }
    rc = 0;
fail:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

static char *join_kv(const char *key, const char *value)
{
    rt_buf b;
    rt_buf_init(&b, 0);
    if (rt_buf_printf(&b, "%s=%s", key, value) != 0) {
        rt_buf_free(&b);
        return NULL;
    }
    return rt_buf_take(&b);
}

/* Resolves argv[0] into p->exe (see sandbox.h). Returns 0 or RT_EUSAGE. */
static int resolve_exe(const rt_sandbox_spec *spec, sbx_prep *p, char *err, size_t errlen)
{
    const char *name = spec->argv[0];
    if (strchr(name, '/')) {
        if (name[0] == '/') {
            if ((size_t)snprintf(p->exe, sizeof p->exe, "%s", name) >= sizeof p->exe)
                return rt_fail(err, errlen, RT_EUSAGE, "sandbox: command path too long");
            return 0;
        }
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return rt_fail(err, errlen, RT_EUSAGE, "sandbox: cannot read the working directory");
        if ((size_t)snprintf(p->exe, sizeof p->exe, "%s/%s", cwd, name) >= sizeof p->exe)
            return rt_fail(err, errlen, RT_EUSAGE, "sandbox: command path too long");
        return 0;
    }
    for (size_t i = 0; i < spec->nfiles; i++)
        if (strcmp(spec->files[i].name, name) == 0) {
            if ((size_t)snprintf(p->exe, sizeof p->exe, "%s/%s", p->workdir, name) >= sizeof p->exe)
                return rt_fail(err, errlen, RT_EUSAGE, "sandbox: command path too long");
            return 0;
        }
    const char *path = getenv("PATH");
    if (!path || !path[0])
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len > 0 && len < PATH_MAX) {
            int n = snprintf(p->exe, sizeof p->exe, "%.*s/%s", (int)len, path, name);
            if (n > 0 && (size_t)n < sizeof p->exe && access(p->exe, X_OK) == 0)
                return 0;
        }
        path += len;
        if (*path == ':')
            path++;
    }
    /* not found: exec reports ENOENT in the result */
    if ((size_t)snprintf(p->exe, sizeof p->exe, "/nonexistent/%s", name) >= sizeof p->exe)
        return rt_fail(err, errlen, RT_EUSAGE, "sandbox: command name too long");
    return 0;
}

static void set_rlimit(struct rlimit *rl, int *set, double value, double unit, double hard_extra)
{
    if (value < 0) {
        *set = 0;
        return;
    }
    double soft = ceil(value * unit);
    rl->rlim_cur = (rlim_t)soft;
    rl->rlim_max = (rlim_t)(soft + hard_extra);
    *set = 1;
}

/* The fallback's two seccomp programs (index 0: network denied, 1: network allowed), built once
 * per process by libseccomp for the native architecture and kept until exit. libseccomp's own
 * loader allocates, which the child of a clone in a threaded process must not: the program is
 * exported here, before any clone, and the child installs it with a raw prctl. */
enum { SBX_FILTER_MAX = 512 }; /* instructions; the program is about 20 */
static struct sock_filter sbx_filters[2][SBX_FILTER_MAX];
static unsigned short sbx_filter_len[2]; /* 0: that program could not be built */
static pthread_once_t sbx_filters_once = PTHREAD_ONCE_INIT;

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

/* Builds one fallback program: every system call allowed except setsid and setpgid (EPERM),
 * io_uring_setup (ENOSYS) and, unless allow_net, socket() for any family but AF_UNIX
 * (EAFNOSUPPORT). A call of another architecture (i386 through int 0x80, x32 numbers on x86-64)
 * kills the process. Returns the length written to out, or 0. */
static unsigned short build_filter_one(int allow_net, struct sock_filter *out, size_t cap)
{
    unsigned short len = 0;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return 0;
    if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setsid), 0) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setpgid), 0) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_setup), 0) != 0)
        goto done;
    /* the whole 64-bit argument is compared: a family with high bits set is refused too */
    if (!allow_net && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                                       SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)AF_UNIX)) != 0)
        goto done;
    len = export_filter(ctx, out, cap);
done:
    seccomp_release(ctx);
    return len;
}

static void build_filters(void)
{
    for (int i = 0; i < 2; i++)
        sbx_filter_len[i] = build_filter_one(i, sbx_filters[i], SBX_FILTER_MAX);
}

/* Points p at the fallback filter for allow_net (built on first use). Returns 1 when there is
 * one, 0 when libseccomp could not build it (the run then goes without: no RT_SANDBOX_C_SECCOMP). */
static int build_filter(sbx_prep *p, int allow_net)
{
    if (pthread_once(&sbx_filters_once, build_filters) != 0)
        return 0;
    int i = allow_net ? 1 : 0;
    if (sbx_filter_len[i] == 0)
        return 0;
    p->filter = sbx_filters[i];
    p->filter_len = sbx_filter_len[i];
    return 1;
}

/* ---- the run ----------------------------------------------------------------------------- */

/* Set once a namespace clone failed for lack of permission: later runs use the fallback. */
static int ns_unavailable;
/* Set once root could not hand a file to a run's uid (no such uid in this user namespace). */
static int uid_unavailable;

/* One empty network namespace (only a loopback, down) shared by every run when the caller is
 * root: making and tearing down a namespace per run costs several milliseconds. Kept open for the
 * life of the process. -2: not made yet; -1: could not be made (each run then makes its own). */
static pthread_mutex_t netns_lock = PTHREAD_MUTEX_INITIALIZER;
static int netns_fd = -2;

static int shared_netns(void)
{
    pthread_mutex_lock(&netns_lock);
    if (netns_fd == -2) {
        netns_fd = -1;
        int hold[2];
        if (pipe2(hold, O_CLOEXEC) == 0) {
            long pid = raw_clone(SIGCHLD | CLONE_NEWNET);
            if (pid == 0) {
                /* holds the namespace until the parent has opened it (async-signal-safe only) */
                char c;
                close(hold[1]);
                while (read(hold[0], &c, 1) < 0 && errno == EINTR) {
                }
                _exit(0);
            }
            close(hold[0]);
            if (pid > 0) {
                char path[64];
                snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
                netns_fd = open(path, O_RDONLY | O_CLOEXEC);
            }
            close(hold[1]);
            if (pid > 0)
                while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR) {
                }
        }
    }
    int fd = netns_fd;
    pthread_mutex_unlock(&netns_lock);
    return fd;
}

#define SBX_RM_DEPTH 64 /* folders nested deeper are moved up to the top, then removed */

/* Removes everything inside the folder dirfd; entries deeper than SBX_RM_DEPTH are renamed into
 * top (the working directory) to be removed on a later pass (they count as left). Symlinks are removed, never
 * followed; folders the run made unreadable or unwritable are opened up first (as the caller
 * owns them when it is not root). Returns the number of entries still present. */
static int rm_inside(int dirfd, int top, int depth, unsigned *moved)
{
    int left = 0;
    int fd = dup(dirfd);
    if (fd < 0)
        return 1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return 1;
    }
    rewinddir(d); /* the duplicate shares dirfd's offset, left at the end by an earlier pass */
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (unlinkat(dirfd, name, 0) == 0)
            continue;
        if (errno != EISDIR && errno != EPERM && errno != EACCES) {
            left++;
            continue;
        }
        if (depth >= SBX_RM_DEPTH) {
            char up[64];
            snprintf(up, sizeof up, ".rt-deep-%u", (*moved)++);
            renameat(dirfd, name, top, up);
            left++; /* moved or not, it is still there: another pass */
            continue;
        }
        int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 && errno == EACCES && fchmodat(dirfd, name, 0700, 0) == 0)
            sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            left++;
            continue;
        }
        fchmod(sub, 0700);
        left += rm_inside(sub, top, depth + 1, moved);
        close(sub);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0)
            left++;
    }
    closedir(d);
    return left;
}

/* Removes the working directory and everything in it (no symlink is followed, no depth limit). */
static void remove_tree(const char *dir)
{
    int top = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (top < 0 && errno == EACCES && chmod(dir, 0700) == 0)
        top = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (top >= 0) {
        unsigned moved = 0;
        for (int pass = 0; pass < 4096 && rm_inside(top, top, 0, &moved) > 0; pass++) {
        }
        close(top);
    }
    if (rmdir(dir) != 0 && errno != ENOENT)
        fprintf(stderr, "ratchet: sandbox: could not remove %s: %s\n", dir, strerror(errno));
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static double ts_now(void)
{
    return rt_now();
}

/* A signal's description (strsignal is not thread-safe). */
static const char *signal_name(int sig)
{
    const char *d = sigdescr_np(sig);
    return d ? d : "unknown signal";
}

static int looks_like_oom(const char *text, size_t len)
{
    static const char *const needles[] = {
        "Cannot allocate memory", "MemoryError", "out of memory", "Out of memory",
        "std::bad_alloc", "memory exhausted", "failed to allocate", "alloc failed",
    };
    if (!text || len == 0)
        return 0;
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++)
        if (memmem(text, len, needles[i], strlen(needles[i])))
            return 1;
    return 0;
}

/* Reads what is available on *fd into b (kept up to cap bytes); closes *fd at end of file.
 * Returns 1 when more than cap bytes have been printed in all, else 0. */
static int pump_output(int *fd, rt_buf *b, size_t cap, size_t *seen)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(*fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                close_fd(fd);
            return *seen > cap;
        }
        if (n == 0) {
            close_fd(fd);
            return *seen > cap;
        }
        size_t room = cap > b->len ? cap - b->len : 0;
        size_t keep = (size_t)n < room ? (size_t)n : room;
        if (keep && rt_buf_append(b, chunk, keep) != 0)
            return 1;
        *seen += (size_t)n;
        if (*seen > cap)
            return 1;
    }
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int build_prep(const rt_sandbox_spec *spec, sbx_prep *p, char *err, size_t errlen)
{
    const rt_sandbox_limits *l = &spec->limits;
    size_t nargs = 0, nenv = 0;
    while (spec->argv[nargs])
        nargs++;
    if (spec->env)
        while (spec->env[nenv])
            nenv++;
    p->argv = calloc(nargs + 1, sizeof *p->argv);
    p->envp = calloc(nenv + 5, sizeof *p->envp);
    if (!p->argv || !p->envp)
        return rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
    for (size_t i = 0; i < nargs; i++)
        if (!(p->argv[i] = dup_str(spec->argv[i])))
            return rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
    const char *path = getenv("PATH");
    size_t e = 0;
    if (!(p->envp[e++] = join_kv("PATH", path && path[0] ? path : "/usr/local/bin:/usr/bin:/bin")) ||
        !(p->envp[e++] = join_kv("HOME", p->workdir)) ||
        !(p->envp[e++] = join_kv("TMPDIR", p->workdir)) ||
        !(p->envp[e++] = dup_str("LANG=C.UTF-8")))
        return rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
    for (size_t i = 0; i < nenv; i++)
        if (!(p->envp[e++] = dup_str(spec->env[i])))
            return rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
    p->ro_paths = calloc(spec->nfiles + 1, sizeof *p->ro_paths);
    if (!p->ro_paths)
        return rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
    for (size_t i = 0; i < spec->nfiles; i++) {
        if (spec->files[i].writable)
            continue;
        rt_buf b;
        rt_buf_init(&b, 0);
        if (rt_buf_printf(&b, "%s/%s", p->workdir, spec->files[i].name) != 0) {
            rt_buf_free(&b);
            return rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
        }
        p->ro_paths[p->nro++] = rt_buf_take(&b);
    }
    snprintf(p->shm_opts, sizeof p->shm_opts, "size=%ldm,mode=1777",
             l->file_mib > 0 ? l->file_mib : RT_SANDBOX_DEFAULT_FILE_MIB);
    snprintf(p->uid_map, sizeof p->uid_map, "%u %u 1", (unsigned)geteuid(), (unsigned)geteuid());
    snprintf(p->gid_map, sizeof p->gid_map, "%u %u 1", (unsigned)getegid(), (unsigned)getegid());

    double wall = l->wall_seconds > 0 ? l->wall_seconds : RT_SANDBOX_DEFAULT_WALL;
    double cpu = l->cpu_seconds != 0 ? l->cpu_seconds : wall;
    set_rlimit(&p->rl_cpu, &p->set_cpu, cpu, 1.0, 1.0);
    set_rlimit(&p->rl_as, &p->set_as,
               l->memory_mib != 0 ? (double)l->memory_mib : (double)RT_SANDBOX_DEFAULT_MEMORY_MIB,
               1048576.0, 0.0);
    set_rlimit(&p->rl_fsize, &p->set_fsize,
               l->file_mib != 0 ? (double)l->file_mib : (double)RT_SANDBOX_DEFAULT_FILE_MIB,
               1048576.0, 0.0);
    set_rlimit(&p->rl_nofile, &p->set_nofile,
               l->open_files != 0 ? (double)l->open_files : (double)RT_SANDBOX_DEFAULT_OPEN_FILES,
               1.0, 0.0);
    set_rlimit(&p->rl_nproc, &p->set_nproc,
               l->processes != 0 ? (double)l->processes : (double)RT_SANDBOX_DEFAULT_PROCESSES,
               1.0, 0.0);
    if (p->set_cpu && p->rl_cpu.rlim_cur < 1) {
        p->rl_cpu.rlim_cur = 1;
        p->rl_cpu.rlim_max = 2;
    }
    return 0;
}

static int check_spec(const rt_sandbox_spec *spec, char *err, size_t errlen)
{
    if (!spec || !spec->argv || !spec->argv[0] || !spec->argv[0][0])
        return rt_fail(err, errlen, RT_EUSAGE, "sandbox: no command");
    size_t n = 0;
    while (spec->argv[n])
        if (++n > RT_SANDBOX_MAX_ARGS)
            return rt_fail(err, errlen, RT_EUSAGE, "sandbox: more than %d arguments",
                           RT_SANDBOX_MAX_ARGS);
    n = 0;
    if (spec->env)
        for (; spec->env[n]; n++) {
            if (n >= RT_SANDBOX_MAX_ENV)
                return rt_fail(err, errlen, RT_EUSAGE, "sandbox: more than %d environment entries",
                               RT_SANDBOX_MAX_ENV);
            const char *eq = strchr(spec->env[n], '=');
            if (!eq || eq == spec->env[n])
                return rt_fail(err, errlen, RT_EUSAGE, "sandbox: environment entry '%s' is not KEY=VALUE",
                               spec->env[n]);
        }
    if (spec->nfiles > RT_SANDBOX_MAX_FILES || (spec->nfiles && !spec->files))
        return rt_fail(err, errlen, RT_EUSAGE, "sandbox: more than %d files", RT_SANDBOX_MAX_FILES);
    for (size_t i = 0; i < spec->nfiles; i++) {
        const rt_sandbox_file *f = &spec->files[i];
        if (!valid_name(f->name))
            return rt_fail(err, errlen, RT_EUSAGE, "sandbox: bad file name '%s'",
                           f->name ? f->name : "(null)");
        if (!f->src && f->len && !f->data)
            return rt_fail(err, errlen, RT_EUSAGE, "sandbox: file '%s' has no source", f->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(spec->files[j].name, f->name) == 0)
                return rt_fail(err, errlen, RT_EUSAGE, "sandbox: file '%s' placed twice", f->name);
    }
    if (spec->stdin_len && !spec->stdin_data)
        return rt_fail(err, errlen, RT_EUSAGE, "sandbox: stdin length without data");
    const rt_sandbox_limits *l = &spec->limits;
    if (!(l->wall_seconds >= 0) || l->wall_seconds > 1e7 || !(l->cpu_seconds < 1e7) ||
        l->cpu_seconds != l->cpu_seconds)
        return rt_fail(err, errlen, RT_EUSAGE, "sandbox: bad time limit");
    if (l->memory_mib > (1L << 30) || l->file_mib > (1L << 30))
        return rt_fail(err, errlen, RT_EUSAGE, "sandbox: memory or file limit too large");
    if (l->output_cap > RT_SANDBOX_MAX_OUTPUT_CAP)
        return rt_fail(err, errlen, RT_EUSAGE, "sandbox: output cap over %zu bytes",
                       (size_t)RT_SANDBOX_MAX_OUTPUT_CAP);
    return 0;
}

/* Makes the working directory and places the files. */
static int make_workdir(const rt_sandbox_spec *spec, sbx_prep *p, char *err, size_t errlen)
{
    const char *base = getenv("TMPDIR");
    if (!base || base[0] != '/')
        base = "/tmp";
    if ((size_t)snprintf(p->workdir, sizeof p->workdir, "%s/ratchet-sbx-XXXXXX", base) >=
        sizeof p->workdir - 300)
        return rt_fail(err, errlen, RT_EIO, "sandbox: TMPDIR path too long");
    if (!mkdtemp(p->workdir)) {
        int e = errno;
        p->workdir[0] = '\0';
        return rt_fail(err, errlen, RT_EIO, "sandbox: cannot make a working directory in %s: %s",
                       base, strerror(e));
    }
    if (p->mode & RT_SANDBOX_C_UID) {
        /* root-owned, group of the run, sticky: the run may add files but not remove ours */
        if (chown(p->workdir, 0, (gid_t)p->run_id) != 0) {
            if (errno != EINVAL)
                return rt_fail(err, errlen, RT_EIO, "sandbox: cannot set up %s: %s", p->workdir,
                               strerror(errno));
            /* root of a user namespace that maps no other uid (a rootless container): the run
             * keeps the caller's uid, for this and every later run */
            __atomic_store_n(&uid_unavailable, 1, __ATOMIC_RELAXED);
            p->mode &= ~(unsigned)RT_SANDBOX_C_UID;
        } else if (chmod(p->workdir, 01770) != 0) {
            return rt_fail(err, errlen, RT_EIO, "sandbox: cannot set up %s: %s", p->workdir,
                           strerror(errno));
        }
    }
    for (size_t i = 0; i < spec->nfiles; i++) {
        int rc = place_file(p->workdir, &spec->files[i], err, errlen);
        if (rc != 0)
            return rc;
        if ((p->mode & RT_SANDBOX_C_UID) && spec->files[i].writable) {
            char path[PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", p->workdir, spec->files[i].name);
            if (chown(path, (uid_t)p->run_id, (gid_t)p->run_id) != 0)
                return rt_fail(err, errlen, RT_EIO, "sandbox: cannot chown %s: %s", path,
                               strerror(errno));
        }
    }
    return 0;
}

/* Tasks (threads included) the caller's uid runs now, all over the system: what RLIMIT_NPROC
 * counts for a run that shares the caller's uid and has no user namespace of its own. */
static long count_user_tasks(void)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    uid_t me = getuid();
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%s/task", e->d_name);
        if (stat(path, &st) == 0 && st.st_uid == me)
            n += st.st_nlink > 2 ? (long)st.st_nlink - 2 : 1;
    }
    closedir(d);
    return n;
}

/* For a run that shares the caller's uid and has no user namespace of its own (the process limit
 * counts every task of that uid): its limit comes on top of what the uid runs now. */
static void add_user_tasks(sbx_prep *p)
{
    if (!p->set_nproc)
        return;
    rlim_t now = (rlim_t)count_user_tasks();
    p->rl_nproc.rlim_cur += now;
    p->rl_nproc.rlim_max += now;
}

/* Starts INIT with the namespaces of p->mode; falls back to no namespaces when the kernel refuses.
 * Returns the pid, or -1 with errno. */
static long start_init(sbx_prep *p, int allow_net)
{
    int had_userns = (p->mode & RT_SANDBOX_C_USERNS) != 0;
    if (!(p->mode & (RT_SANDBOX_C_UID | RT_SANDBOX_C_USERNS)))
        add_user_tasks(p);
    if (p->mode & RT_SANDBOX_C_PIDNS) {
        unsigned long flags = SIGCHLD | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
        if (p->mode & RT_SANDBOX_C_USERNS)
            flags |= CLONE_NEWUSER;
        if ((p->mode & RT_SANDBOX_C_NETNS) && p->fd_netns < 0)
            flags |= CLONE_NEWNET;
        long pid = raw_clone(flags);
        if (pid == 0)
            child_init(p);
        if (pid > 0)
            return pid;
        if (errno != EPERM && errno != EINVAL && errno != ENOSPC && errno != EUSERS &&
            errno != ENOSYS)
            return -1;
        __atomic_store_n(&ns_unavailable, 1, __ATOMIC_RELAXED);
        p->fd_netns = -1;
        p->mode &= ~(unsigned)(RT_SANDBOX_C_PIDNS | RT_SANDBOX_C_NETNS | RT_SANDBOX_C_USERNS |
                               RT_SANDBOX_C_ROFS);
    }
    if (build_filter(p, allow_net))
        p->mode |= RT_SANDBOX_C_SECCOMP;
    if (had_userns)
        add_user_tasks(p);
    long pid = raw_clone(SIGCHLD);
    if (pid == 0)
        child_init(p);
    return pid;
}

/* What the children reported on the status pipe. */
typedef struct sbx_reports {
    unsigned contained;
    int have_status, status;
    int fail_step, fail_errno;
    long epid; /* the command's pid (and group) when there is no PID namespace */
} sbx_reports;

/* Reads every whole message available on *fd; closes it at end of file. */
static void read_reports(int *fd, sbx_reports *rep)
{
    while (*fd >= 0) {
        sbx_msg m;
        ssize_t got = read(*fd, &m, sizeof m);
        if (got < 0 && errno == EINTR)
            continue;
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            close_fd(fd);
            return;
        }
        if (got != (ssize_t)sizeof m)
            return;
        if (m.kind == MSG_CONTAIN)
            rep->contained = (unsigned)m.a;
        else if (m.kind == MSG_PID && m.a > 1)
            rep->epid = m.a;
        else if (m.kind == MSG_STATUS && !rep->have_status) {
            rep->have_status = 1;
            rep->status = m.a;
        } else if (m.kind == MSG_FAIL && !rep->fail_step) {
            rep->fail_step = m.a;
            rep->fail_errno = m.b;
        }
    }
}

/* Kills the run's tree: with a PID namespace, its PID 1 (the kernel does the rest); without, the
 * command's group, INIT staying alive to reap it. The command's group is known from INIT's
 * MSG_PID; until it arrives nothing is killed here (INIT sends it right after starting the
 * command), and the caller's loop calls again when it does. */
static void stop_tree(long pid, int ns, int *status_fd, sbx_reports *rep, int *group_killed)
{
    read_reports(status_fd, rep); /* the command's pid may have just arrived */
    if (ns) {
        kill((pid_t)pid, SIGKILL);
    } else if (rep->epid > 1 && !*group_killed) {
        kill(-(pid_t)rep->epid, SIGKILL);
        *group_killed = 1;
    }
}

/* One attempt at the run, with namespaces unless flags say RT_SANDBOX_NO_NAMESPACES (or an
 * earlier attempt found them unusable). *ns_broken is set when the namespaces were granted but
 * could not be set up (e.g. a security module refusing the id maps): the caller then retries
 * without. Returns as rt_sandbox_run. */
static int run_attempt(const rt_sandbox_spec *spec, int flags, rt_sandbox_result *res,
                       int *ns_broken, char *err, size_t errlen)
{
    int rc = 0;
    *ns_broken = 0;

    sbx_prep p;
    memset(&p, 0, sizeof p);
    int fds[8] = {-1, -1, -1, -1, -1, -1, -1, -1}; /* in r/w, out r/w, err r/w, status r/w */
    int pidfd = -1;
    long pid = -1;
    rt_buf out, errb;
    rt_buf_init(&out, RT_SANDBOX_MAX_OUTPUT_CAP);
    rt_buf_init(&errb, RT_SANDBOX_MAX_OUTPUT_CAP);
    sigset_t pipe_set, old_set;
    int mask_set = 0, pipe_was_pending = 0;
    const rt_sandbox_limits *l = &spec->limits;
    double wall = l->wall_seconds > 0 ? l->wall_seconds : RT_SANDBOX_DEFAULT_WALL;
    size_t cap = l->output_cap ? l->output_cap : RT_SANDBOX_DEFAULT_OUTPUT_CAP;

    int root = geteuid() == 0;
    if ((flags & RT_SANDBOX_NO_NAMESPACES) || __atomic_load_n(&ns_unavailable, __ATOMIC_RELAXED))
        p.mode = RT_SANDBOX_C_PGROUP;
    else
        p.mode = RT_SANDBOX_C_PGROUP | RT_SANDBOX_C_PIDNS | RT_SANDBOX_C_NETNS | RT_SANDBOX_C_ROFS |
                 (root ? 0u : (unsigned)RT_SANDBOX_C_USERNS);
    if (root && !__atomic_load_n(&uid_unavailable, __ATOMIC_RELAXED)) {
        p.mode |= RT_SANDBOX_C_UID;
        /* spread by process so that two ratchet processes rarely share a uid */
        unsigned k = (unsigned)getpid() * 2654435761u +
                     __atomic_fetch_add(&uid_counter, 1u, __ATOMIC_RELAXED);
        p.run_id = SBX_UID_BASE + k % SBX_UID_SPAN;
    }

    if (spec->flags & RT_SANDBOX_ALLOW_NETWORK)
        p.mode &= ~(unsigned)RT_SANDBOX_C_NETNS;
    p.fd_netns = (p.mode & RT_SANDBOX_C_NETNS) && root ? shared_netns() : -1;
    if ((rc = make_workdir(spec, &p, err, errlen)) != 0)
        goto fail;
    if ((rc = build_prep(spec, &p, err, errlen)) != 0)
        goto fail;
    if ((rc = resolve_exe(spec, &p, err, errlen)) != 0)
        goto fail;
    p.root_stays = root && !(p.mode & RT_SANDBOX_C_UID);
    for (int i = 0; i < 4; i++)
        if (pipe2(fds + 2 * i, O_CLOEXEC) != 0) {
            rc = rt_fail(err, errlen, RT_EIO, "sandbox: pipe: %s", strerror(errno));
            goto fail;
        }
    p.fd_in = fds[0];
    p.fd_out = fds[3];
    p.fd_err = fds[5];
    p.fd_status = fds[7];
    if (set_nonblock(fds[1]) || set_nonblock(fds[2]) || set_nonblock(fds[4]) || set_nonblock(fds[6])) {
        rc = rt_fail(err, errlen, RT_EIO, "sandbox: fcntl: %s", strerror(errno));
        goto fail;
    }

    /* writing to a closed stdin must not kill ratchet: SIGPIPE blocked in this thread */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    pipe_was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    mask_set = 1;

    double start = ts_now();
    pid = start_init(&p, (spec->flags & RT_SANDBOX_ALLOW_NETWORK) != 0);
    if (pid < 0) {
        int e = errno;
        rc = 0;
        res->outcome = RT_SANDBOX_SPAWN_FAILED;
        res->exit_code = -1;
        snprintf(res->reason, sizeof res->reason, "cannot start a process: %s", strerror(e));
        goto done;
    }
    close_fd(&fds[0]);
    close_fd(&fds[3]);
    close_fd(&fds[5]);
    close_fd(&fds[7]);
    pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0u);

    double deadline = start + wall;
    size_t out_seen = 0, err_seen = 0, in_off = 0;
    int killed = 0;      /* RT_SANDBOX_TIMEOUT or RT_SANDBOX_OUTPUT_CAP once ratchet stopped the run */
    int ns = (p.mode & RT_SANDBOX_C_PIDNS) != 0;
    double stopped_at = -1; /* when the tree was told to die */
    int escalated = 0;
    int group_killed = 0; /* the command's group (no namespace) was sent SIGKILL */
    sbx_reports rep;
    memset(&rep, 0, sizeof rep);
    rep.contained = p.mode;
    if (!spec->stdin_len)
        close_fd(&fds[1]);
    for (;;) {
        double now = ts_now();
        if (!killed && stopped_at < 0 && now >= deadline) {
            killed = RT_SANDBOX_TIMEOUT;
            stop_tree(pid, ns, &fds[6], &rep, &group_killed);
            stopped_at = now;
        }
        if (stopped_at >= 0 && !ns && !group_killed)
            stop_tree(pid, ns, &fds[6], &rep, &group_killed); /* its pid came late */
        if (stopped_at >= 0 && !escalated && now >= stopped_at + 2.0) {
            /* INIT did not finish reaping in time: kill it as well */
            if (!ns && rep.epid > 1)
                kill(-(pid_t)rep.epid, SIGKILL);
            kill(-(pid_t)pid, SIGKILL);
            kill((pid_t)pid, SIGKILL);
            escalated = 1;
        }
        struct pollfd pf[5];
        int n = 0, i_out = -1, i_err = -1, i_in = -1, i_st = -1, i_pid = -1;
        if (fds[2] >= 0) { i_out = n; pf[n++] = (struct pollfd){fds[2], POLLIN, 0}; }
        if (fds[4] >= 0) { i_err = n; pf[n++] = (struct pollfd){fds[4], POLLIN, 0}; }
        if (fds[1] >= 0) { i_in = n; pf[n++] = (struct pollfd){fds[1], POLLOUT, 0}; }
        if (fds[6] >= 0) { i_st = n; pf[n++] = (struct pollfd){fds[6], POLLIN, 0}; }
        if (pidfd >= 0) { i_pid = n; pf[n++] = (struct pollfd){pidfd, POLLIN, 0}; }
        double until = stopped_at < 0 ? deadline : (escalated ? now + 1.0 : stopped_at + 2.0);
        double ms = ceil((until - now) * 1000.0);
        if (ms < 1)
            ms = 1;
        if (pidfd < 0 && ms > 10)
            ms = 10;
        int pr = poll(pf, (nfds_t)n, ms > 1e6 ? 1000000 : (int)ms);
        if (pr < 0 && errno != EINTR && stopped_at < 0) {
            killed = RT_SANDBOX_TIMEOUT; /* cannot watch it: stop it */
            stop_tree(pid, ns, &fds[6], &rep, &group_killed);
            stopped_at = ts_now();
        }
        if (pr <= 0 && pidfd >= 0)
            continue;
        if (i_out >= 0 && pf[i_out].revents && pump_output(&fds[2], &out, cap, &out_seen) &&
            stopped_at < 0) {
            killed = RT_SANDBOX_OUTPUT_CAP;
            stop_tree(pid, ns, &fds[6], &rep, &group_killed);
            stopped_at = ts_now();
        }
        if (i_err >= 0 && pf[i_err].revents && pump_output(&fds[4], &errb, cap, &err_seen) &&
            stopped_at < 0) {
            killed = RT_SANDBOX_OUTPUT_CAP;
            stop_tree(pid, ns, &fds[6], &rep, &group_killed);
            stopped_at = ts_now();
        }
        if (i_in >= 0 && pf[i_in].revents) {
            if (pf[i_in].revents & (POLLERR | POLLHUP)) {
                close_fd(&fds[1]);
            } else {
                ssize_t w = write(fds[1], spec->stdin_data + in_off, spec->stdin_len - in_off);
                if (w > 0)
                    in_off += (size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR)
                    close_fd(&fds[1]);
                if (in_off >= spec->stdin_len)
                    close_fd(&fds[1]);
            }
        }
        if (i_st >= 0 && pf[i_st].revents) {
            int had_status = rep.have_status;
            read_reports(&fds[6], &rep);
            /* the command is gone: without a namespace, its group goes now (no grace: a
             * background grandchild may hold the pipes open for ever) */
            if (!had_status && rep.have_status && !ns && stopped_at < 0) {
                stop_tree(pid, ns, &fds[6], &rep, &group_killed);
                stopped_at = ts_now();
            }
        }
        if (i_pid >= 0 && (pf[i_pid].revents & POLLIN))
            break;
        if (pidfd < 0) {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0)
                break;
        }
    }
    /* INIT is gone; with a namespace so is every process of it, without one INIT reaped them all
     * (unless it had to be killed). Not reaped yet, so its pid cannot have been reused. */
    kill(-(pid_t)pid, SIGKILL);
    if (escalated && !ns && rep.epid > 1) {
        /* INIT was killed before it reaped everything: the orphans went to the system's init;
         * kill the command's group until it is empty (bounded) */
        for (int i = 0; i < 1000 && kill(-(pid_t)rep.epid, SIGKILL) == 0; i++) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    int init_status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4((pid_t)pid, &init_status, __WALL, &ru) < 0 && errno == EINTR) {
    }
    res->wall_seconds = ts_now() - start;
    res->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    res->max_rss_kib = ru.ru_maxrss;
    /* what is left in the pipes; every writer is dead, so this ends */
    if (fds[2] >= 0 && pump_output(&fds[2], &out, cap, &out_seen) && !killed)
        killed = RT_SANDBOX_OUTPUT_CAP;
    if (fds[4] >= 0 && pump_output(&fds[4], &errb, cap, &err_seen) && !killed)
        killed = RT_SANDBOX_OUTPUT_CAP;
    read_reports(&fds[6], &rep);
    unsigned contained = rep.contained;
    int have_status = rep.have_status, status = rep.status;
    int fail_step = rep.fail_step, fail_errno = rep.fail_errno;
    if ((contained & RT_SANDBOX_C_PIDNS) && (fail_step == STEP_USERNS || fail_step == STEP_NETNS))
        *ns_broken = 1;
    res->containment = contained;
    res->exit_code = -1;
    res->stdout_truncated = out_seen > out.len;
    res->stderr_truncated = err_seen > errb.len;
    rt_buf_cstr(&out);
    rt_buf_cstr(&errb);
    if (killed == RT_SANDBOX_TIMEOUT) {
        res->outcome = RT_SANDBOX_TIMEOUT;
        res->signal = SIGKILL;
        snprintf(res->reason, sizeof res->reason, "killed at the %.3g s wall-clock deadline", wall);
    } else if (killed == RT_SANDBOX_OUTPUT_CAP) {
        res->outcome = RT_SANDBOX_OUTPUT_CAP;
        res->signal = SIGKILL;
        snprintf(res->reason, sizeof res->reason, "killed after printing more than %zu bytes", cap);
    } else if (fail_step) {
        res->outcome = RT_SANDBOX_SPAWN_FAILED;
        snprintf(res->reason, sizeof res->reason, "%s %.120s failed: %.60s", step_name(fail_step),
                 fail_step == STEP_EXEC ? p.exe : "", strerror(fail_errno));
    } else if (!have_status) {
        res->outcome = RT_SANDBOX_SIGNALED;
        res->signal = WIFSIGNALED(init_status) ? WTERMSIG(init_status) : 0;
        snprintf(res->reason, sizeof res->reason, "the sandbox's init ended without a report (%s)",
                 WIFSIGNALED(init_status) ? signal_name(WTERMSIG(init_status)) : "exited");
    } else if (WIFEXITED(status)) {
        res->outcome = RT_SANDBOX_EXITED;
        res->exit_code = WEXITSTATUS(status);
        snprintf(res->reason, sizeof res->reason, "exit %d", res->exit_code);
    } else if (WIFSIGNALED(status)) {
        res->signal = WTERMSIG(status);
        res->outcome = RT_SANDBOX_SIGNALED;
        if (res->signal == SIGXCPU ||
            (res->signal == SIGKILL && p.set_cpu && res->cpu_seconds >= (double)p.rl_cpu.rlim_cur))
            res->outcome = RT_SANDBOX_CPU;
        snprintf(res->reason, sizeof res->reason, "%s: %s",
                 res->outcome == RT_SANDBOX_CPU ? "CPU-time limit" : "killed by a signal",
                 signal_name(res->signal));
    } else {
        res->outcome = RT_SANDBOX_SIGNALED;
        snprintf(res->reason, sizeof res->reason, "ended with wait status %d", status);
    }
    if (p.set_as && ((res->outcome == RT_SANDBOX_EXITED && res->exit_code != 0) ||
                     (res->outcome == RT_SANDBOX_SIGNALED &&
                      (res->signal == SIGSEGV || res->signal == SIGABRT || res->signal == SIGBUS ||
                       res->signal == SIGKILL))) &&
        looks_like_oom(errb.data, errb.len)) {
        char was[sizeof res->reason];
        memcpy(was, res->reason, sizeof was);
        res->outcome = RT_SANDBOX_MEMORY;
        snprintf(res->reason, sizeof res->reason, "out of memory under the %ld MiB limit (%.180s)",
                 (long)(p.rl_as.rlim_cur >> 20), was);
    }
    res->stdout_len = out.len;
    res->stdout_data = rt_buf_take(&out);
    res->stderr_len = errb.len;
    res->stderr_data = rt_buf_take(&errb);
    if (!res->stdout_data || !res->stderr_data) {
        rt_sandbox_result_free(res);
        rc = rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
        goto fail;
    }
done:
    rc = 0;
fail:
    if (rc != 0)
        rt_sandbox_result_free(res);
    if (pidfd >= 0)
        close(pidfd);
    for (int i = 0; i < 8; i++)
        close_fd(&fds[i]);
    if (mask_set) {
        if (!pipe_was_pending) {
            struct timespec zero = {0, 0};
            sigset_t now_pending;
            sigemptyset(&now_pending);
            sigpending(&now_pending);
            if (sigismember(&now_pending, SIGPIPE))
                sigtimedwait(&pipe_set, NULL, &zero);
        }
        pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    }
    if (p.workdir[0] && !(spec->flags & RT_SANDBOX_KEEP_WORKDIR))
        remove_tree(p.workdir);
    prep_free(&p);
    rt_buf_free(&out);
    rt_buf_free(&errb);
    return rc;
}

int rt_sandbox_run(const rt_sandbox_spec *spec, rt_sandbox_result *res, char *err, size_t errlen)
{
    if (!res)
        return rt_fail(err, errlen, RT_EUSAGE, "sandbox: no result");
    memset(res, 0, sizeof *res);
    int rc = check_spec(spec, err, errlen);
    if (rc != 0)
        return rc;
    pool_enter();
    int ns_broken = 0;
    rc = run_attempt(spec, spec->flags, res, &ns_broken, err, errlen);
    if (rc == 0 && ns_broken) {
        /* namespaces granted but unusable here: the fallback from now on */
        __atomic_store_n(&ns_unavailable, 1, __ATOMIC_RELAXED);
        rt_sandbox_result_free(res);
        rc = run_attempt(spec, spec->flags | RT_SANDBOX_NO_NAMESPACES, res, &ns_broken, err, errlen);
    }
    pool_leave();
    return rc;
}
