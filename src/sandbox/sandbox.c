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
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_int.h"
#include "sandbox/jail.h"

#include <assert.h>
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ratchet.h"
#include "util.h"

/* First uid/gid of the per-run ids used when the caller is root: far above any real account. */
#define SBX_UID_BASE 0x3f000000u
#define SBX_UID_SPAN 65536u

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

/* The calling thread's cancel flag (rt_sandbox_cancel_scope) and its cancelled runs. */
static _Thread_local const volatile int *thread_cancel;
static _Thread_local int thread_cancelled;

void rt_sandbox_cancel_scope(const volatile int *flag)
{
    thread_cancel = flag;
    thread_cancelled = 0;
}

int rt_sandbox_cancelled(void) { return thread_cancelled; }

static int cancel_raised(void) { return thread_cancel && *thread_cancel; }

/* Takes a slot of the pool; returns -1 without one when the thread's cancel flag is raised
 * (checked every 50 ms while waiting). */
static int pool_enter(void)
{
    pthread_mutex_lock(&pool_lock);
    if (pool_limit <= 0)
        pool_limit = default_jobs();
    while (pool_running >= pool_limit && !cancel_raised()) {
        if (!thread_cancel) {
            pthread_cond_wait(&pool_cond, &pool_lock);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 50000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&pool_cond, &pool_lock, &until);
    }
    int got = !cancel_raised();
    if (got)
        pool_running++;
    pthread_mutex_unlock(&pool_lock);
    return got ? 0 : -1;
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
    case RT_SANDBOX_CANCELLED: return "cancelled";
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

static const char *step_name(int step)
{
    switch (step) {
    case STEP_FDS: return "setting up descriptors";
    case STEP_SESSION: return "creating the session";
    case STEP_USERNS: return "mapping the user namespace";
    case STEP_CLONE: return "starting the command";
    case STEP_RLIMIT: return "setting limits";
    case STEP_IDS: return "dropping to the run's uid";
    case STEP_CAPS: return "dropping capabilities";
    case STEP_NNP: return "setting no_new_privs";
    case STEP_SECCOMP: return "installing the seccomp filter";
    case STEP_CHDIR: return "entering the working directory";
    case STEP_EXEC: return "exec";
    case STEP_NETNS: return "joining the network namespace";
    case STEP_VIEW: return "building the file view";
    case STEP_LANDLOCK: return "entering the Landlock domain";
    }
    return "setup";
}

/* ---- preparation (caller's thread, ordinary code) ---------------------------------------- */

static void free_list(char **list, size_t n)
{
    if (list)
        for (size_t i = 0; i < n; i++)
            free(list[i]);
    free(list);
}

static void prep_free(sbx_prep *p)
{
    size_t n = 0;
    while (p->argv && p->argv[n])
        n++;
    free_list(p->argv, n);
    n = 0;
    while (p->envp && p->envp[n])
        n++;
    free_list(p->envp, n);
    free_list(p->names, p->nfiles);
    free(p->placed_mode);
    free_list(p->visible, p->nvisible);
    free(p->visible_dir);
    free_list(p->hidden, p->nhidden);
    free(p->rules);
    free_list(p->rule_paths, p->nrule_paths);
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
            long pid = sbx_raw_clone(SIGCHLD | CLONE_NEWNET);
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

/* The caller's command line (its place in memory), which INIT blanks in its copy. */
static unsigned long cmd_start, cmd_end;
static pthread_once_t cmd_once = PTHREAD_ONCE_INIT;

static void find_cmdline(void)
{
    char buf[2048];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *s = strrchr(buf, ')');
    if (!s)
        return;
    /* after the command's closing parenthesis: field 3 (state) ... 48 arg_start, 49 arg_end */
    s++;
    unsigned long v[50];
    int field = 2;
    while (field < 49) {
        while (*s == ' ')
            s++;
        if (!*s)
            return;
        char *end;
        field++;
        v[field] = strtoul(s, &end, 10);
        if (end == s) /* the state letter */
            end = s + 1;
        s = end;
    }
    if (v[49] > v[48]) {
        cmd_start = v[48];
        cmd_end = v[49];
    }
}

static void cmdline_area(unsigned long *start, unsigned long *end)
{
    pthread_once(&cmd_once, find_cmdline);
    *start = cmd_start;
    *end = cmd_end;
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
    p->envp = calloc(nenv + 7, sizeof *p->envp);
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
    if (p->jail_socket[0]) {
        int view = (p->mode & RT_SANDBOX_C_VIEW) != 0;
        char helper[PATH_MAX + 32];
        snprintf(helper, sizeof helper, "%s/ctl/ratchet-jail", p->base);
        if (!(p->envp[e++] = join_kv("RATCHET_JAIL", view ? "/run/ratchet/ratchet-jail" : helper)) ||
            !(p->envp[e++] = join_kv("RATCHET_JAIL_SOCKET",
                                     view ? "/run/ratchet/jail.sock" : p->jail_socket)))
            return rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
    }
    p->names = calloc(spec->nfiles + 1, sizeof *p->names);
    p->placed_mode = calloc(spec->nfiles + 1, 1);
    if (!p->names || !p->placed_mode)
        return rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
    for (size_t i = 0; i < spec->nfiles; i++) {
        if (!(p->names[i] = dup_str(spec->files[i].name)))
            return rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
        p->placed_mode[i] = (unsigned char)((spec->files[i].writable ? 1 : 0) |
                                            (spec->files[i].executable ? 2 : 0));
        p->nfiles = i + 1;
    }
    long disk = l->disk_mib != 0 ? l->disk_mib : RT_SANDBOX_DEFAULT_DISK_MIB;
    long memory = l->memory_mib != 0 ? l->memory_mib : RT_SANDBOX_DEFAULT_MEMORY_MIB;
    /* the view's tmpfs holds its stubs too: a few hundred KiB on top of the disk budget */
    snprintf(p->scratch_opts, sizeof p->scratch_opts, "size=%ldk,mode=0755,nr_inodes=65536",
             disk > 0 ? disk * 1024 + 1024 : 16L << 30);
    p->disk_kib = disk > 0 ? disk * 1024 : 0;
    p->memory_kib = memory > 0 ? memory * 1024 : 0;
    long page = sysconf(_SC_PAGESIZE);
    p->page_kib = page >= 1024 ? page / 1024 : 4;
    cmdline_area(&p->arg_start, &p->arg_end);
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

/* System folders: shown in every view, never listed as visible paths. */
static const char *const system_dirs[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                          "/libx32", "/etc", "/opt", "/sys"};
static const char *const writable_devices[] = {"/dev/null", "/dev/zero", "/dev/full"};

/* 1 when path is dir or lies beneath it. */
static int beneath(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return 1;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int in_system(const char *path)
{
    for (size_t i = 0; i < sizeof system_dirs / sizeof system_dirs[0]; i++)
        if (beneath(path, system_dirs[i]))
            return 1;
    return 0;
}

/* Adds the real path of path to the visible list (not when a system folder or a visible folder
 * holds it already). Returns 0, RT_EUSAGE (missing), RT_ETOOBIG, RT_ENOMEM. */
static int add_visible(sbx_prep *p, const char *path, char *err, size_t errlen)
{
    char *real = realpath(path, NULL);
    struct stat st;
    if (!real || stat(real, &st) != 0) {
        int e = errno;
        free(real);
        return rt_fail(err, errlen, RT_EUSAGE, "sandbox: visible path %s: %s", path, strerror(e));
    }
    if (in_system(real) || strcmp(real, "/") == 0)
        goto skip;
    for (size_t i = 0; i < p->nvisible; i++)
        if (p->visible_dir[i] && beneath(real, p->visible[i]))
            goto skip;
    if (p->nvisible == RT_SANDBOX_MAX_VISIBLE) {
        free(real);
        return rt_fail(err, errlen, RT_ETOOBIG, "sandbox: more than %d visible paths",
                       RT_SANDBOX_MAX_VISIBLE);
    }
    p->visible[p->nvisible] = real;
    p->visible_dir[p->nvisible++] = S_ISDIR(st.st_mode) ? 1 : 0;
    return 0;
skip:
    free(real);
    return 0;
}

/* As root the run has a uid of its own and no capability: it reads the visible paths and runs
 * the command as "others" may. Says which path it cannot use (with the view, the path itself;
 * without, every folder on the way too), rather than letting the command fail with a bare
 * EACCES. Returns 0 or RT_EUSAGE. */
static int check_others(const sbx_prep *p, char *err, size_t errlen)
{
    int view = (p->mode & RT_SANDBOX_C_VIEW) != 0;
    for (size_t i = 0; i <= p->nvisible; i++) {
        int is_exe = i == p->nvisible;
        const char *path = is_exe ? p->exe : p->visible[i];
        if (is_exe && (beneath(path, p->workdir) || in_system(path) || access(path, F_OK) != 0))
            break;
        char walk[PATH_MAX];
        snprintf(walk, sizeof walk, "%s", path);
        for (int depth = 0;; depth++) {
            struct stat st;
            if (stat(walk, &st) != 0)
                break;
            mode_t need = depth > 0 ? S_IXOTH
                          : S_ISDIR(st.st_mode) ? (S_IROTH | S_IXOTH)
                          : is_exe ? S_IXOTH : S_IROTH;
            if ((st.st_mode & need) != need)
                return rt_fail(err, errlen, RT_EUSAGE,
                               "sandbox: %s (mode %04o) is closed to the run's own uid (as root "
                               "the run has no capability): chmod o+%s it",
                               walk, (unsigned)(st.st_mode & 07777),
                               need == S_IXOTH ? "x" : need == S_IROTH ? "r" : "rx");
            char *slash = strrchr(walk, '/');
            if (view || !slash || slash == walk)
                break;
            *slash = '\0';
        }
    }
    return 0;
}

/* Landlock allows, never subtracts: without a view, a visible folder that holds a hidden path
 * (a store beside the evaluator) is allowed entry by entry, leaving the hidden one out (and
 * descending into the folders on its way). Returns 0, RT_ETOOBIG past SBX_MAX_RULES, RT_ENOMEM. */
static int allow_except_hidden(sbx_prep *p, const char *path, size_t *n, char *err,
                               size_t errlen)
{
    int holds = 0;
    for (size_t h = 0; h < p->nhidden; h++) {
        if (strcmp(p->hidden[h], path) == 0)
            return 0; /* hidden itself */
        if (beneath(p->hidden[h], path))
            holds = 1;
    }
    if (*n + 8 >= SBX_MAX_RULES || p->nrule_paths + 1 >= SBX_MAX_RULES)
        return rt_fail(err, errlen, RT_ETOOBIG,
                       "sandbox: too many entries around a hidden path in %s", path);
    if (!holds) {
        p->rules[(*n)++] = (sbx_landlock_rule){path, SBX_LL_READ};
        return 0;
    }
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        rt_buf b;
        rt_buf_init(&b, 0);
        if (rt_buf_printf(&b, "%s/%s", path, e->d_name) != 0) {
            rt_buf_free(&b);
            rc = rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
            break;
        }
        char *child = rt_buf_take(&b);
        p->rule_paths[p->nrule_paths++] = child;
        rc = allow_except_hidden(p, child, n, err, errlen);
    }
    closedir(d);
    return rc;
}

/* The run's file view: the visible paths (the spec's, and the folder of a command named by its
 * path), the hidden ones, and the Landlock rules of the mode. */
static int build_view(const rt_sandbox_spec *spec, sbx_prep *p, int jailed, char *err,
                      size_t errlen)
{
    int rc;
    p->visible = calloc(RT_SANDBOX_MAX_VISIBLE, sizeof *p->visible);
    p->visible_dir = calloc(RT_SANDBOX_MAX_VISIBLE, 1);
    p->hidden = calloc(RT_SANDBOX_MAX_HIDDEN, sizeof *p->hidden);
    if (!p->visible || !p->visible_dir || !p->hidden)
        return rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
    for (size_t i = 0; spec->visible && spec->visible[i]; i++)
        if ((rc = add_visible(p, spec->visible[i], err, errlen)) != 0)
            return rc;
    /* the command's own folder, unless it is a placed file; never for a jail, whose command
     * line comes from the evaluator */
    if (!jailed && !beneath(p->exe, p->workdir) && access(p->exe, F_OK) == 0) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", p->exe);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            if ((rc = add_visible(p, dir, err, errlen)) != 0)
                return rc;
        }
    }
    if ((p->mode & RT_SANDBOX_C_UID) && (rc = check_others(p, err, errlen)) != 0)
        return rc;
    pthread_mutex_lock(&settings_lock);
    for (size_t i = 0; i < nhidden && !rc; i++)
        if (!(p->hidden[p->nhidden] = dup_str(hidden_paths[i])))
            rc = RT_ENOMEM;
        else
            p->nhidden++;
    pthread_mutex_unlock(&settings_lock);
    if (rc)
        return rt_fail(err, errlen, rc, "sandbox: out of memory");

    p->rules = calloc(SBX_MAX_RULES, sizeof *p->rules);
    p->rule_paths = calloc(SBX_MAX_RULES, sizeof *p->rule_paths);
    if (!p->rules || !p->rule_paths)
        return rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
    sbx_landlock_rule *r = p->rules;
    size_t n = 0;
    if (p->mode & RT_SANDBOX_C_VIEW) {
        /* the view holds only what the run may read */
        r[n++] = (sbx_landlock_rule){"/", SBX_LL_READ};
        r[n++] = (sbx_landlock_rule){"/tmp", SBX_LL_WRITE};
        r[n++] = (sbx_landlock_rule){"/dev/shm", SBX_LL_WRITE};
    } else {
        for (size_t i = 0; i < sizeof system_dirs / sizeof system_dirs[0]; i++)
            r[n++] = (sbx_landlock_rule){system_dirs[i], SBX_LL_READ};
        /* no /proc: without a PID namespace it would show every process of the machine */
        r[n++] = (sbx_landlock_rule){"/dev/random", SBX_LL_READ};
        r[n++] = (sbx_landlock_rule){"/dev/urandom", SBX_LL_READ};
        for (size_t i = 0; i < p->nvisible; i++)
            if ((rc = allow_except_hidden(p, p->visible[i], &n, err, errlen)) != 0)
                return rc;
        if (p->jail_helper[0]) {
            r[n++] = (sbx_landlock_rule){p->jail_helper, SBX_LL_READ};
            r[n++] = (sbx_landlock_rule){p->base, SBX_LL_READ}; /* ctl/ratchet-jail, work */
        }
    }
    r[n++] = (sbx_landlock_rule){p->workdir, SBX_LL_WRITE};
    for (size_t i = 0; i < sizeof writable_devices / sizeof writable_devices[0]; i++)
        r[n++] = (sbx_landlock_rule){writable_devices[i], SBX_LL_DEV};
    assert(n <= SBX_MAX_RULES);
    assert(p->nrule_paths <= SBX_MAX_RULES);
    p->nrules = n;
    p->landlock_abi = sbx_landlock_abi();
    p->filter = sbx_seccomp_program(!(p->mode & RT_SANDBOX_C_PIDNS), p->allow_net, &p->filter_len);
    return 0;
}

/* Removes the folders that runs of killed processes left in dir. A run makes its folder under
 * a name of its own (ratchet-new-*), locks it, and only then renames it to ratchet-sbx-*, holding
 * the lock for as long as it lives: so a ratchet-sbx-* folder that nobody holds is a leftover. A
 * ratchet-new-* folder is one only when it is also a minute old (its run may be between the two
 * steps). */
static void sweep_leftovers(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    uid_t me = geteuid();
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        int done = strncmp(e->d_name, "ratchet-sbx-", 12) == 0;
        if (!done && strncmp(e->d_name, "ratchet-new-", 12) != 0)
            continue;
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_uid == me && (done || now - st.st_mtime > 60) &&
            flock(fd, LOCK_EX | LOCK_NB) == 0) {
            char path[PATH_MAX];
            if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < sizeof path)
                remove_tree(path);
        }
        close(fd);
    }
    closedir(d);
}

static pthread_mutex_t sweep_lock = PTHREAD_MUTEX_INITIALIZER;
static char swept[PATH_MAX]; /* the folder swept last (once per folder and process) */

/* Makes the run's folder base (locked for the run's life, *lock_fd), its working directory with
 * the placed files, the view's mount point and the jail's folder. */
static int make_workdir(const rt_sandbox_spec *spec, sbx_prep *p, int *lock_fd, char *err,
                        size_t errlen)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/')
        tmp = "/tmp";
    pthread_mutex_lock(&sweep_lock);
    if (strcmp(swept, tmp) != 0) {
        snprintf(swept, sizeof swept, "%s", tmp);
        sweep_leftovers(tmp);
    }
    pthread_mutex_unlock(&sweep_lock);
    char fresh[PATH_MAX];
    if ((size_t)snprintf(fresh, sizeof fresh, "%s/ratchet-new-XXXXXX", tmp) >= sizeof fresh - 300)
        return rt_fail(err, errlen, RT_EIO, "sandbox: TMPDIR path too long");
    if (!mkdtemp(fresh))
        return rt_fail(err, errlen, RT_EIO, "sandbox: cannot make a working directory in %s: %s",
                       tmp, strerror(errno));
    /* locked before it takes the name that the sweep of leftovers looks at */
    *lock_fd = open(fresh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(p->base, sizeof p->base, "%s/ratchet-sbx-%s", tmp, fresh + strlen(fresh) - 6);
    if (*lock_fd < 0 || flock(*lock_fd, LOCK_EX) != 0 ||
        renameat2(AT_FDCWD, fresh, AT_FDCWD, p->base, RENAME_NOREPLACE) != 0) {
        int e = errno;
        rmdir(fresh);
        p->base[0] = '\0';
        return rt_fail(err, errlen, RT_EIO, "sandbox: cannot set up a working directory in %s: %s",
                       tmp, strerror(e));
    }
    if ((size_t)snprintf(p->workdir, sizeof p->workdir, "%s/work", p->base) >= sizeof p->workdir ||
        (size_t)snprintf(p->root, sizeof p->root, "%s/root", p->base) >= sizeof p->root)
        return rt_fail(err, errlen, RT_EIO, "sandbox: TMPDIR path too long");
    int uid = (p->mode & RT_SANDBOX_C_UID) != 0;
    /* as root the run's own uid must pass through the folder (without a view) */
    if (chmod(p->base, uid ? 0711 : 0700) != 0 || mkdir(p->workdir, 0700) != 0 ||
        ((p->mode & RT_SANDBOX_C_VIEW) && mkdir(p->root, 0700) != 0))
        return rt_fail(err, errlen, RT_EIO, "sandbox: cannot set up %s: %s", p->base,
                       strerror(errno));
    if (uid) {
        /* root-owned, group of the run, sticky: the run may add files but not remove ours */
        if (chown(p->workdir, 0, (gid_t)p->run_id) != 0) {
            if (errno != EINVAL)
                return rt_fail(err, errlen, RT_EIO, "sandbox: cannot set up %s: %s", p->workdir,
                               strerror(errno));
            /* root of a user namespace that maps no other uid (a rootless container): the run
             * keeps the caller's uid, for this and every later run */
            __atomic_store_n(&uid_unavailable, 1, __ATOMIC_RELAXED);
            p->mode &= ~(unsigned)RT_SANDBOX_C_UID;
            uid = 0;
        } else if (chmod(p->workdir, 01770) != 0) {
            return rt_fail(err, errlen, RT_EIO, "sandbox: cannot set up %s: %s", p->workdir,
                           strerror(errno));
        }
    }
    for (size_t i = 0; i < spec->nfiles; i++) {
        int rc = place_file(p->workdir, &spec->files[i], err, errlen);
        if (rc != 0)
            return rc;
        if (uid && spec->files[i].writable) {
            char path[PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", p->workdir, spec->files[i].name);
            if (chown(path, (uid_t)p->run_id, (gid_t)p->run_id) != 0)
                return rt_fail(err, errlen, RT_EIO, "sandbox: cannot chown %s: %s", path,
                               strerror(errno));
        }
    }
    if (p->jail_helper[0]) {
        char ctl[PATH_MAX + 16], link[PATH_MAX + 32];
        snprintf(ctl, sizeof ctl, "%s/ctl", p->base);
        snprintf(link, sizeof link, "%s/ratchet-jail", ctl);
        if (mkdir(ctl, uid ? 0711 : 0700) != 0 || chmod(ctl, uid ? 0711 : 0700) != 0 ||
            symlink(p->jail_helper, link) != 0)
            return rt_fail(err, errlen, RT_EIO, "sandbox: cannot set up %s: %s", ctl,
                           strerror(errno));
        if ((size_t)snprintf(p->jail_socket, sizeof p->jail_socket, "%s/jail.sock", ctl) >=
            sizeof p->jail_socket)
            return rt_fail(err, errlen, RT_EIO, "sandbox: TMPDIR path too long");
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

/* Starts INIT with the namespaces of p->mode. Returns its pid; -1 with errno; or -2 when the
 * kernel refused the namespaces (they are then off for this process: the caller retries the
 * run in the fallback). */
static long start_init(sbx_prep *p)
{
    if (!(p->mode & (RT_SANDBOX_C_UID | RT_SANDBOX_C_USERNS)))
        add_user_tasks(p);
    unsigned long flags = SIGCHLD;
    if (p->mode & RT_SANDBOX_C_PIDNS) {
        flags |= CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
        if (p->mode & RT_SANDBOX_C_USERNS)
            flags |= CLONE_NEWUSER;
        if ((p->mode & RT_SANDBOX_C_NETNS) && p->fd_netns < 0)
            flags |= CLONE_NEWNET;
    }
    long pid = sbx_raw_clone(flags);
    if (pid == 0)
        sbx_child_init(p);
    if (pid < 0 && (p->mode & RT_SANDBOX_C_PIDNS) &&
        (errno == EPERM || errno == EINVAL || errno == ENOSPC || errno == EUSERS ||
         errno == ENOSYS)) {
        __atomic_store_n(&ns_unavailable, 1, __ATOMIC_RELAXED);
        return -2;
    }
    return pid;
}

/* What the children reported on the status pipe. */
typedef struct sbx_reports {
    unsigned contained;
    int have_status, status;
    int fail_step, fail_errno;
    long epid; /* the command's pid (and group) when there is no PID namespace */
    int over, over_mib; /* INIT killed the tree over a total: RT_SANDBOX_MEMORY or _DISK */
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
        else if (m.kind == MSG_OVER && !rep->over &&
                 (m.a == RT_SANDBOX_MEMORY || m.a == RT_SANDBOX_DISK)) {
            rep->over = m.a;
            rep->over_mib = m.b;
        } else if (m.kind == MSG_STATUS && !rep->have_status) {
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

/* One attempt at a run: everything the caller's side holds from the preparation to the result. */
typedef struct sbx_attempt {
    const rt_sandbox_spec *spec;
    int flags;            /* the spec's, or RT_SANDBOX_NO_NAMESPACES added for the retry */
    const int *cancel;    /* a jail's: non-zero ends the run early */
    const volatile int *stop; /* the thread's cancel flag: non-zero kills it (CANCELLED) */
    int jailed;
    sbx_prep p;
    int lock_fd;          /* the flock on the run's folder */
    rt_jail_broker *broker;
    int fds[8];           /* stdin r/w, stdout r/w, stderr r/w, status r/w */
    int pidfd;
    long pid;             /* INIT */
    int ns;               /* INIT is PID 1 of a namespace */
    rt_buf out, errb;
    size_t out_seen, err_seen, in_off;
    double wall, start, deadline;
    size_t cap;
    int killed;           /* RT_SANDBOX_TIMEOUT or RT_SANDBOX_OUTPUT_CAP once ratchet stopped it */
    double stopped_at;    /* when the tree was told to die, or -1 */
    int escalated;        /* INIT itself was killed */
    int group_killed;     /* the command's group (no namespace) was sent SIGKILL */
    sbx_reports rep;
    int init_status;
    struct rusage ru;
    sigset_t pipe_set, old_set;
    int mask_set, pipe_was_pending;
} sbx_attempt;

/* Chooses the containment for this attempt: namespaces (unless refused), the run's own uid as
 * root, the network, the jail's helper. */
static void attempt_mode(sbx_attempt *a)
{
    sbx_prep *p = &a->p;
    int root = geteuid() == 0;
    if ((a->flags & RT_SANDBOX_NO_NAMESPACES) || __atomic_load_n(&ns_unavailable, __ATOMIC_RELAXED))
        p->mode = RT_SANDBOX_C_PGROUP;
    else
        p->mode = RT_SANDBOX_C_PGROUP | RT_SANDBOX_C_PIDNS | RT_SANDBOX_C_NETNS |
                  RT_SANDBOX_C_VIEW | (root ? 0u : (unsigned)RT_SANDBOX_C_USERNS);
    if (root && !__atomic_load_n(&uid_unavailable, __ATOMIC_RELAXED)) {
        p->mode |= RT_SANDBOX_C_UID;
        /* spread by process so that two ratchet processes rarely share a uid */
        unsigned k = (unsigned)getpid() * 2654435761u +
                     __atomic_fetch_add(&uid_counter, 1u, __ATOMIC_RELAXED);
        p->run_id = SBX_UID_BASE + k % SBX_UID_SPAN;
    }
    p->allow_net = (a->spec->flags & RT_SANDBOX_ALLOW_NETWORK) != 0;
    if (p->allow_net)
        p->mode &= ~(unsigned)RT_SANDBOX_C_NETNS;
    p->fd_netns = (p->mode & RT_SANDBOX_C_NETNS) && root ? shared_netns() : -1;
    if (!a->jailed) {
        pthread_mutex_lock(&settings_lock);
        if (jail_helper)
            snprintf(p->jail_helper, sizeof p->jail_helper, "%s", jail_helper);
        pthread_mutex_unlock(&settings_lock);
    }
    p->root_stays = root && !(p->mode & RT_SANDBOX_C_UID);
}

/* The run's folder, what the children need, the jail's broker, the pipes. Returns 0 or an
 * RT_E* code with err set. */
static int attempt_prepare(sbx_attempt *a, char *err, size_t errlen)
{
    sbx_prep *p = &a->p;
    int rc;
    if ((rc = make_workdir(a->spec, p, &a->lock_fd, err, errlen)) != 0 ||
        (rc = resolve_exe(a->spec, p, err, errlen)) != 0 ||
        (rc = build_prep(a->spec, p, err, errlen)) != 0 ||
        (rc = build_view(a->spec, p, a->jailed, err, errlen)) != 0)
        return rc;
    if (p->jail_socket[0] && (rc = rt_jail_broker_open(&a->broker, p->jail_socket, a->spec,
                                                       rt_now() + a->wall, err, errlen)) != 0)
        return rc;
    for (int i = 0; i < 4; i++)
        if (pipe2(a->fds + 2 * i, O_CLOEXEC) != 0)
            return rt_fail(err, errlen, RT_EIO, "sandbox: pipe: %s", strerror(errno));
    p->fd_in = a->fds[0];
    p->fd_out = a->fds[3];
    p->fd_err = a->fds[5];
    p->fd_status = a->fds[7];
    if (set_nonblock(a->fds[1]) || set_nonblock(a->fds[2]) || set_nonblock(a->fds[4]) ||
        set_nonblock(a->fds[6]))
        return rt_fail(err, errlen, RT_EIO, "sandbox: fcntl: %s", strerror(errno));
    return 0;
}

/* Writing to a closed stdin must not kill ratchet: SIGPIPE is blocked in this thread during the
 * run, and one it raised is consumed before the mask is restored. */
static void block_sigpipe(sbx_attempt *a)
{
    sigemptyset(&a->pipe_set);
    sigaddset(&a->pipe_set, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    a->pipe_was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &a->pipe_set, &a->old_set);
    a->mask_set = 1;
}

static void restore_sigpipe(sbx_attempt *a)
{
    if (!a->mask_set)
        return;
    if (!a->pipe_was_pending) {
        struct timespec zero = {0, 0};
        sigset_t now_pending;
        sigemptyset(&now_pending);
        sigpending(&now_pending);
        if (sigismember(&now_pending, SIGPIPE))
            sigtimedwait(&a->pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &a->old_set, NULL);
}

/* Stops the run (once) for why (RT_SANDBOX_TIMEOUT, RT_SANDBOX_OUTPUT_CAP, or 0: the command
 * ended without a namespace, its group goes now). */
static void attempt_stop(sbx_attempt *a, int why)
{
    if (a->stopped_at >= 0)
        return;
    if (why)
        a->killed = why;
    stop_tree(a->pid, a->ns, &a->fds[6], &a->rep, &a->group_killed);
    a->stopped_at = ts_now();
}

/* Writes what stdin may take now. */
static void feed_stdin(sbx_attempt *a, short revents)
{
    const rt_sandbox_spec *spec = a->spec;
    if (revents & (POLLERR | POLLHUP)) {
        close_fd(&a->fds[1]);
        return;
    }
    ssize_t w = write(a->fds[1], spec->stdin_data + a->in_off, spec->stdin_len - a->in_off);
    if (w > 0)
        a->in_off += (size_t)w;
    else if (w < 0 && errno != EAGAIN && errno != EINTR)
        close_fd(&a->fds[1]);
    if (a->in_off >= spec->stdin_len)
        close_fd(&a->fds[1]);
}

/* The deadline, a cancel, a late pid, and INIT that does not finish reaping in time. */
static void check_clock(sbx_attempt *a, double now)
{
    if (!a->killed && a->stopped_at < 0 && a->stop && *a->stop)
        attempt_stop(a, RT_SANDBOX_CANCELLED);
    if (!a->killed && a->stopped_at < 0 &&
        (now >= a->deadline || (a->cancel && __atomic_load_n(a->cancel, __ATOMIC_RELAXED))))
        attempt_stop(a, RT_SANDBOX_TIMEOUT);
    if (a->stopped_at >= 0 && !a->ns && !a->group_killed) /* its pid came late */
        stop_tree(a->pid, a->ns, &a->fds[6], &a->rep, &a->group_killed);
    if (a->stopped_at >= 0 && !a->escalated && now >= a->stopped_at + 2.0) {
        if (!a->ns && a->rep.epid > 1)
            kill(-(pid_t)a->rep.epid, SIGKILL);
        kill(-(pid_t)a->pid, SIGKILL);
        kill((pid_t)a->pid, SIGKILL);
        a->escalated = 1;
    }
}

/* One round of waiting: polls the pipes, the jail's socket and INIT. Returns 1 once INIT is
 * gone, else 0. */
static int watch_once(sbx_attempt *a)
{
    double now = ts_now();
    check_clock(a, now);
    struct pollfd pf[6];
    int n = 0, i_out = -1, i_err = -1, i_in = -1, i_st = -1, i_pid = -1, i_jail = -1;
    if (a->broker) { i_jail = n; pf[n++] = (struct pollfd){rt_jail_broker_fd(a->broker), POLLIN, 0}; }
    if (a->fds[2] >= 0) { i_out = n; pf[n++] = (struct pollfd){a->fds[2], POLLIN, 0}; }
    if (a->fds[4] >= 0) { i_err = n; pf[n++] = (struct pollfd){a->fds[4], POLLIN, 0}; }
    if (a->fds[1] >= 0) { i_in = n; pf[n++] = (struct pollfd){a->fds[1], POLLOUT, 0}; }
    if (a->fds[6] >= 0) { i_st = n; pf[n++] = (struct pollfd){a->fds[6], POLLIN, 0}; }
    if (a->pidfd >= 0) { i_pid = n; pf[n++] = (struct pollfd){a->pidfd, POLLIN, 0}; }
    double until = a->stopped_at < 0 ? a->deadline
                                     : (a->escalated ? now + 1.0 : a->stopped_at + 2.0);
    double ms = ceil((until - now) * 1000.0);
    if (ms < 1)
        ms = 1;
    if (a->pidfd < 0 && ms > 10)
        ms = 10;
    if ((a->cancel || a->stop) && ms > 50)
        ms = 50;
    int pr = poll(pf, (nfds_t)n, ms > 1e6 ? 1000000 : (int)ms);
    if (pr < 0 && errno != EINTR)
        attempt_stop(a, RT_SANDBOX_TIMEOUT); /* cannot watch it: stop it */
    if (pr <= 0 && a->pidfd >= 0)
        return 0;
    if (i_jail >= 0 && (pf[i_jail].revents & POLLIN))
        rt_jail_broker_accept(a->broker);
    if (i_out >= 0 && pf[i_out].revents && pump_output(&a->fds[2], &a->out, a->cap, &a->out_seen))
        attempt_stop(a, RT_SANDBOX_OUTPUT_CAP);
    if (i_err >= 0 && pf[i_err].revents && pump_output(&a->fds[4], &a->errb, a->cap, &a->err_seen))
        attempt_stop(a, RT_SANDBOX_OUTPUT_CAP);
    if (i_in >= 0 && pf[i_in].revents)
        feed_stdin(a, pf[i_in].revents);
    if (i_st >= 0 && pf[i_st].revents) {
        int had_status = a->rep.have_status;
        read_reports(&a->fds[6], &a->rep);
        /* the command is gone: without a namespace, its group goes now (no grace: a background
         * grandchild may hold the pipes open for ever) */
        if (!had_status && a->rep.have_status && !a->ns)
            attempt_stop(a, 0);
    }
    if (i_pid >= 0 && (pf[i_pid].revents & POLLIN))
        return 1;
    if (a->pidfd < 0) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)a->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0)
            return 1;
    }
    return 0;
}

/* INIT is gone; with a namespace so is every process of it, without one INIT reaped them all
 * (unless it had to be killed). Reaps INIT (not before: its pid cannot have been reused) and
 * takes what is left in the pipes. */
static void attempt_reap(sbx_attempt *a)
{
    kill(-(pid_t)a->pid, SIGKILL);
    if (a->escalated && !a->ns && a->rep.epid > 1) {
        /* INIT was killed before it reaped everything: the orphans went to the system's init;
         * kill the command's group until it is empty (bounded) */
        for (int i = 0; i < 1000 && kill(-(pid_t)a->rep.epid, SIGKILL) == 0; i++) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    while (wait4((pid_t)a->pid, &a->init_status, __WALL, &a->ru) < 0 && errno == EINTR) {
    }
    /* what is left in the pipes; every writer is dead, so this ends */
    if (a->fds[2] >= 0 && pump_output(&a->fds[2], &a->out, a->cap, &a->out_seen) && !a->killed)
        a->killed = RT_SANDBOX_OUTPUT_CAP;
    if (a->fds[4] >= 0 && pump_output(&a->fds[4], &a->errb, a->cap, &a->err_seen) && !a->killed)
        a->killed = RT_SANDBOX_OUTPUT_CAP;
    read_reports(&a->fds[6], &a->rep);
}

/* A child's setup failure that means the namespaces are unusable here (said once on stderr). */
static int namespaces_broken(const sbx_attempt *a)
{
    int step = a->rep.fail_step;
    if (!(a->rep.contained & RT_SANDBOX_C_PIDNS) ||
        (step != STEP_USERNS && step != STEP_NETNS && step != STEP_VIEW))
        return 0;
    static int told;
    if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
        fprintf(stderr, "ratchet: sandbox: %s failed (%s): running without namespaces "
                "from now on (docs/sandbox.md)\n", step_name(step), strerror(a->rep.fail_errno));
    return 1;
}

/* The outcome and its one-line reason, from what ratchet did and what the children reported. */
static void attempt_outcome(const sbx_attempt *a, rt_sandbox_result *res)
{
    const sbx_reports *rep = &a->rep;
    const sbx_prep *p = &a->p;
    res->exit_code = -1;
    if (rep->over) {
        res->outcome = rep->over;
        res->signal = SIGKILL;
        if (rep->over == RT_SANDBOX_MEMORY)
            snprintf(res->reason, sizeof res->reason,
                     "killed: its processes held %d MiB together, over the %ld MiB limit",
                     rep->over_mib, p->memory_kib >> 10);
        else
            snprintf(res->reason, sizeof res->reason,
                     "killed: it wrote %d MiB in all, over the %ld MiB limit", rep->over_mib,
                     p->disk_kib >> 10);
    } else if (a->killed == RT_SANDBOX_CANCELLED) {
        res->outcome = RT_SANDBOX_CANCELLED;
        res->signal = SIGKILL;
        snprintf(res->reason, sizeof res->reason, "cancelled: the run is stopping");
    } else if (a->killed == RT_SANDBOX_TIMEOUT) {
        res->outcome = RT_SANDBOX_TIMEOUT;
        res->signal = SIGKILL;
        snprintf(res->reason, sizeof res->reason, "killed at the %.3g s wall-clock deadline",
                 a->wall);
    } else if (a->killed == RT_SANDBOX_OUTPUT_CAP) {
        res->outcome = RT_SANDBOX_OUTPUT_CAP;
        res->signal = SIGKILL;
        snprintf(res->reason, sizeof res->reason, "killed after printing more than %zu bytes",
                 a->cap);
    } else if (rep->fail_step) {
        res->outcome = RT_SANDBOX_SPAWN_FAILED;
        snprintf(res->reason, sizeof res->reason, "%s %.120s failed: %.60s",
                 step_name(rep->fail_step), rep->fail_step == STEP_EXEC ? p->exe : "",
                 strerror(rep->fail_errno));
    } else if (!rep->have_status) {
        int st = a->init_status;
        res->outcome = RT_SANDBOX_SIGNALED;
        res->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
        snprintf(res->reason, sizeof res->reason, "the sandbox's init ended without a report (%s)",
                 WIFSIGNALED(st) ? signal_name(WTERMSIG(st)) : "exited");
    } else if (WIFEXITED(rep->status)) {
        res->outcome = RT_SANDBOX_EXITED;
        res->exit_code = WEXITSTATUS(rep->status);
        snprintf(res->reason, sizeof res->reason, "exit %d", res->exit_code);
    } else if (WIFSIGNALED(rep->status)) {
        res->signal = WTERMSIG(rep->status);
        res->outcome = RT_SANDBOX_SIGNALED;
        if (res->signal == SIGXCPU ||
            (res->signal == SIGKILL && p->set_cpu && res->cpu_seconds >= (double)p->rl_cpu.rlim_cur))
            res->outcome = RT_SANDBOX_CPU;
        snprintf(res->reason, sizeof res->reason, "%s: %s",
                 res->outcome == RT_SANDBOX_CPU ? "CPU-time limit" : "killed by a signal",
                 signal_name(res->signal));
    } else {
        res->outcome = RT_SANDBOX_SIGNALED;
        snprintf(res->reason, sizeof res->reason, "ended with wait status %d", rep->status);
    }
}

/* A failure under the memory or disk limit that the program reported itself (allocation
 * failures, a full disk) is classified as such. */
static void classify_limits(const sbx_attempt *a, rt_sandbox_result *res)
{
    const sbx_prep *p = &a->p;
    if (a->rep.over)
        return;
    int failed = (res->outcome == RT_SANDBOX_EXITED && res->exit_code != 0) ||
                 (res->outcome == RT_SANDBOX_SIGNALED &&
                  (res->signal == SIGSEGV || res->signal == SIGABRT || res->signal == SIGBUS ||
                   res->signal == SIGKILL));
    if (p->set_as && failed && looks_like_oom(a->errb.data, a->errb.len)) {
        char was[sizeof res->reason];
        memcpy(was, res->reason, sizeof was);
        res->outcome = RT_SANDBOX_MEMORY;
        snprintf(res->reason, sizeof res->reason, "out of memory under the %ld MiB limit (%.180s)",
                 (long)(p->rl_as.rlim_cur >> 20), was);
    } else if (p->disk_kib && res->outcome == RT_SANDBOX_EXITED && res->exit_code != 0 &&
               a->errb.len && memmem(a->errb.data, a->errb.len, "No space left on device", 23)) {
        res->outcome = RT_SANDBOX_DISK;
        snprintf(res->reason, sizeof res->reason,
                 "out of space under the %ld MiB disk limit (exit %d)", p->disk_kib >> 10,
                 res->exit_code);
    }
}

/* Fills res from the finished attempt. Returns 0 or RT_ENOMEM. */
static int attempt_result(sbx_attempt *a, rt_sandbox_result *res, char *err, size_t errlen)
{
    res->wall_seconds = ts_now() - a->start;
    res->cpu_seconds = (double)a->ru.ru_utime.tv_sec + (double)a->ru.ru_utime.tv_usec / 1e6 +
                       (double)a->ru.ru_stime.tv_sec + (double)a->ru.ru_stime.tv_usec / 1e6;
    res->max_rss_kib = a->ru.ru_maxrss;
    res->containment = a->rep.contained;
    res->stdout_truncated = a->out_seen > a->out.len;
    res->stderr_truncated = a->err_seen > a->errb.len;
    rt_buf_cstr(&a->out);
    rt_buf_cstr(&a->errb);
    attempt_outcome(a, res);
    classify_limits(a, res);
    res->stdout_len = a->out.len;
    res->stdout_data = rt_buf_take(&a->out);
    res->stderr_len = a->errb.len;
    res->stderr_data = rt_buf_take(&a->errb);
    if (!res->stdout_data || !res->stderr_data) {
        rt_sandbox_result_free(res);
        return rt_fail(err, errlen, RT_ENOMEM, "sandbox: out of memory");
    }
    return 0;
}

/* Releases everything the attempt holds: descriptors, the broker (ending its jails), the run's
 * folder, the lock, the buffers. */
static void attempt_cleanup(sbx_attempt *a)
{
    if (a->pidfd >= 0)
        close(a->pidfd);
    for (int i = 0; i < 8; i++)
        close_fd(&a->fds[i]);
    restore_sigpipe(a);
    rt_jail_broker_close(a->broker);
    if (a->p.base[0] && !(a->spec->flags & RT_SANDBOX_KEEP_WORKDIR))
        remove_tree(a->p.base);
    if (a->lock_fd >= 0)
        close(a->lock_fd);
    prep_free(&a->p);
    rt_buf_free(&a->out);
    rt_buf_free(&a->errb);
}

/* One attempt at the run, with namespaces unless flags say RT_SANDBOX_NO_NAMESPACES (or an
 * earlier attempt found them unusable). *ns_broken is set when the namespaces were refused, or
 * granted but could not be set up (a security module refusing the id maps, a view that cannot be
 * mounted): the caller then retries without. Returns as rt_sandbox_run. */
static int run_attempt(const rt_sandbox_spec *spec, int flags, const int *cancel, int jailed,
                       rt_sandbox_result *res, int *ns_broken, char *err, size_t errlen)
{
    *ns_broken = 0;
    sbx_attempt a;
    memset(&a, 0, sizeof a);
    a.spec = spec;
    a.flags = flags;
    a.cancel = cancel;
    a.stop = jailed ? NULL : thread_cancel;
    a.jailed = jailed;
    a.lock_fd = a.pidfd = -1;
    a.pid = -1;
    a.stopped_at = -1;
    for (int i = 0; i < 8; i++)
        a.fds[i] = -1;
    rt_buf_init(&a.out, RT_SANDBOX_MAX_OUTPUT_CAP);
    rt_buf_init(&a.errb, RT_SANDBOX_MAX_OUTPUT_CAP);
    a.wall = spec->limits.wall_seconds > 0 ? spec->limits.wall_seconds : RT_SANDBOX_DEFAULT_WALL;
    a.cap = spec->limits.output_cap ? spec->limits.output_cap : RT_SANDBOX_DEFAULT_OUTPUT_CAP;
    attempt_mode(&a);
    int rc = attempt_prepare(&a, err, errlen);
    if (rc != 0)
        goto done;
    block_sigpipe(&a);
    a.start = ts_now();
    a.deadline = a.start + a.wall;
    a.pid = start_init(&a.p);
    if (a.pid == -2) {
        *ns_broken = 1; /* the caller runs it again without namespaces */
        goto done;
    }
    if (a.pid < 0) {
        res->outcome = RT_SANDBOX_SPAWN_FAILED;
        res->exit_code = -1;
        snprintf(res->reason, sizeof res->reason, "cannot start a process: %s", strerror(errno));
        goto done;
    }
    /* the children's ends */
    close_fd(&a.fds[0]);
    close_fd(&a.fds[3]);
    close_fd(&a.fds[5]);
    close_fd(&a.fds[7]);
    a.pidfd = (int)syscall(SYS_pidfd_open, (pid_t)a.pid, 0u);
    a.ns = (a.p.mode & RT_SANDBOX_C_PIDNS) != 0;
    a.rep.contained = a.p.mode;
    if (!spec->stdin_len)
        close_fd(&a.fds[1]);
    while (!watch_once(&a)) {
    }
    attempt_reap(&a);
    *ns_broken = namespaces_broken(&a);
    rc = attempt_result(&a, res, err, errlen);
done:
    if (rc != 0)
        rt_sandbox_result_free(res);
    attempt_cleanup(&a);
    return rc;
}

/* Runs spec (checked), retrying once without namespaces when they turn out to be unusable. */
static int run_checked(const rt_sandbox_spec *spec, const int *cancel, int jailed,
                       rt_sandbox_result *res, char *err, size_t errlen)
{
    int ns_broken = 0;
    int rc = run_attempt(spec, spec->flags, cancel, jailed, res, &ns_broken, err, errlen);
    if (rc == 0 && ns_broken) {
        /* namespaces refused, or granted but unusable here: the fallback from now on */
        __atomic_store_n(&ns_unavailable, 1, __ATOMIC_RELAXED);
        rt_sandbox_result_free(res);
        rc = run_attempt(spec, spec->flags | RT_SANDBOX_NO_NAMESPACES, cancel, jailed, res,
                         &ns_broken, err, errlen);
    }
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
    if (pool_enter() != 0) {
        res->outcome = RT_SANDBOX_CANCELLED;
        res->exit_code = -1;
        snprintf(res->reason, sizeof res->reason, "cancelled before it started: the run is "
                                                  "stopping");
        thread_cancelled++;
        return 0;
    }
    rc = run_checked(spec, NULL, 0, res, err, errlen);
    pool_leave();
    if (rc == 0 && res->outcome == RT_SANDBOX_CANCELLED)
        thread_cancelled++;
    return rc;
}

int rt_sandbox_run_jail(const rt_sandbox_spec *spec, const int *cancel, rt_sandbox_result *res,
                        char *err, size_t errlen)
{
    if (!res)
        return rt_fail(err, errlen, RT_EUSAGE, "sandbox: no result");
    memset(res, 0, sizeof *res);
    int rc = check_spec(spec, err, errlen);
    if (rc != 0)
        return rc;
    /* no pool slot: the evaluator that asked holds one, and waiting here could deadlock */
    return run_checked(spec, cancel, 1, res, err, errlen);
}
