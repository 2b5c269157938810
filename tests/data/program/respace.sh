#!/bin/sh
# A scripted proposer for tests/test_program.c: replies with a SEARCH/REPLACE block that only
# re-spaces the parent's x line, so the child differs from its parent in whitespace alone and
# must be dropped as a duplicate before it is evaluated.
prompt=$(cat)
x=$(printf '%s' "$prompt" | grep -o 'x = [0-9]* # ratchet' | head -n 1 | sed 's/[^0-9]//g')
printf '<<<<<<< SEARCH\nx = %s # ratchet: int 0 100\n=======\nx  =\t%s   # ratchet: int 0 100\n>>>>>>> REPLACE\n' "$x" "$x"
