#include "eval/judge.h"

#include <cstdlib>
#include <filesystem>

#include "util/files.h"

namespace taco {
namespace {

std::string cache_key(const std::string& model, const std::string& q, const std::string& ref, const std::string& answer) {
  return model + '\x1f' + q + '\x1f' + ref + '\x1f' + answer;
}

}  // namespace

std::string Judge::prompt(const std::string& question, const std::string& reference, const std::string& answer) {
  return "You grade answers to questions about images. Compare the model's answer with the reference answer and "
         "give a score from 0.0 (wrong) to 1.0 (fully right). In the reference, <AND> means every part is needed and "
         "<OR> means any one part is enough. Give partial credit for answers that are partly right or miss parts. "
         "Judge the meaning, not the wording. Reply with the score alone.\n\n"
         "Graded examples:\n"
         "Question: What is x in the equation? | Reference: -1 <AND> -5 | Answer: x = 3 | Score: 0.0\n"
         "Question: What is x in the equation? | Reference: -1 <AND> -5 | Answer: x = -1 | Score: 0.5\n"
         "Question: What is x in the equation? | Reference: -1 <AND> -5 | Answer: x = -5 or x = -1 | Score: 1.0\n"
         "Question: What color is the umbrella? | Reference: red | Answer: The umbrella is red. | Score: 1.0\n"
         "Question: Which country is this? | Reference: Japan <OR> JP | Answer: China | Score: 0.0\n"
         "Question: What is funny about this picture? | Reference: A cat sits in a box far too small for it, "
         "looking proud. | Answer: A cat is sitting in a box. | Score: 0.4\n\n"
         "Now grade this one.\n"
         "Question: " + question + " | Reference: " + reference + " | Answer: " + answer + " | Score:";
}

std::optional<double> parse_judge_score(const std::string& reply) {
  for (size_t i = 0; i < reply.size(); ++i) {
    if (!(reply[i] >= '0' && reply[i] <= '9')) continue;
    if (i > 0 && ((reply[i - 1] >= '0' && reply[i - 1] <= '9') || reply[i - 1] == '.')) continue;
    char* end = nullptr;
    double v = std::strtod(reply.c_str() + i, &end);
    if (v >= 0 && v <= 1) return v;
    i = static_cast<size_t>(end - reply.c_str());
  }
  return std::nullopt;
}

Judge::Judge(Model& model, const std::string& cache_path) : model_(model) {
  if (cache_path.empty()) return;
  if (std::filesystem::exists(cache_path))
    for_each_jsonl(cache_path, [&](size_t, Json&& j) {
      if (j.value("judge", "") != model_.name() || !j.contains("score")) return;
      cached_[cache_key(model_.name(), j.value("question", ""), j.value("reference", ""), j.value("answer", ""))] =
          j["score"].get<double>();
    });
  cache_ = std::make_unique<JsonlAppender>(cache_path);
}

double Judge::grade(const std::string& question, const std::string& reference, const std::string& answer) {
  const std::string key = cache_key(model_.name(), question, reference, answer);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = cached_.find(key); it != cached_.end()) {
      ++hits_;
      return it->second;
    }
  }
  std::vector<Message> messages{Message{"user", {ContentPart{prompt(question, reference, answer), nullptr}}}};
  std::string last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    last = model_.complete(CompletionRequest{"judge", &messages}).text;
    if (auto score = parse_judge_score(last)) {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      cached_[key] = *score;
      if (cache_)
        cache_->append(Json{{"judge", model_.name()}, {"question", question}, {"reference", reference}, {"answer", answer},
                            {"score", *score}, {"reply", last}});
      return *score;
    }
  }
  throw ModelError("the judge gave no score in [0, 1] in three tries; last reply: " + last.substr(0, 200));
}

}  // namespace taco
