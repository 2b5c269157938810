#!/bin/sh
# An evaluator of tiny.txt for tests/test_stopping.c: the initial program (x = 1) is scored at
# once, every child takes 60 seconds (the runs are stopped long before).
x=$(sed -n 's/^x = \([0-9]*\).*/\1/p' "$1")
[ "$x" = 1 ] || sleep 60
echo "{\"score\": $x}"
