/* chain.c — the lineage chain's link: a SHA-256 over a canonical serialization of a candidate
 * row and the link of the row before it. The store computes it on insert; the audit recomputes
 * it from the columns read back. Both go through rt_chain_link, so the bytes hashed are defined in
 * one place (and spelled out in docs/verification.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store/chain.h"

/* Appends " x" for a real as SQLite gives it back: NaN (stored as NULL) and absent values print
 * "-"; -0.0 prints as 0 (SQLite may keep an integral real as an integer and lose its sign). */
static int put_real(rt_buf *b, int present, double x)
{
    if (!present || isnan(x))
        return rt_buf_puts(b, " -");
    return rt_buf_printf(b, " %.17g", x + 0.0);
}

int rt_chain_link(const char *prev, const rt_cand_row *r, char link[65])
{
    rt_buf b;
    rt_buf_init(&b, 0);
    const char *reason = r->reason ? r->reason : "";
    int rc = rt_buf_printf(&b, "%s\nprev %s\nhash %s\nparent %s\noperator %s\nisland %d\n"
                               "generation %lld\nproxy",
                           RT_CHAIN_TAG, prev ? prev : "-", r->hash, r->parent ? r->parent : "-",
                           r->op ? r->op : "-", r->island, r->generation);
    rc = rc ? rc : put_real(&b, 1, r->proxy.primary);
    rc = rc ? rc : put_real(&b, 1, r->proxy.secondary);
    rc = rc ? rc : rt_buf_printf(&b, "\nvalid %d\nscore", r->valid ? 1 : 0);
    rc = rc ? rc : put_real(&b, r->valid, r->verified.primary);
    rc = rc ? rc : put_real(&b, r->valid, r->verified.secondary);
    rc = rc ? rc : rt_buf_puts(&b, "\nmetric");
    rc = rc ? rc : put_real(&b, r->valid, r->metric);
    rc = rc ? rc : rt_buf_printf(&b, "\nadmitted %d\ntrusted %d\ntime", r->admitted ? 1 : 0,
                                 r->trusted ? 1 : 0);
    rc = rc ? rc : put_real(&b, 1, r->time);
    rc = rc ? rc : rt_buf_printf(&b, "\nreason %zu:", strlen(reason));
    rc = rc ? rc : rt_buf_append(&b, reason, strlen(reason));
    if (!rc)
        rt_sha256_hex(b.data, b.len, link);
    rt_buf_free(&b);
    return rc ? RT_ENOMEM : 0;
}
