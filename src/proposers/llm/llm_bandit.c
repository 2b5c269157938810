/* llm_bandit.c — which model answers the next request: UCB1 on the rate of verified
 * improvements, divided by the model's relative token cost (see llm.h). */
#include <math.h>
#include <string.h>

#include "proposers/llm/llm.h"

void rt_llm_bandit_init(rt_llm_bandit *b, int nmodels, double c)
{
    memset(b, 0, sizeof *b);
    b->n = nmodels < 1 ? 1 : nmodels > RT_LLM_MAX_MODELS ? RT_LLM_MAX_MODELS : nmodels;
    b->c = c >= 0 ? c : 0;
}

int rt_llm_bandit_pick(rt_llm_bandit *b)
{
    long long total = 0;
    double all_tokens = 0;
    for (int m = 0; m < b->n; m++) {
        if (b->pulls[m] == 0) {
            b->pulls[m]++;
            return m;
        }
        total += b->pulls[m];
        all_tokens += b->tokens[m];
    }
    double mean_all = all_tokens / (double)total;
    int best = 0;
    double best_index = -1;
    for (int m = 0; m < b->n; m++) {
        double n = (double)b->pulls[m];
        double index = b->reward[m] / n + b->c * sqrt(log((double)total) / n);
        double mean_tokens = b->tokens[m] / n;
        if (mean_all > 0 && mean_tokens > 0)
            index /= mean_tokens / mean_all;
        if (index > best_index) {
            best_index = index;
            best = m;
        }
    }
    b->pulls[best]++;
    return best;
}

void rt_llm_bandit_update(rt_llm_bandit *b, int model, double reward, double tokens)
{
    if (model < 0 || model >= b->n)
        return;
    b->reward[model] += reward < 0 ? 0 : reward > 1 ? 1 : reward;
    b->tokens[model] += tokens > 0 ? tokens : 0;
}
