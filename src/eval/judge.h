// Judge: grades a free-form answer from 0.0 to 1.0 against the reference answer with a judge
// model, as MMVet is scored (taco's own prompt with graded examples, through any
// OpenAI-compatible model). Judgments are cached in a JSONL file keyed by the judge model, the
// question, the reference and the answer: a rerun of the same scoring makes no calls. The
// cache is appended record by record, so an interrupted scoring keeps what it paid for.
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "models/model.h"
#include "util/jsonl.h"

namespace taco {

class Judge {
 public:
  // `cache_path` "" keeps judgments in memory only.
  Judge(Model& model, const std::string& cache_path);

  // The grade in [0, 1]. Throws ModelError when the judge cannot be reached or gives no
  // score in three tries.
  double grade(const std::string& question, const std::string& reference, const std::string& answer);

  size_t calls() const { return calls_; }
  size_t cache_hits() const { return hits_; }

  // The message the judge gets (exposed for tests and docs).
  static std::string prompt(const std::string& question, const std::string& reference, const std::string& answer);

 private:
  Model& model_;
  std::unique_ptr<JsonlAppender> cache_;
  std::mutex mu_;
  std::map<std::string, double> cached_;
  size_t calls_ = 0, hits_ = 0;
};

// The score in a judge's reply: the first number in [0, 1] ("0.6", "Score: 1.0"); nullopt
// when there is none.
std::optional<double> parse_judge_score(const std::string& reply);

}  // namespace taco
