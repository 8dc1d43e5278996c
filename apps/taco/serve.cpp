// taco serve: the OpenAI chat-completions API (and whole episodes) over HTTP (docs/serve.md).
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "episodes.h"
#include "setting_flags.h"
#include "serve/http_server.h"
#include "serve/server.h"
#include "util/error.h"

namespace taco::cli {
namespace {

int stop_pipe[2] = {-1, -1};  // the stop signals' handler writes here

struct ServeFlags {
  EpisodeSettings episode;
  ServeOptions serve;
  double max_body_mb = 64;
  std::vector<std::string> env_reward;  // NAME=VALUE rules
};

void serve(ServeFlags f) {
  // glibc gives each thread that allocates at once an arena of its own (up to 8 per core) and
  // keeps what they free: under steady load the request threads' arenas kept growing (178 ->
  // 190 MB over 5 minutes of episodes). Two arenas level off (127 MB) at the same throughput
  // (BENCHMARKS.md). MALLOC_ARENA_MAX still decides when the user sets it.
  if (!std::getenv("MALLOC_ARENA_MAX")) ::mallopt(M_ARENA_MAX, 2);
  if (f.serve.api_key.empty())
    if (const char* key = std::getenv("TACO_API_KEY"); key && *key) f.serve.api_key = key;
  if (f.max_body_mb <= 0) throw Error("--max-body-mb must be more than 0");
  f.serve.max_body_bytes = static_cast<size_t>(f.max_body_mb * (1 << 20));
  f.serve.max_body_name = "--max-body-mb";
  for (const auto& r : f.env_reward) f.serve.envs.reward.set(r, "EnvOptions.reward");
  if (f.serve.work_dir.empty()) f.serve.work_dir = (std::filesystem::temp_directory_path() / ("taco-serve-" + std::to_string(::getpid()))).string();
  auto setup = make_runtime(f.episode, "", false, cli_events());
  Server server(*setup->model, setup->tools, setup->runtime->prompts(), setup->runtime->options(), f.serve);
  const int port = server.bind();
  if (!is_loopback_host(f.serve.host) && f.serve.api_key.empty())
    std::fprintf(stderr, "taco serve: warning: listening on %s, not a loopback address, with no API key: any machine that reaches it "
                         "may run episodes (--api-key KEY or $TACO_API_KEY)\n", f.serve.host.c_str());
  // SIGTERM and SIGINT: the handler (on whichever thread the kernel picks: libraries start
  // threads of their own) only writes the signal to a pipe; a watcher stops the server.
  if (::pipe2(stop_pipe, O_CLOEXEC) != 0) throw Error("cannot make a pipe for the stop signals");
  struct sigaction on_stop {};
  on_stop.sa_handler = [](int sig) {
    const char c = static_cast<char>(sig);
    ssize_t ignored = ::write(stop_pipe[1], &c, 1);
    (void)ignored;
  };
  ::sigemptyset(&on_stop.sa_mask);
  ::sigaction(SIGTERM, &on_stop, nullptr);
  ::sigaction(SIGINT, &on_stop, nullptr);
  // The watcher ends on a signal or, when the server stops otherwise, on the 0 written below.
  struct Watcher {
    std::thread thread;
    ~Watcher() {
      const char done = 0;
      ssize_t ignored = ::write(stop_pipe[1], &done, 1);
      (void)ignored;
      thread.join();
    }
  } watcher{std::thread([&server] {
    char sig = 0;
    while (::read(stop_pipe[0], &sig, 1) < 0 && errno == EINTR) {
    }
    if (sig == 0) return;
    std::fprintf(stderr, "taco serve: %s: no new connections; finishing the requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.stop();
  })};
  std::string names;
  for (const auto& n : f.serve.served_model_names.empty() ? std::vector<std::string>{setup->model->name()} : f.serve.served_model_names)
    names += n + ", ";
  std::fprintf(stderr, "taco serve: http://%s:%d/v1 (models: %s%s; %d requests at once%s); request images in %s\n",
               f.serve.host.c_str(), port, names.c_str(), kAgentModelName, f.serve.max_concurrency,
               f.serve.api_key.empty() ? "" : "; API key required", f.serve.work_dir.c_str());
  if (!f.serve.envs.tasks.empty())
    std::fprintf(stderr, "taco serve: RL environments at http://%s:%d/v1/envs over %zu task file(s), at most %zu live\n", f.serve.host.c_str(),
                 port, f.serve.envs.tasks.size(), f.serve.envs.max_envs);
  server.serve();
  std::fprintf(stderr, "taco serve: stopped\n");
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand("serve", "serve the OpenAI chat-completions API: the model, and whole episodes as model taco-agent");
  add_episode_flags(*cmd, flags->episode, true, false);
  cmd->remove_option(cmd->get_option("--images-dir"));  // images go under --work-dir
  cmd->get_option("--model")->required(false)->description("the backing model: a served model's name, replay:PATH or embedded:DIR (default: the shipped embedded:taco-small)");
  cmd->add_option("--host", flags->serve.host, "the address to listen on")->capture_default_str();
  cmd->add_option("--port", flags->serve.port, "the port (0: any free one)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", flags->serve.api_key, "require Authorization: Bearer KEY on /v1 and the viewer's API (its page asks for it; default: $TACO_API_KEY; none: open)");
  cmd->add_option("--served-model-name", flags->serve.served_model_names,
                  "the names clients ask for the backing model by, as vLLM's flag (default: its own, e.g. embedded:models/taco-small)");
  cmd->add_option("--max-concurrency", flags->serve.max_concurrency, "requests answered at once; more get 429 with Retry-After")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--max-body-mb", flags->max_body_mb, "the largest request body, in MB")->capture_default_str();
  cmd->add_option("--timeout-s", flags->serve.request_timeout_s, "a request's work stops after this long and gets 504 (0: no limit)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-episodes", flags->serve.keep_episodes,
                  "recent episodes /v1/episodes lists; older ones' images are removed (their traces stay in episodes.jsonl)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_flag_function("--no-access-log", [flags](std::int64_t) { flags->serve.access_log = false; }, "no line per request on standard error");
  cmd->add_option("--allowed-root", flags->serve.allowed_roots,
                  "a folder besides --work-dir and the working folder whose images the viewer at / may show (repeatable)");
  cmd->add_option("--env-tasks", flags->serve.envs.tasks,
                  "a task file (taco gen --format tasks, answers included) whose tasks POST /v1/envs serves as RL environments (repeatable; docs/rl.md)");
  cmd->add_option("--env-reward", flags->env_reward,
                  "an environment's reward rule NAME=VALUE (repeatable), as taco rl's --reward: correct, parse_penalty, unfinished, tool_cost, tool_bonus");
  cmd->add_option("--max-envs", flags->serve.envs.max_envs, "RL environments live at once; more resets get 429")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--env-idle-timeout-s", flags->serve.envs.idle_timeout_s, "an environment nobody stepped for this long is ended")
      ->capture_default_str()->check(CLI::Range(1e-3, 1e6));
  cmd->add_option("--work-dir", flags->serve.work_dir, "where request images and tool outputs go (default: a temp folder)");
  cmd->footer("Example:\n  taco serve --port 8080 --tools-config tools.json\n  curl localhost:8080/v1/chat/completions -d "
                "'{\"model\": \"taco-agent\", \"messages\": [{\"role\": \"user\", \"content\": \"What is 6*7?\"}]}'\n");
  cmd->callback([flags] { serve(*flags); });
}

}  // namespace taco::cli
