#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "caudal/objective/losses.h"

namespace caudal {
namespace {

// Row 1: target 3 among scores 1, 2, 3 -> log(1 + e^-1 + e^-2) = 0.407606;
// row 2: target 1 among three equal scores -> log 3 = 1.098612. The padding
// column's large score must not enter either softmax.
TEST(Losses, AllItemsCrossEntropyLeavesOutThePaddingColumn) {
  auto scores = at::tensor({10.0, 1.0, 2.0, 3.0, 10.0, 0.0, 0.0, 0.0}, at::kFloat).view({2, 4});
  auto targets = at::tensor(std::vector<int64_t>{3, 1}, at::kLong);
  EXPECT_NEAR(all_items_cross_entropy(scores, targets).item<double>(), (0.407606 + 1.098612) / 2, 1e-5);
}

}  // namespace
}  // namespace caudal
