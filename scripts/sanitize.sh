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
# Leak checking stays on: the suite ran clean with it (2026-12-03).
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
build-asan/tests/caudal_tests --gtest_filter="$filter" --gtest_brief=1
# A report inside a CLI case that expects an error could pass unnoticed: look for them.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
tests/cli_errors.sh build-asan/caudal 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$log"; then
  echo "sanitize: a sanitizer report in the CLI cases"; exit 1
fi
echo "sanitize: unit tests and CLI error cases clean under ASan and UBSan"
