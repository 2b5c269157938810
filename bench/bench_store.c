/* bench_store.c — the store's write cost and size per candidate, on the rows of a real run.
 *
 *     bench_store SOURCE.db OUT.db [REPEATS]
 *
 * Reads every candidate row of SOURCE (any format this ratchet reads), then writes them again,
 * in order, into a new store OUT through the run's own writer (rt_db_insert on the lineage
 * chain, a commit every 256 rows, as the engine's half-second checkpoints do at about 500 rows a
 * second), and prints the rows written per CPU second of the writing alone, the wall time, and
 * the new store's bytes per candidate. REPEATS (default 3) writes it that many times (OUT.1,
 * OUT.2, ...), keeps the last, and prints the median. Built against an older tree of ratchet (the same internal
 * calls), it measures the store of that version on the same rows (docs/store.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "store/query.h"
#include "store/store.h"
#include "store/write.h"
#include "util.h"

typedef struct rows {
    rt_cand_row *r;
    size_t n, cap;
} rows;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int keep_row(const rt_db_row *in, void *user)
{
    rows *all = user;
    if (all->n == all->cap) {
        all->cap = all->cap ? 2 * all->cap : 1024;
        all->r = realloc(all->r, all->cap * sizeof *all->r);
        if (!all->r)
            return 1;
    }
    rt_cand_row *r = &all->r[all->n++];
    *r = in->row;
    r->hash = dup_or_null(in->row.hash);
    r->parent = dup_or_null(in->row.parent);
    r->op = dup_or_null(in->row.op);
    r->reason = dup_or_null(in->row.reason);
    char *text = malloc(in->row.len + 1);
    if (!text || !in->row.text)
        return 1;
    memcpy(text, in->row.text, in->row.len);
    text[in->row.len] = '\0';
    r->text = text;
    return 0;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Writes all rows into a new store at path; the CPU and wall seconds of the writing. */
static int write_all(const rows *all, const char *path, double *cpu, double *wall)
{
    char err[512];
    rt_db *db = NULL;
    rt_run_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.problem, sizeof cfg.problem, "matmul");
    snprintf(cfg.params, sizeof cfg.params, "shape=4x4x4 field=gf2");
    snprintf(cfg.proposer, sizeof cfg.proposer, "builtin");
    cfg.seed = 1;
    cfg.islands = 1;
    rt_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    cp.nislands = 1;
    snprintf(cp.rng[0], sizeof cp.rng[0], "0");
    remove(path);
    if (rt_db_create(&db, path, &cfg, err, sizeof err) ||
        rt_db_save_checkpoint(db, &cp, NULL, 0) || rt_db_publish(&db, err, sizeof err)) {
        fprintf(stderr, "bench_store: %s: %s\n", path, db ? rt_db_errmsg(db) : err);
        rt_db_close(db);
        return 1;
    }
    double c0 = cpu_now(), w0 = wall_now();
    int rc = rt_db_begin(db);
    for (size_t i = 0; i < all->n && !rc; i++) {
        long long id;
        rc = rt_db_insert(db, &all->r[i], &id);
        if (!rc && i % 256 == 255)
            rc = rt_db_save_checkpoint(db, &cp, NULL, 0) || rt_db_commit(db) || rt_db_begin(db);
    }
    if (!rc)
        rc = rt_db_save_checkpoint(db, &cp, NULL, 0) || rt_db_commit(db);
    *cpu = cpu_now() - c0;
    *wall = wall_now() - w0;
    if (rc)
        fprintf(stderr, "bench_store: %s\n", rt_db_errmsg(db));
    rt_db_close(db);
    return rc ? 1 : 0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_store SOURCE.db OUT.db [REPEATS]\n");
        return 2;
    }
    long given = 3;
    if (argc > 3 && rt_parse_long(argv[3], 1, 20, &given))
        given = 3;
    int repeats = (int)given;
    char err[512];
    rt_db *src = NULL;
    if (rt_db_open(&src, argv[1], 0, err, sizeof err)) {
        fprintf(stderr, "bench_store: %s\n", err);
        return 2;
    }
    rows all = {0};
    if (rt_db_each_row(src, keep_row, &all)) {
        fprintf(stderr, "bench_store: reading %s failed\n", argv[1]);
        return 1;
    }
    rt_db_close(src);
    size_t text_bytes = 0;
    for (size_t i = 0; i < all.n; i++)
        text_bytes += all.r[i].len;
    double cpu[20], wall[20], bytes[20];
    for (int k = 0; k < repeats; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s.%d", argv[2], k + 1);
        if (write_all(&all, path, &cpu[k], &wall[k]))
            return 1;
        struct stat sb;
        bytes[k] = stat(path, &sb) == 0 ? (double)sb.st_size : 0;
        if (k + 1 < repeats) /* the last one stays, for a look inside (sqlite3_analyzer) */
            remove(path);
    }
    qsort(cpu, (size_t)repeats, sizeof *cpu, by_value);
    qsort(wall, (size_t)repeats, sizeof *wall, by_value);
    qsort(bytes, (size_t)repeats, sizeof *bytes, by_value);
    double n = (double)all.n;
    printf("%zu rows (texts %.0f bytes each): %.0f bytes per candidate, %.0f rows per CPU "
           "second (%.1f us each), %.0f rows per wall second; median of %d\n",
           all.n, (double)text_bytes / n, bytes[repeats / 2] / n, n / cpu[repeats / 2],
           1e6 * cpu[repeats / 2] / n, n / wall[repeats / 2], repeats);
    return 0;
}
