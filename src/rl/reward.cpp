#include "rl/reward.h"

#include <cmath>
#include <cstdlib>

#include "cota/trace_facts.h"
#include "eval/benchmark.h"
#include "eval/score.h"
#include "util/error.h"
#include "util/strings.h"

namespace taco {

Json RewardSettings::to_json() const {
  return Json{{"matching", "exact"},       {"correct", correct},       {"parse_penalty", parse_penalty},
              {"unfinished", unfinished}, {"tool_cost", tool_cost}, {"tool_bonus", tool_bonus}};
}

void RewardSettings::set(const std::string& assignment, const std::string& setting) {
  const size_t eq = assignment.find('=');
  const std::string name = trim(assignment.substr(0, eq));
  double* field = name == "correct"         ? &correct
                  : name == "parse_penalty" ? &parse_penalty
                  : name == "unfinished"    ? &unfinished
                  : name == "tool_cost"     ? &tool_cost
                  : name == "tool_bonus"    ? &tool_bonus
                                            : nullptr;
  if (eq == std::string::npos || !field)
    throw Error(setting + " takes NAME=VALUE with NAME one of correct, parse_penalty, unfinished, tool_cost, tool_bonus, not '" +
                assignment + "'");
  const std::string value = trim(assignment.substr(eq + 1));
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(v))
    throw Error(setting + " " + name + ": '" + value + "' is not a number");
  *field = v;
}

Json RewardParts::to_json() const {
  return Json{{"correct", correct}, {"parse", parse}, {"unfinished", unfinished}, {"tool_cost", tool_cost}, {"tool_bonus", tool_bonus}};
}

void check_rewardable(const Task& t) {
  if (!t.answer) throw Error("it has no answer to reward");
  const std::string scoring = t.metadata.value("scoring", "");
  if (!scoring.empty() && scoring != kScoreChoice && scoring != kScoreFreeForm)
    throw Error("it is scored '" + scoring + "'; RL rewards exact answers only (choice or free-form)");
  try {
    Trace probe;
    probe.answer = *t.answer;
    probe.status = TraceStatus::kTerminated;
    score_item(t, &probe, nullptr, Matching::kExact);
  } catch (const std::exception& e) {
    throw Error("it cannot be scored: " + first_line_of(e.what()));
  }
}

RewardParts reward_of(const Task& task, const Trace& trace, const RewardSettings& settings) {
  RewardParts r;
  if (trace.status == TraceStatus::kError) {
    r.error = true;
    return r;
  }
  size_t failures = 0;
  for (const auto& step : trace.steps)
    failures += step.parse_error != ParseErrorKind::kNone || is_failed_action(step.error_kind);
  if (failures > 0) r.parse = -settings.parse_penalty * static_cast<double>(failures);  // not -0 when there are none
  const size_t tool_calls = trace.tools_called().size();
  if (tool_calls > 1) r.tool_cost = -settings.tool_cost * static_cast<double>(tool_calls - 1);
  if (trace.status == TraceStatus::kMaxReplies || trace.status == TraceStatus::kContextFull) {
    r.unfinished = settings.unfinished;
    return r;
  }
  r.right = score_item(task, &trace, nullptr, Matching::kExact).score > 0;
  if (r.right) {
    r.correct = settings.correct;
    if (tool_calls > 0) r.tool_bonus = settings.tool_bonus;
  }
  return r;
}

}  // namespace taco
