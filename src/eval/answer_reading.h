// How the answer rules read a reply's text: its wrapping taken off, its words, its numbers and
// the VQA evaluation's normalization. Shared by the files of eval/ that match answers
// (answer_match.cpp, benchmark_scores.cpp); not an interface for other folders.
#pragma once

#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace taco::answer_reading {

inline bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Drops markdown emphasis, quotes and a trailing period: "**B.**" -> "B".
std::string strip_wrapping(std::string s);

// The reply in lower case, each run of characters other than letters, digits and ' as one space:
// the words as written ("none" stays "none"; normalize_answer makes it "0").
std::string plain_words(const std::string& answer);

// True when the words just before `at` make the number there a bound: "at least 3".
bool bound_before(const std::string& lower, size_t at);

// What of a reply the rules read: its last 16 KB (a reply restates its answer at the end). A
// model's final answer is a few words; a trace file may hold megabytes there, and every rule
// is linear in it.
std::string_view readable_tail(const std::string& answer);

// A number in a text: its value and where its characters start and end.
struct FoundNumber {
  double value;
  size_t at, end;
};

// Numbers in the text, with thousands separators and decimal commas ("14,80"), fractions and
// mixed numbers ("1/2", "2 1/4"), exponents ("2.3e6"), scales ("1.2 million", "1.2M") and a
// sign in words ("minus 3") read.
std::vector<FoundNumber> numbers_in(const std::string& s);

// The VQA evaluation's punctuation step: each mark of its list is dropped where it touches a
// space (or anywhere, when the text has a comma between digits) and is a space elsewhere; a
// period with no digit on either side is dropped ("4." stays, as VLMEvalKit's verdicts show; at
// most 32 of them: the reference code passes re.UNICODE, 32, where re.sub takes a count).
std::string vqa_punctuation(const std::string& text);

// The VQA evaluation's normalization of an answer, step for step: line breaks as spaces, the
// punctuation step, then word by word: lower case, number words up to ten as digits, articles
// dropped, contractions mapped.
std::string vqa_normalize(std::string text);

}  // namespace taco::answer_reading
