// Forwards to the torch module's RL policy (rl/policy.h).
#include "rl/policy.h"

#include "util/module.h"

namespace taco {

std::unique_ptr<Policy> make_policy(const PolicyOptions& options) {
  using Entry = PolicyFactory (*)();
  auto entry = reinterpret_cast<Entry>(torch_module_symbol("taco_rl_policy_factory", "taco rl"));
  return entry()(options);
}

}  // namespace taco
