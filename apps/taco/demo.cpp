// taco demo: offline episodes through the real loop and tools (the job: demo/demo.h).
#include <cstdio>

#include "commands.h"
#include "demo/demo.h"
#include "setting_flags.h"

namespace taco::cli {

void add_demo_command(CLI::App& app) {
  auto f = std::make_shared<DemoSettings>();
  auto* cmd = app.add_subcommand("demo", "run offline episodes: a recorded model, then (with --model) the embedded model on new scenes");
  cmd->footer("Example:\n  taco demo --out demo --model models/taco-small\n");
  cmd->add_option("--out", f->out, "folder for the images, the recording and the traces")->capture_default_str();
  cmd->add_option("--model", f->model, "an embedded-model checkpoint folder to ask questions about new scenes");
  cmd->add_option("--questions", f->questions, "the most questions the embedded model answers, one of each kind the new scenes give")->capture_default_str();
  cmd->add_option("--seed", f->seed, "the seed of the new world")->capture_default_str();
  cmd->callback([f] {
    const EpisodeWatch watch{print_task, print_step, print_outcome};
    if (!run_demo(*f, watch, cli_events(false))) {
      exit_status() = kExitFailure;
      return;
    }
    if (!f->model.empty())
      std::printf("   next: taco eval run --data BENCH.jsonl --model embedded:%s --tools-config %s/tools.json --out traces.jsonl (docs/embedded.md)\n",
                  f->model.c_str(), f->out.c_str());
  });
}

}  // namespace taco::cli
