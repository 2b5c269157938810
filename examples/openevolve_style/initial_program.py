# initial_program.py — ratchet's example in OpenEvolve's layout (examples/openevolve_style).
# A quadrature rule: the evaluator imports this module and calls integrate(f, a, b) on a few
# integrals; it scores accuracy against the number of calls of f. ratchet (or OpenEvolve)
# changes only the EVOLVE block.
import math

# EVOLVE-BLOCK-START
PANELS = 2        # ratchet: int 1 40
NODE = 0.5        # ratchet: real 0 1


def integrate(f, a, b):
    """A composite rule: PANELS panels of equal width, f taken once per panel at the fraction
    NODE of the panel."""
    h = (b - a) / PANELS
    return h * math.fsum(f(a + (i + NODE) * h) for i in range(PANELS))
# EVOLVE-BLOCK-END


if __name__ == "__main__":
    print(integrate(math.exp, 0.0, 1.0), math.e - 1)
