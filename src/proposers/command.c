/* command.c — the command proposer: runs the user's program (--command) in the sandbox with the
 * JSON prompt (src/prompt.h) on its stdin, and reads on its stdout either SEARCH/REPLACE blocks
 * or a whole new program (rt_program_apply_reply). Only for the `program` problem.
 *
 * A reply that cannot be used (the command failed, timed out, printed nothing, a block that does
 * not apply, a rewrite that touches fixed text) makes no child; the reason is stored as a
 * `rejected` event and the run goes on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problems/program/program.h"
#include "problems/research/research.h"
#include "proposers/prompt.h"
#include "proposer.h"
#include "sandbox/sandbox.h"

typedef struct command_state {
    rt_program_info info;
} command_state;

static int command_create(void **state, const rt_problem *problem, char *err, size_t errlen)
{
    command_state *st = calloc(1, sizeof *st);
    if (!st)
        return rt_fail(err, errlen, RT_ENOMEM, "out of memory");
    if (rt_program_info_get(problem, &st->info) != 0 &&
        rt_research_program_info(problem, &st->info) != 0) {
        free(st);
        return rt_fail(err, errlen, RT_EUSAGE, "the command proposer works on problems program "
                                               "and research, not %s", problem->cls->name);
    }
    if (!st->info.command) {
        free(st);
        return rt_fail(err, errlen, RT_EUSAGE, "--proposer command needs --command 'PROGRAM ARGS'");
    }
    *state = st;
    return 0;
}

static void command_destroy(void *state) { free(state); }

static int command_propose(void *state, const rt_problem *problem, const rt_propose_ctx *ctx,
                           rt_rng *rng, rt_proposal *out)
{
    (void)problem;
    const command_state *st = state;
    out->op = "command";
    out->child = NULL;
    out->work = 1;
    rt_buf prompt;
    rt_buf_init(&prompt, 0);
    int rc = rt_prompt_json(ctx, rt_rng_next(rng), &prompt);
    if (rc == RT_ETOOBIG) {
        snprintf(out->reason, sizeof out->reason, "command: the prompt is over the size cap");
        rt_buf_free(&prompt);
        return 0;
    }
    if (rc) {
        rt_buf_free(&prompt);
        return rc;
    }
    rt_sandbox_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = st->info.command;
    spec.stdin_data = prompt.data;
    spec.stdin_len = prompt.len;
    spec.limits.wall_seconds = st->info.command_timeout;
    spec.limits.memory_mib = st->info.memory_mib;
    rt_sandbox_result res;
    char err[256] = "";
    rc = rt_sandbox_run(&spec, &res, err, sizeof err);
    rt_buf_free(&prompt);
    if (rc == RT_ENOMEM)
        return rc;
    if (rc) {
        snprintf(out->reason, sizeof out->reason, "command: sandbox: %.200s", err);
        return 0;
    }
    if (res.outcome != RT_SANDBOX_EXITED || res.exit_code != 0) {
        if (res.outcome == RT_SANDBOX_EXITED)
            snprintf(out->reason, sizeof out->reason, "command exited with status %d",
                     res.exit_code);
        else
            snprintf(out->reason, sizeof out->reason, "command %s: %.200s",
                     rt_sandbox_outcome_name(res.outcome), res.reason);
        rt_tail_line(res.stderr_data, res.stderr_len, out->detail, sizeof out->detail);
        rt_sandbox_result_free(&res);
        return 0;
    }
    rt_program_genome *child = NULL;
    char why[200];
    rc = rt_program_apply_reply(ctx->parent.text, ctx->parent.len, res.stdout_data,
                                res.stdout_len, &child, why, sizeof why);
    rt_sandbox_result_free(&res);
    if (rc == RT_ENOMEM)
        return rc;
    if (rc) {
        snprintf(out->reason, sizeof out->reason, "command reply rejected: %s", why);
        return 0;
    }
    out->child = child;
    return 0;
}

const rt_proposer_class rt_proposer_command = {
    .name = "command",
    .inspirations = 3,
    .context = 1,
    .create = command_create,
    .destroy = command_destroy,
    .propose = command_propose,
};
