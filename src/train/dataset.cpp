#include "train/dataset.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>

#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"
#include "util/work_pool.h"

namespace taco::training {

// Every text of the records (for the tokenizer), at most `limit` records' worth, evenly spread.
std::vector<std::string> tokenizer_texts(const TrainingData& data, size_t limit) {
  std::vector<std::string> texts;
  const size_t n = data.conversations.size(), stride = std::max<size_t>(1, n / std::max<size_t>(1, limit));
  for (size_t i = 0; i < n; i += stride)
    for (const auto& m : data.conversations[i].messages)
      for (const auto& s : m.segments)
        if (!s.is_image) texts.push_back(s.text);
  return texts;
}

// The fixed strings of the protocol: the template texts and the JSON step's skeleton.
std::vector<std::string> protocol_strings(const Json& prompt_template) {
  std::vector<std::string> out = {"{\"thought\": \"", "\", \"actions\": [{\"name\": \"", "\", \"arguments\": {", "}}]}",
                                  "\"answer\": \"", "image-"};
  for (const auto& [key, text] : prompt_template.items()) {
    if (key == "cota_system" || !text.is_string()) continue;  // the system prompt is not shown to this model
    // Placeholders ({{name}}) split the text into the pieces that recur verbatim.
    std::string s = text.get<std::string>();
    size_t from = 0, open;
    while ((open = s.find("{{", from)) != std::string::npos) {
      out.push_back(s.substr(from, open - from));
      size_t close = s.find("}}", open);
      from = close == std::string::npos ? s.size() : close + 2;
    }
    out.push_back(s.substr(from));
  }
  return out;
}

Dataset prepare(const TrainingData& data, const Tokenizer& tok, const EmbeddedConfig& config, std::map<std::string, int32_t>& image_rows,
                std::vector<std::string>& image_paths) {
  Dataset d;
  for (const auto& c : data.conversations) {
    TokenSequence s = render_conversation(c.messages, tok, config.visual_tokens(), false);
    if (static_cast<int>(s.ids.size()) > config.max_positions) {
      ++d.too_long;
      continue;
    }
    Example e{std::move(s.ids), std::move(s.is_target), std::move(s.image_at), {}};
    for (const auto& path : c.image_paths) {
      auto [it, added] = image_rows.emplace(path, static_cast<int32_t>(image_paths.size()));
      if (added) image_paths.push_back(path);
      e.images.push_back(it->second);
    }
    d.tokens += static_cast<int64_t>(e.ids.size());
    d.examples.push_back(std::move(e));
  }
  return d;
}

// Decodes and resizes every image once, on `threads` threads.
torch::Tensor load_images(const std::vector<std::string>& paths, const EmbeddedConfig& c, int threads, bool quiet) {
  const int64_t n = static_cast<int64_t>(paths.size());
  torch::Tensor pixels = torch::zeros({n, c.image_height, c.image_width, 3}, torch::kUInt8);
  if (n == 0) return pixels;
  Progress progress("images", static_cast<size_t>(n), !quiet && n >= 200);
  auto load = [&](size_t i) {
    const auto row = static_cast<int64_t>(i);
    PreparedImage im = prepare_image(read_file(paths[i]), c.image_width, c.image_height, paths[i]);
    std::memcpy(pixels[row].data_ptr(), im.rgb.data(), im.rgb.size());
    progress.tick();
  };
  try {
    parallel_for(paths.size(), static_cast<size_t>(std::max(1, threads)), load);
  } catch (const Error& e) {
    throw Error(std::string("a training image cannot be read: ") + e.what());
  }
  progress.finish();
  return pixels;
}

// One epoch's batches: the examples shuffled (seeded by seed and epoch), sorted by length within
// windows so that batches waste little padding, grouped up to batch_tokens padded tokens, and
// the batches shuffled again.
std::vector<std::vector<int32_t>> epoch_batches(const Dataset& d, uint64_t seed, int64_t epoch, int64_t batch_tokens) {
  std::vector<int32_t> order(d.examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
  std::shuffle(order.begin(), order.end(), rng);
  const size_t window = 256;
  for (size_t at = 0; at < order.size(); at += window) {
    auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), at + window));
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(at), end,
                     [&](int32_t a, int32_t b) { return d.examples[a].ids.size() < d.examples[b].ids.size(); });
  }
  std::vector<std::vector<int32_t>> batches;
  std::vector<int32_t> current;
  size_t longest = 0;
  for (int32_t i : order) {
    const size_t len = d.examples[i].ids.size();
    if (!current.empty() && static_cast<int64_t>(std::max(longest, len) * (current.size() + 1)) > batch_tokens) {
      batches.push_back(std::move(current));
      current.clear();
      longest = 0;
    }
    current.push_back(i);
    longest = std::max(longest, len);
  }
  if (!current.empty()) batches.push_back(std::move(current));
  std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

Batch make_batch(const Dataset& d, const std::vector<int32_t>& members, int visual_tokens, int pad_id, torch::Device device) {
  size_t longest = 0;
  for (int32_t i : members) longest = std::max(longest, d.examples[i].ids.size());
  const int64_t B = static_cast<int64_t>(members.size()), T = static_cast<int64_t>(longest);
  torch::Tensor tokens = torch::full({B, T}, pad_id, torch::kLong);
  torch::Tensor mask = torch::zeros({B, T}, torch::kFloat);
  auto tok = tokens.accessor<int64_t, 2>();
  auto msk = mask.accessor<float, 2>();
  std::vector<int64_t> rows, slots;
  Batch b;
  for (int64_t r = 0; r < B; ++r) {
    const Example& e = d.examples[members[r]];
    for (size_t t = 0; t < e.ids.size(); ++t) {
      tok[r][t] = e.ids[t];
      msk[r][t] = e.is_target[t];
    }
    b.tokens_read += static_cast<int64_t>(e.ids.size());
    for (size_t k = 0; k < e.images.size(); ++k) {
      rows.push_back(e.images[k]);
      for (int v = 0; v < visual_tokens; ++v) slots.push_back(r * T + e.image_at[k] + v);
    }
  }
  // Position t predicts token t + 1.
  b.tokens = tokens.narrow(1, 0, T - 1).to(device);
  b.targets = tokens.narrow(1, 1, T - 1).to(device);
  b.mask = mask.narrow(1, 1, T - 1).to(device);
  if (!rows.empty()) {
    b.pixels = d.pixels.index_select(0, torch::tensor(rows, torch::kLong)).to(device);
    // Slots of the last position fall outside the shortened rows; an image never ends a record.
    for (auto& s : slots) s = (s / T) * (T - 1) + s % T;
    b.slots = torch::tensor(slots, torch::kLong).to(device);
  }
  return b;
}

}  // namespace taco::training
