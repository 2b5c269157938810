/* drift.c — the drift section of `ratchet status`: proxy against verdict, overall and per
 * tenth of the run, and the --trust-proxy warning. */
#include <stdio.h>

#include "tool.h"

static double share(long long part, long long whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

void drift_print(const rt_drift *d)
{
    if (d->trusted_sessions > 0)
        printf("WARNING      %d session%s ran with --trust-proxy: %lld candidates admitted on the "
               "proxy alone, %lld admitted candidates fail verification\n",
               d->trusted_sessions, d->trusted_sessions == 1 ? "" : "s", d->trusted_admitted,
               d->invalid_admitted);
    if (d->trusted_sessions > 0 && d->has_claimed_best)
        printf("WARNING      the run's own best (by the score it was admitted with) has proxy "
               "score %g and %s verification\n",
               d->claimed_best_proxy, d->claimed_best_valid ? "passes" : "FAILS");
    printf("drift        %lld of %lld candidates (%.1f%%) overclaimed: %lld failed verification, "
           "%lld verified below the proxy's score (mean gap %.3g, max %.3g), %lld only on the "
           "tie-break score; %lld rejected by the proxy itself\n",
           d->overclaims, d->candidates, share(d->overclaims, d->candidates), d->false_passes,
           d->score_overclaims, d->mean_gap, d->max_gap, d->tie_overclaims, d->proxy_rejected);
    if (d->nbuckets > 1) {
        printf("drift/tenth ");
        for (int b = 0; b < d->nbuckets; b++)
            printf(" %.0f%%", share(d->buckets[b].overclaims, d->buckets[b].candidates));
        printf("  (overclaimed share per tenth of the generations)\n");
    }
}

json_t *drift_json(const rt_drift *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "candidates", json_integer(d->candidates));
    json_object_set_new(o, "overclaims", json_integer(d->overclaims));
    json_object_set_new(o, "overclaim_share", json_real(share(d->overclaims, d->candidates) / 100));
    json_object_set_new(o, "false_passes", json_integer(d->false_passes));
    json_object_set_new(o, "score_overclaims", json_integer(d->score_overclaims));
    json_object_set_new(o, "tie_overclaims", json_integer(d->tie_overclaims));
    json_object_set_new(o, "mean_gap", json_real(d->mean_gap));
    json_object_set_new(o, "max_gap", json_real(d->max_gap));
    json_object_set_new(o, "proxy_rejected", json_integer(d->proxy_rejected));
    json_object_set_new(o, "trusted_sessions", json_integer(d->trusted_sessions));
    json_object_set_new(o, "trusted_admitted", json_integer(d->trusted_admitted));
    json_object_set_new(o, "invalid_admitted", json_integer(d->invalid_admitted));
    if (d->has_claimed_best)
        json_object_set_new(o, "claimed_best",
                            json_pack("{s:s,s:f,s:b}", "hash", d->claimed_best_hash, "proxy",
                                      d->claimed_best_proxy, "valid", d->claimed_best_valid));
    json_t *arr = json_array();
    for (int b = 0; b < d->nbuckets; b++) {
        const rt_drift_bucket *k = &d->buckets[b];
        json_t *e = json_object();
        json_object_set_new(e, "generations",
                            json_pack("[I,I]", (json_int_t)k->generation_from,
                                      (json_int_t)k->generation_to));
        json_object_set_new(e, "candidates", json_integer(k->candidates));
        json_object_set_new(e, "overclaims", json_integer(k->overclaims));
        json_object_set_new(e, "false_passes", json_integer(k->false_passes));
        json_object_set_new(e, "mean_gap", json_real(k->mean_gap));
        json_object_set_new(e, "max_gap", json_real(k->max_gap));
        json_array_append_new(arr, e);
    }
    json_object_set_new(o, "tenths", arr);
    return o;
}
