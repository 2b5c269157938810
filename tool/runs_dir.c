/* runs_dir.c — where a new run's store goes when no --store names one (run, meta):
 * runs/NAME-DATE-TIME.db in the current folder. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

int runs_dir_ready(const char *cmd)
{
    struct stat st;
    if (mkdir("runs", 0777) != 0 && (errno != EEXIST || stat("runs", &st) != 0 ||
                                     !S_ISDIR(st.st_mode))) {
        usage_error("%s: cannot create the folder runs/ here: %s (name a store with --store FILE)",
                    cmd, errno == EEXIST ? "a file of that name is in the way" : strerror(errno));
        return -1;
    }
    return 0;
}

/* A store name in runs/ that no file has yet: NAME-DATE-TIME.db, then -2, -3, ... when runs
 * started in the same second. Returns 0, or -1 after printing one line. */
static int fresh_name(const char *cmd, const char *name, char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    if (runs_dir_ready(cmd))
        return -1;
    for (int n = 1; n <= 1000; n++) {
        char suffix[16] = "";
        if (n > 1)
            snprintf(suffix, sizeof suffix, "-%d", n);
        snprintf(buf, len, "runs/%s-%04d%02d%02d-%02d%02d%02d%s.db", name, tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, suffix);
        if (access(buf, F_OK) == 0)
            continue;
        if (errno == ENOENT)
            return 0;
        usage_error("%s: cannot use %s: %s (name a store with --store FILE)", cmd, buf,
                    strerror(errno));
        return -1;
    }
    usage_error("%s: runs/ holds 1000 stores of this second; name one with --store FILE", cmd);
    return -1;
}

int runs_dir_create(const char *cmd, const char *name, const rt_problem *problem,
                    const rt_run_options *opt, rt_run **run, char *path, size_t pathlen,
                    rt_error *err)
{
    for (int tries = 0;; tries++) {
        if (fresh_name(cmd, name, path, pathlen)) {
            err->msg[0] = '\0'; /* printed */
            return RT_EUSAGE;
        }
        int rc = rt_run_create(run, path, problem, opt, err);
        /* the creation refuses a name that appeared meanwhile: take the next one */
        if (rc == 0 || tries == 100 || access(path, F_OK) != 0)
            return rc;
    }
}
