// Export: curated traces as LLaVA or Mantis training files, the shapes of the public CoTA
// datasets (src/cota/training_format.h), with the images copied, linked or left in place, and
// every record checked (as many <image> placeholders as images, every assistant turn a
// parseable step, the last one Terminate). Invalid records are left out and reported.
//
// Format rl: rollouts for offline RL, right or wrong, one record each: the conversation as the
// model wrote it ("<image>" placeholders, the images), the reward with its parts, and where a
// taco rl run's tokens sidecar (<traces>.tokens.jsonl) lies beside the traces, the tokens:
// input_ids, loss_mask (1 on the policy's tokens), logprobs (the sampler's, 0 off the mask),
// advantage. docs/rl.md describes the record.
#pragma once

#include <string>
#include <vector>

#include "rl/reward.h"

namespace taco {

struct ExportOptions {
  std::string format = "llava";  // llava | mantis | messages | llamafactory | llamafactory-tools | ms-swift | rl
  std::string out_path;          // .jsonl: one record per line; else one JSON array
  std::string images = "copy";   // copy | link | keep
  std::string images_dir;        // copy/link target ("" = <out>.images); record paths are relative to the output's folder
  std::string dataset = "taco";  // Mantis metadata.dataset
  std::string image_folder;      // where the traces' relative image paths start ("" = each trace file's folder)
  RewardSettings reward;         // format rl: the rules for traces without a tokens sidecar (a run's sidecar has its own rewards)
};

struct ExportSummary {
  size_t traces = 0;
  size_t records = 0;
  size_t invalid = 0;
  size_t images = 0;                  // image files copied or linked
  std::vector<std::string> problems;  // the first invalid records, with why
  std::string dataset_info;           // LLaMA-Factory layouts: the entry written to dataset_info.json
};

ExportSummary run_export(const std::vector<std::string>& trace_files, const ExportOptions& options);

}  // namespace taco
