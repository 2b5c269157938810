/* jail.c — the jail's protocol, broker and client (contract in jail.h; design in docs/sandbox.md,
 * "The jail"). */
#include "sandbox/jail.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ratchet.h"
#include "util.h"

/* ---- the request ------------------------------------------------------------------------- */

void rt_jail_request_free(rt_jail_request *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nargs; i++)
        free(r->argv[i]);
    for (size_t i = 0; i < r->nfiles; i++) {
        free(r->files[i].name);
        free(r->files[i].data);
    }
    free(r->stdin_data);
    memset(r, 0, sizeof *r);
}

/* A copy of len bytes as a string; NULL when they hold a NUL byte or memory runs out. */
static char *text_of(const unsigned char *s, size_t len)
{
    if (memchr(s, '\0', len))
        return NULL;
    char *t = malloc(len + 1);
    if (t) {
        memcpy(t, s, len);
        t[len] = '\0';
    }
    return t;
}

/* Appends len bytes to *data (grown by doubling). Returns 0 or RT_ENOMEM. */
static int append(char **data, size_t *have, size_t *alloc, const unsigned char *s, size_t len)
{
    if (*have + len > *alloc) {
        size_t want = *alloc ? *alloc : 4096;
        while (want < *have + len)
            want *= 2;
        char *d = realloc(*data, want);
        if (!d)
            return RT_ENOMEM;
        *data = d;
        *alloc = want;
    }
    if (len)
        memcpy(*data + *have, s, len);
    *have += len;
    return 0;
}

static int valid_file_name(const char *name)
{
    return name[0] && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           strlen(name) <= 255;
}

int rt_jail_request_feed(rt_jail_request *r, const unsigned char *rec, size_t len, char *err,
                         size_t errlen)
{
    if (r->done)
        return rt_fail(err, errlen, RT_EUSAGE, "jail: a record after the end");
    if (len == 0 || len > RT_JAIL_RECORD_MAX)
        return rt_fail(err, errlen, RT_EUSAGE, "jail: a record of %zu bytes", len);
    const unsigned char *body = rec + 1;
    size_t n = len - 1;
    switch (rec[0]) {
    case 'A': {
        if (r->nargs == RT_JAIL_MAX_ARGS)
            return rt_fail(err, errlen, RT_ETOOBIG, "jail: more than %d arguments",
                           RT_JAIL_MAX_ARGS);
        if (n > RT_JAIL_MAX_ARG_LEN)
            return rt_fail(err, errlen, RT_ETOOBIG, "jail: an argument over %d bytes",
                           RT_JAIL_MAX_ARG_LEN);
        char *a = text_of(body, n);
        if (!a)
            return rt_fail(err, errlen, RT_EUSAGE, "jail: an argument holds a NUL byte");
        r->argv[r->nargs++] = a;
        return 0;
    }
    case 'F': {
        if (r->nfiles == RT_JAIL_MAX_FILES)
            return rt_fail(err, errlen, RT_ETOOBIG, "jail: more than %d files",
                           RT_JAIL_MAX_FILES);
        if (n < 2 || body[0] > 1)
            return rt_fail(err, errlen, RT_EUSAGE, "jail: a malformed file record");
        char *name = text_of(body + 1, n - 1);
        if (!name || !valid_file_name(name)) {
            free(name);
            return rt_fail(err, errlen, RT_EUSAGE, "jail: a bad file name");
        }
        for (size_t i = 0; i < r->nfiles; i++)
            if (strcmp(r->files[i].name, name) == 0) {
                free(name);
                return rt_fail(err, errlen, RT_EUSAGE, "jail: a file named twice");
            }
        rt_jail_file *f = &r->files[r->nfiles++];
        memset(f, 0, sizeof *f);
        f->name = name;
        f->executable = body[0];
        return 0;
    }
    case 'D':
    case 'I': {
        if (r->bytes + n > RT_JAIL_MAX_BYTES)
            return rt_fail(err, errlen, RT_ETOOBIG, "jail: files and input over %zu bytes",
                           RT_JAIL_MAX_BYTES);
        if (rec[0] == 'D' && r->nfiles == 0)
            return rt_fail(err, errlen, RT_EUSAGE, "jail: file bytes before a file");
        int rc;
        if (rec[0] == 'D') {
            rt_jail_file *f = &r->files[r->nfiles - 1];
            rc = append(&f->data, &f->len, &f->alloc, body, n);
        } else {
            rc = append(&r->stdin_data, &r->stdin_len, &r->stdin_alloc, body, n);
        }
        if (rc)
            return rt_fail(err, errlen, RT_ENOMEM, "jail: out of memory");
        r->bytes += n;
        return 0;
    }
    case 'W': {
        char text[32];
        if (n == 0 || n >= sizeof text)
            return rt_fail(err, errlen, RT_EUSAGE, "jail: a malformed time limit");
        memcpy(text, body, n);
        text[n] = '\0';
        if (rt_parse_double(text, 0.001, 1e6, &r->wall) != 0)
            return rt_fail(err, errlen, RT_EUSAGE, "jail: a malformed time limit");
        return 0;
    }
    case 'E':
        if (n != 0 || r->nargs == 0)
            return rt_fail(err, errlen, RT_EUSAGE, "jail: a request without a command");
        r->done = 1;
        return 1;
    }
    return rt_fail(err, errlen, RT_EUSAGE, "jail: unknown record tag %u", rec[0]);
}

/* ---- sending and receiving records ------------------------------------------------------- */

/* Sends one record (tag, then len bytes), waiting for room until deadline (rt_now() seconds;
 * <= 0: no deadline). Returns 0 or -1. */
static int send_record(int fd, char tag, const void *data, size_t len, double deadline)
{
    unsigned char buf[RT_JAIL_RECORD_MAX];
    if (len + 1 > sizeof buf)
        return -1;
    buf[0] = (unsigned char)tag;
    if (len)
        memcpy(buf + 1, data, len);
    for (;;) {
        ssize_t w = send(fd, buf, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w == (ssize_t)(len + 1))
            return 0;
        if (w >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return -1;
        int ms = 1000;
        if (deadline > 0) {
            double left = deadline - rt_now();
            if (left <= 0)
                return -1;
            ms = left < 1.0 ? (int)(left * 1000) + 1 : 1000;
        }
        struct pollfd pf = {fd, POLLOUT, 0};
        if (poll(&pf, 1, ms) < 0 && errno != EINTR)
            return -1;
    }
}

/* Sends bytes as records of one tag, in pieces that fit a record. */
static int send_bytes(int fd, char tag, const char *data, size_t len, double deadline)
{
    size_t piece = RT_JAIL_RECORD_MAX - 1;
    for (size_t off = 0; off < len; off += piece)
        if (send_record(fd, tag, data + off, len - off < piece ? len - off : piece, deadline))
            return -1;
    return 0;
}

/* Receives one record into buf[RT_JAIL_RECORD_MAX + 1] until deadline (<= 0: none) or *cancel.
 * Returns its length, 0 at the end of the connection, -1 on error or time-out. */
static ssize_t recv_record(int fd, unsigned char *buf, double deadline, const int *cancel)
{
    for (;;) {
        ssize_t n = recv(fd, buf, RT_JAIL_RECORD_MAX + 1, MSG_DONTWAIT);
        if (n > RT_JAIL_RECORD_MAX)
            return -1;
        if (n >= 0)
            return n;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED))
            return -1;
        int ms = 1000;
        if (deadline > 0) {
            double left = deadline - rt_now();
            if (left <= 0)
                return -1;
            ms = left < 1.0 ? (int)(left * 1000) + 1 : 1000;
        }
        if (cancel && ms > 100)
            ms = 100;
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, ms) < 0 && errno != EINTR)
            return -1;
    }
}

/* ---- the broker -------------------------------------------------------------------------- */

typedef struct jail_slot {
    struct rt_jail_broker *broker;
    pthread_t thread;
    int conn;     /* the connection, -1 once the thread closed it */
    int started;  /* a thread was started in this slot and not yet joined */
    int finished; /* that thread is done */
} jail_slot;

struct rt_jail_broker {
    int listen_fd;
    char path[PATH_MAX];
    rt_sandbox_limits limits;
    int flags;
    double deadline;
    int cancel;
    pthread_mutex_t lock;
    jail_slot slots[RT_JAIL_MAX_JAILS];
};

int rt_jail_broker_open(rt_jail_broker **out, const char *path, const rt_sandbox_spec *outer,
                        double deadline, char *err, size_t errlen)
{
    *out = NULL;
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path)
        return rt_fail(err, errlen, RT_EIO, "jail: socket path too long: %s", path);
    memcpy(addr.sun_path, path, strlen(path) + 1);
    rt_jail_broker *b = calloc(1, sizeof *b);
    if (!b)
        return rt_fail(err, errlen, RT_ENOMEM, "jail: out of memory");
    b->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (b->listen_fd < 0 || bind(b->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        chmod(path, 0666) != 0 || listen(b->listen_fd, 8) != 0) {
        int e = errno;
        if (b->listen_fd >= 0)
            close(b->listen_fd);
        unlink(path);
        free(b);
        return rt_fail(err, errlen, RT_EIO, "jail: cannot listen on %s: %s", path, strerror(e));
    }
    snprintf(b->path, sizeof b->path, "%s", path);
    b->limits = outer->limits;
    b->flags = outer->flags & RT_SANDBOX_NO_NAMESPACES; /* a jail never has the network */
    b->deadline = deadline;
    pthread_mutex_init(&b->lock, NULL);
    for (int i = 0; i < RT_JAIL_MAX_JAILS; i++) {
        b->slots[i].broker = b;
        b->slots[i].conn = -1;
    }
    *out = b;
    return 0;
}

int rt_jail_broker_fd(const rt_jail_broker *b)
{
    return b ? b->listen_fd : -1;
}

/* Answers a connection with a refusal (the caller closes it). */
static void refuse(int conn, const char *why, double deadline)
{
    send_record(conn, 'X', why, strlen(why), deadline);
}

/* Runs one request and sends the result back on conn. */
static void serve(rt_jail_broker *b, int conn)
{
    rt_jail_request req;
    memset(&req, 0, sizeof req);
    unsigned char rec[RT_JAIL_RECORD_MAX + 1];
    char err[256] = "";
    int rc = 0;
    while (rc == 0) {
        ssize_t n = recv_record(conn, rec, b->deadline, &b->cancel);
        if (n <= 0) {
            rt_jail_request_free(&req);
            return;
        }
        rc = rt_jail_request_feed(&req, rec, (size_t)n, err, sizeof err);
    }
    if (rc < 0) {
        refuse(conn, err, b->deadline);
        goto done;
    }
    double left = b->deadline - rt_now();
    double wall = req.wall > 0 && req.wall < left ? req.wall : left;
    if (wall < 0.01) {
        refuse(conn, "jail: the evaluator's time is up", b->deadline);
        goto done;
    }
    /* "./name" names a placed file of the jail (a bare name is looked for among them first) */
    const char *arg0 = req.argv[0];
    if (strncmp(arg0, "./", 2) == 0 && !strchr(arg0 + 2, '/'))
        memmove(req.argv[0], arg0 + 2, strlen(arg0 + 2) + 1);
    rt_sandbox_file files[RT_JAIL_MAX_FILES];
    for (size_t i = 0; i < req.nfiles; i++)
        files[i] = (rt_sandbox_file){.name = req.files[i].name,
                                     .data = req.files[i].data ? req.files[i].data : "",
                                     .len = req.files[i].len,
                                     .executable = req.files[i].executable};
    rt_sandbox_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = (const char *const *)req.argv;
    spec.files = files;
    spec.nfiles = req.nfiles;
    spec.stdin_data = req.stdin_data;
    spec.stdin_len = req.stdin_len;
    spec.limits = b->limits;
    spec.limits.wall_seconds = wall;
    spec.flags = b->flags;
    rt_sandbox_result res;
    if (rt_sandbox_run_jail(&spec, &b->cancel, &res, err, sizeof err) != 0) {
        refuse(conn, err, b->deadline);
        goto done;
    }
    double until = b->deadline + 2.0;
    char status[400];
    int len = snprintf(status, sizeof status, "%d %d %d %s", (int)res.outcome, res.exit_code,
                       res.signal, res.reason);
    if (send_bytes(conn, 'O', res.stdout_data, res.stdout_len, until) == 0 &&
        send_bytes(conn, 'R', res.stderr_data, res.stderr_len, until) == 0)
        send_record(conn, 'S', status, (size_t)len < sizeof status ? (size_t)len : sizeof status - 1,
                    until);
    rt_sandbox_result_free(&res);
done:
    rt_jail_request_free(&req);
}

static void *slot_main(void *arg)
{
    jail_slot *s = arg;
    rt_jail_broker *b = s->broker;
    pthread_mutex_lock(&b->lock);
    int conn = s->conn;
    pthread_mutex_unlock(&b->lock);
    serve(b, conn);
    pthread_mutex_lock(&b->lock);
    close(conn);
    s->conn = -1;
    s->finished = 1;
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

void rt_jail_broker_accept(rt_jail_broker *b)
{
    if (!b)
        return;
    for (;;) {
        int conn = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (conn < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        jail_slot *free_slot = NULL;
        for (int i = 0; i < RT_JAIL_MAX_JAILS && !free_slot; i++) {
            jail_slot *s = &b->slots[i];
            pthread_mutex_lock(&b->lock);
            int done = s->started && s->finished;
            int idle = !s->started;
            pthread_mutex_unlock(&b->lock);
            if (done) {
                pthread_join(s->thread, NULL);
                s->started = 0;
                idle = 1;
            }
            if (idle)
                free_slot = s;
        }
        if (!free_slot) {
            refuse(conn, "jail: too many jails at once", rt_now() + 0.1);
            close(conn);
            continue;
        }
        pthread_mutex_lock(&b->lock);
        free_slot->conn = conn;
        free_slot->finished = 0;
        free_slot->started = 1;
        pthread_mutex_unlock(&b->lock);
        if (pthread_create(&free_slot->thread, NULL, slot_main, free_slot) != 0) {
            pthread_mutex_lock(&b->lock);
            free_slot->started = 0;
            free_slot->conn = -1;
            pthread_mutex_unlock(&b->lock);
            refuse(conn, "jail: cannot start a thread", rt_now() + 0.1);
            close(conn);
        }
    }
}

void rt_jail_broker_close(rt_jail_broker *b)
{
    if (!b)
        return;
    __atomic_store_n(&b->cancel, 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&b->lock);
    for (int i = 0; i < RT_JAIL_MAX_JAILS; i++)
        if (b->slots[i].conn >= 0)
            shutdown(b->slots[i].conn, SHUT_RDWR);
    pthread_mutex_unlock(&b->lock);
    for (int i = 0; i < RT_JAIL_MAX_JAILS; i++)
        if (b->slots[i].started)
            pthread_join(b->slots[i].thread, NULL);
    close(b->listen_fd);
    unlink(b->path);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

/* ---- the client -------------------------------------------------------------------------- */

static const char jail_usage[] =
    "usage: ratchet-jail [--file NAME]... [--wall SECONDS] [--no-stdin] [--] COMMAND [ARGS...]\n"
    "Runs COMMAND in a sandbox of its own, beside the evaluator's: the named files of the\n"
    "current folder are copied into its empty working folder (read-only; executable when they\n"
    "are here), standard input is passed on (unless --no-stdin), and its output and exit status\n"
    "come back as its own (124: time limit; 125: another limit or a refusal; 127: could not\n"
    "start). It sees none of the evaluator's files or processes. Only inside a ratchet sandbox\n"
    "(RATCHET_JAIL names this program there); see docs/sandbox.md.\n";

static int client_fail(const char *fmt, const char *what)
{
    fprintf(stderr, "ratchet-jail: ");
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    return 125;
}

/* Sends the request built from the command line (--help was answered before). Returns 0, 2
 * (usage) or 125. */
static int client_send(int fd, int argc, char **argv)
{
    int i = 1, no_stdin = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--no-stdin") == 0) {
            no_stdin = 1;
        } else if ((strcmp(a, "--file") == 0 || strcmp(a, "--wall") == 0) && i + 1 < argc) {
            const char *v = argv[++i];
            if (a[2] == 'w') {
                double w;
                if (rt_parse_double(v, 0.001, 1e6, &w) != 0) {
                    fprintf(stderr, "ratchet-jail: --wall: not a number of seconds: %s\n", v);
                    return 2;
                }
                if (send_record(fd, 'W', v, strlen(v), 0))
                    return client_fail("cannot send: %s", strerror(errno));
                continue;
            }
            char *data = NULL;
            size_t len = 0;
            char err[256];
            struct stat st;
            if (!valid_file_name(v) || stat(v, &st) != 0 || !S_ISREG(st.st_mode) ||
                rt_read_file(v, RT_JAIL_MAX_BYTES, &data, &len, err, sizeof err) != 0) {
                fprintf(stderr, "ratchet-jail: --file %s: not a readable file of this folder\n",
                        v);
                return 2;
            }
            char head[260];
            head[0] = (st.st_mode & 0111) ? 1 : 0;
            memcpy(head + 1, v, strlen(v));
            int bad = send_record(fd, 'F', head, strlen(v) + 1, 0) ||
                      send_bytes(fd, 'D', data, len, 0);
            free(data);
            if (bad)
                return client_fail("cannot send: %s", strerror(errno));
        } else if (a[0] == '-') {
            fprintf(stderr, "ratchet-jail: unknown option %s (see ratchet-jail --help)\n", a);
            return 2;
        } else {
            break;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "ratchet-jail: no command (see ratchet-jail --help)\n");
        return 2;
    }
    for (; i < argc; i++)
        if (send_record(fd, 'A', argv[i], strlen(argv[i]), 0))
            return client_fail("cannot send: %s", strerror(errno));
    if (!no_stdin && !isatty(0)) {
        char buf[RT_JAIL_RECORD_MAX - 1];
        for (;;) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            if (send_record(fd, 'I', buf, (size_t)n, 0))
                return client_fail("cannot send: %s", strerror(errno));
        }
    }
    if (send_record(fd, 'E', NULL, 0, 0))
        return client_fail("cannot send: %s", strerror(errno));
    return 0;
}

static void write_all(int fd, const unsigned char *s, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, s, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        len -= (size_t)w;
    }
}

/* Reads the answer, relays the output, and returns the exit status to end with. */
static int client_receive(int fd)
{
    static unsigned char rec[RT_JAIL_RECORD_MAX + 1];
    for (;;) {
        ssize_t n = recv_record(fd, rec, 0, NULL);
        if (n <= 0)
            return client_fail("%s", "the broker closed the connection without a status");
        if (rec[0] == 'O' || rec[0] == 'R') {
            write_all(rec[0] == 'O' ? 1 : 2, rec + 1, (size_t)n - 1);
            continue;
        }
        rec[n] = '\0';
        if (rec[0] == 'X')
            return client_fail("refused: %s", (char *)rec + 1);
        int outcome = -1, code = -1, sig = 0, at = 0;
        if (rec[0] != 'S' || sscanf((char *)rec + 1, "%d %d %d %n", &outcome, &code, &sig, &at) < 3)
            return client_fail("%s", "a malformed status from the broker");
        const char *reason = (char *)rec + 1 + at;
        switch (outcome) {
        case RT_SANDBOX_EXITED:
            return code >= 0 && code <= 255 ? code : 125;
        case RT_SANDBOX_SIGNALED:
            fprintf(stderr, "ratchet-jail: %s\n", reason);
            return 128 + (sig > 0 && sig < 64 ? sig : 0);
        case RT_SANDBOX_TIMEOUT:
        case RT_SANDBOX_CPU:
            fprintf(stderr, "ratchet-jail: %s\n", reason);
            return 124;
        case RT_SANDBOX_SPAWN_FAILED:
            fprintf(stderr, "ratchet-jail: %s\n", reason);
            return 127;
        default:
            fprintf(stderr, "ratchet-jail: %s\n", reason);
            return 125;
        }
    }
}

int rt_jail_main(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(jail_usage, stdout);
            return 0;
        }
    const char *path = getenv("RATCHET_JAIL_SOCKET");
    if (!path || !path[0])
        path = "/run/ratchet/jail.sock";
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path)
        return client_fail("socket path too long: %s", path);
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int rc = client_fail("no jail here (%s): run this inside a ratchet sandbox", strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    int rc = client_send(fd, argc, argv);
    if (rc == 0)
        rc = client_receive(fd);
    close(fd);
    return rc;
}

int rt_jail_set_helper(const char *path)
{
    return rt_sandbox_set_jail_helper(path);
}
