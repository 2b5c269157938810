#!/bin/sh
# sandbox_compare.sh [BASE_REV] — the sandbox's cost before and after a change, in one run: builds
# bench_sandbox at BASE_REV (default 2a1b126, the sandbox before the hardening of issue 12) in a
# temporary git worktree, then runs the old and the new bench_sandbox alternately (3 pairs,
# --quick), so that the machine's load falls on both alike. Prints both tables; compare the
# evaluations per second of each mode side by side.
set -eu
base=${1:-2a1b126}
top=$(git rev-parse --show-toplevel)
cd "$top"
wt=$(mktemp -d /tmp/ratchet-bench-base-XXXXXX)
trap 'git worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"' EXIT
git worktree add --detach "$wt" "$base" >/dev/null
make -C "$wt" -s build/bench/bench_sandbox >/dev/null
make -s build/bench/bench_sandbox >/dev/null
for i in 1 2 3; do
    echo "== pair $i: base $base"
    "$wt"/build/bench/bench_sandbox --quick | tail -3
    echo "== pair $i: this tree"
    build/bench/bench_sandbox --quick | tail -3
done
