/* stopping.c — Ctrl-C and SIGTERM while a run executes (run, research, meta). The first stops the run:
 * the work in flight is cut and the store committed. The second exits at once; the store keeps
 * its last commit (SQLite's journal makes that consistent) and the sandboxes die with the
 * process (their parent-death signal). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

static rt_run *active_run;
static void (*also)(void);
static volatile sig_atomic_t signals_seen;
static char stopping[160], quitting[160];
static size_t stopping_len, quitting_len;

static void on_signal(int sig)
{
    if (++signals_seen > 1) {
        ssize_t w = write(STDERR_FILENO, quitting, quitting_len);
        (void)w;
        _exit(128 + sig);
    }
    ssize_t w = write(STDERR_FILENO, stopping, stopping_len);
    (void)w;
    if (also)
        also();
    if (active_run)
        rt_run_stop(active_run);
}

void stop_also_calls(void (*fn)(void)) { also = fn; }

int stop_signalled(void) { return signals_seen > 0; }

void stop_on_signals(rt_run *run, const char *work, const char *command)
{
    if (!work) {
        active_run = NULL;
        also = NULL;
        return;
    }
    int n = snprintf(stopping, sizeof stopping,
                     "\nratchet: stopping: cutting %s in flight (Ctrl-C again to quit at once)\n",
                     work);
    stopping_len = n > 0 && (size_t)n < sizeof stopping ? (size_t)n : strlen(stopping);
    if (run)
        n = snprintf(quitting, sizeof quitting,
                     "\nratchet: quit at once; the store keeps its last commit (continue with %s "
                     "--resume)\n",
                     command);
    else
        n = snprintf(quitting, sizeof quitting, "\nratchet: quit at once; no store was made\n");
    quitting_len = n > 0 && (size_t)n < sizeof quitting ? (size_t)n : strlen(quitting);
    active_run = run;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
