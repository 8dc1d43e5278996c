// EmbeddedConfig: what config.json of an embedded-model checkpoint says: the architecture, the
// text it was trained on (prompt template and mode), its decoding limits, and how it was
// trained (data hashes, settings, tokens, time). A checkpoint is a folder:
//   config.json        this
//   model.safetensors  the weights (F32, F16 or BF16), names as the network's parameters
//   tokenizer.model    the SentencePiece tokenizer (models/embedded/tokenizer.h)
// docs/embedded.md describes the files. Plain value type.
#pragma once

#include <string>

#include "util/json.h"

namespace taco {

inline constexpr int kEmbeddedFormatVersion = 1;

struct EmbeddedConfig {
  // Architecture.
  std::string size = "small";  // the preset it started from: tiny, small or base
  int vocab_size = 0;
  int d_model = 256;
  int layers = 4;
  int heads = 4;
  int max_positions = 1024;    // tokens of context, visual tokens included
  // How the network knows where a token is: "learned" absolute embeddings added to the input
  // (checkpoints that name none), or "rotary" rotations of each head's queries and keys, which
  // make attention depend on the distance between tokens (what copying a span needs).
  std::string positions = "learned";
  int image_width = 64;        // images are resized to this before the encoder
  int image_height = 48;
  // Running.
  Json prompt_template = Json::object();  // the prompt texts the training data was written with
  std::string mode = "cota";
  int max_reply_tokens = 256;
  int max_replies = 10;
  // Training: data hashes, settings, totals. Informational.
  Json training = Json::object();

  // A 16x16 patch of the resized image becomes one visual token.
  int visual_tokens() const { return (image_width / 16) * (image_height / 16); }

  Json to_json() const;
  // Throws Error "<what>: ..." for a missing or ill-typed field or an impossible architecture.
  static EmbeddedConfig from_json(const Json& j, const std::string& what);
  // The architecture of a named size (tiny, small, base); throws Error for another name.
  static EmbeddedConfig preset(const std::string& size);
};

// A checkpoint folder's files: config.json, model.safetensors, tokenizer.model.
struct CheckpointPaths {
  std::string config, weights, tokenizer;
};
// Where they are (or go) in `dir`, whether or not they are there (the trainer writes them).
CheckpointPaths checkpoint_files(const std::string& dir);
// The same, checked to exist; throws Error naming the missing one.
CheckpointPaths checkpoint_paths(const std::string& dir);

}  // namespace taco
