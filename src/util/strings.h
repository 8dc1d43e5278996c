// Small text and number helpers shared across taco. Header-only; pure functions.
#pragma once

#include <cctype>
#include <cmath>
#include <string>

namespace taco {

inline std::string to_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Two decimals, as TACO's tools round boxes, scores and depths.
inline double round2(double v) { return std::round(v * 100) / 100; }

}  // namespace taco
