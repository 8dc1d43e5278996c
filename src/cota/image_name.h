// The name an episode gives its k-th image: the inputs first, then what the tools make, in
// order ("image-0", "image-1", ...). Prompts, actions, traces and training records all use it,
// and released checkpoints have learned it: one function writes it.
#pragma once

#include <cstddef>
#include <string>

namespace taco {

inline std::string image_name(size_t k) { return "image-" + std::to_string(k); }

}  // namespace taco
