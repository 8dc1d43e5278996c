// Tools that run in worker processes. Calculate and SolveMathEquation evaluate whatever a model
// writes, and a computer-algebra system can crash (a stack overflow deep in a parser), run for
// minutes or take gigabytes. In the calling process a crash ends the batch (and the same reply
// comes back on a rerun) and an overrun can only be abandoned on a thread that keeps computing.
// In a worker process, taco's supervisor kills a worker that overruns the time limit, a crash or
// the memory limit ends only the worker, each is one failed call the model sees, and the next
// call gets a fresh worker.
//
// The protocol, one JSON object per line: taco writes {"tool": NAME, "args": {...}}; the worker
// answers {"result": {...}, "details": ...} or {"error": {"kind": "ValueError", "message": "..."}}.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tools/tool.h"
#include "util/child_process.h"

namespace taco {

// The program worker processes run, as `PROGRAM tool-worker`: the taco binary itself (main sets
// it). When it is empty (a library user, most tests) tools run in the calling process.
void set_tool_worker_program(std::string path);
const std::string& tool_worker_program();

// Starts, limits, kills and restarts worker processes; shared by the tools of one registry.
// Thread-safe: each call takes an idle worker or starts one.
class ToolWorkers {
 public:
  ToolWorkers(std::string program, double time_limit_s, int64_t memory_bytes);
  // Runs `tool` in a worker. Throws ToolError: the tool's own error, TimeoutError (the worker
  // was killed), RuntimeError when the worker crashed or broke the protocol.
  Json call(const std::string& tool, const Json& args, ToolContext& ctx);

 private:
  std::unique_ptr<ChildProcess> take();
  std::string program_;
  double time_limit_s_;
  int64_t memory_bytes_;
  std::mutex mu_;
  std::vector<std::unique_ptr<ChildProcess>> idle_;
};

// `tool` with its calls run by `workers` (same spec, name and backend). The wrapped tool is
// what the worker process itself runs.
std::unique_ptr<Tool> in_worker(std::unique_ptr<Tool> tool, std::shared_ptr<ToolWorkers> workers);

// The worker's side: reads requests from standard input until it closes, answers on standard
// output. Returns the process's exit status.
int serve_tool_requests();

}  // namespace taco
