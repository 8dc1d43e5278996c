#include "eval/score.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>

#include "cota/trace_facts.h"
#include "eval/answer_match.h"
#include "eval/benchmark.h"
#include "util/error.h"
#include "util/jsonl.h"
#include "util/strings.h"

namespace taco {
namespace {

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", 100 * v);
  return buf;
}

std::string signed_percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f", 100 * v);
  return buf;
}

// The reference as an option letter: the answer itself when it is one, else the option whose
// text it is; "" when neither.
std::string reference_letter(const std::string& answer, const std::vector<std::string>& choices) {
  if (answer.size() == 1 && answer[0] >= 'A' && answer[0] < static_cast<char>('A' + choices.size())) return answer;
  for (size_t i = 0; i < choices.size(); ++i)
    if (normalize_answer(choices[i]) == normalize_answer(answer)) return std::string(1, static_cast<char>('A' + i));
  return "";
}

}  // namespace

Json ItemScore::to_json() const {
  Json j{{"id", id}, {"category", category}};
  if (!l2_category.empty()) j["l2_category"] = l2_category;
  j.update(Json{{"prediction", prediction}, {"reference", reference}, {"method", method}, {"score", score}, {"answered", answered}});
  if (undecided) j["undecided"] = true;
  return j;
}

ItemScore ItemScore::from_json(const Json& j) {
  ItemScore s;
  try {
    s.id = j.at("id").get<std::string>();
    s.category = j.value("category", "");
    s.l2_category = j.value("l2_category", "");
    s.prediction = j.value("prediction", "");
    s.reference = j.value("reference", "");
    s.method = j.value("method", "");
    s.score = j.at("score").get<double>();
    s.answered = j.value("answered", true);
    s.undecided = j.value("undecided", false);
  } catch (const Json::exception& e) {
    throw Error(std::string("not an item score record: ") + e.what());
  }
  return s;
}

namespace {

// The rules' verdict on `s`, or when they cannot decide, the judge's (given `reference` as the
// judge should read it); without a judge an undecided item scores 0 and is marked.
ItemScore settled(ItemScore s, const RuleMatch& rules, Judge* judge, const std::string& question, const std::string& reference) {
  if (rules.verdict != Verdict::kUndecided) {
    s.method = rules.how;
    s.score = rules.score;
    return s;
  }
  s.undecided = true;
  s.method = "undecided";
  if (!judge) return s;
  s.method = "judge";
  s.score = judge->grade(question, reference, s.prediction) >= 0.5 ? 1 : 0;
  return s;
}

}  // namespace

ItemScore score_item(const Task& task, const Trace* trace, Judge* judge, Matching matching) {
  ItemScore s;
  s.id = task.id;
  const Json& m = task.metadata;
  s.category = m.contains("category") && m["category"].is_string() ? m["category"].get<std::string>() : "(none)";
  if (m.contains("l2_category") && m["l2_category"].is_string()) s.l2_category = m["l2_category"];
  if (!task.answer) throw Error("item " + task.id + " has no ground-truth answer to score against");
  s.reference = *task.answer;
  if (!trace) {
    s.method = "none";
    return s;
  }
  s.answered = true;
  s.prediction = trace->answer;
  const std::string scoring = m.value("scoring", task.choices.empty() ? kScoreFreeForm : kScoreChoice);
  if (trace->status == TraceStatus::kError || s.prediction.empty()) {
    s.method = trace->status == TraceStatus::kError ? "error" : "empty";
    return s;
  }
  if (scoring == kScoreChoice) {
    const std::string want = reference_letter(s.reference, task.choices);
    if (want.empty()) throw Error("item " + task.id + ": the answer '" + s.reference + "' is neither an option letter nor an option");
    if (matching == Matching::kExact) {
      s.method = "exact_choice";
      s.score = exact_answer_match(s.prediction, want) ? 1 : 0;
      return s;
    }
    if (matching == Matching::kVlmEvalKit) {
      s.method = "vlmevalkit_choice";
      s.score = vlmevalkit_option(s.prediction, task.choices) == want ? 1 : 0;
      return s;
    }
    // No option the rules can read: the judge decides whether the answer means the right one.
    const std::string& text = task.choices[static_cast<size_t>(want[0] - 'A')];
    return settled(s, match_choice(s.prediction, task.choices, want), judge, task.question, want + ". " + text);
  }
  if (scoring == kScoreMathVista) {
    s.method = "mathvista";
    s.score = mathvista_score(s.prediction, s.reference, m.value("answer_type", "text"), m.value("precision", 0),
                              task.choices);
    return s;
  }
  if (scoring == kScoreRelaxed) {
    std::vector<std::string> refs{s.reference};
    s.method = matching == Matching::kVlmEvalKit ? "vlmevalkit_relaxed" : "relaxed";
    s.score = relaxed_accuracy(s.prediction, refs, matching == Matching::kVlmEvalKit);
    return s;
  }
  if (scoring == kScoreJudge) {
    if (!judge) throw Error("item " + task.id + " is scored by a judge model: give EvalScoreSettings.judge");
    s.method = "judge";
    s.score = judge->grade(m.value("raw_question", task.question), s.reference, s.prediction);
    return s;
  }
  std::vector<std::string> refs{s.reference};
  if (m.contains("answers") && m["answers"].is_array() && !m["answers"].empty()) {
    refs.clear();
    for (const auto& r : m["answers"]) refs.push_back(r.is_string() ? r.get<std::string>() : r.dump());
  }
  if (matching == Matching::kExact) {
    s.method = "exact";
    for (const auto& r : refs) s.score = std::max(s.score, exact_answer_match(s.prediction, r) ? 1.0 : 0.0);
    return s;
  }
  if (matching == Matching::kVlmEvalKit) {
    const std::string first = to_lower(refs[0]);
    if (refs.size() == 1 && (first == "yes" || first == "no")) {
      s.method = "vlmevalkit_yes_no";
      s.score = to_lower(vlmevalkit_yes_no(s.prediction)) == first ? 1 : 0;
      return s;
    }
    s.method = "vlmevalkit_vqa";
    const std::string got = vqa_process_answer(s.prediction);
    int matches = 0;
    for (const auto& r : refs) matches += vqa_process_answer(r) == got;
    s.score = refs.size() == 1 ? matches : std::min(1.0, matches / 3.0);
    return s;
  }
  // A synonym or world knowledge the rules cannot read: the judge's.
  return settled(s, match_free_form(s.prediction, refs), judge, task.question, s.reference);
}

void ToolUseStats::add(const Trace& t) {
  ++episodes;
  if (t.status == TraceStatus::kError) {
    ++errors;
    return;
  }
  steps += t.steps.size();
  for (const auto& step : t.steps) {
    if (step.parse_error != ParseErrorKind::kNone) ++parse_failures;
    if (is_failed_action(step.error_kind)) ++failed_actions;
  }
  auto tools = t.tools_called();
  if (!tools.empty()) ++with_tools;
  for (const auto& name : tools) ++tool_calls[name];
  if (t.answer.empty()) ++no_answer;
}

Json ToolUseStats::to_json() const {
  Json calls = Json::object();
  for (const auto& [name, n] : tool_calls) calls[name] = n;
  return Json{{"episodes", episodes},       {"steps", steps},           {"parse_failures", parse_failures},
              {"failed_actions", failed_actions}, {"episodes_with_tools", with_tools}, {"errors", errors},
              {"no_answer", no_answer},     {"tool_calls", calls}};
}

Report make_report(const std::string& name, const std::string& benchmark, const std::vector<ItemScore>& items,
                   const ToolUseStats& tools, Matching matching) {
  Report r;
  r.name = name;
  r.matching = matching;
  r.benchmark = benchmark;
  r.tools = tools;
  for (const auto& it : items) {
    ++r.overall.n;
    r.overall.score += it.score;
    auto& c = r.categories[it.category];
    ++c.n;
    c.score += it.score;
    if (!it.l2_category.empty()) {
      auto& l2 = r.l2_categories[it.l2_category];
      ++l2.n;
      l2.score += it.score;
    }
    if (!it.answered) ++r.missing;
    if (it.undecided) {
      ++r.undecided;
      if (it.method == "judge") ++r.undecided_judged, r.undecided_right += it.score;
    }
  }
  const bool combined = std::any_of(items.begin(), items.end(), [](const ItemScore& it) { return it.category.find(',') != std::string::npos; });
  if (combined)
    for (const auto& it : items) {
      std::istringstream parts(it.category);
      for (std::string part; std::getline(parts, part, ',');) {
        part = trim(part);
        if (part.empty()) continue;
        auto& g = r.capabilities[part];
        ++g.n;
        g.score += it.score;
      }
    }
  auto finish = [](ScoreGroup& g) { g.score = g.n ? g.score / static_cast<double>(g.n) : 0; };
  finish(r.overall);
  for (auto& [c, g] : r.categories) finish(g);
  for (auto& [c, g] : r.l2_categories) finish(g);
  for (auto& [c, g] : r.capabilities) finish(g);
  return r;
}

Json Report::to_json() const {
  auto groups = [](const std::map<std::string, ScoreGroup>& m) {
    Json j = Json::object();
    for (const auto& [c, g] : m) j[c] = Json{{"n", g.n}, {"score", g.score}};
    return j;
  };
  Json j{{"name", name}, {"benchmark", benchmark}, {"matching", to_string(matching)},
         {"overall", Json{{"n", overall.n}, {"score", overall.score}}},
         {"categories", groups(categories)}};
  if (!l2_categories.empty()) j["l2_categories"] = groups(l2_categories);
  if (!capabilities.empty()) j["capabilities"] = groups(capabilities);
  j.update(Json{{"missing", missing},
                {"judge_unusable", judge_unusable},
                {"undecided", {{"items", undecided}, {"judged", undecided_judged}, {"judged_right", undecided_right}}},
                {"tool_use", tools.to_json()}});
  return j;
}

std::string Report::to_markdown() const {
  std::string md = "## " + name + " on " + benchmark + "\n\n| category | n | score (%) |\n|---|---:|---:|\n";
  md += "| **overall** | " + std::to_string(overall.n) + " | **" + percent(overall.score) + "** |\n";
  for (const auto& [c, g] : categories) md += "| " + c + " | " + std::to_string(g.n) + " | " + percent(g.score) + " |\n";
  if (!l2_categories.empty()) {
    md += "\n| l2-category | n | score (%) |\n|---|---:|---:|\n";
    for (const auto& [c, g] : l2_categories) md += "| " + c + " | " + std::to_string(g.n) + " | " + percent(g.score) + " |\n";
  }
  if (!capabilities.empty()) {
    md += "\n| capability | n | score (%) |\n|---|---:|---:|\n";
    for (const auto& [c, g] : capabilities) md += "| " + c + " | " + std::to_string(g.n) + " | " + percent(g.score) + " |\n";
  }
  if (missing) md += "\n" + std::to_string(missing) + " items have no trace and count as wrong.\n";
  if (judge_unusable)
    md += "\n" + std::to_string(judge_unusable) + " judged items got no usable grade from the judge in five tries and count as wrong.\n";
  md += matching == Matching::kVlmEvalKit ? "\nMatching: vlmevalkit (VLMEvalKit's exact matching, no judge for choices).\n"
                                          : "\nMatching: taco.\n";
  if (undecided) {
    char line[320];
    if (undecided_judged)
      std::snprintf(line, sizeof line, "Undecided by the rules: %zu items; the judge settled %zu (%g right, %g wrong)%s.\n", undecided,
                    undecided_judged, undecided_right, static_cast<double>(undecided_judged) - undecided_right,
                    undecided_judged < undecided ? "; the rest score 0" : "");
    else
      std::snprintf(line, sizeof line, "Undecided by the rules: %zu items, scored 0 (a synonym or a fact the rules cannot read; "
                    "a judge model settles them).\n", undecided);
    md += line;
  }
  const ToolUseStats& t = tools;
  const double runs = static_cast<double>(std::max<size_t>(1, t.episodes - t.errors));
  char line[512];
  std::snprintf(line, sizeof line,
                "\nTool use: %zu episodes (%zu could not run), %.2f replies per episode, %zu parse failures, %zu failed "
                "actions, %.1f%% of episodes called a tool, %zu ended without an answer.\n",
                t.episodes, t.errors, static_cast<double>(t.steps) / runs, t.parse_failures, t.failed_actions,
                100.0 * static_cast<double>(t.with_tools) / runs, t.no_answer);
  md += line;
  if (!t.tool_calls.empty()) {
    md += "Tools called:";
    std::string sep = " ";
    for (const auto& [name, n] : t.tool_calls) md += sep + name + " " + std::to_string(n), sep = ", ";
    md += ".\n";
  }
  return md;
}

std::vector<ItemScore> load_item_scores(const std::string& path) {
  std::vector<ItemScore> out;
  for_each_jsonl(path, [&](size_t line, Json&& j) {
    try {
      out.push_back(ItemScore::from_json(j));
    } catch (const Error& e) {
      throw Error(path + " line " + std::to_string(line) + ": " + e.what() + " (give the .scores.jsonl that taco eval score wrote)");
    }
  });
  return out;
}

std::string run_name_of(const std::string& scores_path) {
  std::string stem = std::filesystem::path(scores_path).filename().string();
  for (const std::string suffix : {".scores.jsonl", ".jsonl"})
    if (stem.size() > suffix.size() && stem.compare(stem.size() - suffix.size(), std::string::npos, suffix) == 0)
      return stem.substr(0, stem.size() - suffix.size());
  return stem;
}

MeanInterval bootstrap_mean(const std::vector<double>& values, int resamples, uint64_t seed) {
  MeanInterval m;
  if (values.empty()) return m;
  for (double v : values) m.mean += v;
  m.mean /= static_cast<double>(values.size());
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
  std::vector<double> means(static_cast<size_t>(std::max(resamples, 1)));
  for (auto& mean : means) {
    double sum = 0;
    for (size_t i = 0; i < values.size(); ++i) sum += values[pick(rng)];
    mean = sum / static_cast<double>(values.size());
  }
  std::sort(means.begin(), means.end());
  m.low = means[static_cast<size_t>(0.025 * static_cast<double>(means.size() - 1))];
  m.high = means[static_cast<size_t>(std::ceil(0.975 * static_cast<double>(means.size() - 1)))];
  return m;
}

std::vector<ComparisonRow> compare_runs(const std::vector<ItemScore>& a, const std::vector<ItemScore>& b, int resamples,
                                        uint64_t seed) {
  std::map<std::string, const ItemScore*> in_b;
  for (const auto& s : b) in_b[s.id] = &s;
  // Paired scores per category ("overall" holds all).
  std::map<std::string, std::vector<std::pair<double, double>>> pairs;
  for (const auto& s : a)
    if (auto it = in_b.find(s.id); it != in_b.end()) {
      pairs["overall"].emplace_back(s.score, it->second->score);
      pairs[s.category].emplace_back(s.score, it->second->score);
    }
  std::vector<ComparisonRow> rows;
  auto row_for = [&](const std::string& category, const std::vector<std::pair<double, double>>& p) {
    ComparisonRow r;
    r.category = category;
    r.n = p.size();
    std::vector<double> diffs;
    for (const auto& [x, y] : p) r.a += x, r.b += y, diffs.push_back(y - x);
    r.a /= static_cast<double>(r.n);
    r.b /= static_cast<double>(r.n);
    const MeanInterval d = bootstrap_mean(diffs, resamples, seed);
    r.diff = r.b - r.a;
    r.ci_low = d.low;
    r.ci_high = d.high;
    return r;
  };
  if (pairs.count("overall")) rows.push_back(row_for("overall", pairs["overall"]));
  for (const auto& [category, p] : pairs)
    if (category != "overall") rows.push_back(row_for(category, p));
  return rows;
}

std::string comparison_markdown(const std::string& name_a, const std::string& name_b, const std::vector<ComparisonRow>& rows) {
  std::string md = "| category | n | " + name_a + " (%) | " + name_b + " (%) | difference | 95% CI |\n|---|---:|---:|---:|---:|---|\n";
  for (const auto& r : rows)
    md += "| " + (r.category == "overall" ? "**overall**" : r.category) + " | " + std::to_string(r.n) + " | " + percent(r.a) +
          " | " + percent(r.b) + " | " + signed_percent(r.diff) + " | [" + signed_percent(r.ci_low) + ", " +
          signed_percent(r.ci_high) + "] |\n";
  return md;
}

Json comparison_json(const std::string& name_a, const std::string& name_b, const std::vector<ComparisonRow>& rows) {
  Json out = Json::array();
  for (const auto& r : rows)
    out.push_back(Json{{"category", r.category}, {"n", r.n},         {name_a, r.a},          {name_b, r.b},
                       {"difference", r.diff},   {"ci_low", r.ci_low}, {"ci_high", r.ci_high}});
  return Json{{"a", name_a}, {"b", name_b}, {"rows", out}};
}

}  // namespace taco
