/* llm_client.c — one chat completion request over HTTP with libcurl, with timeouts, capped
 * bodies and retries (exponential backoff with jitter; a server's Retry-After honoured).
 *
 * Each call uses its own easy handle, so calls may run on several threads at once once
 * rt_llm_global_init has run. The API key goes only into the Authorization header, built in a
 * buffer that is wiped after the request; no message here ever includes it (curl's verbose mode
 * stays off, and error lines are built from curl's error codes and the HTTP status only).
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proposers/llm/llm.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : RT_EINTERNAL;
}

int rt_llm_global_init(void)
{
    pthread_once(&global_once, global_init_once);
    return global_rc;
}

void rt_llm_result_free(rt_llm_result *res)
{
    if (res)
        rt_llm_reply_free(&res->reply);
}

double rt_llm_backoff(double base, double max, int retry, double retry_after, rt_rng *rng)
{
    if (!(base > 0))
        base = 0;
    if (!(max > 0))
        max = 0;
    double d = base;
    for (int i = 1; i < retry && d < max; i++)
        d *= 2;
    if (d > max)
        d = max;
    d = d / 2 + (d / 2) * rt_rng_unit(rng);
    if (retry_after > d)
        d = retry_after;
    return d > max ? max : d;
}

/* Sleeps for seconds, in short steps so that a stop request is seen; returns the time slept. */
static double nap(double seconds, const volatile int *stop)
{
    double t0 = rt_now(), left = seconds;
    while (left > 0 && !(stop && *stop)) {
        double step = left < 0.05 ? left : 0.05;
        struct timespec ts = {(time_t)step, (long)((step - (double)(time_t)step) * 1e9)};
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
            ;
        left = seconds - (rt_now() - t0);
    }
    return rt_now() - t0;
}

/* The response body, capped. */
typedef struct sink {
    rt_buf body;
    int over;
} sink;

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    sink *s = user;
    size_t n = size * nmemb;
    if (rt_buf_append(&s->body, data, n)) {
        s->over = 1;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    return n;
}

/* The request body as JSON text (caller frees), or NULL when out of memory. */
static char *request_json(const rt_llm_request *req)
{
    json_t *root = json_object();
    json_t *msgs = json_array();
    char *text = NULL;
    if (!root || !msgs)
        goto done;
    if (req->system && *req->system) {
        if (json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system", "content",
                                                  req->system)))
            goto done;
    }
    if (json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content",
                                              req->user ? req->user : "")))
        goto done;
    if (json_object_set_new(root, "model", json_string(req->model)) ||
        json_object_set(root, "messages", msgs) ||
        json_object_set_new(root, "temperature", json_real(req->temperature)) ||
        json_object_set_new(root, "stream", json_false()))
        goto done;
    if (req->max_tokens > 0 &&
        json_object_set_new(root, "max_tokens", json_integer(req->max_tokens)))
        goto done;
    text = json_dumps(root, JSON_COMPACT);
done:
    json_decref(msgs);
    json_decref(root);
    return text;
}

/* curl's progress callback: a non-zero return aborts the transfer, so that a stopped run does
 * not wait for a slow model to finish (curl calls it at least about once a second). */
static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const volatile int *stop = user;
    return stop && *stop;
}

static int retryable_curl(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* The chat completions URL of the server's base URL (trailing slashes dropped) into url.
 * Returns 0, or RT_EUSAGE with out->error set. */
static int chat_url(const char *base, char *url, size_t len, rt_llm_result *out)
{
    size_t ulen = strlen(base);
    while (ulen && base[ulen - 1] == '/')
        ulen--;
    if (ulen == 0 || ulen > 1900 || ulen + sizeof "/chat/completions" > len) {
        snprintf(out->error, sizeof out->error, "bad server URL");
        return RT_EUSAGE;
    }
    snprintf(url, len, "%.*s/chat/completions", (int)ulen, base);
    return 0;
}

/* The request's headers into *headers (NULL or a list the caller frees, after wiping it: it may
 * hold the key), the Authorization line built in auth. Returns 0, or RT_EUSAGE / RT_ENOMEM with
 * out->error set. */
static int make_headers(const rt_llm_client_opts *opts, char *auth, size_t authlen,
                        struct curl_slist **headers, rt_llm_result *out)
{
    struct curl_slist *list = curl_slist_append(NULL, "Content-Type: application/json");
    *headers = list;
    if (list && opts->api_key && *opts->api_key) {
        if (strlen(opts->api_key) > 900) {
            snprintf(out->error, sizeof out->error, "API key is over 900 bytes");
            return RT_EUSAGE;
        }
        snprintf(auth, authlen, "Authorization: Bearer %s", opts->api_key);
        struct curl_slist *h = curl_slist_append(list, auth);
        if (!h) {
            curl_slist_free_all(list);
            list = NULL;
        } else {
            list = h;
        }
    }
    if (list) {
        /* curl does not need "Expect: 100-continue" round trips for small bodies */
        struct curl_slist *h = curl_slist_append(list, "Expect:");
        if (h)
            list = h;
    }
    *headers = list;
    if (!list) {
        snprintf(out->error, sizeof out->error, "out of memory");
        return RT_ENOMEM;
    }
    return 0;
}

/* Sets up one POST of payload to url, its body going to s. */
static void set_request(CURL *curl, const rt_llm_client_opts *opts, const char *url,
                        struct curl_slist *headers, const char *payload, sink *s)
{
    long timeout_ms = (long)(opts->timeout * 1000);
    long connect_ms = (long)(opts->connect_timeout * 1000);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(payload));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms > 0 ? connect_ms : 1);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "ratchet/" RT_VERSION);
    if (opts->stop) {
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)(uintptr_t)opts->stop);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }
}

/* Reads a 200 reply's body into out->reply and names its outcome. Returns 0 or RT_ENOMEM. */
static int judge_body(const sink *s, rt_llm_result *out)
{
    char why[256];
    int prc = rt_llm_parse_reply(s->body.data ? s->body.data : "", s->body.len, &out->reply, why,
                                 sizeof why);
    if (prc == RT_ENOMEM) {
        snprintf(out->error, sizeof out->error, "out of memory");
        return RT_ENOMEM;
    }
    if (prc) {
        out->outcome = RT_LLM_MALFORMED;
        snprintf(out->error, sizeof out->error, "%s", why);
    } else if (strcmp(out->reply.finish, "length") == 0) {
        out->outcome = RT_LLM_TRUNCATED;
        snprintf(out->error, sizeof out->error, "reply cut at the token limit");
    } else if (out->reply.len == 0) {
        out->outcome = RT_LLM_EMPTY;
        snprintf(out->error, sizeof out->error, "reply has no content");
    } else {
        out->outcome = RT_LLM_OK;
        out->error[0] = '\0';
    }
    return 0;
}

/* The outcome of one attempt from curl's code and the HTTP status; *retry says whether another
 * attempt may do better. Returns 0 or RT_ENOMEM. */
static int judge_attempt(const rt_llm_client_opts *opts, CURLcode c, long status, const sink *s,
                         rt_llm_result *out, int *retry)
{
    *retry = 0;
    if (c == CURLE_OK && status == 200)
        return judge_body(s, out);
    if (c == CURLE_WRITE_ERROR && s->over) {
        out->outcome = RT_LLM_TOOBIG;
        snprintf(out->error, sizeof out->error, "reply over %zu bytes", RT_LLM_MAX_BODY);
    } else if (c == CURLE_OPERATION_TIMEDOUT) {
        out->outcome = RT_LLM_TIMEOUT;
        snprintf(out->error, sizeof out->error, "no complete reply within %g s", opts->timeout);
    } else if (c == CURLE_ABORTED_BY_CALLBACK) {
        out->outcome = RT_LLM_CONNECT;
        snprintf(out->error, sizeof out->error, "stopped");
    } else if (c != CURLE_OK) {
        out->outcome = RT_LLM_CONNECT;
        snprintf(out->error, sizeof out->error, "%s (%.200s)", curl_easy_strerror(c), opts->url);
        *retry = retryable_curl(c) &&
                 !(opts->fail_fast_connect &&
                   (c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST));
    } else {
        out->outcome = RT_LLM_HTTP;
        snprintf(out->error, sizeof out->error, "HTTP status %ld", status);
        if (status == 429)
            out->rate_limited++;
        *retry = status == 429 || status >= 500 || status == 408;
    }
    return 0;
}

/* Runs the transfer as curl_easy_perform does, but looks at the stop flag every 50 ms: the
 * progress callback alone may wait a second between calls while a server is silent, and a
 * stopping run abandons its requests within 0.1 s (docs/scheduling.md). */
static CURLcode perform(CURL *curl, const volatile int *stop)
{
    CURLM *m = curl_multi_init();
    if (!m)
        return curl_easy_perform(curl);
    if (curl_multi_add_handle(m, curl) != CURLM_OK) {
        curl_multi_cleanup(m);
        return curl_easy_perform(curl);
    }
    CURLcode rc = CURLE_OK;
    int running = 1;
    for (;;) {
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            rc = CURLE_OUT_OF_MEMORY;
            break;
        }
        if (!running)
            break;
        if (stop && *stop) {
            rc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        curl_multi_poll(m, NULL, 0, 50, NULL);
    }
    CURLMsg *msg;
    int left;
    while (!running && (msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE)
            rc = msg->data.result;
    curl_multi_remove_handle(m, curl);
    curl_multi_cleanup(m);
    return rc;
}

/* One attempt: sends the request and judges the answer (out->outcome, out->error). Returns 0,
 * or RT_ENOMEM; *retry and *retry_after (seconds the server asked to wait, or 0) for the next. */
static int attempt_once(const rt_llm_client_opts *opts, const char *url,
                        struct curl_slist *headers, const char *payload, rt_llm_result *out,
                        int *retry, curl_off_t *retry_after)
{
    *retry = 0;
    *retry_after = 0;
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(out->error, sizeof out->error, "cannot start a request (out of memory?)");
        return RT_ENOMEM;
    }
    sink s;
    rt_buf_init(&s.body, RT_LLM_MAX_BODY);
    s.over = 0;
    set_request(curl, opts, url, headers, payload, &s);
    out->attempts++;
    CURLcode c = perform(curl, opts->stop);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, retry_after) != CURLE_OK)
        *retry_after = 0;
    curl_easy_cleanup(curl);
    out->http_status = (int)status;
    int rc = judge_attempt(opts, c, status, &s, out, retry);
    rt_buf_free(&s.body);
    return rc;
}

int rt_llm_complete(const rt_llm_client_opts *opts, const rt_llm_request *req, rt_rng *rng,
                    rt_llm_result *out)
{
    memset(out, 0, sizeof *out);
    out->outcome = RT_LLM_CONNECT;
    out->reply.tokens_in = out->reply.tokens_out = -1; /* "not reported" until a reply says */
    char url[2048];
    if (chat_url(opts->url, url, sizeof url, out))
        return RT_EUSAGE;
    char *payload = request_json(req);
    if (!payload) {
        snprintf(out->error, sizeof out->error, "out of memory");
        return RT_ENOMEM;
    }
    char auth[1024];
    auth[0] = '\0';
    struct curl_slist *headers = NULL;
    int rc = make_headers(opts, auth, sizeof auth, &headers, out);
    if (rc)
        goto done;
    double t0 = rt_now();
    for (int attempt = 0;; attempt++) {
        if (attempt > 0) {
            if (opts->stop && *opts->stop)
                break;
            out->retries++;
        }
        int retry;
        curl_off_t retry_after;
        if ((rc = attempt_once(opts, url, headers, payload, out, &retry, &retry_after)))
            goto done;
        if (!retry || attempt >= opts->max_retries || (opts->stop && *opts->stop))
            break;
        double wait = rt_llm_backoff(opts->backoff_base, opts->backoff_max, attempt + 1,
                                     (double)retry_after, rng);
        out->waited += nap(wait, opts->stop);
    }
    out->latency = rt_now() - t0;
done:
    for (struct curl_slist *h = headers; h; h = h->next) /* the copy of the key, too */
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(headers);
    explicit_bzero(auth, sizeof auth);
    free(payload);
    return rc;
}
