// The JSON value type used across taco.
//
// nlohmann's default json sorts object keys; taco's formats have a meaningful key order
// ("thought" before "actions", "id" first in a trace), so everything uses ordered_json.
#pragma once

#include <nlohmann/json.hpp>

namespace taco {

using Json = nlohmann::ordered_json;

}  // namespace taco
