/* test_cert.c — certificates (`ratchet best STORE --certificate DIR`): the folder holds the
 * scheme, a standalone checker in plain C and instructions; the checker is compiled here with
 * the system's C compiler, without ratchet, and must accept the scheme, reject a tampered copy
 * (exit 1, naming an equation) and refuse a malformed one (exit 2). It must also accept every
 * published scheme the shared folder holds, if it is there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <dirent.h>

#include <cmocka.h>

#include "ratchet.h"
#include "rng.h"
#include "testutil.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    return tu_tempdir(tmpdir, sizeof tmpdir, "cert");
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    return 0;
}

/* Runs a shell command; returns its exit status (-1 if it did not exit). */
static int shell(const char *cmd)
{
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void certificate_checks_out(void **state)
{
    (void)state;
    char store[512], dir[512], cmd[12000], path[600];
    snprintf(store, sizeof store, "%s/run.db", tmpdir);
    snprintf(dir, sizeof dir, "%s/cert", tmpdir);
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape", "field", "walk"}, *values[] = {"3x3x3", "z", "5000"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 3, &err), 0);
    rt_run_options opt;
    rt_run_options_init(&opt);
    opt.evaluations = 40;
    rt_run *run = NULL;
    assert_int_equal(rt_run_create(&run, store, pb, &opt, &err), 0);
    assert_int_equal(rt_run_execute(run), 0);
    rt_run_close(run);
    rt_problem_close(pb);

    rt_store *st = NULL;
    assert_int_equal(rt_store_open(&st, store, &err), 0);
    if (rt_store_certificate(st, dir) != 0)
        fail_msg("rt_store_certificate: %s", rt_store_errmsg(st));
    rt_summary sum;
    assert_int_equal(rt_store_summary(st, &sum), 0);
    rt_store_close(st);

    /* what the README says to do, in a folder of its own: no ratchet header or library */
    snprintf(path, sizeof path, "%s/README.txt", dir);
    size_t len = 0;
    char *readme = tu_slurp(path, &len);
    assert_non_null(readme);
    assert_non_null(strstr(readme, "./check_scheme 3 3 3 z scheme.exp"));
    assert_non_null(strstr(readme, sum.best_hash));
    free(readme);
    snprintf(cmd, sizeof cmd, "cd '%s' && cc -std=c99 -O2 -o check_scheme check_scheme.c", dir);
    assert_int_equal(shell(cmd), 0);
    snprintf(cmd, sizeof cmd, "cd '%s' && ./check_scheme 3 3 3 z scheme.exp > out.txt", dir);
    assert_int_equal(shell(cmd), 0);
    snprintf(path, sizeof path, "%s/out.txt", dir);
    char *out = tu_slurp(path, &len);
    assert_non_null(out);
    char want[64];
    snprintf(want, sizeof want, "VALID: %g products", sum.best_metric);
    assert_non_null(strstr(out, want));
    free(out);

    /* tampered: one coefficient moved */
    snprintf(path, sizeof path, "%s/scheme.exp", dir);
    char *scheme = tu_slurp(path, &len);
    assert_non_null(scheme);
    char *at = strstr(scheme, "a11");
    assert_non_null(at);
    at[2] = '2';
    snprintf(path, sizeof path, "%s/tampered.exp", dir);
    write_text(path, scheme);
    snprintf(cmd, sizeof cmd, "cd '%s' && ./check_scheme 3 3 3 z tampered.exp > out.txt", dir);
    assert_int_equal(shell(cmd), 1);
    snprintf(path, sizeof path, "%s/out.txt", dir);
    out = tu_slurp(path, &len);
    assert_non_null(out);
    assert_non_null(strstr(out, "INVALID: equation"));
    free(out);

    /* a product dropped */
    char *nl = strchr(scheme, '\n');
    assert_non_null(nl);
    snprintf(path, sizeof path, "%s/dropped.exp", dir);
    write_text(path, nl + 1);
    snprintf(cmd, sizeof cmd, "cd '%s' && ./check_scheme 3 3 3 z dropped.exp > /dev/null", dir);
    assert_int_equal(shell(cmd), 1);
    free(scheme);

    /* malformed */
    snprintf(path, sizeof path, "%s/bad.exp", dir);
    write_text(path, "(a11+b11)*(b11)*(c11)\n");
    snprintf(cmd, sizeof cmd, "cd '%s' && ./check_scheme 3 3 3 z bad.exp 2> /dev/null", dir);
    assert_int_equal(shell(cmd), 2);
    write_text(path, "(a11)*(b11)*(c11\n");
    assert_int_equal(shell(cmd), 2);
    write_text(path, "(a91)*(b11)*(c11)\n");
    assert_int_equal(shell(cmd), 2);

    /* published schemes (a cross-check of the checker against files it was not written for) */
    char schemes[4096];
    DIR *d = realpath(tu_schemes_dir(), schemes) ? opendir(schemes) : NULL;
    int checked = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && checked < 12) {
        tu_scheme_name nm;
        if (tu_scheme_name_parse(e->d_name, &nm) || nm.n * nm.m * nm.p > 64)
            continue;
        snprintf(cmd, sizeof cmd, "cd '%s' && ./check_scheme %d %d %d %s '%s/%s' > /dev/null",
                 dir, nm.n, nm.m, nm.p, nm.gf2 ? "gf2" : "z", schemes, e->d_name);
        if (shell(cmd) != 0)
            fail_msg("the checker rejects the published %s", e->d_name);
        checked++;
    }
    if (d)
        closedir(d);
    print_message("checker accepted %d published schemes\n", checked);
}

/* The checker is a parser of untrusted files: mutated schemes must give exit 0, 1 or 2, never a
 * crash. (It was compiled by certificate_checks_out.) */
static void checker_survives_mutations(void **state)
{
    (void)state;
    char dir[512], path[600], cmd[2048];
    snprintf(dir, sizeof dir, "%s/cert", tmpdir);
    snprintf(path, sizeof path, "%s/scheme.exp", dir);
    size_t len = 0;
    char *scheme = tu_slurp(path, &len);
    assert_non_null(scheme);
    assert_true(len > 10);
    rt_rng rng;
    rt_rng_seed(&rng, 1234, 0);
    static const char alphabet[] = "abc0123456789()*+- \n#\t29";
    char *buf = malloc(len + 64);
    assert_non_null(buf);
    int seen[3] = {0, 0, 0};
    for (int k = 0; k < 200; k++) {
        memcpy(buf, scheme, len);
        size_t n = len;
        int edits = 1 + (int)rt_rng_below(&rng, 4);
        for (int e = 0; e < edits; e++) {
            size_t at = rt_rng_below(&rng, (uint32_t)n);
            int what = (int)rt_rng_below(&rng, 3);
            if (what == 0)
                buf[at] = k % 4 ? alphabet[rt_rng_below(&rng, sizeof alphabet - 1)]
                                : (char)rt_rng_below(&rng, 256);
            else if (what == 1 && n > 1) {
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
            } else {
                n = at; /* cut */
            }
        }
        snprintf(path, sizeof path, "%s/mutant.exp", dir);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
        snprintf(cmd, sizeof cmd, "cd '%s' && ./check_scheme 3 3 3 z mutant.exp >/dev/null 2>&1",
                 dir);
        int rc = shell(cmd);
        if (rc < 0 || rc > 2)
            fail_msg("the checker exited %d on a mutant (kept in %s)", rc, path);
        seen[rc]++;
    }
    free(buf);
    free(scheme);
    print_message("mutants: %d valid, %d invalid, %d malformed\n", seen[0], seen[1], seen[2]);
    assert_true(seen[1] > 0 && seen[2] > 0);
}

/* The tool's side: `ratchet best STORE --certificate DIR`. */
static void tool_writes_certificate(void **state)
{
    (void)state;
    char tool[4096];
    assert_non_null(tu_tool());
    assert_non_null(realpath(tu_tool(), tool));
    char cmd[12000];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' run matmul --shape 2x2x2 --field gf2 --evaluations 8 --store t.db "
             "--quiet > /dev/null && '%s' best t.db --certificate c2 > /dev/null && "
             "cd c2 && cc -std=c99 -o chk check_scheme.c && ./chk 2 2 2 gf2 scheme.exp | grep -q "
             "'^VALID'",
             tmpdir, tool, tool);
    assert_int_equal(shell(cmd), 0);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' best t.db --certificate 2> /dev/null", tmpdir,
             tool);
    assert_int_equal(shell(cmd), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(certificate_checks_out),
        cmocka_unit_test(checker_survives_mutations),
        cmocka_unit_test(tool_writes_certificate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
