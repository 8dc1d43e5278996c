// Verification of a teacher's answers against the ground truth, and the per-source
// statistics of a distillation run. The answer matching is evaluation's (option letter or
// text, normalized match, numbers with tolerance, MathVista types), with an optional judge
// model for free-form answers that do not match exactly. Thread-safe when the judge is.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cota/trace.h"
#include "eval/judge.h"
#include "eval/score.h"

namespace taco {

// Splits, as the paper makes them.
inline constexpr const char* kCorrectWithTools = "correct_with_tools";
inline constexpr const char* kCorrectWithoutTools = "correct_without_tools";
inline constexpr const char* kIncorrect = "incorrect";

// {"correct", "score", "method", "split"} for a finished trace of `task` (which has an answer).
// A judge grade counts as correct at `judge_threshold` or above.
Json verify_trace(const Task& task, const Trace& trace, Judge* judge, double judge_threshold = 0.5);

// The paper's rule for sources where actions do not help: the CoT-correct rate exceeds the
// CoTA-correct rate by more than 10 points, or the CoTA-incorrect rate exceeds the
// CoTA-correct rate by more than 10 points. Rates in [0, 1]; a negative cot_correct means no
// CoT run.
bool action_useless(double cota_correct, double cota_incorrect, double cot_correct);
// Fewer verified CoTA answers than this from one source are too few to judge it by that rule:
// on 3 questions one wrong answer moves a rate by 33 points (a source was dropped on one).
inline constexpr size_t kActionUselessMinQuestions = 20;

struct SourceStats {
  size_t n = 0;
  size_t correct_with_tools = 0, correct_without_tools = 0, incorrect = 0, unverified = 0;
  size_t cot_n = 0, cot_correct = 0;  // the CoT run, when there was one
  ToolUseStats tools;

  double accuracy() const { return n ? static_cast<double>(correct_with_tools + correct_without_tools) / static_cast<double>(n) : 0; }
  double incorrect_rate() const { return n ? static_cast<double>(incorrect) / static_cast<double>(n) : 0; }
  double cot_accuracy() const { return cot_n ? static_cast<double>(cot_correct) / static_cast<double>(cot_n) : -1; }
  // The rule, for a source with at least `min_questions` verified CoTA answers (false below).
  bool action_useless(size_t min_questions = kActionUselessMinQuestions) const {
    return n >= min_questions && taco::action_useless(accuracy(), incorrect_rate(), cot_accuracy());
  }
};

// The source of a trace: task.metadata.source, else "(none)".
std::string trace_source(const Trace& trace);

// Adds a verified CoTA trace (or, with cot = true, a verified CoT trace) to its source's stats.
void add_to_stats(std::map<std::string, SourceStats>& stats, const Trace& trace, bool cot);

std::string source_stats_markdown(const std::map<std::string, SourceStats>& stats);
Json source_stats_json(const std::map<std::string, SourceStats>& stats);

}  // namespace taco
