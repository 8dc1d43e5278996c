#include "models/openai.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

namespace taco {
namespace {

constexpr double kMaxBackoffS = 30;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t append_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t read_header(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto* retry_after = static_cast<double*>(user);
  const std::string key = "retry-after:";
  if (line.size() > key.size()) {
    std::string lower;
    for (size_t i = 0; i < key.size(); ++i) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(line[i])));
    if (lower == key) *retry_after = std::atof(line.c_str() + key.size());
  }
  return size * n;
}

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

std::string server_message(const std::string& body) {
  try {
    Json j = Json::parse(body);
    if (j.contains("error")) {
      const Json& e = j["error"];
      if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
      if (e.is_string()) return e.get<std::string>();
    }
    if (j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  } catch (const Json::exception&) {
  }
  std::string s = body.substr(0, 200);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

OpenAIModel::OpenAIModel(ModelOptions options) : options_(std::move(options)) {
  global_init();
  std::string base = options_.endpoint;
  if (base.empty()) {
    const char* env = std::getenv("OPENAI_BASE_URL");
    base = env && *env ? env : "https://api.openai.com/v1";
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.rfind("http://", 0) != 0 && base.rfind("https://", 0) != 0)
    throw Error("endpoint '" + base + "' must start with http:// or https://");
  url_ = base.size() >= 17 && base.compare(base.size() - 17, 17, "/chat/completions") == 0 ? base
                                                                                            : base + "/chat/completions";
  if (!options_.api_key_env.empty())
    if (const char* key = std::getenv(options_.api_key_env.c_str())) api_key_ = key;
}

OpenAIModel::~OpenAIModel() {
  for (void* h : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* OpenAIModel::acquire_handle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_handles_.empty()) {
      void* h = idle_handles_.back();
      idle_handles_.pop_back();
      return h;
    }
  }
  CURL* h = curl_easy_init();
  if (!h) throw ModelError("cannot start an HTTP client (curl_easy_init failed)");
  return h;
}

void OpenAIModel::release_handle(void* handle) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_handles_.push_back(handle);
}

std::string OpenAIModel::request_payload(const std::vector<Message>& messages) const {
  Json settings;
  settings["model"] = options_.model;
  settings["temperature"] = options_.temperature;
  if (options_.max_tokens > 0) settings["max_tokens"] = options_.max_tokens;
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

Completion OpenAIModel::complete(const CompletionRequest& request) {
  const std::string payload = request_payload(*request.messages);
  CURL* h = static_cast<CURL*>(acquire_handle());
  struct Release {
    OpenAIModel* self;
    CURL* h;
    ~Release() { self->release_handle(h); }
  } release{this, h};

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  // Without this curl sends "Expect: 100-continue" for large bodies and waits a round trip.
  headers = curl_slist_append(headers, "Expect:");
  if (!api_key_.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + api_key_).c_str());
  struct FreeHeaders {
    curl_slist* h;
    ~FreeHeaders() { curl_slist_free_all(h); }
  } free_headers{headers};

  thread_local std::mt19937 jitter(std::random_device{}());
  std::string last_error;
  const int attempts = std::max(1, options_.retries + 1);
  int made = 0;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    ++made;
    std::string body;
    double retry_after = 0;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &retry_after);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);

    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    bool retryable = false;
    if (rc != CURLE_OK) {
      last_error = "cannot reach " + url_ + ": " + curl_easy_strerror(rc);
      retryable = true;
    } else {
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
      if (status == 200) {
        Json j;
        try {
          j = Json::parse(body);
        } catch (const Json::exception&) {
          throw ModelError("model server at " + url_ + " answered with something that is not JSON: " +
                           server_message(body));
        }
        const Json* content = nullptr;
        if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
          const Json& choice = j["choices"][0];
          if (choice.contains("message") && choice["message"].contains("content")) content = &choice["message"]["content"];
        }
        if (!content) throw ModelError("model server at " + url_ + " answered without choices[0].message.content");
        Completion c;
        if (content->is_string()) c.text = content->get<std::string>();
        if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
          c.prompt_tokens = u->value("prompt_tokens", 0);
          c.completion_tokens = u->value("completion_tokens", 0);
        }
        return c;
      }
      last_error = "model server at " + url_ + " answered HTTP " + std::to_string(status) + ": " + server_message(body);
      retryable = status == 429 || status >= 500;
    }
    if (!retryable || attempt + 1 == attempts) break;
    double wait = options_.backoff_s * static_cast<double>(1 << std::min(attempt, 10));
    wait *= std::uniform_real_distribution<double>(0.8, 1.2)(jitter);
    if (retry_after > 0) wait = retry_after;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(wait, kMaxBackoffS)));
  }
  if (made > 1) last_error += " (after " + std::to_string(made) + " attempts)";
  throw ModelError(last_error);
}

}  // namespace taco
