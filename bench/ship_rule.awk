# ship_rule.awk — the rule of bench/ship_check.sh, applied to the output of one
# bench/portfolio_compare.sh run (the layer as the "hand" arm against the default).
#
# usage: awk -v seeds=SEEDS -f bench/ship_rule.awk OUTPUT
#
# A row line ends in its paired ratio and interval, "1.36 [0.76, 2.43]" (default / layer, exp of
# the mean per-seed log-ratio plus or minus 2 standard errors); the pooled line starts "the rows
# of 0.1 CPU s or more together". The layer may ship when
#   - some row is judged: rows whose CPU medians are under 0.1 s in either arm are not (10 ms is
#     the timer's step), unless the other arm's is "inf" (the row not reached on most seeds: the
#     misses decide it, not the timer; since 8 Dec, when the rule skipped such a row),
#   - no judged row is worse beyond the noise (the upper end of its interval is at least 1),
#   - the judged rows together are better beyond it (the pooled interval's lower end is above 1),
#   - and seeds is at least 20 (fewer may say no, never yes).
# Prints the reasons and "ship: yes" (exit 0) or "ship: no (WHY)" (exit 1).
function num(s) { gsub(/[\[\],]/, "", s); return s + 0 }
function counted(a, b) { return a == "inf" || b == "inf" || (a + 0 >= 0.1 && b + 0 >= 0.1) }
$2 ~ /^[0-9]+$/ && $NF ~ /\]$/ && $(NF - 1) ~ /^\[/ {
    rows++
    if (!counted($4, $7)) { print "  " $1 ": under 0.1 CPU s, not counted"; next }
    hi = num($NF)
    if (hi < 1) { bad = bad " " $1 " (paired " $(NF - 2) ", upper end " hi ")" }
    n++
}
/^the rows of 0\.1 CPU s or more together / && $NF ~ /\]$/ {
    pooled = $(NF - 2) " [" num($(NF - 1)) ", " num($NF) "]"
    lo = num($(NF - 1))
}
END {
    if (!rows) { print "ship: no (no row measured)"; exit 1 }
    if (n == 0) { print "ship: no (every row under 0.1 CPU s: nothing to judge)"; exit 1 }
    if (bad != "") { print "ship: no (worse beyond the noise:" bad ")"; exit 1 }
    print "rows judged: " n
    if (pooled == "") { print "ship: no (no pooled ratio: fewer than two judged pairs)"; exit 1 }
    print "pooled paired ratio " pooled
    if (!(lo > 1)) { print "ship: no (the rows together are not better beyond the noise)"; exit 1 }
    # two seeds can show 1.25 [1.03, 1.52] where twenty show a draw (third session of 7 Dec)
    if (seeds + 0 < 20) {
        print "ship: no (not decided: SEEDS " seeds + 0 " is below the 20 a row that policy/README.md asks)"
        exit 1
    }
    print "ship: yes"
}
