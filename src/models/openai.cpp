#include "models/openai.h"

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "util/utf8.h"

namespace taco {
namespace {

constexpr double kMaxBackoffS = 30;

// The shape of one CoTA step, for servers that constrain decoding to a schema.
Json cota_step_schema() {
  return Json::parse(R"({
    "type": "object",
    "properties": {
      "thought": {"type": "string"},
      "actions": {"type": "array", "maxItems": 1, "items": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "arguments": {"type": "object"}},
        "required": ["name", "arguments"]}}
    },
    "required": ["thought", "actions"]
  })");
}

void append_json_string(std::string& out, const std::string& text) {
  out += Json(text).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Writes {"role": ..., "content": ...} straight into the payload. Image data URLs are base64
// (nothing to escape) and are the bulk of a request, so they are copied without a JSON pass.
void append_message(std::string& out, const Message& m) {
  out += "{\"role\":";
  append_json_string(out, m.role);
  out += ",\"content\":";
  if (!m.has_images()) {
    append_json_string(out, m.text());
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
  out += '}';
}

}  // namespace

OpenAIModel::OpenAIModel(ModelOptions options) : options_(std::move(options)) {
  std::string base = options_.endpoint;
  if (base.empty()) {
    const char* env = std::getenv("OPENAI_BASE_URL");
    base = env && *env ? env : "https://api.openai.com/v1";
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.rfind("http://", 0) != 0 && base.rfind("https://", 0) != 0)
    throw Error("endpoint '" + base + "' must start with http:// or https://");
  const bool full = base.size() >= 17 && base.compare(base.size() - 17, 17, "/chat/completions") == 0;
  base_ = full ? base.substr(0, base.size() - 17) : base;
  url_ = base_ + "/chat/completions";
  if (!options_.api_key_env.empty())
    if (const char* key = std::getenv(options_.api_key_env.c_str())) api_key_ = key;
}

std::string OpenAIModel::request_payload(const std::vector<Message>& messages, std::optional<double> temperature) const {
  Json settings;
  settings["model"] = options_.model;
  settings["temperature"] = temperature.value_or(options_.temperature);
  if (options_.top_p < 1.0) settings["top_p"] = options_.top_p;
  // -1 (not given) keeps taco's long-standing 1024; 0 leaves the limit to the server.
  if (options_.max_tokens != 0) settings["max_tokens"] = options_.max_tokens > 0 ? options_.max_tokens : 1024;
  if (options_.seed >= 0) settings["seed"] = options_.seed;
  if (!options_.json_schema.empty()) {
    Json schema;
    try {
      schema = options_.json_schema == "cota" ? cota_step_schema() : Json::parse(options_.json_schema);
    } catch (const Json::exception& e) {
      throw Error(std::string("the response JSON schema is not valid JSON: ") + e.what());
    }
    settings["response_format"] = Json{{"type", "json_schema"},
                                       {"json_schema", {{"name", "cota_step"}, {"schema", schema}, {"strict", false}}}};
  }
  size_t size = 256;
  for (const auto& m : messages)
    for (const auto& p : m.parts) size += p.image_url ? p.image_url->size() + 64 : p.text.size() + 32;
  std::string out;
  out.reserve(size);
  out += "{\"messages\":[";
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i) out += ',';
    append_message(out, messages[i]);
  }
  out += "],";
  std::string rest = settings.dump(-1, ' ', false, Json::error_handler_t::replace);
  out.append(rest, 1, std::string::npos);  // the settings object's members, after its '{'
  return out;
}

void OpenAIModel::check_reachable() const {
  std::vector<std::string> headers;
  if (!api_key_.empty()) headers.push_back("Authorization: Bearer " + api_key_);
  try {
    http_.get(base_ + "/models", headers, options_.connect_timeout_s + 10, options_.connect_timeout_s);
  } catch (const HttpConnectError& e) {
    throw ModelUnreachableError(std::string("the model server does not answer: ") + e.what());
  }
}

Completion OpenAIModel::complete(const CompletionRequest& request) {
  const std::string payload = request_payload(*request.messages, request.temperature);
  std::vector<std::string> headers;
  if (!api_key_.empty()) headers.push_back("Authorization: Bearer " + api_key_);

  thread_local std::mt19937 jitter(std::random_device{}());
  std::string last_error;
  bool answered = false;  // some attempt got an HTTP answer
  const int attempts = std::max(1, options_.retries + 1);
  int made = 0;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    ++made;
    double retry_after = 0;
    bool retryable = true;
    try {
      HttpResponse r = http_.post(url_, payload, headers, options_.timeout_s, options_.connect_timeout_s);
      answered = true;
      retry_after = r.retry_after_s;
      if (r.status == 200) return parse_completion(r.body);
      last_error = "model server at " + url_ + " answered HTTP " + std::to_string(r.status) + ": " + http_error_message(r.body);
      retryable = r.status == 429 || r.status >= 500;
    } catch (const HttpConnectError& e) {
      last_error = e.what();
    }
    if (!retryable || attempt + 1 == attempts) break;
    double wait = options_.backoff_s * static_cast<double>(1 << std::min(attempt, 10));
    wait *= std::uniform_real_distribution<double>(0.8, 1.2)(jitter);
    if (retry_after > 0) wait = retry_after;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(wait, kMaxBackoffS)));
  }
  if (made > 1) last_error += " (after " + std::to_string(made) + " attempts)";
  if (!answered) throw ModelUnreachableError(last_error);
  throw ModelError(last_error);
}

Completion OpenAIModel::parse_completion(const std::string& body) const {
  Json j;
  try {
    j = Json::parse(with_valid_utf8(body));
  } catch (const Json::exception&) {
    throw ModelError("model server at " + url_ + " answered with something that is not JSON: " + http_error_message(body));
  }
  const Json* content = nullptr;
  if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
    const Json& choice = j["choices"][0];
    if (choice.is_object() && choice.contains("message") && choice["message"].is_object() &&
        choice["message"].contains("content"))
      content = &choice["message"]["content"];
  }
  if (!content) throw ModelError("model server at " + url_ + " answered without choices[0].message.content");
  Completion c;
  if (content->is_string()) c.text = content->get<std::string>();
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    // Servers write null, floats or nothing here; a count is read only where it is one.
    auto count = [&](const char* key) {
      auto v = u->find(key);
      if (v == u->end() || !v->is_number()) return 0;
      const double n = v->get<double>();
      return n >= 0 && n < 2e9 ? static_cast<int>(n) : 0;
    };
    c.prompt_tokens = count("prompt_tokens");
    c.completion_tokens = count("completion_tokens");
  }
  return c;
}

}  // namespace taco
