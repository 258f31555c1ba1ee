#!/bin/sh
# Runs every libFuzzer target in BUILD/tests/fuzz for SECONDS each, on its
# corpus in tests/fuzz/corpus/<target>/ (seeds checked in) plus a scratch
# copy, so new inputs found here do not dirty the tree.
set -eu
build=${1:-build-fuzz}
seconds=${2:-30}
cd "$(dirname "$0")/.."
found=0
for f in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    found=1
    name=$(basename "$f")
    seeds=tests/fuzz/corpus/$name
    work=tests/fuzz/corpus-run/$name
    mkdir -p "$seeds" "$work"
    echo "fuzz: $name for ${seconds}s" >&2
    "$f" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$work" "$seeds"
done
[ "$found" = 1 ] || { echo "fuzz: no targets were built" >&2; exit 1; }
