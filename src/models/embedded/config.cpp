#include "models/embedded/config.h"

#include <filesystem>

#include "util/error.h"
#include "util/strings.h"

namespace taco {

Json EmbeddedConfig::to_json() const {
  return Json{{"format", "taco-embedded"},
              {"format_version", kEmbeddedFormatVersion},
              {"architecture",
               {{"size", size},
                {"vocab_size", vocab_size},
                {"d_model", d_model},
                {"layers", layers},
                {"heads", heads},
                {"max_positions", max_positions},
                {"positions", positions},
                {"image_width", image_width},
                {"image_height", image_height},
                {"visual_tokens_per_image", visual_tokens()}}},
              {"tokenizer", {{"file", "tokenizer.model"}, {"type", "sentencepiece-bpe"}}},
              {"prompt", {{"mode", mode}, {"template", prompt_template}}},
              {"decoding", {{"max_reply_tokens", max_reply_tokens}, {"max_replies", max_replies}}},
              {"training", training}};
}

EmbeddedConfig EmbeddedConfig::from_json(const Json& j, const std::string& what) {
  if (!j.is_object() || j.value("format", "") != "taco-embedded")
    throw Error(what + ": not a taco embedded-model config (no \"format\": \"taco-embedded\")");
  if (j.value("format_version", 0) != kEmbeddedFormatVersion)
    throw Error(what + ": format_version " + j.value("format_version", Json(nullptr)).dump() + " is not the one this taco reads (" +
                std::to_string(kEmbeddedFormatVersion) + ")");
  EmbeddedConfig c;
  try {
    const Json& a = j.at("architecture");
    c.size = a.at("size").get<std::string>();
    c.vocab_size = json_bounded_int(a.at("vocab_size"), "architecture.vocab_size", 1, 1 << 20, what);
    c.d_model = json_bounded_int(a.at("d_model"), "architecture.d_model", 1, 1 << 14, what);
    c.layers = json_bounded_int(a.at("layers"), "architecture.layers", 1, 1024, what);
    c.heads = json_bounded_int(a.at("heads"), "architecture.heads", 1, 1024, what);
    c.max_positions = json_bounded_int(a.at("max_positions"), "architecture.max_positions", 1, 1 << 20, what);
    c.positions = a.value("positions", "learned");
    c.image_width = json_bounded_int(a.at("image_width"), "architecture.image_width", 16, 4096, what);
    c.image_height = json_bounded_int(a.at("image_height"), "architecture.image_height", 16, 4096, what);
    const Json& p = j.at("prompt");
    c.mode = p.at("mode").get<std::string>();
    c.prompt_template = p.at("template");
    const Json& d = j.at("decoding");
    c.max_reply_tokens = json_bounded_int(d.at("max_reply_tokens"), "decoding.max_reply_tokens", 1, 1 << 20, what);
    c.max_replies = json_bounded_int(d.at("max_replies"), "decoding.max_replies", 1, 1000, what);
    c.training = j.value("training", Json::object());
  } catch (const Json::exception& e) {
    throw Error(what + ": " + e.what());
  }
  if (c.vocab_size <= 0 || c.d_model <= 0 || c.layers <= 0 || c.heads <= 0 || c.d_model % c.heads ||
      c.max_positions <= 0 || c.image_width < 16 || c.image_height < 16 || c.image_width % 16 || c.image_height % 16)
    throw Error(what + ": impossible architecture (d_model a multiple of heads, images multiples of 16 pixels)");
  if (c.positions != "learned" && c.positions != "rotary")
    throw Error(what + ": architecture.positions must be learned or rotary, not '" + c.positions + "'");
  if (c.positions == "rotary" && (c.d_model / c.heads) % 2)
    throw Error(what + ": rotary positions need an even number of dimensions per head");
  if (!c.prompt_template.is_object()) throw Error(what + ": prompt.template must be an object of texts");
  if (c.mode != "cota" && c.mode != "direct") throw Error(what + ": prompt.mode must be cota or direct");
  return c;
}

EmbeddedConfig EmbeddedConfig::preset(const std::string& size) {
  EmbeddedConfig c;
  c.size = size;
  if (size == "tiny") {
    c.d_model = 64, c.layers = 2, c.heads = 2;
  } else if (size == "small") {
    c.d_model = 128, c.layers = 4, c.heads = 4;
  } else if (size == "base") {
    c.d_model = 256, c.layers = 4, c.heads = 4;
  } else {
    throw Error("unknown model size '" + size + "' (tiny, small or base)");
  }
  return c;
}

CheckpointPaths checkpoint_files(const std::string& dir) {
  return {dir + "/config.json", dir + "/model.safetensors", dir + "/tokenizer.model"};
}

CheckpointPaths checkpoint_paths(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw Error(dir + ": not a checkpoint folder (it does not exist or is not a folder)");
  CheckpointPaths p = checkpoint_files(dir);
  for (const auto* f : {&p.config, &p.weights, &p.tokenizer})
    if (!std::filesystem::is_regular_file(*f, ec)) throw Error(dir + ": not a complete checkpoint (" + *f + " is missing)");
  return p;
}

}  // namespace taco
