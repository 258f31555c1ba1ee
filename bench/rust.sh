#!/bin/sh
# rust.counter.increment through the safe crate, with the same loop written
# in C against the same libddata.a as baseline (rust-sys/bench/). $1: the
# CMake build directory (its libddata.a is what both sides link).
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
command -v cargo >/dev/null 2>&1 || { echo "bench/rust.sh: cargo is not installed" >&2; exit 1; }
abs=$(cd "$build" && pwd)
cmake --build "$abs" --target ddata_static -j 2 >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2046
cc -O2 -std=c11 -Iabi/include rust-sys/bench/counter_baseline.c "$abs/libddata.a" \
    $(pkg-config --libs sqlite3 libsodium zlib libcjson libpq) -lpthread -o "$tmp/baseline"
(cd rust-sys && DDATA_BUILD_DIR="$abs" DDATA_FROM_TREE=1 cargo build -q --release --example bench_counter >&2)
# Alternate the two sides so a busy machine slows both alike; best of five each.
n=${DDATA_BENCH_N:-20000000}
c=0
r=0
for _ in 1 2 3 4 5; do
    c=$(printf '%s\n%s\n' "$c" "$("$tmp/baseline" "$n")" | sort -g | tail -1)
    r=$(printf '%s\n%s\n' "$r" "$(rust-sys/target/release/examples/bench_counter --n "$n" --raw)" | sort -g | tail -1)
done
awk -v v="$r" -v b="$c" 'BEGIN { printf "{\"name\":\"rust.counter.increment\",\"unit\":\"calls/s\",\"value\":%.0f,\"baseline\":%.0f,\"ratio\":%.3f}\n", v, b, v / b }'
