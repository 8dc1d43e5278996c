// taco gen: programmatic CoTA examples from dense annotations (the job of gen/run.h).
#include <thread>

#include "commands.h"
#include "gen/run.h"
#include "setting_flags.h"

namespace taco::cli {

void add_gen_command(CLI::App& app) {
  struct Flags : GenSettings {
    Flags() { jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }
    bool quiet = false;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand("gen", "generate CoTA examples from scene annotations (VG-style, e.g. from taco synth)");
  cmd->footer("Examples:\n  taco gen --data world/scene-graph-annotations.json --out train.jsonl --format llava --mc-ratio 0.3\n  taco gen --data world/scene-graph-annotations.json --out bench.jsonl --format tasks --seed 1000\n");
  cmd->add_option("--data,--annotations", f->annotations, "the scenes: a scene-graph-annotations.json (taco synth, Visual Genome style)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", f->out, "output file: .jsonl for one record per line, else a JSON array")->required();
  cmd->add_option("--format", f->format, "llava, mantis, trace, or tasks (questions with answers, for taco run and evaluation)")
      ->capture_default_str()
      ->check(CLI::IsMember({"llava", "mantis", "trace", "tasks"}));
  cmd->add_option("--families", f->families, "comma-separated families (default: all; see docs/gen.md)");
  cmd->add_option("--mc-ratio", f->mc_ratio, "share of multiple-choice questions")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--mc-names-option", f->mc_names_option,
               "end each multiple-choice chain's last thought by naming the option it picks (\"The option for 1 is C.\")");
  cmd->add_option("--seed", f->seed, "generation seed")->capture_default_str();
  cmd->add_option("--shard", f->shard,
                 "k/N: make the k-th of N shards (scenes with index % N == k) into OUT.shard-k-of-N (default: from a Slurm array or "
                 "an Indexed Job, docs/scale.md; taco merge joins them)");
  cmd->add_option("-j,--jobs", f->jobs, "threads")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--images-dir", f->images_dir, "where tagged images go (default: <out>.images)");
  cmd->add_flag("--no-images", f->no_images, "do not draw tagged images (the records still name them)");
  cmd->add_flag("--no-direct", f->no_direct, "leave out the Direct variant of each example");
  cmd->add_option("--direct-share", f->direct_share,
                 "write each question once: as its Direct variant for this share of the questions, else as its CoTA chain")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--oracle-noise", f->oracle_noise,
                 "the tools' noise the chains see, as the oracle backend's \"noise\": none, realistic, or "
                 "miss=..,false=..,jitter=..,depth=.. (docs/tools.md)")
      ->capture_default_str();
  cmd->add_option("--misled-chains", f->misled_chains,
                 "with --oracle-noise, what becomes of a chain the noise led to another question or answer: drop (leave the "
                 "question out of the CoTA records) or perfect (write the perfect oracle's chain in its place)")
      ->check(CLI::IsMember({"drop", "perfect"}))
      ->capture_default_str();
  cmd->add_option("--limit", f->limit, "stop after this many CoTA examples");
  cmd->add_flag("-q,--quiet", f->quiet, "no progress line");
  cmd->add_option("--prompt-template", f->prompt_template, "prompt texts for the user request and observations")->check(CLI::ExistingFile);
  cmd->callback([f] { run_gen_job(*f, cli_events(f->quiet)); });
}

}  // namespace taco::cli
