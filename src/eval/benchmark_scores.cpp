// The scorers benchmarks define for themselves (relaxed accuracy, VLMEvalKit's exact matching of
// options and yes/no), beside taco's rules in answer_match.cpp.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>

#include "eval/answer_match.h"
#include "eval/answer_reading.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace taco {

using answer_reading::vqa_normalize;
using answer_reading::vqa_punctuation;

namespace {

// Python's float() of a stripped text, with a trailing % read as hundredths (pix2struct's
// _to_float); nullopt where float() raises.
std::optional<double> python_float_or_percent(std::string text) {
  double scale = 1;
  if (!text.empty() && text.back() == '%') {
    while (!text.empty() && text.back() == '%') text.pop_back();  // rstrip('%')
    scale = 0.01;
  }
  const std::string t = trim(text);
  if (t.empty() || t.find_first_of("xX") != std::string::npos) return std::nullopt;  // no hex in Python
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  return v * scale;
}

bool within_five_percent(double got, double want) {
  return want == 0 ? got == 0 : std::fabs(got - want) / std::fabs(want) <= 0.05;
}

}  // namespace

double relaxed_accuracy(const std::string& answer, const std::vector<std::string>& references, bool vlmevalkit) {
  for (const auto& reference : references) {
    if (vlmevalkit) {
      const std::string prediction = trim(answer);
      const auto got = python_float_or_percent(prediction), want = python_float_or_percent(reference);
      // pix2struct compares numbers only when the target is a non-zero number.
      if (got && want && *want != 0 ? std::fabs(*got - *want) / std::fabs(*want) <= 0.05 : to_lower(prediction) == to_lower(reference))
        return 1;
      continue;
    }
    if (numeric_reference(reference)) {
      const auto want = answer_number(reference), got = answer_number(answer);
      if (want && got && within_five_percent(*got, *want)) return 1;
    } else if (normalize_answer(answer) == normalize_answer(reference)) {
      return 1;
    }
  }
  return 0;
}

const char* to_string(Matching matching) {
  return matching == Matching::kVlmEvalKit ? "vlmevalkit" : matching == Matching::kExact ? "exact" : "taco";
}

Matching matching_from_string(const std::string& name) {
  if (name == "taco") return Matching::kTaco;
  if (name == "vlmevalkit") return Matching::kVlmEvalKit;
  if (name == "exact") return Matching::kExact;
  throw Error("unknown matching '" + name + "' (taco, vlmevalkit or exact)");
}

bool exact_answer_match(const std::string& prediction, const std::string& reference) {
  auto plain = [](std::string s) {
    s = to_lower(trim(s));
    if (!s.empty() && s.back() == '.') s.pop_back();
    return std::string(trim(s));
  };
  const std::string a = plain(prediction), b = plain(reference);
  if (a == b) return !a.empty();
  // Numbers by value ("3" and "3.0"), whole strings only.
  auto number = [](const std::string& s) -> std::optional<double> {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
  };
  const auto x = number(a), y = number(b);
  return x && y && *x == *y;
}

std::string vqa_process_answer(const std::string& answer) { return vqa_normalize(answer); }

std::string vlmevalkit_option(const std::string& prediction, const std::vector<std::string>& options) {
  for (const char* refusal : {"Sorry, I can't help with images of people yet.", "I can't process this file.",
                              "I'm sorry, but without the image provided", "Cannot determine the answer"})
    if (prediction.find(refusal) != std::string::npos) return "Z";
  std::string spaced = prediction;
  for (char& c : spaced)
    if (std::strchr(".()[],:;!*#{}", c) != nullptr && c != '\0') c = ' ';
  std::vector<std::string> words;
  std::istringstream in(spaced);
  for (std::string w; in >> w;) words.push_back(w);
  auto said = [&](const std::string& w) { return std::find(words.begin(), words.end(), w) != words.end(); };
  const size_t n = std::min<size_t>(options.size(), 26);
  std::vector<std::string> letters;
  for (size_t i = 0; i < n; ++i)
    if (said(std::string(1, static_cast<char>('A' + i)))) letters.emplace_back(1, static_cast<char>('A' + i));
  if (letters.size() == 1) {
    // Only a letter among the last four words counts.
    const auto at = std::find(words.begin(), words.end(), letters[0]) - words.begin();
    if (at > static_cast<std::ptrdiff_t>(words.size()) - 5) return letters[0];
  } else if (letters.empty() && said("Z")) {
    return "Z";
  }
  // Else by the options' text: exactly one option's text inside a reply at most twice as long
  // as all the options together (lengths in characters).
  const auto characters = [](const std::string& t) { return utf8_length(t); };
  size_t options_length = 0;
  for (size_t i = 0; i < n; ++i) options_length += characters(options[i]);
  if (characters(prediction) > 2 * options_length) return "Z";
  const std::string lower = to_lower(prediction);
  std::vector<size_t> found;
  for (size_t i = 0; i < n; ++i)
    if (lower.find(to_lower(options[i])) != std::string::npos) found.push_back(i);
  return found.size() == 1 ? std::string(1, static_cast<char>('A' + found[0])) : "Z";
}

std::string vlmevalkit_yes_no(const std::string& prediction) {
  std::istringstream in(vqa_punctuation(to_lower(prediction)));
  bool yes = false, no = false;
  for (std::string w; in >> w;) yes = yes || w == "yes", no = no || w == "no";
  if (yes && !no) return "Yes";
  if (no && !yes) return "No";
  return "Unknown";
}

}  // namespace taco

