# ddata: the commands a user and CI need. The real build is CMake's; this
# file only strings the steps together.
#
#   make demo      build what is needed and run the demo
#   make test      install what is missing, build, run every suite
#   make bench     run the benchmarks (one JSON object per line)
#   make fuzz      build libFuzzer targets and run each for FUZZ_SECONDS
#   make soak      steady load on ddata nodes for SOAK_SECONDS; fails if RSS grows
#   make install   install library, header, pkg-config and CMake files
#   make symbols   regenerate abi/ddata.symbols and abi/ddata.map
#   make bindings  regenerate the bindings' declarations from the header
#   make abi-baseline  rewrite abi/ddata.abi.xml (abidw) after a compatible change
#   make test-python  install ./python against this build and run pytest
#   make test-node    npm install ./node against this build and run node --test
#   make test-rust    cargo test the rust-sys workspace against this build
#   make test-go      the Go (cgo) contract test in tests/bindings/go, under -race
#   make format    apply .clang-format

SHELL := /bin/bash

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
SOAK_SECONDS ?= 600
PREFIX ?= /usr/local
CTEST_FLAGS ?= --output-on-failure -j $(JOBS) --timeout 900

.PHONY: all deps build asan test test-suites test-c test-asan test-python test-node test-rust test-go bench fuzz soak demo install symbols bindings abi-baseline format clean

all: build

deps:
	@sh tools/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDDATA_SANITIZE=ON -DDDATA_BENCH=OFF

asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test-c: build
	ctest --test-dir $(BUILD) $(CTEST_FLAGS)

test-asan: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir $(ASAN_BUILD) $(CTEST_FLAGS) -LE "style|install"

# The package links this build's libddata.a (DDATA_BUILD_DIR) instead of
# compiling the library a second time; `pip install ./python` alone builds it.
test-python: build
	@python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install -q pytest
	DDATA_BUILD_DIR=$(abspath $(BUILD)) python3 -m pip install -q --force-reinstall $(PIP_FLAGS) ./python
	cd tests/python && python3 -m pytest -q -p no:cacheprovider .

# Node and Rust also link this build's libddata.a (DDATA_BUILD_DIR); alone,
# `npm install ./node` and `cargo build` compile the library themselves.
test-node: build
	cd node && DDATA_BUILD_DIR=$(abspath $(BUILD)) npm install --no-audit --no-fund
	cd node && node --expose-gc --test test/

test-rust: build
	cd rust-sys && DDATA_BUILD_DIR=$(abspath $(BUILD)) DDATA_FROM_TREE=1 cargo test --workspace --features ddata/tokio

# A fourth binding written from ABI.md and the header alone (#14): the
# shared conformance vectors and the error rules under the race detector.
# It links this build's libddata.so and needs nothing from the network.
test-go: build
	cd tests/bindings/go && GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=1 \
	  CGO_LDFLAGS="-L$(abspath $(BUILD)) -Wl,-rpath,$(abspath $(BUILD))" go test -race -count=1 -v .

# Every suite, then one closing line that adds up what they all reported
# ("total: N passed, N failed"), read from the combined log.
TEST_LOG ?= $(BUILD)-test.log
test:
	@set -o pipefail; $(MAKE) --no-print-directory test-suites 2>&1 | tee $(TEST_LOG)
	@python3 tools/test_summary.py $(TEST_LOG)

test-suites: test-c test-asan test-python test-node test-rust test-go

# stdout carries only the JSON lines; building and progress go to stderr.
bench:
	@$(MAKE) --no-print-directory build 1>&2
	@sh tools/bench.sh $(BUILD)

fuzz:
	@DDATA_FUZZ_DEPS=1 sh tools/install-deps.sh
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DCMAKE_BUILD_TYPE=Debug -DDDATA_FUZZ=ON -DDDATA_TESTS=OFF -DDDATA_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@sh tools/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Not part of `make test`: 10 minutes of durable increments on 3 `ddata node`
# processes, RSS sampled every 10 s, fails above 64 KiB/min after 2 minutes
# (tests/soak/soak.py). SOAK_SECONDS=120 for a quick look.
soak: build
	python3 tests/soak/soak.py --ddata $(BUILD)/ddata --seconds $(SOAK_SECONDS)

# Only the library and the CLI (not the test and bench targets), quietly.
demo: deps $(BUILD)/CMakeCache.txt
	@MAKEFLAGS=--no-print-directory cmake --build $(BUILD) -j $(JOBS) --target ddata_cli
	./$(BUILD)/ddata demo

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

symbols:
	python3 tools/abi/symbols.py update

bindings:
	python3 bindings/gen/gen.py update

# Builds only the shared library (with debug info: abidw reads DWARF), then
# describes it; ctest abi.baseline compares every build with the result.
abi-baseline: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target ddata
	python3 tools/abi/baseline.py update --lib $(BUILD)/libddata.so

format:
	sh tools/format.sh fix

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
