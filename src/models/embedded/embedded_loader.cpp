// Forwards to the torch module's entry points (see embedded.h).
#include "models/embedded/embedded.h"
#include "util/module.h"
#include "models/kinds.h"

namespace taco {

std::unique_ptr<Model> make_embedded_model(const std::string& dir, const ModelOptions& options) {
  auto entry = reinterpret_cast<EmbeddedModelFactory>(torch_module_symbol("taco_embedded_model", "the embedded model"));
  return entry(dir, options);
}

TrainSummary train_embedded_model(const TrainOptions& options) {
  auto entry = reinterpret_cast<EmbeddedTrainer>(torch_module_symbol("taco_train_embedded", "taco train"));
  return entry(options);
}

TrainingDefaults training_defaults(const std::string& size) {
  if (size == "tiny") return {3e-3, 512};
  if (size == "small") return {2e-3, 2000};
  return {1e-3, 3000};
}

namespace {

// The kind is registered in the core; the module loads when a spec names it.
const ModelKindRegistration kEmbeddedKind({"embedded:", [](const std::string& dir, const ModelOptions& options) {
                                             return make_embedded_model(dir, options);
                                           }});

}  // namespace

}  // namespace taco
