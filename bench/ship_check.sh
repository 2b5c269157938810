#!/bin/sh
# ship_check.sh — step 2 of policy/README.md as one command: may a layer ship?
#
# usage: FIRST=N bench/ship_check.sh LAYER_FILE MAX_SIZE [RATCHET]
#
# LAYER_FILE holds the knobs a meta run's gate admitted (a policy file: only what the candidate
# changed), MAX_SIZE the layer's scope (matmul n*m*p). The script re-measures, with the layer
# against the current default (bench/portfolio_compare.sh, the two arms one after the other per
# seed), every row of the target table whose shape the scope holds (60 s cap) and every
# "minutes" row it holds (600 s cap), on SEEDS (20) seeds from FIRST. FIRST has no default: give
# seeds that no earlier comparison of this layer used. Then it applies the rule:
#   - no row worse beyond the noise: the upper end of each row's paired ratio (default / layer,
#     exp(mean +- 2 standard errors) of the per-seed log-ratios) is at least 1;
#   - the rows together better beyond it: the lower end of the pooled paired ratio is above 1.
# Rows whose CPU medians are under 0.1 s in either arm count for neither (10 ms is the timer's
# step). Prints the measurement and "ship: yes" (exit 0) or "ship: no" with the reasons (exit 1);
# bad input exits 2.
set -u
B=$(dirname "$0")
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: FIRST=N $0 LAYER_FILE MAX_SIZE [RATCHET]" >&2; exit 2; }
layer=$1 max=$2 R=${3:-build/ratchet}
[ -r "$layer" ] || { echo "ship_check: cannot read the layer file '$layer'" >&2; exit 2; }
case $max in '' | *[!0-9]*) echo "ship_check: MAX_SIZE '$max' is not a positive integer" >&2; exit 2 ;; esac
[ "$max" -ge 1 ] || { echo "ship_check: MAX_SIZE '$max' is not a positive integer" >&2; exit 2; }
[ -n "${FIRST:-}" ] || { echo "ship_check: set FIRST, the first of seeds no earlier comparison used" >&2; exit 2; }
case ${FIRST}x${SEEDS:-20} in *[!0-9x]* | x* | *x) echo "ship_check: FIRST and SEEDS must be positive integers" >&2; exit 2 ;; esac
[ "$FIRST" -ge 1 ] && [ "${SEEDS:-20}" -ge 2 ] || { echo "ship_check: FIRST must be 1 or more, SEEDS 2 or more" >&2; exit 2; }
[ -x "$R" ] || { echo "ship_check: no ratchet at $R (run make first)" >&2; exit 2; }
"$R" policy show "$layer" >/dev/null 2>"${TMPDIR:-/tmp}/ship_check.err.$$" || {
    echo "ship_check: $layer: $(head -n 1 "${TMPDIR:-/tmp}/ship_check.err.$$")" >&2
    rm -f "${TMPDIR:-/tmp}/ship_check.err.$$"; exit 2; }
rm -f "${TMPDIR:-/tmp}/ship_check.err.$$"

# the rows of bench/portfolio_compare.sh and their sizes n*m*p
table="" minutes=""
for r in 223z:12 224z:16 233z:18 333z:27 334z:36 344z:48 444z:64 555z:125; do
    [ "${r#*:}" -le "$max" ] && table="$table ${r%%:*}"
done
for r in 345z:60 445z:80 445gf2:80; do
    [ "${r#*:}" -le "$max" ] && minutes="$minutes ${r%%:*}"
done
out=$(mktemp /tmp/ratchet-ship-XXXXXX) || exit 1
trap 'rm -f "$out"' EXIT
echo "layer $layer, scope n*m*p <= $max: table rows${table:- none}; minutes rows${minutes:- none}"
# 555z's hand mode is its own row of portfolio_compare; here it is the layer like every row
if [ -n "$table" ]; then
    HAND="--policy $layer" ROWS="$table" SEEDS=${SEEDS:-20} FIRST=$FIRST CAP=60 \
        "$B/portfolio_compare.sh" "$R" | tee -a "$out" || exit 1
fi
if [ -n "$minutes" ]; then
    HAND="--policy $layer" ROWS="$minutes" SEEDS=${SEEDS:-20} FIRST=$FIRST CAP=600 \
        "$B/portfolio_compare.sh" "$R" | tee -a "$out" || exit 1
fi

# the rule, over the rows printed above (pooled over every row of both runs)
awk '
    function num(s) { gsub(/[\[\],]/, "", s); return s + 0 }
    $2 ~ /^[0-9]+$/ && $NF ~ /\]$/ {
        rows++
        counted = ($4 == "inf" || $4 >= 0.1) && ($7 == "inf" || $7 >= 0.1)
        if (!counted) { print "  " $1 ": under 0.1 CPU s, not counted"; next }
        hi = num($NF)
        if (hi < 1) { bad = bad " " $1 " (paired " $(NF - 2) ", upper end " hi ")" }
        n++
    }
    END {
        if (!rows) { print "ship: no (no row measured)"; exit 1 }
        if (n == 0) { print "ship: no (every row under 0.1 CPU s: nothing to judge)"; exit 1 }
        if (bad != "") { print "ship: no (worse beyond the noise:" bad ")"; exit 1 }
        print "rows judged: " n
    }' "$out" || exit 1
# the pooled ratio over every judged row of both runs: the pairs are in portfolio_compare's
# pooled lines, one per run; with two runs (table and minutes) their pairs are pooled again by
# weighting each run's log-ratio mean by its pairs
pooled=$(sed -n 's/^the rows of 0.1 CPU s or more together (\(.*\)): paired ratio \([0-9.]*\) \[\([0-9.]*\), \([0-9.]*\)\]$/\1|\2|\3|\4/p' "$out")
[ -n "$pooled" ] || { echo "ship: no (no pooled ratio: fewer than two judged pairs)"; exit 1; }
echo "$pooled" | awk -F'|' '
    { k = split($1, r, " "); m = log($2); se = (log($4) - log($3)) / 4
      w += k; sm += k * m; sv += k * k * se * se }
    END { m = sm / w; se = sqrt(sv) / w
          lo = exp(m - 2 * se); hi = exp(m + 2 * se)
          printf "pooled paired ratio %.2f [%.2f, %.2f]\n", exp(m), lo, hi
          if (lo > 1) { print "ship: yes"; exit 0 }
          print "ship: no (the rows together are not better beyond the noise)"; exit 1 }'
