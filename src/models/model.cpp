#include "models/model.h"

#include <algorithm>
#include <cstdio>

#include "models/embedded/embedded.h"
#include "models/openai.h"
#include "models/replay.h"

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

std::unique_ptr<Model> make_model(const ModelOptions& options) {
  if (options.model.rfind("replay:", 0) == 0) return std::make_unique<ReplayModel>(options.model.substr(7));
  if (options.model.rfind("embedded:", 0) == 0) return make_embedded_model(options.model.substr(9), options);
  if (options.model.empty()) throw Error("no model given (ModelOptions.model NAME, replay:PATH or embedded:DIR)");
  return std::make_unique<OpenAIModel>(options);
}

}  // namespace taco
