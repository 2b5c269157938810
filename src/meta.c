/* meta.c — trials of a policy on a problem (see meta.h). */
#include "meta.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

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

static void sort3(int d[3])
{
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (d[j] < d[i]) {
                int t = d[i];
                d[i] = d[j];
                d[j] = t;
            }
}

/* The never-used shapes of docs/recursion.md, over Z: <2,2,5>, <2,4,5>, <2,5,5> (named 3 Dec)
 * and <2,2,6>, <2,3,6> (named 6 Dec, before that day's meta runs). */
static int never_used(int n, int m, int p, int gf2)
{
    int d[3] = {n, m, p};
    sort3(d);
    if (gf2 || d[0] != 2)
        return 0;
    return (d[2] == 5 && (d[1] == 2 || d[1] == 4 || d[1] == 5)) ||
           (d[2] == 6 && (d[1] == 2 || d[1] == 3));
}

static int known_rank(int n, int m, int p, int gf2)
{
    int d[3] = {n, m, p};
    sort3(d);
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
    if (never_used(n, m, p, strcmp(out->field, "gf2") == 0))
        return rt_fail(err, errlen, RT_EUSAGE,
                       "problem spec '%.*s': %s over Z is a never-used shape, kept out of every "
                       "meta run (docs/recursion.md)", (int)len, s, out->shape);
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

static _Thread_local long long thread_trials;
static _Thread_local double thread_cost;
static rt_meta_observer observer;
static void *observer_user;
static atomic_llong trials_started;

long long rt_meta_trials(void) { return atomic_load(&trials_started); }
static volatile double deadline_at;
static volatile sig_atomic_t cut_now;

void rt_meta_set_deadline(double at)
{
    deadline_at = at;
    cut_now = 0;
}

void rt_meta_cut_now(void) { cut_now = 1; }

void rt_meta_deadline(double seconds) { rt_meta_set_deadline(seconds > 0 ? rt_now() + seconds : 0); }

void rt_meta_stop(void) { rt_meta_cut_now(); }

int rt_meta_is_cut(void)
{
    double at = deadline_at;
    return cut_now || (at > 0 && rt_now() >= at);
}

/* The seconds an engine run started now may take before the deadline (0: no limit, or at once
 * when cut already: a tiny positive number). */
static double seconds_left(void)
{
    double at = deadline_at;
    if (cut_now)
        return 1e-9;
    if (at <= 0)
        return 0;
    double left = at - rt_now();
    return left > 1e-9 ? left : 1e-9;
}

void rt_meta_thread_count(long long *trials, double *cost)
{
    *trials = thread_trials;
    *cost = thread_cost;
}

void rt_meta_observe(rt_meta_observer fn, void *user)
{
    observer = fn;
    observer_user = user;
}

typedef struct trial_watch {
    rt_run *run;
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
    if (w->run && rt_meta_is_cut()) /* Ctrl-C (the deadline is the run's own --seconds) */
        rt_run_stop(w->run);
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
    int k = mm_cube_side(n, m, p);  /* cube's: <k,k,d> */
    const double weight[] = {mm->op_walk + mm->op_plus + mm->op_lift,
                             /* split and cube: restart's */
                             mm->op_restart + (square ? 0 : mm->op_split) + (k ? mm->op_cube : 0),
                             square ? mm->op_sym + mm->op_twin : 0, square ? mm->op_symlong : 0};
    /* (split's and cube's part descents add at most restart's length again, for flips_exp >= 1) */
    long long most = 0;
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        long long len = weight[i] > 0 ? mm_rule_length(base[i], n, m, p, mm->flips_exp) : 0;
        if (len > most)
            most = len;
    }
    /* and cube's symmetric run, sym's length at the cube's size */
    long long cube =
        k && mm->op_cube > 0 ? mm_rule_length(mm->pf_sym_flips, k, k, k, mm->flips_exp) : 0;
    if (cube > most)
        most = cube;
    return most;
}

int rt_meta_run_trial(const rt_policy *policy, const rt_meta_spec *spec, uint64_t seed,
                      const rt_meta_caps *caps, const char *tmpdir, rt_meta_trial *out,
                      char *err, size_t errlen)
{
    static atomic_llong counter;
    memset(out, 0, sizeof *out);
    if (rt_meta_is_cut())
        return rt_fail(err, errlen, RT_META_ECUT, "cut at the meta run's deadline");
    atomic_fetch_add(&trials_started, 1);
    if (observer)
        observer(spec, seed, observer_user);
    rt_buf json;
    rt_buf_init(&json, 0);
    rt_problem *pb = NULL;
    rt_run *run = NULL;
    rt_error e = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/trial-%lld.db", tmpdir, (long long)atomic_fetch_add(&counter, 1));
    double miss = rt_meta_miss_cost(caps);
    const char *keys[2] = {"shape", "field"};
    const char *values[2] = {spec->shape, spec->field};
    int rc = rt_problem_open(&pb, "matmul", keys, values, 2, &e);
    if (rc) {
        rc = rt_fail(err, errlen, rc, "%s", e.msg);
        goto done;
    }
    /* The candidate's changes to the head over this shape's own shipped default: a layer of
     * policy/default.json whose scope does not hold the shape stays out of the trial, as it
     * stays out of a `ratchet run` of it. */
    rt_policy head, trial;
    rt_policy_defaults(&head);
    rt_problem_defaults(pb, &trial);
    rt_policy_rebase(&trial, policy, &head, &trial);
    if ((double)largest_run(&trial, spec) * caps->islands > (double)caps->work) {
        out->cost = miss;
        goto done;
    }
    if ((rc = rt_policy_print(&trial, &json))) {
        rc = rt_fail(err, errlen, rc, "out of memory");
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
    o.progress_interval = 0.2; /* reports only watch: Ctrl-C */
    o.seconds = seconds_left();
    double t0 = rt_now();
    remove_store(path);
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
    w.run = run;
    if ((rc = rt_run_execute(run))) {
        rc = rt_fail(err, errlen, rc, "trial %s seed %llu: %s", spec->text,
                     (unsigned long long)seed, rt_run_errmsg(run));
        goto done;
    }
    if (!(w.has_best && w.best <= spec->target) && rt_meta_is_cut()) {
        rc = rt_fail(err, errlen, RT_META_ECUT, "cut at the meta run's deadline");
        goto done;
    }
    out->seconds = rt_now() - t0;
    out->evaluations = w.evaluations;
    out->work = w.work;
    out->reached = w.has_best && w.best <= spec->target;
    out->cost = (double)w.work + RT_META_EVAL_COST * (double)w.evaluations;
    thread_trials++;
    thread_cost += out->cost;
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

/* A scratch folder of a meta run that is gone: named by a process that no longer exists, ours,
 * and untouched for a minute (a killed run cannot remove its own; a live one keeps writing). */
static int stale_scratch(const char *base, const char *name, char *path, size_t len)
{
    static const char prefix[] = "ratchet-meta-";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0)
        return 0;
    char *end = NULL;
    errno = 0;
    long pid = strtol(name + sizeof prefix - 1, &end, 10);
    if (errno || pid <= 0 || pid > 1L << 30 || !end || *end != '-' || pid == (long)getpid())
        return 0;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
        return 0;
    int n = snprintf(path, len, "%s/%s", base, name);
    struct stat st;
    if (n < 0 || (size_t)n >= len || lstat(path, &st) != 0)
        return 0;
    return S_ISDIR(st.st_mode) && st.st_uid == geteuid() && time(NULL) - st.st_mtime > 60;
}

static void sweep_scratch(const char *base)
{
    DIR *d = opendir(base);
    if (!d)
        return;
    struct dirent *de;
    char path[4400];
    while ((de = readdir(d)))
        if (stale_scratch(base, de->d_name, path, sizeof path))
            rt_meta_tmpdir_remove(path);
    closedir(d);
}

int rt_meta_tmpdir(char *buf, size_t len, char *err, size_t errlen)
{
    /* trial stores are scratch: memory-backed /dev/shm spares the disk thousands of fsyncs */
    const char *base = getenv("TMPDIR");
    if (!base || !*base || strlen(base) > 3000)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    sweep_scratch(base);
    int n = snprintf(buf, len, "%s/ratchet-meta-%ld-XXXXXX", base, (long)getpid());
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

/* ---- level 2 ----------------------------------------------------------------------------- */

const char *rt_meta_spec_list(char *buf, size_t len, const rt_meta_spec *s, int n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && o < len; i++) {
        int k = snprintf(buf + o, len - o, "%s%s", i ? "," : "", s[i].text);
        if (k < 0)
            break;
        o += (size_t)k;
    }
    return buf;
}

int rt_meta_suite_make(const rt_meta_spec *specs, int n, rt_meta_suite *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (n < 2 || n > RT_META_MAX_SPECS)
        return rt_fail(err, errlen, RT_EUSAGE,
                       "a meta suite needs 2 to %d problems (the level-1 run trains on the first "
                       "half and gates on the rest), got %d", RT_META_MAX_SPECS, n);
    out->ntrain = (n + 1) / 2;
    out->nheld = n - out->ntrain;
    memcpy(out->train, specs, (size_t)out->ntrain * sizeof *specs);
    memcpy(out->heldout, specs + out->ntrain, (size_t)out->nheld * sizeof *specs);
    rt_meta_spec_list(out->train_text, sizeof out->train_text, out->train, out->ntrain);
    rt_meta_spec_list(out->heldout_text, sizeof out->heldout_text, out->heldout, out->nheld);
    return 0;
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct meta1_watch {
    rt_run *run;
    const rt_meta1_caps *caps;
    rt_meta1_trial *out;
    long long trials0;
    double cost0, cpu0;
} meta1_watch;

/* Progress of the level-1 run (every step): the level-0 spending so far, frozen at the first
 * admitted policy beyond the seed (the seed's own verdict is the first admission); stops the
 * run past the work cap. */
static void watch1(const rt_progress *p, void *user)
{
    meta1_watch *w = user;
    rt_meta1_trial *o = w->out;
    long long trials;
    double cost;
    rt_meta_thread_count(&trials, &cost);
    if (!o->reached) {
        o->trials = trials - w->trials0;
        o->work = cost - w->cost0;
        o->proposals = p->evaluations;
        o->cpu = thread_cpu() - w->cpu0;
        o->reached = p->admitted > 1;
    }
    if (cost - w->cost0 > w->caps->work || rt_meta_is_cut())
        rt_run_stop(w->run);
}

typedef struct curve_walk {
    rt_meta1_trial *out;
    long long admitted;
} curve_walk;

/* The curve from the store: the best verified held-out cost after each step (one island: a
 * child of generation g was made by step g + 1). */
static int curve_row(const rt_cand_info *c, void *user)
{
    curve_walk *cw = user;
    rt_meta1_trial *o = cw->out;
    cw->admitted++;
    /* the seed is generation 0, and so are the children of the first step */
    long long from = strcmp(c->op, "seed") == 0 ? 0 : c->generation + 1;
    for (long long g = from < 0 ? 0 : from; g < o->ncurve; g++)
        if (o->curve[g] <= 0 || c->metric < o->curve[g])
            o->curve[g] = c->metric;
    return 0;
}

static int read_curve(const char *path, rt_meta1_trial *out, char *err, size_t errlen)
{
    rt_store *st = NULL;
    rt_error e = {0};
    if (rt_store_open(&st, path, &e))
        return rt_fail(err, errlen, RT_EIO, "level-1 store: %s", e.msg);
    curve_walk cw = {out, 0};
    int rc = rt_store_admitted(st, curve_row, &cw);
    rt_store_close(st);
    if (rc)
        return rt_fail(err, errlen, RT_EIO, "cannot read the level-1 store");
    if (cw.admitted > 1 && !out->reached) /* admitted in the last step, after the last report */
        out->reached = 1;
    return 0;
}

static int open_level1(const rt_meta_suite *suite, const rt_meta1_caps *caps, rt_problem **pb,
                       char *err, size_t errlen)
{
    char seeds[16], vseeds[16], evals[32], work[32], islands[16];
    snprintf(seeds, sizeof seeds, "%d", caps->seeds);
    snprintf(vseeds, sizeof vseeds, "%d", caps->vseeds);
    snprintf(evals, sizeof evals, "%lld", caps->trial.evaluations);
    snprintf(work, sizeof work, "%lld", caps->trial.work);
    snprintf(islands, sizeof islands, "%d", caps->trial.islands);
    const char *keys[] = {"train", "heldout", "seeds", "vseeds", "evals", "work", "islands"};
    const char *values[] = {suite->train_text, suite->heldout_text, seeds, vseeds, evals, work,
                            islands};
    rt_error e = {0};
    if (rt_problem_open(pb, "policy", keys, values, sizeof keys / sizeof keys[0], &e))
        return rt_fail(err, errlen, RT_EUSAGE, "level-1 run: %s", e.msg);
    return 0;
}

int rt_meta1_run_trial(const rt_policy *policy, const rt_meta_suite *suite, uint64_t seed,
                       const rt_meta1_caps *caps, const char *tmpdir, rt_meta1_trial *out,
                       char *err, size_t errlen)
{
    static atomic_llong counter;
    memset(out, 0, sizeof *out);
    if (rt_meta_is_cut())
        return rt_fail(err, errlen, RT_META_ECUT, "cut at the meta run's deadline");
    long long props = caps->proposals < RT_META1_MAX_PROPOSALS ? caps->proposals
                                                               : RT_META1_MAX_PROPOSALS;
    out->ncurve = (int)props + 1;
    rt_buf json;
    rt_buf_init(&json, 0);
    rt_problem *pb = NULL;
    rt_run *run = NULL;
    rt_error e = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/level1-%lld.db", tmpdir,
             (long long)atomic_fetch_add(&counter, 1));
    int rc = rt_policy_print(policy, &json);
    if (rc || (rc = open_level1(suite, caps, &pb, err, errlen)))
        goto done;
    meta1_watch w = {.caps = caps, .out = out, .cpu0 = thread_cpu()};
    rt_meta_thread_count(&w.trials0, &w.cost0);
    rt_run_options o;
    rt_run_options_init(&o);
    o.seed = seed;
    o.islands = 1;
    o.threads = 1;
    o.evaluations = props;
    o.policy = rt_buf_cstr(&json);
    o.progress = watch1;
    o.progress_user = &w;
    o.progress_interval = 1e-9; /* every step */
    o.seconds = seconds_left();
    remove_store(path);
    if ((rc = rt_run_create(&run, path, pb, &o, &e))) {
        rc = rt_fail(err, errlen, rc, "level-1 run %llu: %s", (unsigned long long)seed, e.msg);
        goto done;
    }
    w.run = run;
    if ((rc = rt_run_execute(run))) {
        rc = rt_fail(err, errlen, rc, "level-1 run %llu: %s", (unsigned long long)seed,
                     rt_run_errmsg(run));
        goto done;
    }
    rt_run_close(run);
    run = NULL;
    if ((rc = read_curve(path, out, err, errlen)))
        goto done;
    if (!out->reached && rt_meta_is_cut()) {
        rc = rt_fail(err, errlen, RT_META_ECUT, "cut at the meta run's deadline");
        goto done;
    }
    out->cost = out->reached && out->work <= caps->work ? out->work : rt_meta1_miss_cost(caps);
    if (out->cost < 1)
        out->cost = 1;
done:
    if (rc == RT_ENOMEM)
        rc = rt_fail(err, errlen, rc, "out of memory");
    rt_run_close(run);
    rt_problem_close(pb);
    rt_buf_free(&json);
    remove_store(path);
    return rc;
}

double rt_meta_miss_cost(const rt_meta_caps *caps)
{
    return 2 * ((double)caps->work + RT_META_EVAL_COST * (double)caps->evaluations);
}

double rt_meta1_miss_cost(const rt_meta1_caps *caps)
{
    return 2 * caps->work;
}

void rt_meta_gate_decide(const double *cand, const double *base, int n, double miss,
                         rt_meta_gate *out)
{
    memset(out, 0, sizeof *out);
    out->sign_p = 1;
    if (n < 1)
        return;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; i++) {
        double d = log(base[i]) - log(cand[i]);
        sum += d;
        sum2 += d * d;
        int cm = cand[i] >= miss, bm = base[i] >= miss;
        out->misses += cm || bm;
        if (cm && bm)
            continue;
        if (bm || cand[i] < base[i])
            out->wins++;
        else if (cm || cand[i] > base[i])
            out->losses++;
    }
    out->mean = sum / n;
    double var = n > 1 ? (sum2 - n * out->mean * out->mean) / (n - 1) : 0;
    out->se = var > 0 ? sqrt(var / n) : 0;
    out->beyond_noise = out->mean > 2 * out->se && out->mean > 0;
    out->admit = out->beyond_noise;
    if (!out->misses)
        return;
    /* P(at least wins of m = wins + losses fair coin flips are wins): the binomial terms by
     * their recurrence from 2^-m (m <= n, at most a few hundred: no underflow to zero) */
    int m = out->wins + out->losses;
    double term = ldexp(1.0, -m), p = 0;
    for (int k = 0; k <= m; k++) {
        if (k >= out->wins)
            p += term;
        term = term * (m - k) / (k + 1);
    }
    out->sign_p = p < 1 ? p : 1;
    out->admit = out->admit && out->sign_p <= 0.025;
}
