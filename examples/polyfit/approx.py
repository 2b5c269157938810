# approx.py — the initial program of ratchet's polyfit example (examples/polyfit/README.md).
# It prints the coefficients c0..c4 of a polynomial that should approximate exp(x) on [0, 1];
# the evaluator scores minus the largest error. ratchet changes only the EVOLVE block.

# EVOLVE-BLOCK-START
c0 = 1.0     # ratchet: real -2 2
c1 = 1.0     # ratchet: real -2 2
c2 = 0.5     # ratchet: real -2 2
c3 = 0.1     # ratchet: real -2 2
c4 = 0.05    # ratchet: real -2 2
# EVOLVE-BLOCK-END

print(c0, c1, c2, c3, c4)
