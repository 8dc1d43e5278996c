// The trainer's data (torch module): training records as token ids with their images decoded
// once, and the batches of each epoch, a function of the data, the seed and the epoch alone
// (what makes a resumed run end with the same weights as one never stopped).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/embedded/config.h"
#include "models/embedded/conversation.h"
#include "models/embedded/tokenizer.h"

namespace taco::training {

// A record ready to batch: its tokens, what is predicted, and its images (rows of the image table).
struct Example {
  std::vector<int32_t> ids;
  std::vector<uint8_t> is_target;
  std::vector<int32_t> image_at;
  std::vector<int32_t> images;
};

struct Dataset {
  std::vector<Example> examples;
  torch::Tensor pixels;  // [images, H, W, 3] uint8, each distinct file once
  size_t too_long = 0;   // records longer than the model's context, left out
  int64_t tokens = 0;
};

// Every text of the records (for the tokenizer), at most `limit` records' worth, evenly spread.
std::vector<std::string> tokenizer_texts(const TrainingData& data, size_t limit);

// The fixed strings of the protocol: the template texts and the JSON step's skeleton.
std::vector<std::string> protocol_strings(const Json& prompt_template);

// The records as examples; their images get rows in `image_rows` / `image_paths` (shared by
// the training and validation sets).
Dataset prepare(const TrainingData& data, const Tokenizer& tok, const EmbeddedConfig& config, std::map<std::string, int32_t>& image_rows,
                std::vector<std::string>& image_paths);

// Decodes and resizes every image once, on `threads` threads.
torch::Tensor load_images(const std::vector<std::string>& paths, const EmbeddedConfig& c, int threads, bool quiet);

// One epoch's batches: the examples shuffled (seeded by seed and epoch), sorted by length within
// windows so that batches waste little padding, grouped up to batch_tokens padded tokens, and
// the batches shuffled again.
std::vector<std::vector<int32_t>> epoch_batches(const Dataset& d, uint64_t seed, int64_t epoch, int64_t batch_tokens);

struct Batch {
  torch::Tensor tokens, targets, mask, pixels, slots;
  int64_t tokens_read = 0;
};

// The tensors of one batch on `device`: position t predicts token t + 1.
Batch make_batch(const Dataset& d, const std::vector<int32_t>& members, int visual_tokens, int pad_id, torch::Device device);

}  // namespace taco::training
