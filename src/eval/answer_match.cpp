#include "eval/answer_match.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <sstream>

#include "util/strings.h"

namespace taco {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// Drops markdown emphasis, quotes and a trailing period: "**B.**" -> "B".
std::string strip_wrapping(std::string s) {
  s = trim(s);
  auto strip_ends = [&](const std::string& chars) {
    while (!s.empty() && chars.find(s.back()) != std::string::npos) s.pop_back();
    size_t b = 0;
    while (b < s.size() && chars.find(s[b]) != std::string::npos) ++b;
    s.erase(0, b);
  };
  strip_ends("*\"'`");
  s = trim(s);
  while (!s.empty() && (s.back() == '.' || s.back() == '*')) s.pop_back();
  return trim(s);
}

bool valid_letter(char c, size_t n) { return c >= 'A' && c < static_cast<char>('A' + n); }

// "B", "(B)", "[B]", "B)", "B:" (a lone letter, any case).
std::string lone_letter(const std::string& s, size_t n) {
  std::string t = s;
  if (!t.empty() && (t.front() == '(' || t.front() == '[')) t.erase(0, 1);
  while (!t.empty() && (t.back() == ')' || t.back() == ']' || t.back() == ':' || t.back() == '.')) t.pop_back();
  if (t.size() != 1) return "";
  char c = static_cast<char>(std::toupper(static_cast<unsigned char>(t[0])));
  return valid_letter(c, n) ? std::string(1, c) : "";
}

// A letter right after "answer", "option" or "choice" (with "is", ":" or brackets between),
// e.g. "Answer: B", "The correct answer is (C).", "I choose option D". The last such mention
// counts: models restate their final choice at the end.
std::string keyword_letter(const std::string& s, size_t n) {
  const std::string lower = to_lower(s);
  std::string found;
  for (const char* keyword : {"answer", "option", "choice"}) {
    for (size_t at = lower.find(keyword); at != std::string::npos; at = lower.find(keyword, at + 1)) {
      size_t i = at + std::string(keyword).size();
      if (i < s.size() && s[i] == 's') ++i;  // "options"
      auto skip_spaces = [&] {
        while (i < s.size() && is_space(s[i])) ++i;
      };
      skip_spaces();
      if (lower.compare(i, 2, "is") == 0 && (i + 2 == s.size() || !is_alnum(s[i + 2]))) i += 2;
      skip_spaces();
      if (i < s.size() && s[i] == ':') ++i;
      skip_spaces();
      bool bracketed = i < s.size() && (s[i] == '(' || s[i] == '[');
      if (bracketed) ++i;
      if (i >= s.size()) continue;
      char c = s[i];
      if (bracketed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      bool ends = i + 1 == s.size() || !is_alnum(s[i + 1]);
      if (valid_letter(c, n) && ends) found = std::string(1, c);
    }
  }
  return found;
}

// "B. a cat", "(B) a cat", "B) a cat", "B: a cat".
std::string leading_letter(const std::string& s, size_t n) {
  if (s.size() >= 3 && s[0] == '(' && s[2] == ')' && valid_letter(s[1], n)) return std::string(1, s[1]);
  if (s.size() >= 3 && valid_letter(s[0], n) && (s[1] == '.' || s[1] == ')' || s[1] == ':') && is_space(s[2]))
    return std::string(1, s[0]);
  return "";
}

// " words " padded, for whole-word searches.
std::string padded(const std::string& normalized) { return " " + normalized + " "; }

std::string option_by_text(const std::string& answer, const std::vector<std::string>& options) {
  const std::string a = normalize_answer(answer);
  if (a.empty()) return "";
  std::vector<size_t> exact, inside;
  for (size_t i = 0; i < options.size(); ++i) {
    const std::string o = normalize_answer(options[i]);
    if (o.empty()) continue;
    if (o == a) exact.push_back(i);
    else if (padded(a).find(padded(o)) != std::string::npos) inside.push_back(i);
  }
  if (exact.size() == 1) return std::string(1, static_cast<char>('A' + exact[0]));
  if (!exact.empty()) return "";
  // "It is dark red" with options "red" and "dark red": an option found only as part of a
  // longer option that was also found does not count.
  std::vector<size_t> kept;
  for (size_t i : inside) {
    const std::string o = padded(normalize_answer(options[i]));
    bool within_other = std::any_of(inside.begin(), inside.end(), [&](size_t j) {
      const std::string p = padded(normalize_answer(options[j]));
      return j != i && p.size() > o.size() && p.find(o) != std::string::npos;
    });
    if (!within_other) kept.push_back(i);
  }
  return kept.size() == 1 ? std::string(1, static_cast<char>('A' + kept[0])) : "";
}

const std::map<std::string, std::string>& number_words() {
  static const std::map<std::string, std::string> m = {
      {"none", "0"}, {"zero", "0"}, {"one", "1"},   {"two", "2"},   {"three", "3"}, {"four", "4"},  {"five", "5"},
      {"six", "6"},  {"seven", "7"}, {"eight", "8"}, {"nine", "9"}, {"ten", "10"},  {"eleven", "11"}, {"twelve", "12"}};
  return m;
}

// Numbers in the text as (value, position), with thousands separators allowed.
std::vector<std::pair<double, size_t>> numbers_in(const std::string& s) {
  std::vector<std::pair<double, size_t>> out;
  for (size_t i = 0; i < s.size();) {
    if (!is_digit(s[i]) || (i > 0 && (std::isalpha(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '_'))) {
      ++i;
      continue;
    }
    size_t start = i;
    std::string digits;
    // A comma followed by exactly three digits separates thousands: "1,000" but not "1, 2".
    auto thousands = [&](size_t k) {
      return s[k] == ',' && k + 3 < s.size() && is_digit(s[k + 1]) && is_digit(s[k + 2]) && is_digit(s[k + 3]) &&
             (k + 4 == s.size() || !is_digit(s[k + 4]));
    };
    while (i < s.size() && (is_digit(s[i]) || thousands(i))) {
      if (s[i] != ',') digits += s[i];
      ++i;
    }
    if (i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) {
      digits += '.';
      ++i;
      while (i < s.size() && is_digit(s[i])) digits += s[i++];
    }
    bool negative = start > 0 && s[start - 1] == '-' && (start == 1 || !is_alnum(s[start - 2]));
    out.emplace_back((negative ? -1 : 1) * std::stod(digits), start);
  }
  return out;
}

}  // namespace

std::string match_option(const std::string& answer, const std::vector<std::string>& options) {
  const size_t n = std::min<size_t>(options.size(), 26);
  if (n == 0) return "";
  const std::string s = strip_wrapping(answer);
  if (s.empty()) return "";
  if (auto l = lone_letter(s, n); !l.empty()) return l;
  if (auto l = keyword_letter(s, n); !l.empty()) return l;
  if (auto l = leading_letter(s, n); !l.empty()) return l;
  return option_by_text(s, options);
}

std::string normalize_answer(const std::string& answer) {
  std::string s = to_lower(strip_wrapping(answer));
  for (const char* prefix : {"the answer is", "final answer:", "answer:"})
    if (s.rfind(prefix, 0) == 0) s = trim(s.substr(std::string(prefix).size()));
  // Punctuation becomes a space, except a period or comma inside a number ("3.5", "1,000").
  std::string cleaned;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool in_number = (c == '.' || c == ',') && i > 0 && i + 1 < s.size() && is_digit(s[i - 1]) && is_digit(s[i + 1]);
    if (in_number) {
      if (c == '.') cleaned += c;  // "1,000" -> "1000"
    } else if (std::ispunct(static_cast<unsigned char>(c)) && c != '-' && c != '\'') {
      cleaned += ' ';
    } else {
      cleaned += c;
    }
  }
  std::istringstream words(cleaned);
  std::string word, out;
  while (words >> word) {
    if (word == "a" || word == "an" || word == "the") continue;
    if (auto it = number_words().find(word); it != number_words().end()) word = it->second;
    out += (out.empty() ? "" : " ") + word;
  }
  return out;
}

std::optional<double> answer_number(const std::string& answer) {
  const std::string s = strip_wrapping(answer);
  auto numbers = numbers_in(s);
  if (numbers.empty()) {
    // A number word alone: "three", "Three balls."
    std::istringstream words(normalize_answer(s));
    std::string w;
    std::optional<double> found;
    while (words >> w)
      if (!w.empty() && std::all_of(w.begin(), w.end(), is_digit)) {
        if (found) return std::nullopt;
        found = std::stod(w);
      }
    return found;
  }
  if (numbers.size() == 1) return numbers[0].first;
  // "The answer is 5 (2 + 3)": the first number after a stated answer; else the last one.
  const std::string lower = to_lower(s);
  size_t at = lower.rfind("answer");
  if (at != std::string::npos)
    for (const auto& [value, pos] : numbers)
      if (pos > at) return value;
  return numbers.back().first;
}

bool numbers_match(double got, double want) {
  return std::fabs(got - want) <= std::max(1e-9, 1e-3 * std::fabs(want));
}

bool numeric_reference(const std::string& reference) {
  const std::string r = normalize_answer(reference);
  return !r.empty() && numbers_in(r).size() == 1 &&
         std::all_of(r.begin(), r.end(), [](char c) { return is_digit(c) || c == '.' || c == '-' || c == ' '; });
}

double free_form_score(const std::string& answer, const std::vector<std::string>& references) {
  if (references.empty()) return 0;
  if (numeric_reference(references[0])) {
    auto got = answer_number(answer);
    return got && numbers_match(*got, numbers_in(normalize_answer(references[0]))[0].first) ? 1.0 : 0.0;
  }
  const std::string a = normalize_answer(answer);
  if (a.empty()) return 0;
  int matches = 0;
  for (const auto& r : references) matches += normalize_answer(r) == a;
  if (references.size() == 1) return matches > 0 ? 1.0 : 0.0;
  return std::min(1.0, matches / 3.0);
}

double mathvista_score(const std::string& answer, const std::string& reference, const std::string& answer_type,
                       int precision, const std::vector<std::string>& options) {
  if (answer_type == "integer" || answer_type == "float") {
    auto got = answer_number(answer);
    auto want = answer_number(reference);
    if (!got || !want) return 0;
    if (answer_type == "integer") return std::llround(*got) == std::llround(*want) && std::fabs(*got - std::llround(*got)) < 1e-9 ? 1 : 0;
    const double scale = std::pow(10.0, std::max(0, precision));
    return std::llround(*got * scale) == std::llround(*want * scale) ? 1 : 0;
  }
  if (answer_type == "list") {
    auto got = numbers_in(strip_wrapping(answer)), want = numbers_in(reference);
    if (got.size() != want.size() || want.empty()) return 0;
    for (size_t i = 0; i < got.size(); ++i)
      if (!numbers_match(got[i].first, want[i].first)) return 0;
    return 1;
  }
  if (!options.empty()) {
    std::string letter = match_option(answer, options);
    if (letter.empty()) return 0;
    const std::string& chosen = options[static_cast<size_t>(letter[0] - 'A')];
    return normalize_answer(chosen) == normalize_answer(reference) || letter == strip_wrapping(reference) ? 1 : 0;
  }
  return normalize_answer(answer) == normalize_answer(reference) ? 1 : 0;
}

}  // namespace taco
