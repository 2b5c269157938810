/* llm_server.c — the scripted chat completions server of the LLM tests (see llm_server.h). */
#include "llm_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SCRIPT 256
#define MAX_CONN 256
#define MAX_REQ (1 << 20)

struct llm_server {
    int fd;
    char dir[1024];
    char url[128];
    pthread_t acceptor;
    volatile int stopping;
    pthread_mutex_t mu;
    char *script[MAX_SCRIPT];
    size_t nscript, next;
    char fallback[128];
    pthread_t conns[MAX_CONN];
    int nconns;
    int requests, in_flight, max_in_flight;
    char last_body[8192];
    char last_auth[512];
};

typedef struct conn {
    llm_server *s;
    int fd;
} conn;

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one request (headers and a Content-Length body) into a fresh string; NULL on failure. */
static char *read_request(int fd, size_t *hdr_len)
{
    size_t cap = 65536, len = 0, need = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return NULL;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            break;
        if (len == cap) {
            if (cap >= MAX_REQ)
                break;
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        if (!need) {
            char *end = strstr(buf, "\r\n\r\n");
            if (!end)
                continue;
            *hdr_len = (size_t)(end - buf) + 4;
            size_t body = 0;
            for (char *h = buf; h < end;) {
                if (strncasecmp(h, "Content-Length:", 15) == 0)
                    body = (size_t)strtoul(h + 15, NULL, 10);
                char *nl = strstr(h, "\r\n");
                if (!nl)
                    break;
                h = nl + 2;
            }
            need = *hdr_len + body;
        }
        if (need && len >= need)
            return buf;
    }
    free(buf);
    return NULL;
}

/* A scripted reply. */
typedef struct reply {
    int status;
    double delay;
    int retry_after;
    long close_after;
    int wrap;
    long tokens_in, tokens_out;
    char finish[32];
    char *body;
} reply;

static int load_reply(const char *dir, const char *name, reply *r)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
    r->close_after = -1;
    r->tokens_in = 100;
    r->tokens_out = 50;
    snprintf(r->finish, sizeof r->finish, "stop");
    char path[1300];
    snprintf(path, sizeof path, "%s/%s.reply", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "llm_server: cannot open %s\n", path);
        return -1;
    }
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strcmp(line, "---\n") == 0)
            break;
        if (line[0] == '#')
            continue;
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ')
            v++;
        v[strcspn(v, "\n")] = '\0';
        if (strcmp(line, "status") == 0)
            r->status = (int)strtol(v, NULL, 10);
        else if (strcmp(line, "delay") == 0)
            r->delay = strtod(v, NULL);
        else if (strcmp(line, "retry-after") == 0)
            r->retry_after = (int)strtol(v, NULL, 10);
        else if (strcmp(line, "close-after") == 0)
            r->close_after = strtol(v, NULL, 10);
        else if (strcmp(line, "wrap") == 0)
            r->wrap = strcmp(v, "yes") == 0;
        else if (strcmp(line, "tokens") == 0)
            sscanf(v, "%ld %ld", &r->tokens_in, &r->tokens_out);
        else if (strcmp(line, "finish") == 0)
            snprintf(r->finish, sizeof r->finish, "%s", v);
    }
    size_t cap = 4096, len = 0;
    r->body = malloc(cap);
    size_t got;
    while (r->body && (got = fread(r->body + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *nb = realloc(r->body, cap * 2);
            if (!nb) {
                free(r->body);
                r->body = NULL;
                break;
            }
            r->body = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!r->body)
        return -1;
    r->body[len] = '\0';
    if (r->wrap) {
        json_t *o = json_pack("{s:s, s:s, s:[{s:i, s:{s:s, s:s}, s:s}], s:{s:i, s:i, s:i}}",
                              "id", "chatcmpl-test", "object", "chat.completion", "choices",
                              "index", 0, "message", "role", "assistant", "content", r->body,
                              "finish_reason", r->finish, "usage", "prompt_tokens",
                              (json_int_t)r->tokens_in, "completion_tokens",
                              (json_int_t)r->tokens_out, "total_tokens",
                              (json_int_t)(r->tokens_in + r->tokens_out));
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        free(r->body);
        r->body = text;
        if (!text)
            return -1;
    }
    return 0;
}

static void *serve(void *arg)
{
    conn *c = arg;
    llm_server *s = c->s;
    size_t hdr_len = 0;
    char *req = read_request(c->fd, &hdr_len);
    if (!req)
        goto done;
    pthread_mutex_lock(&s->mu);
    s->requests++;
    s->in_flight++;
    if (s->in_flight > s->max_in_flight)
        s->max_in_flight = s->in_flight;
    snprintf(s->last_body, sizeof s->last_body, "%s", req + hdr_len);
    s->last_auth[0] = '\0';
    for (char *h = strstr(req, "\r\n"); h && h < req + hdr_len; h = strstr(h + 2, "\r\n"))
        if (strncasecmp(h + 2, "Authorization:", 14) == 0) {
            const char *v = h + 16;
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, "\r\n");
            snprintf(s->last_auth, sizeof s->last_auth, "%.*s", (int)n, v);
        }
    char name[128];
    if (s->next < s->nscript)
        snprintf(name, sizeof name, "%s", s->script[s->next++]);
    else
        snprintf(name, sizeof name, "%s", s->fallback);
    pthread_mutex_unlock(&s->mu);
    free(req);

    reply r;
    if (load_reply(s->dir, name, &r) == 0) {
        if (r.delay > 0)
            sleep_s(r.delay);
        /* no longer "being answered" once the reply goes out: the client may send its next
         * request as soon as it has read this one */
        pthread_mutex_lock(&s->mu);
        s->in_flight--;
        pthread_mutex_unlock(&s->mu);
        size_t blen = strlen(r.body);
        char head[512];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 %d Scripted\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n",
                         r.status, blen);
        if (r.retry_after > 0)
            n += snprintf(head + n, sizeof head - (size_t)n, "Retry-After: %d\r\n",
                          r.retry_after);
        n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
        if (send_all(c->fd, head, (size_t)n) == 0) {
            size_t send_n = r.close_after >= 0 && (size_t)r.close_after < blen
                                ? (size_t)r.close_after
                                : blen;
            send_all(c->fd, r.body, send_n);
        }
        free(r.body);
    } else {
        pthread_mutex_lock(&s->mu);
        s->in_flight--;
        pthread_mutex_unlock(&s->mu);
    }
done:
    shutdown(c->fd, SHUT_RDWR);
    close(c->fd);
    free(c);
    return NULL;
}

static void *acceptor(void *arg)
{
    llm_server *s = arg;
    while (!s->stopping) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        conn *c = malloc(sizeof *c);
        pthread_mutex_lock(&s->mu);
        int room = s->nconns < MAX_CONN;
        pthread_mutex_unlock(&s->mu);
        if (!c || !room) {
            free(c);
            close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        pthread_t t;
        if (pthread_create(&t, NULL, serve, c) != 0) {
            close(fd);
            free(c);
            continue;
        }
        pthread_mutex_lock(&s->mu);
        s->conns[s->nconns++] = t;
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

llm_server *llm_server_start(const char *dir)
{
    llm_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    snprintf(s->fallback, sizeof s->fallback, "invalid_json");
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->fd, 64) != 0 || getsockname(s->fd, (struct sockaddr *)&a, &alen) != 0) {
        fprintf(stderr, "llm_server: cannot listen on 127.0.0.1: %s\n", strerror(errno));
        goto fail;
    }
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/v1", ntohs(a.sin_port));
    if (pthread_create(&s->acceptor, NULL, acceptor, s) != 0)
        goto fail;
    return s;
fail:
    if (s->fd >= 0)
        close(s->fd);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return NULL;
}

void llm_server_stop(llm_server *s)
{
    if (!s)
        return;
    s->stopping = 1;
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->nconns; i++)
        pthread_join(s->conns[i], NULL);
    close(s->fd);
    for (size_t i = 0; i < s->nscript; i++)
        free(s->script[i]);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

const char *llm_server_url(const llm_server *s) { return s->url; }

void llm_server_script(llm_server *s, const char *const *names, size_t n, const char *fallback)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nscript; i++)
        free(s->script[i]);
    s->nscript = s->next = 0;
    for (size_t i = 0; i < n && i < MAX_SCRIPT; i++) {
        s->script[i] = strdup(names[i]);
        if (s->script[i])
            s->nscript++;
    }
    snprintf(s->fallback, sizeof s->fallback, "%s", fallback ? fallback : "invalid_json");
    pthread_mutex_unlock(&s->mu);
}

int llm_server_requests(llm_server *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int llm_server_max_in_flight(llm_server *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->max_in_flight;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void llm_server_last(llm_server *s, char *body, size_t body_len, char *auth, size_t auth_len)
{
    pthread_mutex_lock(&s->mu);
    snprintf(body, body_len, "%s", s->last_body);
    snprintf(auth, auth_len, "%s", s->last_auth);
    pthread_mutex_unlock(&s->mu);
}
