// RL environments over HTTP (taco serve's /v1/envs): taco's tasks, tools and verifier for a
// trainer that runs elsewhere (verl, OpenRLHF, TRL on GPUs). An environment is one episode whose
// replies come from the client: reset gives the opening messages, each step takes the policy's
// reply (text, or tool calls), runs it through the same protocol, parser and tools as `taco run`
// and answers with what the model reads next; the last step carries the reward, scored as
// `taco rl` scores (rl/reward.h). docs/rl.md shows the calls and each framework's glue.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "cota/prompt.h"
#include "cota/task.h"
#include "cota/trace.h"
#include "rl/reward.h"
#include "runtime/episode.h"
#include "tools/registry.h"

namespace taco {

struct EnvOptions {
  std::vector<std::string> tasks;  // task files (taco gen --format tasks), each task with its answer
  RewardSettings reward;
  size_t max_envs = 256;           // live at once; past it a reset is refused (429)
  double idle_timeout_s = 600;     // an environment nobody stepped for this long is ended (at most 1e6)
  int max_replies_limit = 50;      // the most replies a reset may ask for
  size_t max_reply_bytes = 1 << 20;  // a reply's text, at most
  size_t max_calls = 16;           // tool calls in one reply, at most
};

// A request the environments refuse: the HTTP status and one line saying why.
struct EnvError : Error {
  EnvError(int status, const std::string& message) : Error(message), status(status) {}
  int status;
};

class Environments {
 public:
  // A finished environment's trace (its id, the trace), for the server to keep and show.
  using OnFinished = std::function<void(const std::string& id, const Trace& trace, const RewardParts& reward)>;

  // Reads the task files: every task must be rewardable (Error naming the file and task when
  // one is not). `episode` holds the defaults a reset may change (prompt mode, max replies,
  // protocol); tool outputs go under `work_dir`/<environment id>.
  Environments(const ToolRegistry& tools, PromptTemplate prompts, EpisodeOptions episode, EnvOptions options,
               std::string work_dir, OnFinished on_finished);
  ~Environments();

  // POST /v1/envs: {"task_id"} or {"seed"} (a task drawn by it) or neither (a random task);
  // optional "prompt" (cota|direct), "protocol" (cota|tools), "max_replies", "model" (a name for
  // the trace). The reply's JSON text: id, task, messages (OpenAI's, images as data URLs), tools
  // (protocol tools), done.
  std::string reset(const Json& body);
  // POST /v1/envs/{id}/step: {"content"} and/or {"tool_calls"}, or {"message": an assistant
  // message}. The reply's JSON text: observation (the messages that follow the reply), reward,
  // done, and once done the status, answer, right and each part of the reward.
  std::string step(const std::string& id, const Json& body);
  // DELETE /v1/envs/{id}: ends it (its trace kept, status error "closed by the client").
  Json close(const std::string& id);
  // GET /v1/envs: the live environments.
  Json list();

  size_t tasks() const { return tasks_.size(); }
  // The folders the tasks' input images are in (the viewer may show them).
  std::vector<std::string> image_folders() const;

 private:
  struct Env;
  std::shared_ptr<Env> find(const std::string& id);
  // Takes `id` out of the live ones (the caller holds its lock and ends it).
  void forget(const std::string& id);
  // Ends the environments nobody stepped for idle_timeout_s.
  void end_idle();
  // Ends `env` (with `error` as the trace's when not empty), scores it and hands it on.
  RewardParts finish(Env& env, const std::string& error, Trace* trace_out = nullptr);

  const ToolRegistry& tools_;
  PromptTemplate prompts_;
  EpisodeOptions episode_;
  EnvOptions options_;
  std::string work_dir_;
  OnFinished on_finished_;
  std::vector<Task> tasks_;
  std::map<std::string, size_t> task_index_;
  std::mutex mu_;                  // guards envs_, rng_, next_id_
  std::map<std::string, std::shared_ptr<Env>> envs_;
  std::mt19937_64 rng_;
  uint64_t next_id_ = 1;
};

}  // namespace taco
