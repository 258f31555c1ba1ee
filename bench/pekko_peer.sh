#!/bin/sh
# The Pekko peer of the CRDT and cluster benchmarks (bench/peers/pekko:
# Apache Pekko Distributed Data 1.7.0, a Maven project).
#   sh bench/pekko_peer.sh build       build it; installs a JDK and Maven
#                                      from Debian's packages when missing;
#                                      offline (mvn -o) once ~/.m2 holds
#                                      the downloads
#   sh bench/pekko_peer.sh run crdt    print Pekko's CRDT figures (JSON lines)
#   sh bench/pekko_peer.sh run net     print Pekko's three-node figures
# `make bench` also runs this file with the build directory as argument;
# then it prints nothing: bench_crdt and bench_cluster run the peer
# themselves and put its figures in the `baseline` fields of their lines.
set -eu
cd "$(dirname "$0")/.."
dir=bench/peers/pekko
class=$dir/target/classes/ddata/bench/PekkoPeer.class

build() {
    if ! command -v mvn >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
        echo "pekko_peer: installing default-jdk-headless and maven" >&2
        sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -q >&2 || true
        $sudo apt-get install -y -q default-jdk-headless maven >&2
    fi
    if [ -f "$class" ] && [ -d "$dir/target/lib" ] &&
        [ -z "$(find "$dir/pom.xml" "$dir/src" -newer "$class" -type f)" ]; then
        return 0
    fi
    (cd "$dir" && { mvn -o -q -B package >&2 2>/dev/null || mvn -q -B package >&2; })
}

case "${1:-}" in
build) build ;;
run)
    build
    exec java -cp "$dir/target/classes:$dir/target/lib/*" ddata.bench.PekkoPeer "${2:-all}"
    ;;
*) ;;
esac
