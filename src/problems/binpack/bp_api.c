/* bp_api.c — the public binpack functions behind `ratchet gen` and `ratchet eval` (ratchet.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems/binpack/binpack.h"
#include "problems/binpack/bp_check.h"

const char *bp_named_solver(const char *name)
{
    if (strcmp(name, "bestfit") == 0)
        return "(neg f)";
    if (strcmp(name, "firstfit") == 0)
        return "0";
    return NULL;
}

static int set_err(rt_error *err, int code, const char *msg)
{
    err->code = code;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return code;
}

int rt_binpack_generate(const char *family, int items, int count, uint64_t seed, char **json,
                        rt_error *err)
{
    *json = NULL;
    char msg[512];
    bp_set set;
    if (family && strcmp(family, "uniform") == 0)
        return set_err(err, RT_EUSAGE, "unknown family 'uniform' here: expected or or weibull");
    int rc = bp_generate(&set, family ? family : "", items, count, seed, 0, 0, 0, msg,
                         sizeof msg);
    if (rc)
        return set_err(err, rc, msg);
    rt_buf out;
    rt_buf_init(&out, (size_t)1 << 30);
    rc = bp_write_json(&set, &out);
    bp_set_free(&set);
    if (rc) {
        rt_buf_free(&out);
        return set_err(err, rc, "out of memory");
    }
    *json = rt_buf_take(&out);
    return 0;
}

/* Appends one instance's bins to the packing JSON. */
static int packing_json(rt_buf *out, const bp_instance *in, const bp_packing *p, int first)
{
    int rc = rt_buf_puts(out, first ? "\n " : ",\n ");
    if (!rc)
        rc = bp_json_quote(in->name, out);
    if (!rc)
        rc = rt_buf_puts(out, ": [");
    for (long long b = 0; !rc && b < p->nbins; b++) {
        rc = rt_buf_puts(out, b ? ", [" : "[");
        for (long long j = p->start[b]; !rc && j < p->start[b + 1]; j++)
            rc = rt_buf_printf(out, j > p->start[b] ? ", %d" : "%d", p->items[j]);
        if (!rc)
            rc = rt_buf_puts(out, "]");
    }
    return rc ? rc : rt_buf_puts(out, "]");
}

/* Packs and checks every instance; fills rows[0..n) and the total row rows[n]. */
static int evaluate_set(const bp_ctree *t, const bp_set *set, rt_binpack_row *rows,
                        rt_buf *pack, rt_error *err)
{
    rt_binpack_row *all = &rows[set->n];
    snprintf(all->name, sizeof all->name, "(all)");
    for (int k = 0; k < set->n; k++) {
        const bp_instance *in = &set->inst[k];
        bp_packing p;
        char why[256];
        int rc = bp_check_pack(t, in, &p, why, sizeof why);
        if (rc) {
            char msg[400];
            snprintf(msg, sizeof msg, "instance '%s': %s", in->name, why);
            return set_err(err, rc, msg);
        }
        rt_binpack_row *row = &rows[k];
        snprintf(row->name, sizeof row->name, "%s", in->name);
        row->items = in->n;
        row->bins = p.nbins;
        row->l1 = bp_l1(in);
        row->excess = bp_excess_percent(row->bins, row->l1);
        all->items += row->items;
        all->bins += row->bins;
        all->l1 += row->l1;
        if (pack && packing_json(pack, in, &p, k == 0)) {
            bp_packing_free(&p);
            return set_err(err, RT_ENOMEM, "out of memory (the packing)");
        }
        bp_packing_free(&p);
    }
    all->excess = bp_excess_percent(all->bins, all->l1);
    return 0;
}

int rt_binpack_evaluate(const char *solver, size_t len, const char *instances_path,
                        rt_binpack_row **rows, size_t *nrows, char **packing, rt_error *err)
{
    *rows = NULL;
    *nrows = 0;
    if (packing)
        *packing = NULL;
    err->code = 0;
    char msg[512];
    bp_set set;
    int rc = bp_read_file(instances_path, &set, msg, sizeof msg);
    if (rc)
        return set_err(err, rc, msg);
    bp_ctree *t = NULL;
    rc = bp_ctree_parse(solver, len, &t, msg, sizeof msg);
    rt_binpack_row *out = rc ? NULL : calloc((size_t)set.n + 1, sizeof *out);
    rt_buf pack;
    rt_buf_init(&pack, (size_t)1 << 30);
    if (rc)
        set_err(err, rc, msg);
    else if (!out)
        rc = set_err(err, RT_ENOMEM, "out of memory");
    else if (packing && rt_buf_puts(&pack, "{"))
        rc = set_err(err, RT_ENOMEM, "out of memory");
    if (!rc)
        rc = evaluate_set(t, &set, out, packing ? &pack : NULL, err);
    if (!rc && packing && rt_buf_puts(&pack, "\n}\n"))
        rc = set_err(err, RT_ENOMEM, "out of memory");
    if (!rc) {
        *rows = out;
        *nrows = (size_t)set.n + 1;
        if (packing)
            *packing = rt_buf_take(&pack);
    } else {
        free(out);
    }
    rt_buf_free(&pack);
    bp_ctree_free(t);
    bp_set_free(&set);
    return rc;
}
