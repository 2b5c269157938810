/* cmd_lift.c — `ratchet lift FILE --shape NxMxP [--format exp|json|c]`: lifts a matrix
 * multiplication scheme valid over GF(2) to one over the integers (Hensel lifting; see
 * docs/matmul-lifting.md) and prints it. Uses only include/ratchet.h.
 *
 * Exit codes: 0 lifted (the lift verified over the integers), 1 no lift (the reason on stderr:
 * a proof when the obstruction is modulo 4, else "none found"), 2 bad usage or input.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define LIFT_MAX_INPUT ((size_t)16 << 20)

typedef struct lift_args {
    const char *path, *shape, *format;
} lift_args;

#define AT(field) offsetof(lift_args, field)
static const arg_opt lift_opts[] = {
    {"shape", "NxMxP", ARG_TEXT, 0, 0, NULL, AT(shape), "the scheme's shape (required)"},
    {"format", "F", ARG_TEXT, 0, 0, NULL, AT(format),
     "exp (default), json, or c (a C function, see docs/matmul-lifting.md)"},
    {0},
};

static void lift_help(FILE *f)
{
    fprintf(f, "usage: ratchet lift FILE --shape NxMxP [--format exp|json|c]\n\n"
               "Lifts a scheme valid over GF(2) (.exp or JSON; FILE may be - for standard input)\n"
               "to a scheme over the integers that reduces to it modulo 2, checks it exactly and\n"
               "prints it. Exit 0 when lifted, 1 when it cannot be lifted (the reason on\n"
               "stderr), 2 on bad usage or input.\n");
    args_help(f, lift_opts, 17);
    fprintf(f, "\nExample:\n  ratchet lift 555-93-mod2.exp --shape 5x5x5 > 555-93-z.exp\n");
}

int cmd_lift(int argc, char **argv)
{
    static const arg_spec spec = {"lift", lift_opts, lift_help, AT(path), NULL, NULL};
    lift_args args = {.format = "exp"};
    int rc = args_parse(&spec, argc, argv, &args, NULL);
    if (rc)
        return rc < 0 ? 0 : rc;
    const char *path = args.path, *shape = args.shape, *format = args.format;
    if (!path || !shape) {
        usage_error("lift: needs FILE and --shape NxMxP (see ratchet lift --help)");
        return EXIT_USAGE;
    }
    if (strcmp(format, "exp") && strcmp(format, "json") && strcmp(format, "c")) {
        usage_error("lift: bad --format '%s': expected exp, json or c", format);
        return EXIT_USAGE;
    }
    const char *keys[2] = {"shape", "field"};
    const char *gf2_values[2] = {shape, "gf2"}, *z_values[2] = {shape, "z"};
    rt_problem *gf2 = NULL, *z = NULL;
    rt_error err = {0};
    char *text = NULL, *lifted = NULL, *formatted = NULL;
    size_t len = 0;
    char msg[512];
    int code = EXIT_USAGE;
    if (rt_problem_open(&gf2, "matmul", keys, gf2_values, 2, &err) ||
        rt_problem_open(&z, "matmul", keys, z_values, 2, &err)) {
        usage_error("lift: %s", err.msg);
        goto done;
    }
    if (input_read(path, LIFT_MAX_INPUT, &text, &len, msg, sizeof msg)) {
        usage_error("lift: %s", msg);
        goto done;
    }
    rc = rt_problem_convert(gf2, text, len, "lift", &lifted, &err);
    if (rc) {
        usage_error("lift: %s: %s", path, err.msg);
        code = rc == RT_EINVALID ? EXIT_FAIL : EXIT_USAGE;
        goto done;
    }
    if (strcmp(format, "exp") != 0) {
        rc = rt_problem_convert(z, lifted, strlen(lifted), format, &formatted, &err);
        if (rc) {
            usage_error("lift: %s", err.msg);
            goto done;
        }
    }
    fputs(formatted ? formatted : lifted, stdout);
    code = fflush(stdout) == 0 ? 0 : EXIT_USAGE;
done:
    free(text);
    free(lifted);
    free(formatted);
    rt_problem_close(gf2);
    rt_problem_close(z);
    return code;
}
