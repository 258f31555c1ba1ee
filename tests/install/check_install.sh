#!/bin/sh
# Installs the build into a scratch prefix and builds the quickstart against
# it twice, the two ways a user would: pkg-config and CMake's find_package.
# Usage: check_install.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1
build=$2
prefix=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib* | head -n 1)
for f in include/ddata.h; do
    [ -f "$prefix/$f" ] || { echo "missing $f"; exit 1; }
done
[ -e "$libdir/libddata.so.1" ] && [ -f "$libdir/libddata.a" ] || { echo "libraries missing"; exit 1; }
[ -f "$libdir/pkgconfig/ddata.pc" ] || { echo "ddata.pc missing"; exit 1; }
[ -f "$libdir/cmake/ddata/ddataConfig.cmake" ] || { echo "CMake package missing"; exit 1; }

# pkg-config, shared library
PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --exact-version="$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --modversion ddata)" ddata
cc -std=c11 "$src/examples/quickstart.c" $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs ddata) \
    -Wl,-rpath,"$libdir" -o "$work/quickstart-pc"
"$work/quickstart-pc" >/dev/null

# find_package(ddata), static library
mkdir -p "$work/proj"
cat > "$work/proj/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(ddata 1.0 REQUIRED)
add_executable(quickstart $src/examples/quickstart.c)
target_link_libraries(quickstart PRIVATE ddata::ddata_static)
CMAKE
cmake -S "$work/proj" -B "$work/proj/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/proj/build" >/dev/null
"$work/proj/build/quickstart" >/dev/null
echo "install: header, libraries, ddata.pc and the CMake package work (pkg-config + shared, find_package + static)"
