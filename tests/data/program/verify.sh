#!/bin/sh
# Verifier of tiny.txt for tests/test_program.c: valid when x <= 90 (so the evaluator's higher
# scores above 90 must be refused by the gate), score x.
x=$(sed -n 's/^x = \([0-9]*\).*/\1/p' "$1")
if [ -z "$x" ] || [ "$x" -gt 90 ]; then
    echo '{"valid": false, "reason": "x over 90"}'
else
    echo "{\"valid\": true, \"score\": $x}"
fi
