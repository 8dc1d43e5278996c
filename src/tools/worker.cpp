#include "tools/worker.h"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>

#include "tools/builtin.h"
#include "tools/catalog.h"
#include "tools/config.h"
#include "tools/vision_backend.h"
#include "util/error.h"
#include "util/strings.h"

namespace taco {
namespace {

std::string& worker_program() {
  static std::string program;
  return program;
}

// Workers kept for the next call; more than this many calls in flight start extra workers that
// end after their call.
constexpr size_t kMaxIdleWorkers = 8;

class WorkerTool : public Tool {
 public:
  WorkerTool(std::unique_ptr<Tool> tool, std::shared_ptr<ToolWorkers> workers)
      : tool_(std::move(tool)), workers_(std::move(workers)) {}
  const ToolSpec& spec() const override { return tool_->spec(); }
  Json call(const Json& args, ToolContext& ctx) const override { return workers_->call(spec().name, args, ctx); }
  std::string backend() const override { return tool_->backend() + ", worker process"; }
  std::string unavailable_reason() const override { return tool_->unavailable_reason(); }
  bool limits_own_time() const override { return true; }

 private:
  std::unique_ptr<Tool> tool_;
  std::shared_ptr<ToolWorkers> workers_;
};

// The tools a worker runs: the catalog's worker-safe ones (pure computation: nothing to configure).
std::unique_ptr<Tool> make_worker_side_tool(const std::string& name) {
  std::unique_ptr<ToolEntry> entry = find_tool_entry(name);
  if (!entry || !entry->worker_safe) return nullptr;
  const ToolsConfig defaults;
  return entry->make(ToolMaking{defaults, [](const std::string& tool) { return make_unconfigured_backend(tool); }});
}

}  // namespace

void set_tool_worker_program(std::string path) { worker_program() = std::move(path); }
const std::string& tool_worker_program() { return worker_program(); }

ToolWorkers::ToolWorkers(std::string program, double time_limit_s, int64_t memory_bytes)
    : program_(std::move(program)), time_limit_s_(time_limit_s), memory_bytes_(memory_bytes) {}

std::unique_ptr<ChildProcess> ToolWorkers::take() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto worker = std::move(idle_.back());
      idle_.pop_back();
      return worker;
    }
  }
  return ChildProcess::start({{program_, "tool-worker"}, {}, memory_bytes_});
}

Json ToolWorkers::call(const std::string& tool, const Json& args, ToolContext& ctx) {
  std::unique_ptr<ChildProcess> worker;
  try {
    worker = take();
  } catch (const Error& e) {
    throw ToolError(ToolFailure::kRuntimeError, tool + " could not run: " + e.what());
  }
  // One request, the first line back its answer; a worker that overruns or crashes is gone
  // (ask_child's policy), and the next call takes or starts another.
  const ChildAnswer answer = ask_child(*worker, Json{{"tool", tool}, {"args", args}}.dump(), time_limit_s_, [](const std::string&) { return true; });
  if (answer.outcome == ChildAnswer::Outcome::kTimeout) {
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", time_limit_s_);
    throw ToolError(ToolFailure::kTimeoutError, tool + " did not finish within " + limit + " seconds");
  }
  if (answer.outcome != ChildAnswer::Outcome::kAnswered)
    throw ToolError(ToolFailure::kRuntimeError, tool + " crashed (its worker process " +
                                                    (answer.outcome == ChildAnswer::Outcome::kTooLong ? std::string("sent a line over its limit") : answer.how) + ")");
  const std::string& line = answer.line;
  const Json reply = parse_json_or_discarded(line);
  if (!reply.is_object() || !(reply.contains("result") || (reply.contains("error") && reply["error"].is_object()))) {
    worker->kill();
    throw ToolError(ToolFailure::kRuntimeError, tool + "'s worker process answered something that is not a reply: " + excerpt(line));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdleWorkers) idle_.push_back(std::move(worker));
  }
  if (reply.contains("error")) {
    const Json& e = reply["error"];
    throw ToolError(tool_failure_from_string(e.value("kind", "RuntimeError")), e.value("message", ""));
  }
  if (reply.contains("details") && !reply["details"].is_null()) ctx.set_details(reply["details"]);
  return reply["result"];
}

std::unique_ptr<Tool> in_worker(std::unique_ptr<Tool> tool, std::shared_ptr<ToolWorkers> workers) {
  return std::make_unique<WorkerTool>(std::move(tool), std::move(workers));
}

int serve_tool_requests() {
  std::map<std::string, std::unique_ptr<Tool>> tools;
  std::string line;
  while (std::getline(std::cin, line)) {
    Json reply;
    try {
      Json request = parse_json(line);
      const std::string name = request.at("tool").get<std::string>();
      auto& tool = tools[name];
      if (!tool) tool = make_worker_side_tool(name);
      if (!tool) throw ToolError(ToolFailure::kKeyError, "'" + name + "' does not run in a worker process");
      ToolContext ctx({}, "worker", ToolContext::NewImages{0, 0, 0, "a tool worker makes no images"});
      reply["result"] = tool->call(request.at("args"), ctx);
      if (!ctx.details().is_null()) reply["details"] = ctx.details();
    } catch (const ToolError& e) {
      reply = Json{{"error", {{"kind", to_string(e.kind())}, {"message", e.what()}}}};
    } catch (const std::bad_alloc&) {
      reply = Json{{"error", {{"kind", "MemoryError"}, {"message", "the call ran out of memory"}}}};
    } catch (const std::exception& e) {
      reply = Json{{"error", {{"kind", "RuntimeError"}, {"message", e.what()}}}};
    }
    std::cout << reply.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n' << std::flush;
  }
  return 0;
}

}  // namespace taco
