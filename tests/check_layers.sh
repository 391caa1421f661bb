#!/usr/bin/env bash
# The floors of libcaudal, bottom to top. A file under src/caudal/FOLDER may
# include files of its own folder and of folders on lower floors only: never
# a folder above it, nor another folder on its own floor. So the tree reads
# as a map: evaluation or serving can load a model without the trainer.
#
#   6  serve                       the HTTP server
#   5  train infer report          the training loop; recommendations from a trained run; reports on runs
#   4  run                         config (options defined once), run directory, trained models
#   3  method                      TADA, FAERec and their registry
#   2  objective eval semantic     losses, evaluation, item text and vectors
#   1  data model distributed      datasets and batches; backbones and item representations; several processes
#   0  core                        errors, files, threads, random streams, logging, progress
#
# Usage: check_layers.sh SRC_DIR   (the folder that holds caudal/)
#        check_layers.sh --self-test   (plants a violation and checks that it is caught)
set -u

declare -A floor=(
  [core]=0
  [data]=1 [model]=1 [distributed]=1
  [objective]=2 [eval]=2 [semantic]=2
  [method]=3
  [run]=4
  [train]=5 [infer]=5 [report]=5
  [serve]=6
)

check() {  # check SRC_DIR: prints each violation, returns 1 if there is one
  local src="$1" bad=0 file folder target line
  for dir in "$src"/caudal/*/; do
    folder=$(basename "$dir")
    if [ -z "${floor[$folder]+x}" ]; then
      echo "layering: src/caudal/$folder has no floor: add it to tests/check_layers.sh"
      bad=1
    fi
  done
  while IFS= read -r match; do
    file=${match%%:*}
    line=${match#*:}
    line=${line%%:*}
    folder=${file#"$src"/caudal/}
    folder=${folder%%/*}
    target=$(sed -n "${line}p" "$file" | sed -E 's/.*#include "caudal\/([^/]+)\/.*/\1/')
    [ "$target" = "$folder" ] && continue
    if [ -z "${floor[$target]+x}" ] || [ -z "${floor[$folder]+x}" ] || [ "${floor[$target]}" -ge "${floor[$folder]}" ]; then
      echo "layering: ${file#"$src"/}:$line: $folder (floor ${floor[$folder]:-?}) includes $target (floor ${floor[$target]:-?})"
      bad=1
    fi
  done < <(grep -rn '#include "caudal/' "$src/caudal" --include='*.h' --include='*.cpp' | cut -d: -f1,2)
  return $bad
}

if [ "${1:-}" = "--self-test" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/caudal/data" "$tmp/caudal/model" "$tmp/caudal/train"
  echo '#include "caudal/core/error.h"' >"$tmp/caudal/data/ok.h"
  check "$tmp" >/dev/null || { echo "self-test: a clean tree was refused"; exit 1; }
  echo '#include "caudal/train/trainer.h"' >"$tmp/caudal/data/up.h"
  check "$tmp" | grep -q 'data/up.h:1: data (floor 1) includes train (floor 5)' || { echo "self-test: a lower floor including a higher one was not caught"; exit 1; }
  rm "$tmp/caudal/data/up.h"
  echo '#include "caudal/model/backbone.h"' >"$tmp/caudal/data/side.h"
  check "$tmp" | grep -q 'data (floor 1) includes model (floor 1)' || { echo "self-test: an include across one floor was not caught"; exit 1; }
  rm "$tmp/caudal/data/side.h"
  mkdir -p "$tmp/caudal/gateway"
  check "$tmp" | grep -q 'src/caudal/gateway has no floor' || { echo "self-test: a folder without a floor was not caught"; exit 1; }
  echo "layering self-test: violations are caught"
  exit 0
fi

check "${1:?usage: check_layers.sh SRC_DIR | --self-test}" && echo "layering: every include goes to the same folder or a lower floor"
