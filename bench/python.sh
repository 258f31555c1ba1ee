#!/bin/sh
# python.counter.increment and python.orset.add: calls/s through the Python
# package, each with the same work in C (bench/python_baseline.c, compiled
# here against the same libddata.a) as baseline; ratio = Python / C.
# The package is installed into a temporary directory, not the user's site.
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lib="$(cd "$build" && pwd)/libddata.a"
DDATA_BUILD_DIR="$(dirname "$lib")" python3 -m pip install -q --disable-pip-version-check \
    --target "$tmp/site" ./python >&2
# shellcheck disable=SC2046
cc -O2 -std=c11 -Iabi/include bench/python_baseline.c "$lib" \
    $(pkg-config --libs --static sqlite3 libsodium zlib libcjson) $(pkg-config --libs libpq) -o "$tmp/baseline"
PYTHONPATH="$tmp/site" python3 bench/python_bench.py "$tmp/baseline" "${BENCH_PY_CALLS:-1000000}"
