#!/bin/sh
# coevolve_experiment.sh — the experiment of docs/coevolution.md (`make bench-coevolve`): best fit,
# first fit, a solver evolved on a fixed uniform distribution, a specialist evolved on each target
# family (FunSearch's setting), and the co-evolved generalist (which sees neither target family),
# each trained with the same wall-clock budget per seed and evaluated with `ratchet eval` on
# held-out OR1..OR4 and Weibull-5k sets whose seeds no run trains on.
#
# usage: bench/coevolve_experiment.sh [RATCHET]
# environment:
#   ARM_SECONDS  training budget of each arm and seed, wall seconds (default 90)
#   SEEDS        seeds per arm (default 3: seeds 1..SEEDS)
#   JOBS         training runs at a time (default 2)
#   OUT          folder for sets, stores, solvers and logs (default build/bench-coevolve)
# The CPU seconds each run actually got are measured (/usr/bin/time) and printed: on a loaded
# machine equal wall budgets are not equal CPU budgets.
# With the defaults: 12 training runs of 90 s two at a time, about 9 minutes, then the
# evaluations (about a minute).
set -eu
R=${1:-build/ratchet}
T=${ARM_SECONDS:-90}
SEEDS=${SEEDS:-3}
JOBS=${JOBS:-2}
OUT=${OUT:-build/bench-coevolve}

if [ "${2:-}" = "__train" ]; then # one training run: ARM SEED (called through xargs)
    arm=$3 s=$4
    store=$OUT/$arm-$s.db
    case $arm in
    uniform) args="--family uniform --capacity 100 --lo 1 --hi 100 --items 500 --count 5" ;;
    or) args="--family or --items 500 --count 5" ;;
    weibull) args="--family weibull --items 1000 --count 5" ;;
    esac
    if [ "$arm" = coevolve ]; then
        /usr/bin/time -f "%U %S" -o "$OUT/$arm-$s.cpu" "$R" coevolve binpack --seconds "$T" \
            --seed "$s" --store "$store" --out "$OUT/$arm-$s.expr" >"$OUT/$arm-$s.log"
    else
        # shellcheck disable=SC2086
        /usr/bin/time -f "%U %S" -o "$OUT/$arm-$s.cpu" "$R" run binpack $args --train-seed "$s" \
            --seed "$s" --threads 1 --seconds "$T" --store "$store" --quiet >"$OUT/$arm-$s.log"
        "$R" best "$store" >"$OUT/$arm-$s.expr"
    fi
    exit 0
fi

rm -rf "$OUT"
mkdir -p "$OUT"
echo "held-out sets (seeds 9001..9005; training uses train-seed 1..$SEEDS, coevolve its own posers)"
"$R" gen binpack --family or --items 120 --count 20 --seed 9001 --out "$OUT/OR1.json"
"$R" gen binpack --family or --items 250 --count 20 --seed 9002 --out "$OUT/OR2.json"
"$R" gen binpack --family or --items 500 --count 20 --seed 9003 --out "$OUT/OR3.json"
"$R" gen binpack --family or --items 1000 --count 20 --seed 9004 --out "$OUT/OR4.json"
"$R" gen binpack --family weibull --items 5000 --count 5 --seed 9005 --out "$OUT/W5k.json"

echo "training: 4 arms x $SEEDS seeds x ${T}s, $JOBS at a time ($(uptime | sed 's/.*load/load/'))"
for s in $(seq 1 "$SEEDS"); do
    for arm in coevolve uniform or weibull; do
        echo "$arm $s"
    done
done | xargs -P "$JOBS" -L 1 sh "$0" "$R" __train

echo "(neg f)" >"$OUT/bestfit-0.expr"
echo "0" >"$OUT/firstfit-0.expr"
SETS="OR1 OR2 OR3 OR4 W5k"
for f in "$OUT"/*.expr; do
    name=$(basename "$f" .expr)
    for set in $SETS; do
        x=$("$R" eval binpack --solver "$f" --instances "$OUT/$set.json" --json |
            sed 's/.*"excess_percent": *\([-0-9.e+]*\)}$/\1/')
        echo "${name%-*} ${name##*-} $set $x"
    done
done >"$OUT/results.txt"

echo
echo "excess over L1 (%), mean over seeds [min..max]; lower is better"
printf "%-10s" "arm"
for set in $SETS; do printf " %20s" "$set"; done
printf " %12s\n" "CPU s/seed"
for arm in bestfit firstfit uniform or weibull coevolve; do
    printf "%-10s" "$arm"
    for set in $SETS; do
        awk -v a="$arm" -v s="$set" '$1 == a && $3 == s { n++; t += $4;
            if (n == 1 || $4 < lo) lo = $4; if (n == 1 || $4 > hi) hi = $4 }
            END { if (n > 1) printf " %7.3f [%5.2f..%5.2f]", t / n, lo, hi;
                  else printf " %20.3f", t }' "$OUT/results.txt"
    done
    cpu=$(cat "$OUT/$arm"-*.cpu 2>/dev/null | awk '{ t += $1 + $2; n++ } END { if (n) printf "%.1f", t / n; else printf "-" }')
    printf " %12s\n" "$cpu"
done
echo
echo "what the posers posed (seed 1: first, middle and last epochs; [cCAP nITEMS MIX ORDER r reward m mean size/cap]):"
log=$OUT/coevolve-1.log
n=$(grep -c '^epoch' "$log" || true)
sed -n "1p;$(( (n + 1) / 2 ))p;${n}p" "$log" | cut -c1-400
echo "generalists:"
for s in $(seq 1 "$SEEDS"); do echo "  seed $s: $(cat "$OUT/coevolve-$s.expr")"; done
