#include "models/openai.h"

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "cota/step_grammar.h"
#include "util/utf8.h"

namespace taco {
namespace {

constexpr double kMaxBackoffS = 30;

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
  if (!options_.api_key.empty()) api_key_ = options_.api_key;
  else if (!options_.api_key_env.empty())
    if (const char* key = std::getenv(options_.api_key_env.c_str())) api_key_ = key;
}

std::string OpenAIModel::request_payload(const CompletionRequest& request) const {
  static const std::vector<Message> no_messages;
  const std::vector<Message>& messages = request.messages ? *request.messages : no_messages;
  Json settings;
  settings["model"] = options_.model;
  settings["temperature"] = request.temperature.value_or(options_.temperature);
  const double top_p = request.top_p.value_or(options_.top_p);
  if (top_p < 1.0) settings["top_p"] = top_p;
  // -1 (not given) keeps taco's long-standing 1024; 0 leaves the limit to the server.
  const int max_tokens = request.max_tokens.value_or(options_.max_tokens);
  if (max_tokens != 0) settings["max_tokens"] = max_tokens > 0 ? max_tokens : 1024;
  const int64_t seed = request.seed.value_or(options_.seed);
  if (seed >= 0) settings["seed"] = seed;
  if (request.logprobs) settings["logprobs"] = true;
  if (!request.tools.is_null()) settings["tools"] = request.tools;
  if (!request.tool_choice.is_null()) settings["tool_choice"] = request.tool_choice;
  if (!request.response_format.is_null()) {
    settings["response_format"] = request.response_format;
  } else if (!options_.json_schema.empty()) {
    Json schema;
    try {
      schema = options_.json_schema == "cota" ? cota_step_schema() : parse_json(options_.json_schema);
    } catch (const Error& e) {
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
    append_openai_message(out, messages[i]);
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
  const std::string payload = request_payload(request);
  const Cancellation* cancel = request.cancel;
  const std::function<bool()> stop = cancel ? std::function<bool()>([cancel] { return cancel->stopped(); }) : nullptr;
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
    if (cancel && cancel->stopped()) throw CancelledError("the model's reply was not waited for: " + cancel->reason());
    try {
      const double timeout_s = cancel ? std::min(options_.timeout_s, cancel->seconds_left() + 1) : options_.timeout_s;
      HttpResponse r = http_.post(url_, payload, headers, timeout_s, options_.connect_timeout_s, stop);
      answered = true;
      retry_after = r.retry_after_s;
      if (r.status == 200) {
        Completion c = parse_completion(r.body);
        if (request.on_text && !c.text.empty() && !request.on_text(c.text)) throw CancelledError("the reply was not wanted any more");
        return c;
      }
      last_error = "model server at " + url_ + " answered HTTP " + std::to_string(r.status) + ": " + http_error_message(r.body);
      retryable = r.status == 429 || r.status >= 500;
    } catch (const HttpStoppedError&) {
      throw CancelledError("the model's reply was not waited for: " + (cancel ? cancel->reason() : std::string("stopped")));
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
    j = parse_json(with_valid_utf8(body));
  } catch (const Error&) {
    throw ModelError("model server at " + url_ + " answered with something that is not JSON: " + http_error_message(body));
  }
  const Json* message = nullptr;
  const Json* choice = nullptr;
  if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
    choice = &j["choices"][0];
    if (choice->is_object() && choice->contains("message") && (*choice)["message"].is_object() &&
        ((*choice)["message"].contains("content") || (*choice)["message"].contains("tool_calls")))
      message = &(*choice)["message"];
  }
  if (!message) throw ModelError("model server at " + url_ + " answered without choices[0].message.content");
  Completion c;
  if (auto content = message->find("content"); content != message->end() && content->is_string()) c.text = content->get<std::string>();
  if (auto calls = message->find("tool_calls"); calls != message->end() && calls->is_array() && !calls->empty()) c.tool_calls = *calls;
  if (auto finish = choice->find("finish_reason"); finish != choice->end() && finish->is_string()) c.finish_reason = finish->get<std::string>();
  // Each token's log-probability, where the server gives them (OpenAI's choices[0].logprobs.content).
  if (auto lp = choice->find("logprobs"); lp != choice->end() && lp->is_object() && lp->contains("content") && (*lp)["content"].is_array())
    for (const auto& t : (*lp)["content"])
      if (t.is_object() && t.contains("token") && t["token"].is_string() && t.contains("logprob") && t["logprob"].is_number())
        c.logprobs.push_back({t["token"].get<std::string>(), t["logprob"].get<double>()});
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
