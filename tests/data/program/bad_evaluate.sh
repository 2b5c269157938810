#!/bin/sh
# A misbehaving evaluator for tests/test_program.c: mode 0 is well behaved, every other mode
# breaks the evaluator contract in one way.
m=$(sed -n 's/^mode = \([0-9]*\).*/\1/p' "$1")
echo "stderr of mode $m" >&2
case $m in
0) echo '{"score": 1}' ;;
1) echo '{"score": NaN}' ;;
2) echo '{"score": Infinity}' ;;
3) echo '{"score": 1e999}' ;;
4) echo '{"score": 2}'; echo '{"score": 3}' ;;
5) echo 'garbage, not JSON' ;;
6) ;;
7) echo '{"score": 5}'; exit 3 ;;
8) echo '{"score": "7"}' ;;
9) echo '{"score": 4, "score": 5}' ;;
10) sleep 30 ;;
esac
