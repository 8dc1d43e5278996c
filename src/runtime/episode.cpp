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
      protocol_(make_protocol(options_, model_, tools_, prompts_)), template_hash_(prompts_.hash()),
      input_images_(std::make_shared<InputImageCache>()) {}

const std::string& Runtime::system_prompt() const { return protocol_->system_prompt(); }

Episode::Episode(const Runtime& runtime, const Task& task, const std::string& images_dir)
    : runtime_(runtime), start_(Clock::now()) {
  const EpisodeOptions& o = runtime.options_;
  trace_.task = task;
  trace_.model = runtime.model_.name();
  trace_.mode = o.mode;
  trace_.prompt_template_sha256 = runtime.template_hash_;
  trace_.inputs_blanked = o.blank_inputs;
  trace_.protocol = to_string(o.protocol);
  const std::string& dir = images_dir.empty() ? o.images_dir : images_dir;
  images_ = std::make_unique<ImageStore>(dir.empty() ? "" : dir + "/" + safe_file_name(task.id), o.max_pixels,
                                         runtime.input_images_.get());
  try {
    for (const auto& path : task.images) images_->add_input(path, o.blank_inputs);
  } catch (const Error& e) {
    end_error(e);
    return;
  }
  const Protocol& protocol = *runtime.protocol_;
  trace_.user_request = protocol.user_request(task, images_->names());
  messages_.push_back(Message{"system", {{protocol.system_prompt(), nullptr}}});
  messages_.push_back(make_message("user", trace_.user_request, *images_));
}

Episode::~Episode() = default;

CompletionRequest Episode::request(const Cancellation* cancel, ModelSession* session) const {
  CompletionRequest request{trace_.task.id, &messages_};
  request.cancel = cancel;
  request.session = session;
  runtime_.protocol_->prepare(request);
  return request;
}

bool Episode::take(Completion reply, double model_ms) {
  if (over_) throw Error("episode " + trace_.task.id + " is over: it takes no more replies");
  StepRecord step;
  step.raw = std::move(reply.text);
  step.prompt_tokens = reply.prompt_tokens;
  step.completion_tokens = reply.completion_tokens;
  step.model_ms = model_ms;
  EpisodeState state{trace_.task, trace_, *images_, messages_};
  over_ = runtime_.protocol_->on_reply(state, step, reply.tool_calls, replies_++);
  trace_.steps.push_back(std::move(step));
  return over_;
}

void Episode::end_context_full() {
  // Like a spent reply budget: the episode is over, with whatever answer its last reply gave.
  trace_.status = TraceStatus::kContextFull;
  if (!trace_.steps.empty()) {
    trace_.steps.back().feedback.clear();  // the model could not take it in: the trace ends at the reply, as on max_replies
    trace_.answer = extract_answer(trace_.steps.back().raw);
  }
  trace_.answer_source = trace_.answer.empty() ? "none" : "extracted";
  over_ = true;
}

void Episode::end_error(const Error& e) {
  trace_.status = TraceStatus::kError;
  trace_.error = e.what();
  trace_.model_unreachable = dynamic_cast<const ModelUnreachableError*>(&e) != nullptr;
  over_ = true;
}

Trace Episode::finish() {
  for (const auto& e : images_->entries())
    trace_.images.push_back(TraceImage{e.name, e.path, e.source, e.image.width(), e.image.height()});
  trace_.wall_ms = ms_since(start_);
  over_ = true;
  return std::move(trace_);
}

Trace Runtime::run(const Task& task, const StepCallback& on_step, const Cancellation* cancel, ModelSession* session) const {
  Episode episode(*this, task);
  if (episode.over()) return episode.finish();
  std::unique_ptr<ModelSession> own_session;
  if (!session) {
    try {
      own_session = model_.open_session({});
    } catch (const Error& e) {
      episode.end_error(e);
      return episode.finish();
    }
    session = own_session.get();
  }
  while (true) {
    Completion reply;
    const auto model_start = Clock::now();
    try {
      if (cancel && cancel->stopped()) throw CancelledError("the episode was stopped: " + cancel->reason());
      reply = model_.complete(episode.request(cancel, session));
    } catch (const ContextFullError&) {
      episode.end_context_full();
      return episode.finish();
    } catch (const Error& e) {
      episode.end_error(e);
      return episode.finish();
    }
    const bool over = episode.take(std::move(reply), ms_since(model_start));
    if (on_step) on_step(episode.trace(), episode.trace().steps.back());
    if (over) return episode.finish();
  }
}

}  // namespace taco
