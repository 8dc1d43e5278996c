#include "eval/judge.h"

#include <cstdlib>
#include <filesystem>

#include "util/files.h"
#include "util/sha256.h"

namespace taco {
namespace {

std::string cache_key(const std::string& prompt_id, const std::string& q, const std::string& ref, const std::string& answer) {
  return prompt_id + '\x1f' + q + '\x1f' + ref + '\x1f' + answer;
}

// Every occurrence of `from` in `s` replaced by `to`; whether there was one.
bool fill(std::string& s, const std::string& from, const std::string& to) {
  bool found = false;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
    found = true;
  }
  return found;
}

// Table cells stay on one line.
std::string cell(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

}  // namespace

std::string Judge::default_prompt(const std::string& question, const std::string& reference, const std::string& answer) {
  return "Grade how correct an AI model's prediction is, against the ground truth, for a question about an image. "
         "In the ground truth, <AND> joins parts that must all be in the prediction for it to be fully right, and <OR> "
         "joins parts of which any one is enough. A prediction that hedges between a right and a wrong answer is only "
         "partly right. Judge the meaning, not the wording. The correctness is one of 0.0 (wrong), 0.1, 0.2, 0.3, 0.4, "
         "0.5, 0.6, 0.7, 0.8, 0.9 or 1.0 (fully right). Fill in the last cell of the table with the correctness alone.\n\n"
         "Question | Ground truth | Prediction | Correctness\n"
         "--- | --- | --- | ---\n"
         "What is x in the equation? | -1 <AND> -5 | x = 3 | 0.0\n"
         "What is x in the equation? | -1 <AND> -5 | x = -1 | 0.5\n"
         "What is x in the equation? | -1 <AND> -5 | x = -5 or x = 5 | 0.5\n"
         "What is x in the equation? | -1 <AND> -5 | x = -1 or x = -5 | 1.0\n"
         "What color is the umbrella? | red | The umbrella is red. | 1.0\n"
         "Which country is this? | Japan <OR> JP | It could be Japan or China. | 0.5\n"
         "Which country is this? | Japan <OR> JP | China | 0.0\n"
         "What is funny about this picture? | A cat sits in a box far too small for it, looking proud. | "
         "A cat is sitting in a box. | 0.4\n" +
         cell(question) + " | " + cell(reference) + " | " + cell(answer) + " | ";
}

std::string Judge::prompt(const std::string& question, const std::string& reference, const std::string& answer) const {
  if (template_.empty()) return default_prompt(question, reference, answer);
  std::string text = template_;
  bool filled = fill(text, "{question}", question);
  for (const char* key : {"{ground_truth}", "{reference}"}) filled = fill(text, key, reference) || filled;
  for (const char* key : {"{prediction}", "{answer}"}) filled = fill(text, key, answer) || filled;
  if (!filled) text += (text.empty() || text.back() == '\n' ? "" : "\n") + cell(question) + " | " + cell(reference) + " | " + cell(answer) + " | ";
  return text;
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

std::string default_judge_cache(const std::string& judge_model) {
  return user_cache_dir() + "/judge/" + safe_file_name(judge_model) + ".jsonl";
}

Judge::Judge(Model& model, const std::string& cache_path, std::string prompt_template)
    : model_(model), template_(std::move(prompt_template)), prompt_id_(template_.empty() ? "taco-2" : sha256_hex(template_)) {
  if (cache_path.empty()) return;
  // Judgments of another judge or another prompt (or from before prompts were recorded) are
  // not this judge's.
  if (std::filesystem::exists(cache_path))
    for_each_jsonl(cache_path, [&](size_t, Json&& j) {
      if (j.value("judge", "") != model_.name() || j.value("prompt", "") != prompt_id_ || !j.contains("score") ||
          !j["score"].is_number())
        return;
      cached_[cache_key(prompt_id_, j.value("question", ""), j.value("reference", ""), j.value("answer", ""))] =
          j["score"].get<double>();
    });
  cache_ = std::make_unique<JsonlAppender>(cache_path);
}

double Judge::grade(const std::string& question, const std::string& reference, const std::string& answer) {
  const std::string key = cache_key(prompt_id_, question, reference, answer);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = cached_.find(key); it != cached_.end()) {
      ++hits_;
      return it->second;
    }
  }
  std::vector<Message> messages{Message{"user", {ContentPart{prompt(question, reference, answer), nullptr}}}};
  for (int attempt = 0; attempt < 5; ++attempt) {
    CompletionRequest request{"judge", &messages};
    request.temperature = 0.5 * attempt;
    const std::string reply = model_.complete(request).text;
    if (auto score = parse_judge_score(reply)) {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      cached_[key] = *score;
      if (cache_)
        cache_->append(Json{{"judge", model_.name()}, {"prompt", prompt_id_}, {"question", question}, {"reference", reference},
                            {"answer", answer}, {"score", *score}, {"reply", reply}});
      return *score;
    }
  }
  // Not cached: a later scoring asks again.
  std::lock_guard<std::mutex> lock(mu_);
  ++calls_;
  ++unusable_;
  return 0;
}

}  // namespace taco
