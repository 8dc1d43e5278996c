// Judge: grades a free-form answer from 0.0 to 1.0 against the reference answer with a judge
// model, following MMVet's grading protocol: taco's own prompt in its layout (the <AND>/<OR>
// convention, the eleven allowed scores, graded examples in a question | ground truth |
// prediction | correctness table ending in the item's row), or the user's own text
// (--judge-prompt). A reply without a score is asked again hotter (temperature 0, 0.5, ... 2.0,
// five tries, as MMVet's grader does); after that the item scores 0 and is counted as
// unusable, never an abort. Judgments are cached in a JSONL file keyed by the judge model,
// the prompt, the question, the reference and the answer, by default one file per judge model
// shared by every scoring (and by processes scoring at once): rescoring, or scoring another
// run that gave an answer already graded, makes no call for it. The cache is appended record by record, so an interrupted scoring keeps what it
// paid for. Thread-safe.
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
  // `cache_path` "" keeps judgments in memory only. `prompt_template` "" is taco's prompt;
  // otherwise the text the judge gets, with {question}, {ground_truth} and {prediction} (or
  // {reference} and {answer}) filled in; a text with none of them gets the item's table row
  // ("question | ground truth | prediction | ") appended, as MMVet's own prompt expects.
  Judge(Model& model, const std::string& cache_path, std::string prompt_template = "");

  // The grade in [0, 1]; 0 for a judge that gives no usable score in five tries (counted in
  // unusable()). Throws ModelError when the judge cannot be reached.
  double grade(const std::string& question, const std::string& reference, const std::string& answer);

  size_t calls() const { return calls_; }
  size_t cache_hits() const { return hits_; }
  size_t unusable() const { return unusable_; }

  // The message the judge gets (exposed for tests and docs).
  std::string prompt(const std::string& question, const std::string& reference, const std::string& answer) const;
  static std::string default_prompt(const std::string& question, const std::string& reference, const std::string& answer);

 private:
  Model& model_;
  std::string template_;
  std::string prompt_id_;  // what the cache records as the prompt: "taco" or the template's SHA-256
  std::unique_ptr<JsonlAppender> cache_;
  std::mutex mu_;
  std::map<std::string, double> cached_;
  size_t calls_ = 0, hits_ = 0, unusable_ = 0;
};

// The cache a judge model's grades are kept in by default, shared by every scoring with that
// judge: <user_cache_dir()>/judge/<model>.jsonl.
std::string default_judge_cache(const std::string& judge_model);

// The score in a judge's reply: the first number in [0, 1] ("0.6", "Score: 1.0"); nullopt
// when there is none.
std::optional<double> parse_judge_score(const std::string& reply);

}  // namespace taco
