/* fuzz_jail_request.c — libFuzzer harness for the jail's request parser (src/jail.h), which reads
 * records that a hostile evaluator sends to ratchet.
 *
 * The input is cut into records: each starts with one length byte (0..255; the record is that
 * many of the following bytes, or what is left), so any byte string is a sequence of records.
 * Whatever they hold, rt_jail_request_feed returns 0, 1 or a negative code with a message and
 * never reads past a record; a complete request has a command, NUL-terminated arguments, file
 * names without '/', and counts within the caps; after a refusal or the end, nothing more is
 * taken. Anything else calls abort() so that libFuzzer records the input.
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/jail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The broker's side of jail.c runs jails through the sandbox, which the parser does not need. */
int rt_sandbox_run_jail(const rt_sandbox_spec *spec, const int *cancel, rt_sandbox_result *res,
                        char *err, size_t errlen)
{
    (void)spec, (void)cancel, (void)res, (void)err, (void)errlen;
    abort();
}
void rt_sandbox_result_free(rt_sandbox_result *res)
{
    (void)res;
    abort();
}
int rt_sandbox_set_jail_helper(const char *path)
{
    (void)path;
    return 0;
}

static void check(const rt_jail_request *r)
{
    if (r->nargs == 0 || r->nargs > RT_JAIL_MAX_ARGS || r->argv[r->nargs] != NULL)
        abort();
    for (size_t i = 0; i < r->nargs; i++)
        if (strlen(r->argv[i]) > RT_JAIL_MAX_ARG_LEN)
            abort();
    if (r->nfiles > RT_JAIL_MAX_FILES || r->bytes > RT_JAIL_MAX_BYTES)
        abort();
    for (size_t i = 0; i < r->nfiles; i++)
        if (!r->files[i].name[0] || strchr(r->files[i].name, '/'))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_jail_request r;
    memset(&r, 0, sizeof r);
    char err[256];
    int finished = 0;
    for (size_t off = 0; off < size;) {
        size_t len = data[off++];
        if (len > size - off)
            len = size - off;
        err[0] = '\0';
        int rc = rt_jail_request_feed(&r, data + off, len, err, sizeof err);
        off += len;
        if (rc < 0) {
            if (!err[0])
                abort();
            break;
        }
        if (finished && rc >= 0)
            abort(); /* nothing is taken after the end */
        if (rc == 1) {
            check(&r);
            finished = 1;
        }
    }
    rt_jail_request_free(&r);
    return 0;
}
