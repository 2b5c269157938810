/* jail.h — the jail: an evaluator or verifier runs its candidate in a sandbox of the candidate's
 * own, beside the evaluator's, through `$RATCHET_JAIL` (docs/sandbox.md, "The jail").
 *
 * Three parts:
 * - the wire protocol: SOCK_SEQPACKET records of at most RT_JAIL_RECORD_MAX bytes, each a tag
 *   byte and its payload. The client sends 'A' (an argument), 'F' (a file: one byte of flags, 1
 *   executable, then its name), 'D' (bytes of the last file), 'I' (bytes of stdin), 'W' (the wall
 *   seconds asked for, as text), then 'E'. The broker answers 'O' (stdout bytes), 'R' (stderr
 *   bytes), and last 'S' ("OUTCOME EXIT SIGNAL REASON", OUTCOME an rt_sandbox_outcome) or 'X' (a
 *   refusal, as text).
 * - the broker (ratchet's side): a listening socket per sandboxed run, served by a thread per
 *   connection; each request becomes a run of its own (rt_sandbox_run's rules, without the
 *   pool's wait, under the evaluator's limits and within its deadline); closing the broker ends
 *   every jail still running.
 * - the client (rt_jail_main in ratchet.h), which the ratchet tool runs as ratchet-jail.
 */
#ifndef RT_JAIL_H
#define RT_JAIL_H

#include <stddef.h>

#include "sandbox/sandbox.h"

#define RT_JAIL_RECORD_MAX 32768
#define RT_JAIL_MAX_ARGS 256
#define RT_JAIL_MAX_ARG_LEN 4096
#define RT_JAIL_MAX_FILES 16
#define RT_JAIL_MAX_BYTES ((size_t)64 << 20) /* files and stdin together */
#define RT_JAIL_MAX_JAILS 4                  /* jails at once per sandboxed run */

typedef struct rt_jail_file {
    char *name;
    char *data;
    size_t len, alloc;
    int executable;
} rt_jail_file;

/* A request as it is being read. Zero it before the first record; release with
 * rt_jail_request_free. */
typedef struct rt_jail_request {
    char *argv[RT_JAIL_MAX_ARGS + 1]; /* NULL-terminated */
    size_t nargs;
    rt_jail_file files[RT_JAIL_MAX_FILES];
    size_t nfiles;
    char *stdin_data;
    size_t stdin_len, stdin_alloc;
    double wall;  /* seconds asked for; 0: as long as the evaluator has */
    size_t bytes; /* file and stdin bytes so far */
    int done;     /* 'E' seen */
} rt_jail_request;

/* Takes one record (untrusted bytes). Returns 0 when more records are expected, 1 when the
 * request is complete, RT_EUSAGE for a malformed record or one after 'E', RT_ETOOBIG past a cap,
 * RT_ENOMEM; err says which. */
int rt_jail_request_feed(rt_jail_request *r, const unsigned char *rec, size_t len, char *err,
                         size_t errlen);
void rt_jail_request_free(rt_jail_request *r);

typedef struct rt_jail_broker rt_jail_broker;

/* Listens on a new socket at path (mode 0666) for the run described by outer (its limits and
 * flags are the jails' too), until deadline (rt_now() seconds). Returns 0 or RT_EIO/RT_ENOMEM. */
int rt_jail_broker_open(rt_jail_broker **out, const char *path, const rt_sandbox_spec *outer,
                        double deadline, char *err, size_t errlen);
/* The listening descriptor, to poll for POLLIN. */
int rt_jail_broker_fd(const rt_jail_broker *b);
/* Accepts the waiting connections, a thread each (over RT_JAIL_MAX_JAILS they are refused). */
void rt_jail_broker_accept(rt_jail_broker *b);
/* Ends every jail still running, waits for their threads, removes the socket. NULL: no-op. */
void rt_jail_broker_close(rt_jail_broker *b);

/* The run of one jail: as rt_sandbox_run, without the pool's wait and without a jail of its own;
 * a non-zero *cancel ends it early (outcome timeout). Defined in sandbox.c. */
int rt_sandbox_run_jail(const rt_sandbox_spec *spec, const int *cancel, rt_sandbox_result *res,
                        char *err, size_t errlen);

#endif
