// Python's repr() of a JSON value: how TACO's runtime prints an observation dict, and so the
// text released TACO checkpoints saw during training:
//   {'text': 'a\nb', 'result': 13.698630136986301, 'ok': True, 'box': [0.1, 0.25]}
// Strings follow str.__repr__ (quote choice, escapes), floats follow float.__repr__ (shortest
// round-trip digits, scientific outside 1e-4 <= |x| < 1e16). Thread-safe: pure functions.
#pragma once

#include <string>

#include "util/json.h"

namespace taco {

std::string python_repr(const Json& value);
std::string python_repr_string(const std::string& s);
std::string python_repr_float(double x);

// Python's json.dumps(value, ensure_ascii=False): JSON with ", " and ": " separators and
// Python's float digits. TACO's prompts and the public CoTA data show steps in this layout.
std::string python_json_dumps(const Json& value);

}  // namespace taco
