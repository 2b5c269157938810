/* report.c — `ratchet report`: one self-contained HTML page about a run (rt_store_report in
 * ratchet.h). The page is the template src/report/report.html (built into a string literal,
 * build/gen/report_html.inc) with the run's data (report_data.c) put in place of its @DATA@
 * marker as JSON, escaped so that it cannot end its script element and names no URL ('<' and
 * '/' are written as JSON escapes). The page draws every figure itself: no network. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/report_data.h"
#include "store/store.h"
#include "store/view.h"

static const char page_template[] =
#include "report_html.inc"
    ;

#define DATA_MARK "@DATA@"

/* Writes JSON text escaped for the inside of a script element; -1 on a write error. */
static int put_escaped(FILE *f, const char *json)
{
    for (const char *p = json; *p; p++) {
        int rc = *p == '<' ? fputs("\\u003c", f) : *p == '/' ? fputs("\\/", f) : fputc(*p, f);
        if (rc == EOF)
            return -1;
    }
    return 0;
}

/* Writes the page to f; -1 on a write error. */
static int put_page(FILE *f, const char *json)
{
    const char *mark = strstr(page_template, DATA_MARK);
    if (!mark)
        return -1;
    if (fwrite(page_template, 1, (size_t)(mark - page_template), f) !=
            (size_t)(mark - page_template) ||
        put_escaped(f, json) || fputs(mark + strlen(DATA_MARK), f) == EOF)
        return -1;
    return 0;
}

/* Writes the page to a temporary beside path and renames it into place. */
static int write_atomically(rt_db *db, const char *path, const char *json, size_t *bytes)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp)
        return rt_db_fail(db, RT_EUSAGE, "output path too long: %s", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return rt_db_fail(db, RT_EIO, "cannot write %s: %s", path, strerror(errno));
    FILE *f = fchmod(fd, 0644) == 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        close(fd);
        unlink(tmp);
        return rt_db_fail(db, RT_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    int failed = put_page(f, json) != 0;
    long size = ftell(f);
    failed |= fflush(f) != 0;
    int err = errno;
    failed |= fclose(f) != 0;
    if (!failed && rename(tmp, path) != 0)
        failed = 1, err = errno;
    if (failed) {
        unlink(tmp);
        return rt_db_fail(db, RT_EIO, "cannot write %s: %s", path, strerror(err ? err : EIO));
    }
    *bytes = size > 0 ? (size_t)size : 0;
    return 0;
}

int rt_store_report(rt_store *store, const char *path, rt_report_info *info)
{
    rt_report_info local;
    info = info ? info : &local;
    memset(info, 0, sizeof *info);
    json_t *data = NULL;
    int rc = rt_report_data(store, &data, info);
    if (rc)
        return rc;
    char *json = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    if (!json)
        return rt_db_fail(rt_store_db(store), RT_ENOMEM, "out of memory");
    rc = write_atomically(rt_store_db(store), path, json, &info->bytes);
    free(json);
    return rc;
}
