#!/bin/sh
# Evaluator of tiny.txt for tests/test_program.c: the score is the value of x.
x=$(sed -n 's/^x = \([0-9]*\).*/\1/p' "$1")
[ -n "$x" ] || { echo "no x in $1" >&2; exit 1; }
echo "evaluated x=$x at stage ${RATCHET_STAGE:-?}" >&2
echo "{\"score\": $x, \"metrics\": {\"x\": $x}, \"artifacts\": {\"note\": \"x is $x\"}}"
