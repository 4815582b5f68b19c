#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Build the libFuzzer harnesses (tests/fuzz/fuzz_*.c) with clang, ASan and
# UBSan, and run each on a copy of its seed corpus for a bounded time. Fails on
# any crash, sanitizer report, leak or timeout; the input that caused it is
# kept under build-fuzz/artifacts/. The committed corpus is never modified.
#
#   FUZZ_SECONDS=60 scripts/fuzz.sh          (total time shared by all harnesses)
#   scripts/fuzz.sh fuzz_frames              (only these harnesses)
set -eu

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-2}

if [ $# -gt 0 ]; then
    harnesses="$*"
else
    harnesses=$(find tests/fuzz -maxdepth 1 -name 'fuzz_*.c' | sed 's|.*/||; s|\.c$||' | sort)
fi
if [ -z "$harnesses" ]; then
    echo "fuzz: no harness found under tests/fuzz/" >&2
    exit 1
fi
count=$(echo "$harnesses" | wc -w)
per_harness=$((FUZZ_SECONDS / count))
[ "$per_harness" -ge 1 ] || per_harness=1

CC=clang cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER=clang -DKITE_FUZZ=ON -DKITE_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# shellcheck disable=SC2086 # one target per harness
cmake --build "$BUILD" -j"$JOBS" --target $harnesses

work=$(mktemp -d "${TMPDIR:-/tmp}/kite-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$BUILD/artifacts"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

status=0
for h in $harnesses; do
    corpus="$work/$h"
    mkdir -p "$corpus"
    if [ -d "tests/fuzz/corpus/$h" ]; then
        cp tests/fuzz/corpus/"$h"/* "$corpus"/ 2>/dev/null || true
    fi
    echo "fuzz: $h for ${per_harness}s on $(find "$corpus" -type f | wc -l) seeds"
    # -timeout: one input may take at most 10 s; -rss_limit_mb bounds memory.
    if ! "$BUILD/bin/$h" -max_total_time="$per_harness" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$h-" "$corpus" \
        >"$work/$h.log" 2>&1; then
        tail -n 60 "$work/$h.log"
        echo "fuzz: FAIL: $h; reproduce with $BUILD/bin/$h $BUILD/artifacts/$h-<file>"
        status=1
    else
        grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' \
            "$work/$h.log" || true
        echo "fuzz: OK: $h, corpus grew to $(find "$corpus" -type f | wc -l) inputs (not kept)"
    fi
done
exit $status
