#include "train/optimizer.h"

#include <algorithm>
#include <cmath>

namespace taco {

AdamW::AdamW(NamedTensors parameters) : params(std::move(parameters)) {
  for (const auto& p : params) {
    m.push_back(torch::zeros_like(p.second));
    v.push_back(torch::zeros_like(p.second));
  }
}

void AdamW::step(int64_t t, double lr) {
  torch::NoGradGuard no_grad;
  const double c1 = 1 - std::pow(beta1, static_cast<double>(t)), c2 = 1 - std::pow(beta2, static_cast<double>(t));
  for (size_t i = 0; i < params.size(); ++i) {
    torch::Tensor& p = params[i].second;
    if (!p.grad().defined()) continue;
    const torch::Tensor& g = p.grad();
    m[i].mul_(beta1).add_(g, 1 - beta1);
    v[i].mul_(beta2).addcmul_(g, g, 1 - beta2);
    const bool decays = p.dim() >= 2 && params[i].first.find("embedding") == std::string::npos;
    if (decays) p.mul_(1 - lr * weight_decay);
    p.addcdiv_(m[i] / c1, (v[i] / c2).sqrt_().add_(eps), -lr);
  }
}

double learning_rate(double peak, int64_t step, int64_t total) {
  const int64_t warmup = std::max<int64_t>(1, std::min<int64_t>(200, total / 10));
  if (step < warmup) return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return peak * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * std::min(1.0, progress))));
}

}  // namespace taco
