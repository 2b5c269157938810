/* test_alloc.c — allocation failure on demand (the habit of Lua's ltests.c).
 *
 * This program is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc, so every allocation
 * that ratchet's own code makes goes through the wrappers below. A first pass counts the
 * allocations of an operation; then the operation is repeated with the k-th allocation failing,
 * for every k. Each time it must fail cleanly (an error code, never a crash) or succeed, and a
 * store it leaves behind must pass rt_store_check. Under `make sanitize` a leak on any of those
 * error paths fails the test too. (SQLite's, jansson's and libcrypto's internal allocations are
 * inside shared libraries and are not wrapped.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "problems/matmul/matmul_plain.h"
#include "ratchet.h"
#include "testutil.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);

static long alloc_count; /* allocations seen since arming */
static long fail_at;     /* the allocation to fail (1-based); 0 = none */
static int armed;

static int should_fail(void)
{
    if (!armed)
        return 0;
    alloc_count++;
    return fail_at > 0 && alloc_count == fail_at;
}

void *__wrap_malloc(size_t size) { return should_fail() ? NULL : __real_malloc(size); }

void *__wrap_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return should_fail() ? NULL : __real_realloc(p, size);
}

static void arm(long k)
{
    alloc_count = 0;
    fail_at = k;
    armed = 1;
}

static long disarm(void)
{
    armed = 0;
    return alloc_count;
}

static char dir[64];

static void remove_store(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char name[512];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%s%s", path, suffix[i]);
        unlink(name);
    }
}

/* ---- parsing and verifying --------------------------------------------------------------- */

static char *strassen; /* tests/data/strassen-222.exp, read once before arming */

static int verify_once(void)
{
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field"}, *values[] = {"2x2x2", "z"};
    int rc = rt_problem_open(&pb, "matmul", keys, values, 2, &err);
    if (rc)
        return rc;
    rt_verdict v;
    rc = rt_problem_verify_text(pb, strassen, strlen(strassen), &v, &err);
    if (!rc && !v.valid)
        rc = RT_EINVALID;
    char *json = NULL;
    if (!rc)
        rc = rt_problem_convert(pb, strassen, strlen(strassen), "json", &json, &err);
    free(json);
    rt_problem_close(pb);
    return rc;
}

static void verify_survives_allocation_failures(void **state)
{
    (void)state;
    arm(0);
    int rc = verify_once();
    long total = disarm();
    assert_int_equal(rc, 0);
    assert_true(total > 3);
    long failures = 0;
    for (long k = 1; k <= total; k++) {
        arm(k);
        rc = verify_once();
        disarm();
        if (rc) {
            failures++;
            /* a verdict of "invalid" would be a wrong answer, not a clean failure */
            assert_int_not_equal(rc, RT_EINVALID);
        }
    }
    assert_true(failures > 0);
    print_message("verify: %ld allocations, each failed once: %ld clean failures\n", total,
                  failures);
}

/* ---- a whole run ------------------------------------------------------------------------- */

/* Creates a run, executes a few evaluations and resumes it once. Returns the first error. */
static int run_once(const char *path)
{
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field", "walk"}, *values[] = {"3x3x3", "gf2", "300"};
    int rc = rt_problem_open(&pb, "matmul", keys, values, 3, &err);
    if (rc)
        return rc;
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.evaluations = 12;
    opt.threads = 1; /* the wrappers' counter is not thread-safe */
    rt_run *run = NULL;
    rc = rt_run_create(&run, path, pb, &opt, &err);
    if (!rc)
        rc = rt_run_execute(run);
    rt_run_close(run);
    run = NULL;
    if (!rc)
        rc = rt_run_resume(&run, path, pb, &opt, &err);
    if (!rc)
        rc = rt_run_execute(run);
    rt_run_close(run);
    rt_problem_close(pb);
    return rc;
}

static void store_is_sound(const char *path)
{
    if (access(path, F_OK) != 0)
        return; /* failed before the store was published: nothing may be there */
    rt_store *st = NULL;
    rt_error err;
    assert_int_equal(rt_store_open(&st, path, &err), 0);
    long long checked = 0;
    int rc = rt_store_check(st, &checked);
    if (rc)
        fail_msg("store check: %s", rt_store_errmsg(st));
    rt_store_close(st);
}

static void run_survives_allocation_failures(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/alloc.db", dir);
    arm(0);
    int rc = run_once(path);
    long total = disarm();
    assert_int_equal(rc, 0);
    remove_store(path);
    long failures = 0;
    /* every allocation site up to 3000 allocations in, then every 7th */
    for (long k = 1; k <= total; k += k < 3000 ? 1 : 7) {
        arm(k);
        rc = run_once(path);
        disarm();
        if (rc)
            failures++;
        store_is_sound(path);
        remove_store(path);
    }
    assert_true(failures > 0);
    print_message("run: %ld allocations, each failed once: %ld clean failures\n", total,
                  failures);
}

static int setup(void **state)
{
    (void)state;
    size_t len;
    strassen = tu_slurp("tests/data/strassen-222.exp", &len);
    if (!strassen)
        return -1;
    /* hundreds of stores are created and fsynced: on a memory file system where there is one
     * (this test is about allocation failures, not about the disk) */
    if (access("/dev/shm", W_OK) == 0) {
        snprintf(dir, sizeof dir, "/dev/shm/ratchet-alloc-%s", "XXXXXX"); /* mkdtemp's template */
        if (mkdtemp(dir))
            return 0;
    }
    return tu_tempdir(dir, sizeof dir, "alloc");
}

static int teardown(void **state)
{
    (void)state;
    free(strassen);
    return rmdir(dir) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verify_survives_allocation_failures),
        cmocka_unit_test(run_survives_allocation_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
