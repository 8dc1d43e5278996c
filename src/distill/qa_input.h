// Question-answer data for distillation, as Tasks: taco task JSONL, VLMEvalKit TSV, or
// LLaVA / Mantis conversation files (JSON array or JSONL), where every user turn with the
// assistant turn after it is one question with its ground-truth answer.
//
//   LLaVA:  {"id", "image": path | [paths], "conversations": [{"from": "human", "value": "<image>\nQ"}, {"from": "gpt", "value": "A"}, ...]}
//   Mantis: {"id", "images": [paths], "conversation": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}, ...]}
//
// Images are paths (relative to `image_folder`, default the file's folder) or base64 / data:
// URLs, decoded into `images_dir`. "<image>" placeholders are removed from the question.
// Not thread-safe across calls that share an images folder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cota/task.h"

namespace taco {

struct QaInputOptions {
  size_t turns_per_example = 1;  // at most this many questions from one conversation (seeded choice)
  uint64_t seed = 1;
  std::string image_folder;      // base for relative image paths ("" = the file's folder)
  std::string images_dir;        // where base64 images are decoded
};

// Every task gets metadata "source" (the record's own "source" or metadata.dataset, else the
// file name without extension). Task ids are the record id, plus "-t<k>" for the k-th turn of
// a conversation. Errors name the file, record and field.
std::vector<Task> load_qa_tasks(const std::string& path, const QaInputOptions& options);

}  // namespace taco
