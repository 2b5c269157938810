/* bp_poser.c — posers: parse, print, generate, check, mutate (bp_poser.h). */
#include "problems/binpack/bp_poser.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems/binpack/bp_check.h"
#include "problems/binpack/bp_sim.h"
#include "util.h"

static const char *const dist_names[] = {"uniform", "weibull", "normal", "set", "exact"};
static const char *const order_names[] = {"random", "ascending", "descending", "interleaved"};

/* ---- parsing ------------------------------------------------------------------------------ */

typedef struct sp_line {
    char *tok[12];
    int n;
} sp_line;

static int split(char *line, sp_line *out)
{
    out->n = 0;
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    for (char *p = line; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (!*p)
            break;
        if (out->n == 12)
            return -1;
        out->tok[out->n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
        if (*p)
            *p++ = '\0';
    }
    return 0;
}

static int num(const char *s, double lo, double hi, int integer, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (!*s || *end || !isfinite(v) || v < lo || v > hi || (integer && v != floor(v)))
        return -1;
    *out = v;
    return 0;
}

static int parse_mix(const sp_line *l, int cap, bp_mix *m)
{
    double w, a = 0, b = 0;
    if (l->n < 3 || num(l->tok[1], 1, 9, 1, &w))
        return -1;
    memset(m, 0, sizeof *m);
    m->weight = (int)w;
    m->kind = -1;
    for (int k = 0; k < 5; k++)
        if (strcmp(l->tok[2], dist_names[k]) == 0)
            m->kind = k;
    int args = l->n - 3;
    switch (m->kind) {
    case BP_D_UNIFORM:
        if (args != 2 || num(l->tok[3], 1, cap, 1, &a) || num(l->tok[4], a, cap, 1, &b))
            return -1;
        break;
    case BP_D_WEIBULL:
        if (args != 2 || num(l->tok[3], 0.01, cap, 0, &a) || num(l->tok[4], 0.5, 10, 0, &b))
            return -1;
        break;
    case BP_D_NORMAL:
        if (args != 2 || num(l->tok[3], 1, cap, 0, &a) || num(l->tok[4], 0.01, cap, 0, &b))
            return -1;
        break;
    case BP_D_SET:
        if (args < 1 || args > BP_POSER_MAX_SET)
            return -1;
        for (int i = 0; i < args; i++) {
            if (num(l->tok[3 + i], 1, cap, 1, &a))
                return -1;
            m->set[i] = (int)a;
        }
        m->nset = args;
        a = 0;
        break;
    case BP_D_EXACT:
        if (args != 1 || num(l->tok[3], 2, cap < 6 ? cap : 6, 1, &a))
            return -1;
        break;
    default:
        return -1;
    }
    m->a = a;
    m->b = b;
    return 0;
}

/* The directives in their canonical order; each once, mix 1..6 times. */
static int parse_line(sp_line *l, int *stage, bp_spec *s)
{
    const char *kw = l->tok[0];
    double v;
    if (*stage == 0)
        return strcmp(kw, "poser") == 0 && l->n == 1 ? (*stage = 1, 0) : -1;
    if (*stage == 1 && strcmp(kw, "capacity") == 0 && l->n == 2 &&
        !num(l->tok[1], BP_POSER_MIN_CAPACITY, BP_POSER_MAX_CAPACITY, 1, &v))
        return s->capacity = (int)v, *stage = 2, 0;
    if (*stage == 2 && strcmp(kw, "items") == 0 && l->n == 2 &&
        !num(l->tok[1], BP_POSER_MIN_ITEMS, BP_POSER_MAX_ITEMS, 1, &v))
        return s->items = (int)v, *stage = 3, 0;
    if ((*stage == 3 || *stage == 4) && strcmp(kw, "mix") == 0 && s->nmix < BP_POSER_MAX_MIX &&
        !parse_mix(l, s->capacity, &s->mix[s->nmix]))
        return s->nmix++, *stage = 4, 0;
    if (*stage == 4 && strcmp(kw, "order") == 0 && l->n == 2) {
        for (int k = 0; k < 4; k++)
            if (strcmp(l->tok[1], order_names[k]) == 0)
                return s->order = k, *stage = 5, 0;
        return -1;
    }
    if (*stage == 5 && strcmp(kw, "seed") == 0 && l->n == 2 &&
        !num(l->tok[1], 0, 2147483647.0, 1, &v))
        return s->seed = (uint32_t)v, *stage = 6, 0;
    return -1;
}

int bp_spec_parse(const char *text, size_t len, bp_spec *out, char *err, size_t errlen)
{
    static const char *const expect[] = {"poser",      "capacity 10..1000", "items 20..2000",
                                         "mix W DIST ARGS", "mix or order", "seed", "nothing"};
    if (len > BP_POSER_MAX_TEXT)
        return rt_fail(err, errlen, RT_ETOOBIG, "poser longer than %d bytes", BP_POSER_MAX_TEXT);
    if (memchr(text, '\0', len))
        return rt_fail(err, errlen, RT_EUSAGE, "poser contains a NUL byte");
    memset(out, 0, sizeof *out);
    char buf[BP_POSER_MAX_TEXT + 1];
    memcpy(buf, text, len);
    buf[len] = '\0';
    int stage = 0, lineno = 0;
    for (char *line = buf, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        sp_line l;
        if (split(line, &l))
            return rt_fail(err, errlen, RT_EUSAGE, "poser line %d: too many words", lineno);
        if (l.n && parse_line(&l, &stage, out))
            return rt_fail(err, errlen, RT_EUSAGE, "poser line %d: expected %s (docs/"
                           "coevolution.md)", lineno, expect[stage]);
    }
    if (stage != 6)
        return rt_fail(err, errlen, RT_EUSAGE, "poser ends early: expected %s", expect[stage]);
    return 0;
}

/* ---- printing ----------------------------------------------------------------------------- */

int bp_spec_print(const bp_spec *s, rt_buf *out)
{
    int rc = rt_buf_printf(out, "poser\ncapacity %d\nitems %d\n", s->capacity, s->items);
    for (int i = 0; !rc && i < s->nmix; i++) {
        const bp_mix *m = &s->mix[i];
        char a[40], b[40];
        rt_format_real(m->a, a, sizeof a);
        rt_format_real(m->b, b, sizeof b);
        rc = rt_buf_printf(out, "mix %d %s", m->weight, dist_names[m->kind]);
        if (!rc && m->kind == BP_D_SET)
            for (int k = 0; !rc && k < m->nset; k++)
                rc = rt_buf_printf(out, " %d", m->set[k]);
        else if (!rc && m->kind == BP_D_EXACT)
            rc = rt_buf_printf(out, " %s", a);
        else if (!rc)
            rc = rt_buf_printf(out, " %s %s", a, b);
        if (!rc)
            rc = rt_buf_puts(out, "\n");
    }
    if (!rc)
        rc = rt_buf_printf(out, "order %s\nseed %u\n", order_names[s->order], s->seed);
    return rc;
}

/* ---- generation --------------------------------------------------------------------------- */

static int clip(double x, int cap)
{
    double r = nearbyint(x);
    if (!(r >= 1))
        return 1;
    return r > cap ? cap : (int)r;
}

static double gauss(rt_rng *rng)
{
    double u1 = rt_rng_unit(rng), u2 = rt_rng_unit(rng);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* A group of k sizes summing to cap: the gaps between k-1 distinct cut points. */
static int exact_group(rt_rng *rng, int cap, int k, int *out)
{
    int cut[8];
    int n = 0;
    while (n < k - 1) {
        int c = 1 + (int)rt_rng_below(rng, (uint32_t)(cap - 1));
        int dup = 0;
        for (int i = 0; i < n; i++)
            dup |= cut[i] == c;
        if (!dup)
            cut[n++] = c;
    }
    qsort(cut, (size_t)n, sizeof *cut, cmp_int);
    int prev = 0;
    for (int i = 0; i < n; i++) {
        out[i] = cut[i] - prev;
        prev = cut[i];
    }
    out[n] = cap - prev;
    return k;
}

static int sample(const bp_mix *m, int cap, rt_rng *rng, int *out)
{
    switch (m->kind) {
    case BP_D_UNIFORM:
        out[0] = (int)m->a + (int)rt_rng_below(rng, (uint32_t)(m->b - m->a + 1));
        return 1;
    case BP_D_WEIBULL:
        out[0] = clip(m->a * pow(-log1p(-rt_rng_unit(rng)), 1.0 / m->b), cap);
        return 1;
    case BP_D_NORMAL:
        out[0] = clip(m->a + m->b * gauss(rng), cap);
        return 1;
    case BP_D_SET:
        out[0] = m->set[rt_rng_below(rng, (uint32_t)m->nset)];
        return 1;
    default:
        return exact_group(rng, cap, (int)m->a, out);
    }
}

static void arrange(int *items, int n, int order, rt_rng *rng)
{
    if (order == BP_O_RANDOM) {
        for (int i = n - 1; i > 0; i--) {
            int j = (int)rt_rng_below(rng, (uint32_t)(i + 1)), t = items[i];
            items[i] = items[j];
            items[j] = t;
        }
        return;
    }
    qsort(items, (size_t)n, sizeof *items, cmp_int);
    if (order == BP_O_DESCENDING) {
        for (int i = 0; i < n / 2; i++) {
            int t = items[i];
            items[i] = items[n - 1 - i];
            items[n - 1 - i] = t;
        }
    } else if (order == BP_O_INTERLEAVED) { /* largest, smallest, next largest, ... */
        int *sorted = malloc((size_t)n * sizeof *sorted);
        if (!sorted)
            return;
        memcpy(sorted, items, (size_t)n * sizeof *sorted);
        for (int i = 0, lo = 0, hi = n - 1; i < n; i++)
            items[i] = i % 2 == 0 ? sorted[hi--] : sorted[lo++];
        free(sorted);
    }
}

int bp_spec_generate(const bp_spec *s, bp_instance *out)
{
    memset(out, 0, sizeof *out);
    int *items = malloc((size_t)s->items * sizeof *items);
    if (!items)
        return RT_ENOMEM;
    rt_rng rng;
    rt_rng_seed(&rng, s->seed, 0x706f736572ULL);
    int total = 0;
    for (int i = 0; i < s->nmix; i++)
        total += s->mix[i].weight;
    for (int n = 0; n < s->items;) {
        int pick = (int)rt_rng_below(&rng, (uint32_t)total), k = 0;
        while (pick >= s->mix[k].weight)
            pick -= s->mix[k++].weight;
        int group[8];
        int got = sample(&s->mix[k], s->capacity, &rng, group);
        for (int j = 0; j < got && n < s->items; j++)
            items[n++] = group[j];
    }
    arrange(items, s->items, s->order, &rng);
    snprintf(out->name, sizeof out->name, "poser_%u", s->seed);
    out->capacity = s->capacity;
    out->n = s->items;
    out->items = items;
    return 0;
}

/* ---- checking ----------------------------------------------------------------------------- */

long long bp_lower_bound(const bp_instance *in)
{
    const int c = in->capacity;
    long long *cnt = calloc((size_t)c + 2, sizeof *cnt), *sum = calloc((size_t)c + 2, sizeof *sum);
    long long best = bp_l1(in);
    if (!cnt || !sum)
        goto done;
    for (int i = 0; i < in->n; i++) /* prefix tables over sizes 0..c */
        cnt[in->items[i]]++, sum[in->items[i]] += in->items[i];
    for (int v = 1; v <= c; v++)
        cnt[v] += cnt[v - 1], sum[v] += sum[v - 1];
    for (int k = 0; k <= c / 2; k++) {
        /* N1: s > c-k; N2: c/2 < s <= c-k; N3: k <= s <= c/2 */
        long long n1 = cnt[c] - cnt[c - k];
        long long n2 = cnt[c - k] - cnt[c / 2], s2 = sum[c - k] - sum[c / 2];
        long long s3 = sum[c / 2] - (k > 0 ? sum[k - 1] : 0);
        long long free2 = n2 * c - s2, extra = s3 - free2;
        long long lb = n1 + n2 + (extra > 0 ? (extra + c - 1) / c : 0);
        if (lb > best)
            best = lb;
    }
done:
    free(cnt);
    free(sum);
    return best;
}

static int cmp_desc_idx(const void *a, const void *b, void *items)
{
    int x = ((const int *)items)[*(const int *)a], y = ((const int *)items)[*(const int *)b];
    return (x < y) - (x > y);
}

long long bp_reference(const bp_instance *in, char *why, size_t whylen)
{
    int n = in->n;
    int *idx = malloc((size_t)n * sizeof *idx), *bin = malloc((size_t)n * sizeof *bin);
    long long *rem = malloc((size_t)n * sizeof *rem), nb = 0;
    bp_packing p = {0};
    p.start = calloc((size_t)n + 2, sizeof *p.start);
    p.items = malloc((size_t)n * sizeof *p.items);
    long long result = -1;
    if (!idx || !bin || !rem || !p.start || !p.items)
        goto done;
    for (int i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, (size_t)n, sizeof *idx, cmp_desc_idx, in->items);
    for (int t = 0; t < n; t++) {
        int i = idx[t], pick = -1;
        for (long long j = 0; j < nb; j++)
            if (rem[j] >= in->items[i] && (pick < 0 || rem[j] < rem[pick]))
                pick = (int)j;
        if (pick < 0)
            rem[pick = (int)nb++] = in->capacity;
        rem[pick] -= in->items[i];
        bin[i] = pick;
    }
    p.nbins = nb;
    for (int i = 0; i < n; i++)
        p.start[bin[i] + 2]++;
    for (long long b = 0; b < nb; b++)
        p.start[b + 2] += p.start[b + 1];
    for (int i = 0; i < n; i++)
        p.items[p.start[bin[i] + 1]++] = i;
    if (bp_check_packing(in, &p, why, whylen) == 0)
        result = nb;
done:
    free(idx);
    free(bin);
    free(rem);
    free(p.start);
    free(p.items);
    return result;
}

static int degenerate(const bp_instance *in)
{
    int distinct = 0, large = 1;
    for (int i = 0; i < in->n; i++) {
        distinct |= in->items[i] != in->items[0];
        large &= 2 * in->items[i] > in->capacity;
    }
    return !distinct || large;
}

int bp_poser_check(const char *text, size_t len, bp_poser_facts *facts, bp_instance *inst,
                   char *err, size_t errlen)
{
    memset(facts, 0, sizeof *facts);
    bp_spec s;
    int rc = bp_spec_parse(text, len, &s, err, errlen);
    if (rc)
        return rc;
    bp_instance in;
    if (bp_spec_generate(&s, &in))
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    for (int i = 0; !rc && i < in.n; i++)
        if (in.items[i] < 1 || in.items[i] > in.capacity)
            rc = rt_fail(err, errlen, RT_EINVALID, "item %d has size %d outside 1..%d", i,
                         in.items[i], in.capacity);
    char why[200] = "out of memory";
    if (!rc && (facts->reference = bp_reference(&in, why, sizeof why)) < 0)
        rc = rt_fail(err, errlen, RT_EINVALID, "the reference packing: %s", why);
    if (!rc) {
        facts->l1 = bp_l1(&in);
        facts->lower = bp_lower_bound(&in);
        facts->optimal = facts->reference == facts->lower;
        facts->best_fit = bp_best_fit(&in);
        facts->degenerate = degenerate(&in);
        if (facts->lower > facts->reference || facts->best_fit < facts->lower)
            rc = rt_fail(err, errlen, RT_EINVALID, "a packing of %lld bins under the lower "
                         "bound %lld", facts->reference, facts->lower);
    }
    if (!rc && inst)
        *inst = in;
    else
        free(in.items);
    return rc;
}

void bp_spec_descriptor(const bp_instance *in, int order, double d[4])
{
    double sum = 0, sq = 0, large = 0;
    for (int i = 0; i < in->n; i++) {
        double x = (double)in->items[i] / in->capacity;
        sum += x;
        sq += x * x;
        large += 2 * in->items[i] > in->capacity;
    }
    double mean = sum / in->n;
    d[0] = mean;
    d[1] = sqrt(fmax(0, sq / in->n - mean * mean));
    d[2] = large / in->n;
    d[3] = order / 3.0;
}

/* ---- random specs and mutation -------------------------------------------------------------- */

static void random_mix(bp_mix *m, int cap, rt_rng *rng)
{
    memset(m, 0, sizeof *m);
    m->weight = 1 + (int)rt_rng_below(rng, 3);
    m->kind = (int)rt_rng_below(rng, 5);
    int lo = 1 + (int)rt_rng_below(rng, (uint32_t)cap);
    int hi = 1 + (int)rt_rng_below(rng, (uint32_t)cap);
    if (lo > hi) {
        int t = lo;
        lo = hi;
        hi = t;
    }
    switch (m->kind) {
    case BP_D_UNIFORM: m->a = lo, m->b = hi; break;
    case BP_D_WEIBULL: m->a = hi, m->b = 1 + (int)rt_rng_below(rng, 5); break;
    case BP_D_NORMAL: m->a = hi, m->b = 1 + (int)rt_rng_below(rng, (uint32_t)(cap / 4 + 1)); break;
    case BP_D_SET:
        m->nset = 1 + (int)rt_rng_below(rng, 4);
        for (int i = 0; i < m->nset; i++)
            m->set[i] = 1 + (int)rt_rng_below(rng, (uint32_t)cap);
        break;
    default: m->a = 2 + (int)rt_rng_below(rng, 4); break;
    }
}

void bp_spec_random(bp_spec *s, rt_rng *rng)
{
    memset(s, 0, sizeof *s);
    s->capacity = 50 + 10 * (int)rt_rng_below(rng, 16);
    s->items = 200 + 50 * (int)rt_rng_below(rng, 9);
    s->nmix = 1 + (int)rt_rng_below(rng, 2);
    for (int i = 0; i < s->nmix; i++)
        random_mix(&s->mix[i], s->capacity, rng);
    s->order = rt_rng_below(rng, 3) ? BP_O_RANDOM : (int)rt_rng_below(rng, 4);
    s->seed = (uint32_t)rt_rng_below(rng, 2147483647u);
}

/* Moves a number by a relative step, rounded, within [lo, hi]. */
static double nudge(double v, double lo, double hi, int integer, rt_rng *rng)
{
    double nv = v * exp(0.25 * gauss(rng)) + (rt_rng_below(rng, 2) ? 1 : -1);
    nv = integer ? nearbyint(nv) : nearbyint(nv * 100) / 100;
    return nv < lo ? lo : nv > hi ? hi : nv;
}

static void mutate_mix(bp_mix *m, int cap, rt_rng *rng)
{
    switch (m->kind) {
    case BP_D_UNIFORM:
        m->a = nudge(m->a, 1, cap, 1, rng);
        m->b = nudge(m->b, m->a, cap, 1, rng);
        break;
    case BP_D_WEIBULL:
        m->a = nudge(m->a, 0.01, cap, 0, rng);
        m->b = nudge(m->b, 0.5, 10, 0, rng);
        break;
    case BP_D_NORMAL:
        m->a = nudge(m->a, 1, cap, 0, rng);
        m->b = nudge(m->b, 0.01, cap, 0, rng);
        break;
    case BP_D_SET: {
        int i = (int)rt_rng_below(rng, (uint32_t)m->nset);
        m->set[i] = (int)nudge(m->set[i], 1, cap, 1, rng);
        break;
    }
    default:
        m->a = 2 + (int)rt_rng_below(rng, (uint32_t)(cap < 6 ? cap - 1 : 5));
        break;
    }
}

int bp_spec_mutate(bp_spec *s, rt_rng *rng)
{
    bp_spec before = *s;
    switch (rt_rng_below(rng, 7)) {
    case 0: /* capacity: the mixtures are rescaled with it */
        s->capacity = (int)nudge(s->capacity, BP_POSER_MIN_CAPACITY, BP_POSER_MAX_CAPACITY, 1, rng);
        for (int i = 0; i < s->nmix; i++)
            if (s->mix[i].kind != BP_D_EXACT)
                random_mix(&s->mix[i], s->capacity, rng);
        break;
    case 1: s->items = (int)nudge(s->items, BP_POSER_MIN_ITEMS, BP_POSER_MAX_ITEMS, 1, rng); break;
    case 2:
        if (s->nmix < BP_POSER_MAX_MIX)
            random_mix(&s->mix[s->nmix++], s->capacity, rng);
        break;
    case 3:
        if (s->nmix > 1) {
            int drop = (int)rt_rng_below(rng, (uint32_t)s->nmix);
            s->nmix--;
            s->mix[drop] = s->mix[s->nmix];
        }
        break;
    case 4: s->order = (int)rt_rng_below(rng, 4); break;
    case 5: s->seed = (uint32_t)rt_rng_below(rng, 2147483647u); break;
    default: {
        bp_mix *m = &s->mix[rt_rng_below(rng, (uint32_t)s->nmix)];
        if (rt_rng_below(rng, 4) == 0)
            m->weight = 1 + (int)rt_rng_below(rng, 9);
        else
            mutate_mix(m, s->capacity, rng);
    }
    }
    rt_buf a, b;
    rt_buf_init(&a, 0);
    rt_buf_init(&b, 0);
    int same = bp_spec_print(&before, &a) == 0 && bp_spec_print(s, &b) == 0 && a.len == b.len &&
               memcmp(a.data, b.data, a.len) == 0;
    rt_buf_free(&a);
    rt_buf_free(&b);
    return same ? -1 : 0;
}
