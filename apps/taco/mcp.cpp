// taco mcp: taco's tools and whole episodes as a Model Context Protocol server, over stdio or
// streamable HTTP (docs/tools.md).
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "episodes.h"
#include "setting_flags.h"
#include "serve/http_server.h"
#include "serve/mcp_server.h"
#include "util/error.h"

namespace taco::cli {
namespace {

struct McpFlags {
  EpisodeSettings episode;
  McpServeOptions serve;
  bool http = false;
  std::string host = "127.0.0.1";
  int port = 8090;
  int max_concurrency = 8;
  bool no_access_log = false;
};

void mcp(McpFlags f) {
  if (f.serve.allowed_roots.empty()) f.serve.allowed_roots.push_back(std::filesystem::current_path().string());
  if (f.serve.work_dir.empty())
    f.serve.work_dir = (std::filesystem::temp_directory_path() / ("taco-mcp-" + std::to_string(::getpid()))).string();
  auto setup = make_runtime(f.episode, "", false, cli_events());
  McpServer server(setup->tools, setup->model.get(), setup->runtime->prompts(), setup->runtime->options(), f.serve);
  if (!f.http) {
    std::fprintf(stderr, "taco mcp: serving on stdin/stdout (images under %s%s; RunEpisode with %s)\n", f.serve.allowed_roots[0].c_str(),
                 f.serve.allowed_roots.size() > 1 ? ", ..." : "", setup->model->name().c_str());
    run_mcp_stdio(server, static_cast<size_t>(f.max_concurrency));
    return;
  }
  HttpLimits limits;
  limits.access_log = !f.no_access_log;
  limits.log_name = "taco mcp";
  limits.max_body_bytes = 64u << 20;
  HttpServer http(limits);
  mount_mcp_http(server, http);
  const int port = http.bind(f.host, f.port);
  if (!http.loopback())
    std::fprintf(stderr, "taco mcp: warning: listening on %s, not a loopback address: any machine that reaches it may call taco's tools\n",
                 f.host.c_str());
  std::fprintf(stderr, "taco mcp: http://%s:%d/mcp (images under %s%s; RunEpisode with %s)\n", f.host.c_str(), port,
               f.serve.allowed_roots[0].c_str(), f.serve.allowed_roots.size() > 1 ? ", ..." : "", setup->model->name().c_str());
  http.serve();
}

}  // namespace

void add_mcp_command(CLI::App& app) {
  auto f = std::make_shared<McpFlags>();
  auto* cmd = app.add_subcommand("mcp", "serve taco's tools and whole episodes (RunEpisode) to MCP clients, over stdio or --http");
  add_episode_flags(*cmd, f->episode, true, false);
  cmd->remove_option(cmd->get_option("--images-dir"));  // episode images go under --work-dir
  cmd->get_option("--model")->required(false)->description(
      "the model RunEpisode runs: a served model's name, replay:PATH or embedded:DIR (default: the shipped embedded:taco-small)");
  cmd->add_flag("--http", f->http, "serve streamable HTTP at /mcp instead of stdio");
  cmd->add_option("--host", f->host, "with --http: the address to listen on")->capture_default_str();
  cmd->add_option("--port", f->port, "with --http: the port (0: any free one)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_flag("--no-access-log", f->no_access_log, "with --http: no line per request on standard error");
  cmd->add_option("--max-concurrency", f->max_concurrency,
                  "over stdio: requests answered at once (a few times as many wait; past that a request is answered busy)")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--allowed-root", f->serve.allowed_roots, "a folder whose image files clients may name (repeatable; default: the working folder)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--work-dir", f->serve.work_dir, "where episode and data: URL images go (default: a temp folder)");
  cmd->footer("Examples:\n  taco mcp --tools-config tools.json          # for a desktop client: {\"command\": \"taco\", \"args\": [\"mcp\"]}\n"
              "  taco mcp --http --port 8090 --allowed-root ~/images   # then http://127.0.0.1:8090/mcp\n");
  cmd->callback([f] { mcp(*f); });
}

}  // namespace taco::cli
