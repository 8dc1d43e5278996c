#include "eval/answer_reading.h"

#include <cmath>
#include <cstring>
#include <map>
#include <sstream>
#include <utility>

#include "util/strings.h"

namespace taco::answer_reading {

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

namespace {

// A comma followed by exactly three digits separates thousands: "1,000" but not "1, 2".
bool thousands_comma(const std::string& s, size_t k) {
  return s[k] == ',' && k + 3 < s.size() && is_digit(s[k + 1]) && is_digit(s[k + 2]) && is_digit(s[k + 3]) &&
         (k + 4 == s.size() || !is_digit(s[k + 4]));
}

// A comma before one or two final digits is a decimal comma: "14,80" (but "1,2,3" is a list).
bool decimal_comma(const std::string& s, size_t k, size_t start) {
  if (k + 1 >= s.size() || s[k] != ',' || !is_digit(s[k + 1])) return false;
  size_t e = k + 1;
  while (e < s.size() && is_digit(s[e])) ++e;
  if (e - k - 1 > 2) return false;
  const bool list_before = start >= 2 && s[start - 1] == ',' && is_digit(s[start - 2]);
  return !list_before && !(e + 1 < s.size() && s[e] == ',' && is_digit(s[e + 1]));
}

// The digits of a number starting at `i` (thousands separators dropped, a decimal point or comma
// as '.'); moves `i` past them and says whether the number is whole.
std::string number_digits(const std::string& s, size_t& i, bool& whole) {
  const size_t start = i;
  std::string digits;
  while (i < s.size() && (is_digit(s[i]) || thousands_comma(s, i))) {
    if (s[i] != ',') digits += s[i];
    ++i;
  }
  whole = true;
  if (i < s.size() && (decimal_comma(s, i, start) || (i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])))) {
    digits += '.';
    ++i;
    while (i < s.size() && is_digit(s[i])) digits += s[i++];
    whole = false;
  }
  return digits;
}

// "/4" after a whole number: divides `value` and moves `i` past the denominator; false when
// there is none (or it is 0).
bool read_fraction(const std::string& s, size_t& i, double& value) {
  if (i + 1 >= s.size() || s[i] != '/' || !is_digit(s[i + 1])) return false;
  size_t e = i + 1;
  std::string denominator;
  while (e < s.size() && is_digit(s[e])) denominator += s[e++];
  const double d = std::stod(denominator);
  if (d == 0 || (e < s.size() && is_digit(s[e]))) return false;
  value /= d;
  i = e;
  return true;
}

// "e6", "E-3" after a number: an exponent not followed by a letter.
void read_exponent(const std::string& s, size_t& i, double& value) {
  if (i + 1 >= s.size() || (s[i] != 'e' && s[i] != 'E')) return;
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

// Scales after a number: "1.2 million", "1.2M", "5k".
void read_scale(const std::string& s, const std::string& lower, size_t& i, double& value) {
  static const std::vector<std::pair<std::string, double>> scale_words = {
      {" thousand", 1e3}, {" million", 1e6}, {" billion", 1e9}, {" trillion", 1e12}};
  for (const auto& [word, factor] : scale_words)
    if (lower.compare(i, word.size(), word) == 0 && (i + word.size() == s.size() || !std::isalpha(static_cast<unsigned char>(s[i + word.size()])))) {
      value *= factor;
      i += word.size();
      return;
    }
  if (i < s.size() && (s[i] == 'M' || s[i] == 'B' || s[i] == 'K' || s[i] == 'k') &&
      (i + 1 == s.size() || !std::isalpha(static_cast<unsigned char>(s[i + 1])))) {
    value *= s[i] == 'M' ? 1e6 : s[i] == 'B' ? 1e9 : 1e3;
    ++i;
  }
}

// True when the number starting at `start` is negative: "-3" (not "x-3"), "minus 3", "negative 3".
bool negative_at(const std::string& s, const std::string& lower, size_t start) {
  if (start > 0 && s[start - 1] == '-' && (start == 1 || !is_alnum(s[start - 2]))) return true;
  for (const char* word : {"minus ", "negative "}) {
    const size_t n = std::strlen(word);
    if (start >= n && lower.compare(start - n, n, word) == 0 && (start == n || !is_alnum(s[start - n - 1]))) return true;
  }
  return false;
}

}  // namespace

std::vector<FoundNumber> numbers_in(const std::string& s) {
  std::vector<FoundNumber> out;
  const std::string lower = to_lower(s);
  for (size_t i = 0; i < s.size();) {
    if (!is_digit(s[i]) || (i > 0 && (std::isalpha(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '_'))) {
      ++i;
      continue;
    }
    size_t start = i;
    bool whole = true;
    double value = std::stod(number_digits(s, i, whole));
    // "2 1/4" (a whole number, a space, a fraction) is one number.
    if (whole && read_fraction(s, i, value) && !out.empty() && out.back().end + 1 == start && s[start - 1] == ' ' && value < 1 &&
        out.back().value == std::floor(out.back().value) && out.back().value >= 0) {
      value += out.back().value;
      start = out.back().at;
      out.pop_back();
    }
    read_exponent(s, i, value);
    read_scale(s, lower, i, value);
    const bool negative = negative_at(s, lower, start);
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

}  // namespace taco::answer_reading
