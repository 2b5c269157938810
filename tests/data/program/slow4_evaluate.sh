#!/bin/sh
# An evaluator of tiny.txt for tests/test_stopping.c: the initial program (x = 1) is scored at
# once, every child takes 4 seconds (longer than the runs' deadlines).
x=$(sed -n 's/^x = \([0-9]*\).*/\1/p' "$1")
[ "$x" = 1 ] || sleep 4
echo "{\"score\": $x}"
