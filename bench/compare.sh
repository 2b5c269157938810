#!/bin/sh
# compare.sh BASE_REV PAIRS BENCH [ARGS...] — a benchmark of this tree next to the same benchmark
# built at BASE_REV, in one run: builds build/bench/BENCH at BASE_REV in a temporary git worktree,
# then runs the old and the new binary alternately PAIRS times, so that the machine's load falls
# on both alike. Prints each run's output under a header; compare the figures side by side.
#   bench/compare.sh 2a1b126 3 bench_sandbox --quick
#   bench/compare.sh 2a1b126 5 bench_matmul --walk gf2 4000000
set -eu
[ $# -ge 3 ] || { echo "usage: bench/compare.sh BASE_REV PAIRS BENCH [ARGS...]" >&2; exit 2; }
base=$1 pairs=$2 bench=$3
shift 3
top=$(git rev-parse --show-toplevel)
cd "$top"
wt=$(mktemp -d /tmp/ratchet-bench-base-XXXXXX)
trap 'git worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"' EXIT
git worktree add --detach "$wt" "$base" >/dev/null 2>&1
make -C "$wt" -s "build/bench/$bench" >/dev/null
make -s "build/bench/$bench" >/dev/null
i=1
while [ "$i" -le "$pairs" ]; do
    echo "== pair $i: base $base"
    "$wt/build/bench/$bench" "$@"
    echo "== pair $i: this tree"
    "build/bench/$bench" "$@"
    i=$((i + 1))
done
