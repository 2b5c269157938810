#!/bin/sh
# gaming-proposer.sh — a command proposer (tests/test_program_drift.c) that games the
# circle-packing evaluator's tolerance: it adds a macro that inflates every printed radius by
# 4e-10, less than the evaluator's 1e-9 tolerance, so the floating-point evaluator passes a
# packing whose circles overlap and leave the square, and scores it higher. The exact verifier
# (cp_check, GMP rationals) must reject it. Reads the JSON prompt on stdin and ignores it.
cat > /dev/null
cat <<'BLOCK'
<<<<<<< SEARCH
static const int LAYOUT = 1;                   /* ratchet: int 0 2 */
=======
static const int LAYOUT = 1;                   /* ratchet: int 0 2 */
#define printf(f, a, b, c) printf(f, a, b, (c) + 4e-10)
>>>>>>> REPLACE
BLOCK
