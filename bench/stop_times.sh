#!/bin/bash
# stop_times.sh — how long a run takes to stop (docs/scheduling.md): `--seconds S` with
# evaluators that take 60 s over every child, and the first Ctrl-C (SIGINT) to the exit, N runs
# each; prints every time and the median.
# usage: bench/stop_times.sh [RATCHET] [N] [SECONDS]
set -u
tool=${1:-build/ratchet}
n=${2:-5}
secs=${3:-10}
data=tests/data/program
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$dir/deadline"
for i in $(seq "$n"); do
    t0=$(now)
    "$tool" run program --initial $data/tiny.txt --evaluator $data/slow60_evaluate.sh \
        --seconds "$secs" --jobs 2 --store "$dir/d$i.db" --quiet >/dev/null 2>&1
    rc=$?
    t=$(echo "$(now) - $t0" | bc)
    echo "--seconds $secs, 60 s evaluations: run $i took $t s (exit $rc)"
    echo "$t" >>"$dir/deadline"
done
echo "--seconds $secs: median $(median <"$dir/deadline") s over $n runs"
: >"$dir/ctrlc"
for i in $(seq "$n"); do
    "$tool" run program --initial $data/tiny.txt --evaluator $data/slow60_evaluate.sh \
        --seconds 300 --jobs 2 --store "$dir/c$i.db" --quiet >/dev/null 2>&1 &
    pid=$!
    while [ ! -e "$dir/c$i.db" ]; do sleep 0.05; done
    sleep 1 # the children are in their 60 s evaluations
    t0=$(now)
    kill -INT $pid
    wait $pid
    rc=$?
    t=$(echo "$(now) - $t0" | bc)
    echo "Ctrl-C: run $i exited $rc after $t s"
    echo "$t" >>"$dir/ctrlc"
done
echo "Ctrl-C: median $(median <"$dir/ctrlc") s over $n runs"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
