#!/bin/sh
# A command proposer for tests/test_failures.c that fails the way a misconfigured one does: a
# line on stderr, exit status 1.
cat >/dev/null
echo "propose.py: OPENAI_API_KEY is not set" >&2
exit 1
