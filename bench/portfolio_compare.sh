#!/bin/sh
# portfolio_compare.sh — the default portfolio (`ratchet run matmul --shape S --field F`, no
# strategy flags) against the best hand mode of each row of the target table, in one session:
# for each row and seed the two runs go one after the other, so both see the same load.
# Prints, per row, the successes and the median CPU seconds (user + system, /usr/bin/time) and
# wall seconds to reach the target, the ratio default / hand of the CPU medians, and the paired
# ratio of the CPU seconds seed by seed with its interval (paired, below). A run that
# misses its target counts as taking forever (its CPU time is shown as "inf").
#
# usage: bench/portfolio_compare.sh [RATCHET]
# environment: ROWS (default "223z 233z 224z 333z 334z 344z 444z"; also 555z, whose hand mode
#   here is symlong over Z in one command, not docs/records.md's GF(2) run and lift; and the
#   "minutes" rows 345z, 445z, 445gf2, and the table's shapes over GF(2) up to <3,4,4> (223gf2
#   ... 344gf2, for a layer scoped to GF(2)), which have no hand mode and run only with HAND, to
#   compare a policy with the default), SEEDS (5), FIRST (1: the first
#   seed, so that a re-measurement can use seeds no earlier one used), CAP (a run's seconds, for
#   every row; unset: 60, and 600 for 555z and the minutes rows),
#   THREADS (2), VERBOSE (each run on standard error), DEFAULT (flags added to the default's
#   runs), HAND (flags run in place of every row's hand mode: HAND=--steady DEFAULT=... compares
#   two ways of running the default instead), HAND_BIN (the ratchet binary of the hand arm, for
#   two builds side by side: HAND= HAND_BIN=old/ratchet compares them with no flags; default: RATCHET)
set -u
R=${1:-build/ratchet}
ROWS=${ROWS:-"223z 233z 224z 333z 334z 344z 444z"}
SEEDS=${SEEDS:-5}
FIRST=${FIRST:-1}
CAP=${CAP:-}
case $CAP in *[!0-9.]*) echo "portfolio_compare: CAP '$CAP' is not a number of seconds" >&2; exit 2 ;; esac
THREADS=${THREADS:-2}
B=$(dirname "$0")
case $SEEDS$FIRST in *[!0-9]*) echo "portfolio_compare: SEEDS and FIRST must be positive integers" >&2; exit 2 ;; esac
[ "$SEEDS" -ge 1 ] && [ "$FIRST" -ge 1 ] || { echo "portfolio_compare: SEEDS and FIRST must be positive integers" >&2; exit 2; }
[ -x "$R" ] || { echo "portfolio_compare: no ratchet at $R (run make first)" >&2; exit 2; }
HB=${HAND_BIN:-$R}
[ -x "$HB" ] || { echo "portfolio_compare: HAND_BIN '$HB' is not an executable" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "portfolio_compare: needs /usr/bin/time (Debian: time)" >&2; exit 2; }
tmp=$(mktemp -d /tmp/ratchet-pfcmp-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# name -> "shape field rank hand-flags": the hand modes of docs/records.md; "walk" is the plain
# walker of before the portfolio (bench/matmul-walk.json: walk and plus only, lengths fixed)
row() {
    case $1 in
    223z) echo "2x2x3 z 11 --policy $B/matmul-walk.json" ;;
    233z) echo "2x3x3 z 15 --policy $B/matmul-walk.json" ;;
    224z) echo "2x2x4 z 14 --policy $B/matmul-walk.json" ;;
    333z) echo "3x3x3 z 23 --policy $B/matmul-walk.json" ;;
    334z) echo "3x3x4 z 29 --lift 1" ;;
    344z) echo "3x4x4 z 38 --lift 1 --policy $B/matmul-restart.json" ;;
    444z) echo "4x4x4 z 49 --symmetric 1" ;;
    555z) echo "5x5x5 z 93 --symmetric 1 --policy $B/matmul-sym-long.json" ;;
    # the "minutes" rows: no hand mode reaches them, so they run only with HAND (a policy to
    # compare with the default, policy/README.md step 2) and a cap of 600 s
    345z) echo "3x4x5 z 47" ;;
    445z) echo "4x4x5 z 62" ;;
    445gf2) echo "4x4x5 gf2 60" ;;
    # the table's shapes over GF(2), at their best known ranks there (the same as over Z for
    # these shapes); <4,4,4> is left out: its 47 over GF(2) is not reached (docs/records.md)
    223gf2) echo "2x2x3 gf2 11" ;;
    233gf2) echo "2x3x3 gf2 15" ;;
    224gf2) echo "2x2x4 gf2 14" ;;
    333gf2) echo "3x3x3 gf2 23" ;;
    334gf2) echo "3x3x4 gf2 29" ;;
    344gf2) echo "3x4x4 gf2 38" ;;
    *) return 1 ;;
    esac
}

# one run: prints "cpu wall rank" (cpu "inf" when the target was missed or came after the cap)
one() {
    shape=$1 field=$2 known=$3 seed=$4
    shift 4
    db="$tmp/run.db"
    rm -f "$db" "$db"-*
    /usr/bin/time -f "%U %S" -o "$tmp/time" "$bin" run matmul --shape "$shape" --field "$field" \
        --target "$known" --seconds "$cap" --seed "$seed" --threads "$THREADS" "$@" --quiet \
        --store "$db" >"$tmp/out" 2>&1
    line=$(tail -n 1 "$tmp/out")
    rank=$(echo "$line" | sed -n 's/.*best verified rank \([0-9]*\) after.* in \([0-9.]*\) s.*/\1/p')
    wall=$(echo "$line" | sed -n 's/.*best verified rank \([0-9]*\) after.* in \([0-9.]*\) s.*/\2/p')
    cpu=$(awk '{printf "%.2f", $1 + $2}' "$tmp/time")
    [ -z "$rank" ] && { rank=999; wall=inf; }
    ok=$(awk -v r="$rank" -v k="$known" -v w="$wall" -v c="$cap" \
        'BEGIN { print (r <= k && w != "inf" && w + 0 <= c + 0) ? 1 : 0 }')
    [ "$ok" = 1 ] || cpu=inf
    echo "$cpu $wall $rank"
}

median() {
    for x in "$@"; do echo "$x"; done | sort -g | awk '{v[NR]=$1} END {
        m = (NR % 2) ? v[(NR+1)/2] : ((v[NR/2] == "inf" || v[NR/2+1] == "inf") ? "inf" : (v[NR/2] + v[NR/2+1]) / 2);
        print m }'
}

# The paired ratio of the two arms' CPU seconds over the row's seeds: the geometric mean of
# default / hand, seed by seed, with exp(mean +- 2 standard errors) of the logs (the held-out
# gate's margin), so a row's verdict can be told from the seed-to-seed noise. A miss counts as
# twice the CPU a run can spend within the row's cap (the callers replace "inf" by it, misses);
# 10 ms is added to both arms, the timer's step.
# The last line pools the pairs of every row whose medians are 0.1 CPU s or more in both arms.
paired() {
    echo "$1" "$2" | awk -v n="${3:-$SEEDS}" '
    { for (i = 1; i <= n; i++) {
          x[i] = log(($i + 0.01) / ($(i + n) + 0.01)); m += x[i] / n } }
    END { if (n < 2) { print "-"; exit }
          for (i = 1; i <= n; i++) v += (x[i] - m) ^ 2 / (n - 1)
          se = sqrt(v / n)
          printf "%.2f [%.2f, %.2f]", exp(m), exp(m - 2 * se), exp(m + 2 * se) }'
}

if [ -n "${DEFAULT:-}${HAND+x}${HAND_BIN:-}" ]; then
    echo "arms: default${DEFAULT:+ $DEFAULT} against ${HAND+${HAND:-no flags}}$([ -n "${HAND+x}" ] || echo "each row's hand mode")${HAND_BIN:+ run by $HB}"
fi
echo "portfolio vs hand modes: $SEEDS seeds from $FIRST, --threads $THREADS, cap ${CAP:-60 (600 for 555z and the minutes rows)} s, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-7s %5s  %-9s %9s %9s  %-9s %9s %9s  %-9s %s\n' shape known "default" "cpu s" "wall s" "hand" "cpu s" \
    "wall s" "cpu ratio" "paired ratio [2 se]"
adc="" ahc="" an=0 arows=""
for name in $ROWS; do
    spec=$(row "$name") || { echo "portfolio_compare: unknown row '$name'" >&2; exit 2; }
    set -- $spec
    shape=$1 field=$2 known=$3
    shift 3
    [ $# -gt 0 ] || [ -n "${HAND+x}" ] || {
        echo "portfolio_compare: row '$name' has no hand mode: set HAND" >&2; exit 2; }
    case $name in 555z | 345z | 445z | 445gf2) cap=${CAP:-600} ;; *) cap=${CAP:-60} ;; esac
    miss=$(awk -v c="$cap" -v t="$THREADS" 'BEGIN { print 2 * c * t }')
    hand=${HAND-"$*"}
    dc="" dw="" hc="" hw="" dok=0 hok=0
    s=$FIRST
    while [ "$s" -lt $((FIRST + SEEDS)) ]; do
        bin=$R
        set -- $(one "$shape" "$field" "$known" "$s" ${DEFAULT:-})
        dc="$dc $1" dw="$dw $2"
        [ "$1" = inf ] || dok=$((dok + 1))
        [ -n "${VERBOSE:-}" ] && echo "  $name seed $s default: cpu $1 s, wall $2 s, rank $3" >&2
        bin=$HB
        set -- $(one "$shape" "$field" "$known" "$s" $hand)
        hc="$hc $1" hw="$hw $2"
        [ "$1" = inf ] || hok=$((hok + 1))
        [ -n "${VERBOSE:-}" ] && echo "  $name seed $s hand ($hand): cpu $1 s, wall $2 s, rank $3" >&2
        s=$((s + 1))
    done
    mdc=$(median $dc) mdw=$(median $dw) mhc=$(median $hc) mhw=$(median $hw)
    ratio=$(awk -v a="$mdc" -v b="$mhc" 'BEGIN { if (a == "inf" || b == "inf") print "-";
        else printf "%.2f", (a + 0.01) / (b + 0.01) }')
    dm=$(echo $dc | sed "s/inf/$miss/g") hm=$(echo $hc | sed "s/inf/$miss/g")
    pair=$(paired "$dm" "$hm")
    # the rows together: every pair of the rows whose medians are 0.1 CPU s or more in both arms,
    # or "inf" (not reached) in either (bench/ship_rule.awk judges the same rows)
    if awk -v a="$mdc" -v b="$mhc" 'BEGIN { exit !(a == "inf" || b == "inf" || (a >= 0.1 && b >= 0.1)) }'; then
        adc="$adc $dm" ahc="$ahc $hm" an=$((an + SEEDS)) arows="$arows $shape"
    fi
    printf '%-7s %5s  %-9s %9s %9s  %-9s %9s %9s  %-9s %s\n' "$shape" "$known" "$dok/$SEEDS" "$mdc" \
        "$mdw" "$hok/$SEEDS" "$mhc" "$mhw" "$ratio" "$pair"
done
[ "$an" -ge 2 ] && echo "the rows of 0.1 CPU s or more together ($arows ): paired ratio $(paired "$adc" "$ahc" "$an")"
exit 0
