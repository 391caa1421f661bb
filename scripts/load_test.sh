#!/usr/bin/env bash
# Load test of `caudal serve` with wrk on loopback (bounded: DURATION seconds
# per case). Cases: --workers 1 and 2, each with batching on and off, then
# 10% malformed requests mixed in. After each case the server's /metrics
# tells how many answers were 4xx and 5xx, and SIGTERM must stop it with exit 0.
# Usage: scripts/load_test.sh RUN_DIR [DURATION=30] [CONNECTIONS=32] [PORT=18080]
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:?usage: scripts/load_test.sh RUN_DIR [DURATION] [CONNECTIONS] [PORT]}
duration=${2:-30}
connections=${3:-32}
port=${4:-18080}
caudal=./build/caudal
command -v wrk >/dev/null || { echo "load_test: needs wrk (apt-get install wrk)"; exit 1; }
items=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["items"])' < <(
  $caudal serve --run "$run" --port "$port" >/dev/null 2>&1 & pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v1/health" && break; sleep 0.2; done
  kill -TERM $pid; wait $pid || true))

one_case() {  # one_case NAME BAD_SHARE SERVE_OPTIONS...
  local name=$1 bad=$2
  shift 2
  $caudal serve --run "$run" --port "$port" "$@" >/tmp/caudal-load-serve.log 2>&1 &
  local pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.2; done
  local result
  result=$(WRK_ITEMS=$items WRK_BAD_SHARE=$bad wrk -t2 -c"$connections" -d"${duration}s" --latency \
    -s bench/wrk/recommend.lua "http://127.0.0.1:$port" | tail -1)
  local metrics
  metrics=$(curl -sf "http://127.0.0.1:$port/metrics")
  local c4xx c5xx
  c4xx=$(awk '/^caudal_requests_total\{.*code="4/ {s+=$2} END {print s+0}' <<<"$metrics")
  c5xx=$(awk '/^caudal_requests_total\{.*code="5/ {s+=$2} END {print s+0}' <<<"$metrics")
  kill -TERM $pid
  local rc=0
  wait $pid || rc=$?
  printf '%-28s %s; 4xx %s, 5xx %s; server exit %s\n' "$name" "$result" "$c4xx" "$c5xx" "$rc"
}

echo "caudal serve under wrk: ${duration}s, $connections connections, 2 wrk threads, $(nproc) cores shared with wrk"
one_case "workers 1, batching" 0 --workers 1
one_case "workers 2, batching" 0 --workers 2
one_case "workers 1, no batching" 0 --workers 1 --no-batching
one_case "workers 2, no batching" 0 --workers 2 --no-batching
one_case "workers 1, 10% malformed" 0.1 --workers 1
