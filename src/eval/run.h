// The evaluation jobs: answer a benchmark with a model (eval_run), score a run's traces into
// per-item scores and a report (eval_score), compare two scored runs (eval_compare), and run and
// score several benchmarks into one folder per model, as VLMEvalKit's run.py does (eval_all).
// taco eval's subcommands call them one for one; so may the server and tests.
#pragma once

#include <string>
#include <vector>

#include "eval/score.h"
#include "runtime/batch.h"
#include "runtime/setup.h"
#include "util/job.h"

namespace taco {

struct EvalRunSettings {
  EpisodeSettings episode;
  BatchOptions batch;      // batch.out_path: the traces (appended; finished questions skipped)
  std::string shard;       // Shard.spec: "k/N", "" from the scheduler's environment, else all
  std::string data;        // a benchmark name (looked up in data_dir), a VLMEvalKit .tsv or a taco task .jsonl
  std::string data_dir;    // "": $LMUData, else ~/LMUData
  std::string inputs_dir;  // where a TSV's base64 images are decoded; "": <out>.inputs
  size_t limit = 0;        // only the first N questions; 0: all
};

// Runs the benchmark's questions into settings.batch.out_path (or this shard's file), resuming.
// The summary's `failed` counts questions that failed (listed in its errors file; a rerun
// retries them). Throws Error for unusable settings or data, and when the model cannot be reached.
BatchSummary eval_run(const EvalRunSettings& settings, const JobEvents& events = {});

struct EvalScoreSettings {
  std::string data;                 // the benchmark the run answered, as EvalRunSettings::data
  std::string data_dir;
  std::vector<std::string> traces;  // one run's traces: one file, or its shards' files
  std::string name;                 // the run's name in the report; "": the traces file's
  std::string report;               // Markdown report (with a .json twin); "": <traces>.report.md
  std::string scores;               // per-item scores; "": <traces>.scores.jsonl
  std::string judge_cache;          // "": default_judge_cache(judge model)
  std::string judge_prompt;         // a file with the judge's prompt; "": taco's
  ModelOptions judge;               // judge.model "": no judge
  int jobs = 8;                     // judge calls in flight
  std::string matching = "taco";    // or "vlmevalkit"
  // Score only the items the run answered (a run with EvalRunSettings.limit asks the first N):
  // the others are said not asked instead of counted wrong.
  bool answered_only = false;
};

struct EvalScoreResult {
  Report report;
  std::string scores_path;
  std::string report_path;  // Markdown; the .json twin beside it
};

// Scores the traces against the benchmark's answers, writes the scores and the report, shows the
// report (events.print) and where it went (events.note). Throws Error naming the file and line
// when the traces belong to another benchmark or answer a question twice.
EvalScoreResult eval_score(const EvalScoreSettings& settings, const JobEvents& events = {});

struct EvalCompareSettings {
  std::string a, b;            // two .scores.jsonl files
  std::string name_a, name_b;  // "": from the files' names
  std::string out;             // also write the table here (Markdown, with a .json twin); "": not
  int resamples = 2000;
  uint64_t seed = 1;
};

// The two runs side by side with the difference and its paired bootstrap interval, as Markdown
// (shown with events.print, and returned).
std::string eval_compare(const EvalCompareSettings& settings, const JobEvents& events = {});

// Several benchmarks run and scored into <work_dir>/<name>/<benchmark>/.
struct EvalAllSettings {
  EvalRunSettings run;           // run.data unused: the benchmarks are `data`
  EvalScoreSettings score;       // the judge and matching
  std::vector<std::string> data;
  std::string work_dir = "outputs";
  std::string name;              // the folder under work_dir; "": from the model (model_folder_name)
  bool reuse = false;            // resume and rescore what is there (else refused)
};

// True when every question of every benchmark was answered (failed ones score 0 and are listed).
bool eval_all(const EvalAllSettings& settings, const JobEvents& events = {});

// The benchmarks found by name in the data folder (data_dir, else $LMUData, else ~/LMUData): a
// table of names, sizes and files, or a line saying there are none.
std::string benchmark_list_text(const std::string& data_dir);

// The share of a run's answers that are right, for a task file whose tasks carry answers (taco's
// matching, over every trace in `traces_path` of a task with an answer; judged ones are counted
// apart), as a line to show; "" when no task has an answer.
std::string task_accuracy_text(const std::string& data, const std::string& traces_path);

// A folder name for a model spec: embedded:models/taco-small -> taco-small, replay:rec/x.json ->
// replay-x, Qwen/Qwen2-VL-7B -> Qwen_Qwen2-VL-7B.
std::string model_folder_name(const std::string& spec);

}  // namespace taco
