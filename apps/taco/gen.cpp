// taco gen: programmatic CoTA examples from dense annotations.
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

#include "commands.h"
#include "curate/merge.h"
#include "gen/run.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace taco::cli {

void add_gen_command(CLI::App& app) {
  struct Flags {
    std::string annotations, out, format = "trace", families, shard, images_dir, prompt_template, oracle_noise = "none", misled_chains = "drop";
    double mc_ratio = 0;
    double direct_share = -1;
    uint64_t seed = 1;
    int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    bool no_images = false, no_direct = false;
    size_t limit = 0;
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
  cmd->callback([f] {
    GenRunOptions o;
    o.format = gen_format_from_string(f->format);
    o.gen.seed = f->seed;
    o.gen.mc_ratio = f->mc_ratio;
    o.gen.noise = OracleNoise::parse(f->oracle_noise);
    o.gen.misled_chains_from_truth = f->misled_chains == "perfect";
    if (o.gen.misled_chains_from_truth && o.gen.noise.none())
      throw Error("--misled-chains perfect needs --oracle-noise: without noise no chain is misled");
    std::istringstream families(f->families);
    for (std::string name; std::getline(families, name, ',');)
      if (!name.empty()) o.gen.families.push_back(name);
    const Shard shard = shard_from(f->shard);
    o.shard = shard.index;
    o.shards = shard.count;
    const std::string out = shard.output_path(f->out);
    o.out_path = out;
    o.jobs = f->jobs;
    o.direct = !f->no_direct;
    if (f->no_direct && f->direct_share >= 0) throw Error("--no-direct and --direct-share contradict each other; give one");
    o.direct_share = f->direct_share;
    o.limit = f->limit;
    if (!f->no_images && o.format != GenFormat::kTasks) {  // tasks need only the scene images
      // Shards share one images folder (file names are per question): merged, the records are
      // those of one run, image paths included.
      o.gen.images_dir = f->images_dir.empty() ? output_base(f->out) + ".images" : f->images_dir;
    }
    PromptTemplate prompts = f->prompt_template.empty() ? PromptTemplate::defaults() : PromptTemplate::from_file(f->prompt_template);
    AnnotationProblems problems;
    std::vector<SceneAnnotation> scenes = load_scene_annotations(f->annotations, &problems);
    GenSummary s;
    {
      Progress progress("gen", scenes_in_shard(scenes.size(), o.shard, o.shards), !f->quiet);
      // The old stats describe the records this run replaces: gone before anything else, so a
      // killed run leaves the old records without stats rather than new records with old stats.
      std::remove((out + ".stats.json").c_str());
      s = run_generation(scenes, o, prompts, [&] { progress.tick(); });
    }
    std::vector<std::string> skipped = problems.first;
    skipped.insert(skipped.end(), s.skipped_first.begin(), s.skipped_first.end());
    Json stats{{"scenes", s.scenes}, {"examples", s.examples}, {"records", s.records}, {"per_family", s.per_family},
               {"seconds", s.seconds}, {"oracle_noise", o.gen.noise.to_string()}, {"chains_rejected", s.chains_rejected},
               {"chains_from_truth", s.chains_from_truth},
               {"scenes_skipped", problems.scenes_skipped + s.scenes_skipped}, {"boxes_fixed", problems.boxes_fixed},
               {"problems", skipped}};
    write_file_atomic(out + ".stats.json", stats.dump(2) + "\n");
    if (shard.active()) {
      ShardManifest m{"gen", shard, Json::object(), Json(s.records_per_scene)};
      m.settings = {{"data", std::filesystem::absolute(f->annotations).lexically_normal().string()}, {"format", f->format}, {"seed", f->seed}, {"families", f->families}, {"mc_ratio", f->mc_ratio},
                    {"oracle_noise", o.gen.noise.to_string()}, {"misled_chains", f->misled_chains}, {"direct", o.direct}, {"direct_share", o.direct_share},
                    {"limit", o.limit}, {"prompt_template", prompts.hash()}, {"out", f->out}};
      m.write_for(out);
      std::fprintf(stderr, "shard %s (from %s) -> %s; taco merge joins the %d parts\n", shard.to_string().c_str(),
                   shard.source.c_str(), out.c_str(), shard.count);
    }
    std::fprintf(stderr, "%zu examples (%zu records) from %zu scenes in %.1f s (%.0f examples/s) -> %s\n", s.examples, s.records,
                 s.scenes, s.seconds, s.examples / std::max(s.seconds, 1e-9), out.c_str());
    if (o.gen.misled_chains_from_truth)  // refused above without noise
      std::fprintf(stderr, "oracle noise %s: %zu of %zu chains misled by the noisy tools, written as the perfect oracle's\n",
                   o.gen.noise.to_string().c_str(), s.chains_from_truth, s.examples);
    else if (!o.gen.noise.none())
      std::fprintf(stderr, "oracle noise %s: %zu of %zu chains rejected (the noisy tools led them to another question or answer)\n",
                   o.gen.noise.to_string().c_str(), s.chains_rejected, s.examples);
    for (const auto& [family, n] : s.per_family) std::fprintf(stderr, "  %-16s %zu\n", family.c_str(), n);
    if (problems.scenes_skipped + s.scenes_skipped + problems.boxes_fixed > 0) {
      std::fprintf(stderr, "warning: %zu scenes skipped, %zu boxes fixed (listed in %s.stats.json); the first:\n",
                   problems.scenes_skipped + s.scenes_skipped, problems.boxes_fixed, out.c_str());
      for (const auto& p : skipped) std::fprintf(stderr, "  %s\n", p.c_str());
    }
  });
}

}  // namespace taco::cli
