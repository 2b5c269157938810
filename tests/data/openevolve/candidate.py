# A candidate for tests/data/openevolve/evaluator.py: the builtin proposer changes VALUE and
# MODE, so one run meets every kind of result the evaluator returns.
# EVOLVE-BLOCK-START
VALUE = 0.5       # ratchet: real 0 1
MODE = "dict"     # ratchet: choice dict|result|raise|list
# EVOLVE-BLOCK-END
