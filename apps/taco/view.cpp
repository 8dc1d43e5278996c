// taco view: a web page over a trace file: the episodes in a table, each one step by step, and
// a report of the scores (one run, or two compared), and a taco rl run's training curves.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "serve/viewer.h"

namespace taco::cli {
namespace {

struct ViewFlags {
  std::string traces;
  std::string scores;
  std::string compare;
  std::string metrics;
  std::vector<std::string> names;
  std::vector<std::string> allowed_roots;
  std::string host = "127.0.0.1";
  int port = 8080;
  bool no_access_log = false;
};

}  // namespace

void add_view_command(CLI::App& app) {
  auto f = std::make_shared<ViewFlags>();
  auto* cmd = app.add_subcommand("view", "look at traces in a browser: a table of episodes, each one step by step with its images");
  cmd->add_option("traces", f->traces, "a trace file (taco run, eval run, gen --format trace, curate)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--scores", f->scores, "the scores of these traces (taco eval score's .scores.jsonl): right or wrong per episode")
      ->check(CLI::ExistingFile);
  cmd->add_option("--compare", f->compare,
                  "another run's scores on the same benchmark: the report page shows both and the difference per category")
      ->check(CLI::ExistingFile);
  cmd->add_option("--names", f->names, "the two runs' names in the report, this one's first (default: the scores files' names)")
      ->delimiter(',');
  cmd->add_option("--allowed-root", f->allowed_roots,
                  "a folder whose images the page may show, besides the traces' folder and the working folder (repeatable)");
  cmd->add_option("--metrics", f->metrics,
                  "a taco rl run's metrics.jsonl: the training page draws its reward, accuracy and tool use over the steps "
                  "(default: the one beside the traces, for a run's rollouts.jsonl)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--host", f->host, "the address to listen on")->capture_default_str();
  cmd->add_flag("--no-access-log", f->no_access_log, "no line per request on standard error");
  cmd->add_option("--port", f->port, "the port (0: any free one)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->footer("Example:\n  taco view runs/cota.jsonl --scores runs/cota.scores.jsonl --compare runs/direct.scores.jsonl --port 8080\n"
              "  # then open http://127.0.0.1:8080/ (episodes) and http://127.0.0.1:8080/#/report (the charts)\n"
              "  taco view models/cota-rl/rollouts.jsonl     # a taco rl run: its rollouts, and its curves at #/training\n");
  cmd->callback([f] {
    TraceViewer viewer(f->traces, f->scores, f->compare, f->names);
    viewer.set_allow_root_name("--allowed-root");
    std::string metrics = f->metrics;
    const std::filesystem::path beside = std::filesystem::path(f->traces).parent_path() / "metrics.jsonl";
    std::error_code ec;
    if (metrics.empty() && std::filesystem::path(f->traces).filename() == "rollouts.jsonl" && std::filesystem::exists(beside, ec))
      metrics = beside.string();
    viewer.set_training_metrics(metrics);
    for (const auto& dir : f->allowed_roots) viewer.allow_root(dir);
    run_viewer(viewer, f->host, f->port, [&](int port) {
      std::fprintf(stderr, "taco view: %zu episodes of %s at http://%s:%d/\n", viewer.size(), f->traces.c_str(), f->host.c_str(), port);
    }, !f->no_access_log);
  });
}

}  // namespace taco::cli
