#!/usr/bin/python3
"""evaluate.py CANDIDATE — ratchet's evaluator for the polyfit example.

Runs the candidate with Python, reads five coefficients from its output and prints
{"score": -max_error, "metrics": {"max_error": ...}} where max_error is the largest
|p(x) - exp(x)| over 1001 points of [0, 1]. Deterministic, so without a verifier ratchet's gate
re-runs it and the score must reproduce. Exit 1 (a failed evaluation) on any bad output.
"""
import json
import math
import subprocess
import sys

out = subprocess.run([sys.executable, sys.argv[1]], capture_output=True, text=True, timeout=20)
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
