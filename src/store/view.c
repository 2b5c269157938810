/* view.c — the public read-only view of a store (rt_store in ratchet.h): what `status`, `best`
 * (and its certificates), `llm` and `meta` read. It opens the store as a reader, which writes
 * nothing. The checks of a store (rt_store_audit, rt_store_check, rt_store_drift) are in
 * src/audit/, over this view's handle (store/view.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy.h"
#include "store/llm_requests.h"
#include "store/query.h"
#include "store/store.h"
#include "store/view.h"

struct rt_store {
    rt_db *db; /* opened for reading; its error message is the store's */
};

rt_db *rt_store_db(rt_store *store) { return store->db; }

int rt_store_open(rt_store **out, const char *path, rt_error *err)
{
    *out = NULL;
    err->msg[0] = '\0';
    rt_store *s = calloc(1, sizeof *s);
    if (!s) {
        err->code = rt_fail(err->msg, sizeof err->msg, RT_ENOMEM, "out of memory");
        return err->code;
    }
    err->code = rt_db_open(&s->db, path, 0, err->msg, sizeof err->msg);
    if (err->code) {
        free(s);
        return err->code;
    }
    *out = s;
    return 0;
}

void rt_store_close(rt_store *store)
{
    if (!store)
        return;
    rt_db_close(store->db);
    free(store);
}

const char *rt_store_errmsg(const rt_store *store) { return rt_db_errmsg(store->db); }

int rt_store_problem(rt_store *store, rt_problem **out)
{
    rt_run_config cfg;
    int rc = rt_db_config(store->db, &cfg);
    if (rc)
        return rc;
    char err[512] = "";
    rc = rt_problem_open_canonical(out, cfg.problem, cfg.params, err, sizeof err);
    if (rc && err[0])
        rt_db_fail(store->db, rc, "%s", err);
    return rc;
}

int rt_store_run_info(rt_store *store, rt_run_info *out)
{
    memset(out, 0, sizeof *out);
    rt_run_config cfg;
    int rc = rt_db_config(store->db, &cfg);
    if (rc)
        return rc;
    snprintf(out->problem, sizeof out->problem, "%s", cfg.problem);
    snprintf(out->params, sizeof out->params, "%s", cfg.params);
    out->seed = cfg.seed;
    out->islands = cfg.islands;
    snprintf(out->proposer, sizeof out->proposer, "%s", cfg.proposer);
    return 0;
}

int rt_store_proposer_options(rt_store *store, char **json)
{
    int rc = rt_db_get_meta(store->db, "proposer-options", json);
    if (!rc && !*json && !(*json = strdup("[]")))
        rc = RT_ENOMEM;
    return rc;
}

int rt_store_counts(rt_store *store, rt_summary *out) { return rt_db_summary(store->db, out); }

int rt_store_summary(rt_store *store, rt_summary *out)
{
    int rc = rt_db_summary(store->db, out);
    if (rc || !out->has_best)
        return rc;
    rt_problem *pb = NULL;
    rc = rt_store_problem(store, &pb);
    if (rc)
        return rc;
    long long id;
    char *text = NULL;
    size_t len;
    char hash[65];
    rt_score sc;
    if (rt_problem_verify_dear(pb)) {
        /* verifying again would rerun trials or a program: the verdict stands as stored, and
         * `ratchet audit` is the command that repeats it */
        snprintf(out->metric_name, sizeof out->metric_name, "%s", rt_problem_metric_name(pb));
        snprintf(out->best_summary, sizeof out->best_summary,
                 "verified when admitted (not verified again here: `ratchet audit` does)");
        rt_problem_close(pb);
        return 0;
    }
    rc = rt_db_best(store->db, &id);
    if (!rc && id)
        rc = rt_db_candidate(store->db, id, &text, &len, hash, &sc);
    if (!rc && text) {
        rt_verdict v;
        char err[256];
        if (rt_problem_verify(pb, text, len, &v, err, sizeof err) == 0) {
            snprintf(out->metric_name, sizeof out->metric_name, "%s", v.metric_name);
            const char *what = v.valid ? v.summary : v.reason;
            size_t n = strnlen(what, sizeof out->best_summary - 1);
            memcpy(out->best_summary, what, n);
            out->best_summary[n] = '\0';
        }
    }
    free(text);
    rt_problem_close(pb);
    return rc;
}

int rt_store_best(rt_store *store, char **text)
{
    *text = NULL;
    long long id;
    int rc = rt_db_best(store->db, &id);
    if (rc)
        return rc;
    if (!id)
        return rt_db_fail(store->db, RT_EUSAGE, "store %s has no verified candidate yet",
                          rt_db_path(store->db));
    size_t len;
    char hash[65];
    rt_score sc;
    return rt_db_candidate(store->db, id, text, &len, hash, &sc);
}

int rt_store_certificate(rt_store *store, const char *dir)
{
    rt_problem *pb = NULL;
    char *text = NULL;
    int rc = rt_store_problem(store, &pb);
    if (rc)
        return rc;
    if (!pb->cls->certificate) {
        rc = rt_db_fail(store->db, RT_EUSAGE, "problem %s has no certificates", pb->cls->name);
        goto done;
    }
    if ((rc = rt_store_best(store, &text)))
        goto done;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        rc = rt_db_fail(store->db, RT_EIO, "cannot create %s: %s", dir, strerror(errno));
        goto done;
    }
    char err[512] = "";
    rc = rt_problem_certificate(pb, text, strlen(text), dir, err, sizeof err);
    if (rc && err[0])
        rt_db_fail(store->db, rc, "%s", err);
done:
    free(text);
    rt_problem_close(pb);
    return rc;
}

int rt_store_llm_spend(rt_store *store, rt_llm_spend *out)
{
    return rt_db_llm_spend(store->db, out);
}

int rt_store_policy(rt_store *store, char **json)
{
    int rc = rt_db_get_meta(store->db, "policy", json);
    if (rc || *json)
        return rc;
    /* stores made before policies were stored ran with the defaults */
    rt_policy p;
    rt_policy_defaults(&p);
    rt_buf b;
    rt_buf_init(&b, 0);
    if (rt_policy_print(&p, &b)) {
        rt_buf_free(&b);
        return rt_db_fail(store->db, RT_ENOMEM, "out of memory");
    }
    *json = rt_buf_take(&b);
    return 0;
}

int rt_store_bandit(rt_store *store, char **json)
{
    return rt_db_get_meta(store->db, "bandit", json);
}

int rt_store_failures(rt_store *store, char **json)
{
    return rt_db_get_meta(store->db, "failures", json);
}

int rt_store_admitted(rt_store *store, int (*fn)(const rt_cand_info *info, void *user),
                      void *user)
{
    return rt_db_each_admitted(store->db, fn, user);
}

int rt_store_candidate_text(rt_store *store, long long id, char **text)
{
    size_t len;
    char hash[65];
    rt_score sc;
    return rt_db_candidate(store->db, id, text, &len, hash, &sc);
}
