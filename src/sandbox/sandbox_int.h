/* sandbox_int.h — what the sandbox's caller side (sandbox.c) hands its children (sandbox_child.c):
 * everything a run's first process (INIT) and its command (EXEC) need, prepared before the clone,
 * and the messages they send back on the status pipe. Private to the sandbox. */
#ifndef RT_SANDBOX_INT_H
#define RT_SANDBOX_INT_H

#include <limits.h>
#include <linux/filter.h>
#include <stddef.h>
#include <sys/resource.h>

#include "sandbox/sandbox.h"
#include "sandbox/sandbox_policy.h"

#define SBX_STATUS_FD 3 /* the status pipe's number in the children */
#define SBX_MAX_RULES 512 /* a visible folder that holds a hidden path counts its entries */

/* Steps a child reports a failure of (message MSG_FAIL). */
enum {
    STEP_FDS = 1, STEP_SESSION, STEP_USERNS, STEP_CLONE, STEP_RLIMIT, STEP_IDS, STEP_CAPS,
    STEP_NNP, STEP_SECCOMP, STEP_CHDIR, STEP_EXEC, STEP_NETNS, STEP_VIEW, STEP_LANDLOCK
};

/* One message on the status pipe; small enough to be written atomically. */
enum { MSG_FAIL = 1, MSG_CONTAIN = 2, MSG_STATUS = 3, MSG_PID = 4, MSG_OVER = 5 };
typedef struct sbx_msg {
    int kind;
    int a; /* FAIL: step; CONTAIN: bits; STATUS: wait status; PID: pid; OVER: RT_SANDBOX_MEMORY
            * or RT_SANDBOX_DISK */
    int b; /* FAIL: errno; OVER: MiB in use when the tree was killed */
} sbx_msg;

typedef struct sbx_prep {
    unsigned mode;          /* RT_SANDBOX_C_* the children try to set up */
    char base[PATH_MAX];    /* the run's own folder on the caller's side */
    char workdir[PATH_MAX]; /* base/work: the working directory (same path inside the view) */
    char root[PATH_MAX];    /* base/root: where the view is assembled */
    char exe[PATH_MAX];
    char **argv;
    char **envp;
    char **names;           /* the placed files' names */
    unsigned char *placed_mode; /* their modes' low bits: 1 writable, 2 executable */
    size_t nfiles;
    char **visible;         /* host paths shown read-only at their own paths (real paths) */
    unsigned char *visible_dir;
    size_t nvisible;
    char **hidden;          /* paths covered inside the view */
    size_t nhidden;
    char jail_helper[PATH_MAX]; /* the jail client program, or "" */
    char jail_socket[PATH_MAX]; /* base/ctl/jail.sock, or "" */
    sbx_landlock_rule *rules; /* SBX_MAX_RULES of them */
    char **rule_paths;        /* the rules' paths that the caller's side made (freed with p) */
    size_t nrule_paths;
    size_t nrules;
    int landlock_abi;
    char uid_map[64], gid_map[64];
    unsigned run_id;        /* the run's uid and gid when the caller is root */
    struct rlimit rl_cpu, rl_as, rl_fsize, rl_nofile, rl_nproc;
    int set_cpu, set_as, set_fsize, set_nofile, set_nproc;
    const struct sock_filter *filter; /* the seccomp program (static storage), or NULL */
    unsigned short filter_len;
    int allow_net;
    int fd_in, fd_out, fd_err, fd_status; /* the children's ends */
    int fd_netns;           /* the shared empty network namespace to join, or -1 */
    char scratch_opts[96];  /* mount options of the view's writable tmpfs */
    long memory_kib;        /* total resident memory of the tree, 0: none */
    long disk_kib;          /* total written (polled without a view), 0: none */
    long page_kib;
    int root_stays;         /* the caller is root and the run keeps uid 0: drop every capability */
    unsigned long arg_start, arg_end; /* the caller's command line, blanked in INIT */
} sbx_prep;

/* The run's first process: PID 1 of its namespaces (or the fallback's subreaper). Never returns;
 * async-signal-safe code only. */
__attribute__((noreturn)) void sbx_child_init(const sbx_prep *p);

/* The raw clone both sides use (no atfork handlers, no malloc lock). */
long sbx_raw_clone(unsigned long flags);

#endif
