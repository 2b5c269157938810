/* meta.c — trials of a policy on a problem (see meta.h). */
#include "meta.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "problems/matmul/matmul_policy.h"
#include "problems/matmul/matmul_strategy.h"
#include "ratchet.h"

/* Best known ranks of small products (both fields unless noted), by sorted dimensions. */
static const struct {
    int a, b, c, rank_z, rank_gf2;
} known[] = {
    {2, 2, 2, 7, 7},    {2, 2, 3, 11, 11}, {2, 2, 4, 14, 14}, {2, 2, 5, 18, 18},
    {2, 3, 3, 15, 15},  {2, 3, 4, 20, 20}, {2, 3, 5, 25, 25}, {2, 4, 4, 26, 26},
    {3, 3, 3, 23, 23},  {3, 3, 4, 29, 29}, {3, 3, 5, 36, 36}, {3, 4, 4, 38, 38},
    {4, 4, 4, 49, 47},
};

static int known_rank(int n, int m, int p, int gf2)
{
    int d[3] = {n, m, p};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (d[j] < d[i]) {
                int t = d[i];
                d[i] = d[j];
                d[j] = t;
            }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].a == d[0] && known[i].b == d[1] && known[i].c == d[2])
            return gf2 ? known[i].rank_gf2 : known[i].rank_z;
    return -1;
}

static int parse_one(const char *s, size_t len, rt_meta_spec *out, char *err, size_t errlen)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return rt_fail(err, errlen, RT_EUSAGE, "bad problem spec '%.*s': expected "
                       "matmul:NxMxP:FIELD[@TARGET]", (int)(len < 60 ? len : 60), s);
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(out, 0, sizeof *out);
    char *at = strchr(buf, '@');
    if (at)
        *at++ = '\0';
    char *c1 = strchr(buf, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    int n, m, p;
    char tail;
    if (!c1 || !c2 || strchr(c2 + 1, ':'))
        goto bad;
    *c1 = *c2 = '\0';
    if (strcmp(buf, "matmul") != 0)
        return rt_fail(err, errlen, RT_EUSAGE, "bad problem spec '%s': only matmul is supported",
                       s[0] ? buf : "");
    if (sscanf(c1 + 1, "%d x %d x %d%c", &n, &m, &p, &tail) != 3 || n < 1 || m < 1 || p < 1 ||
        n > 8 || m > 8 || p > 8)
        goto bad;
    if (strcmp(c2 + 1, "gf2") != 0 && strcmp(c2 + 1, "z") != 0)
        goto bad;
    snprintf(out->shape, sizeof out->shape, "%dx%dx%d", n, m, p);
    snprintf(out->field, sizeof out->field, "%s", c2 + 1);
    if (at) {
        if (rt_parse_double(at, 1, 1000, &out->target))
            goto bad;
    } else {
        int r = known_rank(n, m, p, strcmp(out->field, "gf2") == 0);
        if (r < 0)
            return rt_fail(err, errlen, RT_EUSAGE,
                           "problem spec '%.*s': no known target rank for %s; add @RANK",
                           (int)len, s, out->shape);
        out->target = r;
    }
    snprintf(out->text, sizeof out->text, "matmul:%s:%s@%g", out->shape, out->field,
             out->target);
    return 0;
bad:
    return rt_fail(err, errlen, RT_EUSAGE,
                   "bad problem spec '%.*s': expected matmul:NxMxP:FIELD[@TARGET], "
                   "dimensions 1..8, FIELD gf2 or z", (int)(len < 60 ? len : 60), s);
}

int rt_meta_parse_specs(const char *list, rt_meta_spec *out, int *n, char *err, size_t errlen)
{
    *n = 0;
    if (!list || !*list)
        return rt_fail(err, errlen, RT_EUSAGE, "empty list of problem specs");
    const char *s = list;
    for (;;) {
        size_t len = strcspn(s, ",");
        if (*n == RT_META_MAX_SPECS)
            return rt_fail(err, errlen, RT_EUSAGE, "at most %d problem specs",
                           RT_META_MAX_SPECS);
        int rc = parse_one(s, len, &out[*n], err, errlen);
        if (rc)
            return rc;
        (*n)++;
        if (!s[len])
            break;
        s += len + 1;
    }
    return 0;
}

typedef struct trial_watch {
    long long evaluations, work;
    int has_best;
    double best;
} trial_watch;

static void watch(const rt_progress *p, void *user)
{
    trial_watch *w = user;
    w->evaluations = p->evaluations;
    w->work = p->work;
    w->has_best = p->has_best;
    w->best = p->best_metric;
}

static void remove_store(const char *path)
{
    char side[4200];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* The longest walker run the default (portfolio) matmul run of spec can make under policy: the
 * largest flips budget, by the rule of the shape (matmul_strategy.h), of a strategy with a
 * positive weight that applies to the shape. */
static long long largest_run(const rt_policy *policy, const rt_meta_spec *spec)
{
    const rt_matmul_policy *mm = mm_policy(policy);
    int n = 1, m = 1, p = 1;
    if (sscanf(spec->shape, "%dx%dx%d", &n, &m, &p) != 3)
        return 0;
    const double base[] = {mm->pf_walk_flips, mm->pf_restart_flips, mm->pf_sym_flips,
                           mm->pf_symlong_flips};
    int square = n == m && m == p; /* the symmetric strategies need a square shape */
    const double weight[] = {mm->op_walk + mm->op_plus + mm->op_lift, mm->op_restart,
                             square ? mm->op_sym + mm->op_twin : 0, square ? mm->op_symlong : 0};
    long long most = 0;
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        long long len = weight[i] > 0 ? mm_rule_length(base[i], n, m, p, mm->flips_exp) : 0;
        if (len > most)
            most = len;
    }
    return most;
}

int rt_meta_run_trial(const rt_policy *policy, const rt_meta_spec *spec, uint64_t seed,
                      const rt_meta_caps *caps, const char *tmpdir, rt_meta_trial *out,
                      char *err, size_t errlen)
{
    static atomic_llong counter;
    memset(out, 0, sizeof *out);
    if ((double)largest_run(policy, spec) * caps->islands > (double)caps->work) {
        out->cost = 2 * ((double)caps->work + RT_META_EVAL_COST * (double)caps->evaluations);
        return 0;
    }
    rt_buf json;
    rt_buf_init(&json, 0);
    rt_problem *pb = NULL;
    rt_run *run = NULL;
    rt_error e = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/trial-%lld.db", tmpdir, (long long)atomic_fetch_add(&counter, 1));
    int rc = rt_policy_print(policy, &json);
    if (rc) {
        rc = rt_fail(err, errlen, rc, "out of memory");
        goto done;
    }
    const char *keys[2] = {"shape", "field"};
    const char *values[2] = {spec->shape, spec->field};
    if ((rc = rt_problem_open(&pb, "matmul", keys, values, 2, &e))) {
        rc = rt_fail(err, errlen, rc, "%s", e.msg);
        goto done;
    }
    trial_watch w = {0};
    rt_run_options o;
    rt_run_options_init(&o);
    o.seed = seed;
    o.islands = caps->islands;
    o.threads = 1;
    o.evaluations = caps->evaluations;
    o.work = caps->work;
    o.has_target = 1;
    o.target = spec->target;
    o.policy = rt_buf_cstr(&json);
    o.progress = watch;
    o.progress_user = &w;
    o.progress_interval = 1e9; /* only the final report */
    double t0 = rt_now();
    remove_store(path);
    double miss = 2 * ((double)caps->work + RT_META_EVAL_COST * (double)caps->evaluations);
    if ((rc = rt_run_create(&run, path, pb, &o, &e)) == RT_EUSAGE) {
        /* the policy cannot serve this problem (a length its rule makes non-positive, no
         * strategy left): the trial misses, as a policy that never reaches the target */
        out->cost = miss;
        rc = 0;
        goto done;
    }
    if (rc) {
        rc = rt_fail(err, errlen, rc, "trial %s seed %llu: %s", spec->text,
                     (unsigned long long)seed, e.msg);
        goto done;
    }
    if ((rc = rt_run_execute(run))) {
        rc = rt_fail(err, errlen, rc, "trial %s seed %llu: %s", spec->text,
                     (unsigned long long)seed, rt_run_errmsg(run));
        goto done;
    }
    out->seconds = rt_now() - t0;
    out->evaluations = w.evaluations;
    out->work = w.work;
    out->reached = w.has_best && w.best <= spec->target;
    out->cost = (double)w.work + RT_META_EVAL_COST * (double)w.evaluations;
    if (!out->reached) /* a miss costs more than any hit: twice the caps */
        out->cost = miss;
    if (out->cost < 1)
        out->cost = 1;
done:
    rt_run_close(run);
    rt_problem_close(pb);
    rt_buf_free(&json);
    remove_store(path);
    return rc;
}

int rt_meta_tmpdir(char *buf, size_t len, char *err, size_t errlen)
{
    /* trial stores are scratch: memory-backed /dev/shm spares the disk thousands of fsyncs */
    const char *base = getenv("TMPDIR");
    if (!base || !*base || strlen(base) > 3000)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    int n = snprintf(buf, len, "%s/ratchet-meta-XXXXXX", base);
    if (n < 0 || (size_t)n >= len || !mkdtemp(buf))
        return rt_fail(err, errlen, RT_EIO, "cannot make a scratch folder under %s: %s", base,
                       strerror(errno));
    return 0;
}

void rt_meta_tmpdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[4400];
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}
