/* sandbox.h — runs one untrusted command (an evaluator, a verifier, a proposer command) to
 * completion under limits, in a fresh temporary working directory, and hands back what it printed.
 *
 * What is contained, and how (docs/sandbox.md has the details, the fallbacks and the reasons):
 * - a fresh working directory per run ($TMPDIR or /tmp), removed afterwards, whatever the child
 *   left in it;
 * - the whole process tree: the child is PID 1 of a new PID namespace where the kernel allows it
 *   (root, or unprivileged user namespaces), so its end kills every descendant, including those
 *   that called setsid(); without namespaces, its own process group, a seccomp filter that denies
 *   setsid()/setpgid() so that nothing leaves the group, and a subreaper that reaps it all;
 * - no network: an empty network namespace, else a seccomp filter denying socket() for every
 *   family but AF_UNIX (RT_SANDBOX_ALLOW_NETWORK keeps the network);
 * - files: with a mount namespace every mount is read-only except the working directory, and the
 *   files placed read-only in it are bind-mounted read-only; as root the child also runs under a
 *   uid of its own (never 0, only CAP_DAC_READ_SEARCH kept), so it cannot write the program,
 *   evaluator or verifier;
 * - rlimits: CPU seconds, address space, file size, open files, processes (per-run uid as root,
 *   so the process count is the run's own);
 * - a wall-clock deadline (CLOCK_MONOTONIC) after which the whole tree is SIGKILLed;
 * - stdout and stderr each captured up to output_cap bytes; passing the cap kills the tree;
 * - descriptors: every pipe is pipe2(O_CLOEXEC), the child closes everything above 2 with
 *   close_range before exec;
 * - never blocked by a stray grandchild holding a pipe: reading stops when the run's tree is gone.
 * result->containment says which of these mechanisms were in force for that run.
 *
 * Threads: rt_sandbox_run may be called from any number of threads at once. Everything the child
 * needs is prepared before the (raw) clone; after it the child makes only async-signal-safe system
 * calls. At most rt_sandbox_jobs() runs are in flight at once (a process-wide counting semaphore;
 * default: the number of online CPUs); further callers wait their turn. The engine's worker
 * threads can simply call rt_sandbox_run; --jobs N maps to rt_sandbox_set_jobs(N). No other thread
 * of the process may call waitpid(-1) / wait() (it could reap a run's first process). SIGPIPE is
 * blocked in the calling thread during a run (writes to a closed stdin fail with EPIPE instead).
 *
 * Ownership: the spec and everything it points to stay the caller's. The result owns its stdout
 * and stderr buffers; release them with rt_sandbox_result_free (safe on a zeroed or freed result).
 */
#ifndef RT_SANDBOX_H
#define RT_SANDBOX_H

#include <stddef.h>

/* Limits of one run. A field left 0 takes the default in brackets; a negative value means "no
 * limit" (not allowed for wall_seconds and output_cap). */
typedef struct rt_sandbox_limits {
    double wall_seconds; /* [10] wall-clock deadline; the whole tree is killed at it */
    double cpu_seconds;  /* [wall_seconds] RLIMIT_CPU, soft; hard one second above */
    long memory_mib;     /* [2048] RLIMIT_AS of each process */
    long file_mib;       /* [256] RLIMIT_FSIZE: the largest file the child may write */
    long open_files;     /* [256] RLIMIT_NOFILE */
    long processes;      /* [256] RLIMIT_NPROC: processes (threads included) of the run */
    size_t output_cap;   /* [1 MiB] bytes kept of stdout and of stderr, each; more kills the run */
    long disk_mib;       /* [512] everything the run may write, together: the working directory,
                          * /tmp and /dev/shm (one tmpfs of this size with namespaces; polled and
                          * killed at without) */
} rt_sandbox_limits;

#define RT_SANDBOX_DEFAULT_WALL 10.0
#define RT_SANDBOX_DEFAULT_MEMORY_MIB 2048L
#define RT_SANDBOX_DEFAULT_FILE_MIB 256L
#define RT_SANDBOX_DEFAULT_DISK_MIB 512L
#define RT_SANDBOX_DEFAULT_OPEN_FILES 256L
#define RT_SANDBOX_DEFAULT_PROCESSES 256L
#define RT_SANDBOX_DEFAULT_OUTPUT_CAP ((size_t)1 << 20)
#define RT_SANDBOX_MAX_OUTPUT_CAP ((size_t)256 << 20) /* largest output_cap accepted */
#define RT_SANDBOX_MAX_FILES 64     /* files placed in the working directory */
#define RT_SANDBOX_MAX_ARGS 256     /* argv entries */
#define RT_SANDBOX_MAX_ENV 128      /* extra environment entries */
#define RT_SANDBOX_MAX_VISIBLE 32   /* host paths made visible */
#define RT_SANDBOX_MAX_HIDDEN 16    /* paths registered with rt_sandbox_hide */

/* A file placed in the fresh working directory before the child starts: a copy of src, or the
 * bytes data[0..len) when src is NULL. name is a plain file name (no '/', not "." or ".."). */
typedef struct rt_sandbox_file {
    const char *name;
    const char *src;  /* path to copy from, or NULL */
    const char *data; /* used when src is NULL */
    size_t len;
    int writable;     /* 0: read-only to the child (it can neither write, replace nor remove it) */
    int executable;   /* 1: mode r-x */
} rt_sandbox_file;

enum {
    RT_SANDBOX_NO_NAMESPACES = 1 << 0, /* use the fallback (process group + seccomp) only; tests */
    RT_SANDBOX_KEEP_WORKDIR = 1 << 1,  /* do not remove the working directory (debugging) */
    RT_SANDBOX_ALLOW_NETWORK = 1 << 2  /* keep the caller's network (for a proposer command that
                                        * calls a model's API); all else is still contained */
};

/* What to run. argv[0] is resolved before the child starts: a name without '/' is a placed file
 * of that name if there is one, else searched in $PATH; a path with '/' is taken relative to the
 * caller's working directory. The other arguments are passed as given; the child's working
 * directory is the fresh one, so a placed file is named by its plain name.
 * Environment of the child: PATH (the caller's, else /usr/local/bin:/usr/bin:/bin), HOME and
 * TMPDIR set to the working directory, LANG=C.UTF-8, then env (KEY=VALUE strings). */
typedef struct rt_sandbox_spec {
    const char *const *argv; /* NULL-terminated, at least argv[0] */
    const char *const *env;  /* NULL-terminated extra KEY=VALUE entries, or NULL */
    const rt_sandbox_file *files;
    size_t nfiles;
    const char *stdin_data;  /* bytes written to the child's stdin (then closed); NULL: empty */
    size_t stdin_len;
    rt_sandbox_limits limits;
    int flags;               /* RT_SANDBOX_* flags above */
    const char *const *visible; /* NULL-terminated host paths (files or folders) the run may read
                                 * (never write), at their own paths; or NULL. The folder of an
                                 * argv[0] given as a path is always visible. */
} rt_sandbox_spec;

typedef enum rt_sandbox_outcome {
    RT_SANDBOX_EXITED = 0,   /* exited by itself; see exit_code */
    RT_SANDBOX_SIGNALED,     /* killed by a signal it got (not by ratchet); see signal */
    RT_SANDBOX_TIMEOUT,      /* passed the wall-clock deadline; the tree was killed */
    RT_SANDBOX_CPU,          /* passed the CPU-time limit */
    RT_SANDBOX_OUTPUT_CAP,   /* printed more than output_cap bytes; the tree was killed */
    RT_SANDBOX_MEMORY,       /* failed for lack of memory under memory_mib (status and stderr), or
                              * its processes together held more than memory_mib: the tree was
                              * killed */
    RT_SANDBOX_SPAWN_FAILED, /* could not be started (exec failed, setup failed); see reason */
    RT_SANDBOX_DISK,         /* wrote more than disk_mib in all (the tree was killed) */
    RT_SANDBOX_CANCELLED     /* the calling thread's cancel flag was raised (the run is stopping):
                              * never started, or the tree was killed; says nothing of the
                              * command (rt_sandbox_cancel_scope) */
} rt_sandbox_outcome;

/* Containment actually in force for a run (bits of result->containment). */
enum {
    RT_SANDBOX_C_PIDNS = 1 << 0,   /* PID namespace: the whole tree dies with the child */
    RT_SANDBOX_C_NETNS = 1 << 1,   /* network namespace: no network */
    RT_SANDBOX_C_USERNS = 1 << 2,  /* user namespace (unprivileged caller) */
    RT_SANDBOX_C_ROFS = 1 << 3,    /* every mount read-only but the working directory */
    RT_SANDBOX_C_UID = 1 << 4,     /* ran under a uid of its own (caller was root) */
    RT_SANDBOX_C_SECCOMP = 1 << 5, /* the seccomp policy (docs/sandbox.md): no ptrace, no
                                    * namespaces, no mounts, no TIOCSTI, no sockets but AF_UNIX... */
    RT_SANDBOX_C_PGROUP = 1 << 6,  /* own session and process group, killed as a group */
    RT_SANDBOX_C_VIEW = 1 << 7,    /* a root of its own: system folders, the visible paths and the
                                    * working directory only (no /home, /root, /tmp, /run...) */
    RT_SANDBOX_C_LANDLOCK = 1 << 8,/* Landlock: reads only in the view, writes only in the
                                    * working directory, no ptrace or signal out of the run */
    RT_SANDBOX_C_TOTALS = 1 << 9   /* memory and disk bounded across the whole tree */
};

typedef struct rt_sandbox_result {
    rt_sandbox_outcome outcome;
    int exit_code;        /* RT_SANDBOX_EXITED: the exit status (0..255); else -1 */
    int signal;           /* the terminating signal when there was one (also SIGKILL after a
                           * timeout or the output cap); else 0 */
    double wall_seconds;  /* from start to the end of the tree */
    double cpu_seconds;   /* user + system CPU of the child and its reaped descendants */
    long max_rss_kib;     /* largest resident set of the child or a descendant */
    char *stdout_data;    /* NUL-terminated, at most output_cap bytes; owned by the result */
    size_t stdout_len;
    char *stderr_data;
    size_t stderr_len;
    int stdout_truncated; /* 1 when more was printed than was kept */
    int stderr_truncated;
    unsigned containment; /* RT_SANDBOX_C_* bits */
    char reason[256];     /* one line: what happened ("exit 0", "killed at the 2 s deadline") */
} rt_sandbox_result;

/* Runs spec to completion (or to a limit) and fills *res. Returns 0 whenever *res describes the
 * run, whatever the outcome (a command that cannot be executed is outcome SPAWN_FAILED, return 0);
 * returns RT_EUSAGE for a malformed spec (err says what), RT_EIO when the working directory cannot
 * be made or the placed files cannot be copied, RT_ENOMEM. On failure *res is zeroed (no buffers to
 * free). Waits for a free slot of the pool first. */
int rt_sandbox_run(const rt_sandbox_spec *spec, rt_sandbox_result *res, char *err, size_t errlen);

/* Releases the result's buffers and zeroes it. NULL is a no-op. */
void rt_sandbox_result_free(rt_sandbox_result *res);

/* The pool: at most n runs at once (n >= 1; n <= 0 restores the default, the number of online
 * CPUs). Takes effect for runs that start afterwards. */
void rt_sandbox_set_jobs(int n);
int rt_sandbox_jobs(void);

/* Cancellation, per thread: while *flag (read without a lock; set it from anywhere, a signal
 * handler included) is non-zero, every rt_sandbox_run of the calling thread ends at once: one
 * waiting for a pool slot or about to start returns without starting, a running one has its
 * tree killed within 50 ms; either way with outcome RT_SANDBOX_CANCELLED. flag NULL ends the
 * scope. Setting a scope also zeroes the thread's count of cancelled runs. The engine's job
 * slots set the run's stop flag as their scope (docs/scheduling.md). */
void rt_sandbox_cancel_scope(const volatile int *flag);
/* How many runs of the calling thread ended RT_SANDBOX_CANCELLED since its scope was set. */
int rt_sandbox_cancelled(void);

/* Hides path (a file or folder, for example a store and its -wal and -shm files) from every
 * later run of this process, even when it lies inside a visible folder. At most
 * RT_SANDBOX_MAX_HIDDEN paths; returns 0, RT_ETOOBIG past that, RT_EUSAGE for a relative path. */
int rt_sandbox_hide(const char *path);

/* The jail (docs/sandbox.md, "The jail"): an evaluator or verifier runs the candidate with
 *     $RATCHET_JAIL [--file NAME]... [--wall SECONDS] -- COMMAND ARGS...
 * and ratchet runs COMMAND in a sandbox of its own, beside the evaluator's (never inside it): its
 * own uid (root) or Landlock domain, PID namespace and root, with only the named files of the
 * evaluator's working directory copied in, under the evaluator's limits and deadline. Its stdout,
 * stderr and exit status come back to the caller. rt_sandbox_set_jail_helper names the program
 * that serves as $RATCHET_JAIL (the ratchet tool, which acts as the jail client when called as
 * ratchet-jail); NULL (the default) offers no jail. Returns 0, or RT_EUSAGE when path is not an
 * executable file. */
int rt_sandbox_set_jail_helper(const char *path);

/* Names of an outcome ("exited", "timeout", ...) and of containment bits ("pidns,netns,rofs,uid")
 * into buf; both return their first argument's text / buf. */
const char *rt_sandbox_outcome_name(rt_sandbox_outcome o);
const char *rt_sandbox_containment_str(unsigned containment, char *buf, size_t len);

#endif
