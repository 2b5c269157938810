#!/bin/sh
# nan-proposer.sh — a command proposer (tests/test_program_drift.c) whose child prints NaN
# coordinates and radius 0.5 for all 26 circles: a naive evaluator (naive_check.c) sees no
# overlap and no wall crossed and scores it 13; the exact verifier must reject it.
cat > /dev/null
cat <<'BLOCK'
<<<<<<< SEARCH
static const int LAYOUT = 1;                   /* ratchet: int 0 2 */
=======
static const int LAYOUT = 1;                   /* ratchet: int 0 2 */
#define printf(f, a, b, c) printf(f, NAN, NAN, 0.5)
>>>>>>> REPLACE
BLOCK
