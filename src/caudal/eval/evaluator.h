// Seam 4 of the design: hidden state of the last position x item table ->
// ranks -> metrics by group. It sees a SequentialRecommender, never a method.
#pragma once

#include <cstdint>

#include <c10/core/Device.h>

#include "caudal/core/progress.h"
#include "caudal/data/dataset.h"
#include "caudal/eval/metrics.h"
#include "caudal/model/recommender.h"

namespace caudal {

struct EvalOptions {
  int64_t max_len = 50;
  int64_t batch_size = 1024;
  bool trim = true;
  // Official behaviour of the TADA/FAERec code: history items get score 0
  // (the target too, if it repeats an earlier item), so they can still
  // outrank negative-scored items. Default: history removed (-inf) and the
  // target ranked by its own score.
  bool history_score_zero = false;
  // LLM-ESR's sampled protocol: rank the target among `sampled_negatives`
  // items the user never interacted with, drawn with `seed`.
  bool sampled = false;
  int64_t sampled_negatives = 100;
  uint64_t seed = 2024;
};

// `progress`, when given, is advanced by the users of each evaluation batch.
RankedTargets rank_targets(SequentialRecommender& model, const Dataset& dataset, Stage stage, const EvalOptions& options,
                           const c10::Device& device, Progress* progress = nullptr);

GroupedMetrics evaluate(SequentialRecommender& model, const Dataset& dataset, Stage stage, const EvalOptions& options,
                        const c10::Device& device, Progress* progress = nullptr);

}  // namespace caudal
