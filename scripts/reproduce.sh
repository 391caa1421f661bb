#!/usr/bin/env bash
# Every measurement of docs/results.md, in order, at one thread. Long: many
# hours on two cores (TADA's padded batches take about 80 s per epoch on one
# core, 2 s on a GPU). Results go to runs/ (each a run directory with
# metrics.json); timings are only meaningful on an otherwise idle machine.
# Usage: [DEVICE=cuda] scripts/reproduce.sh [STEP...]   (DEVICE=cuda needs a CUDA build in build/, see README)
#   steps: speed lis embed sasrec tada tada-variants faerec combined backbones official-backbones bench-epoch parity batching distributed
#   (default: all; official-backbones needs OFFICIAL_WEIGHTS=the src/weight folder of KingGugu/TADA)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/caudal ] || scripts/setup.sh
caudal=build/caudal
data=data/amazon
mkdir -p runs/vec
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(speed lis embed sasrec tada tada-variants faerec combined backbones official-backbones bench-epoch parity batching distributed)
device=(--device "${DEVICE:-cpu}")
# Tables measured before the seventeenth session used length-bucketed batches,
# then the default without TADA; the runs behind them keep them.
bucketed=(--batching bucketed)
want() { [[ " ${steps[*]} " == *" $1 "* ]]; }
name() { case $1 in Beauty) echo beauty ;; Toys_and_Games) echo toys ;; Sports_and_Outdoors) echo sports ;; esac; }

if want speed; then scripts/bench.sh "$data/Beauty.txt" 1; fi
if want lis; then
  for d in Beauty Sports_and_Outdoors; do $caudal bench-lis --data "$data/$d.txt" --threads 1; done
fi
if want embed; then
  for d in Beauty Sports_and_Outdoors Toys_and_Games; do
    n=$(name $d)
    $caudal embed --items "$data/$d.items.tsv" --columns title,keywords,categories --data "$data/$d.txt" --out "runs/vec/$n.npy"
    $caudal eval --method content-knn --data "$data/$d.txt" --semantic "runs/vec/$n.npy" --out "runs/$n-knn"
  done
fi
for d in Beauty Toys_and_Games; do
  n=$(name $d)
  # Stage 1: the official plain SASRec run (dropout 0.5, validation from epoch 200).
  if want sasrec; then
    $caudal train --data "$data/$d.txt" --out "runs/$n-s1" --dropout 0.5 --attn-dropout 0.5 --epochs 500 --warmup 200 \
      "${bucketed[@]}"
  fi
  # Stage 2: TADA, and the control (the same second stage without augmentation).
  # (Validation from epoch 100, as the official run; about 2.5 h per dataset on one core.)
  if want tada; then
    $caudal train --data "$data/$d.txt" --out "runs/$n-s2-tada" --init "runs/$n-s1" --method tada --epochs 500 --warmup 100 "${device[@]}"
    $caudal train --data "$data/$d.txt" --out "runs/$n-s2-control" --init "runs/$n-s1" --epochs 500 --warmup 100 "${device[@]}"
  fi
  # TADA's variants (Beauty): the fast length-bucketed batches, and the official
  # mixing of encoder states at a partner's padding.
  if want tada-variants && [ "$d" = Beauty ]; then
    $caudal train --data "$data/$d.txt" --out "runs/$n-s2-tada-bucketed" --init "runs/$n-s1" --method tada \
      --batching bucketed --epochs 500 --warmup 100 "${device[@]}"
    $caudal train --data "$data/$d.txt" --out "runs/$n-s2-tada-padstates" --init "runs/$n-s1" --method tada \
      --tada-mix-padding-states --epochs 500 --warmup 20 "${device[@]}"
  fi
  # FAERec with the lexical vectors, both scorings.
  if want faerec; then
    for scoring in consistent official; do
      $caudal train --data "$data/$d.txt" --out "runs/$n-faerec-$scoring" --method faerec --faerec-scoring $scoring \
        --semantic "runs/vec/$n.npy" --hidden 128 --dropout 0.4 --attn-dropout 0.4 --epochs 300 --warmup 60 "${bucketed[@]}"
      $caudal inspect-fusion --run "runs/$n-faerec-$scoring"
    done
    # The same with a softmax over all items, and plain SASRec with it at the same settings as the control.
    $caudal train --data "$data/$d.txt" --out "runs/$n-faerec-ce" --method faerec --semantic "runs/vec/$n.npy" \
      --hidden 128 --dropout 0.4 --attn-dropout 0.4 --epochs 300 --warmup 60 --loss ce "${bucketed[@]}"
    $caudal train --data "$data/$d.txt" --out "runs/$n-sasrec-ce" --hidden 128 --dropout 0.4 --attn-dropout 0.4 \
      --epochs 300 --warmup 60 --loss ce "${bucketed[@]}"
    # FAERec under today's defaults (random batches, the alignment on distinct items), two seeds.
    if [ "$d" = Beauty ]; then
      for seed in 2024 1; do
        $caudal train --data "$data/$d.txt" --out "runs/$n-faerec-s$seed" --method faerec --semantic "runs/vec/$n.npy" \
          --hidden 128 --dropout 0.4 --attn-dropout 0.4 --epochs 300 --warmup 60 --seed $seed
      done
    fi
  fi
  # FAERec + TADA: TADA's second stage on the FAERec model.
  if want combined; then
    $caudal train --data "$data/$d.txt" --out "runs/$n-faerec-tada" --init "runs/$n-faerec-consistent" \
      --method faerec,tada --semantic "runs/vec/$n.npy" --hidden 128 --dropout 0.4 --attn-dropout 0.4 --epochs 300 --warmup 20
  fi
done

# Other backbones on Beauty: GRU4Rec stage 1 (TADA's settings), LRURec and FMLP-Rec plain and with FAERec
# (FAERec's settings),
# BERT4Rec (softmax over all items, its default loss).
if want backbones; then
  $caudal train --data "$data/Beauty.txt" --out runs/beauty-bert-ce --model bert4rec --dropout 0.2 --attn-dropout 0.2 \
    --epochs 300 --warmup 50 "${bucketed[@]}"
  # TADA's second stage on BERT4Rec (through its masked-item objective), and the same second stage without TADA.
  for m in tada control; do
    extra=(); [ $m = tada ] && extra=(--method tada)
    $caudal train --data "$data/Beauty.txt" --out "runs/beauty-bert-s2-$m" --init runs/beauty-bert-ce --model bert4rec \
      "${extra[@]}" --dropout 0.2 --attn-dropout 0.2 --epochs 300 --warmup 20
  done
  $caudal train --data "$data/Beauty.txt" --out runs/beauty-gru-s1 --model gru4rec --dropout 0.5 --epochs 500 --warmup 200 "${bucketed[@]}"
  # GRU4Rec as the official code trains it: its default dropout and validation start, random padded batches.
  $caudal train --data "$data/Beauty.txt" --out runs/beauty-gru-s1-d02-padded --model gru4rec --dropout 0.2 \
    --batching padded --epochs 500 --warmup 100
  for model in lru:lrurec fmlp:fmlprec; do
    for m in plain faerec; do
      extra=(); [ $m = faerec ] && extra=(--method faerec --semantic runs/vec/beauty.npy)
      $caudal train --data "$data/Beauty.txt" --out "runs/beauty-${model%%:*}-$m" --model "${model#*:}" "${extra[@]}" \
        --hidden 128 --dropout 0.4 --attn-dropout 0.4 --epochs 300 --warmup 60 "${bucketed[@]}" "${device[@]}"
    done
  done
fi
# The official stage-1 weights of GRU4Rec and FMLP-Rec (Beauty), imported and evaluated, and TADA's second
# stage on GRU4Rec from them with the official GRU4Rec settings (tada.md).
if want official-backbones; then
  if [ -z "${OFFICIAL_WEIGHTS:-}" ]; then
    echo "official-backbones: set OFFICIAL_WEIGHTS to the src/weight folder of a KingGugu/TADA checkout; skipped"
  else
    for m in GRU4Rec FMLPRec; do
      python3 scripts/plain_state_dict.py "$OFFICIAL_WEIGHTS/$m-Beauty-original.pt" "runs/$m-Beauty-plain.pt"
    done
    $caudal import --model gru4rec --weights runs/GRU4Rec-Beauty-plain.pt --data "$data/Beauty.txt" --out runs/beauty-gru-official-s1
    $caudal import --model fmlprec --layers 4 --weights runs/FMLPRec-Beauty-plain.pt --data "$data/Beauty.txt" \
      --out runs/beauty-fmlp-official-s1
    $caudal eval --run runs/beauty-gru-official-s1
    $caudal eval --run runs/beauty-fmlp-official-s1
    $caudal train --data "$data/Beauty.txt" --out runs/beauty-gru-s2-tada-official --init runs/beauty-gru-official-s1 \
      --model gru4rec --padding-row random --method tada --dropout 0.1 --rate-a 0.3 --rate-b 0.7 --epochs 500 --warmup 150 \
      "${device[@]}"
    # Its control: the same second stage without augmentation.
    $caudal train --data "$data/Beauty.txt" --out runs/beauty-gru-s2-control --init runs/beauty-gru-official-s1 \
      --model gru4rec --padding-row random --dropout 0.1 --epochs 500 --warmup 150 "${device[@]}"
    # FMLP-Rec (4 blocks, the official circular filter), TADA's FMLP-Rec settings; validation from epoch 40 rather
    # than 100 to fit a CPU session (about 95 s per epoch at one thread).
    $caudal train --data "$data/Beauty.txt" --out runs/beauty-fmlp-s2-tada-official --init runs/beauty-fmlp-official-s1 \
      --model fmlprec --layers 4 --fmlp-filter circular --padding-row random --method tada --rate-a 0.61 --rate-b 0.81 \
      --tada-th 0.6 --dropout 0.2 --epochs 500 --warmup 40 "${device[@]}"
    # The same with the official validation start (epoch 100): about three hours of one core, so on a CPU it may
    # take several sittings: stop it at any time and continue with `caudal resume --run DIR`.
    fmlp_w100=runs/beauty-fmlp-s2-tada-w100
    if [ -f $fmlp_w100/resume.pt ]; then
      $caudal resume --run $fmlp_w100
    else
      $caudal train --data "$data/Beauty.txt" --out $fmlp_w100 --init runs/beauty-fmlp-official-s1 \
        --model fmlprec --layers 4 --fmlp-filter circular --padding-row random --method tada --rate-a 0.61 --rate-b 0.81 \
        --tada-th 0.6 --dropout 0.2 --epochs 500 --warmup 100 "${device[@]}"
    fi
  fi
fi
# One epoch of every backbone, plain and with each method (idle machine).
if want bench-epoch; then
  $caudal bench-epoch --data "$data/Beauty.txt" --semantic runs/vec/beauty.npy --work runs/bench-epoch \
    --json runs/bench-epoch/results.json
fi
# Plain SASRec on long sequences (MovieLens-100K, mean 105 items) and on short
# ones over a small catalogue (the same users cut to their last 5-20 items),
# three seeds each, stage-1 settings. The official side: its README's stage-1
# command, `OMP_NUM_THREADS=1 python3 main.py --aug 0 --no_cuda --data_name NAME
# --attention_probs_dropout_prob 0.5 --hidden_dropout_prob 0.5 --star_test 200 --seed S`
# with these sequence files as its data/NAME.txt.
if want parity; then
  [ -f runs/ml100k/sequences.txt ] || $caudal prepare --interactions data/ml-100k/interactions.csv --out runs/ml100k
  awk '{ L = 5 + (NR - 1) % 16; n = NF - 1; if (L > n) L = n; line = $1
         for (i = NF - L + 1; i <= NF; i++) { if (!($i in id)) id[$i] = ++items; line = line " " id[$i] }
         print line }' runs/ml100k/sequences.txt > runs/ml100k/short.txt
  for seed in 2024 1 2; do
    $caudal train --data runs/ml100k/sequences.txt --out runs/ml100k-s1-$seed --dropout 0.5 --attn-dropout 0.5 \
      --epochs 500 --warmup 200 --seed $seed "${device[@]}"
  done
  for seed in 2024 1 2 3 4 5; do
    for batching in bucketed random; do
      $caudal train --data runs/ml100k/short.txt --out runs/ml100k-short-$batching-$seed --batching $batching \
        --dropout 0.5 --attn-dropout 0.5 --epochs 500 --warmup 200 --seed $seed "${device[@]}"
    done
  done
fi

# Batching for plain SASRec (docs/results.md, "Batching for plain SASRec" and
# "Three seeds under the random default"): stage 1 with random (the default)
# and bucketed batches, Beauty and Toys at seeds 2024, 1, 2, Sports random at
# the three seeds. Bucketed at 2024 is the sasrec step's runs/beauty-s1 and
# runs/toys-s1 (run that step too); Beauty bucketed only at 2024 and 1. The
# seventeenth session's Beauty runs came from the binary before the hash
# dropout, so today's binary gives other digits there.
if want batching; then
  for d in Beauty Toys_and_Games Sports_and_Outdoors; do
    n=$(name $d)
    for seed in 2024 1 2; do
      for batching in random bucketed; do
        case $n-$batching-$seed in *-bucketed-2024 | beauty-bucketed-2 | sports-bucketed-*) continue ;; esac
        $caudal train --data "$data/$d.txt" --out runs/$n-s1-$batching-$seed --batching $batching \
          --dropout 0.5 --attn-dropout 0.5 --epochs 500 --warmup 200 --threads 1 --seed $seed "${device[@]}"
      done
    done
  done
fi

# Two processes against one (README, "Several processes"): the README's main
# job, one process at seeds 2024, 1, 2, 3, 4 and `caudal launch -n 2` at 2024, 1, 2, 3.
# Timing: the same with --epochs 5 on an idle machine (the one process pinned
# with taskset -c 0); "gradient sums" in the epoch lines is the communication
# left after the overlap.
if want distributed; then
  for seed in 2024 1 2 3 4; do
    taskset -c 0 $caudal train --data "$data/Beauty.txt" --out runs/beauty-1p-$seed --epochs 30 --seed $seed --overwrite
  done
  for seed in 2024 1 2 3; do
    $caudal launch -n 2 -- train --data "$data/Beauty.txt" --out runs/beauty-2p-$seed --epochs 30 --seed $seed --overwrite
  done
fi
