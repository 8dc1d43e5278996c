// The embedded model's network: weights survive a safetensors round trip bit for bit (F32) or
// exactly as rounded (F16, BF16), and decoding with the key/value cache computes what a full
// forward pass computes, one stream at a time or several sharing each step.
#include <gtest/gtest.h>

#include "models/embedded/weights.h"

namespace taco {
namespace {

EmbeddedConfig tiny() {
  EmbeddedConfig c = EmbeddedConfig::preset("tiny");
  c.vocab_size = 300;
  c.max_positions = 128;
  return c;
}

SafeTensorsFile save(ActionNetwork& net, const std::string& dtype) {
  SafeTensorsFile f;
  add_network_tensors(net, "", dtype, f);
  return f;
}

TEST(NetworkTest, WeightsRoundTripBitExact) {
  torch::manual_seed(1);
  ActionNetwork a(tiny());
  torch::manual_seed(2);
  ActionNetwork b(tiny());
  for (const std::string dtype : {"F32", "F16", "BF16"}) {
    const std::string first = encode_safetensors(save(a, dtype));
    load_network_tensors(b, save(a, dtype), "", "test", true);
    EXPECT_EQ(encode_safetensors(save(b, dtype)), first) << dtype;
  }
  load_network_tensors(b, save(a, "F32"), "", "test", true);
  for (size_t i = 0; i < a->parameters().size(); ++i) EXPECT_TRUE(torch::equal(a->parameters()[i], b->parameters()[i]));
}

TEST(NetworkTest, CachedDecodingMatchesAFullPass) {
  torch::manual_seed(3);
  ActionNetwork net(tiny());
  net->eval();
  torch::NoGradGuard no_grad;
  const EmbeddedConfig c = net->config;
  const int64_t T = 30, G = c.visual_tokens();
  torch::Tensor tokens = torch::randint(0, c.vocab_size, {1, T}, torch::kLong);
  torch::Tensor image = torch::randint(0, 255, {1, c.image_height, c.image_width, 3}, torch::kLong).to(torch::kUInt8);
  torch::Tensor slots = torch::arange(2, 2 + G, torch::kLong);
  torch::Tensor full = net->forward(tokens, image, slots);

  ActionNetworkImpl::Cache cache;
  const int64_t prefix = 20;
  torch::Tensor first = net->forward(tokens.narrow(1, 0, prefix), image, slots, &cache);
  EXPECT_TRUE(torch::allclose(first, full.narrow(1, 0, prefix), 1e-4, 1e-5));
  for (int64_t t = prefix; t < T; ++t) {
    torch::Tensor step = net->forward(tokens.narrow(1, t, 1), {}, {}, &cache);
    EXPECT_TRUE(torch::allclose(step[0][0], full[0][t], 1e-4, 1e-5)) << "position " << t;
  }
  EXPECT_EQ(cache.length, T);
}

// Replies of different lengths sharing a decoding step get what each would get alone.
TEST(NetworkTest, SharedStepsMatchOneStreamAtATime) {
  torch::manual_seed(4);
  ActionNetwork net(tiny());
  net->eval();
  torch::NoGradGuard no_grad;
  const int64_t V = net->config.vocab_size;
  std::vector<ActionNetworkImpl::Cache> alone(3), shared(3);
  std::vector<ActionNetworkImpl::Cache*> ptrs;
  std::vector<int64_t> next;
  for (int64_t b = 0; b < 3; ++b) {
    torch::Tensor prompt = torch::randint(0, V, {1, 5 + 7 * b}, torch::kLong);
    net->forward(prompt, {}, {}, &alone[static_cast<size_t>(b)]);
    net->forward(prompt, {}, {}, &shared[static_cast<size_t>(b)]);
    ptrs.push_back(&shared[static_cast<size_t>(b)]);
    next.push_back(b + 1);
  }
  for (int t = 0; t < 6; ++t) {
    torch::Tensor together = net->step(next, ptrs);
    ASSERT_EQ(together.sizes(), (std::vector<int64_t>{3, V}));
    for (size_t b = 0; b < 3; ++b) {
      torch::Tensor one = net->forward(torch::full({1, 1}, next[b], torch::kLong), {}, {}, &alone[b])[0][0];
      EXPECT_TRUE(torch::allclose(together[static_cast<int64_t>(b)], one, 1e-4, 1e-5)) << "stream " << b << " step " << t;
      EXPECT_EQ(shared[b].length, alone[b].length);
      next[b] = one.argmax().item<int64_t>();
    }
  }
}

}  // namespace
}  // namespace taco
