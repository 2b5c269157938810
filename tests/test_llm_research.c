/* test_llm_research.c — `ratchet research --proposer llm` against the scripted loopback server
 * (tests/llm_server.c): the prompt carries the ledger of past experiments (what changed, the
 * validation figure of each run, keep or discard, the verified figure) and never the test
 * metric, neither its name nor its values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "llm_server.h"
#include "testutil.h"

#define DATA "tests/data/llm"

/* val_loss 1 + W / 10 with a spread of about 0.01; test_loss about 42.4242, a figure that
 * appears nowhere else (the program spells neither metric's name nor that number). */
static const char TRAIN[] =
    "#!/bin/sh\n"
    "W=5\n"
    "v=val; t=test\n"
    "awk -v s=\"$RATCHET_SEED\" -v w=\"$W\" -v v=\"$v\" -v t=\"$t\" 'BEGIN { srand(s); u = 0;"
    " for (i = 0; i < 12; i++) u += rand();"
    " printf \"%s_loss: %.6f\\n%s_loss: %.6f\\n\", v, 1 + 0.1 * w + 0.01 * (u - 6),"
    " t, 40 + 2.4242 + 0.00001 * rand() }'\n";

static void the_llm_prompt_carries_the_ledger_without_the_test_metric(void **state)
{
    (void)state;
    char dir[256], path[512], cmd[4096];
    assert_int_equal(tu_tempdir(dir, sizeof dir, "llm-research"), 0);
    snprintf(path, sizeof path, "%s/proj", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/proj/train.sh", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(TRAIN, f);
    fclose(f);
    chmod(path, 0755);
    llm_server *server = llm_server_start(DATA);
    assert_non_null(server);
    const char *script[] = {"research_w1", "research_w2"};
    llm_server_script(server, script, 2, "no_edit");
    setenv("RATCHET_RESEARCH_SEED", "20261203", 1);
    snprintf(cmd, sizeof cmd,
             "%s research --dir %s/proj --edit train.sh --run ./train.sh --metric val_loss "
             "--test-metric test_loss --budget 5 --evaluations 4 --quiet --proposer llm "
             "--llm-url %s --model coder --store %s/run.db 2>&1",
             tu_tool(), dir, llm_server_url(server), dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[8192];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    if (rc != 0)
        fail_msg("ratchet research failed (%d): %s", rc, out);
    assert_int_equal(llm_server_requests(server), 4);
    static char body[1 << 18];
    char auth[256];
    llm_server_last(server, body, sizeof body, auth, sizeof auth);
    /* the fourth prompt: the baseline, the kept change and the discarded one, each with its
     * own run's validation figure */
    assert_non_null(strstr(body, "experiments so far"));
    assert_non_null(strstr(body, "val_loss of its own run"));
    assert_non_null(strstr(body, "| keep | 1.5"));     /* the baseline: about 1.5 */
    assert_non_null(strstr(body, "| baseline"));
    assert_non_null(strstr(body, "| keep | 1.1"));     /* W=1: about 1.1 */
    assert_non_null(strstr(body, "| W=5 -> W=1"));
    assert_non_null(strstr(body, "| discard | 1.2")); /* W=2: about 1.2 */
    assert_non_null(strstr(body, "| W=1 -> W=2"));
    /* and nothing of the test split */
    assert_null(strstr(body, "test_loss"));
    assert_null(strstr(body, "42.42"));
    llm_server_stop(server);
    unsetenv("RATCHET_RESEARCH_SEED");
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_llm_prompt_carries_the_ledger_without_the_test_metric),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
