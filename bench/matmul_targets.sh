#!/bin/sh
# matmul_targets.sh — the target table of issue 3: for each target (shape, field, best known
# rank), runs `ratchet run matmul ... --target R` once per seed and prints ratchet's best verified
# rank, the median time to reach the target and the success rate over the seeds.
#
# usage: bench/matmul_targets.sh [RATCHET]
# environment:
#   TARGETS   which rows, by name (default: the "seconds" and "a minute" rows); "all" for every
#             row; names: 223z 233z 224z 334z 344z 333z 444z 555z 345gf2 445gf2 445z
#   SEEDS     seeds per target (default 5; seeds 1..SEEDS)
#   CAP       seconds per run before it counts as a failure (default 60; "minutes" rows: CAPX)
#   CAPX      cap for the "minutes" rows (default 600)
#   THREADS   --threads (default 2)
#   VERBOSE   set: each run's rank and time on standard error
#   HAND      set: each row runs its hand mode (below) instead of the default; unset (the default):
#             every row is `ratchet run matmul --shape S --field F` with no strategy flags, the
#             portfolio of docs/recursion.md, and the mode column says "default"
#   DEFAULT   flags added to every run (for example --reproducible: in generations, a seed gives
#             the same run whatever the load, as for the files under results/)
#   SAVE      a folder: the best scheme of every run that reaches its target is written there as
#             NxMxP-R-FIELD.exp (`ratchet best` output), for results/, and the command that
#             reproduces it is appended to SAVE/commands.txt
# With HAND set, each row has a mode, printed in the table (the hand modes found before the
# portfolio, kept as its baseline: bench/portfolio_compare.sh): "walk" (a walk over the row's
# field: the plain walker of before the portfolio, bench/matmul-walk.json; "walk+long":
# bench/matmul-walk-long.json), "lift" (over Z:
# `--lift 1`, the walk is over GF(2) and a child is admitted only if it lifts to Z; GF(2) walks
# are about 2.5x faster and have more flips), "+long" (the policy bench/matmul-long.json:
# longer walker runs and plateaus, for the larger shapes), "+restart" (bench/matmul-restart.json:
# walkers that drift up to 3 above their best, random plateau lengths, and 30% of runs fresh
# descents from the standard algorithm; docs/policy.md), "sym" (`--symmetric 1`: schemes
# invariant under the cyclic rotation of the factors, docs/matmul-symmetric.md), "symlong"
# (bench/matmul-sym-long.json: symmetric walker runs of 10^8 flips that do not stop at their first
# improvement, parents mostly the best scheme), "+lift" (the run searches over GF(2); its best
# scheme is lifted to the integers with `ratchet best --format lift` and counts only when
# `ratchet verify --field z` accepts the lift). The mode of each row is the best one measured
# (docs/records.md).
# A run that reaches the target only after its cap (the engine finishes the generation it is in
# before it stops) counts as failed. A failed run counts as taking forever: the median is over all seeds, so it is "> CAP" when half
# or more of the seeds fail. Every rank printed was verified by the run's gate.
set -u
R=${1:-build/ratchet}
SEEDS=${SEEDS:-5}
CAP=${CAP:-60}
CAPX=${CAPX:-600}
THREADS=${THREADS:-2}
TARGETS=${TARGETS:-"223z 233z 224z 334z 344z 333z 444z"}
[ "$TARGETS" = all ] && TARGETS="223z 233z 224z 334z 344z 333z 444z 555z 345gf2 445gf2 445z"
POLICY_LONG=${POLICY_LONG:-$(dirname "$0")/matmul-long.json}
POLICY_WALK=${POLICY_WALK:-$(dirname "$0")/matmul-walk.json}
POLICY_WALK_LONG=${POLICY_WALK_LONG:-$(dirname "$0")/matmul-walk-long.json}
POLICY_RESTART=${POLICY_RESTART:-$(dirname "$0")/matmul-restart.json}
POLICY_SYMLONG=${POLICY_SYMLONG:-$(dirname "$0")/matmul-sym-long.json}
[ -x "$R" ] || { echo "matmul_targets: no ratchet at $R (run make first)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/ratchet-targets-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# name -> "shape field rank cap mode"
row() {
    case $1 in
    223z) echo "2x2x3 z 11 $CAP walk" ;;
    233z) echo "2x3x3 z 15 $CAP walk" ;;
    224z) echo "2x2x4 z 14 $CAP walk" ;;
    334z) echo "3x3x4 z 29 $CAP lift" ;;
    344z) echo "3x4x4 z 38 $CAP lift+restart" ;;
    333z) echo "3x3x3 z 23 $CAP walk" ;;
    444z) echo "4x4x4 z 49 $CAP sym" ;;
    555z) echo "5x5x5 z 93 $CAPX symlong+lift" ;;
    345gf2) echo "3x4x5 gf2 47 $CAPX walk+long" ;;
    445gf2) echo "4x4x5 gf2 60 $CAPX walk+long" ;;
    445z) echo "4x4x5 z 62 $CAPX lift+long" ;;
    *) return 1 ;;
    esac
}

echo "ratchet matmul target table: $SEEDS seeds, --threads $THREADS, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-4s %-12s %5s %9s %9s %12s %8s\n' shape field mode known ratchet "(median)" "median time" success
for name in $TARGETS; do
    spec=$(row "$name") || { echo "matmul_targets: unknown target '$name'" >&2; exit 2; }
    set -- $spec
    shape=$1 field=$2 known=$3 cap=$4 mode=$5
    [ -n "${HAND:-}" ] || mode=default
    extra="${DEFAULT:-}" runfield=$field
    case $mode in lift*) extra="$extra --lift 1" ;; sym*) extra="$extra --symmetric 1" ;; esac
    case $mode in
    walk) extra="$extra --policy $POLICY_WALK" ;;
    walk+long) extra="$extra --policy $POLICY_WALK_LONG" ;;
    *+long) extra="$extra --policy $POLICY_LONG" ;;
    *+restart) extra="$extra --policy $POLICY_RESTART" ;;
    symlong*) extra="$extra --policy $POLICY_SYMLONG" ;;
    esac
    # "+lift": the run searches over GF(2); its best scheme is lifted (ratchet best --format lift)
    # and the lift checked over the integers (ratchet verify); only a verified lift counts
    case $mode in *+lift) runfield=gf2 ;; esac
    times="" ranks="" ok=0
    s=1
    while [ "$s" -le "$SEEDS" ]; do
        db="$tmp/$name-$s.db"
        out=$("$R" run matmul --shape "$shape" --field "$runfield" --target "$known" \
            --seconds "$cap" --seed "$s" --threads "$THREADS" $extra --quiet --store "$db" 2>&1 | tail -n 1)
        # "best verified rank N after E evaluations in T s (store ...)"
        rank=$(echo "$out" | sed -n 's/.*best verified rank \([0-9]*\) after.* in \([0-9.]*\) s.*/\1/p')
        secs=$(echo "$out" | sed -n 's/.*best verified rank \([0-9]*\) after.* in \([0-9.]*\) s.*/\2/p')
        if [ -z "$rank" ]; then
            echo "matmul_targets: $name seed $s: $out" >&2
            rank=999 secs=inf
        fi
        case $mode in *+lift)
            t0=$(date +%s.%N)
            if "$R" best "$db" --format lift >"$tmp/lift.exp" 2>"$tmp/lift.err" &&
                "$R" verify "$tmp/lift.exp" --shape "$shape" --field z >/dev/null 2>&1; then
                secs=$(echo "$secs $t0 $(date +%s.%N)" | awk '{printf "%.1f", $1 + $3 - $2}')
            else
                echo "matmul_targets: $name seed $s: the GF(2) rank-$rank scheme did not lift:" \
                    "$(tail -n 1 "$tmp/lift.err")" >&2
                rank=999 secs=inf
            fi
        esac
        ranks="$ranks $rank"
        [ -n "${VERBOSE:-}" ] && echo "  $name seed $s: rank $rank in $secs s" >&2
        # a run past its cap (the engine ends a generation before it stops) does not count
        late=$(awk -v t="$secs" -v c="$cap" 'BEGIN { print (t == "inf" || t + 0 > c + 0) ? 1 : 0 }')
        if [ "$rank" -le "$known" ] && [ "$late" = 0 ]; then
            ok=$((ok + 1))
            times="$times $secs"
            if [ -n "${SAVE:-}" ]; then
                mkdir -p "$SAVE"
                case $mode in
                *+lift) cp "$tmp/lift.exp" "$SAVE/$shape-$rank-$field.exp" ;;
                *) "$R" best "$db" >"$SAVE/$shape-$rank-$field.exp" 2>/dev/null ;;
                esac
                lifted=""
                case $mode in *+lift) lifted=", then ratchet best STORE --format lift" ;; esac
                echo "$shape-$rank-$field.exp: ratchet run matmul --shape $shape --field $runfield" \
                    "--target $known --seed $s --threads $THREADS $extra$lifted ($secs s)" >>"$SAVE/commands.txt"
            fi
        else
            times="$times inf"
        fi
        s=$((s + 1))
    done
    best=$(for x in $ranks; do echo "$x"; done | sort -n | head -n 1)
    medrank=$(for x in $ranks; do echo "$x"; done | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
    med=$(for x in $times; do echo "$x"; done | sort -g | awk -v cap="$cap" '
        {v[NR]=$1} END {m = (NR % 2) ? v[(NR+1)/2] : ((v[NR/2] == "inf" || v[NR/2+1] == "inf") ? "inf" : (v[NR/2] + v[NR/2+1]) / 2);
                        if (m == "inf") print "> " cap " s"; else printf "%.2f s\n", m}')
    printf '%-8s %-4s %-12s %5s %9s %9s %12s %5s/%s\n' "$shape" "$field" "$mode" "$known" "$best" "$medrank" \
        "$med" "$ok" "$SEEDS"
done
