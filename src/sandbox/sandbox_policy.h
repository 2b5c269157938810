/* sandbox_policy.h — the kernel-side policy of a sandboxed run (docs/sandbox.md, "The policy"):
 * the seccomp program every process of a run lives under, and its Landlock ruleset.
 *
 * The seccomp programs are built by libseccomp in the caller's process (it allocates) and kept in
 * static storage; the run's command installs one with a raw prctl after no_new_privs. The Landlock
 * ruleset is made in the run's first process (after its mounts, so that the rules name the paths
 * the run will see) from path lists prepared before the clone; only system calls, no allocation.
 */
#ifndef RT_SANDBOX_POLICY_H
#define RT_SANDBOX_POLICY_H

#include <linux/filter.h>
#include <stddef.h>

/* The seccomp program for a run. fallback: the run has no namespaces (then setsid, setpgid and
 * Unix sockets other than SOCK_SEQPACKET are refused too); allow_net: sockets of any family.
 * Returns the program (static storage, valid for the life of the process) and sets *len, or
 * returns NULL when libseccomp could not build it. Thread-safe; built once per variant. */
const struct sock_filter *sbx_seccomp_program(int fallback, int allow_net, unsigned short *len);

/* The Landlock ABI version of the running kernel (0: Landlock unavailable). Cached. */
int sbx_landlock_abi(void);

/* What a run may do with a path (bits). */
enum {
    SBX_LL_READ = 1,  /* read files, list folders, execute */
    SBX_LL_WRITE = 2, /* and create, write, remove, rename beneath */
    SBX_LL_DEV = 4    /* write an existing file (a device such as /dev/null) */
};

typedef struct sbx_landlock_rule {
    const char *path;
    int access; /* SBX_LL_* */
} sbx_landlock_rule;

/* Makes a ruleset granting rules[0..n) and nothing else of the file system (paths that do not
 * exist are skipped); also, where the kernel can, no TCP unless allow_net, and no abstract Unix
 * socket or signal reaching outside the run. Async-signal-safe. Returns the ruleset's
 * descriptor (close-on-exec) or -1 with errno. */
int sbx_landlock_make(int abi, const sbx_landlock_rule *rules, size_t n, int allow_net);

/* Restricts the calling process (after no_new_privs) with the ruleset fd. Returns 0 or -1. */
int sbx_landlock_apply(int fd);

#endif
