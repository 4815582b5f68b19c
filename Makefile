# SPDX-License-Identifier: BSD-3-Clause
#
# Convenience front end to CMake and the test scripts. See docs/testing.md.
#
#   make demo   build and run the demo (needs only gcc, cmake and make)
#   make test   install test dependencies (apt, as root) and run every test ring

BUILD ?= build
JOBS ?= 2

# The demo must build on a machine without cmocka: only ask for the tests
# when its header is there.
HAVE_CMOCKA := $(shell test -e /usr/include/cmocka.h && echo ON || echo OFF)

.PHONY: all build demo test check deps unit sim asan interop clang globals cortex-m4 fuzz \
	bench format clean

all: build

build:
	cmake -S . -B $(BUILD) -DKITE_TESTS=$(HAVE_CMOCKA)
	cmake --build $(BUILD) -j$(JOBS)

demo:
	cmake -S . -B $(BUILD) -DKITE_TESTS=$(HAVE_CMOCKA)
	cmake --build $(BUILD) -j$(JOBS) --target kite-demo
	./$(BUILD)/bin/kite-demo

test: deps check

deps:
	scripts/install-deps.sh

# Every ring, without touching the installed packages.
check:
	scripts/test-all.sh

# Single steps of scripts/test-all.sh (see docs/testing.md).
unit sim: build
	ctest --test-dir $(BUILD) -L '^$@$$' --output-on-failure -j$(JOBS)

asan:
	cmake -S . -B build-asan -DKITE_SANITIZE=ON
	cmake --build build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ctest --test-dir build-asan -L '^(unit|sim)$$' --output-on-failure -j$(JOBS)

# Interop (root); each test derives what to expect from the build's options
# (a default build refuses --offload, and test_tcp_offload checks that).
interop: build
	ctest --test-dir $(BUILD) -L '^interop$$' --output-on-failure

clang:
	cmake -S . -B build-clang -DCMAKE_C_COMPILER=clang -DKITE_TESTS=OFF
	cmake --build build-clang -j$(JOBS)

globals: build
	scripts/check-no-globals.sh $(BUILD)/libkite.a $(BUILD)/libkite_posix.a $(BUILD)/libkite_api.a

cortex-m4:
	scripts/build-cortex-m4.sh

fuzz:
	scripts/fuzz.sh

bench: build
	./$(BUILD)/bin/bench_sizes
	./$(BUILD)/bin/bench_udp_pps

format:
	find src port include apps demo bench tests -name '*.[ch]' -print0 | xargs -0 clang-format -i

clean:
	rm -rf build build-asan build-clang build-fuzz build-cortex-m4
