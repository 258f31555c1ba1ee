# ddata: the commands a user and CI need. The real build is CMake's; this
# file only strings the steps together.
#
#   make demo      build what is needed and run the demo
#   make test      install what is missing, build, run every suite
#   make bench     run the benchmarks (one JSON object per line)
#   make fuzz      build libFuzzer targets and run each for FUZZ_SECONDS
#   make soak      steady load on ddata nodes for SOAK_SECONDS; fails if RSS grows
#   make install   install library, header, pkg-config and CMake files
#   make docs      the API reference (Rust, Python, Node) in build/docs/
#   make symbols   regenerate abi/ddata.symbols and abi/ddata.map
#   make bindings  regenerate the bindings' declarations from the header
#   make abi-baseline  rewrite abi/ddata.abi.xml (abidw) after a compatible change
#   make test-python  install ./python against this build and run pytest
#   make test-node    npm install ./node against this build and run node --test
#   make test-rust    cargo test the rust-sys workspace against this build
#   make test-go      the Go (cgo) contract test in tests/bindings/go, under -race
#   make format    apply .clang-format
#   make dist      write every package into dist/ (C tarball, Python sdist +
#                  wheel, npm tarball, two .crate files)
#   make test-dist install each dist/ artifact far from the checkout and run
#                  a smoke program with it

SHELL := /bin/bash

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
# (a folder of its own: CMake keeps the compiler a build folder was made with)
ASAN_BUILD ?= build-asan-clang
RELEASE_BUILD ?= build-release
# The sanitizer build is the clang build: one build checks clang's warnings
# and runs the suites under ASan/UBSan.
ASAN_CC ?= clang
ASAN_CXX ?= clang++
# -Werror is for this project's own checks; a user's `make install` builds
# without it (`make test` turns it on).
WERROR ?= OFF
# Python tools run in a venv of our own: Debian's python3 refuses global
# pip installs (PEP 668), and a test must not change the user's interpreter.
PYTHON ?= python3
VENV ?= $(BUILD)/venv
VPY := $(abspath $(VENV))/bin/python
# One Cargo target folder for every cargo run (tests, packaging, smoke).
export CARGO_TARGET_DIR ?= $(abspath $(BUILD))/cargo-target
DIST ?= dist
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
SOAK_SECONDS ?= 600
PREFIX ?= /usr/local
CTEST_FLAGS ?= --output-on-failure -j $(JOBS) --timeout 900

.PHONY: docs all deps build asan release venv python-install node-install test test-suites test-c test-asan test-release test-python test-node test-rust test-go test-postgres test-dist test-snippets test-versions test-clean-checkout dist bench fuzz soak demo install symbols bindings abi-baseline format clean

all: build

deps:
	@sh tools/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: deps $(BUILD)/CMakeCache.txt
	@cmake -S . -B $(BUILD) -DDDATA_WERROR=$(WERROR) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt: | deps
	CC=$(ASAN_CC) CXX=$(ASAN_CXX) cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDDATA_SANITIZE=ON -DDDATA_BENCH=OFF

asan: deps $(ASAN_BUILD)/CMakeCache.txt
	@cmake -S . -B $(ASAN_BUILD) -DDDATA_WERROR=$(WERROR) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# gcc at -O3 (Release) warns about more than -O2 does; building it keeps
# those warnings at zero too.
release: deps
	cmake -S . -B $(RELEASE_BUILD) -DCMAKE_BUILD_TYPE=Release -DDDATA_WERROR=$(WERROR) -DDDATA_BENCH=OFF >/dev/null
	cmake --build $(RELEASE_BUILD) -j $(JOBS)

test-release: release

$(VPY): tools/dist/requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check -r tools/dist/requirements-test.txt
	touch -h $(VPY)

venv: $(VPY)

# PostgreSQL's suite runs once, in test-postgres (normal build, outside the
# sanitizer pass).
test-c: build venv
	ctest --test-dir $(BUILD) $(CTEST_FLAGS) -LE postgres

test-asan: asan venv
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir $(ASAN_BUILD) $(CTEST_FLAGS) -LE "style|install|postgres"

# The package links this build's libddata.a (DDATA_BUILD_DIR) instead of
# compiling the library a second time; `pip install ./python` alone builds it.
python-install: build venv
	DDATA_BUILD_DIR=$(abspath $(BUILD)) $(VPY) -m pip install -q --disable-pip-version-check \
	  --force-reinstall --no-deps --no-build-isolation $(PIP_FLAGS) ./python

test-python: python-install
	cd tests/python && $(VPY) -m pytest -q -p no:cacheprovider .
	$(VPY) tools/docs/check_python.py

# Node and Rust also link this build's libddata.a (DDATA_BUILD_DIR); alone,
# `npm install ./node` and `cargo build` compile the library themselves.
node-install: build
	cd node && DDATA_BUILD_DIR=$(abspath $(BUILD)) npm install --no-audit --no-fund

test-node: node-install
	cd node && node --expose-gc --test test/
	node tools/docs/check_typescript.js

test-rust: build
	cd rust-sys && DDATA_BUILD_DIR=$(abspath $(BUILD)) cargo test --workspace --features ddata/tokio,ddata/testing
	cd rust-sys && DDATA_BUILD_DIR=$(abspath $(BUILD)) cargo clippy -q --workspace --all-targets \
	  --features ddata/tokio,ddata/testing -- -D warnings
	cd rust-sys && DDATA_BUILD_DIR=$(abspath $(BUILD)) RUSTDOCFLAGS="-D warnings" cargo doc -q --no-deps -p ddata-sys -p ddata --features ddata/tokio,ddata/testing
# As docs.rs builds: no C library, no pkg-config.
	cd rust-sys && DOCS_RS=1 PKG_CONFIG_LIBDIR=/nonexistent RUSTDOCFLAGS="-D warnings" \
	  cargo doc -q --no-deps -p ddata-sys -p ddata --no-default-features

# The API reference (#18.8) in $(DOCS): rustdoc for both crates, pydoc
# pages for the Python package, typedoc pages for the Node declarations
# (typedoc comes from npm into $(BUILD)/docs-tools; without it the .d.ts
# files are the reference). The test-* targets fail on an undocumented
# public item; this target only renders.
DOCS ?= $(BUILD)/docs
DOCS_TOOLS ?= $(BUILD)/docs-tools
docs: python-install
	rm -rf $(DOCS) && mkdir -p $(DOCS)/python
	cd rust-sys && DDATA_BUILD_DIR=$(abspath $(BUILD)) RUSTDOCFLAGS="-D warnings" \
	  cargo doc -q --no-deps -p ddata-sys -p ddata --features ddata/tokio,ddata/testing
	cp -r $(CARGO_TARGET_DIR)/doc $(DOCS)/rust
	cd $(DOCS)/python && $(VPY) -m pydoc -w ddata ddata.testing >/dev/null
	@if [ ! -x $(DOCS_TOOLS)/node_modules/.bin/typedoc ]; then \
	  npm install -s --no-audit --no-fund --prefix $(DOCS_TOOLS) typedoc@0.26 typescript@5.5 || true; fi
	@if [ -x $(DOCS_TOOLS)/node_modules/.bin/typedoc ]; then \
	  cd node && $(abspath $(DOCS_TOOLS))/node_modules/.bin/typedoc --logLevel Error --skipErrorChecking \
	    --entryPoints index.d.ts testing.d.ts --out $(abspath $(DOCS))/node --name ddata-crdt --readme none; \
	else mkdir -p $(DOCS)/node && cp node/index.d.ts node/testing.d.ts $(DOCS)/node/; fi
	@echo "API reference: $(DOCS)/rust/ddata/index.html $(DOCS)/python/ddata.html $(DOCS)/node/index.html"

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
	@mkdir -p $(BUILD) && git status --porcelain > $(BUILD)/git-status-before
	@set -o pipefail; $(MAKE) --no-print-directory WERROR=ON test-suites 2>&1 | tee $(TEST_LOG)
	@$(PYTHON) tools/test_summary.py $(TEST_LOG)

# The suites `make test` runs, in order; each one's time is printed.
TEST_SUITES := test-versions test-c test-release test-asan test-python test-node test-rust test-go test-postgres test-snippets test-dist
test-suites:
	@for s in $(TEST_SUITES) test-clean-checkout; do \
	  start=$$(date +%s); $(MAKE) --no-print-directory $$s || exit 1; \
	  echo "suite $$s: $$(( $$(date +%s) - start )) s"; \
	done

# Every manifest's version and licence agree with the header and LICENSE.
test-versions:
	$(PYTHON) tools/dist/versions.py

# Every code block in README.md and docs/*.md runs (C, Python, Node, Rust).
test-snippets: python-install node-install
	$(VPY) tools/dist/snippets.py --build $(abspath $(BUILD)) --python $(VPY)

# make dist, then each artifact installed in a scratch folder outside the
# checkout, as a user would, and a smoke program run with it.
test-dist: dist
	PYTHON=$(PYTHON) sh tests/packaging/run.sh $(abspath $(DIST))

# Nothing a test did may show in the checkout: `git status --porcelain` is
# what it was when `make test` started (empty on a clean clone).
test-clean-checkout:
	@before=$$(cat $(BUILD)/git-status-before 2>/dev/null); after=$$(git status --porcelain); \
	if [ "$$before" != "$$after" ]; then echo "FAIL: the tests changed the checkout:"; \
	  diff <(echo "$$before") <(echo "$$after"); exit 1; fi; \
	echo "PASS: the tests left the checkout as they found it ($$(echo "$$after" | grep -c . || true) entries before and after)"

dist: venv
	sh tools/dist/dist.sh $(abspath $(DIST)) $(VPY)

# The PostgreSQL suite (ctest label `postgres`) in the normal build: the
# store contract on the postgres engine, concurrency and fault tests. The
# ctest fixture starts a throwaway server (tools/pg-test-server.sh) and
# removes it afterwards; DDATA_PG_URL points the tests at your own server.
test-postgres: build
	@test -x "$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/initdb" || \
	  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }
	ctest --test-dir $(BUILD) $(CTEST_FLAGS) -L postgres

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
	rm -rf $(BUILD) $(ASAN_BUILD) $(RELEASE_BUILD) $(FUZZ_BUILD) $(DIST)
