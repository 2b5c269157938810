#!/bin/sh
# ship_check.sh — step 2 of policy/README.md as one command: may a layer ship?
#
# usage: FIRST=N bench/ship_check.sh LAYER_FILE MAX_SIZE [RATCHET]
#
# LAYER_FILE holds the knobs a meta run's gate admitted (a policy file: only what the candidate
# changed), MAX_SIZE the layer's scope (matmul n*m*p). The script re-measures, with the layer
# against the current default (bench/portfolio_compare.sh, the two arms one after the other per
# seed, in one run), every row of the target table whose shape the scope holds (60 s cap) and
# every "minutes" row it holds (600 s cap), on SEEDS (20) seeds from FIRST. FIELD names the
# scope's field: unset, the layer holds both fields, and the rows are the target table's (over
# Z) and the three minutes rows; z, the table and the minutes rows over Z; gf2, the table's
# shapes over GF(2) (portfolio_compare's 223gf2 ... 344gf2) and <4,4,5> over GF(2). FIRST has no
# default: give seeds that no earlier comparison of this layer used. Then it applies the rule
# (bench/ship_rule.awk, where tests/test_ship_check.c tries it):
#   - no row worse beyond the noise: the upper end of each row's paired ratio (default / layer,
#     exp(mean +- 2 standard errors) of the per-seed log-ratios) is at least 1;
#   - the rows together better beyond it: the lower end of the pooled paired ratio is above 1.
# Rows whose CPU medians are under 0.1 s in either arm count for neither (10 ms is the timer's
# step), unless the other arm's median is inf (not reached). Prints the measurement and "ship: yes" (exit 0) or "ship: no" with the reasons (exit 1);
# with SEEDS below 20 it may say no, never yes. Bad input exits 2.
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
trows="223z:12 224z:16 233z:18 333z:27 334z:36 344z:48 444z:64 555z:125"
mrows="345z:60 445z:80 445gf2:80"
case ${FIELD-} in
'') ;;
z) mrows="345z:60 445z:80" ;;
gf2) trows="223gf2:12 224gf2:16 233gf2:18 333gf2:27 334gf2:36 344gf2:48" mrows="445gf2:80" ;;
*) echo "ship_check: FIELD '$FIELD' is not z or gf2" >&2; exit 2 ;;
esac
table="" minutes=""
for r in $trows; do
    [ "${r#*:}" -le "$max" ] && table="$table ${r%%:*}"
done
for r in $mrows; do
    [ "${r#*:}" -le "$max" ] && minutes="$minutes ${r%%:*}"
done
out=$(mktemp /tmp/ratchet-ship-XXXXXX) || exit 1
trap 'rm -f "$out" "$out.rc"' EXIT
echo "layer $layer, scope n*m*p <= $max${FIELD:+ over $FIELD}: table rows${table:- none}; minutes rows${minutes:- none}"
[ -n "$table$minutes" ] || { echo "ship: no (the scope holds no row of the target table)"; exit 1; }
# one run of portfolio_compare, so that the pooled ratio is over every pair: its caps are 60 s,
# and 600 s for 555z and the minutes rows
{
    HAND="--policy $layer" ROWS="${table# }$minutes" SEEDS=${SEEDS:-20} FIRST=$FIRST CAP= \
        "$B/portfolio_compare.sh" "$R"
    echo $? >"$out.rc"
} | tee "$out"
[ "$(cat "$out.rc")" = 0 ] || exit 1

# the rule (bench/ship_rule.awk), over the rows printed above
awk -v seeds="${SEEDS:-20}" -f "$B/ship_rule.awk" "$out"
