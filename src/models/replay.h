// ReplayModel ("replay:PATH"): answers with recorded responses, for tests and for re-executing
// real episodes through the live loop and tools. The k-th call of an episode gets the k-th
// recorded response. PATH is a JSON file holding an array of strings or an object with
// "assistant_raw" (as in TACO episode dumps), used for every task; a folder of such files
// named <task id>.json; or a taco trace file (.jsonl), whose traces' replies are replayed for
// the tasks of the same id (re-running generated chains or an earlier run with other tools).
// Thread-safe: recordings are loaded on first use under a lock.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "models/model.h"

namespace taco {

class ReplayModel : public Model {
 public:
  explicit ReplayModel(std::string path);
  Completion complete(const CompletionRequest& request) override;
  std::string name() const override { return "replay:" + path_; }

  // Reads one recording file.
  static std::vector<std::string> load_recording(const std::string& file);

 private:
  const std::vector<std::string>& recording_for(const std::string& task_id);

  std::string path_;
  bool is_dir_ = false;
  bool from_traces_ = false;
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> cache_;
};

}  // namespace taco
