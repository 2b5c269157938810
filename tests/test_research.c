/* test_research.c — `ratchet research` end to end and its readers: metric lines read strictly,
 * the bundle of editable files, crashes, time-outs and missing metrics recorded while the run
 * goes on, a training program whose metric ignores every knob keeps nothing beyond its baseline,
 * the test metric never reaches a proposer, bad input in one line with exit 2, and --git commits
 * on ratchet/TAG without touching the user's working tree, index or branch, continued on resume.
 * The training programs are shell scripts written here (tests/data/research/ holds the shared
 * ones); budgets are a few seconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "problems/research/research.h"
#include "rng.h"
#include "testutil.h"

static char tmpdir[256];
static char *tool; /* the tool's absolute path (tests cd into repositories) */

static int setup_dir(void **state)
{
    (void)state;
    /* fixed seeds for the experiments: every run of this test draws the same noise */
    setenv("RATCHET_RESEARCH_SEED", "20261203", 1);
    tool = tu_tool() ? realpath(tu_tool(), NULL) : NULL;
    if (!tool)
        return -1;
    return tu_tempdir(tmpdir, sizeof tmpdir, "research");
}

static int teardown_dir(void **state)
{
    (void)state;
    tu_rmtree(tmpdir);
    free(tool);
    return 0;
}

/* Runs a shell command line; its stdout and stderr together into out; returns the exit status. */
static int sh(const char *cmd, char *out, size_t outlen)
{
    char full[8192];
    snprintf(full, sizeof full, "{ %s\n} 2>&1", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Writes a file (mode 0755 when exec). */
static void put_file(const char *path, const char *text, int exec)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, exec ? 0755 : 0644);
}

/* A project folder NAME under tmpdir holding train.sh with text; its path into dir. */
static void project(const char *name, const char *text, char *dir, size_t len)
{
    char path[512];
    snprintf(dir, len, "%s/%s", tmpdir, name);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/train.sh", dir);
    put_file(path, text, 1);
}

/* Counts the ledger's rows whose status column (the 4th) is status. */
static int count_status(const char *tsv, const char *status)
{
    size_t len;
    char *text = tu_slurp(tsv, &len);
    assert_non_null(text);
    int n = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *f = line;
        for (int col = 1; col < 4 && f; col++) {
            f = strchr(f, '\t');
            if (f)
                f++;
        }
        if (f && strncmp(f, status, strlen(status)) == 0 && f[strlen(status)] == '\t')
            n++;
        line = next;
    }
    free(text);
    return n;
}

/* ---- readers ------------------------------------------------------------------------------ */

static int metric(const char *s, double *v)
{
    return rt_research_find_metric(s, strlen(s), "val_bpb", v);
}

static void metric_lines_are_read_strictly(void **state)
{
    (void)state;
    double v = 0;
    assert_true(metric("step 10\nval_bpb: 1.25\n", &v) && v == 1.25);
    assert_true(metric("val_bpb: 1.5\nval_bpb:   0.75   (best)\r\n", &v) && v == 0.75);
    assert_true(metric("  val_bpb : 2e-1", &v) && v == 0.2);
    assert_true(metric("{\"val_bpb\": 3, \"x\": 1}\n", &v) && v == 3);
    assert_false(metric("val_bpb_ema: 1.0\nmy_val_bpb: 2\n", &v));
    assert_false(metric("val_bpb: nan\nval_bpb: inf\nval_bpb: -inf\nval_bpb:\n", &v));
    assert_false(metric("val_bpb 1.0\nval_bpb= 1.0\n{\"val_bpb\": \"1\"}\n", &v));
    assert_false(metric("{\"val_bpb\": 1, \"val_bpb\": 2}\n", &v)); /* duplicate keys */
    assert_false(metric("", &v));
    /* the line length is the reader's: no NUL needed, nothing read past len */
    const char cut[] = "val_bpb: 12345";
    assert_true(rt_research_find_metric(cut, 11, "val_bpb", &v) && v == 12);
    /* random bytes: never a crash, a value found is finite */
    rt_rng rng;
    rt_rng_seed(&rng, 7, 0);
    char buf[256];
    for (int t = 0; t < 20000; t++) {
        size_t n = rt_rng_below(&rng, sizeof buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(rt_rng_below(&rng, 4) == 0 ? "val_bpb: 1e{}\n"[rt_rng_below(&rng, 14)]
                                                        : (char)rt_rng_next(&rng));
        if (rt_research_find_metric(buf, n, "val_bpb", &v))
            assert_true(isfinite(v));
    }
}

static void bundles_split_back_into_their_files(void **state)
{
    (void)state;
    const char *names[] = {"train.py", "lib/opt.c"};
    const char *data[] = {"lr = 0.1  # ratchet: log 0.001 1\n", "int steps = 3;"};
    size_t len[] = {strlen(data[0]), strlen(data[1])};
    rt_buf b;
    rt_buf_init(&b, 0);
    assert_int_equal(rt_research_bundle(2, names, data, len, &b), 0);
    rt_research_part parts[2];
    char why[300];
    assert_int_equal(rt_research_split(b.data, b.len, 2, names, parts, why, sizeof why), 0);
    assert_int_equal(parts[0].len, len[0]);
    assert_memory_equal(parts[0].data, data[0], len[0]);
    assert_int_equal(parts[1].len, len[1] + 1); /* a newline added at its end */
    assert_memory_equal(parts[1].data, data[1], len[1]);
    /* headers in the wrong order, a header missing, a header of no editable file */
    const char *swapped[] = {"lib/opt.c", "train.py"};
    assert_int_equal(rt_research_split(b.data, b.len, 2, swapped, parts, why, sizeof why),
                     RT_EINVALID);
    assert_non_null(strstr(why, "lib/opt.c"));
    const char *one[] = {"train.py", "x"};
    assert_int_equal(rt_research_split(b.data, b.len, 2, one, parts, why, sizeof why),
                     RT_EINVALID);
    assert_int_equal(rt_buf_puts(&b, RT_RESEARCH_HEADER "extra.c" RT_RESEARCH_HEADER_END "\n"),
                     0);
    assert_int_equal(rt_research_split(b.data, b.len, 2, names, parts, why, sizeof why),
                     RT_EINVALID);
    /* one file: the text is the file */
    assert_int_equal(rt_research_split("abc", 3, 1, names, parts, why, sizeof why), 0);
    assert_int_equal(parts[0].len, 3);
    rt_buf_free(&b);
    char line[200];
    rt_research_describe("a\nX=3 # ratchet: int 1 9\nb\n", 25, "a\nX=4 # ratchet: int 1 9\nb\n",
                         25, line, sizeof line);
    assert_string_equal(line, "X=3 -> X=4");
    const char *p5 = "a=1\nb=2 /* ratchet: int 1 9 */\nc=3\nd=4\ne=5\n";
    const char *c5 = "a=2\nb=3 /* ratchet: int 1 9 */\nc=4\nd=5\ne=6\n";
    rt_research_describe(p5, strlen(p5), c5, strlen(c5), line, sizeof line);
    assert_string_equal(line, "a=1 -> a=2; b=2 -> b=3; c=3 -> c=4; and 2 more lines");
    rt_research_describe(p5, strlen(p5), p5, strlen(p5), line, sizeof line);
    assert_string_equal(line, "no change");
}

/* ---- runs --------------------------------------------------------------------------------- */

/* A training program whose MODE knob makes it crash, hang, print no metric, or work. */
static const char FAILING[] =
    "#!/bin/sh\n"
    "MODE=ok # ratchet: choice ok|crash|hang|quiet\n"
    "case $MODE in\n"
    "crash) echo 'diverged at step 7' >&2; exit 3 ;;\n"
    "hang) sleep 30 ;;\n"
    "quiet) echo 'trained, but forgot to print'; exit 0 ;;\n"
    "esac\n"
    "echo \"loss: 1.0\"\n";

static void crashes_hangs_and_missing_metrics_are_recorded(void **state)
{
    (void)state;
    char dir[512], cmd[4096], out[16384], tsv[600];
    project("failing", FAILING, dir, sizeof dir);
    snprintf(tsv, sizeof tsv, "%s/failing.tsv", tmpdir);
    double t0 = tu_now();
    snprintf(cmd, sizeof cmd,
             "%s research --dir %s --edit train.sh --run ./train.sh --metric loss --budget 2 "
             "--evaluations 12 --quiet --tsv %s --store %s/failing.db",
             tool, dir, tsv, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    double took = tu_now() - t0;
    size_t len;
    char *ledger = tu_slurp(tsv, &len);
    assert_non_null(ledger);
    /* each way of failing is a crash row with its reason and the log's tail, and the run went
     * on past it */
    assert_non_null(strstr(ledger, "crash: exit status 3; output: ... diverged at step 7"));
    assert_non_null(strstr(ledger, "timeout: killed at the 2 s"));
    assert_non_null(strstr(ledger, "no metric: 'loss' does not appear in the output; output: "
                                   "... trained, but forgot to print"));
    assert_int_equal(count_status(tsv, "crash"), 3);
    assert_int_equal(count_status(tsv, "keep"), 1);
    assert_true(took < 40); /* the hang was killed at its budget */
    free(ledger);
    /* the store audits clean, and status shows the kept chain */
    snprintf(cmd, sizeof cmd, "%s audit %s/failing.db", tool, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "%s status %s/failing.db", tool, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "kept chain"));
    assert_non_null(strstr(out, "loss 1.000000 (verified 1.000000)"));
}

/* Knobs that change nothing: the metric is noise around 1 drawn from RATCHET_SEED. */
static const char NULL_PROGRAM[] =
    "#!/bin/sh\n"
    "LR=0.01 # ratchet: log 0.0001 1\n"
    "WIDTH=64 # ratchet: int 8 512\n"
    "DROPOUT=0.1 # ratchet: real 0 0.5\n"
    "awk -v s=\"$RATCHET_SEED\" 'BEGIN { srand(s); u = 0; for (i = 0; i < 12; i++) u += rand();"
    " printf \"val_loss: %.6f\\ntest_loss: %.6f\\n\", 1 + 0.05 * (u - 6), 1 + 0.05 * rand() }'\n";

static void a_metric_no_knob_moves_keeps_nothing(void **state)
{
    (void)state;
    char dir[512], cmd[4096], out[16384], tsv[600];
    project("null", NULL_PROGRAM, dir, sizeof dir);
    snprintf(tsv, sizeof tsv, "%s/null.tsv", tmpdir);
    snprintf(cmd, sizeof cmd,
             "%s research --dir %s --edit train.sh --run ./train.sh --metric val_loss "
             "--test-metric test_loss --budget 5 --evaluations 80 --quiet --tsv %s "
             "--store %s/null.db",
             tool, dir, tsv, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_int_equal(count_status(tsv, "keep"), 1); /* the baseline alone */
    assert_true(count_status(tsv, "discard") >= 70);
    /* the naive rule, on the same program, keeps noise */
    snprintf(cmd, sizeof cmd,
             "%s research --dir %s --edit train.sh --run ./train.sh --metric val_loss "
             "--budget 5 --evaluations 40 --quiet --trust-proxy --tsv %s.naive "
             "--store %s/null-naive.db",
             tool, dir, tsv, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    char naive[700];
    snprintf(naive, sizeof naive, "%s.naive", tsv);
    assert_true(count_status(naive, "keep(trusted)") >= 3);
}

/* The proposer says whether the prompt it was given holds the test metric's name (SEEN=1) and
 * the validation metric's (VAL=1), and whether it holds the ledger of past experiments with the
 * baseline's row (LED=1). The training program spells neither name in its text, so only the
 * metrics, artifacts and ledger it was shown can. */
static const char PEEKING_PROPOSER[] =
    "#!/bin/sh\n"
    "p=$(cat)\n"
    "case $p in *test_loss*) seen=1 ;; *) seen=0 ;; esac\n"
    "case $p in *val_loss*) val=1 ;; *) val=0 ;; esac\n"
    "case $p in *'\"ledger\":'*'| keep | 1 | 1 | baseline'*) led=1 ;; *) led=0 ;; esac\n"
    "gen=$(printf '%s' \"$p\" | grep -o '\"generation\": *[0-9]*' | grep -o '[0-9]*$')\n"
    "old=$(printf '%s' \"$p\" | grep -o 'SEEN=[^#]*# peek' | head -1)\n"
    "printf '<<<<<<< SEARCH\\n%s\\n=======\\nSEEN=%s VAL=%s LED=%s GEN=%s # peek\\n"
    ">>>>>>> REPLACE\\n' \"$old\" $seen $val $led \"$gen\"\n";

static void the_test_metric_never_reaches_the_proposer(void **state)
{
    (void)state;
    char dir[512], cmd[4096], out[16384], tsv[600], prop[600];
    project("peek",
            "#!/bin/sh\n"
            "SEEN=x # peek\n"
            "v=val; t=test\n"
            "echo \"${v}_loss: 1\"; echo \"${t}_loss: 2\"; echo \"${t}_loss: 2\" >&2\n",
            dir, sizeof dir);
    snprintf(prop, sizeof prop, "%s/peek.sh", tmpdir);
    put_file(prop, PEEKING_PROPOSER, 1);
    snprintf(tsv, sizeof tsv, "%s/peek.tsv", tmpdir);
    snprintf(cmd, sizeof cmd,
             "%s research --dir %s --edit train.sh --run ./train.sh --metric val_loss "
             "--test-metric test_loss --budget 5 --evaluations 3 --quiet --proposer command "
             "--command %s --tsv %s --store %s/peek.db",
             tool, dir, prop, tsv, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    size_t len;
    char *ledger = tu_slurp(tsv, &len);
    assert_non_null(ledger);
    assert_non_null(strstr(ledger, "SEEN=0 VAL=1 LED=1 GEN="));
    assert_null(strstr(ledger, "SEEN=1"));
    /* and the ledger does report it */
    assert_non_null(strstr(ledger, "\ttest_loss\treason\n"));
    assert_non_null(strstr(ledger, "\t2.000000\t"));
    free(ledger);
}

static void bad_input_is_one_line_and_exit_2(void **state)
{
    (void)state;
    char dir[512], cmd[4096], out[16384];
    project("bad", "#!/bin/sh\necho hello from training\n", dir, sizeof dir);
    struct {
        const char *args, *says;
    } cases[] = {
        {"--edit nothere.sh --run ./train.sh --metric loss", "--edit nothere.sh: no such file"},
        {"--run ./train.sh --metric loss", "needs --edit"},
        {"--edit train.sh --run ./missing.sh --metric loss", "--run: ./missing.sh: no such"},
        {"--edit train.sh --run ./train.sh --metric loss",
         "baseline: the initial candidate failed: no metric: 'loss' does not appear in the "
         "output; output: ... hello from training"},
        {"--edit train.sh --run ./train.sh --metric 'a b'", "--metric 'a b'"},
        {"--edit ../x --run ./train.sh --metric loss", "not a plain path"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s research --dir %s %s --budget 5 --quiet --store %s/b%zu.db",
                 tool, dir, cases[i].args, tmpdir, i);
        assert_int_equal(sh(cmd, out, sizeof out), 2);
        assert_non_null(strstr(out, cases[i].says));
        assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out)); /* one line */
        char db[600];
        snprintf(db, sizeof db, "%s/b%zu.db", tmpdir, i);
        assert_int_not_equal(access(db, F_OK), 0); /* no store left behind */
    }
    /* a run command that is not executable */
    char path[600];
    snprintf(path, sizeof path, "%s/train.sh", dir);
    chmod(path, 0644);
    snprintf(cmd, sizeof cmd, "%s research --dir %s --edit train.sh --run ./train.sh "
             "--metric loss --budget 5 --store %s/nx.db", tool, dir, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "./train.sh is not executable"));
}

/* ---- git ---------------------------------------------------------------------------------- */

static const char QUADRATIC[] =
    "#!/bin/sh\n"
    "X=2 # ratchet: int 1 9\n"
    "awk -v x=$X -v s=\"$RATCHET_SEED\" 'BEGIN { srand(s); printf \"loss: %.6f\\n\","
    " (x - 6) ^ 2 + 0.01 * rand() }'\n";

static void git_commits_kept_changes_on_a_branch_of_their_own(void **state)
{
    (void)state;
    char repo[512], cmd[4096], out[16384], before[4096], after[4096];
    project("repo", QUADRATIC, repo, sizeof repo);
    snprintf(cmd, sizeof cmd,
             "cd %s && git init -q -b main && git config user.email t@e && git config user.name t "
             "&& echo notes > notes.txt && git add . && git commit -qm init && echo draft >> "
             "notes.txt && echo staged > other.txt && git add other.txt",
             repo);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    /* what the user has: branch, HEAD, index, working tree */
    const char *look = "cd %s && git rev-parse --abbrev-ref HEAD HEAD && git status --porcelain "
                       "&& git diff && git diff --cached && cat notes.txt";
    snprintf(cmd, sizeof cmd, look, repo);
    assert_int_equal(sh(cmd, before, sizeof before), 0);
    snprintf(cmd, sizeof cmd,
             "%s research --dir %s --edit train.sh --run ./train.sh --metric loss --budget 5 "
             "--evaluations 6 --quiet --git --tag t1 --store %s/git.db --tsv %s/git.tsv",
             tool, repo, tmpdir, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "branch ratchet/t1 at "));
    snprintf(cmd, sizeof cmd, look, repo);
    assert_int_equal(sh(cmd, after, sizeof after), 0);
    assert_string_equal(before, after);
    /* the branch: the baseline, then each kept change, the last one's file as `best` has it */
    snprintf(cmd, sizeof cmd, "cd %s && git rev-list --count main..ratchet/t1", repo);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    int first = (int)strtol(out, NULL, 10);
    char ledger[600];
    snprintf(ledger, sizeof ledger, "%s/git.tsv", tmpdir);
    assert_int_equal(first, count_status(ledger, "keep"));
    assert_true(first >= 2);
    char best[4096];
    snprintf(best, sizeof best, "%s best %s/git.db | (cd %s && git show ratchet/t1:train.sh | "
             "cmp - /dev/fd/3) 3<&0", tool, tmpdir, repo);
    assert_int_equal(sh(best, out, sizeof out), 0);
    /* a second run on the same tag is refused; a staged change to an editable file too */
    snprintf(cmd, sizeof cmd, "%s research --dir %s --edit train.sh --run ./train.sh --metric "
             "loss --budget 5 --git --tag t1 --store %s/git2.db", tool, repo, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "branch ratchet/t1 already exists"));
    snprintf(cmd, sizeof cmd, "cd %s && echo '# more' >> train.sh && git add train.sh && "
             "%s research --dir %s --edit train.sh --run ./train.sh --metric loss --budget 5 "
             "--git --tag t2 --store %s/git3.db; s=$?; git reset -q train.sh; "
             "git checkout -q train.sh; exit $s", repo, tool, repo, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "staged changes to train.sh"));
    /* a resume continues the branch: the first commits stay, new ones go on top */
    snprintf(cmd, sizeof cmd, "cd %s && git rev-parse ratchet/t1", repo);
    char tip[128];
    assert_int_equal(sh(cmd, tip, sizeof tip), 0);
    snprintf(cmd, sizeof cmd, "%s research --resume %s/git.db --evaluations 12 --quiet "
             "--tsv %s/git.tsv && cd %s && git merge-base --is-ancestor %.40s ratchet/t1",
             tool, tmpdir, tmpdir, repo, tip);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "cd %s && git rev-list --count main..ratchet/t1", repo);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_int_equal(strtol(out, NULL, 10), count_status(ledger, "keep"));
    assert_true(strtol(out, NULL, 10) > first);
    snprintf(cmd, sizeof cmd, look, repo);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_string_equal(out, after);
}

/* kill -9 in the middle of a run: nothing committed yet; the resume commits every kept change,
 * the baseline first, on the branch the run was made for. */
static void a_killed_run_resumes_on_its_branch(void **state)
{
    (void)state;
    char repo[512], cmd[4096], out[16384], ledger[600];
    project("killed", QUADRATIC, repo, sizeof repo);
    snprintf(cmd, sizeof cmd, "cd %s && git init -q -b main && git config user.email t@e && "
             "git config user.name t && git add . && git commit -qm init", repo);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd,
             "%s research --dir %s --edit train.sh --run ./train.sh --metric loss --budget 5 "
             "--seconds 60 --quiet --git --tag k --store %s/killed.db & pid=$!; "
             "until %s status %s/killed.db 2>/dev/null | grep -Eq 'candidates +([4-9]|[1-9][0-9])';"
             " do sleep 0.2; done; kill -9 $pid; wait $pid; "
             "cd %s && git rev-parse -q --verify ratchet/k; exit 0",
             tool, repo, tmpdir, tool, tmpdir, repo);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    /* no branch yet: nothing was committed before the kill */
    size_t run = 0, longest = 0;
    for (const char *c = out; *c; c++) {
        run = strchr("0123456789abcdef", *c) ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    assert_true(longest < 40 && !strstr(out, "ratchet/k"));
    snprintf(ledger, sizeof ledger, "%s/killed.tsv", tmpdir);
    snprintf(cmd, sizeof cmd, "%s research --resume %s/killed.db --evaluations 2 --quiet --tsv %s "
             "&& cd %s && git rev-list --count main..ratchet/k && git status --porcelain",
             tool, tmpdir, ledger, repo);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "branch ratchet/k at "));
    int keeps = count_status(ledger, "keep");
    assert_true(keeps >= 2);
    char want[64];
    snprintf(want, sizeof want, "\n%d\n", keeps);
    assert_non_null(strstr(out, want)); /* one commit per kept change; the tree is clean */
    assert_int_equal(out[strlen(out) - 1], '\n');
    assert_null(strstr(strstr(out, want) + strlen(want), "train.sh"));
}

/* Ctrl-C stops the gate's own runs too: 2 s into a session whose runs take 0.5 s each, the
 * engine's thread is measuring the incumbent's noise floor (10 re-runs, 5 s); the run must end
 * within 1.5 s of the signal (it took the rest of the floor, 14 s with 2-second runs, before
 * the engine's thread had a cancel scope), store a cut, and audit clean. */
static void ctrl_c_cuts_the_gates_reruns(void **state)
{
    (void)state;
    char dir[512], cmd[4096], out[16384];
    project("slow", "#!/bin/sh\nX=1 # ratchet: int 1 9\nsleep 0.5\necho \"loss: $X\"\n", dir,
            sizeof dir);
    snprintf(cmd, sizeof cmd,
             "%s research --dir %s --edit train.sh --run ./train.sh --metric loss --budget 30 "
             "--seconds 300 --quiet --store %s/slow.db & pid=$!; "
             "until %s status %s/slow.db 2>/dev/null | grep -q proposals; do sleep 0.1; done; "
             "sleep 2; t0=$(date +%%s%%N); kill -INT $pid; wait $pid; "
             "echo took $(( ($(date +%%s%%N) - t0) / 1000000 )) ms",
             tool, dir, tmpdir, tool, tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    const char *took = strstr(out, "took ");
    assert_non_null(took);
    long ms = strtol(took + 5, NULL, 10);
    if (ms > 1500)
        fail_msg("Ctrl-C took %ld ms: %s", ms, out);
    snprintf(cmd, sizeof cmd, "%s audit %s/slow.db && %s status %s/slow.db", tool, tmpdir, tool,
             tmpdir);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "cut"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metric_lines_are_read_strictly),
        cmocka_unit_test(ctrl_c_cuts_the_gates_reruns),
        cmocka_unit_test(bundles_split_back_into_their_files),
        cmocka_unit_test(crashes_hangs_and_missing_metrics_are_recorded),
        cmocka_unit_test(a_metric_no_knob_moves_keeps_nothing),
        cmocka_unit_test(the_test_metric_never_reaches_the_proposer),
        cmocka_unit_test(bad_input_is_one_line_and_exit_2),
        cmocka_unit_test(git_commits_kept_changes_on_a_branch_of_their_own),
        cmocka_unit_test(a_killed_run_resumes_on_its_branch),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
