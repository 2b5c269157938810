#!/bin/sh
# mpi_scaling.sh — a matmul run on 1 process and on 1, 2 and 4 MPI worker ranks (docs/scaling.md):
# evaluations per second over a fixed budget, time to a fixed target, and rank 0's CPU per job.
# usage: bench/mpi_scaling.sh [RATCHET] [SEEDS] [EVALUATIONS]
# Prints one line per run: ranks, seed, what, evaluations, seconds, evaluations per second, and
# for MPI runs rank 0's jobs per CPU second. Ranks beyond the cores are oversubscribed.
set -u
R=${1:-build/ratchet}
SEEDS=${2:-"1 2 3"}
EVALS=${3:-600}
SHAPE="--shape 4x4x4 --field gf2"
TARGET=${TARGET:-51}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "# $(uptime)"
echo "# np seed what evaluations seconds evals/s rank0-jobs-per-cpu-s"
one() { # np seed what args...
    np=$1 seed=$2 what=$3
    shift 3
    launch=""
    [ "$np" -gt 1 ] && launch="mpirun --oversubscribe -np $np"
    rm -f "$dir"/s.db*
    $launch "$R" run matmul $SHAPE --seed "$seed" --threads 1 --quiet --store "$dir/s.db" "$@" \
        >"$dir/out" 2>"$dir/err"
    line=$(sed -n 's/.* after \([0-9]*\) evaluations (\([0-9]*\) proposals) in \([0-9.]*\) s.*/\2 \3/p' "$dir/out")
    set -- $line
    ceil=$(sed -n 's/.*: \([0-9]*\) jobs per CPU second of rank 0/\1/p' "$dir/err")
    echo "$np $seed $what $1 $2 $(echo "$1 / $2" | bc -l | xargs printf '%.0f') ${ceil:--}"
}
for seed in $SEEDS; do
    for np in 1 2 3 5; do
        one "$np" "$seed" budget --evaluations "$EVALS"
        one "$np" "$seed" target --target "$TARGET" --seconds 120
    done
done
echo "# $(uptime)"
# the program problem: rank 0 re-runs the evaluator on every child (its verification)
for seed in $SEEDS; do
    rm -f "$dir"/p.db*
    mpirun --oversubscribe -np 3 "$R" run program --initial tests/data/program/tiny.txt \
        --evaluator tests/data/program/evaluate.sh --evaluations 60 --seed "$seed" --quiet \
        --store "$dir/p.db" >"$dir/out" 2>"$dir/err"
    echo "3 $seed program $(sed -n 's/.*: \([0-9]*\) jobs per CPU second of rank 0/\1/p' "$dir/err") jobs per rank-0 CPU s; $(grep -o 'rank 0 used.*ran)' "$dir/err")"
done
echo "# $(uptime)"
