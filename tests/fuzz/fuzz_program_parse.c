/* fuzz_program_parse.c — libFuzzer harness for the program problem's parsers: the evaluator and
 * verifier output parsers, the SEARCH/REPLACE applier (with the rewrite check it implies), the
 * EVOLVE-BLOCK region finder, the annotation parser and mutator, configuration files, and the
 * --features spec with the binning of metrics (split at the first NUL: spec, then metrics).
 * The first byte picks the target; for the applier the rest is split at the first NUL into the
 * program and the reply. Crashes, sanitizer reports and broken invariants (assert) are findings.
 * Built and run by `make fuzz`. */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "problems/program/program_eval.h"
#include "problems/program/program_features.h"
#include "problems/program/program_text.h"
#include "ratchet.h"
#include "rng.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_entry(const char *key, const char *value, int line, void *user)
{
    (void)value;
    assert(line >= 1 && key);
    (*(int *)user)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char err[256];
    switch (data[0] % 6) {
    case 0: {
        rt_eval_output o;
        if (rt_eval_parse(s, n, &o, err, sizeof err) == 0) {
            assert(isfinite(o.score));
            rt_eval_output_free(&o);
        }
        break;
    }
    case 1: {
        rt_verify_output v;
        if (rt_verify_parse(s, n, &v, err, sizeof err) == 0 && v.valid)
            assert(isfinite(v.score));
        break;
    }
    case 2: {
        const char *nul = memchr(s, '\0', n);
        size_t plen = nul ? (size_t)(nul - s) : n / 2;
        const char *reply = s + plen + (nul ? 1 : 0);
        size_t rlen = n - plen - (nul ? 1 : 0);
        rt_buf out;
        rt_buf_init(&out, 0);
        int rc = rt_edit_apply(s, plen, reply, rlen, &out, err, sizeof err);
        if (rc == 0)
            assert(rt_edit_check_rewrite(s, plen, out.data, out.len, err, sizeof err) == 0);
        else
            assert(out.len == 0);
        rt_buf_free(&out);
        break;
    }
    case 3: {
        rt_regions reg;
        if (rt_regions_find(s, n, &reg, err, sizeof err) != 0)
            break;
        rt_annotations anns;
        if (rt_annotations_parse(s, n, &reg, &anns, err, sizeof err) != 0)
            break;
        rt_rng rng;
        rt_rng_seed(&rng, 1, 0);
        rt_buf out;
        rt_buf_init(&out, 0);
        for (size_t k = 0; k < anns.n; k++) {
            assert(anns.a[k].value_at + anns.a[k].value_len <= n);
            rt_annotation_mutate(s, n, &anns.a[k], &rng, &out);
        }
        rt_buf_free(&out);
        rt_annotations_free(&anns);
        break;
    }
    case 4: {
        char spec[256], metrics[1024];
        const char *nul = memchr(s, '\0', n);
        size_t sl = nul ? (size_t)(nul - s) : n;
        size_t ml = n - sl - (nul ? 1 : 0);
        if (sl >= sizeof spec || ml >= sizeof metrics)
            break;
        memcpy(spec, s, sl);
        spec[sl] = '\0';
        memcpy(metrics, s + sl + (nul ? 1 : 0), ml);
        metrics[ml] = '\0';
        rt_feature_spec fs, again;
        if (rt_features_parse(spec, &fs, err, sizeof err) != 0)
            break;
        assert(rt_features_parse(fs.canon, &again, err, sizeof err) == 0);
        assert(strcmp(fs.canon, again.canon) == 0);
        int coords[RT_MAX_FEATURES];
        if (rt_features_coords(&fs, metrics, coords, err, sizeof err) == 0)
            for (int d = 0; d < fs.n; d++)
                assert(coords[d] >= 0 && coords[d] < fs.d[d].bins);
        break;
    }
    default: {
        int count = 0;
        rt_error e;
        rt_config_parse(s, n, "fuzz.ini", count_entry, &count, &e);
        break;
    }
    }
    return 0;
}
