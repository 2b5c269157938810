/* test_sandbox.c — containment tests of the sandbox (src/sandbox.h): each test makes the child do
 * something a hostile or broken evaluation does (spin, fork without end, eat memory, flood its
 * output, leave a setsid() grandchild behind, connect to the network, write outside its folder or
 * over the evaluator) and fails when the sandbox lets it. After every run, /proc is scanned for a
 * marker placed in the child's environment: no process of the run may be left alive.
 *
 * The escape tests run twice: with namespaces (the normal path) and with RT_SANDBOX_NO_NAMESPACES
 * (the process-group + seccomp fallback), so both paths are held to the same containment.
 * Controls (a plain connect outside the sandbox succeeds, writes inside the working directory
 * succeed) show that each test can fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "testutil.h"
#include "util.h"

static char g_dir[256];   /* the test's own scratch folder */
static unsigned g_serial; /* makes each marker unique */
static const char *const *g_visible; /* paths run_sh shows the run, or NULL */

/* ---- helpers ---------------------------------------------------------------------------- */

/* Number of live processes whose environment holds marker. */
static int count_marked(const char *marker)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    int found = 0;
    size_t mlen = strlen(marker);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/environ", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        static char buf[1 << 16];
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n > 0 && memmem(buf, (size_t)n, marker, mlen))
            found++;
    }
    closedir(d);
    return found;
}

/* Runs `sh -c script` in the sandbox with a fresh marker in its environment, checks that no
 * process holding the marker outlives the run, and returns the result (caller frees). */
static void run_sh(const char *script, const rt_sandbox_limits *limits, int flags,
                   const rt_sandbox_file *files, size_t nfiles, rt_sandbox_result *res)
{
    char marker[64];
    snprintf(marker, sizeof marker, "RT_SBX_MARK=%ld-%u", (long)getpid(), ++g_serial);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    const char *env[] = {marker, NULL};
    rt_sandbox_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = argv;
    spec.env = env;
    spec.files = files;
    spec.nfiles = nfiles;
    spec.flags = flags;
    spec.visible = g_visible;
    if (limits)
        spec.limits = *limits;
    char err[256] = "";
    int rc = rt_sandbox_run(&spec, res, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "rt_sandbox_run: %s\n", err);
    assert_int_equal(rc, 0);
    char c[128];
    fprintf(stderr, "  [%s] %s: %s in %.2f s (cpu %.2f s, containment %s)\n",
            flags & RT_SANDBOX_NO_NAMESPACES ? "fallback" : "namespaces",
            rt_sandbox_outcome_name(res->outcome), res->reason, res->wall_seconds,
            res->cpu_seconds, rt_sandbox_containment_str(res->containment, c, sizeof c));
    int left = count_marked(marker);
    if (left != 0)
        fprintf(stderr, "%d process(es) of the run still alive\n", left);
    assert_int_equal(left, 0);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_basic(void **state)
{
    (void)state;
    rt_sandbox_file f = {"input.txt", NULL, "42\n", 3, 0, 0};
    const char *argv[] = {"/bin/sh", "-c", "read x; cat input.txt; echo \"got $x\"; echo err >&2; "
                          "echo inside > made.txt && cat made.txt; exit 3", NULL};
    rt_sandbox_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = argv;
    spec.files = &f;
    spec.nfiles = 1;
    spec.stdin_data = "hello\n";
    spec.stdin_len = 6;
    rt_sandbox_result r;
    char err[256];
    assert_int_equal(rt_sandbox_run(&spec, &r, err, sizeof err), 0);
    assert_int_equal(r.outcome, RT_SANDBOX_EXITED);
    assert_int_equal(r.exit_code, 3);
    assert_string_equal(r.stdout_data, "42\ngot hello\ninside\n");
    assert_string_equal(r.stderr_data, "err\n");
    if (geteuid() == 0) {
        /* real root (as in CI) gets everything; root of a user namespace (a rootless container)
         * has no other uid to hand the run */
        unsigned want = RT_SANDBOX_C_PIDNS | RT_SANDBOX_C_NETNS | RT_SANDBOX_C_ROFS;
        size_t len = 0;
        char *map = tu_slurp("/proc/self/uid_map", &len);
        if (map && strstr(map, "4294967295"))
            want |= RT_SANDBOX_C_UID;
        free(map);
        assert_true((r.containment & want) == want);
    }
    rt_sandbox_result_free(&r);
    rt_sandbox_result_free(&r); /* twice is harmless */
}

/* Big input and output pass whole; a command that does not read its input does not hang. */
static void test_big_io(void **state)
{
    (void)state;
    size_t n = (size_t)3 << 20;
    char *in = malloc(n);
    assert_non_null(in);
    for (size_t i = 0; i < n; i++)
        in[i] = (char)('a' + i % 26);
    const char *wc[] = {"/bin/sh", "-c", "wc -c; head -c 900000 /dev/zero | tr '\\0' x", NULL};
    rt_sandbox_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = wc;
    spec.stdin_data = in;
    spec.stdin_len = n;
    rt_sandbox_result r;
    char err[256];
    assert_int_equal(rt_sandbox_run(&spec, &r, err, sizeof err), 0);
    assert_int_equal(r.outcome, RT_SANDBOX_EXITED);
    assert_int_equal(r.stdout_len, 8 + 900000);
    assert_memory_equal(r.stdout_data, "3145728\n", 8);
    assert_false(r.stdout_truncated);
    rt_sandbox_result_free(&r);
    const char *skip[] = {"/bin/sh", "-c", "echo ignored the input", NULL};
    spec.argv = skip;
    spec.limits.wall_seconds = 5;
    assert_int_equal(rt_sandbox_run(&spec, &r, err, sizeof err), 0);
    assert_int_equal(r.outcome, RT_SANDBOX_EXITED);
    assert_string_equal(r.stdout_data, "ignored the input\n");
    assert_true(r.wall_seconds < 2.0);
    rt_sandbox_result_free(&r);
    free(in);
}

/* The working directory is fresh, the child's own, and gone afterwards. */
static void test_workdir(void **state)
{
    (void)state;
    rt_sandbox_result r;
    run_sh("pwd; ls -A | wc -l; touch left-behind", NULL, 0, NULL, 0, &r);
    assert_int_equal(r.outcome, RT_SANDBOX_EXITED);
    assert_int_equal(r.exit_code, 0);
    char *nl = strchr(r.stdout_data, '\n');
    assert_non_null(nl);
    *nl = '\0';
    assert_non_null(strstr(r.stdout_data, "ratchet-sbx-"));
    assert_string_equal(nl + 1, "0\n");
    struct stat st;
    assert_int_not_equal(stat(r.stdout_data, &st), 0); /* removed */
    rt_sandbox_result_free(&r);
}

/* What the run leaves in its folder, however nested or locked, is removed. */
static void test_workdir_cleanup(void **state)
{
    (void)state;
    rt_sandbox_result r;
    run_sh("pwd; i=0; while [ $i -lt 150 ]; do mkdir d && cd d || exit 1; i=$((i+1)); done; "
           "echo x > f; ln -s / root-link; mkdir -p " "locked/in && touch locked/in/f && chmod 000 locked/in locked",
           NULL, 0, NULL, 0, &r);
    assert_int_equal(r.outcome, RT_SANDBOX_EXITED);
    assert_int_equal(r.exit_code, 0);
    char *nl = strchr(r.stdout_data, '\n');
    assert_non_null(nl);
    *nl = '\0';
    struct stat st;
    assert_int_not_equal(stat(r.stdout_data, &st), 0);
    assert_int_equal(stat("/bin/sh", &st), 0); /* the symlink to / was not followed */
    rt_sandbox_result_free(&r);
}

static void test_spawn_failure(void **state)
{
    (void)state;
    const char *argv[] = {"/nonexistent/evaluator", NULL};
    rt_sandbox_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = argv;
    rt_sandbox_result r;
    char err[256];
    assert_int_equal(rt_sandbox_run(&spec, &r, err, sizeof err), 0);
    assert_int_equal(r.outcome, RT_SANDBOX_SPAWN_FAILED);
    assert_non_null(strstr(r.reason, "No such file"));
    rt_sandbox_result_free(&r);
    /* a malformed spec is the caller's error */
    const char *noargv[] = {NULL};
    spec.argv = noargv;
    assert_int_equal(rt_sandbox_run(&spec, &r, err, sizeof err), RT_EUSAGE);
    rt_sandbox_file bad = {"../x", NULL, "", 0, 0, 0};
    spec.argv = argv;
    spec.files = &bad;
    spec.nfiles = 1;
    assert_int_equal(rt_sandbox_run(&spec, &r, err, sizeof err), RT_EUSAGE);
}

static void test_infinite_loop(void **state)
{
    (void)state;
    rt_sandbox_limits l = {.wall_seconds = 1.0, .cpu_seconds = 30};
    rt_sandbox_result r;
    double t0 = tu_now();
    run_sh("while :; do :; done", &l, 0, NULL, 0, &r);
    assert_int_equal(r.outcome, RT_SANDBOX_TIMEOUT);
    assert_true(tu_now() - t0 < 3.0);
    rt_sandbox_result_free(&r);
    /* the CPU limit, when it comes first */
    /* (the wall limit is generous: on a loaded machine one CPU second takes several) */
    rt_sandbox_limits c = {.wall_seconds = 20.0, .cpu_seconds = 1};
    run_sh("while :; do :; done", &c, 0, NULL, 0, &r);
    assert_int_equal(r.outcome, RT_SANDBOX_CPU);
    assert_true(r.cpu_seconds >= 0.5 && r.cpu_seconds < 3.0);
    rt_sandbox_result_free(&r);
}

static void fork_bomb(int flags)
{
    rt_sandbox_limits l = {.wall_seconds = 1.5, .processes = 32};
    rt_sandbox_result r;
    double t0 = tu_now();
    /* every process keeps forking and ignores failures, so the bomb never dies out by itself */
    run_sh("exec 2>/dev/null; exec bash -c 'b() { while :; do b & done; }; b'", &l, flags, NULL, 0,
           &r);
    assert_true(r.outcome == RT_SANDBOX_TIMEOUT ||
                (r.outcome == RT_SANDBOX_EXITED && r.exit_code != 0));
    assert_true(tu_now() - t0 < 6.0);
    rt_sandbox_result_free(&r);
}

static void test_fork_bomb(void **state)
{
    (void)state;
    fork_bomb(0);
}

static void test_fork_bomb_fallback(void **state)
{
    (void)state;
    fork_bomb(RT_SANDBOX_NO_NAMESPACES);
}

static void test_memory_hog(void **state)
{
    (void)state;
    rt_sandbox_limits l = {.wall_seconds = 10, .memory_mib = 128};
    rt_sandbox_result r;
    run_sh("awk 'BEGIN { s = \"x\"; while (1) s = s s }'", &l, 0, NULL, 0, &r);
    assert_int_equal(r.outcome, RT_SANDBOX_MEMORY);
    assert_true(r.wall_seconds < 8.0);
    assert_true(r.max_rss_kib < 128 * 1024);
    rt_sandbox_result_free(&r);
}

static void test_output_flood(void **state)
{
    (void)state;
    rt_sandbox_limits l = {.wall_seconds = 10, .output_cap = 65536};
    rt_sandbox_result r;
    run_sh("yes flood", &l, 0, NULL, 0, &r);
    assert_int_equal(r.outcome, RT_SANDBOX_OUTPUT_CAP);
    assert_int_equal(r.stdout_len, 65536);
    assert_int_equal(strlen(r.stdout_data), 65536);
    assert_true(r.stdout_truncated);
    assert_true(r.wall_seconds < 5.0);
    rt_sandbox_result_free(&r);
    /* the cap on stderr too */
    run_sh("yes flood >&2", &l, 0, NULL, 0, &r);
    assert_int_equal(r.outcome, RT_SANDBOX_OUTPUT_CAP);
    assert_int_equal(r.stderr_len, 65536);
    rt_sandbox_result_free(&r);
}

/* The direct child exits at once, leaving a grandchild that made its own session and keeps the
 * output pipe open: the run must end at once, and the grandchild must die. */
static void setsid_grandchild(int flags)
{
    rt_sandbox_limits l = {.wall_seconds = 20};
    rt_sandbox_result r;
    run_sh("setsid sh -c 'sleep 30; echo late' & sleep 0.2; echo parent-done", &l, flags, NULL, 0, &r);
    assert_int_equal(r.outcome, RT_SANDBOX_EXITED);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(r.stdout_data, "parent-done\n");
    assert_true(r.wall_seconds < 3.0);
    rt_sandbox_result_free(&r);
}

static void test_setsid_grandchild(void **state)
{
    (void)state;
    setsid_grandchild(0);
}

static void test_setsid_grandchild_fallback(void **state)
{
    (void)state;
    setsid_grandchild(RT_SANDBOX_NO_NAMESPACES);
}

/* A loopback port the test listens on; the script tries to connect with bash's /dev/tcp. */
static void network(int flags)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(ls >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 4), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
    char script[256];
    snprintf(script, sizeof script,
             "bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d && echo connected'", ntohs(a.sin_port));

    /* control: outside the sandbox the same command connects */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "%s >/dev/null 2>&1", script);
    assert_int_equal(system(cmd), 0);
    int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    assert_true(c >= 0);
    close(c);

    rt_sandbox_limits l = {.wall_seconds = 5};
    rt_sandbox_result r;
    run_sh(script, &l, flags, NULL, 0, &r);
    assert_null(strstr(r.stdout_data, "connected"));
    assert_false(r.outcome == RT_SANDBOX_EXITED && r.exit_code == 0);
    c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    assert_true(c < 0); /* nothing reached the port */
    rt_sandbox_result_free(&r);

    /* RT_SANDBOX_ALLOW_NETWORK keeps the network (a proposer command calling a model) */
    run_sh(script, &l, flags | RT_SANDBOX_ALLOW_NETWORK, NULL, 0, &r);
    assert_string_equal(r.stdout_data, "connected\n");
    c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    assert_true(c >= 0);
    close(c);
    rt_sandbox_result_free(&r);
    close(ls);
}

static void test_network(void **state)
{
    (void)state;
    network(0);
}

static void test_network_fallback(void **state)
{
    (void)state;
    network(RT_SANDBOX_NO_NAMESPACES);
}

/* The child tries to write next to its folder, over the evaluator, over a read-only placed file,
 * and to remove it; all must fail while writing inside the folder works. */
static void writes(int flags)
{
    char evaluator[300], outside[300], script[4096];
    snprintf(evaluator, sizeof evaluator, "%s/evaluate", g_dir);
    snprintf(outside, sizeof outside, "%s/outside", g_dir);
    FILE *f = fopen(evaluator, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\necho '{\"score\": 1}'\n", f);
    fclose(f);
    chmod(evaluator, 0755);
    unlink(outside);
    rt_sandbox_file placed = {"program.c", NULL, "int main(void){return 0;}\n", 26, 0, 0};
    snprintf(script, sizeof script,
             "echo hacked > %s; echo hacked >> %s; chmod 777 %s; mv %s %s.old; "
             "echo hacked > program.c; rm -f program.c; mv program.c p2.c; chmod 666 program.c; "
             "echo x > ../ratchet-escape-%ld; "
             "echo fine > mine.txt && cat mine.txt; %s",
             outside, evaluator, evaluator, evaluator, evaluator, (long)getpid(), evaluator);
    rt_sandbox_limits l = {.wall_seconds = 5};
    rt_sandbox_result r;
    const char *const visible[] = {g_dir, NULL};
    g_visible = visible;
    run_sh(script, &l, flags, &placed, 1, &r);
    g_visible = NULL;
    if (!(r.containment & (RT_SANDBOX_C_ROFS | RT_SANDBOX_C_UID | RT_SANDBOX_C_LANDLOCK))) {
        /* an unprivileged caller without namespaces: the run is the owner of the caller's
         * files, nothing can protect them (docs/sandbox.md); CI runs as root */
        fprintf(stderr, "  (file protection not available here: skipped)\n");
        char old_path[320];
        snprintf(old_path, sizeof old_path, "%s.old", evaluator);
        unlink(old_path);
        unlink(evaluator);
        unlink(outside);
        rt_sandbox_result_free(&r);
        return;
    }
    /* the evaluator still runs, unchanged */
    assert_non_null(strstr(r.stdout_data, "fine\n{\"score\": 1}\n"));
    size_t len = 0;
    char *text = tu_slurp(evaluator, &len);
    assert_non_null(text);
    assert_string_equal(text, "#!/bin/sh\necho '{\"score\": 1}'\n");
    free(text);
    struct stat st;
    assert_int_equal(stat(evaluator, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_not_equal(stat(outside, &st), 0);
    /* ../ is the world-writable temporary folder: only a mount namespace keeps the run out */
    char escape[300];
    const char *tmp = getenv("TMPDIR");
    snprintf(escape, sizeof escape, "%s/ratchet-escape-%ld", tmp && tmp[0] == '/' ? tmp : "/tmp",
             (long)getpid());
    if (r.containment & RT_SANDBOX_C_ROFS)
        assert_int_not_equal(stat(escape, &st), 0);
    unlink(escape);
    rt_sandbox_result_free(&r);

    /* a read-only placed file cannot be written, removed, renamed or made writable */
    if (geteuid() == 0 || !(flags & RT_SANDBOX_NO_NAMESPACES)) {
        run_sh("echo hacked > program.c; rm -f program.c; chmod 666 program.c; "
               "echo hacked > program.c; cat program.c; ls", &l, flags, &placed, 1, &r);
        assert_string_equal(r.stdout_data, "int main(void){return 0;}\nprogram.c\n");
        rt_sandbox_result_free(&r);
    }
    unlink(evaluator);
}

static void test_writes(void **state)
{
    (void)state;
    writes(0);
}

static void test_writes_fallback(void **state)
{
    (void)state;
    writes(RT_SANDBOX_NO_NAMESPACES);
}

/* No descriptor of the caller's reaches the child. */
static void test_no_fd_leak(void **state)
{
    (void)state;
    int leak = open("/dev/null", O_RDONLY); /* deliberately not close-on-exec */
    assert_true(leak >= 0);
    rt_sandbox_result r;
    /* ls lists its own descriptors: 0-2, and 3 for the folder it reads; a leaked one would
     * push the folder's number up */
    run_sh("exec ls /proc/self/fd", NULL, 0, NULL, 0, &r);
    assert_string_equal(r.stdout_data, "0\n1\n2\n3\n");
    rt_sandbox_result_free(&r);
    close(leak);
}

/* The command starts with no signal blocked or ignored, whatever the caller's thread had. */
static void test_signals_reset(void **state)
{
    (void)state;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    struct sigaction ign, old_usr1;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGUSR1, &ign, &old_usr1);
    rt_sandbox_result r;
    run_sh("grep -E '^Sig(Blk|Ign)' /proc/self/status", NULL, 0, NULL, 0, &r);
    assert_string_equal(r.stdout_data, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    rt_sandbox_result_free(&r);
    sigaction(SIGUSR1, &old_usr1, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The memory total counts the run's processes, never the caller: a caller holding more than
 * the limit (its pages show in the run's first process, a copy of it, and in the command until
 * it executes) must not get its runs killed. */
static void big_caller(int flags)
{
    size_t big = (size_t)320 << 20;
    char *hold = malloc(big);
    assert_non_null(hold);
    memset(hold, 1, big);
    rt_sandbox_limits l = {.wall_seconds = 10, .memory_mib = 256};
    rt_sandbox_result r;
    run_sh("sleep 0.3; echo ok", &l, flags, NULL, 0, &r);
    assert_int_equal(r.outcome, RT_SANDBOX_EXITED);
    assert_string_equal(r.stdout_data, "ok\n");
    rt_sandbox_result_free(&r);
    free(hold);
}

static void test_big_caller(void **state)
{
    (void)state;
    big_caller(0);
}

static void test_big_caller_fallback(void **state)
{
    (void)state;
    big_caller(RT_SANDBOX_NO_NAMESPACES);
}

/* The jail: the evaluator runs a candidate through $RATCHET_JAIL; only the named files go in, the
 * output, the input and the exit status come back, and the candidate sees nothing of the
 * evaluator's folder or processes. */
static void jail(int flags)
{
    const char *tool = tu_jail_helper();
    assert_non_null(tool);
    char helper[512];
    assert_int_equal(tu_copy_exec(tool, g_dir, helper, sizeof helper), 0);
    assert_int_equal(rt_sandbox_set_jail_helper(helper), 0);
    const char *script =
        "echo secret-of-the-evaluator > secret.txt; "
        "printf 'echo hi; cat; cat secret.txt 2>/dev/null || echo no-secret; "
        "ls /proc > procs; grep -c \'^[0-9]\' procs; exit 3' > cand.sh; "
        "echo input | \"$RATCHET_JAIL\" --file cand.sh -- /bin/sh cand.sh; echo \"rc=$?\"; "
        "\"$RATCHET_JAIL\" --wall 0.5 -- /bin/sleep 5; echo \"rc=$?\"; "
        "\"$RATCHET_JAIL\" --file missing -- /bin/true; echo \"rc=$?\"";
    rt_sandbox_limits l = {.wall_seconds = 20};
    rt_sandbox_result r;
    run_sh(script, &l, flags, NULL, 0, &r);
    fprintf(stderr, "%s%s", r.stdout_data, r.stderr_data);
    assert_int_equal(r.outcome, RT_SANDBOX_EXITED);
    /* hi, the input, no secret, and the jail's /proc holds its own three processes only (its
     * init, sh and ls, while ls lists it): none of the evaluator's */
    const char *want_ns = "hi\ninput\nno-secret\n3\nrc=3\nrc=124\nrc=2\n";
    if (r.containment & RT_SANDBOX_C_PIDNS)
        assert_string_equal(r.stdout_data, want_ns);
    else
        assert_non_null(strstr(r.stdout_data, "hi\ninput\nno-secret\n"));
    assert_non_null(strstr(r.stdout_data, "rc=3\nrc=124\nrc=2\n"));
    rt_sandbox_result_free(&r);
    assert_int_equal(rt_sandbox_set_jail_helper(NULL), 0);
    /* without a helper there is no jail */
    run_sh("echo \"[${RATCHET_JAIL:-none}]\"", &l, flags, NULL, 0, &r);
    assert_string_equal(r.stdout_data, "[none]\n");
    rt_sandbox_result_free(&r);
}

static void test_jail(void **state)
{
    (void)state;
    jail(0);
}

static void test_jail_fallback(void **state)
{
    (void)state;
    jail(RT_SANDBOX_NO_NAMESPACES);
}

/* Several threads at once, each checking its own output; the pool bounds the parallelism. */
typedef struct par_arg {
    int id;
    int ok;
} par_arg;

static int g_running, g_max_running;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static void *par_worker(void *arg)
{
    par_arg *a = arg;
    char script[64], want[32];
    a->ok = 1;
    for (int k = 0; k < 3; k++) {
        snprintf(script, sizeof script, "echo %d-%d; sleep 0.05", a->id, k);
        snprintf(want, sizeof want, "%d-%d\n", a->id, k);
        const char *argv[] = {"/bin/sh", "-c", script, NULL};
        rt_sandbox_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.argv = argv;
        rt_sandbox_result r;
        char err[256];
        pthread_mutex_lock(&g_lock);
        g_running++;
        pthread_mutex_unlock(&g_lock);
        int rc = rt_sandbox_run(&spec, &r, err, sizeof err);
        pthread_mutex_lock(&g_lock);
        g_running--;
        pthread_mutex_unlock(&g_lock);
        if (rc != 0 || r.outcome != RT_SANDBOX_EXITED || r.exit_code != 0 ||
            strcmp(r.stdout_data, want) != 0) {
            fprintf(stderr, "run %d-%d: rc %d (%s) %s: %s out '%s' err '%s'\n", a->id, k, rc, err,
                    rt_sandbox_outcome_name(r.outcome), r.reason, r.stdout_data ? r.stdout_data : "",
                    r.stderr_data ? r.stderr_data : "");
            a->ok = 0;
        }
        rt_sandbox_result_free(&r);
    }
    return NULL;
}

static void test_parallel(void **state)
{
    (void)state;
    rt_sandbox_set_jobs(3);
    assert_int_equal(rt_sandbox_jobs(), 3);
    pthread_t t[6];
    par_arg a[6];
    for (int i = 0; i < 6; i++) {
        a[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, par_worker, &a[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        assert_true(a[i].ok);
    }
    rt_sandbox_set_jobs(0);
    (void)g_max_running;
}

static int setup(void **state)
{
    (void)state;
    return tu_tempdir(g_dir, sizeof g_dir, "sandbox");
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_big_io),
        cmocka_unit_test(test_workdir),
        cmocka_unit_test(test_workdir_cleanup),
        cmocka_unit_test(test_spawn_failure),
        cmocka_unit_test(test_infinite_loop),
        cmocka_unit_test(test_fork_bomb),
        cmocka_unit_test(test_fork_bomb_fallback),
        cmocka_unit_test(test_memory_hog),
        cmocka_unit_test(test_output_flood),
        cmocka_unit_test(test_setsid_grandchild),
        cmocka_unit_test(test_setsid_grandchild_fallback),
        cmocka_unit_test(test_network),
        cmocka_unit_test(test_network_fallback),
        cmocka_unit_test(test_writes),
        cmocka_unit_test(test_writes_fallback),
        cmocka_unit_test(test_no_fd_leak),
        cmocka_unit_test(test_signals_reset),
        cmocka_unit_test(test_parallel),
        cmocka_unit_test(test_big_caller),
        cmocka_unit_test(test_big_caller_fallback),
        cmocka_unit_test(test_jail),
        cmocka_unit_test(test_jail_fallback),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
