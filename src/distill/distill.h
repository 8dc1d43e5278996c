// The distillation job (taco distill): a teacher model answers QA data in CoTA mode with real
// tools (and, asked, in CoT mode without them); every answer is verified against the ground
// truth and split as the paper does, and wrong ones become Direct examples with the true answer.
// Resumable: finished questions are skipped, and a wrong answer's Direct example is written once.
#pragma once

#include <string>
#include <vector>

#include "distill/qa_input.h"
#include "runtime/batch.h"
#include "runtime/setup.h"
#include "util/job.h"

namespace taco {

struct DistillSettings {
  EpisodeSettings episode;        // episode.prompt is ignored: the teacher runs in CoTA (and CoT) mode
  BatchOptions batch;             // batch.out_path: the verified CoTA traces
  std::string shard;              // Shard.spec
  std::vector<std::string> data;  // QA data: task .jsonl, LLaVA/Mantis .json/.jsonl, VLMEvalKit .tsv
  QaInputOptions input;           // input.images_dir "": <out>.inputs
  bool cot = false;               // also CoT mode, into <out>.cot.jsonl
  size_t limit = 0;               // only the first N questions; 0: all
  ModelOptions judge;             // for free-form answers that do not match exactly; judge.model "": none
  std::string judge_cache;        // "": default_judge_cache(judge model)
  double judge_threshold = 0.5;   // a grade counted as correct
};

struct DistillResult {
  size_t failed = 0;  // questions that could not run (listed in the errors files; a rerun retries them)
  std::string traces_path, cot_path, direct_path, stats_path;
};

// Runs the teacher, writes the traces, the Direct examples and <out>.stats.json; shows the
// statistics' table (events.print) and where everything went (events.note).
DistillResult distill(DistillSettings settings, const JobEvents& events = {});

}  // namespace taco
