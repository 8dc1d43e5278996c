// run_generation: programmatic generation over a whole annotation set, written as traces or
// as LLaVA / Mantis training records, in parallel and in a fixed order (scene by scene, family
// by family), so a sharded run gives exactly the examples of one run. run_gen_job is the job
// taco gen calls: settings in, the records, their statistics and the shard's manifest out.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cota/annotation.h"
#include "gen/generate.h"
#include "util/job.h"

namespace taco {

// kTasks writes task records (question, images, answer, choices, metadata) for `taco run
// --data` and evaluation: the synthetic benchmark.
enum class GenFormat { kTrace, kLlava, kMantis, kTasks };
GenFormat gen_format_from_string(const std::string& s);  // throws Error

struct GenRunOptions {
  GenOptions gen;
  GenFormat format = GenFormat::kTrace;
  std::string out_path;  // .jsonl: one record per line; otherwise one JSON array
  bool direct = true;    // also write the Direct variant of every example
  // When 0..1: each question is written once, as its Direct variant for this share of the
  // questions (chosen by a seeded hash of the task id) and as its CoTA chain for the rest, so
  // that no question is taught with two different targets. -1: `direct` decides.
  double direct_share = -1;
  int shard = 0;         // this run makes scenes with index % shards == shard
  int shards = 1;
  int jobs = 1;
  size_t limit = 0;      // stop after this many CoTA examples (0: no limit)
};

struct GenSummary {
  size_t scenes = 0;
  size_t examples = 0;  // questions made
  size_t chains_rejected = 0;  // of those, chains the tools' noise led to another question or answer
  size_t chains_from_truth = 0;  // misled chains replaced by the perfect oracle's (GenOptions::misled_chains_from_truth)
  size_t records = 0;   // records written (CoTA and Direct)
  size_t scenes_skipped = 0;              // scenes whose files could not be read (image, depth, masks)
  std::vector<std::string> skipped_first; // why, for the first few
  std::map<std::string, size_t> per_family;
  double seconds = 0;
  // Records written for each scene of this shard, in order (0 for a skipped one): the shard's
  // manifest, from which taco merge puts the shards' records back in one run's order.
  std::vector<size_t> records_per_scene;
};

// Whether --direct-share asks this task directly (deterministic in the id and the seed).
bool asked_directly(const std::string& task_id, uint64_t seed, double share);

// How many of `scenes` shard k of N takes (the scenes with index % N == k); throws Error
// unless 0 <= k < N.
size_t scenes_in_shard(size_t scenes, int shard, int shards);

GenSummary run_generation(const std::vector<SceneAnnotation>& scenes, const GenRunOptions& options,
                          const PromptTemplate& prompts, const std::function<void()>& on_scene = nullptr);

// What taco gen is asked, one field per flag.
struct GenSettings {
  std::string annotations;   // a scene-graph-annotations.json (taco synth, Visual Genome style)
  std::string out;           // .jsonl: one record per line; otherwise one JSON array
  std::string format = "trace";  // llava, mantis, trace or tasks
  std::string families;      // comma-separated; "": all
  std::string shard;         // Shard.spec
  std::string images_dir;    // tagged images; "": <out>.images
  std::string prompt_template;  // a JSON file; "": taco's prompts
  std::string oracle_noise = "none";
  std::string misled_chains = "drop";  // or "perfect"
  double mc_ratio = 0;
  bool mc_names_option = false;  // GenOptions::mc_names_option
  double direct_share = -1;  // GenRunOptions::direct_share
  uint64_t seed = 1;
  int jobs = 1;
  bool no_images = false;    // the records name tagged images that are not drawn
  bool no_direct = false;
  size_t limit = 0;
};

struct GenJobResult {
  GenSummary summary;
  std::string out_path;  // this shard's file, or `out`
};

// Loads the scenes, generates, and writes the records, <out>.stats.json and, when sharded, the
// shard's manifest; tells the summary (per family, noise, skipped scenes) as it ends. Throws
// Error naming the setting for contradicting settings.
GenJobResult run_gen_job(const GenSettings& settings, const JobEvents& events = {});

}  // namespace taco
