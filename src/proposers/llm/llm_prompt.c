/* llm_prompt.c — prompts from template files the user can edit (prompts/SET/NAME.md).
 *
 * A template is plain text with placeholders {{name}}; the names are fixed (see llm.h) and an
 * unknown one is an error naming file:line, so that a typo does not silently send "{{parnet}}"
 * to a model. Text is substituted once: a program that itself contains "{{parent}}" is sent as is.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proposers/llm/llm.h"

#define TEMPLATE_MAX ((size_t)256 << 10)

static const char *const placeholders[] = {
    "parent", "score", "metrics", "artifacts", "inspirations", "history", "ledger", "edit_format",
    "language",
};

static int known(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof placeholders / sizeof placeholders[0]; i++)
        if (strlen(placeholders[i]) == n && memcmp(placeholders[i], name, n) == 0)
            return 1;
    return 0;
}

/* Checks every {{...}} in text; returns 0 or RT_EUSAGE naming path:line. */
static int check_template(const char *path, const char *text, char *err, size_t errlen)
{
    int line = 1;
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            line++;
        if (p[0] != '{' || p[1] != '{')
            continue;
        const char *end = strstr(p + 2, "}}");
        const char *nl = strchr(p + 2, '\n');
        if (!end || (nl && nl < end))
            return rt_fail(err, errlen, RT_EUSAGE, "%s:%d: '{{' without '}}' on the same line",
                           path, line);
        if (!known(p + 2, (size_t)(end - p - 2)))
            return rt_fail(err, errlen, RT_EUSAGE, "%s:%d: unknown placeholder {{%.*s}}", path,
                           line, (int)(end - p - 2 > 40 ? 40 : end - p - 2), p + 2);
        p = end + 1;
    }
    return 0;
}

static int valid_set_name(const char *name)
{
    if (!name || !*name || name[0] == '.' || strlen(name) > 64)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    return 1;
}

void rt_llm_templates_free(rt_llm_templates *t)
{
    if (!t)
        return;
    free(t->system);
    free(t->user);
    free(t->diff);
    free(t->full);
    memset(t, 0, sizeof *t);
}

int rt_llm_templates_load(rt_llm_templates *t, const char *dir, const char *name, char *err,
                          size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (!valid_set_name(name))
        return rt_fail(err, errlen, RT_EUSAGE,
                       "prompt template set '%.64s' is not a plain folder name", name ? name : "");
    static const char *const files[] = {"system.md", "user.md", "diff.md", "full.md"};
    char **slots[] = {&t->system, &t->user, &t->diff, &t->full};
    for (size_t i = 0; i < 4; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s/%s", dir, name, files[i]);
        size_t len;
        int rc = rt_read_file(path, TEMPLATE_MAX, slots[i], &len, err, errlen);
        if (rc) {
            rt_llm_templates_free(t);
            return rc == RT_ETOOBIG ? rt_fail(err, errlen, RT_EUSAGE, "%s: over %zu bytes", path,
                                              TEMPLATE_MAX)
                                    : rc;
        }
        if (memchr(*slots[i], '\0', len)) {
            rt_llm_templates_free(t);
            return rt_fail(err, errlen, RT_EUSAGE, "%s: holds a NUL byte", path);
        }
        if ((rc = check_template(path, *slots[i], err, errlen))) {
            rt_llm_templates_free(t);
            return rc;
        }
    }
    return 0;
}

/* 1 when dir holds the default template set (DIR/default/system.md). */
static int has_templates(const char *dir)
{
    char path[PATH_MAX + 64];
    struct stat st;
    snprintf(path, sizeof path, "%s/default/system.md", dir);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

#ifndef RT_PROMPTS_DIR
#define RT_PROMPTS_DIR "/usr/local/share/ratchet/prompts"
#endif

void rt_llm_default_prompts_dir(char *buf, size_t len)
{
    const char *env = getenv("RATCHET_PROMPTS");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return;
    }
    if (has_templates("prompts")) {
        snprintf(buf, len, "prompts");
        return;
    }
    /* beside the program: PREFIX/bin/ratchet finds PREFIX/share/ratchet/prompts (make install,
     * wherever DESTDIR put the tree), build/ratchet the source tree's prompts/ */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
        *slash = '\0';
        static const char *const rel[] = {"/../share/ratchet/prompts", "/../prompts"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            char cand[PATH_MAX + 32];
            snprintf(cand, sizeof cand, "%s%s", exe, rel[i]);
            if (has_templates(cand)) {
                snprintf(buf, len, "%s", cand);
                return;
            }
        }
    }
    /* where make install put them when this program was built (a copy moved elsewhere) */
    snprintf(buf, len, "%s", has_templates(RT_PROMPTS_DIR) ? RT_PROMPTS_DIR : "prompts");
}

/* Appends text, cut to cap bytes (0: no cut) with a marker saying how much was left out. */
static int put_capped(rt_buf *out, const char *text, size_t len, size_t cap)
{
    if (cap && len > cap) {
        int rc = rt_buf_append(out, text, cap);
        return rc ? rc : rt_buf_printf(out, "\n[... %zu more bytes cut ...]\n", len - cap);
    }
    return rt_buf_append(out, text, len);
}

/* One program in a fenced block. */
static int put_program(rt_buf *out, const rt_llm_program *p, const char *lang)
{
    int rc = rt_buf_printf(out, "```%s\n", lang);
    if (!rc && p->text)
        rc = rt_buf_append(out, p->text, p->len);
    if (!rc && (p->len == 0 || p->text[p->len - 1] != '\n'))
        rc = rt_buf_puts(out, "\n");
    return rc ? rc : rt_buf_puts(out, "```");
}

static int render(rt_buf *out, const char *tpl, const rt_llm_templates *t,
                  const rt_llm_context *ctx, rt_llm_mode mode, size_t cap, int depth);

/* The text of one placeholder. */
static int expand(rt_buf *out, const char *name, size_t n, const rt_llm_templates *t,
                  const rt_llm_context *ctx, rt_llm_mode mode, size_t cap, int depth)
{
    const char *lang = ctx->language ? ctx->language : "";
#define IS(s) (n == strlen(s) && memcmp(name, s, n) == 0)
    if (IS("parent"))
        return put_program(out, &ctx->parent, lang);
    if (IS("score"))
        return rt_buf_printf(out, "%.17g", ctx->parent.score);
    if (IS("language"))
        return rt_buf_puts(out, lang);
    if (IS("metrics"))
        return ctx->parent.metrics && *ctx->parent.metrics
                   ? put_capped(out, ctx->parent.metrics, strlen(ctx->parent.metrics), cap)
                   : rt_buf_puts(out, "(none)");
    if (IS("artifacts"))
        return ctx->parent.artifacts && *ctx->parent.artifacts
                   ? put_capped(out, ctx->parent.artifacts, strlen(ctx->parent.artifacts), cap)
                   : rt_buf_puts(out, "(none)");
    if (IS("inspirations")) {
        if (!ctx->ninspirations)
            return rt_buf_puts(out, "(none)");
        int rc = 0;
        for (size_t i = 0; !rc && i < ctx->ninspirations; i++) {
            const rt_llm_program *p = &ctx->inspirations[i];
            rc = rt_buf_printf(out, "%sInspiration %zu, score %.17g:\n", i ? "\n\n" : "", i + 1,
                               p->score);
            if (!rc)
                rc = put_program(out, p, lang);
        }
        return rc;
    }
    if (IS("history")) {
        if (!ctx->nhistory)
            return rt_buf_puts(out, "(no attempts yet)");
        int rc = 0;
        for (size_t i = 0; !rc && i < ctx->nhistory; i++) {
            const rt_llm_attempt *a = &ctx->history[i];
            rc = rt_buf_printf(out, "%s- %s (%s): ", i ? "\n" : "", a->mode ? a->mode : "?",
                               a->model ? a->model : "?");
            if (!rc)
                rc = put_capped(out, a->outcome ? a->outcome : "?",
                                a->outcome ? strlen(a->outcome) : 1, 300);
        }
        return rc;
    }
    if (IS("ledger"))
        return ctx->ledger && *ctx->ledger
                   ? put_capped(out, ctx->ledger, strlen(ctx->ledger), RT_LLM_LEDGER_CAP)
                   : rt_buf_puts(out, "(no experiments yet)");
    if (IS("edit_format")) {
        if (depth > 0)
            return 0; /* an edit format that names itself expands to nothing */
        return render(out, mode == RT_LLM_FULL ? t->full : t->diff, t, ctx, mode, cap, depth + 1);
    }
#undef IS
    return 0; /* templates were checked on load: unreachable for a loaded set */
}

static int render(rt_buf *out, const char *tpl, const rt_llm_templates *t,
                  const rt_llm_context *ctx, rt_llm_mode mode, size_t cap, int depth)
{
    const char *p = tpl;
    int rc = 0;
    while (!rc && *p) {
        const char *open = strstr(p, "{{");
        const char *end = open ? strstr(open + 2, "}}") : NULL;
        if (!open || !end) {
            rc = rt_buf_puts(out, p);
            break;
        }
        rc = rt_buf_append(out, p, (size_t)(open - p));
        if (!rc)
            rc = expand(out, open + 2, (size_t)(end - open - 2), t, ctx, mode, cap, depth);
        p = end + 2;
    }
    return rc;
}

int rt_llm_prompt_build(const rt_llm_templates *t, const rt_llm_context *ctx, rt_llm_mode mode,
                        size_t artifact_cap, rt_buf *out)
{
    if (out->cap_bytes == 0 || out->cap_bytes > RT_LLM_MAX_PROMPT)
        out->cap_bytes = RT_LLM_MAX_PROMPT;
    rt_buf_reset(out);
    return render(out, t->user, t, ctx, mode, artifact_cap, 0);
}
