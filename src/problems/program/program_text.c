/* program_text.c — editable regions, strict SEARCH/REPLACE edits, rewrites, duplicate keys and
 * annotations for the `program` problem (contracts in program_text.h). */
#include "problems/program/program_text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- lines ------------------------------------------------------------------------------- */

/* The line starting at text[at]: its length without the newline, and where the next begins. */
static size_t line_end(const char *text, size_t len, size_t at, size_t *next)
{
    const char *nl = memchr(text + at, '\n', len - at);
    size_t end = nl ? (size_t)(nl - text) : len;
    *next = nl ? end + 1 : len;
    return end;
}

static int contains(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (k > n)
        return 0;
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, needle, k) == 0)
            return 1;
    return 0;
}

/* ---- regions ----------------------------------------------------------------------------- */

int rt_regions_find(const char *text, size_t len, rt_regions *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len > RT_PROGRAM_MAX_TEXT)
        return rt_fail(err, errlen, RT_ETOOBIG, "program of %zu bytes is over the cap of %zu",
                       len, RT_PROGRAM_MAX_TEXT);
    int open = 0;
    size_t lineno = 0, open_line = 0;
    for (size_t at = 0; at < len;) {
        size_t next, end = line_end(text, len, at, &next);
        lineno++;
        int start = contains(text + at, end - at, "EVOLVE-BLOCK-START");
        int stop = contains(text + at, end - at, "EVOLVE-BLOCK-END");
        if (start && stop)
            return rt_fail(err, errlen, RT_EUSAGE,
                           "line %zu: EVOLVE-BLOCK-START and EVOLVE-BLOCK-END on one line", lineno);
        if (start) {
            if (open)
                return rt_fail(err, errlen, RT_EUSAGE,
                               "line %zu: EVOLVE-BLOCK-START inside the block opened on line %zu",
                               lineno, open_line);
            if (out->n == RT_PROGRAM_MAX_REGIONS)
                return rt_fail(err, errlen, RT_ETOOBIG, "line %zu: more than %d EVOLVE blocks",
                               lineno, RT_PROGRAM_MAX_REGIONS);
            open = 1;
            open_line = lineno;
            out->r[out->n].begin = next;
            out->marked = 1;
        } else if (stop) {
            if (!open)
                return rt_fail(err, errlen, RT_EUSAGE,
                               "line %zu: EVOLVE-BLOCK-END without EVOLVE-BLOCK-START", lineno);
            open = 0;
            out->r[out->n].end = at;
            out->n++;
        }
        at = next;
    }
    if (open)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "line %zu: EVOLVE-BLOCK-START is never closed by EVOLVE-BLOCK-END",
                       open_line);
    if (!out->marked) {
        out->n = 1;
        out->r[0].begin = 0;
        out->r[0].end = len;
    }
    return 0;
}

/* ---- edit blocks ------------------------------------------------------------------------- */

typedef struct edit_block {
    const char *search;
    size_t slen;
    const char *replace;
    size_t rlen;
    size_t line; /* line of its SEARCH marker */
} edit_block;

/* Whether the line is exactly the marker, ignoring trailing spaces, tabs and CR. */
static int is_marker(const char *s, size_t n, const char *marker)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    size_t k = strlen(marker);
    return n == k && memcmp(s, marker, k) == 0;
}

#define M_SEARCH "<<<<<<< SEARCH"
#define M_SEP "======="
#define M_REPLACE ">>>>>>> REPLACE"

int rt_edit_has_blocks(const char *reply, size_t len)
{
    for (size_t at = 0; at < len;) {
        size_t next, end = line_end(reply, len, at, &next);
        if (is_marker(reply + at, end - at, M_SEARCH))
            return 1;
        at = next;
    }
    return 0;
}

/* Splits a reply into blocks. The old and new texts are the whole lines between the markers,
 * newlines included, so a SEARCH text matches whole lines only. */
static int parse_blocks(const char *reply, size_t len, edit_block *blocks, size_t *nblocks,
                        char *err, size_t errlen)
{
    enum { OUTSIDE, IN_SEARCH, IN_REPLACE } state = OUTSIDE;
    size_t n = 0, lineno = 0;
    size_t body = 0; /* where the current text began */
    for (size_t at = 0; at < len;) {
        size_t next, end = line_end(reply, len, at, &next);
        lineno++;
        const char *s = reply + at;
        size_t sl = end - at;
        /* text of the section that ends at this marker line: [body, at) */
        size_t tlen = at - body;
        switch (state) {
        case OUTSIDE:
            if (is_marker(s, sl, M_SEARCH)) {
                if (n == RT_PROGRAM_MAX_BLOCKS)
                    return rt_fail(err, errlen, RT_ETOOBIG, "more than %d edit blocks",
                                   RT_PROGRAM_MAX_BLOCKS);
                blocks[n].line = lineno;
                state = IN_SEARCH;
                body = next;
            } else if (is_marker(s, sl, M_SEP) || is_marker(s, sl, M_REPLACE)) {
                return rt_fail(err, errlen, RT_EUSAGE, "line %zu: '%s' outside an edit block",
                               lineno, is_marker(s, sl, M_SEP) ? M_SEP : M_REPLACE);
            }
            break;
        case IN_SEARCH:
            if (is_marker(s, sl, M_SEP)) {
                blocks[n].search = reply + body;
                blocks[n].slen = tlen;
                state = IN_REPLACE;
                body = next;
            } else if (is_marker(s, sl, M_SEARCH) || is_marker(s, sl, M_REPLACE)) {
                return rt_fail(err, errlen, RT_EUSAGE,
                               "line %zu: block %zu has no '=======' before this marker",
                               lineno, n + 1);
            }
            break;
        case IN_REPLACE:
            if (is_marker(s, sl, M_REPLACE)) {
                blocks[n].replace = reply + body;
                blocks[n].rlen = tlen;
                if (blocks[n].slen == 0)
                    return rt_fail(err, errlen, RT_EUSAGE, "block %zu: empty SEARCH text",
                                   n + 1);
                n++;
                state = OUTSIDE;
            } else if (is_marker(s, sl, M_SEARCH) || is_marker(s, sl, M_SEP)) {
                return rt_fail(err, errlen, RT_EUSAGE,
                               "line %zu: block %zu is not closed by '>>>>>>> REPLACE'", lineno,
                               n + 1);
            }
            break;
        }
        at = next;
    }
    if (state != OUTSIDE)
        return rt_fail(err, errlen, RT_EUSAGE, "block %zu (line %zu) is not terminated", n + 1,
                       blocks[n].line);
    if (n == 0)
        return rt_fail(err, errlen, RT_EUSAGE, "no SEARCH/REPLACE blocks in the reply");
    *nblocks = n;
    return 0;
}

int rt_edit_apply(const char *text, size_t len, const char *reply, size_t rlen, rt_buf *out,
                  char *err, size_t errlen)
{
    rt_buf_reset(out);
    if (rlen > RT_PROGRAM_MAX_TEXT)
        return rt_fail(err, errlen, RT_ETOOBIG, "reply of %zu bytes is over the cap of %zu", rlen,
                       RT_PROGRAM_MAX_TEXT);
    rt_regions reg;
    edit_block blocks[RT_PROGRAM_MAX_BLOCKS];
    size_t nblocks = 0;
    int rc = parse_blocks(reply, rlen, blocks, &nblocks, err, errlen);
    if (rc)
        return rc;
    rt_buf cur, nxt;
    rt_buf_init(&cur, RT_PROGRAM_MAX_TEXT + 1);
    rt_buf_init(&nxt, RT_PROGRAM_MAX_TEXT + 1);
    /* matching is by whole lines: a last line without its newline gets one while editing */
    int padded = len > 0 && text[len - 1] != '\n';
    if ((rc = rt_buf_append(&cur, text, len)) || (padded && (rc = rt_buf_append(&cur, "\n", 1))))
        goto fail;
    if ((rc = rt_regions_find(cur.data, cur.len, &reg, err, errlen)))
        goto fail_quiet;
    for (size_t b = 0; b < nblocks; b++) {
        const edit_block *eb = &blocks[b];
        size_t hits = 0, where = 0, outside = 0;
        if (contains(eb->replace, eb->rlen, "EVOLVE-BLOCK-START") ||
            contains(eb->replace, eb->rlen, "EVOLVE-BLOCK-END")) {
            rc = rt_fail(err, errlen, RT_EINVALID,
                         "block %zu: the new text contains an EVOLVE-BLOCK marker", b + 1);
            goto fail_quiet;
        }
        for (size_t i = 0; i + eb->slen <= cur.len; i++) {
            if ((i > 0 && cur.data[i - 1] != '\n') ||
                memcmp(cur.data + i, eb->search, eb->slen) != 0)
                continue;
            int inside = 0;
            for (size_t k = 0; k < reg.n; k++)
                if (i >= reg.r[k].begin && i + eb->slen <= reg.r[k].end)
                    inside = 1;
            if (inside) {
                hits++;
                where = i;
            } else {
                outside++;
            }
        }
        if (hits != 1) {
            if (hits > 1)
                rc = rt_fail(err, errlen, RT_EINVALID,
                             "block %zu: SEARCH text matches %zu times in the editable regions",
                             b + 1, hits);
            else if (outside)
                rc = rt_fail(err, errlen, RT_EINVALID,
                             "block %zu: SEARCH text matches only outside the editable regions",
                             b + 1);
            else
                rc = rt_fail(err, errlen, RT_EINVALID, "block %zu: SEARCH text not found",
                             b + 1);
            goto fail;
        }
        rt_buf_reset(&nxt);
        if ((rc = rt_buf_append(&nxt, cur.data, where)) ||
            (rc = rt_buf_append(&nxt, eb->replace, eb->rlen)) ||
            (rc = rt_buf_append(&nxt, cur.data + where + eb->slen, cur.len - where - eb->slen)))
            goto fail;
        /* regions after the edit move by the change in length; the edited one stretches */
        for (size_t k = 0; k < reg.n; k++) {
            if (reg.r[k].begin > where) {
                reg.r[k].begin = reg.r[k].begin - eb->slen + eb->rlen;
                reg.r[k].end = reg.r[k].end - eb->slen + eb->rlen;
            } else if (reg.r[k].end >= where + eb->slen) {
                reg.r[k].end = reg.r[k].end - eb->slen + eb->rlen;
            }
        }
        rt_buf tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    if (padded && cur.len > 0 && cur.data[cur.len - 1] == '\n')
        cur.data[--cur.len] = '\0';
    if (cur.len > RT_PROGRAM_MAX_TEXT) {
        rc = RT_ETOOBIG;
        goto fail;
    }
    if (cur.len == 0 && (rc = rt_buf_append(&cur, "", 0)))
        goto fail;
    /* the result must keep every byte outside the regions (a check of this very code) */
    if ((rc = rt_edit_check_rewrite(text, len, cur.data, cur.len, err, errlen)))
        goto fail_quiet;
    rt_buf_free(out);
    *out = cur;
    rt_buf_free(&nxt);
    return 0;
fail:
    if (rc == RT_ETOOBIG)
        rt_fail(err, errlen, RT_ETOOBIG, "the edited program is over the cap of %zu bytes",
                RT_PROGRAM_MAX_TEXT);
    else if (rc == RT_ENOMEM)
        rt_fail(err, errlen, RT_ENOMEM, "out of memory");
fail_quiet:
    rt_buf_free(&cur);
    rt_buf_free(&nxt);
    rt_buf_reset(out);
    return rc;
}

int rt_edit_check_rewrite(const char *old, size_t olen, const char *new_text, size_t nlen,
                          char *err, size_t errlen)
{
    rt_regions a, b;
    char why[256];
    if (rt_regions_find(old, olen, &a, why, sizeof why))
        return rt_fail(err, errlen, RT_EUSAGE, "parent: %s", why);
    if (rt_regions_find(new_text, nlen, &b, why, sizeof why))
        return rt_fail(err, errlen, RT_EINVALID, "rewrite: %s", why);
    if (!a.marked)
        return 0;
    if (!b.marked || a.n != b.n)
        return rt_fail(err, errlen, RT_EINVALID,
                       "rewrite has %zu EVOLVE blocks where the program has %zu", b.marked ? b.n : 0,
                       a.n);
    /* fixed segments: before the first region, between regions, after the last */
    for (size_t k = 0; k <= a.n; k++) {
        size_t ab = k ? a.r[k - 1].end : 0, ae = k < a.n ? a.r[k].begin : olen;
        size_t bb = k ? b.r[k - 1].end : 0, be = k < b.n ? b.r[k].begin : nlen;
        if (ae - ab != be - bb || memcmp(old + ab, new_text + bb, ae - ab) != 0)
            return rt_fail(err, errlen, RT_EINVALID,
                           "rewrite changes text outside the editable regions (segment %zu)",
                           k + 1);
    }
    return 0;
}

int rt_text_strip_space(const char *text, size_t len, rt_buf *out)
{
    rt_buf_reset(out);
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && !isspace((unsigned char)text[j]))
            j++;
        int rc = rt_buf_append(out, text + i, j - i);
        if (rc)
            return rc;
        while (j < len && isspace((unsigned char)text[j]))
            j++;
        i = j;
    }
    return rt_buf_append(out, "", 0);
}

/* ---- annotations ------------------------------------------------------------------------- */

static int is_num_start(const char *s, size_t i, size_t n)
{
    if (i >= n)
        return 0;
    if (isdigit((unsigned char)s[i]))
        return 1;
    if ((s[i] == '.' || s[i] == '-' || s[i] == '+') && i + 1 < n)
        return isdigit((unsigned char)s[i + 1]) ||
               (s[i + 1] == '.' && i + 2 < n && isdigit((unsigned char)s[i + 2]));
    return 0;
}

/* Length of the number literal at s[i] (digits, one dot, an exponent), or 0. A number must not
 * continue an identifier (x1 is not a number). */
static size_t num_len(const char *s, size_t i, size_t n)
{
    if (!is_num_start(s, i, n))
        return 0;
    if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_' || s[i - 1] == '.'))
        return 0;
    size_t j = i;
    if (s[j] == '-' || s[j] == '+')
        j++;
    int dot = 0, digits = 0;
    while (j < n && (isdigit((unsigned char)s[j]) || (s[j] == '.' && !dot))) {
        if (s[j] == '.')
            dot = 1;
        else
            digits = 1;
        j++;
    }
    if (!digits)
        return 0;
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (s[k] == '-' || s[k] == '+'))
            k++;
        if (k < n && isdigit((unsigned char)s[k])) {
            while (k < n && isdigit((unsigned char)s[k]))
                k++;
            j = k;
        }
    }
    if (j < n && (isalpha((unsigned char)s[j]) || s[j] == '_'))
        return 0; /* 0x1F, 10L, 3f: not a plain literal we can rewrite */
    return j - i;
}

/* Reads the next whitespace-separated word of s[*i..n) into w; returns its length. */
static size_t next_word(const char *s, size_t n, size_t *i, char *w, size_t wlen)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
        (*i)++;
    size_t b = *i;
    while (*i < n && !isspace((unsigned char)s[*i]) &&
           !(s[*i] == '*' && *i + 1 < n && s[*i + 1] == '/'))
        (*i)++;
    size_t k = *i - b;
    if (k >= wlen)
        return k; /* caller rejects */
    memcpy(w, s + b, k);
    w[k] = '\0';
    return k;
}

static int parse_bound(const char *w, double *out)
{
    if (!*w)
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(w, &end);
    if (errno || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

#define ANN_TAG "ratchet:"

/* Finds the annotation tag in s[0..n): *tag its offset, *comment that of the comment opener
 * nearest before it. Returns 1, 0 when the line has no tag, or RT_EUSAGE when the tag is not in
 * a comment. */
static int find_tag(const char *s, size_t n, size_t lineno, size_t *tag, size_t *comment,
                    char *err, size_t errlen)
{
    size_t t = 0;
    int found = 0;
    for (size_t i = 0; i + sizeof ANN_TAG - 1 <= n; i++)
        if (memcmp(s + i, ANN_TAG, sizeof ANN_TAG - 1) == 0) {
            t = i;
            found = 1;
            break;
        }
    if (!found)
        return 0;
    size_t c = 0;
    int opener = 0;
    for (size_t i = 0; i < t; i++) {
        if ((s[i] == '/' && i + 1 < t && (s[i + 1] == '/' || s[i + 1] == '*')) || s[i] == '#' ||
            (s[i] == '-' && i + 1 < t && s[i + 1] == '-')) {
            c = i;
            opener = 1;
        }
    }
    if (!opener)
        return rt_fail(err, errlen, RT_EUSAGE, "line %zu: 'ratchet:' outside a comment", lineno);
    *tag = t;
    *comment = c;
    return 1;
}

/* "choice A|B|...": reads the words at s[*i..n) into a, and the value: the last occurrence
 * before the comment (at c) of a listed word, as a whole word. Returns 1 or RT_EUSAGE. */
static int parse_choice(const char *s, size_t n, size_t *i, size_t c, size_t base,
                        size_t lineno, rt_annotation *a, char *err, size_t errlen)
{
    char w1[64];
    a->kind = RT_ANN_CHOICE;
    size_t wl = next_word(s, n, i, w1, sizeof w1);
    if (wl == 0 || wl >= sizeof w1)
        return rt_fail(err, errlen, RT_EUSAGE, "line %zu: choice needs A|B|... (words of "
                       "at most 63 bytes)", lineno);
    for (size_t b = 0, k = 0; k <= wl; k++) {
        if (k < wl && w1[k] != '|')
            continue;
        if (k == b || k - b >= sizeof a->choices[0] || a->nchoices == RT_PROGRAM_MAX_CHOICES)
            return rt_fail(err, errlen, RT_EUSAGE,
                           "line %zu: bad choice list '%s' (empty word or more than %d)",
                           lineno, w1, RT_PROGRAM_MAX_CHOICES);
        memcpy(a->choices[a->nchoices], w1 + b, k - b);
        a->choices[a->nchoices][k - b] = '\0';
        a->nchoices++;
        b = k + 1;
    }
    if (a->nchoices < 2)
        return rt_fail(err, errlen, RT_EUSAGE, "line %zu: a choice needs two words or more",
                       lineno);
    int got = 0;
    for (size_t k = 0; k < a->nchoices; k++) {
        size_t wl2 = strlen(a->choices[k]);
        for (size_t p = 0; p + wl2 <= c; p++) {
            if (memcmp(s + p, a->choices[k], wl2) != 0)
                continue;
            int left = p == 0 || !(isalnum((unsigned char)s[p - 1]) || s[p - 1] == '_');
            int right =
                p + wl2 == c || !(isalnum((unsigned char)s[p + wl2]) || s[p + wl2] == '_');
            if (left && right && (!got || p >= a->value_at - base)) {
                a->value_at = base + p;
                a->value_len = wl2;
                got = 1;
            }
        }
    }
    if (!got)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "line %zu: none of the choices appears before the comment", lineno);
    return 1;
}

/* "real|log|int LO HI": reads the kind's bounds at s[*i..n) into a. Returns 0 or RT_EUSAGE. */
static int parse_range(const char *s, size_t n, size_t *i, const char *kind, size_t lineno,
                       rt_annotation *a, char *err, size_t errlen)
{
    char w1[64], w2[64];
    if (strcmp(kind, "real") == 0)
        a->kind = RT_ANN_REAL;
    else if (strcmp(kind, "log") == 0)
        a->kind = RT_ANN_LOG;
    else if (strcmp(kind, "int") == 0)
        a->kind = RT_ANN_INT;
    else
        return rt_fail(err, errlen, RT_EUSAGE,
                       "line %zu: unknown annotation '%s' (real, log, int or choice)", lineno,
                       kind);
    size_t l1 = next_word(s, n, i, w1, sizeof w1);
    size_t l2 = next_word(s, n, i, w2, sizeof w2);
    if (!l1 || !l2 || l1 >= sizeof w1 || l2 >= sizeof w2 || parse_bound(w1, &a->lo) ||
        parse_bound(w2, &a->hi))
        return rt_fail(err, errlen, RT_EUSAGE, "line %zu: %s needs two finite bounds LO HI",
                       lineno, kind);
    if (!(a->lo < a->hi))
        return rt_fail(err, errlen, RT_EUSAGE, "line %zu: bounds %g %g: LO must be below HI",
                       lineno, a->lo, a->hi);
    if (a->kind == RT_ANN_LOG && !(a->lo > 0))
        return rt_fail(err, errlen, RT_EUSAGE, "line %zu: a log range must be positive", lineno);
    if (a->kind == RT_ANN_INT && (a->lo != floor(a->lo) || a->hi != floor(a->hi) ||
                                  fabs(a->lo) > 9e15 || fabs(a->hi) > 9e15))
        return rt_fail(err, errlen, RT_EUSAGE, "line %zu: int bounds must be integers", lineno);
    return 0;
}

/* The value of a number annotation: the last number literal before the comment (at c), which
 * must lie in a's range. Returns 1 with a->value_at and a->value_len set, or RT_EUSAGE. */
static int read_number_value(const char *s, size_t c, size_t base, size_t lineno,
                             rt_annotation *a, char *err, size_t errlen)
{
    int got = 0;
    for (size_t p = 0; p < c;) {
        size_t k = num_len(s, p, c);
        if (k) {
            a->value_at = base + p;
            a->value_len = k;
            got = 1;
            p += k;
        } else {
            p++;
        }
    }
    if (!got)
        return rt_fail(err, errlen, RT_EUSAGE, "line %zu: no number before the comment", lineno);
    char num[64];
    if (a->value_len >= sizeof num)
        return rt_fail(err, errlen, RT_EUSAGE, "line %zu: number too long", lineno);
    memcpy(num, s + (a->value_at - base), a->value_len);
    num[a->value_len] = '\0';
    double v;
    if (parse_bound(num, &v))
        return rt_fail(err, errlen, RT_EUSAGE, "line %zu: '%s' is not a finite number", lineno,
                       num);
    if (a->kind == RT_ANN_INT && v != floor(v))
        return rt_fail(err, errlen, RT_EUSAGE, "line %zu: '%s' is not an integer", lineno, num);
    if (v < a->lo || v > a->hi)
        return rt_fail(err, errlen, RT_EUSAGE, "line %zu: value %s outside its range [%g, %g]",
                       lineno, num, a->lo, a->hi);
    return 1;
}

/* Parses one annotated line s[0..n) (line number lineno, starting at text offset base). Returns
 * 1 with *a filled, 0 when the line has no annotation, or RT_EUSAGE. */
static int parse_line(const char *s, size_t n, size_t base, size_t lineno, rt_annotation *a,
                      char *err, size_t errlen)
{
    size_t t = 0, c = 0;
    int rc = find_tag(s, n, lineno, &t, &c, err, errlen);
    if (rc != 1)
        return rc;
    memset(a, 0, sizeof *a);
    a->line = lineno;
    size_t i = t + sizeof ANN_TAG - 1;
    char kind[16];
    size_t kl = next_word(s, n, &i, kind, sizeof kind);
    if (kl == 0 || kl >= sizeof kind)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "line %zu: expected real, log, int or choice after 'ratchet:'", lineno);
    if (strcmp(kind, "choice") == 0)
        return parse_choice(s, n, &i, c, base, lineno, a, err, errlen);
    if ((rc = parse_range(s, n, &i, kind, lineno, a, err, errlen)))
        return rc;
    return read_number_value(s, c, base, lineno, a, err, errlen);
}

int rt_annotations_parse(const char *text, size_t len, const rt_regions *regions,
                         rt_annotations *out, char *err, size_t errlen)
{
    out->a = NULL;
    out->n = 0;
    size_t lineno = 0;
    for (size_t at = 0; at < len;) {
        size_t next, end = line_end(text, len, at, &next);
        lineno++;
        int inside = 0;
        for (size_t k = 0; k < regions->n; k++)
            if (at >= regions->r[k].begin && end <= regions->r[k].end)
                inside = 1;
        if (inside) {
            rt_annotation a;
            int rc = parse_line(text + at, end - at, at, lineno, &a, err, errlen);
            if (rc < 0) {
                rt_annotations_free(out);
                return rc;
            }
            if (rc == 1) {
                if (out->n == RT_PROGRAM_MAX_ANNOTATIONS) {
                    rt_annotations_free(out);
                    return rt_fail(err, errlen, RT_EUSAGE, "line %zu: more than %d annotations",
                                   lineno, RT_PROGRAM_MAX_ANNOTATIONS);
                }
                if (out->n % 16 == 0) {
                    rt_annotation *grown = realloc(out->a, (out->n + 16) * sizeof *grown);
                    if (!grown) {
                        rt_annotations_free(out);
                        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
                    }
                    out->a = grown;
                }
                out->a[out->n++] = a;
            }
        }
        at = next;
    }
    return 0;
}

void rt_annotations_free(rt_annotations *list)
{
    free(list->a);
    list->a = NULL;
    list->n = 0;
}

/* A standard normal draw (Box-Muller). */
static double gauss(rt_rng *rng)
{
    double u = rt_rng_unit(rng), v = rt_rng_unit(rng);
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

int rt_annotation_mutate(const char *text, size_t len, const rt_annotation *ann, rt_rng *rng,
                         rt_buf *out)
{
    char val[80];
    size_t vl = 0;
    char old[80];
    size_t ol = ann->value_len < sizeof old - 1 ? ann->value_len : sizeof old - 1;
    memcpy(old, text + ann->value_at, ol);
    old[ol] = '\0';
    for (int attempt = 0; attempt < 16; attempt++) {
        int uniform = rt_rng_unit(rng) < 0.2;
        if (ann->kind == RT_ANN_CHOICE) {
            uint32_t k = rt_rng_below(rng, (uint32_t)ann->nchoices);
            snprintf(val, sizeof val, "%s", ann->choices[k]);
        } else {
            double cur = strtod(old, NULL), v;
            if (ann->kind == RT_ANN_LOG) {
                double llo = log(ann->lo), lhi = log(ann->hi);
                double lc = cur > 0 ? log(cur) : llo;
                v = uniform ? llo + rt_rng_unit(rng) * (lhi - llo)
                            : lc + 0.1 * (lhi - llo) * gauss(rng);
                v = exp(v);
            } else {
                v = uniform ? ann->lo + rt_rng_unit(rng) * (ann->hi - ann->lo)
                            : cur + 0.1 * (ann->hi - ann->lo) * gauss(rng);
            }
            if (v < ann->lo)
                v = ann->lo;
            if (v > ann->hi)
                v = ann->hi;
            if (ann->kind == RT_ANN_INT) {
                long long iv = llround(v);
                if (iv == llround(cur)) /* a small move still moves */
                    iv += rt_rng_unit(rng) < 0.5 ? -1 : 1;
                if ((double)iv < ann->lo || (double)iv > ann->hi)
                    continue;
                snprintf(val, sizeof val, "%lld", iv);
            } else {
                snprintf(val, sizeof val, "%.6g", v);
                /* keep it a floating literal where the old one was (C: 1 vs 1.0 matters) */
                int was_float = strpbrk(old, ".eE") != NULL;
                if (was_float && !strpbrk(val, ".eEn"))
                    snprintf(val + strlen(val), sizeof val - strlen(val), ".0");
            }
        }
        vl = strlen(val);
        if (vl != ol || memcmp(val, old, ol) != 0)
            break;
        vl = 0;
    }
    if (!vl)
        return -1;
    rt_buf_reset(out);
    int rc = rt_buf_append(out, text, ann->value_at);
    if (!rc)
        rc = rt_buf_append(out, val, vl);
    if (!rc)
        rc = rt_buf_append(out, text + ann->value_at + ann->value_len,
                           len - ann->value_at - ann->value_len);
    return rc ? rc : 0;
}
