#include "models/model.h"

#include "models/embedded/embedded.h"
#include "models/openai.h"
#include "models/replay.h"

namespace taco {

bool Message::has_images() const {
  for (const auto& p : parts)
    if (p.image_url) return true;
  return false;
}

std::string Message::text() const {
  std::string out;
  for (const auto& p : parts)
    if (!p.image_url) out += p.text;
  return out;
}

std::unique_ptr<Model> make_model(const ModelOptions& options) {
  if (options.model.rfind("replay:", 0) == 0) return std::make_unique<ReplayModel>(options.model.substr(7));
  if (options.model.rfind("embedded:", 0) == 0) return make_embedded_model(options.model.substr(9), options);
  if (options.model.empty()) throw Error("no model given (--model NAME, replay:PATH or embedded:DIR)");
  return std::make_unique<OpenAIModel>(options);
}

}  // namespace taco
