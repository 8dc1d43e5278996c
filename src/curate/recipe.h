// Recipe: how `taco curate` chooses a training set: the trace files (sources) with weights or
// counts, the filters, the CoTA / CoT / Direct proportions, the programmatic share, the
// target size and the seed (docs/distill.md, "taco curate").
//
//   {"seed": 1, "target_size": 293000, "programmatic_share": 0.2,
//    "formats": {"cota": 1.0},
//    "filters": {"correct_only": true, "parsed": true, "no_failed_action": true, "min_steps": 2,
//                "max_steps": 10, "tools_required": [], "tools_forbidden": [], "min_tools": 0,
//                "images_present": false, "dedupe": true, "drop_action_useless": true},
//    "sources": [{"name": "vqa", "path": "distill/vqa.jsonl", "weight": 2},
//                {"name": "synthetic", "path": "gen/traces.jsonl", "count": 50000, "programmatic": true}]}
//
// Plain value type.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/json.h"

namespace taco {

struct CurateFilters {
  bool correct_only = false;       // drop traces verified wrong (unverified traces pass: generated ones are right by construction)
  bool parsed = false;             // drop traces with a reply that did not parse
  bool no_failed_action = false;   // drop traces with an action that failed
  size_t min_steps = 0, max_steps = 0;  // 0: no bound
  std::vector<std::string> tools_required;   // every one must be called
  std::vector<std::string> tools_forbidden;  // none may be called
  size_t min_tools = 0;            // at least this many tool calls
  bool images_present = false;     // every image the trace names exists on disk
  bool dedupe = false;             // one trace per content (question, images, replies, answer)
  bool drop_action_useless = false;  // the paper's rule, per metadata.source
  size_t action_useless_min_questions = 20;  // a source with fewer verified CoTA answers is kept (kActionUselessMinQuestions)

  static CurateFilters from_json(const Json& j);  // throws Error on unknown keys or bad types
};

struct RecipeSource {
  std::string name;
  std::string path;
  std::optional<double> weight;   // share of target_size (within its group when programmatic_share is set)
  std::optional<size_t> count;    // exactly this many at most
  bool programmatic = false;
};

struct Recipe {
  uint64_t seed = 1;
  std::optional<size_t> target_size;
  std::optional<double> programmatic_share;
  std::map<std::string, double> formats;  // "cota", "cot", "direct" -> proportion; empty: any
  CurateFilters filters;
  std::vector<RecipeSource> sources;

  // Paths are resolved against `base_dir` (the recipe file's folder).
  static Recipe from_json(const Json& j, const std::string& base_dir);
  static Recipe load(const std::string& path);

  // How many traces each source may contribute (nullopt: all that pass).
  std::vector<std::optional<size_t>> source_quotas() const;
};

}  // namespace taco
