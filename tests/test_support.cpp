#include "test_support.h"

#include <gtest/gtest.h>

#include "cota/training_format.h"
#include "runtime/episode.h"
#include "tools/config.h"

#include "util/files.h"

#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

namespace taco::test {

Json call_tool(const ToolRegistry& tools, ImageStore& store, const std::string& name, Json args) {
  auto ctx = store.context_for("test");
  Json result = tools.execute(Action{name, std::move(args)}, ctx);
  store.commit(*ctx, name);
  return result;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = (std::filesystem::temp_directory_path() /
           ("taco-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd())))
              .string();
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string write_test_image(const std::string& path, int w, int h, const std::string& text) {
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::rectangle(img, {w / 10, h / 10}, {w / 2, h / 2}, {0, 0, 255}, cv::FILLED);
  cv::circle(img, {3 * w / 4, 3 * h / 4}, std::min(w, h) / 8, {255, 0, 0}, cv::FILLED);
  if (!text.empty()) cv::putText(img, text, {w / 20, h - h / 10}, cv::FONT_HERSHEY_SIMPLEX, 1.0, {0, 0, 0}, 2);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  cv::imwrite(path, img);
  return path;
}

struct ScriptedServer::Impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  mutable std::mutex mu;
  std::vector<Json> requests;
  std::vector<std::string> paths;
};

ScriptedServer::ScriptedServer(Handler handler, int threads) : impl_(std::make_unique<Impl>()) {
  impl_->server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  impl_->server.Post(R"(/.*)", [this, handler](const httplib::Request& req, httplib::Response& res) {
    int index = calls_.fetch_add(1);
    Json body = Json::parse(req.body, nullptr, false);
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->requests.push_back(body);
      impl_->paths.push_back(req.path);
    }
    Reply r = handler(body, index);
    res.status = r.status;
    res.set_content(r.body, "application/json");
  });
  impl_->port = impl_->server.bind_to_any_port("127.0.0.1");
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  for (int i = 0; i < 500 && !impl_->server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

ScriptedServer::~ScriptedServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string ScriptedServer::base_url() const { return "http://127.0.0.1:" + std::to_string(impl_->port) + "/v1"; }

std::vector<Json> ScriptedServer::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->requests;
}

std::vector<std::string> ScriptedServer::paths() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->paths;
}

std::string ScriptedServer::completion(const std::string& content) {
  return Json{{"id", "chatcmpl-test"},
              {"object", "chat.completion"},
              {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}}}},
              {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 5}, {"total_tokens", 15}}}}
      .dump();
}

namespace {

// What taco caches for later runs (judge answers, the oracle's content index) goes to a folder
// of this test process's own, removed at exit, for the code tests call in process too: no test
// writes to the user's cache. (run_taco's commands share one such folder as well.)
struct ProcessCacheDir {
  ProcessCacheDir() { setenv("TACO_CACHE_DIR", dir.path().c_str(), 1); }
  TempDir dir;
};
const ProcessCacheDir process_cache_dir;

}  // namespace

CliResult run_taco(const std::string& args, const std::string& stdin_text) {
  TempDir dir;
  // What taco shares between runs (the judge caches) is shared by this test's commands only.
  static TempDir cache_dir;
  std::string cmd = "TACO_CACHE_DIR=" + cache_dir.path() + " " + std::string(TACO_BINARY) + " " + args + " 2>&1";
  if (!stdin_text.empty()) {
    write_file(dir.file("stdin"), stdin_text);
    cmd += " < " + dir.file("stdin");
  } else {
    cmd += " < /dev/null";
  }
  return run_command(cmd);
}

CliResult run_command(const std::string& command) {
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

Json last_line_json(const std::string& output) {
  std::string text = output;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const size_t nl = text.rfind('\n');
  return Json::parse(nl == std::string::npos ? text : text.substr(nl + 1), nullptr, false);
}

std::unique_ptr<ChildProcess> start_taco_listening(const std::string& args, int& port, std::string& log) {
  auto child = ChildProcess::start({{"/bin/sh", "-c", "exec " + std::string(TACO_BINARY) + " " + args + " 2>&1"}, {}, 0});
  port = 0;
  std::string line;
  while (!port && child->read_line(line, 20) == ChildProcess::ReadResult::kLine) {
    log += line + "\n";
    if (size_t at = line.find("http://127.0.0.1:"); at != std::string::npos) port = std::stoi(line.substr(at + 17));
  }
  return child;
}

std::string write_replayed_records(const TempDir& dir, const std::vector<Task>& tasks,
                                   const std::map<std::string, std::vector<std::string>>& replies, PromptMode mode) {
  make_dirs(dir.file("replies"));
  for (const auto& [id, r] : replies) write_file(dir.file("replies/" + id + ".json"), Json(r).dump());
  ModelOptions o;
  o.model = "replay:" + dir.file("replies");
  auto model = make_model(o);
  ToolRegistry tools = make_tool_registry(ToolsConfig());
  EpisodeOptions episode;
  episode.mode = mode;
  Runtime runtime(*model, tools, PromptTemplate::defaults(), episode);
  std::string lines;
  for (const auto& task : tasks) {
    Trace t = runtime.run(task);
    EXPECT_EQ(t.status, mode == PromptMode::kDirect ? TraceStatus::kDirect : TraceStatus::kTerminated) << task.id << ": " << t.error;
    lines += to_llava(t, task.id).dump() + "\n";
  }
  write_file(dir.file("train.jsonl"), lines);
  return dir.file("train.jsonl");
}

TrainOptions tiny_train_options(const std::string& data, const std::string& out, int64_t steps) {
  TrainOptions o;
  o.data = {data};
  o.out = out;
  o.size = "tiny";
  o.steps = steps;
  o.batch_tokens = 4096;
  o.checkpoint_every = 1000;
  o.quiet = true;
  return o;
}

}  // namespace taco::test
