#!/bin/sh
# demo.sh — the main job on the embedded defaults: discover Strassen's rank 7 for 2x2 matrices
# rank 23 for 3x3 and rank 49 for 4x4 matrices over the integers, starting from the standard algorithm, and
# verify both results independently from the files ratchet writes.
# usage: scripts/demo.sh path/to/ratchet
set -eu
ratchet=${1:-build/ratchet}
mkdir -p runs
step() { printf '\n== %s\n' "$*"; }

for job in "2x2x2 7" "3x3x3 23" "4x4x4 49"; do
    set -- $job
    shape=$1 target=$2
    store=runs/demo-$shape.db
    rm -f "$store" "$store-wal" "$store-shm"
    step "search: <$shape> over the integers, from the standard algorithm to rank $target"
    echo "\$ ratchet run matmul --shape $shape --field z --target $target --seconds 120 --seed 1 --store $store"
    "$ratchet" run matmul --shape "$shape" --field z --target "$target" --seconds 120 --seed 1 --store "$store"
    step "status"
    "$ratchet" status "$store"
    step "the best scheme, written out and verified from scratch"
    "$ratchet" best "$store" --format exp > "runs/demo-$shape.exp"
    cat "runs/demo-$shape.exp"
    echo "\$ ratchet verify runs/demo-$shape.exp --shape $shape --field z"
    out=$("$ratchet" verify "runs/demo-$shape.exp" --shape "$shape" --field z)
    echo "$out"
    rank=$(echo "$out" | sed -n 's/^valid: rank \([0-9]*\).*/\1/p')
    if [ "$rank" != "$target" ]; then
        echo "demo: expected verified rank $target for <$shape>, got '${rank:-none}'" >&2
        exit 1
    fi
done
step "done: rank 7 for 2x2 (as Strassen, 1969), rank 23 for 3x3 (as Laderman, 1976) and rank 49 for 4x4 (Strassen's scheme applied twice), found from the standard algorithm with no strategy flags and verified"
