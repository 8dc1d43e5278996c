// Runtime: runs one episode. In CoTA mode it prompts the model, parses each reply, executes
// the first action through the tool registry, feeds the observation back (images included),
// and repeats until Terminate or the reply budget runs out. In Direct mode it makes one call
// whose reply is the answer. Every episode becomes a Trace, including the ones that fail.
//
// A Runtime is immutable once built and shared by all episode threads; run() is thread-safe
// provided the Model is (all taco models are).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cota/prompt.h"
#include "cota/trace.h"
#include "models/model.h"
#include "tools/image.h"
#include "tools/registry.h"

namespace taco {

class Episode;
class ImageStore;
class InputImageCache;
class Protocol;

// How the model calls actions: kCota (a JSON step in its reply, TACO's protocol) or kTools (the
// registry's actions as OpenAI tools, read back from tool_calls: models served with native tool
// calling; needs a model that takes_tools()). Traces and settings spell them "cota" and "tools".
enum class ActionProtocol { kCota, kTools };
const char* to_string(ActionProtocol protocol);
// Throws Error naming EpisodeSettings.protocol for another word.
ActionProtocol action_protocol_from_string(const std::string& word);

struct EpisodeOptions {
  PromptMode mode = PromptMode::kCota;
  int max_replies = 10;         // observations fed back at most; the model is called up to max_replies + 1 times
  std::string images_dir;       // tool outputs go to <images_dir>/<task id>/image-k.png ("" keeps them in memory)
  int64_t max_pixels = kDefaultMaxPixels;
  bool blank_inputs = false;    // the model sees gray input images, the tools the real ones (ImageStore::add_input)
  ActionProtocol protocol = ActionProtocol::kCota;
};

class Runtime {
 public:
  using StepCallback = std::function<void(const Trace&, const StepRecord&)>;

  Runtime(Model& model, const ToolRegistry& tools, PromptTemplate prompts, EpisodeOptions options);

  // Runs the task. Never throws for problems of the task, the model or the tools: those end up
  // in the trace (status kError with `error`, or error observations in the steps). A
  // `cancel` that says stop ends the episode at the next model call or token (status kError,
  // the error saying why); a tool call under way finishes first. The model reads the episode
  // in `session` (fresh from the model's open_session, for a caller that wants what it
  // records); without one the episode opens its own where the model offers sessions.
  Trace run(const Task& task, const StepCallback& on_step = nullptr, const Cancellation* cancel = nullptr,
            ModelSession* session = nullptr) const;

  const std::string& system_prompt() const;
  const EpisodeOptions& options() const { return options_; }
  const PromptTemplate& prompts() const { return prompts_; }
  const Model& model() const { return model_; }
  const std::string& prompt_template_sha256() const { return template_hash_; }

 private:
  friend class Episode;
  Model& model_;
  const ToolRegistry& tools_;
  PromptTemplate prompts_;
  EpisodeOptions options_;
  std::shared_ptr<const Protocol> protocol_;  // how the episode talks with the model (runtime/protocol.h)
  std::string template_hash_;
  std::shared_ptr<InputImageCache> input_images_;  // decoded input files, shared by the episodes
};

// One episode taken a reply at a time: Runtime::run hands it the model's replies; an RL
// environment (taco serve's /v1/envs) hands it the replies a client sends. It parses them, runs
// their actions and says what the model reads next, exactly as a run does. Not thread-safe: one
// caller at a time.
class Episode {
 public:
  // Reads the task's input images (into `images_dir`/<task id> when given, else the runtime's
  // folder); an input that cannot be read ends the episode at once (status error). The runtime
  // must outlive the episode.
  Episode(const Runtime& runtime, const Task& task, const std::string& images_dir = "");
  ~Episode();

  bool over() const { return over_; }
  // The conversation so far: what the model reads for its next reply.
  const std::vector<Message>& messages() const { return messages_; }
  const Trace& trace() const { return trace_; }
  // A request for the next reply (the messages and what the protocol adds, such as tools).
  CompletionRequest request(const Cancellation* cancel = nullptr, ModelSession* session = nullptr) const;
  // Takes the next reply (`model_ms`: how long it took); true when the episode is over.
  bool take(Completion reply, double model_ms = 0);
  // Ends it without a reply: the context is full (kContextFull, with the last reply's answer) or
  // the model failed (kError).
  void end_context_full();
  void end_error(const Error& e);
  // The finished trace (its images and wall time filled in); the episode is spent after it.
  Trace finish();

 private:
  const Runtime& runtime_;
  Trace trace_;
  std::unique_ptr<ImageStore> images_;
  std::vector<Message> messages_;
  int replies_ = 0;
  bool over_ = false;
  std::chrono::steady_clock::time_point start_;
};

// TACO's fallback when an episode ends without a parsed Terminate: the "answer" field of the
// last message, read with a pattern rather than a parser. Empty when there is none.
std::string extract_answer(const std::string& message);

}  // namespace taco
