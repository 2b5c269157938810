/* param.c — parameter tables (param.h): applying key/value pairs through the rows, and the help
 * text written from them. */
#include "param.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* Appends to out[*at..len) like snprintf, keeping *at at most len - 1 (out stays terminated)
 * and counting in *need what the whole text would take. */
static void put(char *out, size_t len, size_t *at, size_t *need, const char *fmt, const char *s)
{
    int k = snprintf(out + *at, len - *at, fmt, s);
    if (k < 0)
        return;
    *need += (size_t)k;
    *at += (size_t)k < len - *at ? (size_t)k : len - *at - 1;
}

/* 1 when choice c has the value of an earlier choice of the row. */
static int is_alias(const rt_param *row, const rt_param_choice *c)
{
    for (const rt_param_choice *e = row->choices; e < c; e++)
        if (e->value == c->value)
            return 1;
    return 0;
}

/* The message after "expected " for a value the row refuses, into out. */
static void expected_text(const rt_param *row, char *out, size_t len)
{
    if (row->expected) {
        snprintf(out, len, "%s", row->expected);
        return;
    }
    const char *unit = row->unit ? row->unit : "", *sep = row->unit ? ", " : "";
    if (row->type == RT_PARAM_INT) {
        snprintf(out, len, "%s%s%ld to %ld", unit, sep, (long)row->lo, (long)row->hi);
        return;
    }
    if (row->type == RT_PARAM_DOUBLE) {
        snprintf(out, len, "%s%s%g to %g", unit, sep, row->lo, row->hi);
        return;
    }
    /* choices: "a, b or c", aliases left out */
    size_t at = 0, need = 0, listed = 0, nlisted = 0;
    out[0] = '\0';
    for (const rt_param_choice *c = row->choices; c->name; c++)
        nlisted += !is_alias(row, c);
    for (const rt_param_choice *c = row->choices; c->name; c++) {
        if (is_alias(row, c))
            continue;
        listed++;
        put(out, len, &at, &need, listed == 1 ? "%s" : listed == nlisted ? " or %s" : ", %s",
            c->name);
    }
}

static void store_int(void *member, size_t size, long long v)
{
    if (size == sizeof(int)) {
        int x = (int)v;
        memcpy(member, &x, sizeof x);
    } else {
        assert(size == sizeof(long long));
        memcpy(member, &v, sizeof v);
    }
}

/* Applies one value through its row. Returns 0, or the error (message in err). */
static int apply_row(const rt_param *row, void *obj, const char *v, char *err, size_t errlen)
{
    char *member = (char *)obj + row->offset;
    int bad = 0;
    switch (row->type) {
    case RT_PARAM_STRING: {
        const char *s = (row->flags & RT_PARAM_EMPTY_UNSET) && !*v ? NULL : v;
        assert(row->size == sizeof s);
        memcpy(member, &s, sizeof s);
        return 0;
    }
    case RT_PARAM_INT: {
        long l;
        bad = rt_parse_long(v, (long)row->lo, (long)row->hi, &l) != 0;
        if (!bad)
            store_int(member, row->size, l);
        break;
    }
    case RT_PARAM_DOUBLE: {
        double d;
        assert(row->size == sizeof d);
        bad = rt_parse_double(v, row->lo, row->hi, &d) != 0;
        if (!bad)
            memcpy(member, &d, sizeof d);
        break;
    }
    case RT_PARAM_CHOICE: {
        const rt_param_choice *c = row->choices;
        while (c->name && strcmp(c->name, v) != 0)
            c++;
        bad = c->name == NULL;
        if (!bad)
            store_int(member, row->size, c->value);
        break;
    }
    case RT_PARAM_CUSTOM:
        return row->parse(obj, v, err, errlen);
    }
    if (!bad)
        return 0;
    char expected[160];
    expected_text(row, expected, sizeof expected);
    return rt_fail(err, errlen, RT_EUSAGE, "bad --%s '%s': expected %s", row->name, v, expected);
}

static int unknown_key(const rt_param_table *t, const char *key, char *err, size_t errlen)
{
    if (!t->list_unknown)
        return rt_fail(err, errlen, RT_EUSAGE, "unknown option --%s for problem %s", key,
                       t->owner);
    char list[RT_PARAM_MAX_ROWS * 24];
    size_t at = 0, need = 0;
    list[0] = '\0';
    for (size_t i = 0; i < t->nrows; i++)
        put(list, sizeof list, &at, &need, i ? ", --%s" : "--%s", t->rows[i].name);
    return rt_fail(err, errlen, RT_EUSAGE, "%s has no parameter --%s (it takes %s)", t->owner,
                   key, list);
}

int rt_param_apply(const rt_param_table *t, void *obj, const char *const *keys,
                   const char *const *values, size_t n, char *err, size_t errlen)
{
    assert(t->nrows <= RT_PARAM_MAX_ROWS);
    unsigned char given[RT_PARAM_MAX_ROWS] = {0};
    for (size_t r = 0; r < t->nrows; r++) {
        if (!t->rows[r].def)
            continue;
        int rc = apply_row(&t->rows[r], obj, t->rows[r].def, err, errlen);
        assert(rc == 0); /* a default the row refuses: a bug in the table */
        (void)rc;
    }
    for (size_t i = 0; i < n; i++) {
        size_t r = 0;
        while (r < t->nrows && strcmp(t->rows[r].name, keys[i]) != 0)
            r++;
        if (r == t->nrows)
            return unknown_key(t, keys[i], err, errlen);
        int rc = apply_row(&t->rows[r], obj, values[i] ? values[i] : "", err, errlen);
        if (rc)
            return rc;
        given[r] = 1;
    }
    for (size_t r = 0; r < t->nrows; r++)
        if ((t->rows[r].flags & RT_PARAM_REQUIRED) && !given[r])
            return rt_fail(err, errlen, RT_EUSAGE, "%s", t->missing);
    return 0;
}

int rt_param_known(const rt_param_table *t, const char *key, int skip)
{
    for (size_t r = 0; r < t->nrows; r++)
        if (strcmp(t->rows[r].name, key) == 0)
            return (t->rows[r].flags & skip) == 0;
    return 0;
}

size_t rt_param_help(const rt_param_table *t, char *out, size_t len)
{
    return rt_param_help_rows(t, 0, out, len);
}

size_t rt_param_help_rows(const rt_param_table *t, int skip, char *out, size_t len)
{
    size_t at = 0, need = 0;
    assert(len > 0);
    out[0] = '\0';
    for (size_t r = 0; r < t->nrows; r++) {
        const rt_param *row = &t->rows[r];
        if (row->flags & skip)
            continue;
        char head[128];
        int k = snprintf(head, sizeof head, "  --%s %s", row->name, row->metavar);
        size_t width = k > 0 ? (size_t)k : 0;
        put(out, len, &at, &need, "%s", head);
        /* the text starts at the column, or one blank after a head that reaches it */
        for (size_t c = width; c < (size_t)t->column || c == width; c++)
            put(out, len, &at, &need, "%s", " ");
        for (const char *line = row->help; line;) {
            const char *nl = strchr(line, '\n');
            size_t n = nl ? (size_t)(nl - line) : strlen(line);
            char text[256];
            snprintf(text, sizeof text, "%.*s", (int)n, line);
            put(out, len, &at, &need, "%s\n", text);
            line = nl ? nl + 1 : NULL;
            for (int c = 0; line && c < t->column; c++)
                put(out, len, &at, &need, "%s", " ");
        }
    }
    return need;
}

void rt_param_help_init(const rt_param_table *t, char *out, size_t len)
{
    size_t need = rt_param_help(t, out, len);
    assert(need < len); /* RT_PARAM_HELP_MAX is too small for the table */
    (void)need;
}
