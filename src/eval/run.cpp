#include "eval/run.h"

#include <algorithm>

#include <filesystem>
#include <map>

#include "eval/benchmark.h"
#include "eval/judge.h"
#include "runtime/run_tasks.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"
#include "util/progress.h"
#include "util/work_pool.h"

namespace taco {
namespace {

// Item scores for all tasks, in task order; with a judge, `jobs` items are scored at once.
std::vector<ItemScore> score_all(const std::vector<Task>& tasks, const std::map<std::string, Trace>& traces, Judge* judge, int jobs,
                                 Matching matching, bool progress_lines) {
  std::vector<ItemScore> scores(tasks.size());
  Progress progress("score", tasks.size(), progress_lines && judge != nullptr);  // judge calls take a while
  auto score = [&](size_t i) {
    auto it = traces.find(tasks[i].id);
    scores[i] = score_item(tasks[i], it == traces.end() ? nullptr : &it->second, judge, matching);
    progress.tick();
  };
  try {
    parallel_for(tasks.size(), judge ? static_cast<size_t>(std::max(1, jobs)) : 1, score);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(e.what());
  }
  return scores;
}

// A question's first line, cut at 80 characters, for a message.
std::string question_head(const std::string& q) {
  std::string head = q.substr(0, q.find('\n'));
  return head.size() > 80 ? head.substr(0, 77) + "..." : head;
}

}  // namespace

BatchSummary eval_run(const EvalRunSettings& f, const JobEvents& events) {
  BenchmarkOptions options;
  options.images_dir = !f.inputs_dir.empty() ? f.inputs_dir : output_base(f.batch.out_path) + ".inputs";
  const std::string data = resolve_benchmark(f.data, f.data_dir);
  std::vector<Task> tasks = load_benchmark(data, options);
  if (tasks.empty()) throw Error(data + ": no questions");
  if (f.limit && tasks.size() > f.limit) tasks.resize(f.limit);
  auto setup = make_runtime(f.episode, f.batch.out_path, false, events);
  events.announce(format_text("%s: %zu questions, %s mode, model %s\n", benchmark_name(data).c_str(), tasks.size(),
                              to_string(setup->runtime->options().mode), setup->model->name().c_str()));
  return run_task_batch(std::move(tasks), *setup->runtime, "eval run", data, f.batch, f.shard, events);
}

EvalScoreResult eval_score(const EvalScoreSettings& f, const JobEvents& events) {
  const std::string data = resolve_benchmark(f.data, f.data_dir);
  const std::vector<Task> tasks = load_benchmark(data);
  std::map<std::string, Trace> traces;
  ToolUseStats tools;
  size_t unknown = 0;
  std::map<std::string, const Task*> in_data;
  for (const auto& t : tasks) in_data[t.id] = &t;
  std::map<std::string, std::string> file_of;  // task id -> the file its trace came from
  for (const std::string& file : f.traces)
    for_each_jsonl(file, [&](size_t line, Json&& j) {
      Trace t;
      try {
        t = Trace::from_json(j);
      } catch (const Error& e) {
        throw Error(file + " line " + std::to_string(line) + ": " + e.what());
      }
      auto row = in_data.find(t.task.id);
      if (row == in_data.end()) {
        ++unknown;
        return;
      }
      // The same id with another question: traces of another version of the benchmark, whose
      // answers would be scored against the wrong references.
      if (t.task.question != row->second->question)
        throw Error(file + " line " + std::to_string(line) + ": the trace of " + t.task.id + " asks \"" +
                    question_head(t.task.question) + "\", but " + data + " asks \"" + question_head(row->second->question) +
                    "\" under that id; these traces were made from another benchmark");
      if (auto [it, fresh] = file_of.emplace(t.task.id, file); !fresh)
        throw Error(file + " line " + std::to_string(line) + ": " + t.task.id + " is answered again (also in " + it->second +
                    "): give the files of one run, each question once");
      tools.add(t);
      traces[t.task.id] = std::move(t);
    });
  if (unknown) events.tell(format_text("warning: %zu traces are for questions not in %s; ignored\n", unknown, data.c_str()));

  std::unique_ptr<Model> judge_model;
  std::unique_ptr<Judge> judge;
  if (!f.judge.model.empty()) {
    judge_model = make_model(f.judge);
    judge = std::make_unique<Judge>(*judge_model, !f.judge_cache.empty() ? f.judge_cache : default_judge_cache(judge_model->name()),
                                    f.judge_prompt.empty() ? "" : read_file(f.judge_prompt));
  }
  const Matching matching = matching_from_string(f.matching);
  std::vector<Task> asked = tasks;
  if (f.answered_only) asked.erase(std::remove_if(asked.begin(), asked.end(), [&](const Task& t) { return !traces.count(t.id); }), asked.end());
  const size_t not_asked = tasks.size() - asked.size();
  std::vector<ItemScore> scores = score_all(asked, traces, judge.get(), f.jobs, matching, true);

  // Shards' files (OUT.shard-k-of-N.jsonl) report as the whole run, OUT.
  std::string base = output_base(f.traces[0]);
  if (f.traces.size() > 1)
    if (const size_t tag = base.rfind(".shard-"); tag != std::string::npos && base.find("-of-", tag) != std::string::npos)
      base.erase(tag);
  EvalScoreResult result;
  result.scores_path = !f.scores.empty() ? f.scores : base + ".scores.jsonl";
  std::string lines;
  for (const auto& s : scores) lines += s.to_json().dump() + "\n";
  write_file(result.scores_path, lines);
  const std::string name = !f.name.empty() ? f.name : std::filesystem::path(base).filename().string();
  result.report = make_report(name, benchmark_name(data), scores, tools, matching);
  if (judge) result.report.judge_unusable = judge->unusable();
  result.report_path = !f.report.empty() ? f.report : base + ".report.md";
  // A limited run's report says what it leaves out, beside its score.
  const std::string left_out = not_asked ? format_text("\nScored over the %zu items the run answered; %zu items of the benchmark "
                                                       "were not asked (a limited run).\n", asked.size(), not_asked)
                                         : "";
  Json report_json = result.report.to_json();
  if (f.answered_only) report_json["not_asked"] = not_asked;
  write_file(result.report_path, result.report.to_markdown() + left_out);
  write_file(replace_extension(result.report_path, ".json"), report_json.dump(2) + "\n");
  events.show(result.report.to_markdown() + left_out);
  events.tell("\nscores: " + result.scores_path + "; report: " + result.report_path + " (and .json)" +
              (judge ? "; judge: " + std::to_string(judge->calls()) + " calls, " + std::to_string(judge->cache_hits()) +
                           " from the cache, " + std::to_string(judge->unusable()) + " without a usable grade"
                     : std::string()) +
              "\n");
  return result;
}

std::string eval_compare(const EvalCompareSettings& f, const JobEvents& events) {
  const std::string a = f.name_a.empty() ? run_name_of(f.a) : f.name_a;
  const std::string b = f.name_b.empty() ? run_name_of(f.b) : f.name_b;
  auto rows = compare_runs(load_item_scores(f.a), load_item_scores(f.b), f.resamples, f.seed);
  if (rows.empty()) throw Error("the two runs share no scored items");
  std::string md = comparison_markdown(a, b, rows);
  md += "\nDifference = " + b + " - " + a + ", in points; 95% paired bootstrap interval over items (" +
        std::to_string(f.resamples) + " resamples).\n";
  events.show(md);
  if (!f.out.empty()) {
    write_file(f.out, md);
    write_file(replace_extension(f.out, ".json"), comparison_json(a, b, rows).dump(2) + "\n");
  }
  return md;
}

std::string task_accuracy_text(const std::string& data, const std::string& traces_path) {
  std::map<std::string, Task> with_answer;
  for (Task& t : load_tasks(data))
    if (t.answer) with_answer.emplace(t.id, std::move(t));
  if (with_answer.empty() || !std::filesystem::exists(traces_path)) return "";
  size_t scored = 0, judged = 0;
  double right = 0;
  for_each_jsonl(traces_path, [&](size_t, Json&& j) {
    const Trace trace = Trace::from_json(j);
    auto it = with_answer.find(trace.task.id);
    if (it == with_answer.end()) return;
    if (it->second.metadata.value("scoring", "") == kScoreJudge) {
      ++judged;
      return;
    }
    ++scored;
    right += score_item(it->second, &trace, nullptr).score;
  });
  if (!scored && !judged) return "";
  std::string text = scored ? format_text("accuracy: %.1f%% (%g of %zu answers in %s right, taco's matching)\n", 100.0 * right / scored, right,
                                          scored, traces_path.c_str())
                            : std::string();
  if (judged) text += format_text("%zu answers are graded by a judge model and not counted here (taco eval score gives it one)\n", judged);
  return text;
}

std::string model_folder_name(const std::string& spec) {
  std::string name = spec;
  if (spec.rfind("embedded:", 0) == 0) name = std::filesystem::path(spec.substr(9)).lexically_normal().filename().string();
  if (name.empty()) name = std::filesystem::path(spec.substr(9)).lexically_normal().parent_path().filename().string();
  if (spec.rfind("replay:", 0) == 0) name = "replay-" + std::filesystem::path(spec.substr(7)).stem().string();
  for (char& c : name)
    if (c == '/' || c == ':' || c == ' ') c = '_';
  return name;
}

bool eval_all(const EvalAllSettings& f, const JobEvents& events) {
  const std::string name = !f.name.empty() ? f.name
                           : model_folder_name(f.run.episode.model.model) +
                                 (!f.run.episode.prompt.empty() && f.run.episode.prompt != "cota" ? "-" + f.run.episode.prompt : "");
  // Every name is checked before the first model call.
  std::vector<std::string> paths;
  for (const auto& d : f.data) paths.push_back(resolve_benchmark(d, f.run.data_dir));
  struct Done {
    std::string benchmark;
    Report report;
    std::string report_path;
    bool complete;
  };
  std::vector<Done> done;
  for (const auto& path : paths) {
    const std::string bench = benchmark_name(path);
    const std::string folder = (std::filesystem::path(f.work_dir) / name / bench).string();
    const std::string traces = folder + "/" + name + "_" + bench + ".jsonl";
    std::error_code ec;
    if (!f.reuse && std::filesystem::file_size(traces, ec) > 0 && !ec)
      throw Error(traces + " is there from an earlier run: EvalAllSettings.reuse resumes it and scores it again (a finished run "
                  "costs no model call), or give another EvalAllSettings.work_dir or EvalAllSettings.name");
    std::filesystem::create_directories(folder);
    EvalRunSettings run = f.run;
    run.data = path;
    run.batch.out_path = traces;
    // Failed questions are listed; what there is is scored, said so, and the job is incomplete.
    const bool complete = eval_run(run, events).failed == 0;
    EvalScoreSettings score = f.score;
    score.data = path;
    score.traces = {traces};
    score.name = name;
    score.answered_only = f.run.limit > 0;  // --limit asked the first N: the rest are not asked, not wrong
    done.push_back({bench, eval_score(score, events).report, output_base(traces) + ".report.md", complete});
  }
  std::string table = format_text("\n%-24s %8s %8s  %s\n", "benchmark", "items", "score", "report");
  bool all_complete = true;
  for (const auto& d : done) {
    table += format_text("%-24s %8zu %7.1f%%  %s%s\n", d.benchmark.c_str(), d.report.overall.n, 100 * d.report.overall.score,
                         d.report_path.c_str(), d.complete ? "" : "  (some questions failed: scored 0; rerun with EvalAllSettings.reuse)");
    all_complete = all_complete && d.complete;
  }
  events.show(table);
  return all_complete;
}

std::string benchmark_list_text(const std::string& data_dir) {
  const std::string folder = benchmark_folder(data_dir);
  const auto found = list_benchmarks(data_dir);
  if (found.empty())
    return "no benchmarks in " + folder + " (VLMEvalKit's NAME.tsv files, or taco task .jsonl; set $LMUData or EvalRunSettings.data_dir)\n";
  std::string text = format_text("%-28s %10s  %s\n", "NAME", "SIZE", "FILE");
  for (const auto& b : found)
    text += format_text("%-28s %10s  %s\n", b.name.c_str(), format_text("%.1f MB", static_cast<double>(b.bytes) / 1e6).c_str(),
                        b.path.c_str());
  return text + format_text("\n%zu benchmarks in %s; use one as EvalRunSettings.data NAME\n", found.size(), folder.c_str());
}

}  // namespace taco
