// Batch throughput against a loopback OpenAI-compatible server that answers every request after
// a fixed delay: 3-step episodes (Calculate, Calculate, Terminate) with N episodes in flight.
// The ideal rate is jobs / (steps * delay); the report gives the measured share of it.
//
//   batch_bench [--jobs 64] [--episodes 640] [--delay-ms 200]
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "runtime/batch.h"
#include "tools/image.h"
#include "util/files.h"

using namespace taco;

namespace {

std::string completion(const std::string& content) {
  return Json{{"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}}}},
              {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 1}}}}
      .dump();
}

int arg(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int jobs = arg(argc, argv, "--jobs", 64);
  const int episodes = arg(argc, argv, "--episodes", 640);
  const int delay_ms = arg(argc, argv, "--delay-ms", 200);
  const int steps = 3;

  httplib::Server server;
  server.set_tcp_nodelay(true);  // as production servers do; else Nagle adds ~40 ms per response
  server.new_task_queue = [jobs] { return new httplib::ThreadPool(static_cast<size_t>(jobs * 2)); };
  server.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
    // Count the assistant turns with a plain search: the harness should not spend the CPU.
    size_t turns = 0;
    for (size_t at = 0; (at = req.body.find(R"("role":"assistant")", at)) != std::string::npos; ++at) ++turns;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    std::string step = turns + 1 < static_cast<size_t>(steps)
                           ? R"({"thought": "compute", "actions": [{"name": "Calculate", "arguments": {"expression": "12.5 * 4 / 3.65"}}]})"
                           : R"({"thought": "done", "actions": [{"name": "Terminate", "arguments": {"answer": "13.7"}}]})";
    res.set_content(completion(step), "application/json");
  });
  server.set_keep_alive_max_count(1000);
  // httplib listens with a backlog of 5: a burst of 64 connects overflows it and the kernel makes
  // the dropped clients retry a second later. Production servers use ~2048; so does this one.
  int listen_fd = -1;
  server.set_socket_options([&](int fd) {
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = fd;
  });
  int port = server.bind_to_any_port("127.0.0.1");
  ::listen(listen_fd, 2048);
  std::thread listener([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  std::string dir = "/tmp/taco-batch-bench-" + std::to_string(::getpid());
  make_dirs(dir);
  // A 640x480 JPEG input: it travels as a data URL with every request, as in a real run.
  cv::Mat img(480, 640, CV_8UC3, cv::Scalar(200, 180, 160));
  cv::putText(img, "Supreme 3.65", {40, 240}, cv::FONT_HERSHEY_SIMPLEX, 2.0, {0, 0, 0}, 3);
  cv::imwrite(dir + "/input.jpg", img);
  std::vector<Task> tasks;
  for (int i = 0; i < episodes; ++i) tasks.push_back(Task{"e" + std::to_string(i), {dir + "/input.jpg"}, "How many gallons?"});

  ModelOptions mo;
  mo.model = "bench";
  mo.endpoint = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  auto model = make_model(mo);
  ToolRegistry tools = make_builtin_registry();
  Runtime runtime(*model, tools, PromptTemplate::defaults(), EpisodeOptions{});
  BatchOptions bo;
  bo.jobs = jobs;
  bo.out_path = dir + "/traces.jsonl";
  bo.progress = false;
  BatchSummary s = run_batch(tasks, runtime, bo);

  server.stop();
  listener.join();
  std::filesystem::remove_all(dir);

  const double rate = s.succeeded / s.seconds;
  const double ideal = jobs / (steps * delay_ms / 1000.0);
  std::printf("batch: %d episodes of %d steps, -j %d, server delay %d ms: %.1f s, %.1f episodes/s "
              "(ideal %.1f/s, %.0f%% of ideal), %zu failed\n",
              episodes, steps, jobs, delay_ms, s.seconds, rate, ideal, 100 * rate / ideal, s.failed);
  return s.failed == 0 ? 0 : 1;
}
