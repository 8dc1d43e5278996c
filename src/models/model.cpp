#include "models/model.h"

#include <algorithm>
#include <cstdio>

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

namespace {

void append_json_string(std::string& out, const std::string& text) {
  out += Json(text).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

void append_openai_message(std::string& out, const Message& m) {
  out += "{\"role\":";
  append_json_string(out, m.role);
  out += ",\"content\":";
  if (!m.has_images()) {
    // An assistant message that only calls tools has no content.
    if (m.parts.empty() && !m.tool_calls.is_null()) out += "null";
    else append_json_string(out, m.text());
  } else {
    out += '[';
    bool first = true;
    for (const auto& p : m.parts) {
      if (!p.image_url && p.text.empty()) continue;
      if (!first) out += ',';
      first = false;
      if (p.image_url) {
        out += "{\"type\":\"image_url\",\"image_url\":{\"url\":\"";
        out += *p.image_url;
        out += "\"}}";
      } else {
        out += "{\"type\":\"text\",\"text\":";
        append_json_string(out, p.text);
        out += '}';
      }
    }
    out += ']';
  }
  if (!m.tool_calls.is_null()) {
    out += ",\"tool_calls\":";
    out += m.tool_calls.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  if (!m.tool_call_id.empty()) {
    out += ",\"tool_call_id\":";
    append_json_string(out, m.tool_call_id);
  }
  out += '}';
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

Registry<ModelKind>& model_kind_registry() {
  static Registry<ModelKind> r;
  return r;
}

std::vector<std::string> model_kind_prefixes() {
  std::vector<std::string> prefixes;
  for (const auto& kind : model_kind_registry().entries()) prefixes.push_back(kind.name);
  return prefixes;
}

std::unique_ptr<Model> make_model(const ModelOptions& options) {
  const std::vector<ModelKind> kinds = model_kind_registry().entries();
  for (auto it = kinds.rbegin(); it != kinds.rend(); ++it)  // the latest registration wins
    if (options.model.rfind(it->name, 0) == 0) return it->make(options.model.substr(it->name.size()), options);
  if (options.model.empty()) throw Error("no model given (ModelOptions.model NAME, replay:PATH or embedded:DIR)");
  return std::make_unique<OpenAIModel>(options);
}

}  // namespace taco
