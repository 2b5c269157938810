/* bench_report.c — the HTML report on large stores (docs/report.md, "Large stores"): builds a
 * synthetic store of N candidates (a 3x3x3 GF(2) run's shape: four islands, a lineage in which
 * each child descends from a recent admitted row, 30% admitted, 5% invalid, texts of real
 * schemes, and one language-model request per ten candidates from two models), then times
 * `rt_store_report` on it REPEAT times and prints the median wall and CPU
 * seconds and the page's size.
 *   usage: bench_report N STORE [REPEAT]   (STORE is made if missing; N = 0 makes a store
 *          with no candidate at all, which is how the browser test gets an empty store) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "problem.h"
#include "ratchet.h"
#include "store/store.h"
#include "store/llm_requests.h"
#include "store/write.h"
#include "util.h"

#include <openssl/sha.h>

static const char *const ops[] = {"walk", "plus", "drop", "perturb"};

static void hex_sha256(const char *text, size_t len, char out[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, len, d);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The seed scheme's canonical text (the naive rank-27 scheme). */
static char *seed_text(void)
{
    rt_problem *pb = NULL;
    rt_error err = {0};
    const char *k[] = {"shape", "field"}, *v[] = {"3x3x3", "gf2"};
    if (rt_problem_open(&pb, "matmul", k, v, 2, &err))
        return NULL;
    void *g = rt_problem_seed(pb);
    rt_buf b;
    rt_buf_init(&b, 0);
    rt_problem_encode(pb, g, &b);
    rt_problem_free_genome(pb, g);
    rt_problem_close(pb);
    return rt_buf_take(&b);
}

/* Inserts n synthetic rows (one transaction per 10000). */
static int fill(rt_db *db, long long n, const char *seed)
{
    enum { RECENT = 1000 };
    static char recent_hash[RECENT][65];
    long long nrecent = 0;
    size_t seedlen = strlen(seed);
    char *text = malloc(seedlen + 64);
    char hash[65];
    srand(1);
    int rc = rt_db_begin(db);
    for (long long i = 1; !rc && i <= n; i++) {
        int len = snprintf(text, seedlen + 64, "%s# synthetic %lld\n", seed, i);
        hex_sha256(text, (size_t)len, hash);
        int valid = i == 1 || rand() % 20 != 0, admitted = i == 1 || (valid && rand() % 10 < 3);
        double rank = 27 - floor(5.0 * (double)i / (double)n) - (rand() % 3 == 0);
        long long parent = i == 1 ? 0 : rand() % (nrecent < RECENT ? nrecent : RECENT);
        rt_cand_row row = {
            .hash = hash, .text = text, .len = (size_t)len,
            .parent = i == 1 ? NULL : recent_hash[parent], .op = i == 1 ? "seed" : ops[rand() % 4],
            .island = (int)(i % 4), .generation = i / 4, .proxy = {-rank, -200 + rand() % 50},
            .valid = valid, .verified = {-rank, -200}, .metric = rank,
            .reason = valid ? NULL : "equation a11*b11*c11 fails", .admitted = admitted,
            .time = (double)i * 1e-3};
        long long id;
        rc = rt_db_insert(db, &row, &id);
        if (!rc && i % 10 == 0) { /* a request that made this child */
            rt_llm_row req = {.at = 1.7e9 + (double)i * 1e-3, .island = row.island,
                              .generation = row.generation, .model = i % 20 ? "model-a" : "model-b",
                              .mode = "diff", .tokens_in = 2000, .tokens_out = 300,
                              .cost = 0.002, .latency = 2, .attempts = 1, .http_status = 200,
                              .outcome = "ok", .parent = row.parent, .made = 1, .valid = valid,
                              .admitted = admitted, .improved = admitted && rand() % 4 == 0};
            rc = rt_db_llm_insert(db, &req);
        }
        if (!rc && admitted) {
            memcpy(recent_hash[nrecent % RECENT], hash, 65);
            nrecent++;
        }
        if (!rc && i % 10000 == 0 && !(rc = rt_db_commit(db)))
            rc = rt_db_begin(db);
    }
    if (!rc)
        rc = rt_db_commit(db);
    free(text);
    return rc;
}

static int make_store(const char *path, long long n)
{
    rt_run_config cfg = {.problem = "matmul", .params = "shape=3x3x3 field=gf2", .seed = 1,
                         .islands = 4, .proposer = "builtin"};
    char err[512];
    rt_db *db = NULL;
    char *seed = seed_text();
    int rc = seed ? rt_db_create(&db, path, &cfg, err, sizeof err) : RT_ENOMEM;
    rt_checkpoint cp = {.evaluations = n, .elapsed = (double)n * 1e-3, .sessions = 1,
                        .generation = n / 4};
    if (!rc)
        rc = rt_db_save_checkpoint(db, &cp, NULL, 0);
    if (!rc)
        rc = rt_db_publish(&db, err, sizeof err);
    if (!rc)
        rc = fill(db, n, seed);
    if (rc)
        fprintf(stderr, "bench_report: %s\n", db ? rt_db_errmsg(db) : err);
    rt_db_close(db);
    free(seed);
    return rc;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_report N STORE [REPEAT]\n");
        return 2;
    }
    long long n = strtoll(argv[1], NULL, 10);
    long given = 3;
    if (argc > 3 && rt_parse_long(argv[3], 0, 100, &given))
        given = 3;
    int repeat = (int)given;
    if (access(argv[2], F_OK) != 0 && make_store(argv[2], n))
        return 1;
    if (repeat <= 0)
        return 0;
    char page[4200];
    snprintf(page, sizeof page, "%s.html", argv[2]);
    double wall[16], cpu[16];
    rt_report_info info = {0};
    repeat = repeat > 16 ? 16 : repeat;
    for (int r = 0; r < repeat; r++) {
        rt_store *st = NULL;
        rt_error err = {0};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        double c0 = cpu_seconds();
        if (rt_store_open(&st, argv[2], &err) || rt_store_report(st, page, &info)) {
            fprintf(stderr, "bench_report: %s\n", st ? rt_store_errmsg(st) : err.msg);
            return 1;
        }
        rt_store_close(st);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        wall[r] = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        cpu[r] = cpu_seconds() - c0;
    }
    qsort(wall, (size_t)repeat, sizeof wall[0], cmp_double);
    qsort(cpu, (size_t)repeat, sizeof cpu[0], cmp_double);
    printf("report of %lld candidates: median %.3f s wall, %.3f s CPU over %d runs; %zu bytes; "
           "%d lineage nodes, %d texts left out\n",
           info.candidates, wall[repeat / 2], cpu[repeat / 2], repeat, info.bytes,
           info.lineage_nodes, info.texts_omitted);
    return 0;
}
