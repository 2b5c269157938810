#!/bin/sh
# run.sh — runs each test program in its own process under a time limit, so that a hung or
# crashing test fails alone, then prints the total of cmocka's test counts on one closing line,
# "tests: N passed, N failed".
# usage: RATCHET=path/to/ratchet tests/run.sh TEST_BINARY...
set -u
limit=${TEST_TIMEOUT:-300}
passed=0
failed=0
failures=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
    start=$(date +%s)
    timeout -k 5 "$limit" "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    secs=$(( $(date +%s) - start ))
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    passed=$((passed + ${p:-0}))
    if [ $rc -ne 0 ]; then
        # a crash or time-out counts as at least one failure even if cmocka printed nothing
        f=${f:-0}; [ "$f" -eq 0 ] && f=1
        failures="$failures $t"
        [ $rc -ge 124 ] && echo "FAIL $t: timed out or killed (exit $rc)" || echo "FAIL $t (exit $rc)"
    fi
    failed=$((failed + ${f:-0}))
    echo "---- $t: exit $rc in ${secs}s"
done
[ -n "$failures" ] && echo "failing programs:$failures"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ -z "$failures" ]
