#!/usr/bin/env bash
# Renders `caudal report` of two small runs in headless Chromium and checks
# what a reader would see: the charts are in the DOM, the page is not blank,
# and each run's colour shows in the screenshot. Exit 77 (skipped) without
# Chromium; scripts/test.sh installs it, so CI always runs this.
set -u
caudal="$1"
here=$(cd "$(dirname "$0")" && pwd)
command -v chromium >/dev/null || { echo "report_in_browser: needs chromium (apt-get install chromium)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for u in $(seq 1 40); do echo "$u $(seq -s ' ' $((u % 9 + 1)) $((u % 9 + 8)))"; done >"$tmp/walks.txt"
"$caudal" train --data "$tmp/walks.txt" --out "$tmp/first" --epochs 4 --hidden 8 >/dev/null 2>&1 &&
  "$caudal" train --data "$tmp/walks.txt" --out "$tmp/second" --epochs 4 --hidden 16 --seed 7 >/dev/null 2>&1 &&
  "$caudal" report --run "$tmp/first=first" --run "$tmp/second=second" --out "$tmp/report.html" >/dev/null ||
  { echo "FAIL: training the runs or writing the report"; exit 1; }

browse() { timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-color-profile=srgb \
  --user-data-dir="$tmp/profile" "$@" \
  "file://$tmp/report.html" 2>"$tmp/chromium.err"; }
browse --dump-dom >"$tmp/dom.html" || { echo "FAIL: chromium --dump-dom"; cat "$tmp/chromium.err"; exit 1; }
failures=0
for id in chart-valid-ndcg20 chart-train-loss chart-groups-hr10 chart-groups-ndcg10 chart-buckets; do
  grep -q "<svg class=\"chart\" id=\"$id\"" "$tmp/dom.html" && echo "ok: $id in the DOM" ||
    { echo "FAIL: no $id chart in the DOM"; failures=$((failures + 1)); }
done
[ "$(grep -o 'class="bar"' "$tmp/dom.html" | wc -l)" -eq 20 ] && echo "ok: 20 bars (2 charts x 5 groups x 2 runs)" ||
  { echo "FAIL: expected 20 bars"; failures=$((failures + 1)); }
[ "$(grep -o 'class="best-epoch"' "$tmp/dom.html" | grep -c .)" -eq 2 ] && echo "ok: best epochs marked" ||
  { echo "FAIL: best epochs not marked"; failures=$((failures + 1)); }
browse --window-size=900,1400 --screenshot="$tmp/report.png" >/dev/null || { echo "FAIL: chromium --screenshot"; exit 1; }
# The first two colours of the report's palette: the two runs.
python3 "$here/check_screenshot.py" "$tmp/report.png" 5000 '#1f77b4' '#ff7f0e' || failures=$((failures + 1))
[ $failures -eq 0 ] && echo "report renders in Chromium" || { echo "$failures report check(s) failed"; exit 1; }
