/* test_matmul_codegen.c — the C functions written for schemes (src/problems/matmul_codegen.c)
 * are compiled with cc, run on random integer matrices and compared with the naive product;
 * and the tool's `ratchet best STORE --format c` and `ratchet lift` work end to end.
 *
 * Runs from the repository root; published schemes come from tu_schemes_dir() (skipped when
 * missing). Needs a C compiler named cc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "problems/matmul/matmul_codegen.h"
#include "problems/matmul/matmul_plain.h"
#include "testutil.h"

static char g_dir[512];

/* The driver: random matrices with entries in [-1000, 1000] (0/1 for GF(2)), 200 trials, the
 * naive product compared entry by entry; prints "ok" and exits 0 when all agree. */
static const char driver_fmt[] =
    "#include <stdio.h>\n#include <stdint.h>\n#include <stdlib.h>\n"
    "#include \"scheme.c\"\n"
    "int main(void) {\n"
    "  enum { N = %d, M = %d, P = %d };\n"
    "  unsigned long long s = 88172645463325252ULL;\n"
    "  for (int trial = 0; trial < 200; trial++) {\n"
    "    %s A[N*M], B[M*P], C[N*P];\n"
    "    for (int i = 0; i < N*M; i++) { s ^= s << 13; s ^= s >> 7; s ^= s << 17;\n"
    "      A[i] = (%s)(%s); }\n"
    "    for (int i = 0; i < M*P; i++) { s ^= s << 13; s ^= s >> 7; s ^= s << 17;\n"
    "      B[i] = (%s)(%s); }\n"
    "    %s(A, B, C);\n"
    "    for (int i = 0; i < N; i++) for (int k = 0; k < P; k++) {\n"
    "      long long want = 0;\n"
    "      for (int j = 0; j < M; j++) want += (long long)A[i*M+j] * (long long)B[j*P+k];\n"
    "      if (%d) want &= 1;\n"
    "      if ((long long)C[i*P+k] != want) { printf(\"C[%%d][%%d] = %%lld, want %%lld\\n\",\n"
    "        i, k, (long long)C[i*P+k], want); return 1; }\n"
    "    }\n"
    "  }\n"
    "  printf(\"ok\\n\");\n  return 0;\n}\n";

/* Writes buf to path. */
static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Compiles source.c (with the driver for shape and field) in g_dir and runs it; asserts "ok". */
static void compile_and_run(int n, int m, int p, enum mm_field field, const char *fn)
{
    int gf2 = field == MM_GF2;
    char driver[4096], path[1024], cmd[4096];
    snprintf(driver, sizeof driver, driver_fmt, n, m, p, gf2 ? "uint8_t" : "int64_t",
             gf2 ? "uint8_t" : "int64_t", gf2 ? "s & 1" : "(long long)(s % 2001) - 1000",
             gf2 ? "uint8_t" : "int64_t", gf2 ? "s & 1" : "(long long)(s % 2001) - 1000", fn, gf2);
    snprintf(path, sizeof path, "%s/driver.c", g_dir);
    write_file(path, driver, strlen(driver));
    snprintf(cmd, sizeof cmd,
             "cd '%s' && cc -std=c99 -O0 -Wall -Werror -o driver driver.c > cc.log 2>&1 || "
             "{ cat cc.log; exit 3; }; ./driver", g_dir);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char line[256] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    int status = pclose(f);
    if (status != 0 || strcmp(line, "ok\n") != 0)
        fail_msg("generated %dx%dx%d code: exit %d, output: %s", n, m, p, status, line);
}

/* Generates code for a scheme file and checks it. */
static void check_scheme_file(const char *path, int n, int m, int p, enum mm_field field)
{
    size_t len;
    char *text = tu_slurp(path, &len);
    if (!text) {
        print_message("skipping %s (missing)\n", path);
        return;
    }
    mm_plain s;
    char err[512];
    if (mm_parse_any(text, len, n, m, p, &s, err, sizeof err))
        fail_msg("%s: %s", path, err);
    free(text);
    rt_buf out;
    rt_buf_init(&out, 0);
    assert_int_equal(mm_print_c(&s, field, "scheme_mul", &out), 0);
    char dst[1024];
    snprintf(dst, sizeof dst, "%s/scheme.c", g_dir);
    write_file(dst, out.data, out.len);
    compile_and_run(n, m, p, field, "scheme_mul");
    rt_buf_free(&out);
    mm_plain_free(&s);
}

static void test_strassen(void **state)
{
    (void)state;
    check_scheme_file("tests/data/strassen-222.exp", 2, 2, 2, MM_Z);
}

/* Published schemes: square and non-square, over Z, and one over GF(2) (product mod 2). */
static void test_published(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int n, m, p;
        enum mm_field field;
    } files[] = {
        {"223-11-mod0.exp", 2, 2, 3, MM_Z},
        {"345-47-mod0.exp", 3, 4, 5, MM_Z},
        {"444-49-mod0.exp", 4, 4, 4, MM_Z},
        {"444-47-mod2.exp", 4, 4, 4, MM_GF2},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", tu_schemes_dir(), files[i].name);
        check_scheme_file(path, files[i].n, files[i].m, files[i].p, files[i].field);
    }
}

/* A broken scheme gives code that the driver catches (the test can fail). */
static void test_driver_catches_wrong_code(void **state)
{
    (void)state;
    size_t len;
    char *text = tu_slurp("tests/data/strassen-222-broken.exp", &len);
    assert_non_null(text);
    mm_plain s;
    char err[512];
    assert_int_equal(mm_parse_any(text, len, 2, 2, 2, &s, err, sizeof err), 0);
    free(text);
    rt_buf out;
    rt_buf_init(&out, 0);
    assert_int_equal(mm_print_c(&s, MM_Z, NULL, &out), 0);
    char dst[1024], cmd[2048];
    snprintf(dst, sizeof dst, "%s/scheme.c", g_dir);
    write_file(dst, out.data, out.len);
    char driver[4096];
    snprintf(driver, sizeof driver, driver_fmt, 2, 2, 2, "int64_t", "int64_t",
             "(long long)(s % 2001) - 1000", "int64_t", "(long long)(s % 2001) - 1000",
             "ratchet_matmul_2x2x2", 0);
    snprintf(dst, sizeof dst, "%s/driver.c", g_dir);
    write_file(dst, driver, strlen(driver));
    snprintf(cmd, sizeof cmd, "cd '%s' && cc -std=c99 -O0 -o driver driver.c && ./driver >/dev/null",
             g_dir);
    int status = system(cmd);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    assert_int_equal(mm_print_c(&s, MM_Z, "bad name", &out), RT_EUSAGE);
    assert_int_equal(mm_print_c(&s, MM_Z, "9lives", &out), RT_EUSAGE);
    rt_buf_free(&out);
    mm_plain_free(&s);
}

/* End to end: a short run, then `ratchet best STORE --format c`; and `ratchet lift`. */
static void test_tool(void **state)
{
    (void)state;
    const char *tool = tu_tool();
    if (!tool) {
        skip();
        return;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "'%s' run matmul --shape 2x3x2 --evaluations 40 --seed 3 --threads 1 --quiet "
             "--store '%s/run.db' >/dev/null 2>&1 && '%s' best '%s/run.db' --format c > '%s/scheme.c'",
             tool, g_dir, tool, g_dir, g_dir);
    assert_int_equal(system(cmd), 0);
    compile_and_run(2, 3, 2, MM_Z, "ratchet_matmul_2x3x2");

    snprintf(cmd, sizeof cmd, "'%s' lift tests/data/strassen-222.exp --shape 2x2x2 > '%s/l.exp' && "
                              "'%s' verify '%s/l.exp' --shape 2x2x2 >/dev/null",
             tool, g_dir, tool, g_dir);
    assert_int_equal(system(cmd), 0);
    /* a published GF(2) scheme that does not lift (read from the shared data, when present) */
    char published[1024];
    snprintf(published, sizeof published, "%s/444-47-mod2.exp", tu_schemes_dir());
    int status;
    if (access(published, R_OK) == 0) {
        snprintf(cmd, sizeof cmd, "'%s' lift '%s' --shape 4x4x4 2>/dev/null", tool, published);
        status = system(cmd);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 1);
    } else {
        printf("skipping the lift of %s (missing)\n", published);
    }
    snprintf(cmd, sizeof cmd, "'%s' lift tests/data/strassen-222.exp --shape 9x2x2 2>/dev/null",
             tool);
    status = system(cmd);
    assert_int_equal(WEXITSTATUS(status), 2);
    snprintf(cmd, sizeof cmd, "'%s' lift tests/data/strassen-222-broken.exp --shape 2x2x2 "
                              "2>/dev/null", tool);
    status = system(cmd);
    assert_int_equal(WEXITSTATUS(status), 2);
    static const char *const bad_args[] = {
        "", "tests/data/strassen-222.exp", "--shape 2x2x2", "x.exp y.exp --shape 2x2x2",
        "tests/data/strassen-222.exp --shape", "tests/data/strassen-222.exp --shape 2x2x2 --bogus",
        "tests/data/strassen-222.exp --shape 2x2x2 --format cobol", "/nonexistent --shape 2x2x2",
    };
    for (size_t i = 0; i < sizeof bad_args / sizeof bad_args[0]; i++) {
        snprintf(cmd, sizeof cmd, "'%s' lift %s >/dev/null 2>&1", tool, bad_args[i]);
        status = system(cmd);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 2)
            fail_msg("ratchet lift %s: exit %d, expected 2", bad_args[i], WEXITSTATUS(status));
    }
    snprintf(cmd, sizeof cmd, "'%s' run matmul --shape 8x8x8 --lift 1 --evaluations 1 --quiet "
                              "--store '%s/big.db' >/dev/null 2>&1", tool, g_dir);
    status = system(cmd);
    assert_int_equal(WEXITSTATUS(status), 2);
}

/* A run with --lift 1 walks over GF(2) and stores integer lifts: its best scheme verifies over
 * the integers, and the store says lift=1. Two threads, so the per-thread lift cache is used
 * and freed by worker threads (the sanitizer build checks for leaks). */
static void test_lift_run(void **state)
{
    (void)state;
    const char *tool = tu_tool();
    if (!tool) {
        skip();
        return;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "'%s' run matmul --shape 2x2x3 --field z --lift 1 --walk 2000 --evaluations 60 "
             "--seed 5 --threads 2 --quiet --store '%s/lift.db' >/dev/null 2>&1 && "
             "'%s' best '%s/lift.db' > '%s/best.exp' && "
             "'%s' verify '%s/best.exp' --shape 2x2x3 --field z > '%s/verdict.txt' && "
             "'%s' status '%s/lift.db' | grep -q 'lift=1'",
             tool, g_dir, tool, g_dir, g_dir, tool, g_dir, g_dir, tool, g_dir);
    assert_int_equal(system(cmd), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/verdict.txt", g_dir);
    size_t len;
    char *verdict = tu_slurp(path, &len);
    assert_non_null(verdict);
    assert_non_null(strstr(verdict, "over the integers"));
    free(verdict);
    snprintf(cmd, sizeof cmd, "'%s' run matmul --shape 2x2x2 --field gf2 --lift 1 --quiet "
                              "--evaluations 1 --store '%s/bad.db' 2>/dev/null", tool, g_dir);
    int status = system(cmd);
    assert_int_equal(WEXITSTATUS(status), 2);
}

static int setup(void **state)
{
    (void)state;
    return tu_tempdir(g_dir, sizeof g_dir, "codegen");
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
        cmocka_unit_test(test_strassen),
        cmocka_unit_test(test_published),
        cmocka_unit_test(test_driver_catches_wrong_code),
        cmocka_unit_test(test_tool),
        cmocka_unit_test(test_lift_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
