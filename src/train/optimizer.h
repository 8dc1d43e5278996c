// What taco's trainers (the embedded model's, the vision models') optimize with: AdamW and its
// learning-rate schedule. Torch module only.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "models/embedded/weights.h"

namespace taco {

// AdamW with decoupled weight decay on matrices and convolution kernels (not on biases, norms
// or embeddings); moments kept in fp32 beside the weights, named as the parameters.
struct AdamW {
  NamedTensors params;
  std::vector<torch::Tensor> m, v;
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1;

  explicit AdamW(NamedTensors parameters);
  // Step `t` (from 1) at learning rate `lr`, on the gradients the parameters hold.
  void step(int64_t t, double lr);
};

// Warm-up over the first 10% of `total` steps (at most 200), then a cosine down to 10% of `peak`.
double learning_rate(double peak, int64_t step, int64_t total);

}  // namespace taco
