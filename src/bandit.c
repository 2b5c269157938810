/* bandit.c — the operator bandit (see bandit.h for the method). */
#include "bandit.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int rt_bandit_init(rt_bandit *b, const rt_problem *problem, const rt_policy *policy, char *err,
                   size_t errlen)
{
    memset(b, 0, sizeof *b);
    const rt_problem_class *cls = problem->cls;
    size_t nops = 0;
    const rt_operator *ops = rt_problem_operators(problem, &nops);
    if (nops == 0 || nops > RT_BANDIT_MAX_ARMS)
        return rt_fail(err, errlen, RT_EUSAGE, "problem %s has %zu operators (1 to %d)",
                       cls->name, nops, RT_BANDIT_MAX_ARMS);
    b->enabled = policy->bandit.enabled;
    b->discount = policy->bandit.discount;
    b->explore = policy->bandit.explore;
    b->floor = policy->bandit.floor;
    b->gain = policy->bandit.gain;
    b->work_exp = policy->bandit.work_exp;
    b->work_warm = policy->bandit.work_warm;
    b->narms = (int)nops;
    double total = 0;
    for (int k = 0; k < b->narms; k++) {
        const rt_operator *op = &ops[k];
        snprintf(b->arms[k].name, sizeof b->arms[k].name, "%s", op->name);
        b->arms[k].prior = rt_policy_op_weight(policy, cls->name, op->name, op->weight) *
                           rt_problem_op_scale(problem, op->name);
        total += b->arms[k].prior;
    }
    if (!(total > 0))
        return rt_fail(err, errlen, RT_EUSAGE, "policy: every operator of %s has weight 0",
                       cls->name);
    if (b->floor * b->narms > 1)
        b->floor = 1.0 / b->narms;
    return 0;
}

/* Turns shares of the work into draw probabilities: each share divided by the arm's mean work
 * per draw to the power work_exp (an arm drawn fewer than work_warm times, at least the one
 * never drawn: the mean over the others), renormalised (bandit.h). */
static void shares_of_work(const rt_bandit *b, double *probs)
{
    double per[RT_BANDIT_MAX_ARMS], known = 0, total = 0;
    int k, K = b->narms, nknown = 0;
    for (k = 0; k < K; k++) {
        const rt_bandit_arm *a = &b->arms[k];
        per[k] = a->pulls >= b->work_warm && a->n > 0 && a->cost > 0 ? a->cost / a->n : 0;
        if (per[k] > 0 && isfinite(per[k])) {
            known += per[k];
            nknown++;
        } else {
            per[k] = 0;
        }
    }
    if (nknown == 0)
        return; /* nothing drawn yet: the shares are the draws */
    for (k = 0; k < K; k++) {
        if (per[k] == 0)
            per[k] = known / nknown;
        total += (probs[k] /= pow(per[k], b->work_exp));
    }
    for (k = 0; k < K; k++)
        probs[k] = total > 0 ? probs[k] / total : 1.0 / K;
}

void rt_bandit_probs(const rt_bandit *b, double *probs)
{
    int k, K = b->narms;
    double w[RT_BANDIT_MAX_ARMS], total = 0;
    if (!b->enabled) {
        for (k = 0; k < K; k++)
            total += (w[k] = b->arms[k].prior);
        for (k = 0; k < K; k++)
            probs[k] = w[k] / total;
        return;
    }
    double ntot = 0, ctot = 0, best_rate = 0;
    for (k = 0; k < K; k++) {
        const rt_bandit_arm *a = &b->arms[k];
        ntot += a->n;
        ctot += a->cost;
        double rate = a->cost > 0 ? a->reward / a->cost : 0;
        if (rate > best_rate)
            best_rate = rate;
    }
    double ref = best_rate > 0 ? best_rate : (ctot > 0 && ntot > 0 ? ntot / ctot : 1);
    double prior_total = 0;
    for (k = 0; k < K; k++)
        prior_total += b->arms[k].prior;
    for (k = 0; k < K; k++) {
        const rt_bandit_arm *a = &b->arms[k];
        double rate = a->cost > 0 ? a->reward / a->cost : 0;
        double share = K * b->arms[k].prior / prior_total; /* 1 for uniform priors */
        double bonus = b->explore * ref * sqrt(log(1 + ntot) / (1 + a->n));
        w[k] = rate + share * bonus;
        if (!(w[k] > 0))
            w[k] = 1e-12 * ref * share; /* explore = 0 and nothing paid yet: the priors */
        total += w[k];
    }
    double rest = 1 - K * b->floor;
    for (k = 0; k < K; k++) {
        double share = total > 0 ? w[k] / total : 1.0 / K;
        probs[k] = b->floor + rest * share;
    }
    if (b->work_exp > 0)
        shares_of_work(b, probs);
}

int rt_bandit_choose(const rt_bandit *b, rt_rng *rng)
{
    double probs[RT_BANDIT_MAX_ARMS];
    rt_bandit_probs(b, probs);
    double u = rt_rng_unit(rng);
    for (int k = 0; k < b->narms - 1; k++) {
        if (u < probs[k])
            return k;
        u -= probs[k];
    }
    return b->narms - 1;
}

double rt_bandit_reward(rt_bandit *b, double base, double size)
{
    if (!(base > 0))
        return 0;
    double g = b->gain > 1 ? 1 : b->gain > 0 ? b->gain : 0;
    if (!(size > 0) || !isfinite(size))
        return base * (1 - g);
    if (g == 0)
        return base;
    b->step_sum = b->step_sum * b->discount + size;
    b->step_n = b->step_n * b->discount + 1;
    double r = base * ((1 - g) + g * size / (b->step_sum / b->step_n));
    return isfinite(r) ? r : base;
}

void rt_bandit_update(rt_bandit *b, int arm, double reward, long long work)
{
    if (arm < 0 || arm >= b->narms)
        return;
    for (int k = 0; k < b->narms; k++) {
        b->arms[k].n *= b->discount;
        b->arms[k].reward *= b->discount;
        b->arms[k].cost *= b->discount;
    }
    rt_bandit_arm *a = &b->arms[arm];
    a->n += 1;
    a->reward += reward;
    a->cost += (double)(work > 0 ? work : 0) + 1;
    a->pulls++;
    a->wins += reward > 0;
}

int rt_bandit_save(const rt_bandit *b, rt_buf *out)
{
    double probs[RT_BANDIT_MAX_ARMS];
    rt_bandit_probs(b, probs);
    int rc = rt_buf_printf(out, "{\"enabled\":%s,\"step_sum\":%.17g,\"step_n\":%.17g,\"arms\":[",
                           b->enabled ? "true" : "false", b->step_sum, b->step_n);
    for (int k = 0; !rc && k < b->narms; k++) {
        const rt_bandit_arm *a = &b->arms[k];
        rc = rt_buf_printf(out,
                           "%s{\"op\":\"%s\",\"prior\":%.17g,\"n\":%.17g,\"reward\":%.17g,"
                           "\"cost\":%.17g,\"pulls\":%lld,\"wins\":%lld,\"p\":%.6f}",
                           k ? "," : "", a->name, a->prior, a->n, a->reward, a->cost, a->pulls,
                           a->wins, probs[k]);
    }
    return rc ? rc : rt_buf_puts(out, "]}");
}

static int get_num(json_t *o, const char *key, double lo, double *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        return -1;
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > 1e300)
        return -1;
    *out = x;
    return 0;
}

int rt_bandit_load(rt_bandit *b, const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    int rc = RT_ESTORE;
    rt_bandit tmp = *b;
    json_t *arms = json_is_object(root) ? json_object_get(root, "arms") : NULL;
    if (!json_is_array(arms)) {
        rt_fail(err, errlen, RT_ESTORE, "bandit state is not an object with arms");
        goto done;
    }
    /* absent in the states of runs made before sized rewards: no step recorded */
    if ((json_object_get(root, "step_sum") && get_num(root, "step_sum", 0, &tmp.step_sum)) ||
        (json_object_get(root, "step_n") && get_num(root, "step_n", 0, &tmp.step_n))) {
        rt_fail(err, errlen, RT_ESTORE, "bandit state's steps are malformed");
        goto done;
    }
    size_t i;
    json_t *a;
    json_array_foreach(arms, i, a) {
        const char *name = json_string_value(json_object_get(a, "op"));
        int k = 0;
        while (name && k < tmp.narms && strcmp(tmp.arms[k].name, name) != 0)
            k++;
        if (!name || k == tmp.narms) {
            rt_fail(err, errlen, RT_ESTORE, "bandit state names an unknown operator");
            goto done;
        }
        double pulls, wins;
        rt_bandit_arm *arm = &tmp.arms[k];
        if (get_num(a, "n", 0, &arm->n) || get_num(a, "reward", 0, &arm->reward) ||
            get_num(a, "cost", 0, &arm->cost) || get_num(a, "pulls", 0, &pulls) ||
            get_num(a, "wins", 0, &wins) || pulls > 1e18 || wins > pulls) {
            rt_fail(err, errlen, RT_ESTORE, "bandit state of operator %s is malformed",
                    arm->name);
            goto done;
        }
        arm->pulls = (long long)pulls;
        arm->wins = (long long)wins;
    }
    *b = tmp;
    rc = 0;
done:
    json_decref(root);
    return rc;
}
