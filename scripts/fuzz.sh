#!/bin/sh
# fuzz.sh — builds and runs the libFuzzer harnesses of the LLM proposer (reply parser, diff
# applier) for a while each, printing their executions and findings.
# usage: scripts/fuzz.sh SECONDS HARNESS_BINARY...
#   SECONDS per harness; `make test` runs them for a few seconds, `make fuzz` for FUZZ_TIME.
# When clang's libFuzzer is missing, says so and exits 0 (scripts/deps.sh fuzz installs it);
# a finding exits 1 and leaves the input under build/fuzz/findings/.
set -u
secs=$1
shift
mkdir -p build/fuzz/findings
if ! ${MAKE:-make} --no-print-directory -s "$@" >build/fuzz/build.log 2>&1; then
    echo "fuzz: skipped: the harnesses do not build (clang with libFuzzer missing?" \
         "scripts/deps.sh fuzz installs it); see build/fuzz/build.log"
    exit 0
fi
status=0
for bin in "$@"; do
    name=$(basename "$bin")
    corpus=build/fuzz/corpus-$name
    mkdir -p "$corpus"
    # seeds: the scripted server replies (bodies and headers), the known findings, binpack texts,
    # MPI messages, packed matmul texts
    cp tests/data/llm/*.reply tests/fuzz/findings/edit_apply_* tests/fuzz/binpack_seed/* tests/fuzz/wire_seed/* \
        tests/fuzz/pack_seed/* \
        "$corpus"/ 2>/dev/null
    log=build/fuzz/$name.log
    "$bin" -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix=build/fuzz/findings/"$name"- "$corpus" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 executions in \2 s/p' "$log")
    if [ $rc -ne 0 ]; then
        echo "fuzz $name: FINDING after ${runs:-?} (exit $rc); input in build/fuzz/findings/, log $log"
        grep -m 3 -E "ERROR|SUMMARY" "$log"
        status=1
    else
        echo "fuzz $name: ${runs:-? executions}, no findings (corpus $(ls "$corpus" | wc -l) inputs)"
    fi
done
exit $status
