// taco serve: taco behind OpenAI's chat-completions API, so that agents, notebooks and
// services that speak it can use taco's model and whole CoTA episodes (docs/serve.md).
//
//   GET  /health                 {"status": "ok"} (no key needed)
//   GET  /v1/models              the backing model and "taco-agent"
//   POST /v1/chat/completions    the backing model answers; "taco-agent" runs a whole episode
//                                with the tools and answers with its final answer (the trace
//                                in an extra "taco" field); "stream": true as server-sent events
//   POST /v1/episodes            images + question -> the episode's trace
//   GET  /v1/episodes[/ID]       recent episodes
//   POST /v1/envs                RL environments (serve/envs.h): reset, a task by id or drawn
//   POST /v1/envs/ID/step        the policy's reply -> the observation, reward, done
//   GET  /v1/envs, DELETE /v1/envs/ID
//   GET  /metrics                Prometheus text
//   GET  /                       the trace viewer over the server's episodes (serve/viewer.h;
//                                without --api-key only: the page cannot send a key)
//
// Errors come in OpenAI's shape, {"error": {"message", "type", "param", "code"}}.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cota/prompt.h"
#include "models/model.h"
#include "runtime/episode.h"
#include "serve/envs.h"
#include "tools/registry.h"

namespace taco {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                      // 0: any free port (bind() says which)
  std::string api_key;                  // "" : no auth; else every /v1 request needs "Authorization: Bearer KEY"
  int max_concurrency = 8;              // requests in flight; past it 429 with Retry-After
  size_t max_body_bytes = 64u << 20;    // larger bodies: 413
  std::string max_body_name = "ServeOptions.max_body_bytes";  // how the 413 names the limit (the CLI: its flag)
  std::string work_dir;                 // where request images are written (episodes' inputs and tool outputs)
  size_t keep_episodes = 1000;          // recent episodes GET /v1/episodes keeps; older ones' images are removed
  double request_timeout_s = 600;       // a request's work stops after this long (504); 0: no limit
  // The names clients use for the backing model (vLLM's --served-model-name); empty: its own name.
  std::vector<std::string> served_model_names;
  // Folders besides work_dir and the working folder whose images the viewer at / may show.
  std::vector<std::string> allowed_roots;
  bool access_log = true;  // one line per request on standard error
  EnvOptions envs;         // RL environments at /v1/envs (none without task files)
};

class Server {
 public:
  // `episode` holds the defaults a request may override (prompt mode, max replies).
  Server(Model& model, const ToolRegistry& tools, PromptTemplate prompts, EpisodeOptions episode, ServeOptions options);
  ~Server();
  // Binds the address; returns the port. Throws Error when it cannot.
  int bind();
  // Serves until stop(): blocks. Requests in flight when stop() is called are finished.
  void serve();
  // Stops accepting connections; serve() returns once the requests in flight are answered.
  // Safe to call from another thread (a signal handler's).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The agent's model name: a chat completion with this model runs a whole episode.
inline constexpr const char* kAgentModelName = "taco-agent";

}  // namespace taco
