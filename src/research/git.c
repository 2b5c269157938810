/* git.c — kept changes of a research run as commits on a branch ratchet/TAG of the user's
 * repository (rt_research_git_prepare, rt_research_git_sync in ratchet.h).
 *
 * Only plumbing is used, so that the user's working tree, index and current branch are never
 * touched: each file's blob is written with `hash-object -w`, the tree is built in a temporary
 * index (GIT_INDEX_FILE in a fresh folder) from the parent commit's tree, `commit-tree` makes the
 * commit and `update-ref` moves the branch only if it is still where it was read. Each commit
 * names its candidate ("Ratchet-Candidate: HASH"), which is how a resumed run finds where the
 * branch stopped. git runs as the user (it is not untrusted code) with a plain argv, never a
 * shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "research/research_store.h"

extern char **environ;

#define GIT_OUT_CAP 65536
#define TRAILER "Ratchet-Candidate: "

/* A repository and the environment git runs with. */
typedef struct git_ctx {
    char top[4096];    /* the repository's top folder */
    char prefix[4096]; /* the run's folder within it ("" or "sub/dir/") */
    char index_env[4200];
    char tmpdir[64];
    int use_index;
    int own_ident;     /* the user has no identity configured: commit as ratchet */
} git_ctx;

/* The environment of a git child: the caller's, plus the temporary index and an identity when
 * asked. Returns a NULL-terminated array (the caller frees the array only), NULL out of memory. */
static char **git_env(const git_ctx *g)
{
    static char *ident[] = {"GIT_AUTHOR_NAME=ratchet", "GIT_AUTHOR_EMAIL=ratchet@localhost",
                            "GIT_COMMITTER_NAME=ratchet",
                            "GIT_COMMITTER_EMAIL=ratchet@localhost"};
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 8, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "GIT_INDEX_FILE=", 15) != 0 &&
            strncmp(environ[i], "GIT_DIR=", 8) != 0 && strncmp(environ[i], "GIT_WORK_TREE=", 14))
            env[k++] = environ[i];
    if (g && g->use_index)
        env[k++] = (char *)g->index_env;
    for (size_t i = 0; g && g->own_ident && i < 4; i++)
        env[k++] = ident[i];
    env[k] = NULL;
    return env;
}

/* Writes in (inlen bytes) to fd_in and reads fd_out into out (up to cap - 1 bytes, NUL-ended). */
static void pump(int fd_in, const char *in, size_t inlen, int fd_out, char *out, size_t cap)
{
    size_t done = 0, got = 0;
    if (!in)
        close(fd_in), fd_in = -1;
    while (fd_out >= 0) {
        struct pollfd p[2] = {{fd_out, POLLIN, 0}, {fd_in, POLLOUT, 0}};
        if (poll(p, fd_in >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
            break;
        if (fd_in >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(fd_in, in + done, inlen - done);
            if (w > 0)
                done += (size_t)w;
            if (w < 0 || done == inlen)
                close(fd_in), fd_in = -1;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[4096];
            ssize_t r = read(fd_out, buf, sizeof buf);
            if (r <= 0)
                break;
            size_t take = (size_t)r < cap - 1 - got ? (size_t)r : cap - 1 - got;
            memcpy(out + got, buf, take);
            got += take;
        }
    }
    if (fd_in >= 0)
        close(fd_in);
    out[got] = '\0';
}

/* Runs git -C dir ARGS (argv NULL-terminated) with in on its stdin (NULL: none); out receives
 * its stdout with trailing newlines cut (cap bytes). Returns git's exit status, or -1 when it
 * could not run. */
static int git_run(const git_ctx *g, const char *dir, const char *const *args, const char *in,
                   size_t inlen, char *out, size_t cap)
{
    const char *argv[32] = {"git", "-C", dir};
    size_t n = 3;
    for (size_t i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int pin[2], pout[2];
    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC))
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
    posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char **env = git_env(g);
    pid_t pid = -1;
    int rc = env ? posix_spawnp(&pid, "git", &fa, NULL, (char *const *)argv, env) : ENOMEM;
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    close(pin[0]);
    close(pout[1]);
    if (rc != 0) {
        close(pin[1]);
        close(pout[0]);
        return -1;
    }
    pump(pin[1], in, inlen, pout[0], out, cap);
    close(pout[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    size_t len = strlen(out);
    while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
        out[--len] = '\0';
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* git ... in the repository's top folder; 0 when it exited 0. */
static int git_ok(const git_ctx *g, const char *const *args, const char *in, size_t inlen,
                  char *out, size_t cap)
{
    return git_run(g, g->top, args, in, inlen, out, cap) == 0 ? 0 : -1;
}

/* Finds the repository of dir. RT_EUSAGE with err when dir is in none. */
static int git_open(git_ctx *g, const char *dir, rt_error *err)
{
    memset(g, 0, sizeof *g);
    const char *top[] = {"rev-parse", "--show-toplevel", NULL};
    const char *pre[] = {"rev-parse", "--show-prefix", NULL};
    if (git_run(g, dir, top, NULL, 0, g->top, sizeof g->top) != 0 || !g->top[0]) {
        err->code = rt_fail(err->msg, sizeof err->msg, RT_EUSAGE,
                            "--git: %s is not in a git repository (or git is not installed)",
                            dir);
        return err->code;
    }
    git_run(g, dir, pre, NULL, 0, g->prefix, sizeof g->prefix);
    char ident[512];
    const char *var[] = {"var", "GIT_COMMITTER_IDENT", NULL};
    g->own_ident = git_run(g, g->top, var, NULL, 0, ident, sizeof ident) != 0;
    return 0;
}

int rt_research_git_prepare(const char *dir, const char *edits, const char *tag, int resume,
                            char base[41], rt_error *err)
{
    git_ctx g;
    memset(err, 0, sizeof *err);
    if (git_open(&g, dir, err))
        return err->code;
    char ref[200], out[4096];
    snprintf(ref, sizeof ref, "refs/heads/ratchet/%s", tag);
    const char *check[] = {"check-ref-format", ref, NULL};
    const char *exists[] = {"rev-parse", "--verify", "-q", ref, NULL};
    const char *head[] = {"rev-parse", "--verify", "-q", "HEAD^{commit}", NULL};
    if (git_ok(&g, check, NULL, 0, out, sizeof out))
        return err->code = rt_fail(err->msg, sizeof err->msg, RT_EUSAGE,
                                   "--tag %s: not a valid branch name", tag);
    if (!resume && !git_ok(&g, exists, NULL, 0, out, sizeof out))
        return err->code = rt_fail(err->msg, sizeof err->msg, RT_EUSAGE,
                                   "--git: branch ratchet/%s already exists (use another --tag, "
                                   "or --resume the run that made it)", tag);
    if (git_ok(&g, head, NULL, 0, base, 41) || strlen(base) != 40)
        return err->code = rt_fail(err->msg, sizeof err->msg, RT_EUSAGE,
                                   "--git: the repository of %s has no commit yet", dir);
    /* a staged change to an editable file: the baseline would not be what the index holds */
    for (const char *p = edits; *p;) {
        size_t n = strcspn(p, ",");
        char path[8192];
        snprintf(path, sizeof path, "%s%.*s", g.prefix, (int)n, p);
        const char *diff[] = {"diff", "--cached", "--quiet", "--", path, NULL};
        if (git_run(&g, g.top, diff, NULL, 0, out, sizeof out) == 1)
            return err->code = rt_fail(err->msg, sizeof err->msg, RT_EUSAGE,
                                       "--git: the index holds staged changes to %s: commit or "
                                       "unstage them first", path);
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* ---- sync ----------------------------------------------------------------------------------- */

typedef struct kept {
    long long id;
    char hash[65];
    char *text;
    size_t len;
    char line[400]; /* the commit's subject */
} kept;

typedef struct kept_list {
    kept *k;
    size_t n, cap;
    int nomem;
} kept_list;

static int collect(const rt_experiment *e, void *user)
{
    kept_list *l = user;
    if (strcmp(e->status, "keep") != 0)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        kept *p = realloc(l->k, cap * sizeof *p);
        if (!p)
            return l->nomem = 1, RT_ENOMEM;
        l->k = p;
        l->cap = cap;
    }
    kept *k = &l->k[l->n];
    memset(k, 0, sizeof *k);
    k->id = e->id;
    snprintf(k->hash, sizeof k->hash, "%s", e->hash);
    char test[96] = "";
    if (e->has_test)
        snprintf(test, sizeof test, ", %s %.6g", e->test_metric, e->test);
    snprintf(k->line, sizeof k->line, "ratchet: %s %s %.6g (verified %.6g%s): %.200s",
             e->parent[0] ? "keep" : "baseline", e->metric, e->has_value ? e->value : 0.0,
             e->has_verified ? e->verified : 0.0, test, e->description);
    l->n++;
    return 0;
}

static void kept_free(kept_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->k[i].text);
    free(l->k);
}

/* The commit of one kept candidate on parent (40 hex digits) into commit. 0 or -1. */
static int commit_one(git_ctx *g, const research_state *st, const kept *k, const char *parent,
                      char *commit)
{
    rt_research_part parts[RT_RESEARCH_MAX_FILES];
    char why[300], blob[128], out[256];
    if (rt_research_split(k->text, k->len, st->nedits, st->edits, parts, why, sizeof why))
        return -1;
    const char *read[] = {"read-tree", parent, NULL};
    g->use_index = 1;
    int rc = git_ok(g, read, NULL, 0, out, sizeof out);
    for (size_t i = 0; !rc && i < st->nedits; i++) {
        char path[8192], info[8400], full[8192];
        snprintf(path, sizeof path, "%s%s", g->prefix, st->edits[i]);
        snprintf(full, sizeof full, "%s/%s", st->dir, st->edits[i]);
        struct stat sb;
        int exec = stat(full, &sb) == 0 && (sb.st_mode & S_IXUSR);
        const char *hash[] = {"hash-object", "-w", "--stdin", NULL};
        rc = git_ok(g, hash, parts[i].data, parts[i].len, blob, sizeof blob);
        snprintf(info, sizeof info, "%s,%s,%s", exec ? "100755" : "100644", blob, path);
        const char *upd[] = {"update-index", "--add", "--cacheinfo", info, NULL};
        if (!rc)
            rc = git_ok(g, upd, NULL, 0, out, sizeof out);
    }
    char tree[128], msg[600];
    const char *write[] = {"write-tree", NULL};
    if (!rc)
        rc = git_ok(g, write, NULL, 0, tree, sizeof tree);
    g->use_index = 0;
    snprintf(msg, sizeof msg, "%s\n\n" TRAILER "%s\n", k->line, k->hash);
    const char *ct[] = {"commit-tree", tree, "-p", parent, "-F", "-", NULL};
    if (!rc)
        rc = git_ok(g, ct, msg, strlen(msg), commit, 128);
    return rc || strlen(commit) != 40 ? -1 : 0;
}

/* Where the branch stands: the index in l of the last candidate it holds (-1: none yet, the
 * branch starts at base). RT_EINVALID when its tip names no candidate of the run. */
static int branch_position(git_ctx *g, const char *ref, const kept_list *l, char *tip,
                           long *at)
{
    const char *rev[] = {"rev-parse", "--verify", "-q", ref, NULL};
    *at = -1;
    if (git_ok(g, rev, NULL, 0, tip, 128))
        return 0;
    char body[4096];
    const char *log[] = {"log", "-1", "--format=%B", tip, NULL};
    if (git_ok(g, log, NULL, 0, body, sizeof body))
        return -1;
    const char *t = strstr(body, TRAILER);
    for (size_t i = 0; t && i < l->n; i++)
        if (strncmp(t + strlen(TRAILER), l->k[i].hash, 64) == 0) {
            *at = (long)i;
            return 0;
        }
    return RT_EINVALID;
}

/* Commits l's candidates after position at on top of parent, moving ref each time. */
static int commit_from(git_ctx *g, const research_state *st, const char *ref, const kept_list *l,
                       long at, char *parent, rt_research_git *out, rt_error *err)
{
    char old[128];
    if (at >= 0)
        snprintf(old, sizeof old, "%s", parent);
    else
        memset(old, '0', 40), old[40] = '\0';
    for (size_t i = (size_t)(at + 1); i < l->n; i++) {
        char commit[128], msg[128];
        if (commit_one(g, st, &l->k[i], parent, commit))
            return err->code = rt_fail(err->msg, sizeof err->msg, RT_EIO,
                                       "--git: could not commit candidate %.12s on %s",
                                       l->k[i].hash, out->branch);
        const char *upd[] = {"update-ref", "-m", "ratchet research", ref, commit, old, NULL};
        if (git_ok(g, upd, NULL, 0, msg, sizeof msg))
            return err->code = rt_fail(err->msg, sizeof err->msg, RT_EIO,
                                       "--git: branch %s moved while ratchet was committing",
                                       out->branch);
        snprintf(parent, 128, "%s", commit);
        snprintf(old, sizeof old, "%s", commit);
        out->commits++;
    }
    snprintf(out->head, sizeof out->head, "%.40s", parent);
    return 0;
}

/* Reads the kept candidates' texts. 0 or a code with err set. */
static int load_kept(rt_store *store, kept_list *l, rt_error *err)
{
    int rc = rt_research_each(store, collect, l);
    for (size_t i = 0; !rc && i < l->n; i++) {
        rc = rt_store_candidate_text(store, l->k[i].id, &l->k[i].text);
        if (!rc)
            l->k[i].len = strlen(l->k[i].text);
    }
    if (rc)
        err->code = rt_fail(err->msg, sizeof err->msg, rc, "%s", rt_store_errmsg(store));
    return rc;
}

int rt_research_git_sync(rt_store *store, rt_research_git *out, rt_error *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    rt_problem *problem = NULL;
    const research_state *st = NULL;
    int rc = rt_research_state_of(store, &problem, &st);
    if (rc) {
        err->code = rt_fail(err->msg, sizeof err->msg, rc, "%s", rt_store_errmsg(store));
        return rc;
    }
    kept_list l = {0};
    git_ctx g;
    if (!st->tag[0])
        goto done; /* a run without --git */
    snprintf(out->branch, sizeof out->branch, "ratchet/%s", st->tag);
    if ((rc = git_open(&g, st->dir, err)) || (rc = load_kept(store, &l, err)))
        goto done;
    snprintf(g.tmpdir, sizeof g.tmpdir, "/tmp/ratchet-git-XXXXXX");
    if (!mkdtemp(g.tmpdir)) {
        rc = err->code = rt_fail(err->msg, sizeof err->msg, RT_EIO, "--git: cannot make a "
                                 "temporary folder: %s", strerror(errno));
        goto done;
    }
    snprintf(g.index_env, sizeof g.index_env, "GIT_INDEX_FILE=%s/index", g.tmpdir);
    char ref[200], parent[128];
    snprintf(ref, sizeof ref, "refs/heads/%s", out->branch);
    long at = -1;
    rc = branch_position(&g, ref, &l, parent, &at);
    if (rc)
        rc = err->code = rt_fail(err->msg, sizeof err->msg, RT_EUSAGE,
                                 "--git: branch %s does not end in a commit of this run",
                                 out->branch);
    else {
        if (at < 0)
            snprintf(parent, sizeof parent, "%s", st->base);
        rc = commit_from(&g, st, ref, &l, at, parent, out, err);
    }
    char index[128];
    snprintf(index, sizeof index, "%s/index", g.tmpdir);
    unlink(index);
    rmdir(g.tmpdir);
done:
    kept_free(&l);
    rt_problem_close(problem);
    return rc;
}
