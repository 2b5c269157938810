/* test_ship_check.c — step 2 of shipping a layer (policy/README.md): bench/ship_rule.awk decides
 * from a portfolio_compare table whether a layer may ship, and bench/ship_check.sh refuses bad
 * input with one line and runs the real comparison end to end (a short one, which can only say
 * no: fewer than 20 seeds never ship). */
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

static int setup(void **state)
{
    (void)state;
    return tu_tool() ? tu_tempdir(dir, sizeof dir, "shipcheck") : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    return 0;
}

static void write_file(const char *name, const char *text, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* Runs the shell command cmd (from the repository root) with stdout and stderr into *out (caller
 * frees); returns its exit status. */
static int sh(const char *cmd, char **out)
{
    char full[4096], path[512];
    snprintf(path, sizeof path, "%s/out", dir);
    snprintf(full, sizeof full, "%s >%s 2>&1", cmd, path);
    int st = system(full);
    size_t len;
    *out = tu_slurp(path, &len);
    assert_non_null(*out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void has(const char *out, const char *needle)
{
    if (!strstr(out, needle))
        fail_msg("output does not hold '%s':\n%s", needle, out);
}

static void lacks(const char *out, const char *needle)
{
    if (strstr(out, needle))
        fail_msg("output holds '%s':\n%s", needle, out);
}

/* The rule over a table: its exit status, its output into *out. seeds NULL: not passed. */
static int rule(const char *table, const char *seeds, char **out)
{
    write_file("table.txt", table, strlen(table));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "awk %s%s -f bench/ship_rule.awk %s/table.txt", seeds ? "-v seeds=" : "",
             seeds ? seeds : "", dir);
    return sh(cmd, out);
}

#define HEAD                                                                                      \
    "arms: default against --policy layer.json\n"                                                 \
    "portfolio vs hand modes: 20 seeds from 41, --threads 2, cap 60 s, load: 0.1 0.1 0.1\n"       \
    "shape   known  default       cpu s    wall s  hand          cpu s    wall s  cpu ratio "     \
    "paired ratio [2 se]\n"
#define ROW334 "3x3x4      29  20/20          2.10      1.10  20/20          1.50      0.80  1.40      1.30 [1.02, 1.66]\n"
#define ROW344 "3x4x4      38  20/20          8.00      4.00  20/20          6.00      3.00  1.33      1.20 [0.90, 1.60]\n"
#define ROW344_WORSE "3x4x4      38  20/20          6.00      3.00  20/20          8.00      4.00  0.75      0.80 [0.70, 0.95]\n"
/* a row of 10 ms in both arms, far "worse": not judged, so it may not veto */
#define ROW223 "2x2x3      11  20/20          0.01      0.01  20/20          0.01      0.01  1.00      0.50 [0.20, 0.90]\n"
#define POOLED(lo) "the rows of 0.1 CPU s or more together ( 3x3x4 3x4x4 ): paired ratio 1.25 [" lo ", 1.49]\n"

static void rule_ships_a_layer_better_on_the_judged_rows(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(rule(HEAD ROW334 ROW344 ROW223 POOLED("1.05"), "20", &out), 0);
    has(out, "2x2x3: under 0.1 CPU s, not counted");
    has(out, "rows judged: 2");
    has(out, "pooled paired ratio 1.25 [1.05, 1.49]");
    has(out, "ship: yes");
    free(out);
}

static void rule_needs_twenty_seeds(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(rule(HEAD ROW334 ROW344 POOLED("1.05"), "19", &out), 1);
    has(out, "ship: no (not decided: SEEDS 19");
    free(out);
    /* the seeds not given at all: never yes */
    assert_int_equal(rule(HEAD ROW334 ROW344 POOLED("1.05"), NULL, &out), 1);
    has(out, "ship: no (not decided");
    lacks(out, "ship: yes");
    free(out);
}

static void rule_refuses_a_row_worse_beyond_the_noise(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(rule(HEAD ROW334 ROW344_WORSE POOLED("1.05"), "20", &out), 1);
    has(out, "ship: no (worse beyond the noise: 3x4x4 (paired 0.80, upper end 0.95))");
    lacks(out, "ship: yes");
    free(out);
}

static void rule_refuses_rows_together_within_the_noise(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(rule(HEAD ROW334 ROW344 POOLED("1.00"), "20", &out), 1);
    has(out, "ship: no (the rows together are not better beyond the noise)");
    free(out);
    /* no pooled line: fewer than two judged pairs */
    assert_int_equal(rule(HEAD ROW334 ROW344, "20", &out), 1);
    has(out, "ship: no (no pooled ratio");
    free(out);
}

static void rule_judges_nothing_without_rows(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(rule(HEAD ROW223, "20", &out), 1);
    has(out, "ship: no (every row under 0.1 CPU s: nothing to judge)");
    free(out);
    assert_int_equal(rule(HEAD, "20", &out), 1);
    has(out, "ship: no (no row measured)");
    free(out);
    /* a row the default never reached ("inf" is its median) is judged */
    assert_int_equal(rule(HEAD "3x4x4      38  0/20          inf      inf  20/20          0.50      "
                               "0.30  -      9.00 [5.00, 16.00]\n",
                          "20", &out),
                     1);
    has(out, "rows judged: 1");
    has(out, "ship: no (no pooled ratio");
    free(out);
    /* and so is one the layer reaches in under 0.1 CPU s where the default never does: the
     * miss decides the row, not the timer's step */
    assert_int_equal(rule(HEAD "3x4x4      38  0/20          inf      inf  20/20          0.05      "
                               "0.03  -      9.00 [5.00, 16.00]\n",
                          "20", &out),
                     1);
    has(out, "rows judged: 1");
    lacks(out, "under 0.1 CPU s");
    free(out);
}

/* Arbitrary bytes (a truncated or corrupted table) never ship: the rule says no with a reason. */
static void rule_survives_arbitrary_bytes(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int k = 0; k < 40; k++) {
        char buf[600];
        size_t n = (size_t)(k * 15);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            /* mostly the table's own characters, so that some lines look like rows */
            const char *alpha = "0123456789.[], x\nsz";
            buf[i] = (k % 2) ? (char)(x & 0xff) : alpha[x % 19];
        }
        write_file("table.txt", buf, n);
        char cmd[1024], *out;
        snprintf(cmd, sizeof cmd, "awk -v seeds=20 -f bench/ship_rule.awk %s/table.txt", dir);
        int rc = sh(cmd, &out);
        if (rc != 1 || !strstr(out, "ship: no ("))
            fail_msg("input %d: exit %d, output:\n%s", k, rc, out);
        free(out);
    }
}

/* Bad input to ship_check.sh: exit 2, one line naming it. */
static void ship_check_refuses_bad_input(void **state)
{
    (void)state;
    write_file("layer.json", "{\"matmul\": {\"stop_on_improve\": false}}", 38);
    write_file("bad.json", "{\"matmul\": {\"no_such_knob\": 1}}", 31);
    const struct {
        const char *env, *args, *needle;
    } cases[] = {
        {"FIRST=1 FIELD=x", "%s/layer.json 48", "FIELD 'x' is not z or gf2"},
        {"FIRST=1", "%s/layer.json 4x8", "MAX_SIZE '4x8' is not a positive integer"},
        {"FIRST=1", "%s/layer.json 0", "MAX_SIZE '0' is not a positive integer"},
        {"", "%s/layer.json 48", "set FIRST"},
        {"FIRST=1 SEEDS=1", "%s/layer.json 48", "SEEDS 2 or more"},
        {"FIRST=1", "%s/missing.json 48", "cannot read the layer file"},
        {"FIRST=1", "%s/bad.json 48", "bad.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[600], cmd[2048], *out;
        snprintf(args, sizeof args, cases[i].args, dir);
        snprintf(cmd, sizeof cmd, "env %s sh bench/ship_check.sh %s %s", cases[i].env, args,
                 tu_tool_path());
        int rc = sh(cmd, &out);
        const char *nl = strchr(out, '\n');
        if (rc != 2 || !strstr(out, cases[i].needle) || !nl || nl[1])
            fail_msg("case %zu (%s): exit %d, output:\n%s", i, cmd, rc, out);
        free(out);
    }
}

/* The real comparison, short: <3,3,4> over GF(2) takes seconds a run, so it is judged; the rows
 * below it take tens of milliseconds (more in a sanitizer build, where <2,3,3> may reach 0.1 s
 * and be judged too). Two seeds can only say no. This breaks when portfolio_compare's table and
 * the rule stop reading each other's columns. */
static void ship_check_runs_the_comparison(void **state)
{
    (void)state;
    write_file("layer.json", "{\"matmul\": {\"stop_on_improve\": false}}", 38);
    char cmd[2048], *out;
    snprintf(cmd, sizeof cmd,
             "env FIELD=gf2 SEEDS=2 FIRST=1 sh bench/ship_check.sh %s/layer.json 36 %s", dir,
             tu_tool_path());
    int rc = sh(cmd, &out);
    if (rc != 1)
        fail_msg("exit %d, output:\n%s", rc, out);
    has(out, "table rows 223gf2 224gf2 233gf2 333gf2 334gf2; minutes rows none");
    lacks(out, "3x3x4: under 0.1 CPU s");
    has(out, "3x3x4      29  2/2");
    /* judged: either a verdict on the rows together, or some row worse beyond the noise */
    if (!strstr(out, "rows judged: ") && !strstr(out, "worse beyond the noise: "))
        fail_msg("no row was judged:\n%s", out);
    has(out, "ship: no (");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rule_ships_a_layer_better_on_the_judged_rows),
        cmocka_unit_test(rule_needs_twenty_seeds),
        cmocka_unit_test(rule_refuses_a_row_worse_beyond_the_noise),
        cmocka_unit_test(rule_refuses_rows_together_within_the_noise),
        cmocka_unit_test(rule_judges_nothing_without_rows),
        cmocka_unit_test(rule_survives_arbitrary_bytes),
        cmocka_unit_test(ship_check_refuses_bad_input),
        cmocka_unit_test(ship_check_runs_the_comparison),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
