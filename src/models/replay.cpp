#include "models/replay.h"

#include <filesystem>

#include "util/files.h"
#include "util/json.h"
#include "util/jsonl.h"
#include "models/kinds.h"

namespace taco {

ReplayModel::ReplayModel(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) throw Error("replay: " + path_ + " does not exist");
  is_dir_ = std::filesystem::is_directory(path_, ec);
  from_traces_ = !is_dir_ && path_.size() > 6 && path_.compare(path_.size() - 6, 6, ".jsonl") == 0;
  if (from_traces_) {
    for_each_jsonl(path_, [&](size_t line, Json&& j) {
      auto task = j.find("task");
      auto steps = j.find("steps");
      if (task == j.end() || !task->is_object() || !task->contains("id") || steps == j.end() || !steps->is_array())
        throw Error(path_ + " line " + std::to_string(line) + ": not a taco trace (needs task.id and steps)");
      std::vector<std::string> raw;
      for (const auto& step : *steps) raw.push_back(step.value("raw", ""));
      cache_[(*task)["id"].is_string() ? (*task)["id"].get<std::string>() : (*task)["id"].dump()] = std::move(raw);
    });
  } else if (!is_dir_) {
    cache_[""] = load_recording(path_);  // fail early on a bad file
  }
}

std::vector<std::string> ReplayModel::load_recording(const std::string& file) {
  Json j = read_json_file(file);
  const Json* list = &j;
  if (j.is_object()) {
    auto it = j.find("assistant_raw");
    if (it == j.end()) throw Error(file + ": a recording object needs an \"assistant_raw\" list");
    list = &*it;
  }
  if (!list->is_array()) throw Error(file + ": a recording is a list of response strings");
  std::vector<std::string> out;
  for (const auto& r : *list) {
    if (!r.is_string()) throw Error(file + ": every recorded response must be a string");
    out.push_back(r.get<std::string>());
  }
  return out;
}

const std::vector<std::string>& ReplayModel::recording_for(const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (from_traces_) {
    auto it = cache_.find(task_id);
    if (it == cache_.end()) throw ModelError("replay: " + path_ + " has no trace for task " + task_id);
    return it->second;
  }
  std::string key = is_dir_ ? task_id : "";
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  if (task_id.find('/') != std::string::npos || task_id == ".." || task_id.empty())
    throw ModelError("replay: task id '" + task_id + "' cannot name a recording file");
  std::string file = path_ + "/" + task_id + ".json";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) throw ModelError("replay: no recording for task " + task_id + " (" + file + ")");
  return cache_[key] = load_recording(file);
}

Completion ReplayModel::complete(const CompletionRequest& request) {
  const auto& recording = recording_for(request.task_id);
  size_t turn = 0;
  for (const auto& m : *request.messages)
    if (m.role == "assistant") ++turn;
  if (turn >= recording.size())
    throw ModelError("replay: the recording has " + std::to_string(recording.size()) +
                     " responses and the episode asked for response " + std::to_string(turn + 1));
  return Completion{recording[turn], 0, 0};
}

namespace {

const ModelKindRegistration kReplayKind({"replay:", [](const std::string& path, const ModelOptions&) -> std::unique_ptr<Model> {
                                          return std::make_unique<ReplayModel>(path);
                                        }});

}  // namespace

}  // namespace taco
