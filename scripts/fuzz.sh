#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/ one after another, each for SECONDS on a
# copy of its seed corpus (fuzz/corpus/TARGET; the committed seeds are never
# changed), and prints per target: executions, final cov/ft, crashes.
# Exits non-zero when any target crashed; crash inputs are kept in
# build-fuzz/runs/TARGET/artifacts (replay: build-fuzz/fuzz/fuzz_TARGET FILE).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (default 600 s, every target)
# Builds with clang in build-fuzz (CAUDAL_FUZZ=ON); JOBS (default 2) sets the
# build's parallelism. Fuzzers and the build run under `nice -n 5`.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sequences interaction_log item_files vectors run_files checkpoint server)

if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCAUDAL_FUZZ=ON -DCAUDAL_BUILD_TESTS=OFF -DCAUDAL_BUILD_BENCH=OFF || exit 1
fi
nice -n 5 ninja -C build-fuzz -j"${JOBS:-2}" "${targets[@]/#/fuzz_}" || exit 1

# Reports stop at the first error and print a stack trace.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Inputs longer than the largest seed give little; checkpoints are archives
# of ~20 KB, the rest text of a few KB.
max_len_of() { case $1 in checkpoint) echo 65536 ;; *) echo 16384 ;; esac; }

summary=()
failed=0
for target in "${targets[@]}"; do
  work=build-fuzz/runs/$target
  rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
  cp fuzz/corpus/"$target"/* "$work/corpus/"
  echo "== fuzz_$target: $seconds s"
  # -rss_limit_mb also caps single allocations (malloc_limit_mb): a small
  # input that asks for gigabytes is reported as a crash (oom-*).
  nice -n 5 build-fuzz/fuzz/fuzz_"$target" "$work/corpus" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2560 -max_len="$(max_len_of "$target")" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" >"$work/log" 2>&1 &
  pid=$!
  wait $pid
  status=$?
  rm -rf "/dev/shm/caudal-fuzz-$pid"  # the target's scratch directory, left behind when it stopped on a crash
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
  crashes=$(find "$work/artifacts" -type f \( -name "crash-*" -o -name "leak-*" -o -name "timeout-*" -o -name "oom-*" \) | wc -l)
  corpus=$(find "$work/corpus" -type f | wc -l)
  if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    failed=1
    echo "   FAILED (exit $status); log: $work/log"
    grep -m3 -E 'ERROR|runtime error|deadly signal|terminate' "$work/log" | sed 's/^/   /'
  fi
  summary+=("$(printf '%-16s %8s %12s %7s %7s %7s %8s' "$target" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$crashes")")
done

printf '\n%-16s %8s %12s %7s %7s %7s %8s\n' target seconds execs cov ft corpus crashes
printf '%s\n' "${summary[@]}"
exit $failed
