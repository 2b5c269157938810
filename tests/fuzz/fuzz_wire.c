/* fuzz_wire.c — libFuzzer harness for the MPI messages (src/mpi/wire.c): rank 0 reads a worker's
 * reply and a worker reads rank 0's job, both from another process (any bytes).
 *
 * Whatever the input, each decoder returns 0 or RT_EUSAGE with a message (RT_ENOMEM aside); a
 * message it accepts writes back and reads back to the same fields. Any other outcome calls
 * abort() so that libFuzzer records the input.
 *
 * Build: see `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/wire.h"
#include "ratchet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reply_round_trip(const rt_wire_reply *r)
{
    rt_buf b;
    rt_buf_init(&b, 0);
    if (rt_wire_reply_encode(r, &b) != 0) {
        rt_buf_free(&b);
        return; /* a child that is not UTF-8 is refused, not sent */
    }
    rt_wire_reply g;
    char err[256];
    if (rt_wire_reply_decode(b.data, b.len, &g, err, sizeof err) != 0 || g.len != r->len ||
        (g.child == NULL) != (r->child == NULL) || (g.child && memcmp(g.child, r->child, g.len)) ||
        g.work != r->work || memcmp(&g.rng, &r->rng, sizeof g.rng) || g.rc != r->rc)
        abort();
    rt_wire_reply_free(&g);
    rt_buf_free(&b);
}

static void job_round_trip(const rt_wire_job *j)
{
    rt_buf b;
    rt_buf_init(&b, 0);
    if (rt_wire_job_encode(j, &b) != 0)
        abort(); /* its texts were decoded from JSON: UTF-8 */
    rt_wire_job g;
    char err[256];
    if (rt_wire_job_decode(b.data, b.len, &g, err, sizeof err) != 0 || g.nviews != j->nviews ||
        g.island != j->island || g.op_index != j->op_index ||
        memcmp(&g.rng, &j->rng, sizeof g.rng))
        abort();
    for (size_t k = 0; k < g.nviews; k++)
        if (g.views[k].len != j->views[k].len ||
            memcmp(g.views[k].text, j->views[k].text, g.views[k].len))
            abort();
    rt_wire_job_free(&g);
    rt_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    rt_wire_reply r;
    int rc = rt_wire_reply_decode((const char *)data, size, &r, err, sizeof err);
    if (rc == 0) {
        reply_round_trip(&r);
        rt_wire_reply_free(&r);
    } else if (rc != RT_EUSAGE || !err[0]) {
        abort();
    }
    rt_wire_job j;
    err[0] = '\0';
    rc = rt_wire_job_decode((const char *)data, size, &j, err, sizeof err);
    if (rc == 0) {
        job_round_trip(&j);
        rt_wire_job_free(&j);
    } else if (rc != RT_EUSAGE || !err[0]) {
        abort();
    }
    return 0;
}
