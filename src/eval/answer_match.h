// Answer matching: how a model's final answer is compared with the ground truth, the way
// benchmark harnesses (VLMEvalKit, the VQA evaluation) do it. Used by `taco eval score` and by
// distillation's verification. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace taco {

// How answers are matched: taco's rules (this file's first half), VLMEvalKit's exact
// matching, so that numbers can stand beside leaderboard numbers, or exact: the answer is the
// option's letter or the reference itself, case, surrounding space and one final period aside
// (numbers by value): what RL rewards, since lenient forms invite reward hacking.
enum class Matching { kTaco, kVlmEvalKit, kExact };
const char* to_string(Matching matching);
Matching matching_from_string(const std::string& name);  // throws Error for another name

// Matching::kExact for one answer: `prediction` is `reference` (case, surrounding space and one
// final period aside; two numbers by value).
bool exact_answer_match(const std::string& prediction, const std::string& reference);

// The option letter ("A", "B", ...) an answer picks among `options` (A is options[0]), or ""
// when it picks none or is ambiguous. Tried in order: a lone letter in a common wrapping
// (`B`, `(B)`, `B.`, `**B**`); the letter the reply settles on (`\boxed{B}`,
// `<answer>B</answer>`, the last `answer is B` / `Answer: b`, else the first `option B` not
// negated: `The correct answer is B, not option A.` is B); a leading `B) cat`; the text of
// exactly one option (whole answer, then as a phrase inside the answer, plurals and spelling
// variants read, "not X" left out), a short answer naming part of one option only ("Van" for
// "delivery van"), the one option with the number the answer states ("25" for "25 mph").
std::string match_option(const std::string& answer, const std::vector<std::string>& options);

// What taco's rules make of an answer: right, wrong, or undecided, where reading it takes
// what rules cannot know (synonyms such as couch/sofa beyond the few they list, world knowledge
// such as ping pong = table tennis). An undecided item goes to the judge when there is one, and
// scores 0 without one (the report counts them).
enum class Verdict { kWrong, kRight, kUndecided };
const char* to_string(Verdict verdict);
struct RuleMatch {
  Verdict verdict = Verdict::kUndecided;
  double score = 0;  // 1 right, 0 wrong or undecided; VQA accuracy between for several references
  std::string how;   // the rule that decided: "choice", "hedge", "refusal", "number", "yes_no", "text", "other_in_class", ...
};

// A multiple-choice answer against the reference letter `want`: the option match_option reads;
// else wrong when the reply declines, names letters without settling on one ("B or C", "not
// B"), names several options, or states a number no option has; else undecided.
RuleMatch match_choice(const std::string& answer, const std::vector<std::string>& options, const std::string& want);

// A free-form answer: numbers by value (words, fractions, exponents, scales, "50%" for 0.5 read),
// yes/no plainly or casually said, text after carriers, articles, plurals and spelling
// variants, within a short answer that names nothing else of its kind ("dark gray" for gray, not
// "yellow and green" for yellow); wrong when another member of the reference's closed class
// (colors, materials, animals, ...) is named, or the reply declines or says "nothing";
// otherwise undecided. Several references: VQA accuracy, decided.
RuleMatch match_free_form(const std::string& answer, const std::vector<std::string>& references);

// Markdown emphasis, quotes and "Answer:" prefixes taken off, then the VQA evaluation's
// normalization in full: its punctuation rules, periods, lower case, number words up to ten as
// digits, articles dropped, its contraction map ("dont" -> "don't").
std::string normalize_answer(const std::string& answer);

// The number an answer states, with units, currency, thousands separators, decimal commas
// ("14,80") and % read: the whole answer when it is one number, else the first after
// "answer", else the last; numbers it rules out ("3 apples, not 4") are skipped. nullopt when
// there is none or the reply hedges ("3 or 4", "between 10 and 12", "10-12").
std::optional<double> answer_number(const std::string& answer);

// True when the numbers are equal (up to decimal-to-binary rounding). No tolerance: 2023 is
// not 2021; benchmarks that define one (MathVista's precision) apply it themselves.
bool numbers_match(double got, double want);

// True when a reference answer is a plain number ("3", "-1.5"): free-form answers to it are
// compared by value.
bool numeric_reference(const std::string& reference);

// Free-form score in [0, 1] against one or more reference answers: numbers by value when the
// first reference is a number ("35%" included); yes or no read from a sentence when the
// reference is yes or no; otherwise normalized exact match, as VQA accuracy
// (min(1, matches / 3)) when there are several references (A-OKVQA's ten direct answers).
double free_form_score(const std::string& answer, const std::vector<std::string>& references);

// MathVista's answer types: "integer", "float" (compared after rounding to `precision`
// decimals), "list" (numbers in order), "text" (normalized match, or the option it picks when
// `options` are given). Returns 0 or 1.
double mathvista_score(const std::string& answer, const std::string& reference, const std::string& answer_type,
                       int precision, const std::vector<std::string>& options);

// ChartQA's relaxed accuracy (Methani et al., as pix2struct and VLMEvalKit score it): a
// number within 5% of a numeric reference (a percentage read as a fraction, "45%" = 0.45), else
// the same text ignoring case. Taco's reading takes the number a reply settles on
// (answer_number) and the normalized text; `vlmevalkit` reads the whole reply as VLMEvalKit
// does (one number, or the text as it is). Returns 0 or 1; several references: any.
double relaxed_accuracy(const std::string& answer, const std::vector<std::string>& references, bool vlmevalkit);

// VLMEvalKit's exact matching (no judge), reproduced so that taco's numbers can stand beside
// leaderboard numbers (`taco eval score --matching vlmevalkit`; docs/eval.md):
//
// The option letter VLMEvalKit's can_infer reads: a refusal it knows is "Z"; otherwise the
// reply with . ( ) [ ] , : ; ! * # { } as spaces, split into words; exactly one option letter
// among the words is the answer when it is among the last four words; no letter but a "Z" is
// "Z"; else exactly one option whose text (lower case) is in the reply (lower case), when the
// reply is at most twice as long as the options together; else "Z".
std::string vlmevalkit_option(const std::string& prediction, const std::vector<std::string>& options);

// VLMEvalKit's yes/no extraction: "Yes" when the word yes and not no is in the reply (after
// the VQA punctuation rules), "No" the other way round, else "Unknown".
std::string vlmevalkit_yes_no(const std::string& prediction);

// The VQA evaluation's normalization exactly as VLMEvalKit applies it (no prefix or markdown
// handling): what `normalize_answer` does after taking those off.
std::string vqa_process_answer(const std::string& answer);

}  // namespace taco
