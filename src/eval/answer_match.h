// Answer matching: how a model's final answer is compared with the ground truth, the way
// benchmark harnesses (VLMEvalKit, the VQA evaluation) do it. Used by `taco eval score` and by
// distillation's verification. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace taco {

// The option letter ("A", "B", ...) an answer picks among `options` (A is options[0]), or ""
// when it picks none or is ambiguous. Tried in order: a lone letter in a common wrapping
// (`B`, `(B)`, `B.`, `B) cat`, `Answer: B`, `The answer is (B).`); the text of exactly one
// option (whole answer, then as a phrase inside the answer).
std::string match_option(const std::string& answer, const std::vector<std::string>& options);

// The VQA normalization: lower case, punctuation dropped (except inside numbers), articles
// dropped, number words as digits, "Answer:" prefixes and a trailing period removed.
std::string normalize_answer(const std::string& answer);

// The number an answer states, with units, currency, thousands separators and % stripped:
// the whole answer when it is one number, else the last number in it. nullopt when none.
std::optional<double> answer_number(const std::string& answer);

// True when the numbers agree to a relative tolerance of 1e-3 (absolute 1e-9 near zero).
bool numbers_match(double got, double want);

// True when a reference answer is a plain number ("3", "-1.5"): free-form answers to it are
// compared by value.
bool numeric_reference(const std::string& reference);

// Free-form score in [0, 1] against one or more reference answers: numbers by value when the
// first reference is a number; otherwise normalized exact match, as VQA accuracy
// (min(1, matches / 3)) when there are several references (A-OKVQA's ten direct answers).
double free_form_score(const std::string& answer, const std::vector<std::string>& references);

// MathVista's answer types: "integer", "float" (compared after rounding to `precision`
// decimals), "list" (numbers in order), "text" (normalized match, or the option it picks when
// `options` are given). Returns 0 or 1.
double mathvista_score(const std::string& answer, const std::string& reference, const std::string& answer_type,
                       int precision, const std::vector<std::string>& options);

}  // namespace taco
