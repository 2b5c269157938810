#!/bin/sh
# An evaluator for tests/test_failures.c that fails at once, as a Python evaluator does without
# its module: the reason is on stderr only.
echo "Traceback (most recent call last):" >&2
echo "ModuleNotFoundError: No module named 'numpy'" >&2
exit 1
