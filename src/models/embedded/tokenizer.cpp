#include "models/embedded/tokenizer.h"

#include <set>

#include "util/error.h"
#include "util/files.h"
#include "util/module.h"

namespace taco {
namespace {

// SentencePiece writes a space as U+2581 inside pieces; symbols must be given that way.
std::string escape_spaces(const std::string& s) {
  std::string out;
  for (char c : s) out += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
  return out;
}

}  // namespace

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

std::string Tokenizer::train(const std::vector<std::string>& texts, int vocab_size,
                             const std::vector<std::string>& protocol_strings) {
  // SentencePiece trains on lines; a line break inside a text is left to byte fallback.
  std::vector<std::string> lines;
  for (const auto& text : texts) {
    size_t from = 0;
    while (from <= text.size()) {
      size_t nl = text.find('\n', from);
      if (nl == std::string::npos) nl = text.size();
      if (nl > from) lines.push_back(text.substr(from, nl - from));
      from = nl + 1;
    }
  }
  if (lines.empty()) throw Error("no text to train a tokenizer on");
  std::set<std::string> symbols;
  for (const auto& s : protocol_strings) {
    std::string piece;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == '\n' || s[i] == ',') {
        // Short pieces are left to BPE; control-token look-alikes are not symbols.
        if (piece.size() >= 6 && piece.find('<') == std::string::npos) symbols.insert(escape_spaces(piece));
        piece.clear();
      } else {
        piece += s[i];
      }
    }
  }
  std::string user_defined;
  for (const auto& s : symbols) user_defined += (user_defined.empty() ? "" : ",") + s;
  std::vector<std::string> args = {
      "model_type", "bpe",
      "vocab_size", std::to_string(vocab_size),
      "split_digits", "true",
      "byte_fallback", "true",
      "character_coverage", "1.0",
      "normalization_rule_name", "identity",
      "remove_extra_whitespaces", "false",
      "add_dummy_prefix", "false",
      "hard_vocab_limit", "false",
      "max_sentence_length", "100000",
      "input_sentence_size", "0",  // every line given: the caller samples, so training is deterministic
      "shuffle_input_sentence", "false",
      "num_threads", "1",
      "unk_id", "0",
      "bos_id", "-1",
      "eos_id", "1",
      "pad_id", "-1",
      "control_symbols", "<user>,<assistant>,<image>",
      "model_prefix", "",
  };
  if (!user_defined.empty()) args.insert(args.end(), {"user_defined_symbols", user_defined});
  auto entry = reinterpret_cast<SentencePieceTrainEntry>(
      module_symbol("libtaco_sentencepiece.so", "taco_sentencepiece_train", "the embedded model's tokenizer"));
  return entry(lines, args);
}

Tokenizer Tokenizer::from_bytes(const std::string& model_bytes, const std::string& what) {
  auto entry = reinterpret_cast<SentencePieceLoadEntry>(
      module_symbol("libtaco_sentencepiece.so", "taco_sentencepiece_load", "the embedded model's tokenizer"));
  Tokenizer t;
  t.bytes_ = model_bytes;
  std::string error;
  t.sp_ = entry(model_bytes, &error);
  if (!t.sp_) throw Error(what + ": not a SentencePiece model (" + error + ")");
  t.user_ = t.sp_->piece_to_id("<user>");
  t.assistant_ = t.sp_->piece_to_id("<assistant>");
  t.image_ = t.sp_->piece_to_id("<image>");
  t.end_ = t.sp_->eos_id();
  const int unk = t.sp_->unk_id();
  if (t.user_ == unk || t.assistant_ == unk || t.image_ == unk || t.end_ < 0)
    throw Error(what + ": a SentencePiece model without taco's control tokens (<user>, <assistant>, <image>, </s>)");
  return t;
}

Tokenizer Tokenizer::from_file(const std::string& path) { return from_bytes(read_file(path), path); }

std::vector<int> Tokenizer::encode(std::string_view text) const { return sp_->encode(text); }

std::string Tokenizer::decode(const std::vector<int>& ids) const { return sp_->decode(ids); }

std::string Tokenizer::piece(int id) const { return sp_->piece(id); }

std::string Tokenizer::token_bytes(int id) const {
  if (id == user_ || id == assistant_ || id == image_ || id == end_ || id == sp_->unk_id()) return "";
  const std::string p = sp_->piece(id);
  // Byte-fallback pieces are written <0xHH>.
  if (p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>')
    return std::string(1, static_cast<char>(std::stoi(p.substr(3, 2), nullptr, 16)));
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p.compare(i, 3, "\xE2\x96\x81") == 0) {
      out += ' ';
      i += 2;
    } else {
      out += p[i];
    }
  }
  return out;
}

int Tokenizer::vocab_size() const { return sp_->size(); }

}  // namespace taco
