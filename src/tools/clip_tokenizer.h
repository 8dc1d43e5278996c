// ClipTokenizer: CLIP's byte-level BPE tokenizer (the one CLIP, open_clip and OWL-ViT use),
// reading the Hugging Face files vocab.json and merges.txt. Text is lower-cased and
// whitespace-collapsed, split CLIP's way, byte-encoded, merged, and wrapped in
// <|startoftext|> ... <|endoftext|>. Immutable after loading; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace taco {

class ClipTokenizer {
 public:
  // Throws Error for missing or malformed files.
  ClipTokenizer(const std::string& vocab_json, const std::string& merges_txt);

  std::vector<int64_t> encode(const std::string& text) const;  // with start and end tokens
  // Encoded, cut to `length` (keeping the end token) and padded with `pad`.
  std::vector<int64_t> encode_padded(const std::string& text, size_t length, int64_t pad = 0) const;

  int64_t start_token() const { return sot_; }
  int64_t end_token() const { return eot_; }

 private:
  std::vector<std::string> bpe(const std::string& word) const;

  std::unordered_map<std::string, int64_t> vocab_;
  std::map<std::pair<std::string, std::string>, int> ranks_;
  std::vector<std::string> byte_to_unicode_;
  int64_t sot_ = 0, eot_ = 0;
};

}  // namespace taco
