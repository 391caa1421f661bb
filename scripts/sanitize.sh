#!/usr/bin/env bash
# Builds caudal with AddressSanitizer and UndefinedBehaviorSanitizer into
# build-asan/ (CMake option CAUDAL_SANITIZE) and runs the unit tests and the
# CLI's bad-input cases under them. Run by scripts/test.sh, so CI runs it.
# Usage: scripts/sanitize.sh [GTEST_FILTER]
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-*}"
# -O1: sanitized code at -O0 is several times slower, at -O2 stacks lose frames.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g" \
  -DCAUDAL_SANITIZE=ON -DCAUDAL_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$(nproc)" --target caudal_tests caudal_cli
# detect_leaks=0: LibTorch's (uninstrumented) registries live until exit and
# would be reported as leaks; every other ASan check stays on.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
build-asan/tests/caudal_tests --gtest_filter="$filter" --gtest_brief=1
tests/cli_errors.sh build-asan/caudal
echo "sanitize: unit tests and CLI error cases clean under ASan and UBSan"
