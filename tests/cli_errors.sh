#!/usr/bin/env bash
# Bad input through the CLI: each case must exit non-zero with a message that
# names the problem (and the file and line where there is one).
set -u
caudal="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"  # absolute: some cases change directory
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

expect_error() {  # expect_error "pattern" command...
  local pattern="$1"
  shift
  local out
  out=$("$@" 2>&1)
  local rc=$?
  if [ $rc -eq 0 ]; then
    echo "FAIL (exit 0): $*"; failures=$((failures + 1))
  elif ! grep -qF -- "$pattern" <<<"$out"; then
    echo "FAIL (no '$pattern' in output): $*"; echo "$out" | head -5; failures=$((failures + 1))
  else
    echo "ok: $pattern"
  fi
}

printf '1 1 2 3\n2 4 five 6\n' >"$tmp/bad.txt"
expect_error "bad.txt:2: not an integer item id: 'five'" "$caudal" train --data "$tmp/bad.txt" --out "$tmp/run"
printf '' >"$tmp/empty.txt"
expect_error "no users" "$caudal" train --data "$tmp/empty.txt" --out "$tmp/run"
expect_error "--data" "$caudal" train --data "$tmp/missing.txt" --out "$tmp/run"
printf '1 1 2 3\n2 2 3 4\n' >"$tmp/short.txt"
expect_error "short.txt: no user has an item to train on" "$caudal" train --data "$tmp/short.txt" --out "$tmp/run" --epochs 1 --hidden 8
printf '1 1 2 3 4\n2 2 3 4 5\n' >"$tmp/ok.txt"
expect_error "multiple of --heads" "$caudal" train --data "$tmp/ok.txt" --out "$tmp/run" --hidden 7 --heads 2 --epochs 1
expect_error "unknown --model 'nope'" "$caudal" train --data "$tmp/ok.txt" --out "$tmp/run" --model nope --epochs 1
expect_error "--device must be cpu or cuda" "$caudal" train --data "$tmp/ok.txt" --out "$tmp/run" --device tpu --epochs 1
expect_error "not a PyTorch state dict" "$caudal" import --weights "$tmp/ok.txt" --data "$tmp/ok.txt" --out "$tmp/imported"
mkdir -p "$tmp/notarun"
expect_error "config.json: not found" "$caudal" eval --run "$tmp/notarun"
"$caudal" train --data "$tmp/ok.txt" --out "$tmp/run" --epochs 1 --hidden 8 >/dev/null 2>&1 || { echo "FAIL: tiny training run"; failures=$((failures + 1)); }

# serve answers on a free loopback port, and SIGTERM stops it with exit 0.
"$caudal" serve --run "$tmp/run" --port 0 >"$tmp/serve.out" 2>&1 &
serve_pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's#.*http://127.0.0.1:\([0-9]*\).*#\1#p' "$tmp/serve.out")
  [ -n "$port" ] && break
  sleep 0.1
done
if [ -n "$port" ] && python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v1/recommend', b'{\"history\": [1, 2]}', timeout=10)"; then
  kill -TERM $serve_pid
  if wait $serve_pid && grep -q "SIGTERM, answering what is in flight" "$tmp/serve.out" && grep -q "^stopped" "$tmp/serve.out"; then
    echo "ok: serve answers, and SIGTERM stops it with exit 0"
  else
    echo "FAIL: serve did not stop cleanly on SIGTERM"; cat "$tmp/serve.out"; failures=$((failures + 1))
  fi
else
  echo "FAIL: serve did not answer"; cat "$tmp/serve.out"; kill -KILL $serve_pid; failures=$((failures + 1))
fi
expect_error "needs --api-key-env" "$caudal" serve --run "$tmp/run" --host 0.0.0.0 --port 0
expect_error "was trained with --padding-row zero" "$caudal" train --data "$tmp/ok.txt" --out "$tmp/run2" --init "$tmp/run" --hidden 8 --padding-row random --epochs 1
expect_error "--padding-row: learned not in {zero,random}" "$caudal" train --data "$tmp/ok.txt" --out "$tmp/run2" --padding-row learned --epochs 1
expect_error "--hidden: must be in (0, 65536], got 0" "$caudal" train --data "$tmp/ok.txt" --out "$tmp/run2" --hidden 0
expect_error "unknown --method 'mixup' (known: faerec, tada)" "$caudal" train --data "$tmp/ok.txt" --out "$tmp/run2" --method mixup
expect_error "has no FAERec fusion to inspect" "$caudal" inspect-fusion --run "$tmp/run"
expect_error "resume.pt: not found" "$caudal" resume --run "$tmp/run"
"$caudal" train --data "$tmp/ok.txt" --out "$tmp/paused" --epochs 3 --hidden 8 --pause-after 1 >/dev/null 2>&1 || { echo "FAIL: paused training run"; failures=$((failures + 1)); }
expect_error "holds an unfinished training (resume.pt): continue it with" "$caudal" train --data "$tmp/ok.txt" --out "$tmp/paused" --epochs 3 --hidden 8
"$caudal" resume --run "$tmp/paused" >/dev/null 2>&1 && [ -f "$tmp/paused/metrics.json" ] || { echo "FAIL: resume of a paused run"; failures=$((failures + 1)); }
head -c 100 "$tmp/run/model.pt" >"$tmp/cut.pt" && mv "$tmp/cut.pt" "$tmp/run/model.pt"
expect_error "model.pt: checkpoint is damaged, truncated" "$caudal" eval --run "$tmp/run"
printf 'user,item,rating,timestamp\nu1,i1,5\n' >"$tmp/log.csv"
expect_error "log.csv:2: expected 4 fields" "$caudal" prepare --interactions "$tmp/log.csv" --out "$tmp/prep"
expect_error "--format: unknown format 'parquet' (known: csv, amazon, recbole, movielens)" \
  "$caudal" prepare --interactions "$tmp/log.csv" --format parquet --out "$tmp/prep"
# Every interaction format and its item text, through to vectors: the 2023
# Amazon fixture (gzip) with its metadata, then embed on the items.tsv written.
fixtures=$(cd "$(dirname "$0")/data/prepare" && pwd)
if "$caudal" prepare --interactions "$fixtures/reviews_2023.jsonl.gz" --items "$fixtures/meta_2023.jsonl" \
    --k-core 1 --out "$tmp/amazon" >"$tmp/out.txt" 2>&1 &&
  grep -qF "item text: 5 of 6 items (6 rows read)" "$tmp/out.txt" &&
  "$caudal" embed --items "$tmp/amazon/items.tsv" --columns title,brand,categories \
    --allow-missing --dim 4 --min-df 1 --out "$tmp/amazon/v.npy" >/dev/null 2>&1 && [ -s "$tmp/amazon/v.npy" ]; then
  echo "ok: prepare amazon 2023 + metadata -> embed"
else
  echo "FAIL: prepare amazon 2023 + metadata -> embed"; cat "$tmp/out.txt"; failures=$((failures + 1))
fi
cp "$tmp/amazon/sequences.txt" "$tmp/kept.txt"
expect_error "already holds prepared data (sequences.txt); give --overwrite to replace it" \
  "$caudal" prepare --interactions "$fixtures/log.csv" --k-core 1 --out "$tmp/amazon"
cmp -s "$tmp/amazon/sequences.txt" "$tmp/kept.txt" && echo "ok: prepared data kept" ||
  { echo "FAIL: prepared data replaced without --overwrite"; failures=$((failures + 1)); }
"$caudal" prepare --interactions "$fixtures/ratings.dat" --k-core 1 --out "$tmp/amazon" --overwrite >/dev/null 2>&1 &&
  [ ! -e "$tmp/amazon/items.tsv.tmp" ] && echo "ok: --overwrite replaces" ||
  { echo "FAIL: prepare --overwrite"; failures=$((failures + 1)); }

printf 'item_id\ttitle\n1\tred pen\n2\t\n' >"$tmp/items.tsv"
expect_error "no column 'colour'" "$caudal" embed --items "$tmp/items.tsv" --columns colour --out "$tmp/v.npy"
expect_error "1 of 2 items have no text (first: 2)" "$caudal" embed --items "$tmp/items.tsv" --columns title --out "$tmp/v.npy"
printf '1 0.5 0.1\n2 0.2 0.3\n' >"$tmp/v.txt"
printf '1 1 2 3\n2 2 3 1\n3 3 1 2 4\n' >"$tmp/four.txt"
expect_error "no vector for item 3" "$caudal" eval --method content-knn --data "$tmp/four.txt" --semantic "$tmp/v.txt" --out "$tmp/knn"
expect_error "--data, --semantic and --out" "$caudal" eval --method content-knn --semantic "$tmp/v.txt"

# eval --run evaluates as the run was trained (here: 3 sampled negatives),
# changing only what its own command line says. With 3 negatives every
# target ranks within the top 5; with the default 100 of 40 items it would not.
for u in $(seq 1 12); do echo "$u $(seq -s ' ' $((u % 7 + 1)) $((u % 7 + 6)))"; done >"$tmp/wide.txt"
echo "13 $(seq -s ' ' 2 40)" >>"$tmp/wide.txt"
"$caudal" train --data "$tmp/wide.txt" --out "$tmp/sampled" --epochs 1 --hidden 8 --sampled-eval --sampled-negatives 3 >/dev/null 2>&1 &&
  "$caudal" eval --run "$tmp/sampled" >/dev/null 2>&1 &&
  python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["test"]; b=json.load(open(sys.argv[2]))["test"]; sys.exit(a!=b or a["overall"]["hr@5"]!=1)' \
    "$tmp/sampled/metrics.json" "$tmp/sampled/eval.json" &&
  echo "ok: eval --run keeps the run's evaluation options" ||
  { echo "FAIL: eval --run changed the run's evaluation options"; failures=$((failures + 1)); }
"$caudal" eval --run "$tmp/sampled" --sampled-negatives 0 >"$tmp/out.txt" 2>&1
grep -qF -- "--sampled-negatives: must be in (0, 1000000], got 0" "$tmp/out.txt" && echo "ok: eval option limits" ||
  { echo "FAIL: eval --sampled-negatives 0 accepted"; failures=$((failures + 1)); }

# The raw-log path end to end: prepare ml-100k, embed its items through the id map, content-knn.
data_dir=$(cd "$(dirname "$0")/../data/ml-100k" && pwd)
if "$caudal" prepare --interactions "$data_dir/interactions.csv" --out "$tmp/ml" >/dev/null &&
  "$caudal" embed --items "$data_dir/items.csv" --id-map "$tmp/ml/item_map.tsv" --data "$tmp/ml/sequences.txt" \
    --columns title,genres --out "$tmp/ml/v.npy" >/dev/null &&
  "$caudal" eval --method content-knn --data "$tmp/ml/sequences.txt" --semantic "$tmp/ml/v.npy" --out "$tmp/ml/knn" >/dev/null &&
  grep -q '"tail_item"' "$tmp/ml/knn/metrics.json"; then
  echo "ok: ml-100k prepare -> embed -> content-knn"
else
  echo "FAIL: ml-100k prepare -> embed -> content-knn"; failures=$((failures + 1))
fi

# Reports: the Markdown table on standard output; the HTML never inside a run.
"$caudal" report --run "$tmp/sampled=sampled" --format md >"$tmp/table.md" 2>&1 && grep -q "^| sampled | 1.0000 / " "$tmp/table.md" &&
  echo "ok: report --format md" || { echo "FAIL: report --format md"; cat "$tmp/table.md"; failures=$((failures + 1)); }
expect_error "is inside the run directory" "$caudal" report --run "$tmp/sampled" --out "$tmp/sampled/report.html"
mkdir -p "$tmp/unfinished" && cp "$tmp/sampled/config.json" "$tmp/unfinished/"
expect_error "unfinished: the run has not finished (no metrics.json)" "$caudal" report --run "$tmp/unfinished" --out "$tmp/r.html"

# Reliability (README, "Reliability"): each case below once crashed,
# destroyed output or said too little.
# A trained run is never replaced without --overwrite: a second training
# into it fails before it writes anything, and the first run stays whole.
cp "$tmp/paused/model.pt" "$tmp/kept.pt" && cp "$tmp/paused/config.json" "$tmp/kept.json"
expect_error "holds a trained run (metrics.json); give --overwrite" "$caudal" train --data "$tmp/ok.txt" --out "$tmp/paused" --epochs 1 --hidden 16
cmp -s "$tmp/paused/model.pt" "$tmp/kept.pt" && cmp -s "$tmp/paused/config.json" "$tmp/kept.json" &&
  echo "ok: a trained run is kept" || { echo "FAIL: train --out replaced a trained run"; failures=$((failures + 1)); }
"$caudal" train --data "$tmp/ok.txt" --out "$tmp/paused" --epochs 1 --hidden 8 --overwrite >/dev/null 2>&1 &&
  [ ! -e "$tmp/paused/resume.pt" ] && [ -f "$tmp/paused/metrics.json" ] && echo "ok: train --overwrite replaces" ||
  { echo "FAIL: train --overwrite"; failures=$((failures + 1)); }
printf '1 0.1 0.9\n2 0.2 0.3\n3 0.7 0.1\n4 0.4 0.8\n5 0.9 0.5\n' >"$tmp/v5.txt"
expect_error "holds a trained run (metrics.json)" "$caudal" eval --method content-knn --data "$tmp/ok.txt" --semantic "$tmp/v5.txt" --out "$tmp/paused"
cmp -s "$tmp/items.tsv" <(printf 'item_id\ttitle\n1\tred pen\n2\t\n') || echo "FAIL: test setup"
expect_error "is the --items file" "$caudal" embed --items "$tmp/items.tsv" --columns title --allow-missing --out "$tmp/items.tsv"
cmp -s "$tmp/items.tsv" <(printf 'item_id\ttitle\n1\tred pen\n2\t\n') && echo "ok: embed keeps its input" ||
  { echo "FAIL: embed --out onto --items changed the item file"; failures=$((failures + 1)); }
expect_error "v.txt exists; give --overwrite" "$caudal" embed --items "$tmp/items.tsv" --columns title --out "$tmp/v.txt"

# A run resolves its data from any working directory, and a data file
# changed since training is refused by name.
mkdir -p "$tmp/cwd" && cp "$tmp/ok.txt" "$tmp/cwd/data.txt"
(cd "$tmp/cwd" && "$caudal" train --data data.txt --out rel --epochs 1 --hidden 8 >/dev/null 2>&1) &&
  (cd / && "$caudal" eval --run "$tmp/cwd/rel" >/dev/null 2>&1) && echo "ok: eval --run from another directory" ||
  { echo "FAIL: a run trained on a relative --data is not found from elsewhere"; failures=$((failures + 1)); }
printf '1 1 2 3 4\n2 2 3 4 1\n' >"$tmp/cwd/data.txt"
expect_error "data.txt changed since the run" "$caudal" eval --run "$tmp/cwd/rel"
printf '{}\n' >"$tmp/notarun/config.json"
expect_error "config.json: no \"data\" field" "$caudal" eval --run "$tmp/notarun"

# A full disk (here a file-size limit) is an error; the previous checkpoint
# stays and no temporary file is left.
"$caudal" train --data "$tmp/ok.txt" --out "$tmp/full" --epochs 3 --hidden 8 --pause-after 1 >/dev/null 2>&1
cp "$tmp/full/resume.pt" "$tmp/kept_resume.pt"
(ulimit -f 1; "$caudal" resume --run "$tmp/full" >"$tmp/out.txt" 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -q "File too large" "$tmp/out.txt" && cmp -s "$tmp/full/resume.pt" "$tmp/kept_resume.pt" &&
  [ -z "$(ls "$tmp/full" | grep '\.tmp\.')" ]; then
  echo "ok: a full disk keeps the checkpoint"
else
  echo "FAIL: full disk (exit $rc)"; cat "$tmp/out.txt" | tail -3; ls "$tmp/full"; failures=$((failures + 1))
fi
"$caudal" resume --run "$tmp/full" >/dev/null 2>&1 && [ -f "$tmp/full/metrics.json" ] && echo "ok: resumed after the full disk" ||
  { echo "FAIL: resume after a full disk"; failures=$((failures + 1)); }

# Sizes checked up front, naming the id or the option.
printf '1 1 2 3\n2 2 3 2147483648\n' >"$tmp/huge.txt"
expect_error "huge.txt:2: item id 2147483648 is far beyond the 4 distinct items" "$caudal" train --data "$tmp/huge.txt" --out "$tmp/h" --epochs 1
printf 'item_id\ttitle\n1\tred pen\n2000000000\tblue pen\n' >"$tmp/sparse_items.tsv"
expect_error "item id 2000000000 is far beyond the 2 distinct items" "$caudal" embed --items "$tmp/sparse_items.tsv" --columns title --out "$tmp/s.npy"
expect_error "--max-len: must be in (0, 100000], got 100000000" "$caudal" train --data "$tmp/ok.txt" --out "$tmp/h" --max-len 1e8
expect_error "--epochs: must be in (0, 1000000], got 1e+20" "$caudal" train --data "$tmp/ok.txt" --out "$tmp/h" --epochs 99999999999999999999
expect_error "--pause-after: must be in [1, 1000000], got -1" "$caudal" train --data "$tmp/ok.txt" --out "$tmp/h" --pause-after -1
expect_error "--timeout: must be in [0.001, 86400], got 0.0001" "$caudal" embed --items "$tmp/items.tsv" --columns title --encoder endpoint --timeout 0.0001 --out "$tmp/e.npy"

[ $failures -eq 0 ] && echo "all CLI error cases passed" || echo "$failures CLI error case(s) failed"
exit $((failures > 0))
