#!/bin/sh
# A command proposer for tests/test_stopping.c: island 0's children get an x that is a multiple
# of 1000 (island_evaluate.sh takes 60 s over those), the other islands' children an x that is
# not (scored at once). x comes from the prompt's seed, so children rarely repeat.
prompt=$(cat)
island=$(printf '%s' "$prompt" | sed -n 's/.*"island":\([0-9]*\).*/\1/p')
seed=$(printf '%s' "$prompt" | sed -n 's/.*"seed":\([0-9]*\).*/\1/p')
x=$(printf '%s' "$prompt" | grep -o 'x = [0-9]* # ratchet' | head -n 1 | sed 's/[^0-9]//g')
k=$(printf '%s' "$seed" | tail -c 6 | sed 's/^0*//')
new=$(( (${k:-0} % 99999 + 1) * 1000 + island ))
printf '<<<<<<< SEARCH\nx = %s # ratchet: int 0 100\n=======\nx = %s # ratchet: int 0 100\n>>>>>>> REPLACE\n' "$x" "$new"
