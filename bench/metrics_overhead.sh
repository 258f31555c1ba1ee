#!/bin/sh
# Metrics overhead: replica.update and net.updates_per_s of this build
# against a BASELINE_BUILD without the metrics counters (a build of the
# commit before them, e.g. `git archive <commit> | tar -x -C /tmp/base`
# then cmake with -DDDATA_TESTS=OFF and build bench_replica bench_cluster).
# The counters cannot be switched off: they are plain increments and, for
# the stores, a clock read per operation, always on. Medians of 5
# interleaved runs; ratio = with / without (> 1: the metrics build ahead),
# so 0.97 is the 3% bound. Skipped (nothing printed) without BASELINE_BUILD.
set -eu
build=${1:-build}
base=${BASELINE_BUILD:-}
if [ -z "$base" ]; then
    echo "metrics_overhead: set BASELINE_BUILD to a build without the metrics counters; skipped" >&2
    exit 0
fi
runs=${BENCH_RUNS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
one() { # $1 build, $2 binary, $3 figure -> the value
    BENCH_ONLY=$3 "$1/bench/$2" 2>/dev/null | sed -n 's/.*"value":\([0-9.e+]*\).*/\1/p' | tail -1
}
i=0
while [ $i -lt "$runs" ]; do
    one "$build" bench_replica replica.update >>"$tmp/ru.with"
    one "$base" bench_replica replica.update >>"$tmp/ru.without"
    one "$base" bench_cluster net.updates_per_s >>"$tmp/nu.without"
    one "$build" bench_cluster net.updates_per_s >>"$tmp/nu.with"
    i=$((i + 1))
done
median() { sort -g "$1" | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
for fig in ru:replica.update nu:net.updates_per_s; do
    key=${fig%%:*}
    name=${fig#*:}
    w=$(median "$tmp/$key.with")
    wo=$(median "$tmp/$key.without")
    awk -v n="$name" -v w="$w" -v wo="$wo" 'BEGIN {
        printf "{\"name\":\"metrics_overhead.%s\",\"unit\":\"ops/s\",\"value\":%.1f,\"baseline\":%.1f,\"ratio\":%.4f}\n", n, w, wo, w / wo }'
done
