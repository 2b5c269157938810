#!/usr/bin/python3
"""evaluate.py CANDIDATE — ratchet's evaluator for the polyfit example.

Runs the candidate with Python, reads five coefficients from its output and prints
{"score": -max_error, "metrics": {"max_error": ...}} where max_error is the largest
|p(x) - exp(x)| over 1001 points of [0, 1]. Deterministic, so without a verifier ratchet's gate
re-runs it and the score must reproduce. Exit 1 (a failed evaluation) on any bad output.
"""
import json
import math
import os
import subprocess
import sys

# The candidate runs in a jail of its own when ratchet offers one ($RATCHET_JAIL): it then sees
# none of this evaluator's files or memory (docs/program.md). Run by hand, it runs directly.
command = ["/usr/bin/python3", sys.argv[1]]
jail = os.environ.get("RATCHET_JAIL")
if jail:
    command = [jail, "--file", sys.argv[1], "--"] + command
out = subprocess.run(command, capture_output=True, text=True, timeout=20)
if out.returncode != 0:
    sys.stderr.write(out.stderr[-2000:])
    sys.exit(1)
try:
    coeffs = [float(w) for w in out.stdout.split()]
except ValueError:
    sys.exit("output is not five numbers")
if len(coeffs) != 5 or not all(math.isfinite(c) for c in coeffs):
    sys.exit("expected five finite coefficients")
err = 0.0
for i in range(1001):
    x = i / 1000
    p = sum(c * x ** k for k, c in enumerate(coeffs))
    err = max(err, abs(p - math.exp(x)))
print(json.dumps({"score": -err, "metrics": {"max_error": err}}))
