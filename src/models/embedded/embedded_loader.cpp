// Forwards to the torch module's entry points (see embedded.h).
#include "models/embedded/embedded.h"

#include <filesystem>

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

std::string shipped_model_dir(const std::string& name) {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || name.empty()) return "";
  const auto dir = exe.parent_path().parent_path() / "models" / name;
  return std::filesystem::exists(dir / "config.json", ec) ? dir.string() : "";
}

TrainingDefaults training_defaults(const std::string& size) {
  if (size == "tiny") return {3e-3, 512};
  if (size == "small") return {2e-3, 2000};
  return {1e-3, 3000};
}

// A checkpoint folder as given; else a shipped model of that name, beside the binary
// (build/../models/, or <prefix>/lib/taco/models/ after make install): `embedded:taco-small`
// anywhere, and the README's `embedded:models/taco-small` outside the source tree too.
std::string embedded_checkpoint_dir(const std::string& dir) {
  std::error_code ec;
  if (dir.empty() || std::filesystem::exists(std::filesystem::path(dir) / "config.json", ec)) return dir;
  const std::string shipped = shipped_model_dir(std::filesystem::path(dir).filename().string());
  return shipped.empty() ? dir : shipped;
}

namespace {

// The kind is registered in the core; the module loads when a spec names it.
const ModelKindRegistration kEmbeddedKind({"embedded:", [](const std::string& dir, const ModelOptions& options) {
                                             return make_embedded_model(embedded_checkpoint_dir(dir), options);
                                           }});

}  // namespace

}  // namespace taco
