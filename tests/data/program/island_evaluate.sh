#!/bin/sh
# The evaluator paired with island_propose.sh: a multiple of 1000 takes 60 s, anything else
# is scored at once (score: x modulo 1000).
x=$(sed -n 's/^x = \([0-9]*\).*/\1/p' "$1")
[ $((x % 1000)) -eq 0 ] && [ "$x" -ne 0 ] && sleep 60
echo "{\"score\": $((x % 1000))}"
