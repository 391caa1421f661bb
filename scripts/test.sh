#!/usr/bin/env bash
# Sets everything up (packages, build) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
ctest --test-dir build --output-on-failure -j "$(nproc)"
scripts/sanitize.sh  # the same tests under AddressSanitizer and UndefinedBehaviorSanitizer
