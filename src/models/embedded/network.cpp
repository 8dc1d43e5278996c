#include "models/embedded/network.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/error.h"

namespace taco {

Rotation Rotation::at(const torch::Tensor& positions, int64_t head_dim) {
  // Frequencies 10000^(-2i / head_dim), as RoFormer and the LLaMA family use.
  const auto floats = torch::TensorOptions().dtype(torch::kFloat).device(positions.device());
  torch::Tensor inverse_frequency = torch::pow(10000.0, torch::arange(0, head_dim / 2, floats) * (-2.0 / static_cast<double>(head_dim)));
  torch::Tensor angles = positions.to(torch::kFloat).unsqueeze(-1) * inverse_frequency;
  return {angles.cos(), angles.sin()};
}

torch::Tensor Rotation::apply(const torch::Tensor& t) const {
  auto halves = t.chunk(2, -1);
  return torch::cat({halves[0] * cos - halves[1] * sin, halves[0] * sin + halves[1] * cos}, -1);
}

BlockImpl::BlockImpl(int d_model, int heads_) : heads(heads_) {
  ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_model})));
  qkv = register_module("qkv", torch::nn::Linear(d_model, 3 * d_model));
  proj = register_module("proj", torch::nn::Linear(d_model, d_model));
  ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_model})));
  fc1 = register_module("fc1", torch::nn::Linear(d_model, 4 * d_model));
  fc2 = register_module("fc2", torch::nn::Linear(4 * d_model, d_model));
}

std::array<torch::Tensor, 3> BlockImpl::attention_inputs(const torch::Tensor& x, const Rotation& rotation) {
  const int64_t B = x.size(0), T = x.size(1), hd = x.size(2) / heads;
  auto parts = qkv(ln1(x)).chunk(3, -1);
  auto split = [&](const torch::Tensor& t) { return t.view({B, T, heads, hd}).transpose(1, 2); };
  torch::Tensor q = split(parts[0]) * (1.0 / std::sqrt(static_cast<double>(hd))), k = split(parts[1]);
  if (rotation.cos.defined()) q = rotation.apply(q), k = rotation.apply(k);
  return {q, k, split(parts[2])};
}

torch::Tensor BlockImpl::after_attention(const torch::Tensor& x, const torch::Tensor& y) {
  torch::Tensor h = x + proj(y.transpose(1, 2).reshape(x.sizes()));
  return h + fc2(torch::gelu(fc1(ln2(h))));
}

void LayerCache::reserve(int64_t needed, int64_t kept, const torch::Tensor& like, bool zeroed) {
  const int64_t capacity = k.defined() ? k.size(2) : 0;
  if (needed <= capacity) return;
  const int64_t room = std::max<int64_t>({needed, 2 * capacity, 64});
  auto grown = [&](const torch::Tensor& old) {
    const std::vector<int64_t> shape{like.size(0), like.size(1), room, like.size(3)};
    torch::Tensor t = zeroed ? torch::zeros(shape, like.options()) : torch::empty(shape, like.options());
    if (kept > 0) t.narrow(2, 0, kept).copy_(old.narrow(2, 0, kept));
    return t;
  };
  k = grown(k);
  v = grown(v);
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const Rotation& rotation, LayerCache* cache, int64_t past) {
  const int64_t T = x.size(1);
  auto [q, k, v] = attention_inputs(x, rotation);
  if (cache) {
    cache->reserve(past + T, past, k);
    cache->k.narrow(2, past, T).copy_(k);
    cache->v.narrow(2, past, T).copy_(v);
    k = cache->k.narrow(2, 0, past + T);
    v = cache->v.narrow(2, 0, past + T);
  } else {
    past = 0;
  }
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1));
  if (T > 1) {
    // Query i (at position past + i) sees keys 0 .. past + i. The mask is filled in place: the
    // scores are the largest tensors of a training step, so no extra copy of them.
    auto mask = torch::ones({T, past + T}, torch::TensorOptions().dtype(torch::kBool).device(x.device())).triu(past + 1);
    scores.masked_fill_(mask, -std::numeric_limits<float>::infinity());
  }
  return after_attention(x, torch::matmul(torch::softmax(scores, -1), v));
}

torch::Tensor BlockImpl::step(const torch::Tensor& x, const Rotation& rotation, LayerCache& pool, const torch::Tensor& rows,
                              const torch::Tensor& at, const torch::Tensor& hidden) {
  using torch::indexing::Slice;
  const int64_t n = pool.k.size(0), L = hidden.size(3);
  auto [q, k, v] = attention_inputs(x, rotation);  // [B, heads, 1, head_dim]
  pool.k.index_put_({rows, Slice(), at}, k.squeeze(2));
  pool.v.index_put_({rows, Slice(), at}, v.squeeze(2));
  // Every row of the pool takes part (those not stepped with a zero query, their output
  // dropped): a pool's rows are few and short, and selecting the stepped ones would copy them.
  torch::Tensor queries = q;
  if (q.size(0) != n) queries = torch::zeros({n, q.size(1), 1, q.size(3)}, q.options()).index_copy_(0, rows, q);
  torch::Tensor scores = torch::matmul(queries, pool.k.narrow(2, 0, L).transpose(-2, -1)).masked_fill_(hidden, -std::numeric_limits<float>::infinity());
  torch::Tensor y = torch::matmul(torch::softmax(scores, -1), pool.v.narrow(2, 0, L));
  return after_attention(x, q.size(0) != n ? y.index_select(0, rows) : y);
}

ActionNetworkImpl::ActionNetworkImpl(const EmbeddedConfig& c) : config(c) {
  const int d = c.d_model;
  const int c1 = std::max(16, d / 8), c2 = std::max(32, d / 4), c3 = std::max(64, d / 2);
  auto conv = [](int in, int out) { return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(2).padding(1)); };
  encoder = register_module("encoder", torch::nn::Sequential(conv(3, c1), torch::nn::GELU(), conv(c1, c2), torch::nn::GELU(),
                                                             conv(c2, c3), torch::nn::GELU(), conv(c3, d)));
  token_embedding = register_module("token_embedding", torch::nn::Embedding(c.vocab_size, d));
  if (c.positions == "learned")
    position_embedding = register_module("position_embedding", torch::nn::Embedding(c.max_positions, d));
  visual_position = register_parameter("visual_position", torch::zeros({c.visual_tokens(), d}));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < c.layers; ++i) blocks->push_back(Block(d, c.heads));
  ln_final = register_module("ln_final", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));

  // GPT-2's initialization: small normal weights, residual projections scaled by depth.
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    const std::string& name = p.key();
    if (name.rfind("encoder.", 0) == 0) continue;  // convolutions keep their default (Kaiming) init
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0) p.value().zero_();
    else if (name.find(".ln") != std::string::npos || name.rfind("ln_", 0) == 0) p.value().fill_(1.0);
    else if (name.find("proj.weight") != std::string::npos || name.find("fc2.weight") != std::string::npos)
      p.value().normal_(0, 0.02 / std::sqrt(2.0 * c.layers));
    else p.value().normal_(0, 0.02);
  }
}

torch::Tensor ActionNetworkImpl::forward(const torch::Tensor& tokens, const torch::Tensor& images, const torch::Tensor& slots,
                                         Cache* cache, bool last_only) {
  const int64_t B = tokens.size(0), T = tokens.size(1), D = config.d_model;
  torch::Tensor x = token_embedding(tokens);
  if (images.defined() && images.size(0) > 0) {
    torch::Tensor pixels = images.permute({0, 3, 1, 2}).to(torch::kFloat).div(255.0).sub(0.5);
    torch::Tensor visual = encoder->forward(pixels).flatten(2).transpose(1, 2) + visual_position;  // [N, G, D]
    x = x.reshape({B * T, D}).index_put({slots}, visual.reshape({-1, D})).reshape({B, T, D});
  }
  const int64_t start = cache ? cache->length : 0;
  torch::Tensor positions = torch::arange(start, start + T, torch::TensorOptions().dtype(torch::kLong).device(tokens.device()));
  Rotation rotation;
  if (position_embedding) x = x + position_embedding(positions);
  else rotation = Rotation::at(positions, D / config.heads);  // [T, hd / 2], broadcast over batch and heads
  if (cache && cache->layers.empty()) cache->layers.resize(blocks->size());
  for (size_t i = 0; i < blocks->size(); ++i)
    x = blocks[i]->as<Block>()->forward(x, rotation, cache ? &cache->layers[i] : nullptr, start);
  if (cache) cache->length += T;
  if (last_only) x = x.narrow(1, T - 1, 1);
  return torch::matmul(ln_final(x), token_embedding->weight.t());
}

SharedDecoding::SharedDecoding(ActionNetwork net, std::vector<ActionNetworkImpl::Cache*> caches)
    : net_(std::move(net)), caches_(std::move(caches)) {
  const size_t layers = net_->blocks->size();
  const int64_t n = static_cast<int64_t>(caches_.size()), heads = net_->config.heads, hd = net_->config.d_model / heads;
  int64_t longest = 0;
  for (size_t s = 0; s < caches_.size(); ++s) {
    ActionNetworkImpl::Cache& c = *caches_[s];
    if (c.length == 0 || c.layers.size() != layers) throw Error("shared decoding: a stream's cache holds no prompt");
    row_of_.push_back(static_cast<int64_t>(s));
    stream_of_.push_back(s);
    length_.push_back(c.length);
    started_.push_back(c.length);
    longest = std::max(longest, c.length);
  }
  const int64_t capacity = longest + 64;
  for (size_t i = 0; i < layers && n > 0; ++i) {
    LayerCache pool;
    pool.k = torch::zeros({n, heads, capacity, hd}, torch::kFloat);
    pool.v = torch::zeros({n, heads, capacity, hd}, torch::kFloat);
    for (size_t s = 0; s < caches_.size(); ++s) {
      const LayerCache& own = caches_[s]->layers[i];
      const int64_t len = caches_[s]->length;
      pool.k[static_cast<int64_t>(s)].narrow(1, 0, len).copy_(own.k[0].narrow(1, 0, len));
      pool.v[static_cast<int64_t>(s)].narrow(1, 0, len).copy_(own.v[0].narrow(1, 0, len));
    }
    pool_.push_back(std::move(pool));
  }
}

SharedDecoding::~SharedDecoding() = default;

void SharedDecoding::finish(size_t stream) {
  if (stream >= caches_.size()) throw Error("shared decoding: no such stream");
  const int64_t row = row_of_[stream];
  if (row < 0) return;
  ActionNetworkImpl::Cache& c = *caches_[stream];
  const int64_t from = started_[stream], added = length_[stream] - from;
  if (added > 0) {
    for (size_t i = 0; i < pool_.size(); ++i) {
      LayerCache& own = c.layers[i];
      own.reserve(length_[stream], from, own.k);
      own.k[0].narrow(1, from, added).copy_(pool_[i].k[row].narrow(1, from, added));
      own.v[0].narrow(1, from, added).copy_(pool_[i].v[row].narrow(1, from, added));
    }
  }
  c.length = length_[stream];
  row_of_[stream] = -1;
}

void SharedDecoding::keep_only(const std::vector<size_t>& streams) {
  for (size_t s : stream_of_)
    if (std::find(streams.begin(), streams.end(), s) == streams.end()) finish(s);
  std::vector<int64_t> rows;
  for (size_t s : streams) rows.push_back(row_of_[s]);
  const torch::Tensor kept = torch::tensor(rows, torch::kLong);
  for (LayerCache& pool : pool_) {
    pool.k = pool.k.index_select(0, kept);
    pool.v = pool.v.index_select(0, kept);
  }
  stream_of_ = streams;
  for (size_t r = 0; r < streams.size(); ++r) row_of_[streams[r]] = static_cast<int64_t>(r);
}

torch::Tensor SharedDecoding::step(const std::vector<int64_t>& tokens, const std::vector<size_t>& streams) {
  const int64_t B = static_cast<int64_t>(tokens.size()), D = net_->config.d_model;
  if (streams.size() != tokens.size() || streams.empty()) throw Error("shared decoding: one token per stream stepped");
  for (size_t s : streams)
    if (s >= caches_.size() || row_of_[s] < 0) throw Error("shared decoding: a stream not in the pool was stepped");
  // Streams that have ended leave the pool once they are half of it, so that the attention
  // does not keep working on their rows.
  if (2 * streams.size() <= stream_of_.size()) keep_only(streams);
  std::vector<int64_t> rows, at;
  int64_t longest = 0;
  for (size_t s : streams) {
    rows.push_back(row_of_[s]);
    at.push_back(length_[s]);
  }
  for (size_t s : stream_of_) longest = std::max(longest, length_[s] + 1);
  // A pool's unused positions stay zero: a masked score's weight is exactly 0, and 0 times an
  // uninitialized NaN would not be.
  for (LayerCache& pool : pool_) pool.reserve(longest, pool.k.size(2), pool.k, /*zeroed=*/true);
  const auto longs = torch::TensorOptions().dtype(torch::kLong);
  const torch::Tensor rows_t = torch::tensor(rows, longs), at_t = torch::tensor(at, longs);
  // Row r sees its positions up to the new token's (a row not stepped: up to its last).
  std::vector<int64_t> seen(stream_of_.size());
  for (size_t r = 0; r < stream_of_.size(); ++r) seen[r] = length_[stream_of_[r]];
  for (size_t i = 0; i < streams.size(); ++i) seen[static_cast<size_t>(rows[i])] += 1;
  const torch::Tensor hidden =
      torch::arange(longest, longs).view({1, 1, 1, longest}).ge(torch::tensor(seen, longs).view({-1, 1, 1, 1}));

  torch::Tensor x = net_->token_embedding(torch::tensor(tokens, longs).view({B, 1}));
  Rotation rotation;
  if (net_->position_embedding) x = x + net_->position_embedding(at_t).view({B, 1, D});
  else rotation = Rotation::at(at_t.view({B, 1, 1}), D / net_->config.heads);  // [B, 1, 1, hd / 2]
  for (size_t i = 0; i < pool_.size(); ++i) x = net_->blocks[i]->as<Block>()->step(x, rotation, pool_[i], rows_t, at_t, hidden);
  for (size_t s : streams) ++length_[s];
  return torch::matmul(net_->ln_final(x), net_->token_embedding->weight.t()).view({B, -1});
}

void SharedDecoding::finish() {
  for (size_t s : stream_of_) finish(s);
}

}  // namespace taco
