// Dropout whose mask comes from a counter-based hash: the same distribution as
// torch::nn::Dropout (every element kept independently with probability
// 1 - p and scaled by 1 / (1 - p), zero otherwise; the identity outside
// training), drawn about ten times faster on a CPU.
//
// Why by hand: LibTorch 1.13's CPU dropout fills its mask with bernoulli_,
// one Mersenne Twister draw and a conversion per element (about 7 ns), which
// took 5-8% of a TADA or FAERec epoch (docs/results.md, "Dropout masks from
// a hash"). Here element i of a mask is kept when
//   h(i) = mix(mix(i + key1) ^ key2) >= p * 2^32,
// mix being a 32-bit integer hash with full avalanche (Wellons' "lowbias32");
// the loop is branch-free and, at -O3 (the Release build), vectorised (AVX2
// where the CPU has it). The two keys of each mask are drawn from LibTorch's
// default CPU generator, so at::manual_seed fixes every mask, and a mask does
// not depend on the thread count. Two masks are related only when their
// second keys coincide (one pair in 2^32) and their first keys differ by
// less than the masks' length: then one is the other shifted.
//
// Elsewhere (a GPU, a type other than float32, over 2^32 elements) it is
// at::dropout.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace caudal {

// [sizes] float32 on the CPU: 1 / (1 - p) where kept, 0 where dropped, for
// the keys given (hash_dropout draws them). 0 <= p < 1.
at::Tensor hash_dropout_mask(at::IntArrayRef sizes, double p, uint32_t key1, uint32_t key2);

class HashDropoutImpl : public torch::nn::Cloneable<HashDropoutImpl> {
 public:
  // p: the probability of dropping an element, 0 <= p <= 1.
  explicit HashDropoutImpl(double p = 0.5);
  void reset() override {}
  // x of any shape -> the same shape; a new mask per call in training.
  torch::Tensor forward(const torch::Tensor& x);
  double p() const { return p_; }

 private:
  double p_;
};
TORCH_MODULE(HashDropout);

}  // namespace caudal
