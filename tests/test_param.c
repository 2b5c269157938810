/* test_param.c — parameter tables (src/param.c): defaults, the later of two values winning, every
 * row type with its range or choices, the one-line errors (bad value, unknown key in both
 * styles, a missing required key), and the help text written from the rows; every problem's
 * params_help is such a text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "param.h"
#include "problem.h"
#include "testutil.h"

typedef struct toy {
    const char *name, *note;
    int count;
    long long big;
    double rate;
    int color;
    int custom_calls;
} toy;

static int odd_param(void *obj, const char *v, char *err, size_t errlen)
{
    toy *t = obj;
    t->custom_calls++;
    if (strlen(v) % 2 == 0)
        return rt_fail(err, errlen, RT_EUSAGE, "--odd '%s': an odd length, please", v);
    return 0;
}

static const rt_param_choice colors[] = {{"red", 1}, {"green", 2}, {"blue", 3}, {"RED", 1},
                                         {NULL, 0}};

static const rt_param toy_rows[] = {
    {.name = "name", .type = RT_PARAM_STRING, RT_PARAM_AT(toy, name), .flags = RT_PARAM_REQUIRED,
     .metavar = "NAME", .help = "what it is called"},
    {.name = "note", .type = RT_PARAM_STRING, RT_PARAM_AT(toy, note),
     .flags = RT_PARAM_EMPTY_UNSET, .metavar = "TEXT", .help = "a note\n(empty: none)"},
    {.name = "count", .type = RT_PARAM_INT, RT_PARAM_AT(toy, count), .lo = 1, .hi = 8,
     .def = "3", .metavar = "N", .help = "how many (default 3)"},
    {.name = "big", .type = RT_PARAM_INT, RT_PARAM_AT(toy, big), .lo = 0, .hi = 1e12,
     .unit = "bytes", .metavar = "N", .help = "how much"},
    {.name = "rate", .type = RT_PARAM_DOUBLE, RT_PARAM_AT(toy, rate), .lo = 0.01, .hi = 86400,
     .unit = "seconds", .def = "0.9", .metavar = "S", .help = "how often"},
    {.name = "color", .type = RT_PARAM_CHOICE, RT_PARAM_AT(toy, color), .choices = colors,
     .def = "green", .metavar = "C", .help = "which"},
    {.name = "odd", .type = RT_PARAM_CUSTOM, .parse = odd_param, .expected = "unused",
     .metavar = "A-VERY-LONG-METAVARIABLE", .help = "custom"},
};

static const rt_param_table toy_table = {
    .owner = "toy",
    .rows = toy_rows,
    .nrows = sizeof toy_rows / sizeof toy_rows[0],
    .column = 16,
    .list_unknown = 1,
    .missing = "toy needs --name NAME",
};

/* Applies NULL-terminated key, value, key, value, ... to a fresh toy; returns the code. */
static int apply(const rt_param_table *t, toy *out, char *err, size_t errlen, ...)
{
    const char *keys[16], *values[16];
    size_t n = 0;
    va_list ap;
    va_start(ap, errlen);
    for (const char *k; (k = va_arg(ap, const char *)) != NULL && n < 16; n++) {
        keys[n] = k;
        values[n] = va_arg(ap, const char *);
    }
    va_end(ap);
    memset(out, 0, sizeof *out);
    err[0] = '\0';
    return rt_param_apply(t, out, keys, values, n, err, errlen);
}

static void test_defaults_and_values(void **state)
{
    (void)state;
    toy t;
    char err[256];
    assert_int_equal(apply(&toy_table, &t, err, sizeof err, "name", "a", NULL), 0);
    assert_string_equal(t.name, "a");
    assert_null(t.note);
    assert_int_equal(t.count, 3);
    assert_true(t.rate == 0.9); /* the same double as the literal */
    assert_int_equal(t.color, 2);
    assert_int_equal(apply(&toy_table, &t, err, sizeof err, "count", "5", "name", "a", "count",
                           "8", "big", "1000000000000", "rate", "1e-2", "color", "RED", "note",
                           "x", "note", "", "odd", "abc", NULL),
                     0);
    assert_int_equal(t.count, 8); /* the later wins */
    assert_int_equal(t.big, 1000000000000LL);
    assert_true(t.rate == 0.01);
    assert_int_equal(t.color, 1); /* an alias */
    assert_null(t.note);          /* emptied again */
    assert_int_equal(t.custom_calls, 1);
    /* a NULL value reads as "" */
    assert_int_equal(apply(&toy_table, &t, err, sizeof err, "name", NULL, NULL), 0);
    assert_string_equal(t.name, "");
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *key, *value, *msg;
    } cases[] = {
        {"count", "9", "bad --count '9': expected 1 to 8"},
        {"count", "2x", "bad --count '2x': expected 1 to 8"},
        {"count", "", "bad --count '': expected 1 to 8"},
        {"big", "-1", "bad --big '-1': expected bytes, 0 to 1000000000000"},
        {"rate", "0", "bad --rate '0': expected seconds, 0.01 to 86400"},
        {"rate", "nan", "bad --rate 'nan': expected seconds, 0.01 to 86400"},
        {"color", "Green", "bad --color 'Green': expected red, green or blue"},
        {"odd", "ab", "--odd 'ab': an odd length, please"},
        {"colour", "red",
         "toy has no parameter --colour (it takes --name, --note, --count, --big, --rate, "
         "--color, --odd)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        toy t;
        char err[256];
        assert_int_equal(apply(&toy_table, &t, err, sizeof err, "name", "a", cases[i].key,
                               cases[i].value, "colour", "stops before here", NULL),
                         RT_EUSAGE);
        assert_string_equal(err, cases[i].msg);
    }
    toy t;
    char err[256];
    assert_int_equal(apply(&toy_table, &t, err, sizeof err, "count", "2", NULL), RT_EUSAGE);
    assert_string_equal(err, "toy needs --name NAME");
    rt_param_table terse = toy_table;
    terse.list_unknown = 0;
    assert_int_equal(apply(&terse, &t, err, sizeof err, "x", "1", NULL), RT_EUSAGE);
    assert_string_equal(err, "unknown option --x for problem toy");
}

static void test_help(void **state)
{
    (void)state;
    char help[RT_PARAM_HELP_MAX];
    size_t need = rt_param_help(&toy_table, help, sizeof help);
    const char *want = "  --name NAME   what it is called\n"
                       "  --note TEXT   a note\n"
                       "                (empty: none)\n"
                       "  --count N     how many (default 3)\n"
                       "  --big N       how much\n"
                       "  --rate S      how often\n"
                       "  --color C     which\n"
                       "  --odd A-VERY-LONG-METAVARIABLE custom\n";
    assert_string_equal(help, want);
    assert_int_equal(need, strlen(want));
    /* cut short: still terminated, and the length needed is told */
    char small[20];
    assert_int_equal(rt_param_help(&toy_table, small, sizeof small), strlen(want));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, want, sizeof small - 1);
}

/* Every problem's help is written from its table: one "  --key" line per parameter, each text
 * at the same column, continuation lines indented to it. */
static void test_problem_help(void **state)
{
    (void)state;
    for (size_t i = 0; i < rt_problem_count(); i++) {
        const char *help = rt_problem_params_help(rt_problem_name_at(i));
        assert_non_null(help);
        assert_true(strncmp(help, "  --", 4) == 0);
        assert_int_equal(help[strlen(help) - 1], '\n');
        size_t column = 0;
        for (const char *line = help; *line; line = strchr(line, '\n') + 1) {
            size_t blanks = strspn(line, " ");
            if (line[blanks] == '-' && line[blanks + 1] == '-') {
                const char *text = strstr(line, "  ") ? strstr(line + 4, "  ") : NULL;
                assert_non_null(text);
                size_t at = (size_t)(text - line) + strspn(text, " ");
                if (!column)
                    column = at;
                assert_int_equal(at, column);
            } else {
                assert_int_equal(blanks, column);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_problem_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
