/* testutil.h — what several test programs need: a scratch folder, the tool's path, a clock. */
#ifndef RT_TESTUTIL_H
#define RT_TESTUTIL_H

#include <stddef.h>

/* Makes a fresh folder /tmp/ratchet-NAME-?????? into buf; returns 0 or -1 (message on stderr). */
int tu_tempdir(char *buf, size_t len, const char *name);
/* Removes a folder and everything below it. */
void tu_rmtree(const char *dir);
/* The ratchet tool to test: $RATCHET, else build/ratchet; NULL (message on stderr) if it cannot
 * be run. */
const char *tu_tool(void);
/* tu_tool() as an absolute path, for commands run in another folder ($RATCHET may be relative). */
const char *tu_tool_path(void);
/* Runs `tool ARGS` through the shell in dir, ARGS formatted from fmt; its stdout and stderr
 * together go into out (len bytes, NUL-terminated). Returns its exit status, -1 when it did not
 * exit or could not start. */
int tu_tool_in(const char *dir, char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The jail's client for the sandbox tests: $RATCHET_JAIL_HELPER (a sanitizer build's tool cannot
 * start under the sandbox's address-space limit), else tu_tool(). */
const char *tu_jail_helper(void);
/* Copies the executable src into dir (mode 0755) and writes the copy's path to out: sandbox
 * tests that run as another uid, or without namespaces, use programs from a folder that every uid
 * can enter (a clone of the repository may lie under a closed folder). Returns 0 or -1. */
int tu_copy_exec(const char *src, const char *dir, char *out, size_t outlen);
/* Starts the tool (tu_tool()) with args (NULL-terminated, at most 62), its stdout and stderr
 * into dir/TAG.out and dir/TAG.err. Returns its pid, or -1 (message on stderr). */
int tu_spawn_tool(const char *dir, const char *tag, const char *const *args);
/* Waits at most seconds for the child pid: its exit status (128 + signal when killed by one),
 * or -1 after killing it (SIGKILL) at the limit. */
int tu_wait(int pid, double seconds);
/* The whole file as a NUL-terminated string (caller frees), *len its size; NULL if unreadable. */
char *tu_slurp(const char *path, size_t *len);
/* The folder of published schemes: $RT_SCHEMES_DIR, else ../shared/data/schemes. */
const char *tu_schemes_dir(void);

/* What a published scheme's file name NMP-RANK-modF[suffix].exp says: the shape, the field
 * (gf2 for mod2, the integers for mod0) and the number of products the file holds. */
typedef struct tu_scheme_name {
    int n, m, p;
    int rank;
    int gf2;
} tu_scheme_name;

/* Reads a file name; returns 0, or -1 when it is not one of a published scheme. */
int tu_scheme_name_parse(const char *name, tu_scheme_name *out);

/* The rows of a store that match the SQL condition where (on table candidates) and whose text,
 * as ratchet reads it (compressed texts decoded, store/codec.h), holds needle (contains 1) or
 * does not (contains 0); -1 when the store or a text cannot be read. */
long long tu_count_texts(const char *store, const char *where, const char *needle, int contains);

/* Monotonic seconds. */
double tu_now(void);
/* A policy problem's candidate text, {"policy": P, "baseline": B} (caller frees; aborts when out
 * of memory). */
char *tu_policy_candidate(const char *policy_json, const char *baseline_json);

/* matmul: a packed scheme verified by the gate's own checker (matmul_plain.c) through plain
 * form: its rank, -1 when it does not verify, -2 when it could not be converted. */
struct mm_scheme;
int tu_mm_verified_rank(const struct mm_scheme *s);
/* Its canonical .exp text, as the problem encodes it (caller frees); NULL on failure. */
char *tu_mm_canonical_text(const struct mm_scheme *s);

struct rt_problem_class;
struct rt_run_options;
/* Runs matmul of shape and field to its budget in a new store at path, with the problem's class
 * swapped for cls (a copy of rt_problem_matmul with hooks of the test's; same name, so the store
 * reads back as matmul). Returns 0, or -1 after printing why to standard error. */
int tu_run_matmul_as(const struct rt_problem_class *cls, const char *shape, const char *field,
                     const char *path, const struct rt_run_options *opt);

#endif
