// libtaco_sentencepiece.so: the SentencePiece library behind taco's SentencePieceModel
// interface (tokenizer.h). A module of its own because libsentencepiece carries its own copy of
// protobuf's symbols (see util/module.h).
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "models/embedded/tokenizer.h"
#include "util/error.h"

namespace sentencepiece::logging {
void SetMinLogLevel(int);  // exported by libsentencepiece, not declared in its public headers
}

namespace taco {
namespace {

class LineIterator : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(const std::vector<std::string>& lines) : lines_(lines) {}
  bool done() const override { return at_ >= lines_.size(); }
  void Next() override { ++at_; }
  const std::string& value() const override { return lines_[at_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& lines_;
  size_t at_ = 0;
};

class Processor : public SentencePieceModel {
 public:
  std::vector<int> encode(std::string_view text) const override {
    std::vector<int> ids;
    auto status = sp.Encode(text, &ids);
    if (!status.ok()) throw Error(std::string("tokenizer: ") + status.message());
    return ids;
  }
  std::string decode(const std::vector<int>& ids) const override {
    std::string text;
    auto status = sp.Decode(ids, &text);
    if (!status.ok()) throw Error(std::string("tokenizer: ") + status.message());
    return text;
  }
  std::string piece(int id) const override { return sp.IdToPiece(id); }
  int piece_to_id(const std::string& piece) const override { return sp.PieceToId(piece); }
  int size() const override { return sp.GetPieceSize(); }
  int unk_id() const override { return sp.unk_id(); }
  int eos_id() const override { return sp.eos_id(); }

  sentencepiece::SentencePieceProcessor sp;
};

}  // namespace
}  // namespace taco

extern "C" std::string taco_sentencepiece_train(const std::vector<std::string>& lines, const std::vector<std::string>& args) {
  std::unordered_map<std::string, std::string> kwargs;
  for (size_t i = 0; i + 1 < args.size(); i += 2) kwargs[args[i]] = args[i + 1];
  sentencepiece::logging::SetMinLogLevel(2);
  taco::LineIterator it(lines);
  std::string model;
  auto status = sentencepiece::SentencePieceTrainer::Train(kwargs, &it, &model);
  if (!status.ok()) throw taco::Error(std::string("training the tokenizer failed: ") + status.message());
  return model;
}

extern "C" std::unique_ptr<taco::SentencePieceModel> taco_sentencepiece_load(const std::string& bytes, std::string* error) {
  auto p = std::make_unique<taco::Processor>();
  auto status = p->sp.LoadFromSerializedProto(bytes);
  if (!status.ok()) {
    *error = status.message();
    return nullptr;
  }
  return p;
}
