// Loads the learned vision models' trainer and backend from the torch module on first use
// (vision/vision_model.h), and registers the backend as "learned".
#include "tools/catalog.h"
#include "tools/vision_backend.h"
#include "util/module.h"
#include "vision/vision_model.h"

namespace taco {

VisionTrainSummary train_vision_model(const VisionTrainOptions& options) {
  auto entry = reinterpret_cast<VisionTrainer>(torch_module_symbol("taco_train_vision", "taco train-vision"));
  return entry(options);
}

namespace {

const VisionBackendRegistration kLearned({"learned", 0, [](const Json& section, const std::string& base_dir) {
                                            auto entry = reinterpret_cast<ModuleBackendFactory (*)()>(
                                                torch_module_symbol("taco_learned_backend_factory", "the learned vision backend"));
                                            return entry()(section, base_dir);
                                          },
                                          "taco's own detector and depth model: examples/tools-learned.json",
                                          {"LocalizeObjects", "GetObjects", "EstimateRegionDepth", "EstimateObjectDepth"}});

}  // namespace

}  // namespace taco
