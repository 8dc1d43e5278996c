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

#include "eval/answer_reading.h"
#include "eval/answer_words.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace taco {

using answer_reading::bound_before;
using answer_reading::FoundNumber;
using answer_reading::is_alnum;
using answer_reading::is_digit;
using answer_reading::is_space;
using answer_reading::numbers_in;
using answer_reading::plain_words;
using answer_reading::readable_tail;
using answer_reading::strip_wrapping;
using answer_reading::vqa_normalize;

namespace {


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
