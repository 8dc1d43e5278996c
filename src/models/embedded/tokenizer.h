// Tokenizer: the embedded model's SentencePiece tokenizer (BPE with byte fallback, so any
// UTF-8 text round-trips exactly). It is trained on the training text itself, splits digits
// into single tokens, and makes the fixed strings of the CoTA protocol (section markers, the
// observation's standing advice, the JSON step skeleton) single symbols, so observations stay
// short without their text changing. Four control tokens frame a conversation: <user>,
// <assistant>, <image> (a visual token's slot) and </s> (end of a message); they never come
// out of encoding text. Immutable after loading; encode/decode are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace taco {

// The SentencePiece library as libtaco_sentencepiece.so offers it (see util/module.h).
class SentencePieceModel {
 public:
  virtual ~SentencePieceModel() = default;
  virtual std::vector<int> encode(std::string_view text) const = 0;  // throws Error
  virtual std::string decode(const std::vector<int>& ids) const = 0;
  virtual std::string piece(int id) const = 0;
  virtual int piece_to_id(const std::string& piece) const = 0;
  virtual int size() const = 0;
  virtual int unk_id() const = 0;
  virtual int eos_id() const = 0;
};
// The module's entry points: training (model bytes out; throws Error) and loading (nullptr
// with `error` set for bytes that are not a model).
using SentencePieceTrainEntry = std::string (*)(const std::vector<std::string>& lines, const std::vector<std::string>& args);
using SentencePieceLoadEntry = std::unique_ptr<SentencePieceModel> (*)(const std::string& bytes, std::string* error);

class Tokenizer {
 public:
  // Trains a tokenizer on `texts` and returns the model file's bytes. `protocol_strings` are
  // texts that recur verbatim (split at commas and line breaks into symbols). Throws Error when
  // the text cannot support `vocab_size` (e.g. too small a vocabulary for its characters).
  static std::string train(const std::vector<std::string>& texts, int vocab_size,
                           const std::vector<std::string>& protocol_strings);
  // Throws Error "<what>: ..." for bytes that are not a SentencePiece model with taco's control tokens.
  static Tokenizer from_bytes(const std::string& model_bytes, const std::string& what);
  static Tokenizer from_file(const std::string& path);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  std::vector<int> encode(std::string_view text) const;
  std::string decode(const std::vector<int>& ids) const;
  std::string piece(int id) const;
  // The bytes token `id` adds to a decoded text: its piece with U+2581 as a space, a
  // byte-fallback piece's one byte (maybe half a character); "" for control tokens and <unk>.
  std::string token_bytes(int id) const;
  int vocab_size() const;
  const std::string& model_bytes() const { return bytes_; }

  int user_id() const { return user_; }
  int assistant_id() const { return assistant_; }
  int image_id() const { return image_; }
  int end_id() const { return end_; }

 private:
  Tokenizer() = default;
  std::unique_ptr<SentencePieceModel> sp_;
  std::string bytes_;
  int user_ = -1, assistant_ = -1, image_ = -1, end_ = -1;
};

}  // namespace taco
