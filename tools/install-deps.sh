#!/bin/sh
# Installs what building and testing ddata needs, from Debian's packages.
# Idempotent and non-interactive: it does nothing when everything is there,
# and it needs root (or sudo) only when something is missing.
set -eu

need=""
have_pc() { pkg-config --exists "$1" 2>/dev/null; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }

have_cmd pkg-config || need="$need pkg-config"
have_cmd cmake || need="$need cmake"
have_cmd cc || need="$need gcc"
have_cmd c++ || need="$need g++"
have_cmd clang-format || need="$need clang-format"
have_pc sqlite3 || need="$need libsqlite3-dev"
have_pc libsodium || need="$need libsodium-dev"
have_pc zlib || need="$need zlib1g-dev"
have_pc libcjson || need="$need libcjson-dev"
have_pc libpq || need="$need libpq-dev"
[ -n "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ] || need="$need postgresql"
have_cmd sqlite3 || need="$need sqlite3"
# make test makes its own venv (build/venv) with the system's python3.
python3 -c 'import ensurepip, venv' 2>/dev/null || need="$need python3-venv"
# The ASan build is the clang build (clang's warnings are checked there);
# its sanitizer runtimes are in libclang-rt-14-dev, which clang only suggests.
have_cmd clang || need="$need clang"
[ -n "$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.a 2>/dev/null)" ] \
    || need="$need libclang-rt-14-dev"
# abi.baseline: abidw/abidiff; `ddata top` is tested under tmux; the metrics
# endpoint is checked with promtool (Debian's prometheus package).
have_cmd abidiff || need="$need abigail-tools"
have_cmd tmux || need="$need tmux"
have_cmd promtool || need="$need prometheus"
if [ "${DDATA_FUZZ_DEPS:-0}" = 1 ]; then
    have_cmd clang || need="$need clang"
    [ -n "$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] \
        || need="$need libclang-rt-14-dev"
fi

[ -n "$need" ] || exit 0

echo "install-deps: installing$need"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $need
