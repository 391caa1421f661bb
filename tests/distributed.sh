#!/usr/bin/env bash
# `caudal launch` end to end on loopback: a two-rank training and its resume,
# a killed rank, a hung rank, bad cluster options. Every case is bounded in
# time; exits 77 (skipped) when the build has no distributed training.
# Usage: distributed.sh CAUDAL DATA   (DATA: a sequence file, e.g. data/amazon/Beauty.txt)
set -u
caudal="$1"
data="$2"
tmp=$(mktemp -d)
trap 'pkill -KILL -P $$ 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

if "$caudal" train --data "$data" --out "$tmp/probe" --world-size 2 --rank 1 --master 127.0.0.1:1 --dist-timeout 1 2>&1 |
  grep -q "no distributed training"; then
  echo "skipped: built without Gloo"; exit 77
fi

# The rank whose environment says RANK=$2, among the children of launch $1.
rank_pid() {
  for pid in $(pgrep -P "$1"); do
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "RANK=$2" && { echo "$pid"; return; }
  done
}

# Waits (at most $2 seconds) until file $1 contains pattern $3.
wait_for() {
  for _ in $(seq $(( $2 * 10 ))); do grep -q "$3" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# 1. Two ranks train, pause, resume to the end; only rank 0 writes the run.
small=(--data "$data" --epochs 3 --hidden 16 --threads 1 --seed 7)
timeout 300 "$caudal" launch -n 2 -- train "${small[@]}" --out "$tmp/run" --pause-after 2 >"$tmp/train.out" 2>&1 ||
  fail "launch train exited $?: $(tail -3 "$tmp/train.out")"
grep -q "^\[rank 0\] .*paused after epoch 2" "$tmp/train.out" || fail "no pause line from rank 0"
grep -q "^\[rank 1\]" "$tmp/train.out" && fail "rank 1 printed: $(grep -m1 '^\[rank 1\]' "$tmp/train.out")"
timeout 300 "$caudal" launch -n 2 -- resume --run "$tmp/run" >"$tmp/resume.out" 2>&1 ||
  fail "launch resume exited $?: $(tail -3 "$tmp/resume.out")"
[ -f "$tmp/run/metrics.json" ] || fail "no metrics.json after the resume"
[ "$(wc -l <"$tmp/run/history.jsonl")" -eq 3 ] || fail "history.jsonl has not 3 epochs"
grep -q "resumed after epoch 2" "$tmp/resume.out" || fail "the resume did not start after epoch 2"
echo "ok: two ranks train, pause and resume"

# 1b. TADA and FAERec under launch: rank 0 prepares TADA's candidates and sends them.
awk 'BEGIN { srand(3); for (u = 1; u <= 300; u++) { n = 5 + int(rand() * 10); i = 1 + int(rand() * 40);
  line = u; for (k = 0; k < n; k++) { line = line " " i; i = i % 40 + 1 } print line } }' >"$tmp/walks.txt"
awk 'BEGIN { srand(4); for (i = 1; i <= 40; i++) { line = i; for (k = 0; k < 24; k++) line = line " " rand(); print line } }' \
  >"$tmp/vectors.txt"
timeout 300 "$caudal" launch -n 2 -- train --data "$tmp/walks.txt" --out "$tmp/both" --epochs 2 --hidden 16 --threads 1 \
  --method faerec,tada --semantic "$tmp/vectors.txt" --tada-th 0.05 >"$tmp/both.out" 2>&1 ||
  fail "launch with FAERec and TADA exited $?: $(tail -3 "$tmp/both.out")"
grep -q "TADA preparation took" "$tmp/both.out" || fail "rank 0 did not prepare TADA's candidates"
[ -f "$tmp/both/metrics.json" ] && echo "ok: FAERec and TADA under launch" || fail "no metrics.json for FAERec and TADA"

# 2-3. A rank disrupted after epoch 1 ends the whole job within a bound.
# disrupt NAME SIGNAL PATTERN SECONDS [train options]: sends SIGNAL to rank 1,
# then expects a non-zero exit within SECONDS and PATTERN in the output.
long=(--data "$data" --epochs 200 --hidden 16 --threads 1 --overwrite)
disrupt() {
  local name="$1" signal="$2" pattern="$3" bound="$4"
  shift 4
  "$caudal" launch -n 2 -- train "${long[@]}" --out "$tmp/$name" "$@" >"$tmp/$name.out" 2>&1 &
  local launcher=$!
  if ! wait_for "$tmp/$name.out" 120 "epoch    1/"; then
    fail "$name: the job did not reach epoch 1"; kill -KILL $launcher; return
  fi
  local start=$SECONDS
  kill "-$signal" "$(rank_pid $launcher 1)"
  wait $launcher && fail "$name: the job exited 0"
  grep -q "$pattern" "$tmp/$name.out" || fail "$name: no '$pattern' in: $(tail -3 "$tmp/$name.out")"
  [ $((SECONDS - start)) -le "$bound" ] || fail "$name: the job took $((SECONDS - start)) s to end"
  echo "ok: $name: the job ended in $((SECONDS - start)) s: $(grep -m1 "$pattern" "$tmp/$name.out")"
}
disrupt killed KILL "rank 1 was killed by signal 9" 30            # the message names the rank
disrupt hung STOP "rank 0 of 2: .* failed" 40 --dist-timeout 5    # rank 0 gives up after the timeout

# 4. Bad cluster options.
expect_error() {  # expect_error "pattern" command...
  local pattern="$1"; shift
  local out; out=$(timeout 60 "$@" 2>&1)
  local rc=$?
  if [ $rc -eq 0 ]; then fail "(exit 0) $*"
  elif ! grep -qF -- "$pattern" <<<"$out"; then fail "(no '$pattern') $*: $(echo "$out" | tail -2)"
  else echo "ok: $pattern"; fi
}
expect_error "rank 2 is not below the world size 2" "$caudal" train "${small[@]}" --out "$tmp/bad" --world-size 2 --rank 2
expect_error "environment variable MASTER_PORT" env WORLD_SIZE=2 RANK=1 MASTER_PORT=http "$caudal" train "${small[@]}" --out "$tmp/bad"
expect_error "--master \"nohost\": expected HOST:PORT" "$caudal" train "${small[@]}" --out "$tmp/bad" --world-size 2 --master nohost
expect_error "joining the cluster" "$caudal" train "${small[@]}" --out "$tmp/bad" --world-size 2 --rank 1 --master 127.0.0.1:9 --dist-timeout 2
port=$((20000 + RANDOM % 20000))
"$caudal" train "${small[@]}" --out "$tmp/mismatch" --world-size 2 --rank 0 --master 127.0.0.1:$port --dist-timeout 30 \
  >/dev/null 2>&1 &
expect_error "rank 1 was started with other options or data than rank 0: hidden 32 (rank 0: 16)" \
  "$caudal" train --data "$data" --epochs 3 --hidden 32 --threads 1 --seed 7 --out "$tmp/mismatch1" --world-size 2 --rank 1 \
  --master 127.0.0.1:$port --dist-timeout 30
wait
expect_error "launch runs \`train\` or \`resume\`" "$caudal" launch -n 2 -- eval --run "$tmp/run"
expect_error "must have a row for each of the 2 ranks" "$caudal" launch -n 2 -- train "${small[@]}" --out "$tmp/bad" --batch 1

[ $failures -eq 0 ] && echo "all distributed cases passed" || echo "$failures distributed case(s) failed"
exit $((failures > 0))
