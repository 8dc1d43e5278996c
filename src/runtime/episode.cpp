#include "runtime/episode.h"

#include <chrono>
#include <cctype>
#include <optional>

#include "runtime/protocol.h"
#include "tools/image_store.h"
#include "util/files.h"
#include "util/pyrepr.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace taco {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The first `<q>answer<q> : <q>...<q>` with q one quote character. Scanned by hand: std::regex
// recurses once per character of the answer, and a 30 KB answer overflowed the stack.
std::optional<std::string> quoted_answer(const std::string& message, char q) {
  const std::string key = std::string(1, q) + "answer" + q;
  auto skip_spaces = [&](size_t i) {
    while (i < message.size() && std::isspace(static_cast<unsigned char>(message[i]))) ++i;
    return i;
  };
  for (size_t at = message.find(key); at != std::string::npos; at = message.find(key, at + 1)) {
    size_t i = skip_spaces(at + key.size());
    if (i >= message.size() || message[i] != ':') continue;
    i = skip_spaces(i + 1);
    if (i >= message.size() || message[i] != q) continue;
    const size_t close = message.find(q, i + 1);
    if (close == std::string::npos) continue;
    return message.substr(i + 1, close - i - 1);
  }
  return std::nullopt;
}

}  // namespace

std::string extract_answer(const std::string& message) {
  if (auto a = quoted_answer(message, '"')) return *a;
  return quoted_answer(message, '\'').value_or("");
}

const char* to_string(ActionProtocol protocol) { return protocol == ActionProtocol::kTools ? "tools" : "cota"; }

ActionProtocol action_protocol_from_string(const std::string& word) {
  if (word == "cota") return ActionProtocol::kCota;
  if (word == "tools") return ActionProtocol::kTools;
  throw Error("EpisodeSettings.protocol is cota or tools, not '" + word + "'");
}

Runtime::Runtime(Model& model, const ToolRegistry& tools, PromptTemplate prompts, EpisodeOptions options)
    : model_(model), tools_(tools), prompts_(std::move(prompts)), options_(std::move(options)),
      protocol_(make_protocol(options_, model_, tools_, prompts_)), template_hash_(prompts_.hash()) {}

const std::string& Runtime::system_prompt() const { return protocol_->system_prompt(); }

Trace Runtime::run(const Task& task, const StepCallback& on_step, const Cancellation* cancel, ModelSession* session) const {
  const auto start = Clock::now();
  Trace trace;
  trace.task = task;
  trace.model = model_.name();
  trace.mode = options_.mode;
  trace.prompt_template_sha256 = template_hash_;
  trace.inputs_blanked = options_.blank_inputs;
  trace.protocol = to_string(options_.protocol);

  ImageStore images(options_.images_dir.empty() ? "" : options_.images_dir + "/" + safe_file_name(task.id),
                    options_.max_pixels);
  auto finish = [&]() -> Trace {
    for (const auto& e : images.entries())
      trace.images.push_back(TraceImage{e.name, e.path, e.source, e.image.width(), e.image.height()});
    trace.wall_ms = ms_since(start);
    return std::move(trace);
  };

  try {
    for (const auto& path : task.images) images.add_input(path, options_.blank_inputs);
  } catch (const Error& e) {
    trace.status = TraceStatus::kError;
    trace.error = e.what();
    return finish();
  }

  trace.user_request = protocol_->user_request(task, images.names());
  std::vector<Message> messages;
  messages.push_back(Message{"system", {{protocol_->system_prompt(), nullptr}}});
  messages.push_back(make_message("user", trace.user_request, images));
  EpisodeState episode{task, trace, images, messages};
  std::unique_ptr<ModelSession> own_session;
  if (!session) {
    try {
      own_session = model_.open_session({});
    } catch (const Error& e) {
      trace.status = TraceStatus::kError;
      trace.error = e.what();
      return finish();
    }
    session = own_session.get();
  }

  for (int reply = 0;; ++reply) {
    StepRecord step;
    Json tool_calls;
    const auto model_start = Clock::now();
    try {
      if (cancel && cancel->stopped()) throw CancelledError("the episode was stopped: " + cancel->reason());
      CompletionRequest request{task.id, &messages};
      request.cancel = cancel;
      request.session = session;
      protocol_->prepare(request);
      Completion c = model_.complete(request);
      step.raw = std::move(c.text);
      tool_calls = std::move(c.tool_calls);
      step.prompt_tokens = c.prompt_tokens;
      step.completion_tokens = c.completion_tokens;
    } catch (const ContextFullError& e) {
      // Like a spent reply budget: the episode is over, with whatever answer its last reply gave.
      trace.status = TraceStatus::kContextFull;
      if (!trace.steps.empty()) {
        trace.steps.back().feedback.clear();  // the model could not take it in: the trace ends at the reply, as on max_replies
        trace.answer = extract_answer(trace.steps.back().raw);
      }
      trace.answer_source = trace.answer.empty() ? "none" : "extracted";
      return finish();
    } catch (const Error& e) {
      trace.status = TraceStatus::kError;
      trace.error = e.what();
      trace.model_unreachable = dynamic_cast<const ModelUnreachableError*>(&e) != nullptr;
      return finish();
    }
    step.model_ms = ms_since(model_start);
    const bool over = protocol_->on_reply(episode, step, tool_calls, reply);
    trace.steps.push_back(std::move(step));
    if (on_step) on_step(trace, trace.steps.back());
    if (over) return finish();
  }
}

}  // namespace taco
