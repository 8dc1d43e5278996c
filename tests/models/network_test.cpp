// The embedded model's network, with learned and with rotary positions: weights survive a
// safetensors round trip bit for bit (F32) or exactly as rounded (F16, BF16), and decoding with
// the key/value cache computes what a full forward pass computes, one stream at a time or
// several sharing each step. Rotary scores depend only on the distance between two tokens.
#include <gtest/gtest.h>

#include "models/embedded/weights.h"
#include "util/error.h"

namespace taco {
namespace {

EmbeddedConfig tiny(const std::string& positions) {
  EmbeddedConfig c = EmbeddedConfig::preset("tiny");
  c.vocab_size = 300;
  c.max_positions = 128;
  c.positions = positions;
  return c;
}

class NetworkTest : public testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Positions, NetworkTest, testing::Values("learned", "rotary"));

SafeTensorsFile save(ActionNetwork& net, const std::string& dtype) {
  SafeTensorsFile f;
  add_network_tensors(net, "", dtype, f);
  return f;
}

TEST_P(NetworkTest, WeightsRoundTripBitExact) {
  torch::manual_seed(1);
  ActionNetwork a(tiny(GetParam()));
  torch::manual_seed(2);
  ActionNetwork b(tiny(GetParam()));
  for (const std::string dtype : {"F32", "F16", "BF16"}) {
    const std::string first = encode_safetensors(save(a, dtype));
    load_network_tensors(b, save(a, dtype), "", "test", true);
    EXPECT_EQ(encode_safetensors(save(b, dtype)), first) << dtype;
  }
  load_network_tensors(b, save(a, "F32"), "", "test", true);
  for (size_t i = 0; i < a->parameters().size(); ++i) EXPECT_TRUE(torch::equal(a->parameters()[i], b->parameters()[i]));
}

TEST_P(NetworkTest, CachedDecodingMatchesAFullPass) {
  torch::manual_seed(3);
  ActionNetwork net(tiny(GetParam()));
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
TEST_P(NetworkTest, SharedStepsMatchOneStreamAtATime) {
  torch::manual_seed(4);
  ActionNetwork net(tiny(GetParam()));
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

TEST(RotaryPositionsTest, ScoresDependOnlyOnTheDistance) {
  torch::manual_seed(5);
  const int64_t hd = 16;
  torch::Tensor q = torch::randn({hd}), k = torch::randn({hd});
  auto score = [&](int64_t query_at, int64_t key_at) {
    torch::Tensor rq = Rotation::at(torch::tensor({query_at}), hd).apply(q.view({1, hd}));
    torch::Tensor rk = Rotation::at(torch::tensor({key_at}), hd).apply(k.view({1, hd}));
    return (rq * rk).sum().item<double>();
  };
  EXPECT_NEAR(score(7, 3), score(107, 103), 1e-4);
  EXPECT_NEAR(score(3, 3), (q * k).sum().item<double>(), 1e-5);  // no distance, no turn
  EXPECT_GT(std::abs(score(7, 3) - score(7, 5)), 1e-3);
}

TEST(RotaryPositionsTest, RotaryNetworksHaveNoPositionTableAndConfigsNamingNoneAreLearned) {
  ActionNetwork rotary(tiny("rotary")), learned(tiny("learned"));
  EXPECT_EQ(rotary->named_parameters().size() + 1, learned->named_parameters().size());
  EXPECT_EQ(rotary->named_parameters().find("position_embedding.weight"), nullptr);

  Json j = tiny("rotary").to_json();
  EXPECT_EQ(EmbeddedConfig::from_json(j, "c").positions, "rotary");
  j["architecture"].erase("positions");  // a checkpoint from before the choice existed
  EXPECT_EQ(EmbeddedConfig::from_json(j, "c").positions, "learned");
  j["architecture"]["positions"] = "sinusoidal";
  EXPECT_THROW(EmbeddedConfig::from_json(j, "c"), Error);
}

}  // namespace
}  // namespace taco
