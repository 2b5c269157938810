#!/bin/sh
# browser_test.sh — renders `ratchet report` pages in headless Chromium (Debian's chromium) and
# fails on any console message or failed resource load, on a page whose script did not finish,
# on a main figure that is missing or empty, and on any network URL in the file. Keeps each
# page's screenshot and DOM in build/artifacts/.
# usage: scripts/browser_test.sh [RATCHET [BENCH_REPORT]]
# Pages: a short matmul run, a short circle-packing run (examples/circle_packing), a store with
# no candidate. Runs as root in CI: Chromium then needs --no-sandbox.
set -eu
tool=${1:-build/ratchet}
bench=${2:-build/bench/bench_report}
art=build/artifacts
work=$(mktemp -d /tmp/ratchet-browser-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$art"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "browser_test: chromium is not installed (scripts/deps.sh browser)" >&2; exit 1; }
fail() { echo "browser_test: $*" >&2; exit 1; }

# render NAME PAGE FIGURES...: loads PAGE, checks it, keeps NAME.png and NAME.dom.html
render() {
    name=$1 page=$2; shift 2
    case $page in /*) url=file://$page ;; *) url=file://$PWD/$page ;; esac
    grep -q '://' "$page" && fail "$page names a URL: $(grep -o '[a-z]*://[^"]*' "$page" | head -1)"
    # the page itself (the run's data aside, whose texts may say anything) loads nothing
    sed 's#<script id="data" type="application/json">.*</script>##' "$page" |
        grep -Eiq '(src|href)=|url\(|@import' && fail "$page loads something from outside"
    flags="--headless --disable-gpu --no-sandbox --no-first-run --disable-extensions
           --disable-background-networking --user-data-dir=$work/profile-$name
           --enable-logging=stderr --v=0 --window-size=1400,3200"
    # shellcheck disable=SC2086
    timeout 120 "$browser" $flags --virtual-time-budget=5000 --dump-dom "$url" \
        > "$art/$name.dom.html" 2> "$work/$name.log" || fail "$name: chromium failed (see $work/$name.log)"
    # shellcheck disable=SC2086
    timeout 120 "$browser" $flags --screenshot="$art/$name.png" "$url" \
        > /dev/null 2>> "$work/$name.log" || fail "$name: no screenshot"
    if grep -E ':CONSOLE[:(]|Failed to load resource|net::ERR_' "$work/$name.log"; then
        fail "$name: the page wrote to the console or failed to load something (above)"
    fi
    grep -q '<body data-ready="1" data-errors="0"' "$art/$name.dom.html" ||
        fail "$name: the page's script did not finish cleanly ($(grep -o '<body[^>]*>' "$art/$name.dom.html"))"
    for fig in "$@"; do
        # the figure's first drawing (the DOM up to the figure's end): how many marks it holds
        marks=$(tr -d '\n' < "$art/$name.dom.html" | sed -n "s/.*id=\"$fig\"//p" | sed 's#</figure>.*##' |
            grep -o 'data-marks="[0-9]*"' | head -1 | tr -dc 0-9)
        [ -n "$marks" ] && [ "$marks" -gt 0 ] || fail "$name: figure $fig is missing or empty"
    done
    [ -s "$art/$name.png" ] || fail "$name: empty screenshot"
    echo "browser_test: $name ok ($(wc -c < "$page") bytes; screenshot $art/$name.png)"
}

"$tool" run matmul --shape 3x3x3 --field gf2 --evaluations 400 --seed 5 --threads 1 --quiet \
    --store "$work/mm.db"
"$tool" report "$work/mm.db" -o "$work/matmul.html" --quiet
render matmul "$work/matmul.html" fig-best fig-picture fig-rate fig-drift fig-gate fig-ops fig-grid fig-top fig-lineage

if [ -x examples/circle_packing/cp_check ]; then
    "$tool" run program --initial examples/circle_packing/pack.c --evaluations 12 --seed 1 \
        --threads 2 --quiet --store "$work/cp.db"
    "$tool" report "$work/cp.db" -o "$work/circles.html" --quiet
    render circles "$work/circles.html" fig-best fig-picture fig-rate fig-gate fig-lineage
fi

# a synthetic store with language-model requests (bench_report's), for the model figure
"$bench" 3000 "$work/synthetic.db" 0
"$tool" report "$work/synthetic.db" -o "$work/synthetic.html" --quiet
render synthetic "$work/synthetic.html" fig-best fig-rate fig-drift fig-llm fig-top fig-lineage

# a store with no candidate at all (bench_report makes one) and one with a single run's seed
"$bench" 0 "$work/empty.db" 0
"$tool" report "$work/empty.db" -o "$work/empty.html" --quiet
render empty "$work/empty.html"
grep -q 'id="empty"' "$art/empty.dom.html" || fail "empty: the page does not say the store is empty"
