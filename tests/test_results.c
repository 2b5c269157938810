/* test_results.c — re-verifies every scheme kept in results/ (run from the repository root, or
 * with $RT_RESULTS_DIR). Each file must be named <n>x<m>x<p>-<rank>-<field>.exp with field gf2
 * or z, parse, pass mm_verify over that field, and have exactly the rank its name says. A
 * missing or empty folder fails. Files not ending in .exp (a README) are ignored. A second test
 * runs the same check on a scratch folder of broken files, so the checker itself can fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems/matmul/matmul_plain.h"
#include "testutil.h"

/* Parses "<n>x<m>x<p>-<rank>-<field>.exp"; returns 0 or -1. */
static int parse_result_name(const char *name, int *n, int *m, int *p, int *rank,
                             enum mm_field *field)
{
    const char *s = name;
    int v[4];
    for (int i = 0; i < 4; i++) {
        if (*s < '0' || *s > '9')
            return -1;
        long x = 0;
        while (*s >= '0' && *s <= '9') {
            x = x * 10 + (*s - '0');
            if (x > MM_MAX_RANK)
                return -1;
            s++;
        }
        v[i] = (int)x;
        char sep = i < 2 ? 'x' : '-';
        if (*s != sep)
            return -1;
        s++;
    }
    if (strcmp(s, "gf2.exp") == 0)
        *field = MM_GF2;
    else if (strcmp(s, "z.exp") == 0)
        *field = MM_Z;
    else
        return -1;
    *n = v[0];
    *m = v[1];
    *p = v[2];
    *rank = v[3];
    return *n >= 1 && *n <= MM_MAX_DIM && *m >= 1 && *m <= MM_MAX_DIM && *p >= 1 &&
                   *p <= MM_MAX_DIM && *rank >= 1
               ? 0
               : -1;
}

/* Checks every .exp file in dir; returns the number of problems found (each printed), with
 * *checked the number of files that verified. A missing folder or one with no .exp file counts
 * as a problem. */
static int check_results_dir(const char *dir, int *checked)
{
    *checked = 0;
    DIR *d = opendir(dir);
    if (!d) {
        print_message("results folder %s is missing\n", dir);
        return 1;
    }
    int problems = 0, files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        size_t nl = strlen(name);
        if (nl < 4 || strcmp(name + nl - 4, ".exp") != 0)
            continue;
        files++;
        int n, m, p, rank;
        enum mm_field field;
        if (parse_result_name(name, &n, &m, &p, &rank, &field)) {
            print_message("%s: name is not <n>x<m>x<p>-<rank>-<gf2|z>.exp\n", name);
            problems++;
            continue;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        size_t len;
        char *text = tu_slurp(path, &len);
        if (!text) {
            print_message("%s: unreadable\n", path);
            problems++;
            continue;
        }
        mm_plain s;
        char err[512];
        if (mm_parse_exp(text, len, n, m, p, &s, err, sizeof err)) {
            print_message("%s: %s\n", path, err);
            problems++;
            free(text);
            continue;
        }
        mm_check chk;
        char desc[512] = "";
        if (mm_verify(&s, field, &chk) || !chk.valid) {
            mm_check_describe(&s, &chk, desc, sizeof desc);
            print_message("%s: does not verify: %s\n", path, desc);
            problems++;
        } else if (chk.rank != rank || s.rank != rank) {
            print_message("%s: rank %d (%d products), the name says %d\n", path, chk.rank, s.rank,
                          rank);
            problems++;
        } else {
            (*checked)++;
        }
        mm_plain_free(&s);
        free(text);
    }
    closedir(d);
    if (files == 0) {
        print_message("results folder %s holds no .exp file\n", dir);
        problems++;
    }
    return problems;
}

static void test_results_verify(void **state)
{
    (void)state;
    const char *dir = getenv("RT_RESULTS_DIR");
    if (!dir || !*dir)
        dir = "results";
    int checked;
    int problems = check_results_dir(dir, &checked);
    print_message("%d scheme(s) in %s verified\n", checked, dir);
    assert_int_equal(problems, 0);
    assert_true(checked > 0);
}

/* Writes text to dir/name. */
static void put(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char strassen[] = "(a11+a22)*(b11+b22)*(c11+c22)\n(a21+a22)*(b11)*(c12-c22)\n"
                               "(a11)*(b12-b22)*(c21+c22)\n(a22)*(b21-b11)*(c11+c12)\n"
                               "(a11+a12)*(b22)*(-c11+c21)\n(a21-a11)*(b11+b12)*(c22)\n"
                               "(a12-a22)*(b21+b22)*(c11)\n";

/* The checker catches each kind of bad file, and a missing or empty folder. */
static void test_checker_catches_bad_files(void **state)
{
    (void)state;
    char dir[512];
    assert_int_equal(tu_tempdir(dir, sizeof dir, "results"), 0);
    int checked;
    assert_int_equal(check_results_dir(dir, &checked), 1); /* empty */
    put(dir, "2x2x2-7-z.exp", strassen);
    put(dir, "README.md", "ignored\n");
    assert_int_equal(check_results_dir(dir, &checked), 0);
    assert_int_equal(checked, 1);
    put(dir, "2x2x2-7-gf2.exp", strassen); /* valid over GF(2) too */
    assert_int_equal(check_results_dir(dir, &checked), 0);
    put(dir, "2x2x2-6-z.exp", strassen); /* rank differs from the name */
    assert_int_equal(check_results_dir(dir, &checked), 1);
    char broken[sizeof strassen];
    memcpy(broken, strassen, sizeof strassen);
    broken[strlen("(a11+a22)*(b11+b22)*(c11")] = '-'; /* c11+c22 -> c11-c22 */
    put(dir, "2x2x2-7-z.exp", broken);
    assert_int_equal(check_results_dir(dir, &checked), 2);
    put(dir, "strassen.exp", strassen); /* bad name */
    assert_int_equal(check_results_dir(dir, &checked), 3);
    tu_rmtree(dir);
    assert_int_equal(check_results_dir(dir, &checked), 1); /* missing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_verify),
        cmocka_unit_test(test_checker_catches_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
