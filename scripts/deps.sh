#!/bin/sh
# deps.sh — makes sure the Debian packages a target needs are installed.
# usage: scripts/deps.sh build|test|fuzz
# The test set includes clang and its libFuzzer runtime (make test runs the fuzzers briefly) and
# chromium (make test-browser renders the HTML report headless), and time (/usr/bin/time, with
# which bench/portfolio_compare.sh measures each run: tests/test_ship_check.c runs it).
# As root, installs what is missing with apt-get; otherwise prints the exact command and fails.
set -u
build="gcc make pkg-config libsqlite3-dev libjansson-dev libssl-dev libgmp-dev libinih-dev libcurl4-openssl-dev libseccomp-dev libzstd-dev openmpi-bin libopenmpi-dev"
case "${1:-build}" in
    build) pkgs="$build" ;;
    test) pkgs="$build libcmocka-dev clang libclang-rt-14-dev chromium git time" ;;
    fuzz) pkgs="$build libcmocka-dev clang libclang-rt-14-dev" ;;
    *) echo "deps.sh: unknown set '$1' (build, test or fuzz)" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "installing:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends $missing >/dev/null; then
        apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null || {
            echo "deps.sh: apt-get could not install:$missing" >&2; exit 1; }
    fi
    exit 0
fi
echo "ratchet needs these Debian packages:$missing" >&2
echo "install them with:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 1
