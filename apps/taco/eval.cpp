// taco eval: run a benchmark through the runtime, score the traces, compare runs.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "episodes.h"
#include "eval/benchmark.h"
#include "eval/judge.h"
#include "eval/score.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"
#include "util/progress.h"

namespace taco::cli {
namespace {

struct EvalRunFlags {
  EpisodeFlags episode;
  BatchFlags batch;
  std::string data;
  std::string data_dir;
  std::string inputs_dir;
  size_t limit = 0;
};

void eval_run(const EvalRunFlags& f) {
  BenchmarkOptions options;
  options.images_dir = !f.inputs_dir.empty() ? f.inputs_dir : output_base(f.batch.out) + ".inputs";
  const std::string data = resolve_benchmark(f.data, f.data_dir);
  std::vector<Task> tasks = load_benchmark(data, options);
  if (tasks.empty()) throw Error(data + ": no questions");
  if (f.limit && tasks.size() > f.limit) tasks.resize(f.limit);
  auto setup = make_runtime(f.episode, f.batch.out);
  if (!f.batch.quiet)
    std::fprintf(stderr, "%s: %zu questions, %s mode, model %s\n", benchmark_name(data).c_str(), tasks.size(),
                 to_string(setup->runtime->options().mode), setup->model->name().c_str());
  BatchFlags batch = f.batch;
  tasks = take_shard(std::move(tasks), batch, "eval run",
                     {{"data", std::filesystem::absolute(data).lexically_normal().string()}, {"model", setup->model->name()},
                      {"prompt", to_string(setup->runtime->options().mode)}, {"protocol", setup->runtime->options().protocol}});
  run_task_batch(tasks, *setup->runtime, batch);
}

struct EvalScoreFlags {
  std::string data;
  std::string data_dir;
  std::vector<std::string> traces;  // one run's traces: one file, or its shards' files
  std::string name;
  std::string report;       // markdown; default <traces>.report.md
  std::string scores;       // per item; default <traces>.scores.jsonl
  std::string judge_cache;  // default: default_judge_cache(judge model)
  std::string judge_prompt;  // a file with the judge's prompt ("" : taco's)
  ModelOptions judge;
  int jobs = 8;
  std::string matching = "taco";
};

// Item scores for all tasks, in task order; with a judge, `jobs` items are scored at once.
std::vector<ItemScore> score_all(const std::vector<Task>& tasks, const std::map<std::string, Trace>& traces, Judge* judge,
                                 int jobs, Matching matching) {
  std::vector<ItemScore> scores(tasks.size());
  std::atomic<size_t> next{0};
  std::string first_error;
  std::mutex mu;
  Progress progress("score", tasks.size(), judge != nullptr);  // judge calls take a while
  auto worker = [&] {
    for (size_t i; (i = next++) < tasks.size();) {
      auto it = traces.find(tasks[i].id);
      try {
        scores[i] = score_item(tasks[i], it == traces.end() ? nullptr : &it->second, judge, matching);
        progress.tick();
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.empty()) first_error = e.what();
        next = tasks.size();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < (judge ? std::max(1, jobs) : 1); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (!first_error.empty()) throw Error(first_error);
  return scores;
}

// A question's first line, cut at 80 characters, for a message.
std::string question_head(const std::string& q) {
  std::string head = q.substr(0, q.find('\n'));
  return head.size() > 80 ? head.substr(0, 77) + "..." : head;
}

// Writes the scores and the report, prints the report; returns it.
Report eval_score(const EvalScoreFlags& f) {
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
  if (unknown) std::fprintf(stderr, "warning: %zu traces are for questions not in %s; ignored\n", unknown, data.c_str());

  std::unique_ptr<Model> judge_model;
  std::unique_ptr<Judge> judge;
  if (!f.judge.model.empty()) {
    judge_model = make_model(f.judge);
    judge = std::make_unique<Judge>(*judge_model, !f.judge_cache.empty() ? f.judge_cache : default_judge_cache(judge_model->name()),
                                    f.judge_prompt.empty() ? "" : read_file(f.judge_prompt));
  }
  const Matching matching = matching_from_string(f.matching);
  std::vector<ItemScore> scores = score_all(tasks, traces, judge.get(), f.jobs, matching);

  // Shards' files (OUT.shard-k-of-N.jsonl) report as the whole run, OUT.
  std::string base = output_base(f.traces[0]);
  if (f.traces.size() > 1)
    if (const size_t tag = base.rfind(".shard-"); tag != std::string::npos && base.find("-of-", tag) != std::string::npos)
      base.erase(tag);
  const std::string scores_path = !f.scores.empty() ? f.scores : base + ".scores.jsonl";
  std::string lines;
  for (const auto& s : scores) lines += s.to_json().dump() + "\n";
  write_file(scores_path, lines);
  const std::string name = !f.name.empty() ? f.name : std::filesystem::path(base).filename().string();
  Report report = make_report(name, benchmark_name(data), scores, tools, matching);
  if (judge) report.judge_unusable = judge->unusable();
  const std::string md_path = !f.report.empty() ? f.report : base + ".report.md";
  write_file(md_path, report.to_markdown());
  write_file(replace_extension(md_path, ".json"), report.to_json().dump(2) + "\n");
  std::printf("%s", report.to_markdown().c_str());
  std::fprintf(stderr, "\nscores: %s; report: %s (and .json)%s\n", scores_path.c_str(), md_path.c_str(),
               judge ? ("; judge: " + std::to_string(judge->calls()) + " calls, " + std::to_string(judge->cache_hits()) +
                        " from the cache, " + std::to_string(judge->unusable()) + " without a usable grade")
                           .c_str()
                     : "");
  return report;
}

struct EvalCompareFlags {
  std::vector<std::string> runs;  // two .scores.jsonl files
  std::vector<std::string> names;
  std::string out;
  int resamples = 2000;
  uint64_t seed = 1;
};

void eval_compare(const EvalCompareFlags& f) {
  if (f.runs.size() != 2) throw Error("compare takes two score files: taco eval compare A.scores.jsonl B.scores.jsonl");
  if (!f.names.empty() && f.names.size() != 2) throw Error("--names takes two names, e.g. --names direct,cota");
  const std::string a = f.names.empty() ? run_name_of(f.runs[0]) : f.names[0];
  const std::string b = f.names.empty() ? run_name_of(f.runs[1]) : f.names[1];
  auto rows = compare_runs(load_item_scores(f.runs[0]), load_item_scores(f.runs[1]), f.resamples, f.seed);
  if (rows.empty()) throw Error("the two runs share no scored items");
  std::string md = comparison_markdown(a, b, rows);
  md += "\nDifference = " + b + " - " + a + ", in points; 95% paired bootstrap interval over items (" +
        std::to_string(f.resamples) + " resamples).\n";
  std::printf("%s", md.c_str());
  if (!f.out.empty()) {
    write_file(f.out, md);
    write_file(replace_extension(f.out, ".json"), comparison_json(a, b, rows).dump(2) + "\n");
  }
}

// `taco eval --model M --data A B ...`: each benchmark run and scored into
// <work-dir>/<name>/<benchmark>/, as VLMEvalKit's run.py does in its "all" mode.
struct EvalAllFlags {
  EvalRunFlags run;            // run.data unused: the names are in `data`
  EvalScoreFlags score;        // the judge and matching
  std::vector<std::string> data;
  std::string work_dir = "outputs";
  std::string name;            // the folder under work_dir; default: from the model
  bool reuse = false;
};

// A folder name for a model spec: embedded:models/taco-small -> taco-small, replay:rec/x.json ->
// replay-x, Qwen/Qwen2-VL-7B -> Qwen_Qwen2-VL-7B.
std::string model_folder_name(const std::string& spec) {
  std::string name = spec;
  if (spec.rfind("embedded:", 0) == 0) name = std::filesystem::path(spec.substr(9)).lexically_normal().filename().string();
  if (name.empty()) name = std::filesystem::path(spec.substr(9)).lexically_normal().parent_path().filename().string();
  if (spec.rfind("replay:", 0) == 0) name = "replay-" + std::filesystem::path(spec.substr(7)).stem().string();
  for (char& c : name)
    if (c == '/' || c == ':' || c == ' ') c = '_';
  return name;
}

void eval_all(const EvalAllFlags& f) {
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
      throw Error(traces + " is there from an earlier run: --reuse resumes it and scores it again (a finished run costs "
                  "no model call), or give another --work-dir or --name");
    std::filesystem::create_directories(folder);
    EvalRunFlags run = f.run;
    run.data = path;
    run.batch.out = traces;
    bool complete = true;
    try {
      eval_run(run);
    } catch (const ExitCode&) {
      complete = false;  // failed questions are listed; score what there is, say so, exit 1 at the end
    }
    EvalScoreFlags score = f.score;
    score.data = path;
    score.traces = {traces};
    score.name = name;
    done.push_back({bench, eval_score(score), output_base(traces) + ".report.md", complete});
  }
  std::printf("\n%-24s %8s %8s  %s\n", "benchmark", "items", "score", "report");
  bool all_complete = true;
  for (const auto& d : done) {
    std::printf("%-24s %8zu %7.1f%%  %s%s\n", d.benchmark.c_str(), d.report.overall.n, 100 * d.report.overall.score,
                d.report_path.c_str(), d.complete ? "" : "  (some questions failed: scored 0; rerun with --reuse)");
    all_complete = all_complete && d.complete;
  }
  if (!all_complete) throw ExitCode{kExitFailure};
}

void eval_list(const std::string& data_dir) {
  const std::string folder = benchmark_folder(data_dir);
  const auto found = list_benchmarks(data_dir);
  if (found.empty()) {
    std::printf("no benchmarks in %s (VLMEvalKit's NAME.tsv files, or taco task .jsonl; set $LMUData or --data-dir)\n",
                folder.c_str());
    return;
  }
  std::printf("%-28s %10s  %s\n", "NAME", "SIZE", "FILE");
  for (const auto& b : found) {
    char size[32];
    std::snprintf(size, sizeof size, "%.1f MB", static_cast<double>(b.bytes) / 1e6);
    std::printf("%-28s %10s  %s\n", b.name.c_str(), size, b.path.c_str());
  }
  std::printf("\n%zu benchmarks in %s; use one as --data NAME\n", found.size(), folder.c_str());
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto* eval = app.add_subcommand("eval", "run benchmarks, score the answers, compare runs (docs/eval.md)");
  // taco eval --model M --data NAME...: run and score; without them, the help.
  auto all = std::make_shared<EvalAllFlags>();
  add_episode_flags(*eval, all->run.episode);
  eval->get_option("--model")->required(false);
  eval->add_option("--data", all->data, "benchmarks: names found in the data folder (MMVet -> $LMUData/MMVet.tsv) or files");
  eval->add_option("--data-dir", all->run.data_dir, "where benchmark names are looked up (default: $LMUData, else ~/LMUData)");
  eval->add_option("--work-dir", all->work_dir, "results go to WORK_DIR/NAME/BENCHMARK/")->capture_default_str();
  eval->add_option("--name", all->name, "the run's folder name (default: the model's: embedded:models/taco-small -> taco-small)");
  eval->add_flag("--reuse", all->reuse, "resume and rescore results already in the folder (else they are refused)");
  add_judge_flags(*eval, all->score.judge, all->score.judge_cache, "MMVet-style items (and unmatched options)");
  eval->add_option("--matching", all->score.matching, "taco (its rules) or vlmevalkit (VLMEvalKit's exact matching)")
      ->check(CLI::IsMember({"taco", "vlmevalkit"}))->capture_default_str();
  eval->add_option("-j,--jobs", all->run.batch.jobs, "episodes (and judge calls) in flight")->capture_default_str()->check(CLI::Range(1, 256));
  eval->add_option("--limit", all->run.limit, "only the first N questions of each benchmark");
  eval->add_flag("-q,--quiet", all->run.batch.quiet, "no progress line");
  eval->require_subcommand(0, 1);
  eval->footer("Examples:\n  taco eval --model embedded:models/taco-small --data MMVet MMStar     # $LMUData/MMVet.tsv, ...\n"
               "  taco eval --model gpt-4o --endpoint https://api.openai.com/v1 --data MMVet --judge gpt-4o-mini --reuse\n"
               "  taco eval list\n");
  eval->callback([eval, all] {
    if (!eval->get_subcommands().empty()) return;
    if (all->run.episode.model.model.empty() || all->data.empty()) {
      if (!all->run.episode.model.model.empty() || !all->data.empty())
        throw Error("taco eval runs and scores benchmarks given both --model and --data");
      std::fputs(eval->help("taco").c_str(), stdout);
      return;
    }
    all->score.jobs = all->run.batch.jobs;
    eval_all(*all);
  });

  auto list_dir = std::make_shared<std::string>();
  auto* list = eval->add_subcommand("list", "the benchmarks found by name: NAME.tsv in $LMUData (or --data-dir)");
  list->footer("Example:\n  LMUData=~/LMUData taco eval list\n");
  list->add_option("--data-dir", *list_dir, "the data folder (default: $LMUData, else ~/LMUData)");
  list->callback([list_dir] { eval_list(*list_dir); });

  auto run_flags = std::make_shared<EvalRunFlags>();
  auto* run = eval->add_subcommand("run", "answer a benchmark's questions with a model; writes traces (resumable)");
  run->footer("Example:\n  taco eval run --model embedded:models/taco-small --data MMVet --out runs/mmvet.jsonl\n");
  run->add_option("--data", run_flags->data, "a benchmark: a name found in the data folder (MMVet), a VLMEvalKit .tsv or a taco task .jsonl")->required();
  run->add_option("--data-dir", run_flags->data_dir, "where benchmark names are looked up (default: $LMUData, else ~/LMUData)");
  run->add_option("--out", run_flags->batch.out, "traces JSONL (appended; finished questions are skipped)")->required();
  add_episode_flags(*run, run_flags->episode);
  run->add_option("--inputs-dir", run_flags->inputs_dir, "where the TSV's base64 images are decoded (default: <out>.inputs)");
  run->add_option("--errors-out", run_flags->batch.errors_out, "where failed questions are listed (default: <out>.errors.jsonl)");
  run->add_option("-j,--jobs", run_flags->batch.jobs, "episodes in flight")->capture_default_str()->check(CLI::Range(1, 4096));
  add_shard_flag(*run, run_flags->batch);
  run->add_flag("--force", run_flags->batch.force, "resume into an --out made by another model, mode or benchmark");
  run->add_option("--limit", run_flags->limit, "only the first N questions");
  run->add_flag("-q,--quiet", run_flags->batch.quiet, "no progress line");
  run->callback([run_flags] { eval_run(*run_flags); });

  auto score_flags = std::make_shared<EvalScoreFlags>();
  auto* score = eval->add_subcommand("score", "score a run's traces: overall, per category, tool use");
  score->footer("Example:\n  taco eval score --data MMVet --traces runs/mmvet.jsonl --judge gpt-4o-mini\n");
  score->add_option("--data", score_flags->data, "the benchmark the run answered (a name or a file, as in eval run)")->required();
  score->add_option("--data-dir", score_flags->data_dir, "where benchmark names are looked up (default: $LMUData, else ~/LMUData)");
  score->add_option("--traces", score_flags->traces, "the run's traces JSONL (several: the shards of one run)")->required()->check(CLI::ExistingFile);
  score->add_option("--name", score_flags->name, "the run's name in the report (default: the traces file's)");
  score->add_option("--report", score_flags->report, "Markdown report path, with a .json twin (default: <traces>.report.md)");
  score->add_option("--scores", score_flags->scores, "per-item scores for taco eval compare (default: <traces>.scores.jsonl)");
  add_judge_flags(*score, score_flags->judge, score_flags->judge_cache, "MMVet-style items (and unmatched options)");
  score->add_option("--judge-prompt", score_flags->judge_prompt,
                    "the judge's prompt: a text with {question}, {ground_truth}, {prediction}, or MMVet's own (the item's row is appended)")
      ->check(CLI::ExistingFile);
  score->add_option("--matching", score_flags->matching, "taco (its rules) or vlmevalkit (VLMEvalKit's exact matching, for leaderboard numbers)")
      ->check(CLI::IsMember({"taco", "vlmevalkit"}))->capture_default_str();
  score->add_option("-j,--jobs", score_flags->jobs, "judge calls in flight")->capture_default_str()->check(CLI::Range(1, 256));
  score->callback([score_flags] { eval_score(*score_flags); });

  auto compare_flags = std::make_shared<EvalCompareFlags>();
  auto* compare = eval->add_subcommand("compare", "two scored runs side by side with the difference and its bootstrap CI");
  compare->footer("Example:\n  taco eval compare runs/direct.scores.jsonl runs/cota.scores.jsonl --names direct,cota\n");
  compare->add_option("runs", compare_flags->runs, "A.scores.jsonl B.scores.jsonl")->required()->check(CLI::ExistingFile);
  compare->add_option("--names", compare_flags->names, "names of the two runs, e.g. direct,cota")->delimiter(',');
  compare->add_option("--out", compare_flags->out, "also write the table here (Markdown, with a .json twin)");
  compare->add_option("--resamples", compare_flags->resamples, "bootstrap resamples")->capture_default_str()->check(CLI::Range(100, 1000000));
  compare->add_option("--seed", compare_flags->seed, "bootstrap seed")->capture_default_str();
  compare->callback([compare_flags] { eval_compare(*compare_flags); });
}

}  // namespace taco::cli
