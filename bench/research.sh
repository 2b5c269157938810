#!/bin/sh
# bench/research.sh — the evidence of docs/research.md (`make bench-research`):
#   1. ratchet research on examples/tinylm for GATED_SECONDS (noise-aware acceptance);
#   2. the same for TRUST_SECONDS with --trust-proxy (AutoResearch's rule: keep when the single
#      validation figure improved);
#   3. the baseline and the gated run's final kept program re-run outside ratchet with SEEDS
#      fresh seeds each: validation and test bits per byte, mean and spread (the noise floor);
#   4. the naive rule's keeps that did not hold: on the re-run ratchet recorded for each
#      (verified column) and on the test split, each against the keep before it;
#   5. with KEEP_RERUNS=1, every keep of both runs re-run outside ratchet with the same SEEDS
#      fresh seeds, each against the keep before it (a false keep: not better on the mean).
# ANALYSE_ONLY=1 skips 1 and 2 and analyses the runs already in OUTDIR.
# Usage: bench/research.sh RATCHET [OUTDIR]; environment: GATED_SECONDS (1200), TRUST_SECONDS
# (420), TRAIN_WORK (1200: million units of tinylm's training work per run, about a CPU second;
# the same steps whatever the load), TRAIN_SECONDS (unset: CPU seconds of training per run
# instead of TRAIN_WORK), BUDGET (60: wall seconds per experiment, the hard kill), SEEDS (5).
# The defaults fit in 30 minutes on a 2-core machine (docs/research.md has a run's figures).
set -eu
RATCHET=${1:?usage: bench/research.sh RATCHET [OUTDIR]}
OUT=${2:-$(mktemp -d /tmp/ratchet-bench-research-XXXXXX)}
GATED_SECONDS=${GATED_SECONDS:-1200}
TRUST_SECONDS=${TRUST_SECONDS:-420}
TRAIN_WORK=${TRAIN_WORK:-1200}
TRAIN_SECONDS=${TRAIN_SECONDS:-}
BUDGET=${BUDGET:-60}
SEEDS=${SEEDS:-5}
HERE=$(cd "$(dirname "$0")/.." && pwd)
RATCHET=$(cd "$(dirname "$RATCHET")" && pwd)/$(basename "$RATCHET")
mkdir -p "$OUT"
cd "$OUT"
if [ -z "${ANALYSE_ONLY:-}" ]; then
    rm -rf proj gated trusted
    mkdir proj gated trusted
    cp "$HERE/examples/tinylm/tinylm.c" proj/
fi
if [ -n "$TRAIN_SECONDS" ]; then
    TRAIN="TINYLM_SECONDS=$TRAIN_SECONDS" WHAT="$TRAIN_SECONDS CPU s"
else
    TRAIN="TINYLM_WORK=$TRAIN_WORK" WHAT="$TRAIN_WORK million units of work"
fi
RUN="cc -O2 -o tinylm tinylm.c -lm && $TRAIN ./tinylm"
START=$(date +%s)
echo "bench-research: $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg), out: $OUT"
echo "training $WHAT per run, wall budget $BUDGET s per experiment"

research() { # $1 store folder, $2 seconds, then extra flags
    dir=$1 secs=$2
    shift 2
    t0=$(date +%s)
    "$RATCHET" research --dir proj --edit tinylm.c --run "$RUN" --metric val_bpb \
        --test-metric test_bpb --budget "$BUDGET" --seconds "$secs" --quiet \
        --store "$dir/run.db" "$@" > "$dir/summary.txt"
    cat "$dir/summary.txt"
    echo "$dir: $(($(date +%s) - t0)) s wall, load now $(cut -d' ' -f1-3 /proc/loadavg)"
}

if [ -z "${ANALYSE_ONLY:-}" ]; then
    echo "== gated ($GATED_SECONDS s)"
    research gated "$GATED_SECONDS"
    echo "== --trust-proxy ($TRUST_SECONDS s)"
    research trusted "$TRUST_SECONDS" --trust-proxy
fi

# mean and sample spread of column $1 of the "val test" lines on stdin
stats() { awk -v c="$1" '{ s += $c; q += $c * $c; n++ }
    END { m = s / n; v = n > 1 ? (q - s * s / n) / (n - 1) : 0; if (v < 0) v = 0;
          printf "%.4f +- %.4f (n=%d)", m, sqrt(v), n }'; }

# $1: a program; prints "val test" for SEEDS fresh seeds (1001, 1002, ...)
reruns() {
    rm -rf rr && mkdir rr && cp "$1" rr/tinylm.c
    (cd rr && cc -O2 -o tinylm tinylm.c -lm)
    i=1
    while [ "$i" -le "$SEEDS" ]; do
        env RATCHET_SEED=$((1000 + i)) "$TRAIN" ./rr/tinylm |
            awk '/^val_bpb:/ { v = $2 } /^test_bpb:/ { t = $2 } END { print v, t }'
        i=$((i + 1))
    done
}

echo "== re-runs outside ratchet, $SEEDS fresh seeds each (val_bpb, test_bpb: mean +- spread)"
"$RATCHET" best gated/run.db > final.c
reruns proj/tinylm.c > base.txt
reruns final.c > final.txt
echo "baseline      val $(stats 1 < base.txt)   test $(stats 2 < base.txt)"
echo "final kept    val $(stats 1 < final.txt)   test $(stats 2 < final.txt)"
awk 'NR == FNR { bv += $1; bt += $2; n++; next } { fv += $1; ft += $2; m++ }
     END { printf "improvement val %.4f, test %.4f (baseline minus final, means)\n",
           bv / n - fv / m, bt / n - ft / m }' base.txt final.txt

echo "== the naive rule's keeps (--trust-proxy), each against the keep before it"
awk -F'\t' 'NR > 1 && $4 ~ /^keep/ {
        if (seen) { n++; if ($6 >= pv) rerun++; if ($7 >= pt) test++; if ($6 >= pv || $7 >= pt) any++ }
        pv = $6; pt = $7; seen = 1 }
     END { printf "naive keeps beyond the baseline: %d; worse on ratchet'"'"'s re-run: %d; " \
           "worse on test: %d; either: %d\n", n, rerun, test, any }' trusted/results.tsv
awk -F'\t' 'NR > 1 && $4 ~ /^keep/ {
        if (seen) { n++; if ($6 >= pv) rerun++; if ($7 >= pt) test++ }
        pv = $6; pt = $7; seen = 1 }
     END { printf "gated keeps beyond the baseline: %d; worse on their re-run mean: %d; " \
           "worse on test: %d\n", n, rerun, test }' gated/results.tsv
for d in gated trusted; do
    awk -F'\t' -v d=$d 'NR > 1 { n++; s[$4]++ } END {
        printf "%s: %d experiments, keep %d, discard %d, crash %d\n", d, n,
               s["keep"] + s["keep(trusted)"], s["discard"], s["crash"] }' $d/results.tsv
done
# $1: a store folder; every keep re-run with the SEEDS seeds, each against the keep before it
keep_reruns() {
    for id in $("$RATCHET" list "$1/run.db" --admitted | awk 'NR > 1 { print $1 }'); do
        "$RATCHET" show "$1/run.db" "$id" --text > "$1/keep-$id.c"
        reruns "$1/keep-$id.c" > "$1/keep-$id.txt"
        echo "$id $(awk '{ v += $1; t += $2; n++ } END { printf "%.4f %.4f", v / n, t / n }' \
            "$1/keep-$id.txt")"
    done | awk -v d="$1" '{ printf "  %s keep #%s: val %s test %s", d, $1, $2, $3
            if (NR > 1) { n++; bv = $2 >= pv; bt = $3 >= pt; v += bv; t += bt; e += bv || bt
                          printf "  (gain val %+.4f, test %+.4f)%s%s", pv - $2, pt - $3,
                                 bv ? "  NOT BETTER ON VAL" : "", bt ? "  NOT BETTER ON TEST" : "" }
            printf "\n"; pv = $2; pt = $3 }
        END { printf "%s: %d keeps beyond the baseline; not better than the keep before on the "\
              "re-runs'"'"' mean: val %d, test %d, either %d\n", d, n, v, t, e }'
}
if [ -n "${KEEP_RERUNS:-}" ]; then
    echo "== every keep re-run outside ratchet with the same $SEEDS seeds (means)"
    keep_reruns trusted
    keep_reruns gated
fi
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(($(date +%s) - START)) s in all"
