#!/bin/sh
# The Rust peer of the CRDT benchmarks (bench/peers, the `crdts` crate).
#   sh bench/crdt_peer.sh build   build it once (cargo build --release)
# `make bench` also runs this file with the build directory as argument;
# then it prints nothing: bench_crdt runs the peer itself and puts its
# figures in the `baseline` fields of its own lines.
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = build ]; then
    command -v cargo >/dev/null 2>&1 || { echo "crdt_peer: cargo not found" >&2; exit 1; }
    cargo build --release --quiet --manifest-path bench/peers/Cargo.toml >&2
fi
