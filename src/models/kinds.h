// Model kinds by name: a spec that starts with a registered prefix ("replay:", "embedded:") is
// made by that kind from the rest of the spec; any other spec names a model served behind an
// OpenAI-compatible endpoint. A kind registers itself from its own file (ModelKindRegistration),
// so a new kind is one new file; what lives in the torch module registers a loader here, so the
// module loads only when a spec asks for it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/model.h"
#include "util/registry.h"

namespace taco {

struct ModelKind {
  std::string name;  // the specs' prefix, with its colon: "replay:"
  // Makes the model from the spec without its prefix; throws Error for a bad spec.
  std::function<std::unique_ptr<Model>(const std::string& rest, const ModelOptions& options)> make;
};

Registry<ModelKind>& model_kind_registry();

// Registers `kind` while it lives (a static one in the kind's file; a test's for the test). A
// later registration of the same prefix wins while it lives.
class ModelKindRegistration : public Registry<ModelKind>::Registration {
 public:
  explicit ModelKindRegistration(ModelKind kind) : Registration(model_kind_registry(), std::move(kind)) {}
};

// The prefixes registered now, in registration order.
std::vector<std::string> model_kind_prefixes();

}  // namespace taco
