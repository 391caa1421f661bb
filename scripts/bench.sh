#!/usr/bin/env bash
# Training speed of caudal against a clean padded PyTorch SASRec on the same
# data, machine and thread count. Run it on an idle machine: two heavy
# processes at once halve each other.
# Usage: scripts/bench.sh [DATA] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-data/amazon/Beauty.txt}
threads=${2:-1}
[ -x build/bench/caudal_bench ] || scripts/setup.sh
echo "== caudal ($data, $threads thread(s))"
CAUDAL_BENCH_DATA=$data CAUDAL_BENCH_THREADS=$threads build/bench/caudal_bench --benchmark_filter=BM_TrainEpoch
# Debian's python3 (the one python3-torch installs into), not a pyenv one.
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "== PyTorch reference (bench/reference/torch_sasrec_epoch.py)"
  /usr/bin/python3 bench/reference/torch_sasrec_epoch.py "$data" --threads "$threads"
else
  echo "== PyTorch reference skipped: install Debian's python3-torch to run it"
fi
