// Task: one question about one or more images, the unit every taco command works on.
// Task JSONL (one object per line) is the input format of `taco run --data`; see
// docs/trace-format.md. Plain value type.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/json.h"

namespace taco {

struct Task {
  std::string id;
  std::vector<std::string> images;  // file paths; the runtime names them image-0, image-1, ...
  std::string question;
  std::optional<std::string> answer;  // ground truth, when known
  std::vector<std::string> choices;   // multiple-choice options, when any
  Json metadata = Json::object();

  Json to_json() const;
  // Reads a task record. Relative image paths are resolved against `base_dir`. Throws Error
  // naming the missing or mistyped field.
  static Task from_json(const Json& j, const std::string& base_dir = "");
};

// Loads a task JSONL file; ids must be unique. Errors name the file and line.
std::vector<Task> load_tasks(const std::string& path);

}  // namespace taco
