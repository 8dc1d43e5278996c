// OpenAIModel: chat completions over HTTP(S) with libcurl, for every OpenAI-compatible server
// (OpenAI, vLLM, SGLang, llama.cpp's llama-server, taco's own). Images go as base64 data URLs,
// several per message. Connection errors, 429 and 5xx are retried with exponential backoff
// (honouring Retry-After); other errors fail at once with the server's message.
// Thread-safe; connections are reused across calls (util/http_client.h).
#pragma once

#include <string>
#include <vector>

#include "models/model.h"
#include "util/http_client.h"
#include "util/json.h"

namespace taco {

class OpenAIModel : public Model {
 public:
  explicit OpenAIModel(ModelOptions options);
  Completion complete(const CompletionRequest& request) override;
  std::string name() const override { return options_.model; }
  // GET <endpoint>/models: any HTTP answer (even 404 from a server without that route) will do.
  void check_reachable() const override;

  // Requests' tools, tool_choice and response_format go to the server as they are.
  bool takes_tools() const override { return true; }
  bool takes_response_format(const Json&) const override { return true; }

  // The JSON request body for a request (exposed for tests).
  std::string request_payload(const CompletionRequest& request) const;
  const std::string& url() const { return url_; }

 private:
  Completion parse_completion(const std::string& body) const;

  ModelOptions options_;
  std::string base_;  // the endpoint, ending in /v1
  std::string url_;
  std::string api_key_;
  HttpClient http_;
};

}  // namespace taco
