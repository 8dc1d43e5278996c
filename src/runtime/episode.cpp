#include "runtime/episode.h"

#include <chrono>
#include <cctype>
#include <optional>

#include "cota/parse.h"
#include "tools/image_store.h"
#include "util/files.h"
#include "util/pyrepr.h"

namespace taco {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Splits text at each "image-k: <image>" so the image travels right where the text names it.
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

Runtime::Runtime(Model& model, const ToolRegistry& tools, PromptTemplate prompts, EpisodeOptions options)
    : model_(model), tools_(tools), prompts_(std::move(prompts)), options_(std::move(options)) {
  system_prompt_ = options_.mode == PromptMode::kCota ? prompts_.cota_system(tools_.action_docs())
                                                       : prompts_.direct_system();
  template_hash_ = prompts_.hash();
}

Trace Runtime::run(const Task& task, const StepCallback& on_step, const Cancellation* cancel) const {
  const auto start = Clock::now();
  Trace trace;
  trace.task = task;
  trace.model = model_.name();
  trace.mode = options_.mode;
  trace.prompt_template_sha256 = template_hash_;
  trace.inputs_blanked = options_.blank_inputs;
  const bool cota = options_.mode == PromptMode::kCota;

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

  trace.user_request = prompts_.user_request(task.question, images.names(), cota);
  std::vector<Message> messages;
  messages.push_back(Message{"system", {{system_prompt_, nullptr}}});
  messages.push_back(make_message("user", trace.user_request, images));

  for (int reply = 0;; ++reply) {
    StepRecord step;
    const auto model_start = Clock::now();
    try {
      if (cancel && cancel->stopped()) throw CancelledError("the episode was stopped: " + cancel->reason());
      CompletionRequest request{task.id, &messages};
      request.cancel = cancel;
      Completion c = model_.complete(request);
      step.raw = std::move(c.text);
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
    messages.push_back(Message{"assistant", {{step.raw, nullptr}}});

    if (!cota) {
      trace.answer = step.raw;
      size_t b = trace.answer.find_first_not_of(" \t\r\n");
      size_t e = trace.answer.find_last_not_of(" \t\r\n");
      trace.answer = b == std::string::npos ? "" : trace.answer.substr(b, e - b + 1);
      trace.answer_source = "direct";
      trace.status = TraceStatus::kDirect;
      trace.steps.push_back(std::move(step));
      if (on_step) on_step(trace, trace.steps.back());
      return finish();
    }

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
          step.error_kind = e.kind() == "KeyError" && !tools_.find(action.name) ? "unknown_tool"
                            : e.kind() == "TypeError"                           ? "arguments"
                                                                                : "tool";
          step.error = e.what();
          step.feedback = prompts_.execution_error(e.observation());
        } catch (const std::exception& e) {
          // A tool bug must not end the batch: it is reported to the model like any failure.
          step.error_kind = "tool";
          step.error = e.what();
          step.feedback = prompts_.execution_error(ToolError("RuntimeError", step.error).observation());
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
      trace.steps.push_back(std::move(step));
      if (on_step) on_step(trace, trace.steps.back());
      return finish();
    }
    if (reply >= options_.max_replies) {
      step.feedback.clear();  // never sent
      trace.status = TraceStatus::kMaxReplies;
      trace.answer = extract_answer(step.raw);
      trace.answer_source = trace.answer.empty() ? "none" : "extracted";
      trace.steps.push_back(std::move(step));
      if (on_step) on_step(trace, trace.steps.back());
      return finish();
    }
    messages.push_back(make_message("user", step.feedback, images));
    trace.steps.push_back(std::move(step));
    if (on_step) on_step(trace, trace.steps.back());
  }
}

}  // namespace taco
