// ActionNetwork: the embedded action model's network (libtorch; only the torch module includes
// this header). A small conv net turns each image (resized to the config's size) into one
// visual token per 16x16 patch; the tokens take the <image> slots of the sequence; a causal
// pre-norm transformer reads the sequence and predicts the next token (output weights tied to
// the token embedding). Positions are learned embeddings added to the input, or rotary: each
// head's queries and keys turned by angles proportional to their position (RoFormer), so that
// attention scores depend on how far apart two tokens are. A Cache holds the keys and values of the
// tokens read so far, so decoding reads each token once.
//
// Parameters are plain fp32 tensors; forward() without a cache is safe to call from several
// threads at once in inference (torch::NoGradGuard), each with its own Cache.
#pragma once

#include <torch/torch.h>

#include <array>

#include "models/embedded/config.h"

namespace taco {

// The cosines and sines of rotary positions, each broadcastable to [B, heads, T, head_dim / 2];
// undefined with learned positions.
struct Rotation {
  torch::Tensor cos, sin;
  // positions: any shape P of int64 positions; the tables come out as P x [head_dim / 2].
  static Rotation at(const torch::Tensor& positions, int64_t head_dim);
  // t [..., head_dim] turned pairwise (dimension i with i + head_dim / 2).
  torch::Tensor apply(const torch::Tensor& t) const;
};

// One layer's keys and values of the tokens read so far: [B, heads, capacity, head_dim], the
// first `length` positions (the Cache's) filled. Room grows by doubling, so that writing a
// token copies only that token's keys and values, not the whole cache.
struct LayerCache {
  torch::Tensor k, v;
  // Makes room for `needed` positions, keeping the first `kept` (the new room zero when
  // `zeroed`, otherwise uninitialized).
  void reserve(int64_t needed, int64_t kept, const torch::Tensor& like, bool zeroed = false);
};

struct BlockImpl : torch::nn::Module {
  BlockImpl(int d_model, int heads);
  // With a cache, x continues the `past` positions it holds and its keys and values are added.
  torch::Tensor forward(const torch::Tensor& x, const Rotation& rotation, LayerCache* cache, int64_t past);
  // One new token for each of the streams `rows` of a pool, x [B, 1, D]: `pool` holds the
  // streams' keys and values side by side ([n, heads, capacity, head_dim]); row rows[i] gets the
  // new token's at position at[i], and its query sees the positions before and that one
  // (`hidden`, [n, 1, 1, L] bool, true past each row's end; L the pool's longest row).
  torch::Tensor step(const torch::Tensor& x, const Rotation& rotation, LayerCache& pool, const torch::Tensor& rows,
                     const torch::Tensor& at, const torch::Tensor& hidden);

  // q (scaled by 1 / sqrt(head_dim): on q rather than on the B x heads x T x T scores), k and
  // v, each [B, heads, T, head_dim]; q and k turned by the rotation when it is defined.
  std::array<torch::Tensor, 3> attention_inputs(const torch::Tensor& x, const Rotation& rotation);
  // The rest of the block, given the attention's output y [B, heads, T, head_dim].
  torch::Tensor after_attention(const torch::Tensor& x, const torch::Tensor& y);

  int heads;
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Block);

struct ActionNetworkImpl : torch::nn::Module {
  explicit ActionNetworkImpl(const EmbeddedConfig& config);

  struct Cache {
    std::vector<LayerCache> layers;
    int64_t length = 0;  // positions held
  };

  // tokens [B, T] int64; images [N, H, W, 3] uint8 (undefined when N = 0); slots [N * G] int64
  // flat indices into B * T where the visual tokens go, image by image. With a cache, the
  // tokens continue the cached ones (B = 1) and the cache grows. Returns logits [B, T, V], or
  // with `last_only` the last position's alone, [B, 1, V] (what decoding reads: the vocabulary
  // product of every other position is the largest cost of reading a prompt).
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& images, const torch::Tensor& slots,
                        Cache* cache = nullptr, bool last_only = false);
  EmbeddedConfig config;
  torch::nn::Sequential encoder{nullptr};
  torch::nn::Embedding token_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};  // learned positions only
  torch::Tensor visual_position;  // [G, d]: where in the image each visual token came from
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm ln_final{nullptr};
};
TORCH_MODULE(ActionNetwork);

// Several streams decoded together, a token each per step (the replies of a lockstep round).
// Their caches are copied side by side once, into a pool per layer, so that each step's
// attention is one batched product over every stream, the shorter ones' unused positions
// masked, rather than a few small products per stream; finish() copies each stream's new
// keys and values back into its own cache. Per stream, the same arithmetic as forward() with
// one token and a cache, though not always the same bits: a row's sums may depend on its
// place among the others and on the pool's length (the BLAS kernels' tiles), which is why
// batched decoding keeps its batches in a fixed order.
class SharedDecoding {
 public:
  // Each cache already holds its stream's prompt.
  SharedDecoding(ActionNetwork net, std::vector<ActionNetworkImpl::Cache*> caches);
  ~SharedDecoding();
  // tokens[i] continues stream rows[i] (rows ascending, indices into the constructor's
  // caches; a stream left out of a step is not stepped again). Returns logits [rows, V].
  torch::Tensor step(const std::vector<int64_t>& tokens, const std::vector<size_t>& rows);
  // Writes the stream's new keys and values into its own cache (and its length); it is not
  // stepped again, and its cache is its own to use from here on.
  void finish(size_t stream);
  // The same for every stream not yet finished.
  void finish();

 private:
  void keep_only(const std::vector<size_t>& streams);

  ActionNetwork net_;
  std::vector<ActionNetworkImpl::Cache*> caches_;
  std::vector<LayerCache> pool_;   // per layer: [rows, heads, capacity, head_dim]
  std::vector<int64_t> row_of_;    // by stream: its row in the pool, -1 once written back
  std::vector<size_t> stream_of_;  // by row
  std::vector<int64_t> length_;    // by stream: the positions its row holds
  std::vector<int64_t> started_;   // by stream: the positions its cache held
};

}  // namespace taco
