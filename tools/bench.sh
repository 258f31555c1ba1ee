#!/bin/sh
# Runs every benchmark and prints one JSON object per line on stdout:
#   {"name":..., "unit":..., "value":..., ["baseline":..., "ratio":...]}
# Progress and diagnostics go to stderr. BENCH_FILTER=substring selects.
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
status=0
for b in "$build"/bench/bench_*; do
    [ -x "$b" ] || continue
    case "$(basename "$b")" in *"${BENCH_FILTER:-}"*) ;; *) continue ;; esac
    echo "bench: $(basename "$b")" >&2
    "$b" || { echo "bench: $(basename "$b") failed" >&2; status=1; }
done
for s in bench/*.sh; do
    [ -f "$s" ] || continue
    case "$(basename "$s")" in *"${BENCH_FILTER:-}"*) ;; *) continue ;; esac
    echo "bench: $s" >&2
    sh "$s" "$build" || { echo "bench: $s failed" >&2; status=1; }
done
exit $status
