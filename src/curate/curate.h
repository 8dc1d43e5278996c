// Curate: streams trace files through a recipe's filters and quotas into one training set.
// Records are read with simdjson (only the fields the filters need) and written back byte for
// byte; memory holds the chosen records only (bounded by the recipe's quotas, not by the
// input). Which records a quota keeps is decided by a seeded hash of their content, so the
// output is the same for a seed whatever the input order, and shuffled.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "curate/decontaminate.h"
#include "curate/recipe.h"
#include "util/job.h"
#include "util/json.h"

namespace taco {

struct CurateReport {
  size_t input = 0;
  size_t kept = 0;
  uint64_t bytes = 0;   // input JSONL read
  double seconds = 0;
  long peak_memory_mb = 0;  // the process's peak resident memory when curation ended
  std::vector<std::pair<std::string, size_t>> removed;  // per filter, in the order they apply
  std::map<std::string, size_t> input_per_source, kept_per_source;  // recipe source names
  std::map<std::string, size_t> kept_per_format, kept_per_tool, kept_per_steps;
  std::map<std::string, size_t> quota_per_source;  // quotas that were set
  std::vector<std::string> action_useless;         // metadata sources the paper's rule dropped
  std::map<std::string, size_t> too_few_to_judge;  // sources kept: fewer verified CoTA answers than the recipe's minimum
  std::vector<std::string> warnings;               // e.g. the first malformed lines
  // Decontamination (--exclude): the benchmarks, their items, and what was dropped, by what.
  std::vector<std::string> excluded_benchmarks;
  size_t excluded_items = 0;
  std::map<std::string, size_t> contaminated_per_benchmark, contaminated_per_kind;
  std::vector<std::string> contaminated_first;

  Json to_json() const;
  std::string to_markdown() const;
};

// Runs the recipe and writes the chosen traces to `out_path` (JSONL). Throws Error for an
// unreadable source; malformed lines are counted, reported and skipped. With `exclude`, traces
// that share a question or an input image with its benchmarks are dropped first (after the
// malformed and unfinished ones) and counted.
CurateReport run_curate(const Recipe& recipe, const std::string& out_path, bool progress = true, BenchmarkIndex* exclude = nullptr);

// The curate job (`taco curate`): a recipe file and/or trace files taken whole, filters that add
// to the recipe's, and benchmarks to decontaminate against.
struct CurateSettings {
  std::string recipe;               // a recipe file; "": the inputs alone
  std::vector<std::string> inputs;  // trace files given directly (each a source taking all)
  std::string out;                  // the curated traces (JSONL)
  std::string report;               // the Markdown report ("": <out>.report.md), with a .json twin
  // Filters added to the recipe's.
  bool correct_only = false, parsed = false, no_failed_action = false, images_present = false, dedupe = false,
       drop_action_useless = false;
  size_t min_steps = 0, max_steps = 0, min_tools = 0;
  std::vector<std::string> require_tools, forbid_tools;
  std::optional<size_t> target_size;
  std::optional<uint64_t> seed;
  std::vector<std::string> exclude;  // benchmarks: names (looked up in data_dir) or files
  std::vector<std::string> exclude_by = {"question", "image"};
  std::string data_dir;              // "": $LMUData, else ~/LMUData
};

struct CurateResult {
  CurateReport report;
  std::string report_path;  // the Markdown report written
};

// Runs the recipe the settings make and writes the traces, the report and its JSON twin;
// events.print gets the report, events.tell what was kept and where.
CurateResult curate(const CurateSettings& settings, const JobEvents& events);

}  // namespace taco
