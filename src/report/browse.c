/* browse.c — the public reads for browsing a store (ratchet.h, "browsing a store"): rows,
 * one row, its evaluation, its ancestors, and whether a run writes the store now. Over the
 * read-only view (store/view.h) and store/browse.h; candidate text comes from query.h only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "store/browse.h"
#include "store/query.h"
#include "store/view.h"

int rt_store_candidates(rt_store *store, const rt_cand_filter *filter,
                        int (*fn)(const rt_candidate *c, void *user), void *user)
{
    return rt_db_each_candidate(rt_store_db(store), filter, fn, user);
}

int rt_store_candidate(rt_store *store, long long id, rt_candidate *out)
{
    rt_db *db = rt_store_db(store);
    int found = 0;
    int rc = rt_db_candidate_info(db, id, &found, out);
    if (rc)
        return rc;
    if (!found)
        return rt_db_fail(db, RT_EUSAGE, "store %s has no candidate %lld", rt_db_path(db), id);
    return 0;
}

int rt_store_totals(rt_store *store, rt_summary *out)
{
    return rt_db_summary(rt_store_db(store), out);
}

int rt_store_candidate_eval(rt_store *store, long long id, char **metrics, char **artifacts)
{
    return rt_db_evaluation(rt_store_db(store), id, metrics, artifacts);
}

/* Appends v to the growing array *ids; -1 when out of memory. */
static int push_id(long long **ids, size_t *n, size_t *cap, long long v)
{
    if (*n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 32;
        long long *p = realloc(*ids, ncap * sizeof *p);
        if (!p)
            return -1;
        *ids = p;
        *cap = ncap;
    }
    (*ids)[(*n)++] = v;
    return 0;
}

int rt_store_lineage(rt_store *store, long long id, long long **ids, size_t *n)
{
    rt_db *db = rt_store_db(store);
    *ids = NULL;
    *n = 0;
    size_t cap = 0;
    rt_candidate c;
    int rc = rt_store_candidate(store, id, &c);
    while (!rc) {
        if (push_id(ids, n, &cap, c.id)) {
            rc = rt_db_fail(db, RT_ENOMEM, "out of memory");
            break;
        }
        long long parent = 0;
        if (!c.parent[0] || (rc = rt_db_id_of_hash(db, c.parent, &parent)) || !parent)
            break;
        if (parent >= c.id) { /* parents are stored before their children: a broken store */
            rc = rt_db_fail(db, RT_ESTORE, "store %s: candidate %lld's parent %lld comes after it",
                            rt_db_path(db), c.id, parent);
            break;
        }
        rc = rt_store_candidate(store, parent, &c);
    }
    if (rc) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc;
}

/* Whether /proc/locks lists a flock held for writing on the file (dev, ino). */
static int flock_listed(FILE *f, dev_t dev, ino_t ino)
{
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char kind[16], mode[16], access[16];
        unsigned maj, min;
        unsigned long long inode;
        long pid;
        /* "1: FLOCK  ADVISORY  WRITE 8198 fe:00:404740 0 EOF" ("->" marks a waiting one) */
        if (sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%llu", kind, mode, access, &pid, &maj,
                   &min, &inode) != 7)
            continue;
        if (strcmp(kind, "FLOCK") == 0 && strcmp(access, "WRITE") == 0 && maj == major(dev) &&
            min == minor(dev) && inode == (unsigned long long)ino)
            return 1;
    }
    return 0;
}

int rt_store_running(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    FILE *f = fopen("/proc/locks", "re");
    if (!f)
        return -1;
    int held = flock_listed(f, st.st_dev, st.st_ino);
    fclose(f);
    return held;
}
