// Loads the torchscript backend from the torch module on first use (see vision_backend.h).
#include "tools/vision_backend.h"
#include "util/module.h"
#include "tools/catalog.h"

namespace taco {

std::shared_ptr<VisionBackend> make_torchscript_backend(const Json& options, const std::string& base_dir) {
  auto entry = reinterpret_cast<ModuleBackendFactory (*)()>(torch_module_symbol("taco_torchscript_factory", "the torchscript backend"));
  return entry()(options, base_dir);
}

namespace {

const VisionBackendRegistration kTorchScript({"torchscript", 1, [](const Json& section, const std::string& base_dir) {
                                                 return make_torchscript_backend(section, base_dir);
                                               },
                                               "exported models, docs/tools.md: a detector, a depth model, CLIP encoders"});

}  // namespace

}  // namespace taco
