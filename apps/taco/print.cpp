#include <cstdio>

#include "commands.h"
#include "cota/trace.h"
#include "util/pyrepr.h"

namespace taco::cli {
namespace {

constexpr size_t kShown = 400;

std::string shorten(std::string s) {
  if (s.size() > kShown) s = s.substr(0, kShown) + " ...";
  return s;
}

std::string indent(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\n') out += "    ";
  }
  return out;
}

}  // namespace

void print_task(const Task& task) {
  std::printf("Task %s\n  question: %s\n", task.id.c_str(), indent(task.question).c_str());
  for (size_t i = 0; i < task.images.size(); ++i) std::printf("  image-%zu: %s\n", i, task.images[i].c_str());
  std::fflush(stdout);
}

void print_step(const Trace& trace, const StepRecord& step) {
  std::printf("\nStep %zu  (model %.0f ms, tool %.0f ms)\n", trace.steps.size(), step.model_ms, step.tool_ms);
  if (trace.mode == PromptMode::kDirect) {
    std::printf("  reply: %s\n", indent(shorten(step.raw)).c_str());
  } else if (step.content) {
    std::printf("  thought: %s\n", indent(shorten(step.content->thought)).c_str());
    if (step.content->actions.empty()) {
      std::printf("  action: (none)\n");
    } else {
      const Action& a = step.content->actions.front();
      std::printf("  action: %s %s\n", a.name.c_str(), shorten(python_json_dumps(a.arguments)).c_str());
    }
  } else {
    std::printf("  reply: %s\n", indent(shorten(step.raw)).c_str());
  }
  if (!step.error_kind.empty()) std::printf("  error (%s): %s\n", step.error_kind.c_str(), step.error.c_str());
  if (!step.observation.is_null()) std::printf("  observation: %s\n", indent(shorten(python_repr(step.observation))).c_str());
  for (const auto& name : step.new_images) std::printf("  new image: %s\n", name.c_str());
  std::fflush(stdout);
}

void print_outcome(const Trace& trace) {
  if (trace.status == TraceStatus::kError) {
    std::printf("\nFailed: %s\n", trace.error.c_str());
  } else {
    std::printf("\nAnswer: %s\n  (%s, answer from %s; %zu steps, %zu tool calls, %.1f s)\n", trace.answer.c_str(),
                to_string(trace.status), trace.answer_source.c_str(), trace.steps.size(), trace.tools_called().size(),
                trace.wall_ms / 1000);
    for (const auto& im : trace.images)
      if (im.source != "input" && !im.path.empty())
        std::printf("  %s (%dx%d, from %s): %s\n", im.name.c_str(), im.width, im.height, im.source.c_str(), im.path.c_str());
  }
  std::fflush(stdout);
}

}  // namespace taco::cli
