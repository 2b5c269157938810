#!/usr/bin/python3
"""propose.py — a scripted proposer for ratchet's command protocol (examples/polyfit).

Reads the JSON prompt on stdin, picks one coefficient line of the parent program, and prints a
SEARCH/REPLACE block that moves its value a little. Uses the prompt's "seed" so that runs repeat.
A real proposer would ask a model instead; the protocol is the same (docs/program.md).
"""
import json
import random
import re
import sys

prompt = json.load(sys.stdin)
program = prompt["parent"]["program"]
rng = random.Random(prompt["seed"])
lines = [l for l in program.splitlines() if re.match(r"^c[0-4] = ", l)]
if not lines:
    sys.exit("no coefficient lines")
line = rng.choice(lines)
name, value = re.match(r"^(c[0-4]) = ([-0-9.e]+)", line).groups()
new_value = float(value) + rng.gauss(0, 0.05)
new_line = line.replace(f"{name} = {value}", f"{name} = {new_value:.6f}", 1)
print("<<<<<<< SEARCH")
print(line)
print("=======")
print(new_line)
print(">>>>>>> REPLACE")
