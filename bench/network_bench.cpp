// The embedded model's network on this machine: training tokens/s (forward, backward, AdamW-free)
// and cached decoding tokens/s for one stream and for several sharing each step (as concurrent
// replies do), per size and thread count.
//   network_bench [--size small] [--positions rotary|learned] [--threads 1] [--batch 20] [--length 400] [--steps 5] [--streams 8]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "models/embedded/network.h"
#include "models/embedded/weights.h"

using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string size = "small", positions = "rotary";
  int threads = 1, batch = 20, length = 400, steps = 5, vocab = 3000, streams = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--size") size = argv[i + 1];
    else if (flag == "--positions") positions = argv[i + 1];
    else if (flag == "--threads") threads = std::atoi(argv[i + 1]);
    else if (flag == "--batch") batch = std::atoi(argv[i + 1]);
    else if (flag == "--length") length = std::atoi(argv[i + 1]);
    else if (flag == "--steps") steps = std::atoi(argv[i + 1]);
    else if (flag == "--vocab") vocab = std::atoi(argv[i + 1]);
    else if (flag == "--streams") streams = std::atoi(argv[i + 1]);
  }
  taco::set_math_threads(threads);
  taco::EmbeddedConfig c = taco::EmbeddedConfig::preset(size);
  c.vocab_size = vocab;
  c.positions = positions;
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
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  auto start = Clock::now();
  double stepping = 0;  // seconds spent writing tokens, prompts not counted
  int written = 0;
  for (int r = 0; r < steps; ++r) {
    taco::ActionNetworkImpl::Cache cache;
    torch::Tensor logits = net->forward(prompt, {}, {}, &cache)[0][-1];
    const auto decode_start = Clock::now();
    for (int t = 0; t < 50; ++t, ++written) logits = net->forward(logits.argmax().view({1, 1}), {}, {}, &cache)[0][0];
    stepping += since(decode_start);
  }
  double sec = since(start);
  std::printf("%-6s threads=%d %-28s %8.1f tokens/s with the prompt of 300 read each time, %.0f tokens/s writing\n", size.c_str(),
              threads, "decode batch 1", written / sec, written / stepping);
  // The same with `streams` replies sharing each step (SharedDecoding), prompts read one by one.
  start = Clock::now();
  stepping = 0;
  written = 0;
  for (int r = 0; r < steps; ++r) {
    std::vector<taco::ActionNetworkImpl::Cache> caches(static_cast<size_t>(streams));
    std::vector<taco::ActionNetworkImpl::Cache*> ptrs;
    std::vector<int64_t> next;
    for (auto& cache : caches) {
      ptrs.push_back(&cache);
      next.push_back(net->forward(prompt, {}, {}, &cache)[0][-1].argmax().item<int64_t>());
    }
    const auto decode_start = Clock::now();
    taco::SharedDecoding decoding(net, ptrs);
    std::vector<size_t> all(static_cast<size_t>(streams));
    for (size_t b = 0; b < all.size(); ++b) all[b] = b;
    for (int t = 0; t < 50; ++t, written += streams) {
      torch::Tensor best = decoding.step(next, all).argmax(-1);
      for (int b = 0; b < streams; ++b) next[static_cast<size_t>(b)] = best[b].item<int64_t>();
    }
    decoding.finish();
    stepping += since(decode_start);
  }
  sec = since(start);
  std::printf("%-6s threads=%d %-28s %8.1f tokens/s with the prompts of 300 read each time, %.0f tokens/s writing\n",
              size.c_str(), threads, ("decode " + std::to_string(streams) + " streams, shared steps").c_str(), written / sec,
              written / stepping);
}
