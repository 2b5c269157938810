/* test_sandbox_attacks.c — the attacks a hostile candidate made on the sandbox (src/sandbox.h),
 * each reproduced as a small C program in tests/attacks/ (built into build/tests/attacks/) and run
 * in the sandbox. Each test asserts the EFFECT the attack is after (the verifier's report is not
 * changed, no file appears outside the run, no secret is printed, no connection reaches the
 * test's socket, the totals stay bounded, no folder is left behind) and fails when the attack
 * gets it; what each attack achieved is printed on stderr.
 *
 *   1  forge         a detached child of the candidate rewrites the verifier's report in its memory
 *                    (process_vm_writev, /proc/PID/mem, ptrace); forge_jail: the same with the
 *                    candidate run through $RATCHET_JAIL, which must exist, plus reading a secret
 *   2  tty           writing to /dev/tty and typing into it with TIOCSTI
 *   3  shocker       open_by_handle_at on the filesystem's root through the working directory's
 *                    mount, then files created in its tmp/ and var/tmp/
 *   4  secrets       a 0600 file, the hidden store inside a visible folder, /etc/shadow, and the
 *                    command lines of /proc/1 and of the run's ancestors
 *   5  unix_socket   connecting to a listening Unix socket file of the caller's
 *   6  kernel        unshare/clone of user and mount namespaces, netlink, PTRACE_TRACEME, keyctl,
 *                    bpf
 *   7  disk, memory  totals: many files each under file_mib; many processes each under memory_mib
 *   8  leftovers     the working folder of a run whose ratchet was killed -9 is removed by a later
 *                    process's run, and a live run's folder is not
 *
 * The sandbox keeps process-wide state (whether namespaces work...), so every scenario runs in a
 * forked child with an alarm; the child reports through its exit status (0: the attack was
 * blocked, 1: it succeeded, 2: the scenario could not be set up, 3: no jail offered). Scenarios
 * run with namespaces and in the fallback (RT_SANDBOX_NO_NAMESPACES), as root and as an
 * unprivileged user (nobody, 65534, when the test is root; else the caller itself, and the root
 * variants are skipped). 2 and 8 run as the test's own identity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "testutil.h"

#define USER_ID 65534 /* the unprivileged identity when the test is root ("nobody") */

static char g_dir[256];        /* scratch folder, 0755 */
static char g_bin[PATH_MAX / 2]; /* the attack programs: attacks/ next to this test program */
static char g_helper[PATH_MAX];   /* the jail's client, copied beside them; "" when missing */
static char g_name[PATH_MAX / 2]; /* this program's name: no run may learn it */
static char g_shadow[256];     /* the first line of /etc/shadow (when readable), or "" */

enum { ID_ROOT, ID_USER, ID_SELF };

typedef struct variant {
    int flags;    /* 0 (namespaces) or RT_SANDBOX_NO_NAMESPACES (the fallback) */
    int identity; /* ID_ROOT: root only; ID_USER: nobody when root, else the caller; ID_SELF */
} variant;

static const variant v_ns_root = {0, ID_ROOT}, v_ns_user = {0, ID_USER},
                     v_fb_root = {RT_SANDBOX_NO_NAMESPACES, ID_ROOT},
                     v_fb_user = {RT_SANDBOX_NO_NAMESPACES, ID_USER},
                     v_ns_self = {0, ID_SELF}, v_fb_self = {RT_SANDBOX_NO_NAMESPACES, ID_SELF};

enum { BLOCKED = 0, BREACHED = 1, NO_SETUP = 2, NO_JAIL = 3 };

/* ---- helpers (run in the scenario's child: no cmocka assertion there) --------------------- */

static int g_breached; /* set by breach(): the scenario's exit status becomes BREACHED */

static void breach(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void breach(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  ATTACK SUCCEEDED: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    g_breached = 1;
}

static int setup_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int setup_failed(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  SCENARIO NOT SET UP: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return NO_SETUP;
}

/* A fresh random tag of 32 hex digits into buf[33]. */
static void random_hex(char *buf)
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        unsigned long x = (unsigned long)getpid() * 2654435761ul ^ (unsigned long)time(NULL);
        for (size_t i = 0; i < sizeof raw; i++, x = x * 6364136223846793005ul + 1)
            raw[i] = (unsigned char)(x >> 56);
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(buf + 2 * i, 3, "%02x", raw[i]);
}

static int write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len && fchmod(fd, mode) == 0;
    close(fd);
    return ok ? 0 : -1;
}

/* Who runs the sandbox in this scenario's child (after become()). */
static const char *identity_name(void)
{
    return geteuid() == 0 ? "root" : "user";
}

/* Prints text (a run's output) indented, at most max_lines lines. */
static void print_indented(const char *label, const char *text, int max_lines)
{
    if (!text || !*text)
        return;
    int lines = 0;
    for (const char *p = text; *p && lines < max_lines; lines++) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(stderr, "    %s| %.*s\n", label, len, p);
        p += len + (nl ? 1 : 0);
    }
    if (lines == max_lines)
        fprintf(stderr, "    %s| ...\n", label);
}

/* Runs argv in the sandbox with the variant's flags; the attack programs' folder and the extra
 * visible paths are visible. Prints the outcome and the output. Returns 0, or -1 when
 * rt_sandbox_run itself failed (message printed). *r is the caller's to free. */
static int sbx_run(const variant *v, const char *what, const char *const *argv,
                   const rt_sandbox_file *files, size_t nfiles, const rt_sandbox_limits *limits,
                   const char *extra_visible, rt_sandbox_result *r)
{
    const char *visible[] = {g_bin, extra_visible, NULL};
    rt_sandbox_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = argv;
    spec.files = files;
    spec.nfiles = nfiles;
    spec.flags = v->flags;
    spec.visible = visible;
    if (limits)
        spec.limits = *limits;
    if (spec.limits.wall_seconds == 0)
        spec.limits.wall_seconds = 10;
    char err[256] = "";
    if (rt_sandbox_run(&spec, r, err, sizeof err) != 0) {
        fprintf(stderr, "  rt_sandbox_run: %s\n", err);
        return -1;
    }
    char c[160];
    fprintf(stderr, "  [%s, %s, uid %d] %s: %s: %s in %.2f s (containment %s)\n",
            v->flags & RT_SANDBOX_NO_NAMESPACES ? "fallback" : "namespaces", identity_name(),
            (int)geteuid(), what, rt_sandbox_outcome_name(r->outcome), r->reason, r->wall_seconds,
            rt_sandbox_containment_str(r->containment, c, sizeof c));
    if (!(v->flags & RT_SANDBOX_NO_NAMESPACES) && !(r->containment & RT_SANDBOX_C_PIDNS))
        fprintf(stderr, "  (note: asked for namespaces, but the run had none)\n");
    print_indented("out", r->stdout_data, 40);
    print_indented("err", r->stderr_data, 40);
    return 0;
}

/* "stdout + stderr" of a run, to search for what must not be there. */
static int output_has(const rt_sandbox_result *r, const char *needle)
{
    return (r->stdout_data && strstr(r->stdout_data, needle)) ||
           (r->stderr_data && strstr(r->stderr_data, needle));
}

static void attack_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", g_bin, name);
}

/* ---- 1: forged verification --------------------------------------------------------------- */

/* The verifier runs the candidate (directly, or through the jail) and prints its report
 * "RT-REPORT score 1" 300 ms after the candidate ended; the candidate's detached child tries to
 * make it "score 9" (and, through the jail, to read the verifier's secret). */
static int forge(const variant *v, int jail)
{
    char verifier[PATH_MAX], candidate[PATH_MAX], hex[33], secret[64];
    attack_path(verifier, sizeof verifier, "verifier");
    attack_path(candidate, sizeof candidate, "forge");
    random_hex(hex);
    snprintf(secret, sizeof secret, "RT-SECRET-%s", hex);
    if (jail) {
        const char *tool = g_helper[0] ? g_helper : NULL;
        if (!tool || rt_sandbox_set_jail_helper(tool) != 0)
            return setup_failed("cannot name %s as the jail's helper", tool ? tool : "ratchet");
    }
    rt_sandbox_file files[] = {
        {"verifier", verifier, NULL, 0, 0, 1},
        {"forge", candidate, NULL, 0, 0, 1},
        {"secret.txt", NULL, secret, strlen(secret), 0, 0},
    };
    const char *plain[] = {"verifier", "./forge", NULL};
    const char *jailed[] = {"verifier", "--jail", "forge", "--read", "RT-SECRET-", NULL};
    rt_sandbox_result r;
    if (sbx_run(v, jail ? "verifier --jail forge" : "verifier forge", jail ? jailed : plain, files,
                3, NULL, NULL, &r) != 0)
        return NO_SETUP;
    int rc = BLOCKED;
    if (jail && strstr(r.stdout_data, "RATCHET_JAIL is not set")) {
        fprintf(stderr, "  THE JAIL IS REQUIRED: RATCHET_JAIL was not set in the sandbox (the "
                        "verifier cannot run the candidate apart from itself)\n");
        rc = NO_JAIL;
    } else if (!strstr(r.stdout_data, "report: ")) {
        rc = setup_failed("the verifier printed no report");
    } else {
        if (!strstr(r.stdout_data, "report: RT-REPORT score 1\n"))
            breach("the verifier's report was rewritten (not 'score 1')");
        if (output_has(&r, "FORGED"))
            breach("the candidate wrote into another process's memory (FORGED lines above)");
        if (jail && !strstr(r.stdout_data, "verifier: candidate exit 0"))
            rc = setup_failed("the candidate did not run through the jail");
    }
    if (jail && output_has(&r, secret))
        breach("the candidate read the verifier's secret from its memory");
    rt_sandbox_result_free(&r);
    return g_breached ? BREACHED : rc;
}

static int sc_forge(const variant *v, const char *dir)
{
    (void)dir;
    return forge(v, 0);
}

static int sc_forge_jail(const variant *v, const char *dir)
{
    (void)dir;
    return forge(v, 1);
}

/* ---- 2: the terminal ---------------------------------------------------------------------- */

/* A pty whose slave is the controlling terminal of a child's session; the child runs the
 * sandbox. Nothing of the run may reach the terminal: no output written to /dev/tty (seen on the
 * master), no input pushed with TIOCSTI (echoed to the master, and readable on the slave). */
static int sc_tty(const variant *v, const char *dir)
{
    (void)dir;
    size_t len = 0;
    char *legacy = tu_slurp("/proc/sys/dev/tty/legacy_tiocsti", &len);
    fprintf(stderr, "  dev.tty.legacy_tiocsti = %s", legacy ? legacy : "(absent: TIOCSTI allowed)\n");
    free(legacy);
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
        return setup_failed("no pty: %s", strerror(errno));
    char slave_name[128];
    if (ptsname_r(master, slave_name, sizeof slave_name) != 0)
        return setup_failed("ptsname: %s", strerror(errno));
    /* our own handle of the slave keeps the terminal alive after the child and lets us read
     * the input queue */
    int slave = open(slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    struct termios t;
    if (slave < 0 || tcgetattr(slave, &t) != 0)
        return setup_failed("cannot open %s: %s", slave_name, strerror(errno));
    t.c_lflag |= ICANON | ECHO;
    tcsetattr(slave, TCSANOW, &t);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return setup_failed("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (setsid() < 0)
            _exit(NO_SETUP);
        int ctty = open(slave_name, O_RDWR | O_CLOEXEC);
        if (ctty < 0 || ioctl(ctty, TIOCSCTTY, 0) != 0) {
            fprintf(stderr, "  cannot make %s the controlling terminal: %s\n", slave_name,
                    strerror(errno));
            _exit(NO_SETUP);
        }
        char tty[PATH_MAX];
        attack_path(tty, sizeof tty, "tty");
        const char *argv[] = {tty, NULL};
        rt_sandbox_result r;
        if (sbx_run(v, "tty", argv, NULL, 0, NULL, NULL, &r) != 0)
            _exit(NO_SETUP);
        int opened = strstr(r.stdout_data, "/dev/tty open: ok") != NULL;
        rt_sandbox_result_free(&r);
        _exit(opened ? 10 : 0);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 10))
        return setup_failed("the child running the sandbox failed (status %d)", st);
    if (WEXITSTATUS(st) == 10)
        fprintf(stderr, "  (the run could open /dev/tty: it still had the controlling terminal)\n");
    char out[4096] = "", in[4096] = "";
    int fl = fcntl(master, F_GETFL);
    fcntl(master, F_SETFL, fl | O_NONBLOCK);
    ssize_t n = read(master, out, sizeof out - 1);
    if (n > 0)
        out[n] = '\0';
    n = read(slave, in, sizeof in - 1);
    if (n > 0)
        in[n] = '\0';
    print_indented("terminal output", out, 10);
    print_indented("terminal input", in, 10);
    if (strstr(out, "RT-TTY-WRITE"))
        breach("the run wrote to the user's terminal (/dev/tty)");
    if (strstr(out, "RT-TTY-STI") || strstr(in, "RT-TTY-STI"))
        breach("the run typed into the user's terminal (TIOCSTI)");
    close(slave);
    close(master);
    return g_breached ? BREACHED : BLOCKED;
}

/* ---- 3: open_by_handle_at ("shocker") ------------------------------------------------------ */

/* The mount point of the filesystem that holds path (walking up while the device stays). */
static void fs_root_of(const char *path, char *out, size_t len)
{
    char cur[PATH_MAX];
    snprintf(cur, sizeof cur, "%s", path);
    struct stat st, up;
    if (stat(cur, &st) != 0) {
        snprintf(out, len, "/");
        return;
    }
    for (;;) {
        char *slash = strrchr(cur, '/');
        if (!slash || slash == cur) {
            if (stat("/", &up) == 0 && up.st_dev == st.st_dev)
                snprintf(cur, sizeof cur, "/");
            break;
        }
        *slash = '\0';
        if (stat(cur, &up) != 0 || up.st_dev != st.st_dev) {
            *slash = '/';
            break;
        }
    }
    snprintf(out, len, "%s", cur);
}

static int sc_shocker(const variant *v, const char *dir)
{
    (void)dir;
    char name[96], hex[33], prog[PATH_MAX], root[PATH_MAX];
    random_hex(hex);
    snprintf(name, sizeof name, "rt-shocker-%.12s", hex);
    const char *tmp = getenv("TMPDIR");
    fs_root_of(tmp && tmp[0] == '/' ? tmp : "/tmp", root, sizeof root);
    attack_path(prog, sizeof prog, "shocker");
    const char *argv[] = {prog, name, NULL};
    rt_sandbox_result r;
    if (sbx_run(v, "shocker", argv, NULL, 0, NULL, NULL, &r) != 0)
        return NO_SETUP;
    static const char *const places[] = {"tmp/", "var/tmp/", ""};
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
        char path[PATH_MAX + 200];
        snprintf(path, sizeof path, "%s%s%s%s", root, strcmp(root, "/") ? "/" : "", places[i],
                 name);
        struct stat st;
        if (lstat(path, &st) == 0) {
            breach("the run created %s, outside its folder (owner uid %u)", path,
                   (unsigned)st.st_uid);
            unlink(path);
        }
    }
    if (strstr(r.stdout_data, "open_by_handle_at: ok"))
        breach("open_by_handle_at opened the filesystem's root");
    if (strstr(r.stdout_data, "name_to_handle_at: ok"))
        breach("name_to_handle_at was allowed (harmless alone, but it must be refused too)");
    rt_sandbox_result_free(&r);
    return g_breached ? BREACHED : BLOCKED;
}

/* ---- 4: secrets ----------------------------------------------------------------------------- */

static int sc_secrets(const variant *v, const char *dir)
{
    char hex[33], secret[64], store_secret[64], secret_path[PATH_MAX], visible[PATH_MAX],
        store[PATH_MAX + 16], prog[PATH_MAX];
    random_hex(hex);
    snprintf(secret, sizeof secret, "RT-SECRET-%s", hex);
    random_hex(hex);
    snprintf(store_secret, sizeof store_secret, "RT-STORE-%s", hex);
    snprintf(secret_path, sizeof secret_path, "%s/secret.txt", dir);
    snprintf(visible, sizeof visible, "%s/visible", dir);
    snprintf(store, sizeof store, "%s/store.db", visible);
    if (write_file(secret_path, secret, 0600) != 0 || mkdir(visible, 0755) != 0 ||
        write_file(store, store_secret, 0600) != 0)
        return setup_failed("cannot write the secrets in %s: %s", dir, strerror(errno));
    if (rt_sandbox_hide(store) != 0)
        return setup_failed("rt_sandbox_hide(%s) refused", store);
    attack_path(prog, sizeof prog, "readsecrets");
    const char *argv[] = {prog, secret_path, store, "/etc/shadow", NULL};
    rt_sandbox_result r;
    if (sbx_run(v, "readsecrets", argv, NULL, 0, NULL, visible, &r) != 0)
        return NO_SETUP;
    if (output_has(&r, secret))
        breach("the run read a 0600 file of its caller's (%s)", secret_path);
    if (output_has(&r, store_secret))
        breach("the run read the hidden store (%s)", store);
    if (g_shadow[0] && output_has(&r, g_shadow))
        breach("the run read /etc/shadow");
    if (output_has(&r, g_name))
        breach("the run learned the caller's command line ('%s' in /proc/1 or an ancestor)", g_name);
    rt_sandbox_result_free(&r);
    return g_breached ? BREACHED : BLOCKED;
}

/* ---- 5: Unix sockets ------------------------------------------------------------------------ */

static int sc_unix_socket(const variant *v, const char *dir)
{
    char path[PATH_MAX], prog[PATH_MAX];
    snprintf(path, sizeof path, "%s/service.sock", dir);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%s", path) >= sizeof a.sun_path)
        return setup_failed("socket path too long: %s", path);
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 8) != 0)
        return setup_failed("cannot listen on %s: %s", path, strerror(errno));
    /* as root a service for everyone; as a user the user's own */
    chmod(path, geteuid() == 0 ? 0777 : 0600);
    attack_path(prog, sizeof prog, "unixconnect");
    const char *argv[] = {prog, path, NULL};
    rt_sandbox_result r;
    if (sbx_run(v, "unixconnect", argv, NULL, 0, NULL, NULL, &r) != 0)
        return NO_SETUP;
    int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c >= 0) {
        char buf[128] = "";
        ssize_t n = read(c, buf, sizeof buf - 1);
        breach("the test's socket %s accepted a connection from the run (it sent %zd bytes)", path,
               n);
        close(c);
    }
    if (strstr(r.stdout_data, "CONNECTED"))
        breach("the run reports that it connected");
    close(ls);
    rt_sandbox_result_free(&r);
    return g_breached ? BREACHED : BLOCKED;
}

/* ---- 6: kernel surface -------------------------------------------------------------------- */

static int sc_kernel(const variant *v, const char *dir)
{
    (void)dir;
    char prog[PATH_MAX];
    attack_path(prog, sizeof prog, "surface");
    const char *argv[] = {prog, NULL};
    rt_sandbox_result r;
    if (sbx_run(v, "surface", argv, NULL, 0, NULL, NULL, &r) != 0)
        return NO_SETUP;
    if (!strstr(r.stdout_data, "succeeded: "))
        fprintf(stderr, "  (the probe did not finish: %s)\n", r.reason);
    for (const char *p = r.stdout_data; (p = strstr(p, "PROBE ")); p++) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        if (memmem(p, (size_t)len, "SUCCEEDED", 9))
            breach("%.*s", len - 6, p + 6);
    }
    rt_sandbox_result_free(&r);
    return g_breached ? BREACHED : BLOCKED;
}

/* ---- 7: totals ---------------------------------------------------------------------------- */

#define DISK_MIB 32
#define FILE_MIB 16
#define DISK_SLACK_MIB 4
#define MEMORY_MIB 64

static int sc_disk(const variant *v, const char *dir)
{
    (void)dir;
    char tag[24], hex[33], prog[PATH_MAX];
    random_hex(hex);
    snprintf(tag, sizeof tag, "%.12s", hex);
    attack_path(prog, sizeof prog, "disk");
    const char *argv[] = {prog, tag, NULL};
    rt_sandbox_limits l = {.wall_seconds = 20, .disk_mib = DISK_MIB, .file_mib = FILE_MIB};
    rt_sandbox_result r;
    if (sbx_run(v, "disk", argv, NULL, 0, &l, NULL, &r) != 0)
        return NO_SETUP;
    /* what it left outside its folder (the fallback's /tmp and /dev/shm are the host's) */
    static const char *const places[] = {"/tmp", "/dev/shm"};
    for (size_t i = 0; i < 2; i++)
        for (int f = 0; f < 2; f++) {
            char path[128];
            snprintf(path, sizeof path, "%s/rt-disk-%s-%d", places[i], tag, f);
            unlink(path);
        }
    const char *total = strstr(r.stdout_data, "total written: ");
    long kib = total ? strtol(total + 15, NULL, 10) : -1;
    int rc = BLOCKED;
    if (r.outcome == RT_SANDBOX_DISK)
        fprintf(stderr, "  stopped at the disk limit (outcome disk)\n");
    else if (kib < 0)
        rc = setup_failed("the attack printed no total (outcome %s)",
                          rt_sandbox_outcome_name(r.outcome));
    else if (kib > (DISK_MIB + DISK_SLACK_MIB) * 1024L)
        breach("the run held %ld MiB on disk at once, over disk_mib %d (file_mib %d)", kib / 1024,
               DISK_MIB, FILE_MIB);
    rt_sandbox_result_free(&r);
    return g_breached ? BREACHED : rc;
}

static int sc_memory(const variant *v, const char *dir)
{
    (void)dir;
    char prog[PATH_MAX];
    attack_path(prog, sizeof prog, "memory");
    const char *argv[] = {prog, "6", "40", NULL};
    rt_sandbox_limits l = {.wall_seconds = 20, .memory_mib = MEMORY_MIB};
    rt_sandbox_result r;
    if (sbx_run(v, "memory", argv, NULL, 0, &l, NULL, &r) != 0)
        return NO_SETUP;
    const char *held = strstr(r.stdout_data, "held together: ");
    long mib = held ? strtol(held + 15, NULL, 10) : -1;
    int rc = BLOCKED;
    if (r.outcome == RT_SANDBOX_MEMORY)
        fprintf(stderr, "  stopped at the memory limit (outcome memory)\n");
    else if (mib < 0)
        rc = setup_failed("the attack printed no total (outcome %s)",
                          rt_sandbox_outcome_name(r.outcome));
    else if (mib > MEMORY_MIB)
        breach("the run's processes held %ld MiB together, over memory_mib %d", mib, MEMORY_MIB);
    rt_sandbox_result_free(&r);
    return g_breached ? BREACHED : rc;
}

/* ---- 8: leftovers ------------------------------------------------------------------------- */

/* Names of the ratchet-sbx-* entries of dir, joined by '\n' into buf; returns their count. */
static int list_sbx(const char *dir, char *buf, size_t len)
{
    buf[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    size_t used = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "ratchet-sbx-", 12) != 0)
            continue;
        int w = snprintf(buf + used, len - used, "%s\n", e->d_name);
        if (w > 0 && (size_t)w < len - used)
            used += (size_t)w;
        n++;
    }
    closedir(d);
    return n;
}

/* Waits (up to 5 s) until dir holds a ratchet-sbx-* entry not named in old; its name into out. */
static int wait_new_sbx(const char *dir, const char *old, char *out, size_t len)
{
    for (int i = 0; i < 500; i++) {
        char now[4096];
        list_sbx(dir, now, sizeof now);
        for (char *p = now, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
            *nl = '\0';
            char line[300];
            snprintf(line, sizeof line, "%.280s\n", p);
            if (!strstr(old, line)) {
                return snprintf(out, len, "%s", p) < (int)len ? 0 : -1;
            }
        }
        struct timespec ms10 = {0, 10 * 1000 * 1000};
        nanosleep(&ms10, NULL);
    }
    return -1;
}

/* A child (ratchet's stand-in) that runs `sleep 30` (or `true`) in the sandbox. */
static pid_t start_run(const variant *v, const char *sleep_for)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        const char *slp[] = {"/bin/sleep", sleep_for, NULL};
        const char *tru[] = {"/bin/true", NULL};
        rt_sandbox_limits l = {.wall_seconds = 60};
        rt_sandbox_result r;
        int rc = sbx_run(v, sleep_for ? "sleep" : "true", sleep_for ? slp : tru, NULL, 0, &l, NULL,
                         &r);
        _exit(rc == 0 && r.outcome == RT_SANDBOX_EXITED && r.exit_code == 0 ? 0 : 1);
    }
    return pid;
}

static void pause_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static int sc_leftovers(const variant *v, const char *dir)
{
    char tmpdir[PATH_MAX], before[4096], left[300], live[300];
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", dir);
    if (mkdir(tmpdir, 0755) != 0 || setenv("TMPDIR", tmpdir, 1) != 0)
        return setup_failed("cannot make %s", tmpdir);
    /* a run whose ratchet is killed -9 mid-run */
    pid_t a = start_run(v, "30");
    if (a < 0 || wait_new_sbx(tmpdir, "", left, sizeof left) != 0)
        return setup_failed("the first run made no working folder in %s", tmpdir);
    pause_ms(300);
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
    pause_ms(200);
    int n = list_sbx(tmpdir, before, sizeof before);
    if (n == 0) {
        fprintf(stderr, "  (kill -9 left no working folder: nothing to clean up)\n");
        return BLOCKED;
    }
    fprintf(stderr, "  kill -9 left %s in %s\n", left, tmpdir);
    /* a live run of another process, whose folder must stay */
    pid_t b = start_run(v, "30");
    if (b < 0 || wait_new_sbx(tmpdir, before, live, sizeof live) != 0) {
        kill(b, SIGKILL);
        return setup_failed("the live run made no working folder");
    }
    pause_ms(200);
    /* a new process's run cleans up */
    pid_t c = start_run(v, NULL);
    int st = 0;
    if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        kill(b, SIGKILL);
        return setup_failed("the cleaning run failed");
    }
    char path[PATH_MAX + 300];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", tmpdir, left);
    if (lstat(path, &sb) == 0)
        breach("the folder %s of the killed run is still there after a later run", left);
    snprintf(path, sizeof path, "%s/%s", tmpdir, live);
    if (lstat(path, &sb) != 0)
        breach("a later run removed the folder %s of a LIVE run of another process", live);
    if (kill(b, 0) != 0)
        breach("the live run died during the later run");
    kill(b, SIGKILL);
    waitpid(b, NULL, 0);
    return g_breached ? BREACHED : BLOCKED;
}

/* ---- the scenario runner (cmocka side) ---------------------------------------------------- */

typedef int (*scenario_fn)(const variant *v, const char *dir);

/* In the scenario's child: a scratch folder of its own (owned by the identity it runs as). */
static int scenario_dir(const variant *v, char *dir, size_t len)
{
    snprintf(dir, len, "%s/run-XXXXXX", g_dir);
    if (!mkdtemp(dir) || chmod(dir, 0755) != 0)
        return setup_failed("mkdtemp in %s: %s", g_dir, strerror(errno));
    if (geteuid() == 0 && v->identity == ID_USER && chown(dir, USER_ID, USER_ID) != 0)
        return setup_failed("chown %s: %s", dir, strerror(errno));
    return 0;
}

/* In the scenario's child: drops to nobody for ID_USER when root. Dumpable again afterwards (as
 * a user's own ratchet is; a non-dumpable process cannot write its user namespace's id maps). */
static int become(const variant *v)
{
    if (v->identity != ID_USER || geteuid() != 0)
        return 0;
    if (setgroups(0, NULL) != 0 || setresgid(USER_ID, USER_ID, USER_ID) != 0 ||
        setresuid(USER_ID, USER_ID, USER_ID) != 0)
        return setup_failed("cannot become uid %d: %s", USER_ID, strerror(errno));
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    return 0;
}

static void run_scenario(scenario_fn fn, const variant *v, unsigned timeout)
{
    if (v->identity == ID_ROOT && geteuid() != 0) {
        fprintf(stderr, "  (needs root: skipped)\n");
        skip();
    }
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* never back into cmocka from here */
        static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        alarm(timeout);
        char dir[PATH_MAX];
        int rc = scenario_dir(v, dir, sizeof dir);
        if (rc == 0)
            rc = become(v);
        if (rc == 0)
            rc = fn(v, dir);
        fflush(NULL);
        _exit(rc);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(st))
        fprintf(stderr, "  => the scenario %s\n",
                WTERMSIG(st) == SIGALRM ? "hung (killed at its alarm)" : "crashed");
    else if (WEXITSTATUS(st) == BREACHED)
        fprintf(stderr, "  => the attack succeeded\n");
    else if (WEXITSTATUS(st) == NO_JAIL)
        fprintf(stderr, "  => no jail offered to the verifier\n");
    else if (WEXITSTATUS(st) != BLOCKED)
        fprintf(stderr, "  => the scenario could not be set up (exit %d)\n", WEXITSTATUS(st));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), BLOCKED);
}

#define SCENARIO(test, fn, timeout)                     \
    static void test(void **state)                      \
    {                                                   \
        run_scenario(fn, (const variant *)*state, timeout); \
    }

SCENARIO(test_forge, sc_forge, 20)
SCENARIO(test_forge_jail, sc_forge_jail, 20)
SCENARIO(test_tty, sc_tty, 20)
SCENARIO(test_shocker, sc_shocker, 20)
SCENARIO(test_secrets, sc_secrets, 20)
SCENARIO(test_unix_socket, sc_unix_socket, 20)
SCENARIO(test_kernel, sc_kernel, 20)
SCENARIO(test_disk, sc_disk, 40)
SCENARIO(test_memory, sc_memory, 40)
SCENARIO(test_leftovers, sc_leftovers, 30)

static int setup(void **state)
{
    (void)state;
    char exe[PATH_MAX / 2 - 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    snprintf(g_name, sizeof g_name, "%s", slash ? slash + 1 : exe);
    if (slash)
        *slash = '\0';
    snprintf(g_bin, sizeof g_bin, "%s/attacks", exe);
    static const char *const progs[] = {"verifier", "forge", "tty", "shocker", "readsecrets",
                                        "unixconnect", "surface", "disk", "memory"};
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/%s", g_bin, progs[i]);
        if (access(path, X_OK) != 0) {
            fprintf(stderr, "missing attack program %s (make test builds tests/attacks/)\n", path);
            return -1;
        }
    }
    FILE *f = fopen("/etc/shadow", "r");
    if (f) {
        if (fgets(g_shadow, sizeof g_shadow, f)) {
            char *nl = strchr(g_shadow, '\n');
            if (nl)
                *nl = '\0';
        }
        fclose(f);
    }
    if (tu_tempdir(g_dir, sizeof g_dir, "attacks") != 0 || chmod(g_dir, 0755) != 0)
        return -1;
    /* the programs run from a folder every uid can enter (the repository may lie under a
     * closed one, which the unprivileged and the fallback variants could not pass) */
    char bin[PATH_MAX / 2];
    snprintf(bin, sizeof bin, "%s/bin", g_dir);
    if (mkdir(bin, 0755) != 0 || chmod(bin, 0755) != 0)
        return -1;
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        char from[PATH_MAX + 32], to[PATH_MAX + 32];
        snprintf(from, sizeof from, "%s/%s", g_bin, progs[i]);
        if (tu_copy_exec(from, bin, to, sizeof to) != 0)
            return -1;
    }
    snprintf(g_bin, sizeof g_bin, "%s", bin);
    const char *tool = tu_jail_helper();
    if (tool && tu_copy_exec(tool, bin, g_helper, sizeof g_helper) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

#define VARIANTS(name, fn)                                                   \
    {name " (namespaces, root)", fn, NULL, NULL, (void *)&v_ns_root},        \
    {name " (namespaces, user)", fn, NULL, NULL, (void *)&v_ns_user},        \
    {name " (fallback, root)", fn, NULL, NULL, (void *)&v_fb_root},          \
    {name " (fallback, user)", fn, NULL, NULL, (void *)&v_fb_user}

int main(void)
{
    const struct CMUnitTest tests[] = {
        VARIANTS("1 forge", test_forge),
        VARIANTS("1 forge_jail", test_forge_jail),
        {"2 tty (namespaces)", test_tty, NULL, NULL, (void *)&v_ns_self},
        {"2 tty (fallback)", test_tty, NULL, NULL, (void *)&v_fb_self},
        VARIANTS("3 shocker", test_shocker),
        VARIANTS("4 secrets", test_secrets),
        VARIANTS("5 unix_socket", test_unix_socket),
        VARIANTS("6 kernel", test_kernel),
        VARIANTS("7 disk", test_disk),
        VARIANTS("7 memory", test_memory),
        {"8 leftovers", test_leftovers, NULL, NULL, (void *)&v_ns_self},
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
