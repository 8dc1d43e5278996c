// The embedded model's network on this machine: training tokens/s (forward, backward, AdamW-free)
// and cached decoding tokens/s at batch 1, per size and thread count.
//   network_bench [--size small] [--threads 1] [--batch 20] [--length 400] [--steps 5]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <string>

#include "models/embedded/network.h"

using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string size = "small";
  int threads = 1, batch = 20, length = 400, steps = 5, vocab = 3000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--size") size = argv[i + 1];
    else if (flag == "--threads") threads = std::atoi(argv[i + 1]);
    else if (flag == "--batch") batch = std::atoi(argv[i + 1]);
    else if (flag == "--length") length = std::atoi(argv[i + 1]);
    else if (flag == "--steps") steps = std::atoi(argv[i + 1]);
    else if (flag == "--vocab") vocab = std::atoi(argv[i + 1]);
  }
  at::set_num_threads(threads);
  if (auto set = reinterpret_cast<void (*)(int)>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
  taco::EmbeddedConfig c = taco::EmbeddedConfig::preset(size);
  c.vocab_size = vocab;
  taco::ActionNetwork net(c);
  if (std::getenv("NO_MKLDNN")) at::globalContext().setUserEnabledMkldnn(false);
  torch::Tensor tokens = torch::randint(0, vocab, {batch, length}, torch::kLong);
  // Two images per sequence, their visual tokens at the start, as in training.
  const int64_t G = c.visual_tokens();
  torch::Tensor images = torch::randint(0, 255, {2 * batch, c.image_height, c.image_width, 3}, torch::kLong).to(torch::kUInt8);
  std::vector<int64_t> at;
  for (int b = 0; b < batch; ++b)
    for (int k = 0; k < 2; ++k)
      for (int64_t v = 0; v < G; ++v) at.push_back(b * length + 1 + k * (G + 5) + v);
  torch::Tensor slots = torch::tensor(at, torch::kLong);
  auto time_it = [&](const char* what, auto&& fn) {
    fn();  // warm-up
    auto start = Clock::now();
    for (int s = 0; s < steps; ++s) fn();
    double sec = std::chrono::duration<double>(Clock::now() - start).count() / steps;
    std::printf("%-6s threads=%d %-28s %8.0f tokens/s (%.3f s per batch of %dx%d)\n", size.c_str(), threads, what,
                batch * length / sec, sec, batch, length);
  };
  time_it("forward", [&] {
    torch::NoGradGuard g;
    net->forward(tokens, images, slots);
  });
  time_it("forward+backward", [&] {
    torch::Tensor logits = net->forward(tokens, images, slots);
    torch::nn::functional::cross_entropy(logits.reshape({-1, vocab}), tokens.reshape({-1})).backward();
  });
  // Decoding: a 300-token prompt, then 50 tokens one at a time.
  torch::NoGradGuard g;
  net->eval();
  torch::Tensor prompt = torch::randint(0, vocab, {1, 300}, torch::kLong);
  auto start = Clock::now();
  int written = 0;
  for (int r = 0; r < steps; ++r) {
    taco::ActionNetworkImpl::Cache cache;
    torch::Tensor logits = net->forward(prompt, {}, {}, &cache)[0][-1];
    for (int t = 0; t < 50; ++t, ++written) logits = net->forward(logits.argmax().view({1, 1}), {}, {}, &cache)[0][0];
  }
  double sec = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%-6s threads=%d %-28s %8.1f tokens/s (prompt of 300 read each time)\n", size.c_str(), threads, "decode batch 1",
              written / sec);
}
