#!/usr/bin/python3
"""propose.py — a scripted proposer for ratchet's command protocol that needs no annotations.

Reads the JSON prompt on stdin (docs/program.md), picks a line of the parent's EVOLVE block that
holds a number, moves one number on it (integers by a step, reals by a random factor), and
prints the change as a SEARCH/REPLACE block. Uses the prompt's "seed", so runs repeat. Meant for
trying an OpenEvolve example without a language model (docs/migrating.md); a model does better.
"""
import json
import math
import random
import re
import sys

NUMBER = re.compile(r"(?<![\w.])(\d+\.\d*|\d*\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")

prompt = json.load(sys.stdin)
program = prompt["parent"]["program"]
rng = random.Random(prompt["seed"])
lines = program.splitlines()
inside, candidates = False, []
for line in lines:
    if "EVOLVE-BLOCK-START" in line:
        inside = True
    elif "EVOLVE-BLOCK-END" in line:
        inside = False
    elif inside and lines.count(line) == 1:
        code = line.split("#", 1)[0]
        if NUMBER.search(code):
            candidates.append(line)
if not candidates:
    sys.exit("no line with a number in the EVOLVE block")
line = rng.choice(candidates)
code, _, comment = line.partition("#")
matches = list(NUMBER.finditer(code))
m = rng.choice(matches)
text = m.group(0)
if re.fullmatch(r"\d+", text):
    value = max(0, int(text) + rng.choice([-2, -1, 1, 2]) * max(1, int(text) // 4))
    new = str(value)
else:
    new = repr(float(text) * math.exp(rng.gauss(0, 0.3)))
new_line = code[: m.start()] + new + code[m.end():] + ("#" + comment if _ else "")
if new_line == line:
    sys.exit("no change")
print("<<<<<<< SEARCH")
print(line)
print("=======")
print(new_line)
print(">>>>>>> REPLACE")
