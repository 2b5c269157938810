/* test_llm.c — the LLM client against a real HTTP server on 127.0.0.1 (tests/llm_server.c)
 * answering from scripted replies in tests/data/llm/: good replies, 500, 429 with Retry-After,
 * replies slower than the timeout, invalid JSON, a connection closed mid-reply, a refused
 * connection; then the reply parser, edit extraction, prompt templates and the model bandit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proposers/llm/llm.h"
#include "llm_server.h"
#include "testutil.h"

#define DATA "tests/data/llm"
#define KEY "sk-test-7f3a9c"

static rt_llm_client_opts client_opts(const llm_server *s)
{
    rt_llm_client_opts o = {
        .url = llm_server_url(s),
        .api_key = KEY,
        .timeout = 5,
        .connect_timeout = 2,
        .max_retries = 2,
        .backoff_base = 0.01,
        .backoff_max = 3,
    };
    return o;
}

static const rt_llm_request request = {
    .model = "test-model",
    .system = "You are terse.",
    .user = "Make it faster.\nLine two with \"quotes\".",
    .temperature = 0.7,
    .max_tokens = 256,
};

/* Runs one request with a script and returns the result (caller frees). */
static rt_llm_result run_script(llm_server *s, const char *const *names, size_t n,
                                const char *fallback, rt_llm_client_opts o)
{
    llm_server_script(s, names, n, fallback);
    rt_rng rng;
    rt_rng_seed(&rng, 7, 0);
    rt_llm_result res;
    assert_int_equal(rt_llm_complete(&o, &request, &rng, &res), 0);
    assert_null(strstr(res.error, KEY));
    return res;
}

static int setup(void **state)
{
    if (rt_llm_global_init())
        return -1;
    llm_server *s = llm_server_start(DATA);
    if (!s)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    llm_server_stop(*state);
    return 0;
}

static void test_good_reply(void **state)
{
    llm_server *s = *state;
    int before = llm_server_requests(s);
    const char *script[] = {"hello"};
    rt_llm_result res = run_script(s, script, 1, "invalid_json", client_opts(s));
    assert_int_equal(res.outcome, RT_LLM_OK);
    assert_int_equal(res.attempts, 1);
    assert_int_equal(res.retries, 0);
    assert_int_equal(res.http_status, 200);
    assert_string_equal(res.reply.content, "Hello from the scripted server.\n");
    assert_int_equal(res.reply.tokens_in, 31);
    assert_int_equal(res.reply.tokens_out, 7);
    assert_string_equal(res.reply.finish, "stop");
    assert_int_equal(llm_server_requests(s), before + 1);
    /* what went over the wire: the model, both messages, the key only in its header */
    char body[8192], auth[512];
    llm_server_last(s, body, sizeof body, auth, sizeof auth);
    assert_string_equal(auth, "Bearer " KEY);
    assert_non_null(strstr(body, "\"model\":\"test-model\""));
    assert_non_null(strstr(body, "\"role\":\"system\""));
    assert_non_null(strstr(body, "Line two with \\\"quotes\\\"."));
    assert_non_null(strstr(body, "\"max_tokens\":256"));
    assert_null(strstr(body, KEY));
    rt_llm_result_free(&res);
}

static void test_no_key_no_header(void **state)
{
    llm_server *s = *state;
    rt_llm_client_opts o = client_opts(s);
    o.api_key = NULL;
    const char *script[] = {"hello"};
    rt_llm_result res = run_script(s, script, 1, "invalid_json", o);
    assert_int_equal(res.outcome, RT_LLM_OK);
    char body[8192], auth[512];
    llm_server_last(s, body, sizeof body, auth, sizeof auth);
    assert_string_equal(auth, "");
    rt_llm_result_free(&res);
}

static void test_invalid_json_not_retried(void **state)
{
    llm_server *s = *state;
    int before = llm_server_requests(s);
    const char *script[] = {"invalid_json"};
    rt_llm_result res = run_script(s, script, 1, "hello", client_opts(s));
    assert_int_equal(res.outcome, RT_LLM_MALFORMED);
    assert_int_equal(res.attempts, 1);
    assert_non_null(strstr(res.error, "not JSON"));
    assert_int_equal(llm_server_requests(s), before + 1);
    rt_llm_result_free(&res);
}

static void test_not_an_object(void **state)
{
    llm_server *s = *state;
    const char *script[] = {"not_json_object"};
    rt_llm_result res = run_script(s, script, 1, "hello", client_opts(s));
    assert_int_equal(res.outcome, RT_LLM_MALFORMED);
    rt_llm_result_free(&res);
}

static void test_500_retried(void **state)
{
    llm_server *s = *state;
    const char *script[] = {"error_500", "error_500", "hello"};
    rt_llm_result res = run_script(s, script, 3, "invalid_json", client_opts(s));
    assert_int_equal(res.outcome, RT_LLM_OK);
    assert_int_equal(res.attempts, 3);
    assert_int_equal(res.retries, 2);
    rt_llm_result_free(&res);
    /* more failures than retries: the outcome says so, the status is kept */
    const char *script2[] = {"error_500", "error_500", "error_500", "hello"};
    res = run_script(s, script2, 4, "invalid_json", client_opts(s));
    assert_int_equal(res.outcome, RT_LLM_HTTP);
    assert_int_equal(res.http_status, 500);
    assert_int_equal(res.attempts, 3);
    rt_llm_result_free(&res);
}

static void test_429_honours_retry_after(void **state)
{
    llm_server *s = *state;
    const char *script[] = {"rate_429", "hello"};
    double t0 = tu_now();
    rt_llm_result res = run_script(s, script, 2, "invalid_json", client_opts(s));
    double took = tu_now() - t0;
    assert_int_equal(res.outcome, RT_LLM_OK);
    assert_int_equal(res.retries, 1);
    assert_int_equal(res.rate_limited, 1);
    /* the backoff alone would be 0.01 s; Retry-After says 1 s */
    assert_true(res.waited >= 0.99);
    assert_true(took >= 0.99);
    rt_llm_result_free(&res);
}

static void test_slow_reply_times_out(void **state)
{
    llm_server *s = *state;
    rt_llm_client_opts o = client_opts(s);
    o.timeout = 0.5;
    const char *script[] = {"slow"};
    double t0 = tu_now();
    rt_llm_result res = run_script(s, script, 1, "hello", o);
    double took = tu_now() - t0;
    assert_int_equal(res.outcome, RT_LLM_TIMEOUT);
    assert_int_equal(res.attempts, 1);
    assert_int_equal(res.reply.tokens_in, -1); /* no usage came: the caller estimates */
    assert_true(took < 2.5);
    rt_llm_result_free(&res);
}

static void test_closed_mid_reply_retried(void **state)
{
    llm_server *s = *state;
    const char *script[] = {"closed_midreply", "hello"};
    rt_llm_result res = run_script(s, script, 2, "invalid_json", client_opts(s));
    assert_int_equal(res.outcome, RT_LLM_OK);
    assert_int_equal(res.retries, 1);
    rt_llm_result_free(&res);
    const char *script2[] = {"closed_midreply"};
    res = run_script(s, script2, 1, "closed_midreply", client_opts(s));
    assert_int_equal(res.outcome, RT_LLM_CONNECT);
    assert_int_equal(res.attempts, 3);
    rt_llm_result_free(&res);
}

static void test_refused_connection(void **state)
{
    (void)state;
    /* a port that was just free: bind, read it, close */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/", ntohs(a.sin_port));
    rt_llm_client_opts o = {.url = url, .timeout = 2, .connect_timeout = 1, .max_retries = 2,
                            .backoff_base = 0.01, .backoff_max = 0.05};
    rt_rng rng;
    rt_rng_seed(&rng, 1, 0);
    rt_llm_result res;
    assert_int_equal(rt_llm_complete(&o, &request, &rng, &res), 0);
    assert_int_equal(res.outcome, RT_LLM_CONNECT);
    assert_int_equal(res.attempts, 3);
    assert_int_equal(res.http_status, 0);
    assert_non_null(strstr(res.error, url)); /* the cause names where it tried */
    rt_llm_result_free(&res);
    /* before any server answered, the proposer asks for no retry of a refused connection */
    o.fail_fast_connect = 1;
    assert_int_equal(rt_llm_complete(&o, &request, &rng, &res), 0);
    assert_int_equal(res.outcome, RT_LLM_CONNECT);
    assert_int_equal(res.attempts, 1);
    rt_llm_result_free(&res);
}

static void test_empty_and_truncated(void **state)
{
    llm_server *s = *state;
    const char *script[] = {"empty"};
    rt_llm_result res = run_script(s, script, 1, "hello", client_opts(s));
    assert_int_equal(res.outcome, RT_LLM_EMPTY);
    assert_int_equal(res.reply.tokens_in, 80);
    rt_llm_result_free(&res);
    const char *script2[] = {"truncated"};
    res = run_script(s, script2, 1, "hello", client_opts(s));
    assert_int_equal(res.outcome, RT_LLM_TRUNCATED);
    assert_int_equal(res.reply.tokens_out, 4096);
    rt_llm_result_free(&res);
}

typedef struct stopper {
    volatile int *flag;
    double after;
} stopper;

/* Raises the flag after a delay (a thread standing in for Ctrl-C). */
static void *raise_stop(void *arg)
{
    stopper *s = arg;
    double t0 = tu_now();
    while (tu_now() - t0 < s->after)
        usleep(10000);
    *s->flag = 1;
    return NULL;
}

/* The run stops while a slow reply is awaited: the attempt is abandoned at once (the flag is
 * looked at every 50 ms; curl's progress callback alone may wait a second). */
static void test_stop_abandons_slow_reply(void **state)
{
    llm_server *s = *state;
    volatile int stop = 0;
    rt_llm_client_opts o = client_opts(s);
    o.stop = &stop;
    o.timeout = 30;
    const char *script[] = {"slow"};
    llm_server_script(s, script, 1, "hello");
    stopper st = {&stop, 0.2};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, raise_stop, &st), 0);
    rt_rng rng;
    rt_rng_seed(&rng, 7, 0);
    rt_llm_result res;
    double t0 = tu_now();
    assert_int_equal(rt_llm_complete(&o, &request, &rng, &res), 0);
    double took = tu_now() - t0;
    pthread_join(t, NULL);
    assert_int_equal(res.outcome, RT_LLM_CONNECT);
    assert_string_equal(res.error, "stopped");
    assert_int_equal(res.attempts, 1);
    assert_true(took < 0.7); /* stopped at 0.2 s; the reply would take 2 s */
    rt_llm_result_free(&res);
}

/* The run stops while the client waits to retry: no further attempt is made. */
static void test_stop_flag_ends_retries(void **state)
{
    llm_server *s = *state;
    volatile int stop = 0;
    rt_llm_client_opts o = client_opts(s);
    o.stop = &stop;
    o.max_retries = 5;
    o.backoff_base = 1.0; /* the first wait is 0.5 to 1 s */
    const char *script[] = {"error_500", "error_500"};
    llm_server_script(s, script, 2, "hello");
    int before = llm_server_requests(s);
    stopper st = {&stop, 0.2};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, raise_stop, &st), 0);
    rt_rng rng;
    rt_rng_seed(&rng, 7, 0);
    rt_llm_result res;
    double t0 = tu_now();
    assert_int_equal(rt_llm_complete(&o, &request, &rng, &res), 0);
    double took = tu_now() - t0;
    pthread_join(t, NULL);
    assert_int_equal(res.outcome, RT_LLM_HTTP);
    assert_int_equal(res.attempts, 1);
    assert_int_equal(llm_server_requests(s) - before, 1);
    assert_true(took < 0.45);
    rt_llm_result_free(&res);
}

/* ---- parser and edits -------------------------------------------------------------------- */

static void test_parse_reply(void **state)
{
    (void)state;
    rt_llm_reply r;
    char err[256];
    const char *ok = "{\"choices\":[{\"message\":{\"content\":\"x\\ny\"},\"finish_reason\":\"stop\"}],"
                     "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}";
    assert_int_equal(rt_llm_parse_reply(ok, strlen(ok), &r, err, sizeof err), 0);
    assert_string_equal(r.content, "x\ny");
    assert_int_equal(r.tokens_in, 3);
    rt_llm_reply_free(&r);
    const char *no_usage = "{\"choices\":[{\"message\":{\"content\":null}}]}";
    assert_int_equal(rt_llm_parse_reply(no_usage, strlen(no_usage), &r, err, sizeof err), 0);
    assert_int_equal(r.len, 0);
    assert_int_equal(r.tokens_in, -1);
    rt_llm_reply_free(&r);
    static const char *const bad[] = {
        "", "null", "{}", "{\"choices\":[]}", "{\"choices\":[1]}",
        "{\"choices\":[{\"message\":{\"content\":5}}]}",
        "{\"error\":{\"message\":\"quota\"}}",
        "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"choices\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(rt_llm_parse_reply(bad[i], strlen(bad[i]), &r, err, sizeof err),
                         RT_EUSAGE);
        assert_null(r.content);
    }
    assert_int_equal(rt_llm_parse_reply(bad[6], strlen(bad[6]), &r, err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "quota"));
}

static void test_extract_diff(void **state)
{
    (void)state;
    const char *c = "I change the step.\n```\n<<<<<<< SEARCH\nx=3\n=======\nx=4\n>>>>>>> REPLACE\n"
                    "<<<<<<< SEARCH\ny=1\n=======\n>>>>>>> REPLACE\n```\nDone.\n";
    size_t start, span;
    int n;
    char err[256];
    assert_int_equal(rt_llm_extract_edit(c, strlen(c), RT_LLM_DIFF, &start, &span, &n, err,
                                         sizeof err), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(c + start, "<<<<<<< SEARCH\nx=3", 18);
    assert_memory_equal(c + start + span - 16, ">>>>>>> REPLACE\n", 16);
    static const char *const bad[] = {
        "no blocks at all\n",
        "<<<<<<< SEARCH\nx\n=======\ny\n",                /* cut short */
        "<<<<<<< SEARCH\n=======\ny\n>>>>>>> REPLACE\n", /* empty search */
        "<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n",          /* no divider */
        "=======\n",
        "<<<<<<< SEARCH\nx\n=======\n=======\n>>>>>>> REPLACE\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rt_llm_extract_edit(bad[i], strlen(bad[i]), RT_LLM_DIFF, &start, &span,
                                             &n, err, sizeof err),
                         RT_EINVALID);
}

static void test_extract_full(void **state)
{
    (void)state;
    size_t start, span;
    int n;
    char err[256];
    const char *c = "Short:\n```c\nint a;\n```\nLonger:\n```c\nint main(void)\n{\n}\n```\n";
    assert_int_equal(rt_llm_extract_edit(c, strlen(c), RT_LLM_FULL, &start, &span, &n, err,
                                         sizeof err), 0);
    assert_int_equal(span, strlen("int main(void)\n{\n}\n"));
    assert_memory_equal(c + start, "int main(void)\n{\n}\n", span);
    const char *bare = "\n\nx=1\necho $x\n\n\n";
    assert_int_equal(rt_llm_extract_edit(bare, strlen(bare), RT_LLM_FULL, &start, &span, &n, err,
                                         sizeof err), RT_EINVALID);
    const char *open = "```c\nint a;\n";
    assert_int_equal(rt_llm_extract_edit(open, strlen(open), RT_LLM_FULL, &start, &span, &n, err,
                                         sizeof err), RT_EINVALID);
    const char *blank = "```\n\n```\n";
    assert_int_equal(rt_llm_extract_edit(blank, strlen(blank), RT_LLM_FULL, &start, &span, &n,
                                         err, sizeof err), RT_EINVALID);
}

/* ---- prompts ----------------------------------------------------------------------------- */

static void test_prompt_templates(void **state)
{
    (void)state;
    rt_llm_templates t;
    char err[512];
    assert_int_equal(rt_llm_templates_load(&t, "prompts", "default", err, sizeof err), 0);
    rt_llm_program insp[2] = {
        {.text = "x=9\n", .len = 4, .score = 9},
        {.text = "y=2", .len = 3, .score = 2},
    };
    rt_llm_attempt hist[1] = {{.model = "m1", .mode = "diff", .outcome = "invalid: too big"}};
    rt_llm_context ctx = {
        .parent = {.text = "x=3\n", .len = 4, .score = 3, .metrics = "{\"steps\": 4}",
                   .artifacts = "stderr: warning {{parent}}"},
        .inspirations = insp,
        .ninspirations = 2,
        .history = hist,
        .nhistory = 1,
        .language = "sh",
    };
    rt_buf out;
    rt_buf_init(&out, 0);
    assert_int_equal(rt_llm_prompt_build(&t, &ctx, RT_LLM_DIFF, 4096, &out), 0);
    const char *p = rt_buf_cstr(&out);
    assert_non_null(strstr(p, "```sh\nx=3\n```"));
    assert_non_null(strstr(p, "verified score 3)"));
    assert_non_null(strstr(p, "{\"steps\": 4}"));
    assert_non_null(strstr(p, "stderr: warning {{parent}}")); /* substituted once only */
    assert_non_null(strstr(p, "Inspiration 2, score 2:\n```sh\ny=2\n```"));
    assert_non_null(strstr(p, "- diff (m1): invalid: too big"));
    assert_non_null(strstr(p, "<<<<<<< SEARCH"));
    rt_buf_reset(&out);
    assert_int_equal(rt_llm_prompt_build(&t, &ctx, RT_LLM_FULL, 8, &out), 0);
    p = rt_buf_cstr(&out);
    assert_null(strstr(p, "<<<<<<< SEARCH"));
    assert_non_null(strstr(p, "complete new program"));
    assert_non_null(strstr(p, "stderr: \n[... 18 more bytes cut ...]"));
    rt_buf_free(&out);
    rt_llm_templates_free(&t);

    /* a typo in a placeholder is named with its file and line */
    char dir[256];
    assert_int_equal(tu_tempdir(dir, sizeof dir, "prompts"), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/mine", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    static const char *const files[] = {"system.md", "user.md", "diff.md", "full.md"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/mine/%s", dir, files[i]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(i == 1 ? "line one\nthe {{parnet}}\n" : "ok {{language}}\n", f);
        fclose(f);
    }
    assert_int_equal(rt_llm_templates_load(&t, dir, "mine", err, sizeof err), RT_EUSAGE);
    assert_non_null(strstr(err, "user.md:2: unknown placeholder {{parnet}}"));
    assert_int_equal(rt_llm_templates_load(&t, dir, "../mine", err, sizeof err), RT_EUSAGE);
    assert_int_equal(rt_llm_templates_load(&t, dir, "absent", err, sizeof err), RT_EIO);
    tu_rmtree(dir);
}

/* ---- bandit and backoff ------------------------------------------------------------------ */

static void test_bandit(void **state)
{
    (void)state;
    rt_llm_bandit b;
    rt_llm_bandit_init(&b, 3, 0.5);
    /* every model once first */
    assert_int_equal(rt_llm_bandit_pick(&b), 0);
    assert_int_equal(rt_llm_bandit_pick(&b), 1);
    assert_int_equal(rt_llm_bandit_pick(&b), 2);
    /* model 1 improves half the time at the same cost; models 0 and 2 never */
    int picks[3] = {0, 0, 0};
    for (int i = 0; i < 600; i++) {
        int m = i < 3 ? i : rt_llm_bandit_pick(&b);
        if (i >= 3)
            picks[m]++;
        rt_llm_bandit_update(&b, m, m == 1 && i % 2 ? 1.0 : 0.0, 1000);
    }
    assert_true(picks[1] > picks[0] + picks[2]);
    /* same success rate, one model five times dearer: the cheap one is preferred */
    rt_llm_bandit_init(&b, 2, 0.2);
    picks[0] = picks[1] = 0;
    for (int i = 0; i < 400; i++) {
        int m = rt_llm_bandit_pick(&b);
        picks[m]++;
        rt_llm_bandit_update(&b, m, i % 3 == 0 ? 1.0 : 0.0, m == 0 ? 5000 : 1000);
    }
    assert_true(picks[1] > 2 * picks[0]);
}

static void test_backoff(void **state)
{
    (void)state;
    rt_rng rng;
    rt_rng_seed(&rng, 3, 0);
    for (int i = 0; i < 100; i++) {
        double d1 = rt_llm_backoff(1, 30, 1, 0, &rng);
        double d3 = rt_llm_backoff(1, 30, 3, 0, &rng);
        double d9 = rt_llm_backoff(1, 30, 9, 0, &rng);
        assert_true(d1 >= 0.5 && d1 <= 1);
        assert_true(d3 >= 2 && d3 <= 4);
        assert_true(d9 >= 15 && d9 <= 30);
        assert_true(rt_llm_backoff(1, 30, 1, 7, &rng) == 7);
        assert_true(rt_llm_backoff(1, 30, 1, 300, &rng) == 30);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_reply),
        cmocka_unit_test(test_no_key_no_header),
        cmocka_unit_test(test_invalid_json_not_retried),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_500_retried),
        cmocka_unit_test(test_429_honours_retry_after),
        cmocka_unit_test(test_slow_reply_times_out),
        cmocka_unit_test(test_closed_mid_reply_retried),
        cmocka_unit_test(test_empty_and_truncated),
        cmocka_unit_test(test_stop_flag_ends_retries),
        cmocka_unit_test(test_stop_abandons_slow_reply),
        cmocka_unit_test(test_refused_connection),
        cmocka_unit_test(test_parse_reply),
        cmocka_unit_test(test_extract_diff),
        cmocka_unit_test(test_extract_full),
        cmocka_unit_test(test_prompt_templates),
        cmocka_unit_test(test_bandit),
        cmocka_unit_test(test_backoff),
    };
    /* one group (the server runs for all of it), so that tests/run.sh counts every test */
    return cmocka_run_group_tests_name("llm client on loopback, parsing, prompts, bandit", tests,
                                       setup, teardown);
}
