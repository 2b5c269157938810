/* param.h — parameter tables: the key=value parameters a problem takes, one row each (name,
 * type, range or choices, default, help line), as curl's option table.
 *
 * One table serves three jobs, so that they cannot drift apart: rt_param_apply sets the
 * defaults and applies a problem's key/value pairs to its state through the rows (offsets into a
 * struct), with the usual one-line errors ("bad --cascade '9': expected 1 to 8"); the unknown-key
 * message lists the keys the table has; rt_param_help writes the "  --key VALUE   text" lines of
 * the problem's params_help.
 *
 * What a table does not do: the canonical parameter string a problem stores stays the problem's
 * own (it is a stored format, written field by field), and so do checks that combine several
 * parameters (--lift 1 needs --field z).
 *
 * Ownership: tables are static data. A RT_PARAM_STRING row stores a pointer into the values
 * given to rt_param_apply: it is valid only as long as they are.
 */
#ifndef RT_PARAM_H
#define RT_PARAM_H

#include <stddef.h>

typedef enum rt_param_type {
    RT_PARAM_STRING, /* const char *, borrowed from the value */
    RT_PARAM_INT,    /* int, long or long long (the member's size), a whole number in [lo, hi] */
    RT_PARAM_DOUBLE, /* double, a finite number in [lo, hi] */
    RT_PARAM_CHOICE, /* int or enum: the value of the choice named */
    RT_PARAM_CUSTOM, /* the row's parse function reads the value */
} rt_param_type;

/* A named value of a RT_PARAM_CHOICE row. A later choice with the value of an earlier one is an
 * alias: accepted, not listed in messages ({"z", 0}, {"Z", 0}). Tables end with {NULL, 0}. */
typedef struct rt_param_choice {
    const char *name;
    int value;
} rt_param_choice;

#define RT_PARAM_REQUIRED 1    /* rt_param_apply fails with the table's `missing` without it */
#define RT_PARAM_EMPTY_UNSET 2 /* RT_PARAM_STRING: an empty value stores NULL (undoes a config) */
#define RT_PARAM_SEARCH 4      /* a setting of the search only: verifying a candidate does not read
                                  it (left out of `ratchet verify`'s help and options) */

typedef struct rt_param {
    const char *name; /* the key, without "--" */
    rt_param_type type;
    size_t offset, size; /* the member the value goes to: RT_PARAM_AT(type, member) */
    double lo, hi;       /* RT_PARAM_INT, RT_PARAM_DOUBLE: the accepted range */
    const char *unit;    /* optional, in the range message: "expected UNIT, LO to HI" */
    const char *expected; /* optional: the whole message after "expected " instead */
    const rt_param_choice *choices; /* RT_PARAM_CHOICE */
    /* RT_PARAM_CUSTOM: parses value into obj; 0, or a code with its message in err */
    int (*parse)(void *obj, const char *value, char *err, size_t errlen);
    const char *def; /* optional: the default, as it would be given; applied first */
    int flags;       /* RT_PARAM_REQUIRED, RT_PARAM_EMPTY_UNSET */
    const char *metavar; /* help: "FILE" in "--initial FILE" */
    const char *help;    /* help: the text; each '\n' starts a line indented to the column */
} rt_param;

/* The member of a struct a row writes: RT_PARAM_AT(program_state, cascade). */
#define RT_PARAM_AT(type, member) \
    .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

typedef struct rt_param_table {
    const char *owner; /* the problem's name, in messages */
    const rt_param *rows;
    size_t nrows; /* at most RT_PARAM_MAX_ROWS */
    int column;   /* help: the column the texts start in */
    /* an unknown key: 1 "OWNER has no parameter --KEY (it takes --a, --b, ...)",
     * 0 "unknown option --KEY for problem OWNER" */
    int list_unknown;
    const char *missing; /* the message when a RT_PARAM_REQUIRED row was not given */
} rt_param_table;

#define RT_PARAM_MAX_ROWS 64
#define RT_PARAM_HELP_MAX 4096

/* Sets every row's default (rows without one are left as they are), then applies the pairs in
 * order (a key given twice: the later wins; a NULL value reads as ""), then checks that every
 * required row was given. Returns 0, or RT_EUSAGE (or a custom row's code) with one line in err
 * naming the key and the value. Stops at the first error; obj may then be partly written. */
int rt_param_apply(const rt_param_table *t, void *obj, const char *const *keys,
                   const char *const *values, size_t n, char *err, size_t errlen);

/* Writes the help lines of the table into out (always NUL-terminated). Returns the length the
 * whole text needs, as snprintf does (so >= len means it was cut). */
size_t rt_param_help(const rt_param_table *t, char *out, size_t len);
/* The same for the rows that have none of the flags in skip (RT_PARAM_SEARCH: what verify
 * reads). */
size_t rt_param_help_rows(const rt_param_table *t, int skip, char *out, size_t len);
/* 1 when the table has a row named key without any of the flags in skip, else 0. */
int rt_param_known(const rt_param_table *t, const char *key, int skip);

/* Defines `static char name[RT_PARAM_HELP_MAX]`, holding the help text of table (a static
 * rt_param_table defined above it), written once before main() runs: a problem class's
 * params_help is a constant pointer to it. */
#define RT_PARAM_HELP_TEXT(name, table)                                                           \
    static char name[RT_PARAM_HELP_MAX];                                                          \
    __attribute__((constructor)) static void name##_write(void)                                   \
    {                                                                                             \
        rt_param_help_init(&(table), name, sizeof name);                                          \
    }

/* rt_param_help for RT_PARAM_HELP_TEXT; a text that does not fit is a bug (assert). */
void rt_param_help_init(const rt_param_table *t, char *out, size_t len);

#endif
