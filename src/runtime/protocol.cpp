#include "runtime/protocol.h"

#include <chrono>

#include "cota/parse.h"
#include "runtime/episode.h"
#include "tools/image_store.h"
#include "util/error.h"
#include "util/pyrepr.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace taco {
namespace {

using Clock = std::chrono::steady_clock;

// The system prompt of the tools protocol: the actions come as the request's tools, so it only
// says how to use them.
const char* const kToolsSystemPrompt =
    "You answer questions about images. The images are named image-0, image-1, ...; pass those names to the tools that take an "
    "image. Think step by step: say briefly what you will do, call the tools that help (several at once when they do not depend "
    "on each other), read what they return, and when you know the answer, call Terminate with it.";

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// What a failed call is in the trace: an action that does not exist, wrong arguments, or a tool
// that failed.
const char* error_kind_of(const ToolError& e, const std::string& action, const ToolRegistry& tools) {
  if (e.kind() == ToolFailure::kKeyError && !tools.find(action)) return "unknown_tool";
  return e.kind() == ToolFailure::kTypeError ? "arguments" : "tool";
}

// TACO's: a JSON step (thought and actions) in the reply's text; the first action runs and its
// observation is the next user message.
class CotaProtocol : public Protocol {
 public:
  CotaProtocol(const ToolRegistry& tools, const PromptTemplate& prompts, int max_replies)
      : tools_(tools), prompts_(prompts), max_replies_(max_replies), system_prompt_(prompts.cota_system(tools.action_docs())) {}
  const std::string& system_prompt() const override { return system_prompt_; }
  std::string user_request(const Task& task, const std::vector<std::string>& image_names) const override {
    return prompts_.user_request(task.question, image_names, true);
  }
  bool on_reply(EpisodeState& episode, StepRecord& step, const Json& tool_calls, int reply) const override;

 private:
  const ToolRegistry& tools_;
  PromptTemplate prompts_;
  int max_replies_;
  std::string system_prompt_;
};

bool CotaProtocol::on_reply(EpisodeState& episode, StepRecord& step, const Json&, int reply) const {
  const Task& task = episode.task;
  Trace& trace = episode.trace;
  ImageStore& images = episode.images;
  episode.messages.push_back(Message{"assistant", {{step.raw, nullptr}}});
  bool terminated = false;
  ParseResult parsed = parse_response(step.raw);
  if (parsed.ok()) {
    step.content = std::move(parsed.step);
    const auto tool_start = Clock::now();
    if (step.content->actions.empty()) {
      step.observation = Json{{"message", prompts_.no_action_message()}};
      step.feedback = prompts_.observation(python_repr(step.observation));
    } else {
      const Action& action = step.content->actions.front();
      try {
        auto ctx = images.context_for(task.id);
        step.observation = tools_.execute(action, ctx);
        step.new_images = images.commit(*ctx, action.name);
        step.details = ctx->details();
        if (action.name == "Terminate") {
          terminated = true;
          trace.answer = step.observation.value("answer", "");
          trace.answer_source = "terminate";
        } else {
          step.feedback = prompts_.observation(observation_repr(step.observation, step.new_images));
        }
      } catch (const ToolError& e) {
        step.error_kind = error_kind_of(e, action.name, tools_);
        step.error = e.what();
        step.feedback = prompts_.execution_error(e.observation());
      } catch (const std::exception& e) {
        // A tool bug must not end the batch: it is reported to the model like any failure.
        step.error_kind = "tool";
        step.error = e.what();
        step.feedback = prompts_.execution_error(ToolError(ToolFailure::kRuntimeError, step.error).observation());
      }
    }
    step.tool_ms = ms_since(tool_start);
  } else {
    step.parse_error = parsed.error_kind;
    step.error_kind = to_string(parsed.error_kind);
    step.error = parsed.error;
    // TACO stops on any reply that mentions Terminate, even one it cannot parse.
    if (step.raw.find("Terminate") != std::string::npos) {
      terminated = true;
      trace.answer = extract_answer(step.raw);
      trace.answer_source = trace.answer.empty() ? "none" : "extracted";
    } else {
      step.feedback = prompts_.parse_error(parsed.error_kind, parsed.error);
    }
  }

  if (terminated) {
    trace.status = TraceStatus::kTerminated;
    return true;
  }
  if (reply >= max_replies_) {
    step.feedback.clear();  // never sent
    trace.status = TraceStatus::kMaxReplies;
    trace.answer = extract_answer(step.raw);
    trace.answer_source = trace.answer.empty() ? "none" : "extracted";
    return true;
  }
  episode.messages.push_back(make_message("user", step.feedback, images));
  return false;
}

// Direct: one reply, which is the answer.
class DirectProtocol : public Protocol {
 public:
  explicit DirectProtocol(const PromptTemplate& prompts) : prompts_(prompts), system_prompt_(prompts.direct_system()) {}
  const std::string& system_prompt() const override { return system_prompt_; }
  std::string user_request(const Task& task, const std::vector<std::string>& image_names) const override {
    return prompts_.user_request(task.question, image_names, false);
  }
  bool on_reply(EpisodeState& episode, StepRecord& step, const Json&, int) const override {
    episode.messages.push_back(Message{"assistant", {{step.raw, nullptr}}});
    Trace& trace = episode.trace;
    trace.answer = step.raw;
    size_t b = trace.answer.find_first_not_of(" \t\r\n");
    size_t e = trace.answer.find_last_not_of(" \t\r\n");
    trace.answer = b == std::string::npos ? "" : trace.answer.substr(b, e - b + 1);
    trace.answer_source = "direct";
    trace.status = TraceStatus::kDirect;
    return true;
  }

 private:
  PromptTemplate prompts_;
  std::string system_prompt_;
};

// OpenAI tool calls: the actions go as the request's tools; every call of a reply runs, each
// result goes back as a tool message; a reply without calls is the answer.
class ToolCallsProtocol : public Protocol {
 public:
  ToolCallsProtocol(const ToolRegistry& tools, int max_replies) : tools_(tools), max_replies_(max_replies), system_prompt_(kToolsSystemPrompt) {
    for (const auto& d : tools_.tools()) {
      if (!d->unavailable_reason().empty()) continue;
      const ToolSpec& spec = d->spec();
      tool_schemas_.push_back(Json{{"type", "function"},
                                   {"function", {{"name", spec.name}, {"description", spec.description}, {"parameters", tool_input_schema(spec)}}}});
    }
  }
  const std::string& system_prompt() const override { return system_prompt_; }
  std::string user_request(const Task& task, const std::vector<std::string>& image_names) const override {
    std::string request = task.question;
    for (const auto& name : image_names) request += "\n" + name + ": <image>";
    return request;
  }
  void prepare(CompletionRequest& request) const override {
    request.tools = tool_schemas_;
    request.tool_choice = "auto";
  }
  bool on_reply(EpisodeState& episode, StepRecord& step, const Json& calls, int reply) const override;

 private:
  const ToolRegistry& tools_;
  int max_replies_;
  std::string system_prompt_;
  Json tool_schemas_ = Json::array();
};

// A call's arguments as an object; `problem` says why when they are not one (the call then
// fails with a TypeError the model reads).
Json call_arguments(const std::string& name, const Json& function, std::string& problem) {
  if (name.empty()) {
    problem = "a tool call without a function name";
    return Json::object();
  }
  if (!function.contains("arguments")) return Json::object();
  const Json& given = function["arguments"];
  // OpenAI sends the arguments as a JSON string; some servers send the object itself.
  Json args = given.is_string() ? parse_json_or_discarded(given.get<std::string>()) : given;
  if (args.is_null() && given.is_string() && given.get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  if (!args.is_object()) {
    std::string shown = given.is_string() ? given.get<std::string>() : given.dump();
    if (shown.size() > 200) shown = std::string(utf8_prefix(shown, 200)) + "...";
    problem = "the arguments of " + name + " must be a JSON object, got: " + shown;
    return Json::object();
  }
  return args;
}

bool ToolCallsProtocol::on_reply(EpisodeState& episode, StepRecord& step, const Json& calls, int reply) const {
  const Task& task = episode.task;
  Trace& trace = episode.trace;
  ImageStore& images = episode.images;
  std::vector<Message>& messages = episode.messages;
  Message assistant{"assistant", {}};
  if (!step.raw.empty()) assistant.parts.push_back({step.raw, nullptr});
  const bool calling = calls.is_array() && !calls.empty();
  if (calling) assistant.tool_calls = calls;
  messages.push_back(std::move(assistant));
  if (!calling) {
    // An answer in plain text, without a call: the episode's answer.
    trace.status = TraceStatus::kTerminated;
    trace.answer = trim(step.raw);
    trace.answer_source = trace.answer.empty() ? "none" : "text";
    return true;
  }
  StepContent content;
  content.thought = step.raw;
  Json results = Json::array();
  std::vector<Message> replies;  // one tool message per call, in the calls' order
  std::string shown_images;      // "image-k: <image>" for each image the calls made
  bool terminated = false;
  const auto tool_start = Clock::now();
  for (const auto& call : calls) {
    // A call as a model or client sent it: any member may be of another type than OpenAI's.
    auto text_member = [](const Json& j, const char* key) {
      return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
    const std::string id = text_member(call, "id");
    const Json function = call.is_object() && call.contains("function") ? call["function"] : Json::object();
    const std::string name = text_member(function, "name");
    std::string problem;
    Json args = call_arguments(name, function, problem);
    content.actions.push_back(Action{name, args});
    std::string said;
    try {
      if (!problem.empty()) throw ToolError(ToolFailure::kTypeError, problem);
      auto ctx = images.context_for(task.id);
      Json result = tools_.execute(Action{name, args}, ctx);
      const auto made = images.commit(*ctx, name);
      step.new_images.insert(step.new_images.end(), made.begin(), made.end());
      for (const auto& m : made) shown_images += "\n" + m + ": <image>";
      if (!ctx->details().is_null() && step.details.is_null()) step.details = ctx->details();
      if (name == "Terminate") {
        terminated = true;
        trace.answer = result.value("answer", "");
        trace.answer_source = "terminate";
      }
      results.push_back(result);
      said = observation_repr(result, made);
    } catch (const ToolError& e) {
      if (step.error_kind.empty()) {
        step.error_kind = error_kind_of(e, name, tools_);
        step.error = e.what();
      }
      results.push_back(Json{{"error", e.observation()}});
      said = e.observation();
    } catch (const std::exception& e) {
      if (step.error_kind.empty()) step.error_kind = "tool", step.error = e.what();
      said = ToolError(ToolFailure::kRuntimeError, e.what()).observation();
      results.push_back(Json{{"error", said}});
    }
    replies.push_back(Message{"tool", {{said, nullptr}}, nullptr, id});
    step.feedback += (step.feedback.empty() ? "" : "\n") + said;
  }
  step.content = std::move(content);
  step.observation = results.size() == 1 ? results[0] : results;
  step.tool_ms = ms_since(tool_start);
  if (terminated) {
    trace.status = TraceStatus::kTerminated;
    step.feedback.clear();
    return true;
  }
  if (reply >= max_replies_) {
    trace.status = TraceStatus::kMaxReplies;
    step.feedback.clear();  // never sent
    trace.answer_source = "none";
    return true;
  }
  for (auto& m : replies) messages.push_back(std::move(m));
  // Tool messages carry text only: the images the tools made follow in a user message.
  if (!shown_images.empty()) {
    const std::string text = "The tools returned these images:" + shown_images;
    messages.push_back(make_message("user", text, images));
    step.feedback += "\n" + text;
  }
  return false;
}

}  // namespace

Message make_message(const std::string& role, const std::string& text, const ImageStore& images) {
  static const std::string kPlaceholder = "<image>";
  Message m{role, {}};
  size_t from = 0, at;
  while ((at = text.find(kPlaceholder, from)) != std::string::npos) {
    // Find the "image-k: " right before the placeholder.
    size_t colon = at >= 2 ? text.rfind(": ", at - 1) : std::string::npos;
    const ImageStore::Entry* entry = nullptr;
    if (colon != std::string::npos && colon + 2 == at) {
      size_t name_start = text.rfind("image-", colon);
      if (name_start != std::string::npos && name_start >= from)
        entry = images.find(std::string_view(text).substr(name_start, colon - name_start));
    }
    if (!entry) {
      m.parts.push_back({text.substr(from, at + kPlaceholder.size() - from), nullptr});
    } else {
      m.parts.push_back({text.substr(from, at - from), nullptr});
      m.parts.push_back({"", entry->data_url});
    }
    from = at + kPlaceholder.size();
  }
  if (from < text.size()) m.parts.push_back({text.substr(from), nullptr});
  return m;
}

std::unique_ptr<Protocol> make_protocol(const EpisodeOptions& options, const Model& model, const ToolRegistry& tools,
                                        const PromptTemplate& prompts) {
  if (options.protocol == ActionProtocol::kTools) {
    if (!model.takes_tools())
      throw Error("EpisodeOptions.protocol tools needs a model served with tool calling (ModelOptions.endpoint); " + model.name() +
                  " writes its actions as text");
    if (options.mode != PromptMode::kCota) throw Error("EpisodeOptions.protocol tools is for episodes with tools (EpisodeOptions.mode cota)");
    return std::make_unique<ToolCallsProtocol>(tools, options.max_replies);
  }
  if (options.mode == PromptMode::kCota) return std::make_unique<CotaProtocol>(tools, prompts, options.max_replies);
  return std::make_unique<DirectProtocol>(prompts);
}

}  // namespace taco
