/* recent.c — the ledger of recent experiments shown to proposers (contract in recent.h). */
#include "recent.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rt_recent_init(rt_recent *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->metric, sizeof r->metric, "score");
}

void rt_recent_free(rt_recent *r)
{
    for (size_t i = 0; i < RT_RECENT_TEXTS; i++)
        free(r->texts[i].text);
    rt_recent_init(r);
}

void rt_recent_set_metric(rt_recent *r, const char *name)
{
    if (name && *name && strcmp(r->metric, "score") == 0)
        snprintf(r->metric, sizeof r->metric, "%s", name);
}

/* Copies s into out as one printable line (tabs and line ends as blanks). */
static void one_line(const char *s, char *out, size_t outlen)
{
    size_t k = 0;
    for (; s && *s && k + 1 < outlen; s++)
        out[k++] = (unsigned char)*s < 32 || (unsigned char)*s == 127 ? ' ' : *s;
    out[k] = '\0';
}

static int find_text(const rt_recent *r, const char *hash)
{
    for (int i = 0; hash && i < RT_RECENT_TEXTS; i++)
        if (r->texts[i].text && strcmp(r->texts[i].hash, hash) == 0)
            return i;
    return -1;
}

/* Keeps a candidate's text (the oldest kept text makes room). 0 or RT_ENOMEM. */
static int keep_text(rt_recent *r, const char *hash, const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return RT_ENOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    size_t i = r->next_text;
    free(r->texts[i].text);
    r->texts[i].text = copy;
    r->texts[i].len = len;
    snprintf(r->texts[i].hash, sizeof r->texts[i].hash, "%s", hash);
    r->next_text = (i + 1) % RT_RECENT_TEXTS;
    return 0;
}

int rt_recent_parent(rt_recent *r, const char *hash, const char *text, size_t len)
{
    return !hash || !text || find_text(r, hash) >= 0 ? 0 : keep_text(r, hash, text, len);
}

/* The member called name of the JSON object text metrics, when it is a finite number. */
static int metric_of(const char *metrics, const char *name, double *value)
{
    json_t *m = metrics ? json_loads(metrics, 0, NULL) : NULL;
    json_t *x = json_is_object(m) ? json_object_get(m, name) : NULL;
    int ok = json_is_number(x) && isfinite(json_number_value(x));
    if (ok)
        *value = json_number_value(x);
    json_decref(m);
    return ok;
}

int rt_recent_add(rt_recent *r, const rt_recent_entry *e)
{
    rt_recent_row row;
    memset(&row, 0, sizeof row);
    row.id = e->id;
    snprintf(row.hash, sizeof row.hash, "%.7s", e->hash ? e->hash : "");
    snprintf(row.status, sizeof row.status, "%s%s", e->status, e->trusted ? "(trusted)" : "");
    row.has_value = metric_of(e->metrics, r->metric, &row.value);
    if (!row.has_value && e->has_value && isfinite(e->value)) {
        row.has_value = 1;
        row.value = e->value;
    }
    row.has_verified = e->has_verified && isfinite(e->verified);
    row.verified = e->verified;
    one_line(e->reason, row.reason, sizeof row.reason);
    int p = find_text(r, e->parent_hash);
    if (!e->parent_hash)
        snprintf(row.what, sizeof row.what, "baseline");
    else if (p >= 0 && e->text)
        rt_text_describe(r->texts[p].text, r->texts[p].len, e->text, e->len, row.what,
                         sizeof row.what);
    r->rows[r->next] = row;
    r->next = (r->next + 1) % RT_RECENT_ROWS;
    if (r->nrows < RT_RECENT_ROWS)
        r->nrows++;
    r->total++;
    if (strncmp(e->status, "keep", 4) != 0)
        return 0;
    r->kept[r->next_kept] = row;
    r->next_kept = (r->next_kept + 1) % RT_RECENT_KEPT;
    if (r->nkept < RT_RECENT_KEPT)
        r->nkept++;
    return rt_recent_parent(r, e->hash, e->text, e->len);
}

/* The i-th oldest row of a ring of n rows whose next slot is next, of capacity cap. */
static const rt_recent_row *ring_at(const rt_recent_row *ring, size_t n, size_t next, size_t cap,
                                    size_t i)
{
    return &ring[(next + cap - n + i) % cap];
}

static int put_row(rt_buf *out, const rt_recent_row *w)
{
    char value[32] = "-", verified[32] = "-";
    if (w->has_value)
        snprintf(value, sizeof value, "%.6g", w->value);
    if (w->has_verified)
        snprintf(verified, sizeof verified, "%.6g", w->verified);
    int rc = rt_buf_printf(out, "#%lld %s | %s | %s | %s | %s", w->id, w->hash, w->status, value,
                           verified, w->what[0] ? w->what : "?");
    if (!rc && w->reason[0])
        rc = rt_buf_printf(out, " | %s", w->reason);
    return rc ? rc : rt_buf_puts(out, "\n");
}

int rt_recent_render(const rt_recent *r, rt_buf *out)
{
    rt_buf_reset(out);
    if (!r->nrows)
        return 0;
    int rc = rt_buf_printf(out,
                           "%lld experiments so far; the latest %zu and the latest kept, oldest "
                           "first. Columns: #row commit | status | %s of its own run | verified "
                           "(a kept change: the mean of fresh re-runs; else one re-run) | what "
                           "changed from its parent | why it was not kept\n",
                           r->total, r->nrows, r->metric);
    const rt_recent_row *first = ring_at(r->rows, r->nrows, r->next, RT_RECENT_ROWS, 0);
    /* kept rows older than the window first (both rings are in id order) */
    for (size_t i = 0; !rc && i < r->nkept; i++) {
        const rt_recent_row *k = ring_at(r->kept, r->nkept, r->next_kept, RT_RECENT_KEPT, i);
        if (k->id < first->id)
            rc = put_row(out, k);
    }
    for (size_t i = 0; !rc && i < r->nrows; i++)
        rc = put_row(out, ring_at(r->rows, r->nrows, r->next, RT_RECENT_ROWS, i));
    return rc;
}

/* ---- what changed -------------------------------------------------------------------------- */

/* The line s[0..n), trimmed, printable, without the comment an annotation sits in (what changed
 * is the code before it), into out (at most outlen - 1 bytes). */
static void plain_line(const char *s, size_t n, char *out, size_t outlen)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < outlen; i++)
        out[k++] = (unsigned char)s[i] >= 32 && (unsigned char)s[i] < 127 ? s[i] : '?';
    out[k] = '\0';
    char *cut = strstr(out, "/*");
    if (!cut)
        cut = strstr(out, "//");
    if (!cut)
        cut = strstr(out, " #");
    if (cut && cut != out)
        *cut = '\0';
    char *b = out;
    while (isspace((unsigned char)*b))
        b++;
    memmove(out, b, strlen(b) + 1);
    for (size_t e = strlen(out); e > 0 && isspace((unsigned char)out[e - 1]); e--)
        out[e - 1] = '\0';
}

/* The next line of s at *at (len bytes): its start and length; 0 when there is none. */
static int next_line(const char *s, size_t len, size_t *at, const char **line, size_t *n)
{
    if (*at >= len)
        return 0;
    const char *nl = memchr(s + *at, '\n', len - *at);
    size_t end = nl ? (size_t)(nl - s) : len;
    *line = s + *at;
    *n = end - *at;
    *at = end + 1;
    return 1;
}

/* Appends "A -> B" (a separator first when out is not empty), staying NUL-terminated. */
static void append_change(char *out, size_t outlen, const char *a, size_t an, const char *b,
                          size_t bn)
{
    char pa[120], pb[120];
    plain_line(a, an, pa, sizeof pa);
    plain_line(b, bn, pb, sizeof pb);
    size_t used = strlen(out);
    snprintf(out + used, outlen - used, "%s%s -> %s", used ? "; " : "", pa, pb);
}

void rt_text_describe(const char *parent, size_t plen, const char *child, size_t clen, char *out,
                      size_t outlen)
{
    out[0] = '\0';
    if (plen == clen && memcmp(parent, child, plen) == 0) {
        snprintf(out, outlen, "no change");
        return;
    }
    /* line by line: the changed lines, three at most, then how many more */
    size_t pa = 0, ca = 0, pn = 0, cn = 0;
    const char *pl, *cl;
    int shown = 0, more = 0;
    for (;;) {
        int hp = next_line(parent, plen, &pa, &pl, &pn);
        int hc = next_line(child, clen, &ca, &cl, &cn);
        if (!hp && !hc)
            break;
        if (hp != hc) { /* one text has more lines: the rest is one change */
            if (shown < 3)
                append_change(out, outlen, hp ? pl : "", hp ? pn : 0, hc ? cl : "", hc ? cn : 0);
            else
                more++;
            break;
        }
        if (pn == cn && memcmp(pl, cl, pn) == 0)
            continue;
        if (shown++ < 3)
            append_change(out, outlen, pl, pn, cl, cn);
        else
            more++;
    }
    if (more) {
        size_t used = strlen(out);
        snprintf(out + used, outlen - used, "; and %d more line%s", more, more == 1 ? "" : "s");
    }
}
