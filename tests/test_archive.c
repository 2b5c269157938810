/* test_archive.c — the archive (archive.c): MAP-Elites cells, ties that replace, one hash per
 * island, migration of each island's best once, parent selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive.h"
#include "problem.h"
#include "ratchet.h"

static void *genome_for(const rt_problem *pb)
{
    return rt_problem_seed(pb);
}

static void archive_cells_ties_and_dedupe(void **state)
{
    (void)state;
    rt_problem *pb = NULL;
    rt_error err;
    const char *keys[] = {"shape"}, *values[] = {"2x2x2"};
    assert_int_equal(rt_problem_open(&pb, "matmul", keys, values, 1, &err), 0);
    rt_archive a;
    assert_int_equal(rt_archive_init(&a, pb, 2), 0);
    int c1[2] = {8, 6}, c2[2] = {7, 6};
    void *g = genome_for(pb);
    assert_int_equal(rt_archive_offer(&a, 0, g, (rt_score){-8, -24}, c1, "h1", 1, NULL), 1);
    /* same hash again: refused, even into another cell */
    void *g2 = genome_for(pb);
    assert_int_equal(rt_archive_offer(&a, 0, g2, (rt_score){-7, -20}, c2, "h1", 2, NULL), 0);
    /* worse in the same cell: refused; equal: replaces (plateau moves) */
    assert_int_equal(rt_archive_offer(&a, 0, g2, (rt_score){-8, -30}, c1, "h2", 2, NULL), 0);
    assert_int_equal(rt_archive_offer(&a, 0, g2, (rt_score){-8, -24}, c1, "h3", 3, NULL), 1);
    assert_int_equal(a.islands[0].ncells, 1);
    assert_string_equal(a.islands[0].cells[0].hash, "h3");
    void *g3 = genome_for(pb);
    assert_int_equal(rt_archive_offer(&a, 0, g3, (rt_score){-7, -20}, c2, "h4", 4, NULL), 1);
    assert_int_equal(a.islands[0].ncells, 2);
    assert_string_equal(rt_archive_best(&a)->hash, "h4");

    /* migration moves the best once */
    assert_int_equal(rt_archive_migrate(&a), 1);
    assert_int_equal(a.islands[1].ncells, 1);
    assert_string_equal(a.islands[1].cells[0].hash, "h4");
    assert_int_equal(rt_archive_migrate(&a), 0);
    assert_int_equal(a.islands[0].ncells, 2);

    /* selection with p_best = 1 always gives the best; with 0 it reaches every cell */
    rt_rng rng;
    rt_rng_seed(&rng, 1, 0);
    assert_string_equal(rt_archive_select(&a, 0, &rng, 1.0)->hash, "h4");
    int seen3 = 0, seen4 = 0;
    for (int i = 0; i < 200; i++) {
        const char *h = rt_archive_select(&a, 0, &rng, 0.0)->hash;
        seen3 += strcmp(h, "h3") == 0;
        seen4 += strcmp(h, "h4") == 0;
    }
    assert_true(seen3 > 0 && seen4 > 0);
    rt_archive_free(&a);
    rt_problem_close(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(archive_cells_ties_and_dedupe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
