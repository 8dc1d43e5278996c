#include "tools/clip_tokenizer.h"

#include <cctype>
#include <climits>
#include <fstream>
#include <sstream>

#include "util/error.h"
#include "util/files.h"
#include "util/json.h"
#include "util/utf8.h"

namespace taco {
namespace {

std::string utf8(uint32_t cp) {
  std::string out;
  append_utf8(out, cp);
  return out;
}

// GPT-2/CLIP's reversible byte-to-character map: printable bytes stand for themselves, the
// rest are shifted to code points from 256 up.
std::vector<std::string> make_byte_map() {
  std::vector<std::string> map(256);
  std::vector<bool> direct(256, false);
  for (int b = '!'; b <= '~'; ++b) direct[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b) map[b] = utf8(direct[b] ? static_cast<uint32_t>(b) : next++);
  return map;
}

size_t utf8_length(unsigned char c) { return c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1; }

// CLIP's pre-tokenizer: special tokens, contractions, letter runs, single digits, and runs of
// other non-space characters. Bytes >= 0x80 count as letters (CLIP's \p{L} for most scripts).
std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  size_t i = 0;
  auto is_letter = [&](size_t k) {
    unsigned char c = static_cast<unsigned char>(text[k]);
    return std::isalpha(c) || c >= 0x80;
  };
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isspace(c)) {
      ++i;
      continue;
    }
    for (const char* special : {"<|startoftext|>", "<|endoftext|>"}) {
      if (text.compare(i, std::strlen(special), special) == 0) {
        words.emplace_back(special);
        i += std::strlen(special);
        goto next;
      }
    }
    if (c == '\'') {
      for (const char* suffix : {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"}) {
        if (text.compare(i, std::strlen(suffix), suffix) == 0) {
          words.emplace_back(suffix);
          i += std::strlen(suffix);
          goto next;
        }
      }
    }
    if (is_letter(i)) {
      size_t j = i;
      while (j < text.size() && is_letter(j)) j += utf8_length(static_cast<unsigned char>(text[j]));
      words.push_back(text.substr(i, j - i));
      i = j;
    } else if (std::isdigit(c)) {
      words.push_back(text.substr(i, 1));
      ++i;
    } else {
      size_t j = i;
      while (j < text.size()) {
        unsigned char d = static_cast<unsigned char>(text[j]);
        if (std::isspace(d) || std::isalnum(d) || d >= 0x80) break;
        ++j;
      }
      words.push_back(text.substr(i, j - i));
      i = j;
    }
  next:;
  }
  return words;
}

}  // namespace

ClipTokenizer::ClipTokenizer(const std::string& vocab_json, const std::string& merges_txt) : byte_to_unicode_(make_byte_map()) {
  Json vocab = read_json_file(vocab_json);
  if (!vocab.is_object()) throw Error(vocab_json + ": expected {token: id}");
  for (const auto& [token, id] : vocab.items()) vocab_[token] = id.get<int64_t>();
  std::istringstream merges(read_file(merges_txt));
  std::string line;
  int rank = 0;
  while (std::getline(merges, line)) {
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    size_t space = line.find(' ');
    if (space == std::string::npos) throw Error(merges_txt + ": a merge line must be two symbols");
    ranks_[{line.substr(0, space), line.substr(space + 1)}] = rank++;
  }
  auto special = [&](const char* t) {
    auto it = vocab_.find(t);
    if (it == vocab_.end()) throw Error(vocab_json + ": no " + std::string(t) + " token");
    return it->second;
  };
  sot_ = special("<|startoftext|>");
  eot_ = special("<|endoftext|>");
}

std::vector<std::string> ClipTokenizer::bpe(const std::string& word) const {
  // Symbols: one per character, the last marked as the end of the word.
  std::vector<std::string> symbols;
  for (size_t i = 0; i < word.size();) {
    size_t n = utf8_length(static_cast<unsigned char>(word[i]));
    symbols.push_back(word.substr(i, n));
    i += n;
  }
  if (symbols.empty()) return symbols;
  symbols.back() += "</w>";
  for (;;) {
    int best = INT_MAX;
    size_t at = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto it = ranks_.find({symbols[i], symbols[i + 1]});
      if (it != ranks_.end() && it->second < best) best = it->second, at = i;
    }
    if (best == INT_MAX) break;
    // Merge every occurrence of the best pair, left to right.
    const std::string a = symbols[at], b = symbols[at + 1];
    std::vector<std::string> merged;
    for (size_t i = 0; i < symbols.size();) {
      if (i + 1 < symbols.size() && symbols[i] == a && symbols[i + 1] == b) {
        merged.push_back(a + b);
        i += 2;
      } else {
        merged.push_back(symbols[i++]);
      }
    }
    symbols = std::move(merged);
  }
  return symbols;
}

std::vector<int64_t> ClipTokenizer::encode(const std::string& raw) const {
  std::string text;
  bool space = false;
  for (char c : raw) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !text.empty();
      continue;
    }
    if (space) text += ' ';
    space = false;
    text += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::vector<int64_t> ids{sot_};
  for (const auto& word : split_words(text)) {
    if (word == "<|startoftext|>") ids.push_back(sot_);
    else if (word == "<|endoftext|>") ids.push_back(eot_);
    else {
      std::string mapped;
      for (unsigned char b : word) mapped += byte_to_unicode_[b];
      for (const auto& piece : bpe(mapped)) {
        auto it = vocab_.find(piece);
        if (it != vocab_.end()) ids.push_back(it->second);
      }
    }
  }
  ids.push_back(eot_);
  return ids;
}

std::vector<int64_t> ClipTokenizer::encode_padded(const std::string& text, size_t length, int64_t pad) const {
  std::vector<int64_t> ids = encode(text);
  if (ids.size() > length) {
    ids.resize(length);
    ids.back() = eot_;
  }
  ids.resize(length, pad);
  return ids;
}

}  // namespace taco
