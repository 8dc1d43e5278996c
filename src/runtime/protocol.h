// Protocol: how an episode talks with its model, one type per way (the runtime's loop calls it
// and knows none of them): TACO's CoTA steps written in the reply (cota), the reply as the
// answer (direct), and OpenAI tool calls (tools: a model served with native tool calling).
// A protocol says what the system prompt and the user's request are, what a request carries,
// and what one reply does: run its action(s), feed back what the model reads next, or end the
// episode with an answer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cota/prompt.h"
#include "cota/trace.h"
#include "models/model.h"
#include "tools/registry.h"

namespace taco {

class ImageStore;
struct EpisodeOptions;

// What one episode's replies work on.
struct EpisodeState {
  const Task& task;
  Trace& trace;
  ImageStore& images;
  std::vector<Message>& messages;  // the conversation so far; a reply's handling appends to it
};

class Protocol {
 public:
  virtual ~Protocol() = default;
  virtual const std::string& system_prompt() const = 0;
  // The first user message's text; images named "image-k: <image>" travel where it names them.
  virtual std::string user_request(const Task& task, const std::vector<std::string>& image_names) const = 0;
  // What a request to the model carries besides the messages (the tools, for native calls).
  virtual void prepare(CompletionRequest&) const {}
  // Handles reply number `reply` (step.raw and `tool_calls` as the model gave them): fills the
  // step (and the trace's status and answer when the episode ends), and appends to the
  // conversation what the model reads next. True when the episode is over.
  virtual bool on_reply(EpisodeState& episode, StepRecord& step, const Json& tool_calls, int reply) const = 0;
};

// The protocol EpisodeOptions ask for (mode and protocol); throws Error naming the setting when
// they do not fit the model (tool calls need a model that takes_tools()).
std::unique_ptr<Protocol> make_protocol(const EpisodeOptions& options, const Model& model, const ToolRegistry& tools,
                                        const PromptTemplate& prompts);

// A message whose text is split at each "image-k: <image>", the image travelling right there.
Message make_message(const std::string& role, const std::string& text, const ImageStore& images);

}  // namespace taco
