#include "eval/answer_match.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include "eval/answer_words.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace taco {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

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

// The option letter right after a keyword ("answer", "option", "choice"), with "is", ":" or a
// bracket between: "Answer: B", "The correct answer is (C).", "I choose option D". Returns
// each mention's positions and letter. A lower-case letter counts when bracketed or followed by
// punctuation or nothing ("The answer is b." but not "The answer is a dog").
struct LetterMention {
  size_t keyword_at, letter_at;
  char letter;
};

std::vector<LetterMention> keyword_letters(const std::string& s, size_t n, const std::string& keyword) {
  const std::string lower = to_lower(s);
  std::vector<LetterMention> found;
  for (size_t at = lower.find(keyword); at != std::string::npos; at = lower.find(keyword, at + 1)) {
    if (at > 0 && is_alnum(s[at - 1])) continue;
    size_t i = at + keyword.size();
    if (i < s.size() && s[i] == 's') ++i;  // "options"
    // Spaces, and the markdown and JSON around a keyed letter: "**Answer:** B", {"answer": "B"}.
    auto skip_spaces = [&] {
      while (i < s.size() && (is_space(s[i]) || s[i] == '*' || s[i] == '_' || s[i] == '"' || s[i] == '\'')) ++i;
    };
    skip_spaces();
    // "answer is B", "answer should be B", "answer would be B".
    for (const char* link : {"is", "should be", "would be", "must be", "has to be", "will be", "seems to be", "appears to be", "="})
      if (lower.compare(i, std::strlen(link), link) == 0 && (i + std::strlen(link) == s.size() || !is_alnum(s[i + std::strlen(link)]))) {
        i += std::strlen(link);
        break;
      }
    skip_spaces();
    if (i < s.size() && (s[i] == ':' || s[i] == '=')) ++i;
    skip_spaces();
    const bool bracketed = i < s.size() && (s[i] == '(' || s[i] == '[');
    if (bracketed) ++i;
    if (i >= s.size()) continue;
    const bool ends = i + 1 == s.size() || !is_alnum(s[i + 1]);
    if (!ends) continue;
    char c = s[i];
    if (std::islower(static_cast<unsigned char>(c))) {
      // "b." or "(b)" is a letter; "a dog" is an article.
      const bool alone = bracketed || i + 1 == s.size() || std::ispunct(static_cast<unsigned char>(s[i + 1]));
      if (!alone) continue;
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (valid_letter(c, n)) found.push_back({at, i, c});
  }
  return found;
}

// True when the words right after a mention rule it out: "option A is wrong", "choice A would
// only be right if ...".
bool ruled_out_after(const std::string& lower, size_t letter_at) {
  const std::string after = lower.substr(letter_at + 1, 24);
  for (const char* words : {" is wrong", " is incorrect", " is not", " isn't", " would", " could", " might", " is also wrong"})
    if (after.rfind(words, 0) == 0) return true;
  return false;
}

// True when the words just before `at` say the mention is not the choice: "not option A",
// "rather than A".
bool negated_before(const std::string& lower, size_t at) {
  const std::string before = lower.substr(at >= 12 ? at - 12 : 0, at >= 12 ? 12 : at);
  for (const char* word : {"not ", "than ", "instead of ", "neither ", "nor "})
    if (before.size() >= std::strlen(word) && before.compare(before.size() - std::strlen(word), std::strlen(word), word) == 0)
      return true;
  return false;
}

// The letter a reply settles on. An explicit final mark (\boxed{B}, <answer>B</answer>) first;
// then the last "answer ... B" (replies restate their final choice at the end: "A is a dog,
// B is a cat, so the answer is B"); then the last "option B" / "choice B" that the words
// around it do not rule out ("not option A", "option A is wrong", "choice A would ...").
std::string stated_letter(const std::string& s, size_t n) {
  for (const auto& [open, close] : std::vector<std::pair<std::string, std::string>>{{"\\boxed{", "}"}, {"<answer>", "</answer>"}}) {
    const size_t at = s.rfind(open);
    if (at == std::string::npos) continue;
    const size_t end = s.find(close, at + open.size());
    if (end == std::string::npos) continue;
    // Up to the brace that closes \boxed{ (its content may have braces: \boxed{\text{B}}).
    size_t close_at = end;
    if (open[0] == '\\') {
      int depth = 1;
      for (close_at = at + open.size(); close_at < s.size() && depth > 0; ++close_at) depth += s[close_at] == '{' ? 1 : s[close_at] == '}' ? -1 : 0;
      if (depth > 0) continue;
      --close_at;
    }
    std::string inside = strip_wrapping(s.substr(at + open.size(), close_at - at - open.size()));
    for (const char* command : {"\\text{", "\\mathrm{", "\\textbf{"})
      if (inside.rfind(command, 0) == 0 && inside.back() == '}') inside = inside.substr(std::strlen(command), inside.size() - std::strlen(command) - 1);
    if (auto l = lone_letter(inside, n); !l.empty()) return l;
  }
  if (auto answers = keyword_letters(s, n, "answer"); !answers.empty()) return std::string(1, answers.back().letter);
  const std::string lower = to_lower(s);
  const LetterMention* last = nullptr;
  std::vector<LetterMention> named;
  for (const char* keyword : {"option", "choice"})
    for (const auto& mention : keyword_letters(s, n, keyword))
      if (!negated_before(lower, mention.keyword_at) && !ruled_out_after(lower, mention.letter_at)) named.push_back(mention);
  for (const auto& mention : named)
    if (!last || mention.keyword_at > last->keyword_at) last = &mention;
  return last ? std::string(1, last->letter) : "";
}

// The option letters a reply names as words of their own ("A or B", "B? Or maybe D"; "not B"
// too `with_negated`): capitals only, so that the article "A" of "A dog" counts only when alone.
std::vector<char> named_letters(const std::string& s, size_t n, bool with_negated = false) {
  std::vector<char> out;
  const std::string lower = to_lower(s);
  for (size_t i = 0; i < s.size(); ++i) {
    if (!valid_letter(s[i], n)) continue;
    const bool alone = (i == 0 || !is_alnum(s[i - 1])) && (i + 1 == s.size() || !is_alnum(s[i + 1]));
    const bool article = s[i] == 'A' && i + 2 < s.size() && s[i + 1] == ' ' && std::islower(static_cast<unsigned char>(s[i + 2]));
    if (alone && !article && (with_negated || !negated_before(lower, i))) out.push_back(s[i]);
  }
  return out;
}

// "B. a cat", "(B) a cat", "B) a cat", "B: a cat", "B - a cat", "B is correct because ...".
std::string leading_letter(const std::string& s, size_t n) {
  if (s.size() >= 3 && s[0] == '(' && s[2] == ')' && valid_letter(s[1], n)) return std::string(1, s[1]);
  if (s.size() >= 3 && valid_letter(s[0], n) && (s[1] == '.' || s[1] == ')' || s[1] == ':') && is_space(s[2]))
    return std::string(1, s[0]);
  if (s.size() >= 4 && valid_letter(s[0], n) && s.compare(1, 3, " - ") == 0) return std::string(1, s[0]);
  // "B, because ...", "B!": a first word that is a letter, and no other letter named.
  if (s.size() >= 2 && valid_letter(s[0], n) && (s[1] == ',' || s[1] == '!') && named_letters(s, n).size() == 1) return std::string(1, s[0]);
  const std::string lower = to_lower(s);
  for (const char* claim : {" is correct", " is the correct", " is right", " is the right", " is the answer", " is the best"})
    if (valid_letter(s[0], n) && lower.compare(1, std::strlen(claim), claim) == 0) return std::string(1, s[0]);
  return "";
}

// The reply ends on a lone letter after a comma, a colon or a word that concludes: "..., so B.",
// "After careful inspection, B.", "I'd go with B." It names no other letter.
std::string closing_letter(const std::string& s, size_t n) {
  std::string t = s;
  while (!t.empty() && (t.back() == '.' || t.back() == '!' || t.back() == '*' || is_space(t.back()))) t.pop_back();
  if (t.size() < 3 || !valid_letter(t.back(), n) || is_alnum(t[t.size() - 2])) return "";
  const std::vector<char> named = named_letters(t, n);
  if (named.size() != 1) return "";
  std::string before = to_lower(trim(t.substr(0, t.size() - 1)));
  while (!before.empty() && (before.back() == '(' || before.back() == '*')) before.pop_back();
  if (!before.empty() && (before.back() == ',' || before.back() == ':')) return std::string(1, t.back());
  for (const char* word : {" so", " therefore", " thus", " hence", " with", " choose", " pick", " select", " is", " be", " it's",
                           "definitely", "clearly", "certainly", "obviously", "probably"})
    if (before.size() >= std::strlen(word) && before.compare(before.size() - std::strlen(word), std::strlen(word), word) == 0)
      return std::string(1, t.back());
  return "";
}

// " words " padded, for whole-word searches.
std::string padded(const std::string& normalized) { return " " + normalized + " "; }

// The reply in lower case, each run of characters other than letters, digits and ' as one space:
// the words as written ("none" stays "none"; normalize_answer makes it "0").
std::string plain_words(const std::string& answer) {
  std::string out;
  for (char c : to_lower(answer)) {
    const bool word = is_alnum(c) || c == '\'' || (c & 0x80);
    if (word) out += c;
    else if (!out.empty() && out.back() != ' ') out += ' ';
  }
  return trim(out);
}

// True when the words just before `at` make the number there a bound: "at least 3".
bool bound_before(const std::string& lower, size_t at) {
  for (const char* bound : {"at least ", "at most ", "more than ", "less than ", "fewer than ", "over ", "under ", "up to ", "nearly ",
                            "almost ", "below ", "above "})
    if (at >= std::strlen(bound) && lower.compare(at - std::strlen(bound), std::strlen(bound), bound) == 0) return true;
  return false;
}

// True when a number in the text is a bound ("at least 3 people").
bool has_bound(const std::string& plain) {
  for (size_t i = 0; i < plain.size(); ++i)
    if (is_digit(plain[i]) && (i == 0 || !is_alnum(plain[i - 1])) && bound_before(plain, i)) return true;
  return false;
}

// A text with the words a reply rules out taken away: "the horse, not the dog" -> "the horse".
std::string without_negated(const std::string& normalized) {
  std::istringstream in(normalized);
  std::string word, out;
  int skip = 0;
  while (in >> word) {
    if (word == "not" || word == "isn't" || word == "aren't" || word == "never") {
      skip = 3;  // "not the red one": up to three words after
      continue;
    }
    if (skip > 0) {
      --skip;
      continue;
    }
    out += (out.empty() ? "" : " ") + word;
  }
  return out;
}

std::string option_by_text(const std::string& answer, const std::vector<std::string>& options) {
  const std::string a = canonical_words(without_negated(normalize_answer(answer)));
  if (a.empty()) return "";
  std::vector<std::string> texts;
  for (const auto& o : options) texts.push_back(canonical_words(normalize_answer(o)));
  std::vector<size_t> exact, inside;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string& o = texts[i];
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
    const std::string o = padded(texts[i]);
    bool within_other = std::any_of(inside.begin(), inside.end(), [&](size_t j) {
      const std::string p = padded(texts[j]);
      return j != i && p.size() > o.size() && p.find(o) != std::string::npos;
    });
    if (!within_other) kept.push_back(i);
  }
  if (kept.size() == 1) return std::string(1, static_cast<char>('A' + kept[0]));
  if (!kept.empty()) return "";
  // A short answer naming part of one option only: "Van" for "delivery van", "windowsill" for
  // "on the windowsill", "oak" for "oak tree" (not "tree", which every option has).
  static const std::set<std::string> stop = {"on", "in", "at", "of", "to", "is", "it", "it's", "its", "with", "and", "by", "for", "from"};
  std::vector<std::string> answer_words;
  {
    std::istringstream in(a);
    for (std::string w; in >> w;)
      if (!stop.count(w)) answer_words.push_back(w);
  }
  if (answer_words.empty() || answer_words.size() > 4) return "";
  size_t best = 0, best_count = 0, ties = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    size_t count = 0;
    for (const auto& w : answer_words) count += padded(texts[i]).find(padded(w)) != std::string::npos;
    if (count > best_count) best = i, best_count = count, ties = 0;
    else if (count == best_count && count > 0) ++ties;
  }
  if (best_count > 0 && ties == 0) return std::string(1, static_cast<char>('A' + best));
  // A synonym the word classes know: "motorbike" for "motorcycle".
  std::string found;
  for (size_t i = 0; i < texts.size(); ++i)
    for (const auto& x : class_words(a))
      for (const auto& y : class_words(texts[i]))
        if (x.name == y.name && x.meaning == y.meaning) {
          if (!found.empty() && found[0] != static_cast<char>('A' + i)) return "";
          found = std::string(1, static_cast<char>('A' + i));
        }
  return found;
}

// "option two", "the second one", "the 2nd choice": an option by its place.
std::string ordinal_letter(const std::string& lower, size_t n) {
  static const std::vector<std::pair<std::string, size_t>> places = {
      {"first", 0}, {"second", 1}, {"third", 2}, {"fourth", 3}, {"fifth", 4}, {"1st", 0}, {"2nd", 1}, {"3rd", 2}, {"4th", 3}, {"5th", 4}};
  static const std::vector<std::pair<std::string, size_t>> numbers = {
      {"one", 0}, {"two", 1}, {"three", 2}, {"four", 3}, {"five", 4}, {"1", 0}, {"2", 1}, {"3", 2}, {"4", 3}, {"5", 4}};
  std::string found;
  auto take = [&](size_t k) {
    if (k >= n) return;
    const std::string l(1, static_cast<char>('A' + k));
    found = found.empty() || found == l ? l : "?";
  };
  const std::string p = " " + lower + " ";
  for (const auto& [word, k] : places)
    for (const char* after : {" one", " option", " choice", " answer"})
      if (p.find(" " + word + after) != std::string::npos) take(k);
  for (const auto& [word, k] : numbers)
    for (const char* before : {"option ", "choice ", "number "})
      if (p.find(" " + std::string(before) + word + " ") != std::string::npos) take(k);
  return found == "?" ? "" : found;
}

// A number in a text: its value and where its characters start and end.
struct FoundNumber {
  double value;
  size_t at, end;
};

// Numbers in the text, with thousands separators and decimal commas ("14,80"), fractions and
// mixed numbers ("1/2", "2 1/4"), exponents ("2.3e6"), scales ("1.2 million", "1.2M") and a
// sign in words ("minus 3") read.
std::vector<FoundNumber> numbers_in(const std::string& s) {
  std::vector<FoundNumber> out;
  const std::string lower = to_lower(s);
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
    // A comma before one or two final digits is a decimal comma: "14,80" (but "1,2,3" is a list).
    auto decimal_comma = [&](size_t k) {
      if (k + 1 >= s.size() || s[k] != ',' || !is_digit(s[k + 1])) return false;
      size_t e = k + 1;
      while (e < s.size() && is_digit(s[e])) ++e;
      if (e - k - 1 > 2) return false;
      const bool list_before = start >= 2 && s[start - 1] == ',' && is_digit(s[start - 2]);
      return !list_before && !(e + 1 < s.size() && s[e] == ',' && is_digit(s[e + 1]));
    };
    bool whole = true;
    if (i < s.size() && decimal_comma(i)) {
      digits += '.';
      ++i;
      while (i < s.size() && is_digit(s[i])) digits += s[i++];
      whole = false;
    } else if (i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) {
      digits += '.';
      ++i;
      while (i < s.size() && is_digit(s[i])) digits += s[i++];
      whole = false;
    }
    double value = std::stod(digits);
    // "1/2", and "2 1/4" (a whole number, a space, a fraction) as one number.
    if (whole && i + 1 < s.size() && s[i] == '/' && is_digit(s[i + 1])) {
      size_t e = i + 1;
      std::string denominator;
      while (e < s.size() && is_digit(s[e])) denominator += s[e++];
      const double d = std::stod(denominator);
      if (d != 0 && (e == s.size() || !is_digit(s[e]))) {
        value /= d;
        i = e;
        if (!out.empty() && out.back().end + 1 == start && s[start - 1] == ' ' && value < 1 && out.back().value == std::floor(out.back().value) &&
            out.back().value >= 0) {
          value += out.back().value;
          start = out.back().at;
          out.pop_back();
        }
      }
    }
    // "2.3e6", "1e-3": an exponent not followed by a letter.
    if (i + 1 < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      size_t e = i + 1;
      const bool minus = s[e] == '-';
      if (s[e] == '-' || s[e] == '+') ++e;
      std::string exponent;
      while (e < s.size() && is_digit(s[e]) && exponent.size() < 3) exponent += s[e++];
      if (!exponent.empty() && (e == s.size() || !std::isalpha(static_cast<unsigned char>(s[e])))) {
        value *= std::pow(10.0, (minus ? -1 : 1) * std::stod(exponent));
        i = e;
      }
    }
    // Scales: "1.2 million", "1.2M", "5k".
    static const std::vector<std::pair<std::string, double>> scale_words = {
        {" thousand", 1e3}, {" million", 1e6}, {" billion", 1e9}, {" trillion", 1e12}};
    bool scaled = false;
    for (const auto& [word, factor] : scale_words)
      if (lower.compare(i, word.size(), word) == 0 && (i + word.size() == s.size() || !std::isalpha(static_cast<unsigned char>(s[i + word.size()])))) {
        value *= factor;
        i += word.size();
        scaled = true;
        break;
      }
    if (!scaled && i < s.size() && (s[i] == 'M' || s[i] == 'B' || s[i] == 'K' || s[i] == 'k') &&
        (i + 1 == s.size() || !std::isalpha(static_cast<unsigned char>(s[i + 1])))) {
      value *= s[i] == 'M' ? 1e6 : s[i] == 'B' ? 1e9 : 1e3;
      ++i;
    }
    bool negative = start > 0 && s[start - 1] == '-' && (start == 1 || !is_alnum(s[start - 2]));
    for (const char* word : {"minus ", "negative "}) {
      const size_t n = std::strlen(word);
      if (start >= n && lower.compare(start - n, n, word) == 0 && (start == n || !is_alnum(s[start - n - 1]))) negative = true;
    }
    out.push_back({(negative ? -1 : 1) * value, negative && s[start - 1] == '-' ? start - 1 : start, i});
  }
  return out;
}

// The VQA evaluation's contraction map: spellings without their apostrophe (or with it in
// the wrong place) to the usual one, so "dont" and "don't" are one answer. Its entries that
// start with a capital never match (words are lower-cased first) and are left out;
// "somebody'd" -> "somebodyd" is the official map's own.
const std::map<std::string, std::string>& contractions() {
  static const std::map<std::string, std::string> m = {
      {"aint", "ain't"}, {"arent", "aren't"}, {"cant", "can't"}, {"couldve", "could've"}, {"couldnt", "couldn't"},
      {"couldn'tve", "couldn't've"}, {"couldnt've", "couldn't've"}, {"didnt", "didn't"}, {"doesnt", "doesn't"},
      {"dont", "don't"}, {"hadnt", "hadn't"}, {"hadnt've", "hadn't've"}, {"hadn'tve", "hadn't've"}, {"hasnt", "hasn't"},
      {"havent", "haven't"}, {"hed", "he'd"}, {"hed've", "he'd've"}, {"he'dve", "he'd've"}, {"hes", "he's"},
      {"howd", "how'd"}, {"howll", "how'll"}, {"hows", "how's"}, {"isnt", "isn't"}, {"itd", "it'd"},
      {"itd've", "it'd've"}, {"it'dve", "it'd've"}, {"itll", "it'll"}, {"maam", "ma'am"}, {"mightnt", "mightn't"},
      {"mightnt've", "mightn't've"}, {"mightn'tve", "mightn't've"}, {"mightve", "might've"}, {"mustnt", "mustn't"},
      {"mustve", "must've"}, {"neednt", "needn't"}, {"notve", "not've"}, {"oclock", "o'clock"}, {"oughtnt", "oughtn't"},
      {"ow's'at", "'ow's'at"}, {"'ows'at", "'ow's'at"}, {"'ow'sat", "'ow's'at"}, {"shant", "shan't"},
      {"shed've", "she'd've"}, {"she'dve", "she'd've"}, {"shouldve", "should've"}, {"shouldnt", "shouldn't"},
      {"shouldnt've", "shouldn't've"}, {"shouldn'tve", "shouldn't've"}, {"somebody'd", "somebodyd"},
      {"somebodyd've", "somebody'd've"}, {"somebody'dve", "somebody'd've"}, {"somebodyll", "somebody'll"},
      {"somebodys", "somebody's"}, {"someoned", "someone'd"}, {"someoned've", "someone'd've"},
      {"someone'dve", "someone'd've"}, {"someonell", "someone'll"}, {"someones", "someone's"},
      {"somethingd", "something'd"}, {"somethingd've", "something'd've"}, {"something'dve", "something'd've"},
      {"somethingll", "something'll"}, {"thats", "that's"}, {"thered", "there'd"}, {"thered've", "there'd've"},
      {"there'dve", "there'd've"}, {"therere", "there're"}, {"theres", "there's"}, {"theyd", "they'd"},
      {"theyd've", "they'd've"}, {"they'dve", "they'd've"}, {"theyll", "they'll"}, {"theyre", "they're"},
      {"theyve", "they've"}, {"twas", "'twas"}, {"wasnt", "wasn't"}, {"wed've", "we'd've"}, {"we'dve", "we'd've"},
      {"weve", "we've"}, {"werent", "weren't"}, {"whatll", "what'll"}, {"whatre", "what're"}, {"whats", "what's"},
      {"whatve", "what've"}, {"whens", "when's"}, {"whered", "where'd"}, {"wheres", "where's"}, {"whereve", "where've"},
      {"whod", "who'd"}, {"whod've", "who'd've"}, {"who'dve", "who'd've"}, {"wholl", "who'll"}, {"whos", "who's"},
      {"whove", "who've"}, {"whyll", "why'll"}, {"whyre", "why're"}, {"whys", "why's"}, {"wont", "won't"},
      {"wouldve", "would've"}, {"wouldnt", "wouldn't"}, {"wouldnt've", "wouldn't've"}, {"wouldn'tve", "wouldn't've"},
      {"yall", "y'all"}, {"yall'll", "y'all'll"}, {"y'allll", "y'all'll"}, {"yall'd've", "y'all'd've"},
      {"y'alld've", "y'all'd've"}, {"y'all'dve", "y'all'd've"}, {"youd", "you'd"}, {"youd've", "you'd've"},
      {"you'dve", "you'd've"}, {"youll", "you'll"}, {"youre", "you're"}, {"youve", "you've"}};
  return m;
}

// The VQA evaluation's punctuation step: each mark of its list is dropped where it touches a
// space (or anywhere, when the text has a comma between digits) and is a space elsewhere; a
// period with no digit on either side is dropped ("4." stays, as VLMEvalKit's verdicts show; at
// most 32 of them: the reference code passes re.UNICODE, 32, where re.sub takes a count).
std::string vqa_punctuation(const std::string& text) {
  bool digit_comma = false;
  for (size_t i = 1; i + 1 < text.size() && !digit_comma; ++i) digit_comma = text[i] == ',' && is_digit(text[i - 1]) && is_digit(text[i + 1]);
  std::string out = text;
  for (char p : std::string(";/[]\"{}()=+\\_-><@`,?!")) {
    const bool touches_space = text.find(std::string(1, p) + " ") != std::string::npos || text.find(" " + std::string(1, p)) != std::string::npos;
    std::string next;
    for (char c : out)
      if (c != p) next += c;
      else if (!(touches_space || digit_comma)) next += ' ';
    out = std::move(next);
  }
  std::string no_periods;
  int dropped = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const bool by_digit = (i > 0 && is_digit(out[i - 1])) || (i + 1 < out.size() && is_digit(out[i + 1]));
    const bool drop = out[i] == '.' && !by_digit && dropped < 32;
    if (drop) ++dropped;
    else no_periods += out[i];
  }
  return no_periods;
}

// The VQA evaluation's normalization of an answer, step for step: line breaks as spaces, the
// punctuation step, then word by word: lower case, number words up to ten as digits, articles
// dropped, contractions mapped.
std::string vqa_normalize(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\t') c = ' ';
  static const std::map<std::string, std::string> digits = {{"none", "0"}, {"zero", "0"}, {"one", "1"}, {"two", "2"},
                                                            {"three", "3"}, {"four", "4"}, {"five", "5"}, {"six", "6"},
                                                            {"seven", "7"}, {"eight", "8"}, {"nine", "9"}, {"ten", "10"}};
  std::istringstream words(to_lower(vqa_punctuation(trim(text))));
  std::string word, result;
  while (words >> word) {
    if (auto d = digits.find(word); d != digits.end()) word = d->second;
    if (word == "a" || word == "an" || word == "the") continue;
    if (auto c = contractions().find(word); c != contractions().end()) word = c->second;
    result += (result.empty() ? "" : " ") + word;
  }
  return result;
}

// "yes" or "no" when a reply gives one: its first word ("Yes, there is a dog."), else the only
// one of the two it says; "" when it gives neither or both.
std::string yes_no(const std::string& answer) {
  std::istringstream words(normalize_answer(answer));
  std::string word, first, only;
  int said = 0;
  while (words >> word) {
    if (first.empty()) first = word;
    if ((word == "yes" || word == "no") && word != only) only = word, ++said;
  }
  if (first == "yes" || first == "no") return first;
  return said == 1 ? only : "";
}

}  // namespace

namespace {

// The option whose one number is the answer's ("25" for "25 mph", "four" for "4"); "" unless
// exactly one option has it.
std::string option_by_number(const std::string& answer, const std::vector<std::string>& options) {
  const auto got = answer_number(answer);
  if (!got) return "";
  std::string found;
  for (size_t i = 0; i < options.size(); ++i) {
    const auto numbers = numbers_in(options[i]);
    if (numbers.size() == 1 && numbers_match(numbers[0].value, *got)) {
      if (!found.empty()) return "";
      found = std::string(1, static_cast<char>('A' + i));
    }
  }
  return found;
}

}  // namespace

namespace {

// What of a reply the rules read: its last 16 KB (a reply restates its answer at the end). A
// model's final answer is a few words; a trace file may hold megabytes there, and every rule
// is linear in it.
std::string_view readable_tail(const std::string& answer) {
  constexpr size_t kMax = 16 << 10;
  if (answer.size() <= kMax) return answer;
  size_t from = answer.size() - kMax;
  while (from < answer.size() && (static_cast<unsigned char>(answer[from]) & 0xC0) == 0x80) ++from;  // a whole UTF-8 character
  return std::string_view(answer).substr(from);
}

}  // namespace

std::string match_option(const std::string& full_answer, const std::vector<std::string>& options) {
  const std::string answer(readable_tail(full_answer));
  const size_t n = std::min<size_t>(options.size(), 26);
  if (n == 0) return "";
  const std::string s = strip_wrapping(answer);
  if (s.empty()) return "";
  if (auto l = lone_letter(s, n); !l.empty()) return l;
  if (auto l = stated_letter(s, n); !l.empty()) return l;
  if (auto l = leading_letter(s, n); !l.empty()) return l;
  if (auto l = closing_letter(s, n); !l.empty()) return l;
  if (auto l = option_by_text(s, options); !l.empty()) return l;
  if (auto l = ordinal_letter(plain_words(s), n); !l.empty() && named_letters(s, n).empty()) return l;
  return option_by_number(s, options);
}

std::string normalize_answer(const std::string& answer) {
  std::string s = to_lower(strip_wrapping(answer));
  for (const char* prefix : {"the answer is", "final answer:", "answer:"})
    if (s.rfind(prefix, 0) == 0) s = trim(s.substr(std::string(prefix).size()));
  return vqa_normalize(s);
}

std::optional<double> answer_number(const std::string& full_answer) {
  const std::string s = ascii_math(strip_wrapping(std::string(readable_tail(full_answer))));
  const std::string lower = to_lower(s);
  struct Stated {
    double value;
    size_t at, end;  // characters; for numbers in words, word indexes
  };
  std::vector<Stated> kept;
  std::vector<std::string> words;  // when the numbers are written out: the words they are read from
  for (const auto& number : numbers_in(s)) {
    if (bound_before(lower, number.at)) return std::nullopt;  // "at least 3": a bound, not a number it settles on
    if (!negated_before(lower, number.at)) kept.push_back({number.value, number.at, number.end});
  }
  const bool in_words = kept.empty();
  if (in_words) {
    // Written out: "twenty-one", "a dozen", "minus three", "one and a half".
    std::string w;
    for (char c : lower + " ") {
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '\'') w += c;
      else if (!w.empty()) words.push_back(w), w.clear();
    }
    for (size_t i = 0; i < words.size();) {
      size_t used = 0;
      auto value = number_from_words(words, i, used);
      if (!value || used == 0) {
        ++i;
        continue;
      }
      const bool negated = i > 0 && (words[i - 1] == "not" || words[i - 1] == "than");
      if (!negated) kept.push_back({*value, i, i + used});
      i += used;
    }
    if (kept.empty()) return std::nullopt;
  }
  // A hedge names no answer: "3 or 4", "between 10 and 12", "10-12", "5 to 6", "seven or eight".
  // Where "between" is first said (a word index for numbers in words), for "between 10 and 12".
  size_t first_between = std::string::npos;
  if (in_words) {
    for (size_t w = 0; w < words.size() && first_between == std::string::npos; ++w)
      if (words[w] == "between") first_between = w;
  } else {
    first_between = lower.find("between");
  }
  for (size_t k = 0; k + 1 < kept.size(); ++k) {
    std::string between;
    if (in_words) {
      for (size_t w = std::max(kept[k].end, kept[k + 1].at >= 8 ? kept[k + 1].at - 8 : 0); w < kept[k + 1].at; ++w)
        between += (between.empty() ? "" : " ") + words[w];
    } else {
      const size_t from = std::max(kept[k].end, kept[k + 1].at >= 64 ? kept[k + 1].at - 64 : 0);  // the words just before the next
      between = trim(lower.substr(from, kept[k + 1].at - from));
    }
    while (!between.empty() && !is_alnum(between.back()) && between.back() != '-' && between.back() != '~') between.pop_back();
    std::string word = between.substr(between.find_last_of(' ') == std::string::npos ? 0 : between.find_last_of(' ') + 1);
    const bool between_and = word == "and" && first_between != std::string::npos && first_between < kept[k].at;
    if (word == "or" || word == "to" || word == "maybe" || word == "perhaps" || between == "-" || between == "~" || between_and)
      return std::nullopt;
  }
  if (kept.size() == 1) return kept[0].value;
  if (in_words) return std::nullopt;  // several numbers in words: none is plainly the answer
  // "The answer is 5 (2 + 3)": the first number after a stated answer; else the last one.
  size_t at = lower.rfind("answer");
  if (at != std::string::npos)
    for (const auto& n : kept)
      if (n.at > at) return n.value;
  return kept.back().value;
}

bool numbers_match(double got, double want) {
  // Equal, up to the rounding of decimal text to binary: 2023 is not 2021, 250 is not 249.98.
  return std::fabs(got - want) <= 1e-9 * std::max(1.0, std::fabs(want));
}

bool numeric_reference(const std::string& reference) {
  std::string r = trim(reference);
  if (!r.empty() && r.back() == '%') r = trim(r.substr(0, r.size() - 1));  // "35%": the answer "35" is right
  return !r.empty() && numbers_in(r).size() == 1 &&
         std::all_of(r.begin(), r.end(), [](char c) { return is_digit(c) || c == '.' || c == '-' || c == ','; });
}

const char* to_string(Verdict verdict) {
  return verdict == Verdict::kRight ? "right" : verdict == Verdict::kWrong ? "wrong" : "undecided";
}

namespace {

RuleMatch decided(bool right, const char* how) { return RuleMatch{right ? Verdict::kRight : Verdict::kWrong, right ? 1.0 : 0.0, how}; }

bool has_word(const std::string& normalized, std::initializer_list<const char*> words) {
  const std::string p = padded(normalized);
  for (const char* w : words)
    if (p.find(padded(w)) != std::string::npos) return true;
  return false;
}

size_t word_count(const std::string& text) {
  std::istringstream in(text);
  size_t n = 0;
  for (std::string w; in >> w;) ++n;
  return n;
}

// The options a reply's text mentions: each option found inside the answer, or sharing all of a
// short answer's words ("tree" with "oak tree" and "pine tree").
size_t options_mentioned(const std::string& answer, const std::vector<std::string>& options) {
  const std::string a = canonical_words(without_negated(normalize_answer(answer)));
  size_t n = 0;
  for (const auto& option : options) {
    const std::string o = canonical_words(normalize_answer(option));
    if (o.empty()) continue;
    if (padded(a).find(padded(o)) != std::string::npos || (word_count(a) <= 3 && padded(o).find(padded(a)) != std::string::npos)) ++n;
  }
  return n;
}

}  // namespace

RuleMatch match_choice(const std::string& full_answer, const std::vector<std::string>& options, const std::string& want) {
  const std::string answer(readable_tail(full_answer));
  const std::string plain = plain_words(answer);
  const bool numbered = !options.empty() && std::all_of(options.begin(), options.end(), [](const std::string& o) { return numbers_in(o).size() == 1; });
  if (numbered && has_bound(plain)) return decided(false, "bound");  // "at least 3" among 2, 3, 4
  const std::string got = match_option(answer, options);
  if (!got.empty()) return decided(got == want, "choice");
  const std::string normalized = normalize_answer(answer);
  if (normalized.empty()) return decided(false, trim(answer).empty() ? "empty" : "no_content");
  if (is_refusal(plain)) return decided(false, "refusal");
  const size_t n = std::min<size_t>(options.size(), 26);
  if (!named_letters(strip_wrapping(answer), n, true).empty()) return decided(false, "hedge");
  if (options_mentioned(answer, options) >= 2) return decided(false, "several_options");
  if (numbered && answer_number(answer)) return decided(false, "number_of_no_option");
  // A thing of the options' kind that is none of them ("a car" among van, bus, motorcycle).
  const std::vector<WordClass> said = class_words(canonical_words(without_negated(normalized)));
  for (const auto& option : options)
    for (const auto& y : class_words(canonical_words(normalize_answer(option))))
      for (const auto& x : said)
        if (x.name == y.name && word_count(normalized) <= 5) return decided(false, "other_thing");
  return RuleMatch{};
}

RuleMatch match_free_form(const std::string& full_answer, const std::vector<std::string>& references) {
  const std::string answer(readable_tail(full_answer));
  if (references.empty()) return decided(false, "no_reference");
  const std::string normalized = normalize_answer(answer);
  // Nothing, or nothing but an article or marks ("A" to a question that has no options).
  if (normalized.empty()) return decided(false, trim(answer).empty() ? "empty" : "no_content");
  if (numeric_reference(references[0])) {
    const auto got = answer_number(answer);
    if (!got) return decided(false, is_refusal(plain_words(answer)) ? "refusal" : "no_number");
    const double want = numbers_in(references[0])[0].value;
    // "50%" for 0.5: a percentage against a reference that is no percentage and at most 1.
    const bool percent = ascii_math(answer).find('%') != std::string::npos && references[0].find('%') == std::string::npos &&
                         std::fabs(want) <= 1;
    return decided(numbers_match(percent ? *got / 100 : *got, want), "number");
  }
  const std::string r0 = normalize_answer(references[0]);
  // Yes/no questions answered in a sentence ("Yes, there is a dog.") or casually ("Nope") are
  // read as yes or no, as the MME, POPE and HallusionBench scorers read them.
  if (r0 == "yes" || r0 == "no") {
    std::string said = casual_yes_no(plain_words(answer));
    if (said.empty()) said = yes_no(answer);
    if (!said.empty()) return decided(said == r0, "yes_no");
    if (is_refusal(plain_words(answer))) return decided(false, "refusal");
    return RuleMatch{Verdict::kUndecided, 0, "yes_no_unread"};  // "The light is off."
  }
  const std::string a = canonical_words(without_carrier(normalized));
  if (references.size() > 1) {
    // VQA accuracy (A-OKVQA's ten direct answers): min(1, matches / 3).
    int matches = 0;
    for (const auto& r : references) matches += normalize_answer(r) == normalized || canonical_words(without_carrier(normalize_answer(r))) == a;
    return RuleMatch{matches > 0 ? Verdict::kRight : Verdict::kWrong, std::min(1.0, matches / 3.0), "vqa"};
  }
  const std::string r = canonical_words(without_carrier(r0));
  if (a == r || normalized == r0) return decided(true, "text");
  if (is_refusal(plain_words(answer))) return decided(false, "refusal");
  const bool negation = has_word(normalized, {"not", "no", "isn't", "aren't", "never", "neither", "nor"}) ||
                        normalized.find("n't ") != std::string::npos;
  const std::vector<WordClass> in_answer = class_words(a), in_reference = class_words(r);
  bool conflict = false, same_meaning = false;
  for (const auto& x : in_answer)
    for (const auto& y : in_reference) {
      if (x.name != y.name) continue;
      if (x.meaning == y.meaning) same_meaning = true;
      else conflict = true;
    }
  const bool contains = padded(a).find(padded(r)) != std::string::npos;
  if (contains && !negation && !conflict && word_count(a) <= word_count(r) + 4) return decided(true, "text_within");
  if (conflict) return decided(false, "other_in_class");
  if (contains && negation) return decided(false, "negated");
  // A synonym the classes list ("couch" for sofa), said plainly.
  if (same_meaning && !negation && word_count(a) <= 4) return decided(true, "synonym");
  // "nothing", "none", "no animal" when something is the answer.
  if (a.rfind("nothing", 0) == 0 || a.rfind("none", 0) == 0 || a == "0" || a.rfind("no ", 0) == 0) return decided(false, "nothing");
  // Both name things the classes know, and none the same: another thing ("bicycle" for horse).
  if (!in_answer.empty() && !in_reference.empty() && !same_meaning && !negation && word_count(a) <= 4) return decided(false, "other_thing");
  return RuleMatch{Verdict::kUndecided, 0, "text_unread"};
}

double free_form_score(const std::string& answer, const std::vector<std::string>& references) {
  return match_free_form(answer, references).score;
}

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
      if (!numbers_match(got[i].value, want[i].value)) return 0;
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

namespace taco {

const char* to_string(Matching matching) { return matching == Matching::kVlmEvalKit ? "vlmevalkit" : "taco"; }

Matching matching_from_string(const std::string& name) {
  if (name == "taco") return Matching::kTaco;
  if (name == "vlmevalkit") return Matching::kVlmEvalKit;
  throw Error("unknown matching '" + name + "' (taco or vlmevalkit)");
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
