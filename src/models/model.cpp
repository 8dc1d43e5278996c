#include "models/model.h"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "models/kinds.h"
#include "models/openai.h"

namespace taco {

bool Message::has_images() const {
  for (const auto& p : parts)
    if (p.image_url) return true;
  return false;
}

std::string Message::text() const {
  std::string out;
  for (const auto& p : parts)
    if (!p.image_url) out += p.text;
  return out;
}

Cancellation::Cancellation(double time_limit_s)
    : time_limit_s_(time_limit_s),
      deadline_(std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(time_limit_s > 0 ? time_limit_s : 0))) {}

bool Cancellation::stopped() const { return cancelled_ || (time_limit_s_ > 0 && std::chrono::steady_clock::now() >= deadline_); }

double Cancellation::seconds_left() const {
  if (time_limit_s_ <= 0) return 1e9;
  return std::max(0.0, std::chrono::duration<double>(deadline_ - std::chrono::steady_clock::now()).count());
}

std::string Cancellation::reason() const {
  if (cancelled_) return "cancelled";
  char buf[64];
  std::snprintf(buf, sizeof buf, "over the time limit of %g s", time_limit_s_);
  return buf;
}

namespace {

struct Kinds {
  std::mutex mu;
  std::vector<std::pair<size_t, ModelKind>> kinds;
  size_t next_id = 1;
};

Kinds& kinds() {
  static Kinds k;
  return k;
}

}  // namespace

ModelKindRegistration::ModelKindRegistration(ModelKind kind) {
  std::lock_guard<std::mutex> lock(kinds().mu);
  id_ = kinds().next_id++;
  kinds().kinds.emplace_back(id_, std::move(kind));
}

ModelKindRegistration::~ModelKindRegistration() {
  std::lock_guard<std::mutex> lock(kinds().mu);
  auto& all = kinds().kinds;
  all.erase(std::remove_if(all.begin(), all.end(), [this](const auto& k) { return k.first == id_; }), all.end());
}

std::vector<std::string> model_kind_prefixes() {
  std::lock_guard<std::mutex> lock(kinds().mu);
  std::vector<std::string> prefixes;
  for (const auto& [id, kind] : kinds().kinds) prefixes.push_back(kind.prefix);
  return prefixes;
}

std::unique_ptr<Model> make_model(const ModelOptions& options) {
  std::function<std::unique_ptr<Model>(const std::string&, const ModelOptions&)> make;
  size_t prefix_size = 0;
  {
    std::lock_guard<std::mutex> lock(kinds().mu);
    for (auto it = kinds().kinds.rbegin(); it != kinds().kinds.rend(); ++it)  // the latest registration wins
      if (options.model.rfind(it->second.prefix, 0) == 0) {
        make = it->second.make;
        prefix_size = it->second.prefix.size();
        break;
      }
  }
  if (make) return make(options.model.substr(prefix_size), options);
  if (options.model.empty()) throw Error("no model given (ModelOptions.model NAME, replay:PATH or embedded:DIR)");
  return std::make_unique<OpenAIModel>(options);
}

}  // namespace taco
