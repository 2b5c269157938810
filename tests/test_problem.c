/* test_problem.c — problem.c: the parser of the canonical parameter strings stored with a run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "problem.h"
#include "ratchet.h"

/* The parameter strings read back from a store are parsed by rt_problem_open_canonical: any
 * string gives a problem or a clean error with a message, never a crash. */
static void stored_params_parser_survives_any_string(void **state)
{
    (void)state;
    static const char *const tokens[] = {"shape=3x3x3", "shape=2x2x4", "field=gf2", "field=z",
                                         "walk=5",      "shape=9x1x1", "field=",    "=",
                                         "walk=-1",     "shape=3x3",   " ",         "bogus=1"};
    rt_rng rng;
    rt_rng_seed(&rng, 11, 0);
    int opened = 0;
    for (int i = 0; i < 20000; i++) {
        char buf[128];
        size_t len = 0;
        if (i % 2) { /* arbitrary bytes */
            len = rt_rng_below(&rng, 96);
            for (size_t k = 0; k < len; k++)
                buf[k] = (char)(1 + rt_rng_below(&rng, 255));
        } else { /* words that are nearly right */
            for (uint32_t w = rt_rng_below(&rng, 5); w > 0; w--) {
                const char *t = tokens[rt_rng_below(&rng, sizeof tokens / sizeof tokens[0])];
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? " " : "", t);
            }
        }
        buf[len] = '\0';
        rt_problem *pb = NULL;
        char err[256] = "";
        int rc = rt_problem_open_canonical(&pb, "matmul", buf, err, sizeof err);
        if (rc == 0) {
            opened++;
            assert_non_null(pb);
            rt_problem_close(pb);
        } else {
            assert_true(rc < 0);
            assert_null(pb);
            assert_true(err[0] != '\0');
        }
    }
    /* and the canonical strings themselves round-trip */
    rt_problem *pb = NULL;
    char err[256];
    assert_int_equal(rt_problem_open_canonical(&pb, "matmul", "shape=2x3x4 field=gf2 walk=77",
                                               err, sizeof err),
                     0);
    assert_string_equal(rt_problem_params(pb), "shape=2x3x4 field=gf2 walk=77");
    rt_problem_close(pb);
    print_message("params parser: 20000 strings, %d opened a problem\n", opened);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stored_params_parser_survives_any_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
