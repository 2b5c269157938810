/* research_text.c — the research problem's text: metrics read from a run's output, logs without
 * the test metric, the bundle of editable files, and a one-line description of a change.
 * Everything here reads untrusted bytes (a training program's output, a proposer's text). */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems/research/research.h"
#include "recent.h"

#define MAX_JSON_LINE 65536 /* longer lines are not parsed as JSON */

/* A number at s[0..n): the longest prefix strtod accepts, finite. 1 when found. */
static int read_number(const char *s, size_t n, double *value)
{
    char buf[64];
    size_t k = 0;
    while (k < n && k < sizeof buf - 1 && !isspace((unsigned char)s[k]) && s[k] != ',' &&
           s[k] != ';')
        k++;
    memcpy(buf, s, k);
    buf[k] = '\0';
    if (k == 0)
        return 0;
    char *end;
    double v = strtod(buf, &end);
    if (end == buf || !isfinite(v))
        return 0;
    *value = v;
    return 1;
}

/* `name: VALUE` on the line s[0..n)? */
static int line_named(const char *s, size_t n, const char *name, size_t nl, double *value)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (n - i < nl || memcmp(s + i, name, nl) != 0)
        return 0;
    i += nl;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i >= n || s[i] != ':')
        return 0;
    i++;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return read_number(s + i, n - i, value);
}

/* A JSON object line with a numeric member name? */
static int line_json(const char *s, size_t n, const char *name, double *value)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)s[i]))
        i++;
    if (i >= n || s[i] != '{' || n > MAX_JSON_LINE)
        return 0;
    json_t *o = json_loadb(s + i, n - i, JSON_REJECT_DUPLICATES, NULL);
    int found = 0;
    if (o && json_is_object(o)) {
        json_t *v = json_object_get(o, name);
        if (v && json_is_number(v) && isfinite(json_number_value(v))) {
            *value = json_number_value(v);
            found = 1;
        }
    }
    json_decref(o);
    return found;
}

int rt_research_find_metric(const char *s, size_t len, const char *name, double *value)
{
    size_t nl = strlen(name);
    int found = 0;
    if (nl == 0)
        return 0;
    size_t at = 0;
    while (at < len) {
        const char *nlp = memchr(s + at, '\n', len - at);
        size_t end = nlp ? (size_t)(nlp - s) : len;
        size_t n = end - at;
        if (n && s[at + n - 1] == '\r')
            n--;
        double v;
        if (line_named(s + at, n, name, nl, &v) || line_json(s + at, n, name, &v)) {
            *value = v;
            found = 1;
        }
        at = end + 1;
    }
    return found;
}

int rt_research_scrub(const char *s, size_t len, const char *needle, rt_buf *out)
{
    size_t nn = needle ? strlen(needle) : 0;
    size_t at = 0;
    while (at < len) {
        const char *nlp = memchr(s + at, '\n', len - at);
        size_t end = nlp ? (size_t)(nlp - s) + 1 : len;
        int hit = 0;
        for (size_t i = at; nn && i + nn <= end && !hit; i++)
            hit = memcmp(s + i, needle, nn) == 0;
        if (!hit) {
            int rc = rt_buf_append(out, s + at, end - at);
            if (rc)
                return rc;
        }
        at = end;
    }
    return 0;
}

int rt_research_bundle(size_t n, const char *const *names, const char *const *data,
                       const size_t *len, rt_buf *out)
{
    if (n == 1)
        return rt_buf_append(out, data[0], len[0]);
    for (size_t i = 0; i < n; i++) {
        int rc = rt_buf_printf(out, "%s%s%s\n", RT_RESEARCH_HEADER, names[i],
                               RT_RESEARCH_HEADER_END);
        if (!rc)
            rc = rt_buf_append(out, data[i], len[i]);
        if (!rc && len[i] && data[i][len[i] - 1] != '\n')
            rc = rt_buf_append(out, "\n", 1);
        if (rc)
            return rc;
    }
    return 0;
}

/* Is the line at text[at..) the header of name? *next receives the offset after it. */
static int header_at(const char *text, size_t len, size_t at, const char *name, size_t *next)
{
    size_t hl = strlen(RT_RESEARCH_HEADER), nl = strlen(name), el = strlen(RT_RESEARCH_HEADER_END);
    size_t need = hl + nl + el + 1;
    if (len - at < need || memcmp(text + at, RT_RESEARCH_HEADER, hl) != 0 ||
        memcmp(text + at + hl, name, nl) != 0 ||
        memcmp(text + at + hl + nl, RT_RESEARCH_HEADER_END, el) != 0 ||
        text[at + hl + nl + el] != '\n')
        return 0;
    *next = at + need;
    return 1;
}

/* Offset of the next line that starts with RT_RESEARCH_HEADER at or after at, or len. */
static size_t next_header(const char *text, size_t len, size_t at)
{
    size_t hl = strlen(RT_RESEARCH_HEADER);
    while (at < len) {
        if (len - at >= hl && memcmp(text + at, RT_RESEARCH_HEADER, hl) == 0)
            return at;
        const char *nlp = memchr(text + at, '\n', len - at);
        if (!nlp)
            return len;
        at = (size_t)(nlp - text) + 1;
    }
    return len;
}

int rt_research_split(const char *text, size_t len, size_t n, const char *const *names,
                      rt_research_part *parts, char *why, size_t whylen)
{
    if (n == 1) {
        parts[0] = (rt_research_part){text, len};
        return 0;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t start;
        if (!header_at(text, len, at, names[i], &start))
            return rt_fail(why, whylen, RT_EINVALID,
                           "the bundle does not have the header line of %s where expected",
                           names[i]);
        size_t end = next_header(text, len, start);
        parts[i] = (rt_research_part){text + start, end - start};
        at = end;
    }
    if (at != len)
        return rt_fail(why, whylen, RT_EINVALID, "the bundle has a header line of no editable "
                                                 "file");
    return 0;
}

void rt_research_describe(const char *parent, size_t plen, const char *child, size_t clen,
                          char *out, size_t outlen)
{
    rt_text_describe(parent, plen, child, clen, out, outlen);
}
