#!/bin/sh
# sandbox_compare.sh [BASE_REV] — the sandbox's cost before and after a change, in one run:
# bench_sandbox --quick at BASE_REV (default 2a1b126, the sandbox before the hardening of issue 12)
# and in this tree, alternately, three pairs (bench/compare.sh).
exec "$(dirname "$0")/compare.sh" "${1:-2a1b126}" 3 bench_sandbox --quick
