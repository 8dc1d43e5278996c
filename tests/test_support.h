// Helpers shared by the tests: temporary folders, images the tests make, a loopback
// OpenAI-compatible server scripted by the test.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cota/task.h"
#include "cota/trace.h"
#include "models/embedded/embedded.h"
#include "tools/image_store.h"
#include "tools/registry.h"
#include "util/child_process.h"
#include "util/json.h"

namespace taco::test {

// One tool call the way the runtime makes it: a context from the store, execute, then commit
// the images the call made.
Json call_tool(const ToolRegistry& tools, ImageStore& store, const std::string& name, Json args);

// The taco binary run with `args` (stdin from `stdin_text`); exit code and stdout+stderr.
// $TACO_CACHE_DIR is a folder of this test process's own.
struct CliResult {
  int code;
  std::string output;
};
CliResult run_taco(const std::string& args, const std::string& stdin_text = "");
// A shell command: exit code and stdout+stderr.
CliResult run_command(const std::string& command);
// The last line of a command's output as JSON (null when it is not), as the JavaScript
// clients in tests/js report what they saw.
Json last_line_json(const std::string& output);

// `taco ARGS` running in the background (stderr with stdout), once it has printed the address
// it listens on ("http://127.0.0.1:PORT"): `port` is that port, 0 when it never came, and `log`
// what it printed meanwhile.
std::unique_ptr<ChildProcess> start_taco_listening(const std::string& args, int& port, std::string& log);

// A fresh folder under the system temp dir, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Training records for the embedded model: `tasks` played through the real runtime (tools
// included) in `mode` by a replay of `replies` (task id -> the replies), exported as LLaVA to
// DIR/train.jsonl, whose path it returns. Each episode must end as the mode ends one.
std::string write_replayed_records(const TempDir& dir, const std::vector<Task>& tasks,
                                   const std::map<std::string, std::vector<std::string>>& replies, PromptMode mode = PromptMode::kCota);

// A tiny model's training for `steps` steps, quiet, checkpointed only at its end.
TrainOptions tiny_train_options(const std::string& data, const std::string& out, int64_t steps);

// A rectangle of pixels [x1, x2) x [y1, y2), for test scenes drawn with their masks.
struct PixelRect {
  size_t x1, y1, x2, y2;
  bool contains(size_t x, size_t y) const { return x >= x1 && x < x2 && y >= y1 && y < y2; }
  size_t area() const { return (x2 - x1) * (y2 - y1); }
};

// Writes a PNG of w x h with a few colored shapes (and optional text) and returns its path.
std::string write_test_image(const std::string& path, int w = 320, int h = 240, const std::string& text = "");

// A JSON server on 127.0.0.1 with a random port, playing an OpenAI-compatible model (or a
// specialist server) as the test scripts it. Every POST, whatever its path, goes to the
// handler, which gets the request body and returns {status, body}; requests are recorded.
class ScriptedServer {
 public:
  struct Reply {
    int status = 200;
    std::string body;
  };
  using Handler = std::function<Reply(const Json& request, int call_index)>;

  explicit ScriptedServer(Handler handler, int threads = 8);
  ~ScriptedServer();
  std::string base_url() const;  // http://127.0.0.1:PORT/v1
  int calls() const { return calls_.load(); }
  std::vector<Json> requests() const;
  std::vector<std::string> paths() const;  // the path of each request, in order

  // A chat completion response body with `content` as the assistant message.
  static std::string completion(const std::string& content);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<int> calls_{0};
};

}  // namespace taco::test
