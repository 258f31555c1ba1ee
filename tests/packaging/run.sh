#!/bin/sh
# Installs each artifact of dist/ as a user would, far from the checkout:
# the artifact is copied into a fresh scratch folder under $TMPDIR, and
# nothing set here points back at the tree (no DDATA_* variable, no
# CARGO_TARGET_DIR). Each install then runs a smoke program (a counter, a
# journal append and replay, a sealed state store). Prints each artifact's
# size and install time, and "packaging: N passed, M failed".
# Usage: run.sh DIST
set -u
dist=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}
unset CARGO_TARGET_DIR DDATA_BUILD_DIR DDATA_SOURCE_DIR DDATA_FROM_TREE DDATA_NODE_ADDON
pass=0
fail=0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ddata-packaging.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# check NAME ARTIFACT COMMAND...: runs COMMAND in a new folder holding a
# copy of ARTIFACT and the smoke programs; reports size and time.
check() {
    name=$1
    pattern=$2
    artifact=$(ls "$dist"/$pattern 2>/dev/null | head -1)
    shift 2
    if [ -z "$artifact" ]; then
        echo "FAIL $name: no artifact in $dist"
        fail=$((fail + 1))
        return
    fi
    dir="$scratch/$name"
    mkdir -p "$dir"
    cp "$dist"/$pattern "$here"/smoke.* "$dir/"
    size=$(du -k "$artifact" | cut -f1)
    start=$(date +%s)
    if (cd "$dir" && "$@") >"$dir.log" 2>&1; then
        echo "PASS $name: $(basename "$artifact") ${size} KiB, installed and smoke-tested in $(( $(date +%s) - start )) s"
        grep "smoke: ok" "$dir.log" | sed 's/^/    /'
        pass=$((pass + 1))
    else
        echo "FAIL $name: $(basename "$artifact") (log follows)"
        tail -40 "$dir.log"
        fail=$((fail + 1))
    fi
}

python_wheel() {
    "$python" -m venv venv && venv/bin/pip install -q --disable-pip-version-check ./ddata_crdt-*.whl \
        && venv/bin/python smoke.py
}
python_sdist() {
    "$python" -m venv venv && venv/bin/pip install -q --disable-pip-version-check ./ddata*crdt-*.tar.gz \
        && venv/bin/python smoke.py
}
node_tarball() {
    npm init -y >/dev/null && npm install --no-audit --no-fund ./ddata-crdt-*.tgz \
        && node smoke.cjs && node smoke.mjs
}
rust_crates() {
    mkdir crates && for c in ddata-*.crate; do tar -xzf "$c" -C crates; done
    sys=$(ls -d crates/ddata-sys-*/ | head -1)
    safe=$(ls -d crates/ddata-0*/ | head -1)
    cargo new -q --vcs none smoke && cp smoke.rs smoke/src/main.rs && cd smoke && cat >>Cargo.toml <<EOT
ddata = "0.1.0"

[patch.crates-io]
ddata = { path = "../$safe" }
ddata-sys = { path = "../$sys" }
EOT
    cargo run -q -j 2
}
c_tarball() {
    tar -xzf ddata-[0-9]*.tar.gz && src=$(ls -d ddata-[0-9]*/) \
        && cmake -S "$src" -B build -DCMAKE_BUILD_TYPE=Release -DDDATA_TESTS=OFF -DDDATA_BENCH=OFF >/dev/null \
        && cmake --build build -j 2 >/dev/null && cmake --install build --prefix "$PWD/prefix" >/dev/null \
        && "$PWD/prefix/bin/ddata" version \
        && cc -o quickstart "$src/examples/quickstart.c" \
            $(PKG_CONFIG_PATH="$PWD/prefix/lib/pkgconfig" pkg-config --cflags --libs ddata) \
        && ./quickstart \
        && echo "c smoke: ok (installed bin/ddata and a pkg-config-linked program run without LD_LIBRARY_PATH)"
}

# `npm install <checkout>/node` from a project elsewhere, on a fresh clone
# (of this checkout's HEAD): it must build, run, and write nothing in the
# clone outside node/.
node_folder() {
    git clone -q "$repo" clone && mkdir project && cd project && npm init -y >/dev/null \
        && npm install --no-audit --no-fund ../clone/node && cp ../smoke.cjs ../smoke.mjs . \
        && node smoke.cjs && node smoke.mjs \
        && outside=$(cd ../clone && git status --porcelain --ignored | grep -v ' node/' || true) \
        && { [ -z "$outside" ] || { echo "written outside node/: $outside"; false; }; }
}

check c-tarball 'ddata-[0-9]*.tar.gz' c_tarball
check python-wheel 'ddata_crdt-*.whl' python_wheel
check python-sdist 'ddata*crdt-*.tar.gz' python_sdist
check npm-tarball 'ddata-crdt-*.tgz' node_tarball
check rust-crates 'ddata*.crate' rust_crates
check npm-folder-install 'ddata-crdt-*.tgz' node_folder
echo "packaging: $pass passed, $fail failed"
[ "$fail" = 0 ]
