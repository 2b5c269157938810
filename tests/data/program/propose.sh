#!/bin/sh
# A scripted proposer for tests/test_program.c (command protocol, docs/program.md). Reads the
# JSON prompt on stdin; checks it carries the parent's program and metrics and the inspirations;
# replies with a SEARCH/REPLACE block that adds 7 to x, except every third generation, when it
# replies with a block that cannot apply (its SEARCH text is not in the program).
prompt=$(cat)
case $prompt in
*'"parent":{'*'"program":'*) ;;
*) echo "no parent program in the prompt" >&2; exit 1 ;;
esac
case $prompt in *'"inspirations":['*) ;; *) echo "no inspirations" >&2; exit 1 ;; esac
case $prompt in *'"metrics":{"x":'*) ;; *) echo "no metrics" >&2; exit 1 ;; esac
gen=$(printf '%s' "$prompt" | sed -n 's/.*"generation":\([0-9]*\).*/\1/p')
# the parent comes first in the prompt, before the inspirations
x=$(printf '%s' "$prompt" | grep -o 'x = [0-9]* # ratchet' | head -n 1 | sed 's/[^0-9]//g')
if [ $((gen % 3)) -eq 2 ]; then
    printf '<<<<<<< SEARCH\ny = 3\n=======\ny = 4\n>>>>>>> REPLACE\n'
    exit 0
fi
printf '<<<<<<< SEARCH\nx = %s # ratchet: int 0 100\n=======\nx = %s # ratchet: int 0 100\n>>>>>>> REPLACE\n' "$x" $((x + 7))
