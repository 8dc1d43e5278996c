// ChildProcess: a program taco starts and talks to over its standard input and output, one line
// at a time: the worker processes that run tools a crash or an overrun must not take the batch
// with (tools/worker.h), and any server that speaks over stdio. The child dies with taco (even
// when taco is killed with SIGKILL), sees no other file descriptor of taco's, and may be given a
// memory limit. Destroying a ChildProcess kills and reaps it.
//
// Every child is forked by one launcher thread that lives as long as taco: the parent-death
// signal (prctl PR_SET_PDEATHSIG) fires when the *thread* that forked a child exits, so a child
// forked by an episode's thread, then pooled and used by other threads, would be killed when
// that thread ended. Thread-safety: start() may be called from any thread; one ChildProcess is
// used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace taco {

class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> argv;                            // argv[0]: a path, or a name in PATH
    std::vector<std::pair<std::string, std::string>> env;     // added to (or replacing) taco's own
    int64_t memory_bytes = 0;                                 // address-space limit (0: none)
    std::string stderr_path;                                  // the child's standard error goes here ("" : taco's)
    size_t max_line_bytes = size_t{256} << 20;                // a longer line is not kept (read_line: kTooLong)
  };
  // Throws Error naming the program when it cannot be started.
  static std::unique_ptr<ChildProcess> start(const Options& options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Writes `line` and a newline; false when the child no longer reads (it has exited).
  bool write_line(const std::string& line);
  enum class ReadResult { kLine, kTimeout, kClosed, kTooLong };
  // The next line without its newline. Waits at most `timeout_s` seconds (<= 0: no limit);
  // kClosed when the child closed its output (it has exited or crashed); kTooLong when the line
  // passed Options::max_line_bytes (what was read of it is dropped: the child should be killed).
  ReadResult read_line(std::string& line, double timeout_s);

  // SIGKILL, then reap. Idempotent.
  void kill();
  // Waits for the child to end and says how: "exited with status 3", "was killed by SIGSEGV".
  std::string wait_description();
  pid_t pid() const { return pid_; }

 private:
  ChildProcess() = default;
  static std::unique_ptr<ChildProcess> start_here(const Options& options);  // on the calling thread
  pid_t pid_ = -1;
  int in_ = -1;   // the child's standard input (we write)
  int out_ = -1;  // the child's standard output (we read)
  bool reaped_ = false;
  int status_ = 0;
  std::string buffer_;   // what was read past the last line returned
  size_t scanned_ = 0;   // bytes of buffer_ already searched for a newline
  size_t max_line_ = 0;
};

// One request to a helper process that answers line by line (tool workers, stdio MCP servers):
// one policy for all of them. The request is a line written; its answer the first line
// `is_answer` takes within `time_limit_s` (<= 0: no limit), the lines it does not take being
// read past (it may write to the child meanwhile, or throw). A child that overruns the limit
// (sent `on_timeout` first, when not empty: an MCP server's cancellation) or sends a line over
// its limit is killed; one that stopped is reaped. Either way it is not asked again: its owner
// starts a fresh one for the next request.
struct ChildAnswer {
  enum class Outcome { kAnswered, kTimeout, kStopped, kTooLong };
  Outcome outcome = Outcome::kStopped;
  std::string line;  // kAnswered: the answer
  std::string how;   // kStopped: how the process ended ("exited with status 3", ...)
};
ChildAnswer ask_child(ChildProcess& child, const std::string& request, double time_limit_s,
                      const std::function<bool(const std::string&)>& is_answer, const std::string& on_timeout = "");

}  // namespace taco
