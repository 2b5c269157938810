/* config.c — configuration files: `key = value` lines in INI syntax, read with libinih.
 *
 * Accepted: blank lines, comments (lines starting with ';' or '#', and ' ;' inline), an optional
 * [ratchet] section header, and `key = value` lines. Refused with FILE:LINE: other sections,
 * continuation lines (a line starting with a blank that is not blank or a comment), lines over
 * RT_CONFIG_MAX_LINE bytes, NUL bytes, lines libinih cannot parse, files over RT_CONFIG_MAX_FILE.
 * The callback gets the keys in file order with their line numbers (libinih's build does not
 * report them, so they come from a scan of our own that matches its calls one to one).
 */
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratchet.h"
#include "util.h"

#define RT_CONFIG_MAX_FILE ((size_t)64 << 10)
#define RT_CONFIG_MAX_LINE 199 /* libinih's INI_MAX_LINE is 200 with the NUL */
#define RT_CONFIG_MAX_KEYS 256

typedef struct cfg_ctx {
    const char *name;
    int lines[RT_CONFIG_MAX_KEYS]; /* line of the k-th key */
    int nkeys, next;
    rt_config_fn fn;
    void *user;
    rt_error *err;
    int stopped;
} cfg_ctx;

static int cfg_fail(rt_error *err, int code, const char *name, int line, const char *what)
{
    err->code = code;
    snprintf(err->msg, sizeof err->msg, "%s:%d: %s", name, line, what);
    return code;
}

static int on_pair(void *user, const char *section, const char *key, const char *value)
{
    cfg_ctx *c = user;
    int line = c->next < c->nkeys ? c->lines[c->next] : 0;
    c->next++;
    if (c->stopped)
        return 0;
    if (*section && strcmp(section, "ratchet") != 0) {
        char what[160];
        snprintf(what, sizeof what, "unknown section [%.100s] (only [ratchet])", section);
        cfg_fail(c->err, RT_EUSAGE, c->name, line, what);
        c->stopped = 1;
        return 0;
    }
    int rc = c->fn(key, value, line, c->user);
    if (rc) {
        if (!c->err->code) {
            char what[160];
            snprintf(what, sizeof what, "bad entry '%.100s'", key);
            cfg_fail(c->err, rc, c->name, line, what);
        }
        c->stopped = 1;
        return 0;
    }
    return 1;
}

int rt_config_parse(const char *text, size_t len, const char *name, rt_config_fn fn, void *user,
                    rt_error *err)
{
    err->code = 0;
    err->msg[0] = '\0';
    if (len > RT_CONFIG_MAX_FILE)
        return cfg_fail(err, RT_ETOOBIG, name, 0, "file over 64 KiB");
    if (memchr(text, '\0', len))
        return cfg_fail(err, RT_EUSAGE, name, 0, "file contains a NUL byte");
    cfg_ctx c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.fn = fn;
    c.user = user;
    c.err = err;
    int line = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        line++;
        if (end - at > RT_CONFIG_MAX_LINE)
            return cfg_fail(err, RT_EUSAGE, name, line, "line longer than 199 bytes");
        size_t p = at;
        while (p < end && (text[p] == ' ' || text[p] == '\t' || text[p] == '\r'))
            p++;
        int blank = p == end || text[p] == ';' || text[p] == '#';
        if (!blank && p > at)
            return cfg_fail(err, RT_EUSAGE, name, line,
                            "a line may not start with a blank (no continuation lines)");
        if (!blank && text[p] != '[') {
            if (c.nkeys == RT_CONFIG_MAX_KEYS)
                return cfg_fail(err, RT_ETOOBIG, name, line, "more than 256 entries");
            c.lines[c.nkeys++] = line;
        }
        at = nl ? end + 1 : len;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        err->code = RT_ENOMEM;
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return RT_ENOMEM;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    int bad = ini_parse_string(copy, on_pair, &c);
    free(copy);
    if (err->code)
        return err->code;
    if (bad > 0)
        return cfg_fail(err, RT_EUSAGE, name, bad, "expected 'key = value', a comment or [ratchet]");
    if (bad < 0) {
        err->code = RT_ENOMEM;
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return RT_ENOMEM;
    }
    return 0;
}

int rt_config_read(const char *path, rt_config_fn fn, void *user, rt_error *err)
{
    char *text = NULL;
    size_t len = 0;
    err->code = 0;
    int rc = rt_read_file(path, RT_CONFIG_MAX_FILE, &text, &len, err->msg, sizeof err->msg);
    if (rc) {
        if (rc == RT_ETOOBIG)
            snprintf(err->msg, sizeof err->msg, "%s: file over 64 KiB", path);
        err->code = rc;
        return rc;
    }
    rc = rt_config_parse(text, len, path, fn, user, err);
    free(text);
    return rc;
}
