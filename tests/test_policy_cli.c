/* test_policy_cli.c — the tool's policy surface: `ratchet policy show [FILE]`, `ratchet run
 * --policy FILE` (bad files exit 2 with one line naming the key; the policy is stored and shown),
 * `ratchet status` showing the bandit, and `ratchet meta` argument errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "testutil.h"

static char dir[256];
static const char *tool;

static int setup(void **state)
{
    (void)state;
    tool = tu_tool();
    return tool ? tu_tempdir(dir, sizeof dir, "policycli") : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    return 0;
}

/* Runs "TOOL ARGS" with stdout and stderr captured; returns the exit status. */
static int run(const char *args, char **out, char **err)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s >%s/out 2>%s/err", tool, args, dir, dir);
    int st = system(cmd);
    char path[512];
    size_t len;
    snprintf(path, sizeof path, "%s/out", dir);
    *out = tu_slurp(path, &len);
    snprintf(path, sizeof path, "%s/err", dir);
    *err = tu_slurp(path, &len);
    assert_non_null(*out);
    assert_non_null(*err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_text(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void one_line_naming(const char *err, const char *needle)
{
    if (!strstr(err, needle))
        fail_msg("'%s' does not name '%s'", err, needle);
    const char *nl = strchr(err, '\n');
    assert_true(nl && nl[1] == '\0');
}

static void policy_show(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(run("policy show", &out, &err), 0);
    assert_non_null(strstr(out, "\"walk_flips\": 20000"));
    assert_non_null(strstr(out, "\"bandit\""));
    free(out);
    free(err);
    write_text("p.json", "{\"matmul\": {\"walk_flips\": 123}}");
    char args[600];
    snprintf(args, sizeof args, "policy show %s/p.json", dir);
    assert_int_equal(run(args, &out, &err), 0);
    assert_non_null(strstr(out, "\"walk_flips\": 123"));
    assert_non_null(strstr(out, "\"p_best\": 0.5")); /* merged over the defaults */
    free(out);
    free(err);
    write_text("bad.json", "{\"engine\": {\"p_best\": 2}}");
    snprintf(args, sizeof args, "policy show %s/bad.json", dir);
    assert_int_equal(run(args, &out, &err), 2);
    one_line_naming(err, "engine.p_best");
    free(out);
    free(err);
    assert_int_equal(run("policy show /nonexistent/x.json", &out, &err), 2);
    one_line_naming(err, "/nonexistent/x.json");
    free(out);
    free(err);
    assert_int_equal(run("policy frobnicate", &out, &err), 2);
    free(out);
    free(err);
    /* the default a run of one instance gets, FILE over it; bad instances name themselves */
    snprintf(args, sizeof args, "policy show %s/p.json --problem matmul --shape 5x5x5", dir);
    assert_int_equal(run(args, &out, &err), 0);
    assert_non_null(strstr(out, "\"walk_flips\": 123"));
    free(out);
    free(err);
    assert_int_equal(run("policy show --problem matmul --shape 5x5x", &out, &err), 2);
    one_line_naming(err, "5x5x");
    free(out);
    free(err);
    assert_int_equal(run("policy show --problem nosuch", &out, &err), 2);
    one_line_naming(err, "nosuch");
    free(out);
    free(err);
    assert_int_equal(run("policy show --shape 3x3x3", &out, &err), 2);
    one_line_naming(err, "--problem");
    free(out);
    free(err);
    assert_int_equal(run("policy show --problem", &out, &err), 2);
    one_line_naming(err, "--problem");
    free(out);
    free(err);
}

static void run_with_policy(void **state)
{
    (void)state;
    char *out, *err, args[1200];
    write_text("bad2.json", "{\"matmul\": {\"walk\": 5}}");
    snprintf(args, sizeof args,
             "run matmul --shape 2x2x2 --evaluations 5 --quiet --policy %s/bad2.json --store "
             "%s/x.db", dir, dir);
    assert_int_equal(run(args, &out, &err), 2);
    one_line_naming(err, "matmul.walk");
    free(out);
    free(err);

    write_text("ok.json", "{\"matmul\": {\"walk_flips\": 200, \"op_plus\": 1.5}}");
    snprintf(args, sizeof args,
             "run matmul --shape 2x2x3 --field gf2 --evaluations 30 --quiet --policy %s/ok.json "
             "--store %s/ok.db", dir, dir);
    assert_int_equal(run(args, &out, &err), 0);
    free(out);
    free(err);
    snprintf(args, sizeof args, "status %s/ok.db", dir);
    assert_int_equal(run(args, &out, &err), 0);
    assert_non_null(strstr(out, "operator     walk"));
    assert_non_null(strstr(out, "operator     plus"));
    free(out);
    free(err);
    snprintf(args, sizeof args, "status --json %s/ok.db", dir);
    assert_int_equal(run(args, &out, &err), 0);
    assert_non_null(strstr(out, "\"bandit\""));
    free(out);
    free(err);
    /* --policy with --resume is refused: a run keeps its policy */
    snprintf(args, sizeof args, "run --resume %s/ok.db --policy %s/ok.json --evaluations 2", dir,
             dir);
    assert_int_equal(run(args, &out, &err), 2);
    one_line_naming(err, "policy");
    free(out);
    free(err);
}

static void meta_usage_errors(void **state)
{
    (void)state;
    char *out, *err, args[600];
    assert_int_equal(run("meta --train matmul:2x2x2:gf2", &out, &err), 2);
    one_line_naming(err, "--heldout");
    free(out);
    free(err);
    snprintf(args, sizeof args,
             "meta --train matmul:2x2x2:gf2 --heldout matmul:2x2x2:gf2 --store %s/m.db", dir);
    assert_int_equal(run(args, &out, &err), 2);
    one_line_naming(err, "disjoint");
    free(out);
    free(err);
    snprintf(args, sizeof args,
             "meta --train matmul:2x2x2:gf2 --heldout matmul:2x2:gf2 --store %s/m.db", dir);
    assert_int_equal(run(args, &out, &err), 2);
    one_line_naming(err, "matmul:2x2:gf2");
    free(out);
    free(err);
    assert_int_equal(run("meta --train a --heldout b --store c --bogus 1", &out, &err), 2);
    one_line_naming(err, "--bogus");
    free(out);
    free(err);
}

/* A short meta run end to end: the store is an ordinary run store, the lineage is printed and
 * --out writes a policy file that `policy show` accepts. */
static void meta_run_end_to_end(void **state)
{
    (void)state;
    char *out, *err, args[1200];
    snprintf(args, sizeof args,
             "meta --train matmul:2x2x2:gf2 --heldout matmul:2x2x3:gf2 --seeds 1 --vseeds 2 "
             "--evals 20 --work 200000 --seconds 2 --threads 1 --store %s/meta.db --out "
             "%s/best.json", dir, dir);
    assert_int_equal(run(args, &out, &err), 0);
    assert_non_null(strstr(out, "admitted policies"));
    assert_non_null(strstr(out, "best policy written"));
    /* the refused are counted apart from those the deadline cut */
    assert_non_null(strstr(out, "rejected by the held-out gate (above), "));
    assert_non_null(strstr(out, " cut at the deadline before it judged them"));
    /* 2 held-out pairs: a gate with a miss could never admit, and the run says so */
    assert_non_null(strstr(err, "the gate has 2 held-out pairs; once a trial misses"));
    free(out);
    free(err);
    snprintf(args, sizeof args, "policy show %s/best.json", dir);
    assert_int_equal(run(args, &out, &err), 0);
    free(out);
    free(err);
    snprintf(args, sizeof args, "status %s/meta.db", dir);
    assert_int_equal(run(args, &out, &err), 0);
    assert_non_null(strstr(out, "heldout_cost"));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(policy_show),
        cmocka_unit_test(run_with_policy),
        cmocka_unit_test(meta_usage_errors),
        cmocka_unit_test(meta_run_end_to_end),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
