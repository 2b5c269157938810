/* fuzz_proposer_opts.c — libFuzzer harness for the proposer options a store holds
 * (src/proposer_opts.c): the stored text is untrusted bytes (a damaged or forged store).
 *
 * Whatever the input, rt_proposer_opts_merge returns 0 or a negative code with a message and
 * leaves nothing behind on failure; on success every pair respects the caps, the pairs written
 * back to JSON read back to the same pairs, and a key given on top replaces every stored value
 * of it. Any other outcome calls abort() so that libFuzzer records the input.
 *
 * Build: see `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proposer_opts.h"
#include "ratchet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks a successful merge's pairs against the caps, and that none has key given. */
static void check_pairs(const rt_proposer_opts *o, const char *given)
{
    if (o->n > RT_PROPOSER_MAX_OPTS)
        abort();
    size_t with_given = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (!o->keys[i] || !o->values[i] || strlen(o->keys[i]) >= RT_PROPOSER_MAX_OPT_LEN ||
            strlen(o->values[i]) >= RT_PROPOSER_MAX_OPT_LEN)
            abort();
        with_given += given && strcmp(o->keys[i], given) == 0;
    }
    if (given && with_given != 1) /* exactly the one given, the stored ones replaced */
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *keys[] = {"url"}, *values[] = {"http://127.0.0.1:8080/v1"};
    for (int give = 0; give < 2; give++) {
        rt_proposer_opts o = {0};
        char err[256] = "";
        int rc = rt_proposer_opts_merge(&o, text, keys, values, (size_t)give, err, sizeof err);
        if (rc) {
            if (rc >= 0 || !err[0] || o.n != 0)
                abort();
            continue;
        }
        check_pairs(&o, give ? "url" : NULL);
        rt_buf js;
        rt_buf_init(&js, 0);
        if (rt_proposer_opts_json(&o, &js) == 0) {
            rt_proposer_opts back = {0};
            if (rt_proposer_opts_merge(&back, rt_buf_cstr(&js), NULL, NULL, 0, err, sizeof err) ||
                back.n != o.n)
                abort();
            for (size_t i = 0; i < o.n; i++)
                if (strcmp(back.keys[i], o.keys[i]) || strcmp(back.values[i], o.values[i]))
                    abort();
            rt_proposer_opts_free(&back);
        }
        rt_buf_free(&js);
        rt_proposer_opts_free(&o);
    }
    free(text);
    return 0;
}
