#!/bin/sh
# A scripted proposer for tests/test_program.c: replies with the parent program re-spaced (a
# whole-program reply that differs only in whitespace), which must be dropped as a duplicate
# before it is evaluated.
exec /usr/bin/python3 -c '
import json, sys
p = json.load(sys.stdin)["parent"]["program"]
sys.stdout.write(p.replace("x = ", "x  =\t").replace(" # ratchet", "   # ratchet"))
'
