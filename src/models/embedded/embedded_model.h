// The embedded model over a checkpoint already loaded (torch module only): what RL samples
// from while it trains the same network (rl/policy.h). The model reads the network's weights
// as they are at each request.
#pragma once

#include <memory>
#include <string>

#include "models/embedded/weights.h"
#include "models/model.h"

namespace taco {

// `dir` names the model (Model::name) as make_embedded_model's does.
std::unique_ptr<Model> make_embedded_model_over(const std::string& dir, const ModelOptions& options, LoadedCheckpoint checkpoint);

}  // namespace taco
