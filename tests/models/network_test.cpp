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

// Replies of different lengths sharing decoding steps get what each would get alone, also
// once some have ended (the pool drops their rows), and each cache then continues as if its
// stream had been decoded alone.
TEST_P(NetworkTest, SharedStepsMatchOneStreamAtATime) {
  torch::manual_seed(4);
  ActionNetwork net(tiny(GetParam()));
  net->eval();
  torch::NoGradGuard no_grad;
  const int64_t V = net->config.vocab_size;
  const size_t n = 5;
  std::vector<ActionNetworkImpl::Cache> alone(n), shared(n);
  std::vector<ActionNetworkImpl::Cache*> ptrs;
  std::vector<int64_t> next;
  for (size_t b = 0; b < n; ++b) {
    torch::Tensor prompt = torch::randint(0, V, {1, 5 + 7 * static_cast<int64_t>(b)}, torch::kLong);
    net->forward(prompt, {}, {}, &alone[b]);
    net->forward(prompt, {}, {}, &shared[b]);
    ptrs.push_back(&shared[b]);
    next.push_back(static_cast<int64_t>(b) + 1);
  }
  const std::vector<int> steps = {3, 9, 1, 12, 9};  // how many tokens each stream takes
  SharedDecoding decoding(net, ptrs);
  for (int t = 0; t < 12; ++t) {
    std::vector<size_t> going;
    std::vector<int64_t> tokens;
    for (size_t b = 0; b < n; ++b)
      if (t < steps[b]) going.push_back(b), tokens.push_back(next[b]);
      else if (t == steps[b] && b % 2 == 0) decoding.finish(b);  // some handed back as they end, the rest at the end
    torch::Tensor together = decoding.step(tokens, going);
    ASSERT_EQ(together.sizes(), (std::vector<int64_t>{static_cast<int64_t>(going.size()), V}));
    for (size_t j = 0; j < going.size(); ++j) {
      const size_t b = going[j];
      torch::Tensor one = net->forward(torch::full({1, 1}, next[b], torch::kLong), {}, {}, &alone[b])[0][0];
      EXPECT_TRUE(torch::allclose(together[static_cast<int64_t>(j)], one, 1e-4, 1e-5)) << "stream " << b << " step " << t;
      next[b] = one.argmax().item<int64_t>();
    }
  }
  decoding.finish();
  for (size_t b = 0; b < n; ++b) {
    ASSERT_EQ(shared[b].length, alone[b].length) << "stream " << b;
    torch::Tensor a = net->forward(torch::full({1, 1}, next[b], torch::kLong), {}, {}, &alone[b]);
    torch::Tensor s = net->forward(torch::full({1, 1}, next[b], torch::kLong), {}, {}, &shared[b]);
    EXPECT_TRUE(torch::allclose(a, s, 1e-4, 1e-5)) << "stream " << b << " after the shared steps";
  }
  EXPECT_THROW(decoding.step({1}, {0}), Error);  // written back: no longer in the pool
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
