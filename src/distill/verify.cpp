#include "distill/verify.h"

#include <cstdio>

#include "eval/benchmark.h"

namespace taco {

Json verify_trace(const Task& task, const Trace& trace, Judge* judge, double judge_threshold) {
  const std::string scoring = task.metadata.value("scoring", task.choices.empty() ? kScoreFreeForm : kScoreChoice);
  ItemScore s;
  bool correct = false;
  if (scoring == kScoreJudge) {
    s = score_item(task, &trace, judge);  // throws without a judge
    correct = s.score >= judge_threshold;
  } else {
    s = score_item(task, &trace, nullptr);
    correct = s.score >= 1 - 1e-9;
    const bool judge_helps = scoring == kScoreFreeForm || s.undecided;  // a choice the rules could not read
    if (!correct && judge && judge_helps && !s.prediction.empty() && trace.status != TraceStatus::kError) {
      if (scoring == kScoreChoice) {
        s = score_item(task, &trace, judge);  // the judge decides which option the answer means
      } else {
        s.score = judge->grade(task.metadata.value("raw_question", task.question), s.reference, s.prediction);
        s.method = "judge";
      }
      correct = s.score >= judge_threshold;
    }
  }
  const bool tools = !trace.tools_called().empty();
  return Json{{"correct", correct},
              {"score", s.score},
              {"method", s.method},
              {"split", !correct ? kIncorrect : tools ? kCorrectWithTools : kCorrectWithoutTools}};
}

bool action_useless(double cota_correct, double cota_incorrect, double cot_correct) {
  return (cot_correct >= 0 && cot_correct - cota_correct > 0.10) || cota_incorrect - cota_correct > 0.10;
}

std::string trace_source(const Trace& t) {
  const Json& m = t.task.metadata;
  return m.contains("source") && m["source"].is_string() ? m["source"].get<std::string>() : "(none)";
}

void add_to_stats(std::map<std::string, SourceStats>& stats, const Trace& t, bool cot) {
  SourceStats& s = stats[trace_source(t)];
  const Json& v = t.verification;
  const bool verified = v.is_object() && v.contains("split");
  if (cot) {
    ++s.cot_n;
    if (verified && v.value("correct", false)) ++s.cot_correct;
    return;
  }
  ++s.n;
  s.tools.add(t);
  if (!verified) ++s.unverified;
  else if (v["split"] == kCorrectWithTools) ++s.correct_with_tools;
  else if (v["split"] == kCorrectWithoutTools) ++s.correct_without_tools;
  else ++s.incorrect;
}

namespace {
std::string pct(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", 100 * v);
  return b;
}
double ratio(size_t a, size_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0; }
}  // namespace

std::string source_stats_markdown(const std::map<std::string, SourceStats>& stats) {
  std::string md =
      "| source | n | accuracy (%) | correct with tools | correct without tools | incorrect | CoT accuracy (%) | parse rate (%) | "
      "tool rate (%) | replies per episode | action-useless |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const auto& [name, s] : stats) {
    char steps[32];
    std::snprintf(steps, sizeof steps, "%.2f", ratio(s.tools.steps, s.n));
    md += "| " + name + " | " + std::to_string(s.n) + " | " + pct(s.accuracy()) + " | " + std::to_string(s.correct_with_tools) +
          " | " + std::to_string(s.correct_without_tools) + " | " + std::to_string(s.incorrect) + " | " +
          (s.cot_n ? pct(s.cot_accuracy()) : std::string("-")) + " | " +
          pct(1 - ratio(s.tools.parse_failures, s.tools.steps)) + " | " + pct(ratio(s.tools.with_tools, s.n)) + " | " + steps +
          " | " + (s.n < kActionUselessMinQuestions ? "too few to judge" : s.action_useless() ? "yes" : "no") + " |\n";
  }
  std::map<std::string, size_t> calls;
  for (const auto& [name, s] : stats)
    for (const auto& [tool, n] : s.tools.tool_calls) calls[tool] += n;
  if (!calls.empty()) {
    md += "\nTools called:";
    std::string sep = " ";
    for (const auto& [tool, n] : calls) md += sep + tool + " " + std::to_string(n), sep = ", ";
    md += ".\n";
  }
  return md;
}

Json source_stats_json(const std::map<std::string, SourceStats>& stats) {
  Json out = Json::object();
  for (const auto& [name, s] : stats)
    out[name] = Json{{"n", s.n},
                     {"accuracy", s.accuracy()},
                     {kCorrectWithTools, s.correct_with_tools},
                     {kCorrectWithoutTools, s.correct_without_tools},
                     {kIncorrect, s.incorrect},
                     {"unverified", s.unverified},
                     {"cot_n", s.cot_n},
                     {"cot_accuracy", s.cot_n ? Json(s.cot_accuracy()) : Json(nullptr)},
                     {"parse_rate", 1 - ratio(s.tools.parse_failures, s.tools.steps)},
                     {"tool_rate", ratio(s.tools.with_tools, s.n)},
                     {"action_useless", s.action_useless()},
                     {"too_few_to_judge", s.n < kActionUselessMinQuestions},
                     {"tool_use", s.tools.to_json()}};
  return out;
}

}  // namespace taco
