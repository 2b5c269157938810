/* surface.c — finding 6: kernel surface a candidate does not need (new user and mount
 * namespaces, netlink, ptrace, keyrings, bpf).
 *
 * usage: surface
 * Tries each call in a child process of its own (so that one success does not help the next)
 * and prints "PROBE NAME: SUCCEEDED (what it got)" or "PROBE NAME: refused (...)", then
 * "succeeded: N".
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Each probe returns 0 when the call succeeded, else the errno. */
static int p_unshare_user(void) { return unshare(CLONE_NEWUSER) == 0 ? 0 : errno; }
static int p_unshare_user_ns(void) { return unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 0 : errno; }
static int p_unshare_ns(void) { return unshare(CLONE_NEWNS) == 0 ? 0 : errno; }

static int p_clone_user(void)
{
    long pid = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, NULL);
    if (pid < 0)
        return errno;
    if (pid == 0)
        _exit(0);
    int st;
    waitpid((pid_t)pid, &st, 0);
    return 0;
}

/* A netlink route socket, and a link dump through it: the effect is the answer. */
static int p_netlink(void)
{
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0)
        return errno;
    struct {
        struct nlmsghdr nh;
        struct rtgenmsg g;
    } req;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = sizeof req;
    req.nh.nlmsg_type = RTM_GETLINK;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.g.rtgen_family = AF_UNSPEC;
    char buf[8192];
    ssize_t n = -1;
    if (send(s, &req, sizeof req, 0) == (ssize_t)sizeof req)
        n = recv(s, buf, sizeof buf, MSG_DONTWAIT);
    fprintf(stderr, "surface: netlink socket open; link dump answer %zd bytes\n", n);
    close(s);
    return 0;
}

static int p_traceme(void) { return ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 0 : errno; }

static int p_keyctl(void)
{
    long id = syscall(SYS_add_key, "user", "rt-attack", "x", (size_t)1, KEY_SPEC_PROCESS_KEYRING);
    if (id < 0)
        return errno;
    return 0;
}

static int p_bpf(void)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
    if (fd < 0)
        return errno;
    close((int)fd);
    return 0;
}

int main(void)
{
    static const struct {
        const char *name;
        int (*probe)(void);
    } probes[] = {
        {"unshare(CLONE_NEWUSER)", p_unshare_user},
        {"unshare(CLONE_NEWUSER|CLONE_NEWNS)", p_unshare_user_ns},
        {"unshare(CLONE_NEWNS)", p_unshare_ns},
        {"clone(CLONE_NEWUSER)", p_clone_user},
        {"socket(AF_NETLINK, NETLINK_ROUTE)", p_netlink},
        {"ptrace(PTRACE_TRACEME)", p_traceme},
        {"keyctl add_key", p_keyctl},
        {"bpf(BPF_MAP_CREATE)", p_bpf},
    };
    int succeeded = 0;
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            _exit(probes[i].probe() & 0xff);
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid) {
            printf("PROBE %s: not run (fork: %s)\n", probes[i].name, strerror(errno));
            continue;
        }
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            printf("PROBE %s: SUCCEEDED\n", probes[i].name);
            succeeded++;
        } else if (WIFEXITED(st)) {
            printf("PROBE %s: refused (%s)\n", probes[i].name, strerror(WEXITSTATUS(st)));
        } else {
            printf("PROBE %s: refused (killed by signal %d)\n", probes[i].name, WTERMSIG(st));
        }
    }
    printf("succeeded: %d\n", succeeded);
    return 0;
}
