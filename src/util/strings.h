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

// `s` without the whitespace at its ends.
inline std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Two decimals, as TACO's tools round boxes, scores and depths.
inline double round2(double v) { return std::round(v * 100) / 100; }

}  // namespace taco
