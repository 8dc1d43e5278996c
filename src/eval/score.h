// Scoring and reports: each benchmark item's final answer scored against the ground truth
// (by the item's metadata "scoring": option choice, free-form, MathVista, judge), rolled up
// overall and per category with tool-use statistics, and two runs compared with a paired
// bootstrap confidence interval. Pure functions apart from the judge's calls.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cota/task.h"
#include "cota/trace.h"
#include "eval/answer_match.h"
#include "eval/judge.h"
#include "util/json.h"

namespace taco {

struct ItemScore {
  std::string id;
  std::string category;
  std::string l2_category;  // "" when the benchmark has none (MMStar has both levels)
  std::string prediction;  // the final answer ("" when the item has no trace or no answer)
  std::string reference;
  std::string method;      // how it was matched: the rule (RuleMatch::how: "choice", "text", "number", "yes_no", "hedge", ...), "judge", "undecided", "none", ...
  double score = 0;
  bool answered = false;   // a trace exists for the item
  bool undecided = false;  // taco's rules could not tell; the judge settled it (method "judge") or it scored 0 ("undecided")

  Json to_json() const;
  static ItemScore from_json(const Json& j);
};

// Scores one item. `trace` is null when the run has no trace for it (scored 0). `judge` may be
// null; a judged item without one throws Error, as does an item with no ground truth. With
// VLMEvalKit's matching, choices and free-form answers are matched as VLMEvalKit matches them
// without a judge (an option it cannot read is wrong); MathVista and judged items are scored
// as always.
ItemScore score_item(const Task& task, const Trace* trace, Judge* judge, Matching matching = Matching::kTaco);

// What the runs' traces show about tool use.
struct ToolUseStats {
  size_t episodes = 0;
  size_t steps = 0;             // model replies
  size_t parse_failures = 0;    // replies that did not parse
  size_t failed_actions = 0;    // actions that ran and failed (error observations)
  size_t with_tools = 0;        // episodes that called at least one tool
  size_t errors = 0;            // episodes that could not run
  size_t no_answer = 0;         // episodes that ended without an answer
  std::map<std::string, size_t> tool_calls;  // per tool

  void add(const Trace& trace);
  Json to_json() const;
};

struct ScoreGroup {
  size_t n = 0;
  double score = 0;  // mean, in [0, 1]
};

struct Report {
  std::string name;       // the run: the traces file's name
  std::string benchmark;
  Matching matching = Matching::kTaco;
  ScoreGroup overall;
  std::map<std::string, ScoreGroup> categories;
  std::map<std::string, ScoreGroup> l2_categories;
  // When categories are combinations ("ocr,math", as MMVet's are): each part on its own, every
  // item counted under each of its parts (MMVet's per-capability table).
  std::map<std::string, ScoreGroup> capabilities;
  size_t missing = 0;     // items with no trace (scored 0)
  size_t judge_unusable = 0;  // judged items whose judge gave no usable grade (scored 0)
  size_t undecided = 0;         // items taco's rules could not decide (match_choice, match_free_form)
  size_t undecided_judged = 0;  // of those, settled by the judge
  double undecided_right = 0;   // the judge's score over those it settled
  ToolUseStats tools;

  Json to_json() const;
  std::string to_markdown() const;
};

Report make_report(const std::string& name, const std::string& benchmark, const std::vector<ItemScore>& items,
                   const ToolUseStats& tools, Matching matching = Matching::kTaco);

// A .scores.jsonl that taco eval score wrote; throws Error naming the line that is not one.
std::vector<ItemScore> load_item_scores(const std::string& path);
// A run's name from its scores file: runs/cota.scores.jsonl -> cota.
std::string run_name_of(const std::string& scores_path);

// A mean and its 95% bootstrap interval (percentiles of the resampled means).
struct MeanInterval {
  double mean = 0, low = 0, high = 0;
};
MeanInterval bootstrap_mean(const std::vector<double>& values, int resamples = 2000, uint64_t seed = 1);

// Two runs side by side on the items both scored: each run's mean, the difference (b - a)
// and its 95% paired bootstrap interval, overall and per category.
struct ComparisonRow {
  std::string category;  // "overall" first
  size_t n = 0;
  double a = 0, b = 0, diff = 0, ci_low = 0, ci_high = 0;
};
std::vector<ComparisonRow> compare_runs(const std::vector<ItemScore>& a, const std::vector<ItemScore>& b,
                                        int resamples = 2000, uint64_t seed = 1);
std::string comparison_markdown(const std::string& name_a, const std::string& name_b, const std::vector<ComparisonRow>& rows);
Json comparison_json(const std::string& name_a, const std::string& name_b, const std::vector<ComparisonRow>& rows);

}  // namespace taco
