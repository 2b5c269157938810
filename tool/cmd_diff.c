/* cmd_diff.c — `ratchet diff STORE ID [ID2]`: a unified diff of a candidate's text against its
 * parent's, or ID2's (read-only). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "tool.h"

typedef struct diff_args {
    const char *pos[3]; /* STORE ID [ID2] */
} diff_args;

static const arg_opt diff_opts[] = {{0}};

static void help_diff(FILE *f)
{
    fprintf(f, "usage: ratchet diff STORE ID [ID2]\n\n"
               "Prints a unified diff from the parent of candidate ID to ID (or from ID to\n"
               "ID2), IDs being row ids or 'best'. Nothing is printed when the texts are\n"
               "equal. Read-only.\n");
}

/* The id of the parent of candidate id into *parent; EXIT_USAGE for the seed. */
static int parent_of(rt_store *st, long long id, long long *parent)
{
    long long *ids = NULL;
    size_t n = 0;
    if (rt_store_lineage(st, id, &ids, &n)) {
        usage_error("diff: %s", rt_store_errmsg(st));
        return EXIT_USAGE;
    }
    *parent = n > 1 ? ids[1] : 0;
    free(ids);
    if (!*parent) {
        usage_error("diff: candidate %lld has no parent in the store (name a second id)", id);
        return EXIT_USAGE;
    }
    return 0;
}

/* Prints the diff from candidate from to candidate to. */
static int print_diff(rt_store *st, long long from, long long to)
{
    char *a = NULL, *b = NULL, *out = NULL, la[64], lb[64];
    int rc = 0;
    if (rt_store_candidate_text(st, from, &a) || rt_store_candidate_text(st, to, &b)) {
        usage_error("diff: %s", rt_store_errmsg(st));
        rc = EXIT_USAGE;
    } else {
        snprintf(la, sizeof la, "candidate %lld", from);
        snprintf(lb, sizeof lb, "candidate %lld", to);
        if (rt_text_diff(a, b, la, lb, &out)) {
            usage_error("diff: the texts are too large to compare");
            rc = EXIT_USAGE;
        } else {
            fputs(out, stdout);
        }
    }
    free(a);
    free(b);
    free(out);
    return rc;
}

int cmd_diff(int argc, char **argv)
{
    static const arg_spec spec = {"diff", diff_opts, help_diff, offsetof(diff_args, pos), NULL,
                                  NULL};
    diff_args a = {0};
    int rc = args_parse_n(&spec, 2, argc, argv, &a, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.pos[1]) {
        usage_error("diff: name a store file and a candidate id (see ratchet diff --help)");
        return EXIT_USAGE;
    }
    rt_store *st = browse_open("diff", a.pos[0]);
    if (!st)
        return EXIT_USAGE;
    long long from = 0, to = 0;
    rc = browse_id("diff", st, a.pos[1], &to);
    if (!rc && a.pos[2]) {
        from = to;
        rc = browse_id("diff", st, a.pos[2], &to);
    } else if (!rc) {
        rc = parent_of(st, to, &from);
    }
    if (!rc)
        rc = print_diff(st, from, to);
    rt_store_close(st);
    return rc;
}
