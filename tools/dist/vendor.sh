#!/bin/sh
# Copies the C sources a package needs to build libddata itself into DEST:
# core/ and abi/ (sources and headers only), and the licence files. The
# Python sdist, the npm tarball and the ddata-sys crate each carry such a
# copy (made at packaging time, never committed), so they build far from
# this checkout with nothing but a C compiler and the -dev packages of
# sqlite3, libsodium, zlib and cJSON.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$1
rm -rf "$dest"
mkdir -p "$dest"
cd "$root"
find core abi \( -name '*.c' -o -name '*.h' \) -type f | sort | while read -r f; do
    mkdir -p "$dest/$(dirname "$f")"
    cp "$f" "$dest/$f"
done
cp LICENSE LICENSE-MIT LICENSE-APACHE "$dest/"
