// taco synth: renders the synthetic scene world with its annotations.
#include <cstdio>
#include <thread>

#include "commands.h"
#include "synth/world.h"
#include "util/progress.h"

namespace taco::cli {

void add_synth_command(CLI::App& app) {
  struct Flags {
    size_t n = 1000;
    uint64_t seed = 1;
    std::string out;
    int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    SynthOptions options;
    bool quiet = false;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand("synth", "render synthetic scenes with exact annotations (VG-style, depth maps included)");
  cmd->footer("Example:\n  taco synth --n 1000 --seed 1 --out world\n");
  cmd->add_option("--n", f->n, "how many scenes")->capture_default_str()->check(CLI::Range(1, 100000000));
  cmd->add_option("--seed", f->seed, "the world's seed: the same seed gives the same scenes")->capture_default_str();
  cmd->add_option("--out", f->out, "output folder (images/, depth/, scene-graph-annotations.json)")->required();
  cmd->add_option("-j,--jobs", f->jobs, "threads")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--width", f->options.width, "image width")->capture_default_str()->check(CLI::Range(64, 4096));
  cmd->add_option("--height", f->options.height, "image height")->capture_default_str()->check(CLI::Range(64, 4096));
  cmd->add_flag("-q,--quiet", f->quiet, "no progress line");
  cmd->callback([f] {
    SynthSummary s;
    {
      Progress progress("synth", f->n, !f->quiet);
      s = write_world(f->out, f->n, f->seed, f->jobs, f->options, [&] { progress.tick(); });
    }
    std::fprintf(stderr, "%zu scenes, %zu objects written to %s in %.1f s (%.0f scenes/s)\n", s.scenes, s.objects,
                 f->out.c_str(), s.seconds, s.scenes / std::max(s.seconds, 1e-9));
  });
}

}  // namespace taco::cli
