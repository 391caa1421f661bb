#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/ one after another, each for SECONDS on a
# copy of its seed corpus (fuzz/corpus/TARGET; the committed seeds are never
# changed), and prints per target: executions, final cov/ft, corpus size and
# crashes. A target that crashes is started again on its grown corpus for the
# time left, so one run reports every crash it meets (libFuzzer's own
# -fork mode does too, but restarts LibTorch for every job: 20-50 times
# fewer executions). Crash inputs are kept in build-fuzz/runs/TARGET/artifacts
# (replay one with build-fuzz/fuzz/fuzz_TARGET FILE). Exits non-zero when any
# target crashed.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (default 600 s, every target)
# Builds with clang in build-fuzz (CAUDAL_FUZZ=ON); JOBS (default 2) sets the
# build's parallelism. Fuzzers and the build run under `nice -n 5`.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sequences interaction_log item_files vectors run_files checkpoint server endpoint)

if ! command -v clang++ >/dev/null || [ -z "$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a | grep /)" ]; then
  echo "fuzz.sh: needs clang and its libFuzzer runtime: sudo apt-get install clang libclang-rt-14-dev" >&2
  exit 1
fi
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCAUDAL_FUZZ=ON -DCAUDAL_BUILD_TESTS=OFF -DCAUDAL_BUILD_BENCH=OFF || exit 1
fi
nice -n 5 ninja -C build-fuzz -j"${JOBS:-2}" "${targets[@]/#/fuzz_}" || exit 1

# Reports print a stack trace and end the input's run. Leaks LibTorch makes by
# itself are suppressed (fuzz/lsan.supp says which and why); matching them
# needs full stacks at each allocation, which costs speed, so only the target
# that reaches them (checkpoint) pays it.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0
asan_options_of() { case $1 in checkpoint) echo fast_unwind_on_malloc=0 ;; *) echo "" ;; esac; }
# Inputs longer than the largest seed give little; checkpoints are archives
# of up to ~40 KB, the rest text of a few KB.
max_len_of() { case $1 in checkpoint) echo 65536 ;; *) echo 16384 ;; esac; }

summary=()
failed=0
for target in "${targets[@]}"; do
  work=$PWD/build-fuzz/runs/$target
  rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts" "$work/scratch"
  cp fuzz/corpus/"$target"/* "$work/corpus/"
  : >"$work/log"
  echo "== fuzz_$target: $seconds s"
  start=$SECONDS
  while (( SECONDS - start < seconds )); do
    # -rss_limit_mb also caps single allocations (malloc_limit_mb): a small
    # input that asks for gigabytes is reported (oom-*), as is one that runs
    # longer than -timeout seconds (timeout-*).
    CAUDAL_FUZZ_SCRATCH=$work/scratch ASAN_OPTIONS=$(asan_options_of "$target") \
      nice -n 5 build-fuzz/fuzz/fuzz_"$target" "$work/corpus" -max_total_time=$(( seconds - (SECONDS - start) )) \
      -timeout=10 -rss_limit_mb=2560 -max_len="$(max_len_of "$target")" -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/" >>"$work/log" 2>&1 && break
    if [ -z "$(ls -A "$work/artifacts")" ]; then  # failed without a finding: not something to run again
      echo "   fuzz_$target failed to run; log: $work/log"
      failed=1
      break
    fi
    # Crashed: a corpus input that crashes would crash the restart at once.
    for artifact in "$work"/artifacts/*; do
      hash=${artifact##*-}
      for unit in "$work"/corpus/*; do
        [ "$(sha1sum <"$unit" | cut -d' ' -f1)" = "$hash" ] && rm -f "$unit"
      done
    done
  done
  rm -rf "$work/scratch"/*  # what runs stopped by a crash left
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | awk '{n += $1} END {print n + 0}')
  last=$(grep -E '(INITED|NEW|REDUCE|pulse|DONE) +cov:' "$work/log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | cut -d' ' -f2)
  corpus=$(find "$work/corpus" -type f | wc -l)
  crashes=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  if [ "$crashes" -gt 0 ]; then
    failed=1
    echo "   $crashes crash input(s) in $work/artifacts; log: $work/log"
  fi
  summary+=("$(printf '%-16s %8s %12s %7s %7s %7s %8s' "$target" "$seconds" "$execs" "${cov:-?}" "${ft:-?}" "$corpus" "$crashes")")
done

printf '\n%-16s %8s %12s %7s %7s %7s %8s\n' target seconds execs cov ft corpus crashes
printf '%s\n' "${summary[@]}"
exit $failed
