// Small text and number helpers shared across taco. Header-only; pure functions.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

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

// Levenshtein distance: the fewest one-character insertions, deletions and substitutions.
inline size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Of `candidates`, the one nearest `word` if near enough to be a likely typo (a third of the
// word off at most, two edits always allowed; case does not count), or one `word` is the start
// of ("--judge" for "--judge-model"); "" when none is. For "did you mean ...?".
inline std::string nearest_word(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::string::npos;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(to_lower(word), to_lower(c));
    if (d < best_distance) best = c, best_distance = d;
  }
  if (!best.empty() && best_distance <= std::max<size_t>(2, word.size() / 3)) return best;
  for (const auto& c : candidates)
    if (word.size() >= 3 && c.rfind(word, 0) == 0) return c;
  return "";
}

// A size for people: "512 bytes", "3.5 KB", "64 MB", "2 GB" (powers of 1024).
inline std::string byte_size_text(size_t bytes) {
  const char* units[] = {"bytes", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  if (u == 0) return std::to_string(bytes) + " bytes";
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 && v != std::floor(v) ? "%.1f %s" : "%.0f %s", v, units[u]);
  return buf;
}

// A short, one-line excerpt of `text` for a message that quotes input: line breaks and other
// control characters become spaces, and past `limit` bytes it is cut (before a character, not
// inside one) and says how long the whole was. Input can be 300 MB; a message must not be.
inline std::string excerpt(std::string_view text, size_t limit = 200) {
  const size_t whole = text.size();
  const bool cut = whole > limit;
  if (cut) {
    size_t at = limit;
    while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) --at;
    text = text.substr(0, at);
  }
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (cut) out += "... (" + byte_size_text(whole) + " in all)";
  return out;
}

// The first line of `text` (an error message whose later lines are a backtrace or detail).
inline std::string first_line_of(const std::string& text) { return text.substr(0, text.find('\n')); }

// Two decimals, as TACO's tools round boxes, scores and depths.
inline double round2(double v) { return std::round(v * 100) / 100; }

}  // namespace taco
