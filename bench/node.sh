#!/bin/sh
# node.counter.increment through the Node addon, with the same loop in C as
# baseline (node/bench/counter.js; the C side, bench/node_baseline.c, is
# compiled here against the same libddata.a, so the shipped addon carries
# no benchmark code). Builds the addon against the given build's libddata.a
# when it is missing. $1: the CMake build directory.
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
command -v node >/dev/null 2>&1 || { echo "bench/node.sh: node is not installed" >&2; exit 1; }
if [ ! -f node/build/Release/ddata_node.node ]; then
    abs=$(cd "$build" 2>/dev/null && pwd || echo "")
    (cd node && DDATA_BUILD_DIR="$abs" npm install --no-audit --no-fund >&2)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lib="$(cd "$build" && pwd)/libddata.a"
# shellcheck disable=SC2046
cc -O2 -std=c11 -Iabi/include bench/node_baseline.c "$lib" \
    $(pkg-config --libs --static sqlite3 libsodium zlib libcjson) $(pkg-config --libs libpq) -o "$tmp/baseline"
node node/bench/counter.js "$tmp/baseline"
node node/bench/journal.js
