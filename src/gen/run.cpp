#include "gen/run.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>

#include "cota/training_format.h"
#include "cota/visibility.h"
#include "tools/config.h"
#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"
#include "util/record_writer.h"
#include "util/progress.h"
#include "util/shard.h"
#include "util/work_pool.h"

namespace taco {
namespace {

constexpr size_t kChunk = 64;  // scenes generated in parallel, then written in order

}  // namespace

GenFormat gen_format_from_string(const std::string& s) {
  if (s == "trace") return GenFormat::kTrace;
  if (s == "llava") return GenFormat::kLlava;
  if (s == "mantis") return GenFormat::kMantis;
  if (s == "tasks") return GenFormat::kTasks;
  throw Error("unknown format '" + s + "' (use llava, mantis, trace or tasks)");
}

bool asked_directly(const std::string& task_id, uint64_t seed, double share) {
  const uint64_t x = mix64(hash_bytes(task_id) ^ (seed * kGoldenGamma));
  return static_cast<double>(x >> 11) * 0x1.0p-53 < share;
}

size_t scenes_in_shard(size_t scenes, int shard, int shards) {
  if (shards < 1 || shard < 0 || shard >= shards) throw Error("Shard.spec must be k/N with 0 <= k < N");
  const auto n = static_cast<size_t>(shards);
  return scenes / n + (scenes % n > static_cast<size_t>(shard));
}

namespace {

bool image_present(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

// Writes generated traces in the run's format and counts them.
class GenRecords {
 public:
  GenRecords(const GenRunOptions& o, size_t& count) : o_(o), out_(o.out_path), instruction_(task_instruction(all_tool_names())), count_(count) {}

  void write(const Trace& t) {
    Json r = record_of(t);
    // A training record's relative image paths start at its file's folder, as taco train and
    // export read them.
    if (o_.format == GenFormat::kLlava || o_.format == GenFormat::kMantis) {
      for (auto& p : r[o_.format == GenFormat::kLlava ? "image" : "images"]) p = relative_to(p.get<std::string>(), parent_dir(o_.out_path));
      if (std::string bad = check_training_record(r); !bad.empty()) throw Error("generated an invalid record " + t.task.id + ": " + bad);
    }
    out_.write(r);
    ++count_;
  }
  void close() { out_.close(); }

 private:
  Json record_of(const Trace& t) const {
    switch (o_.format) {
      case GenFormat::kTrace: return t.to_json_in(o_.out_path);
      case GenFormat::kLlava: return to_llava(t, t.task.id);
      case GenFormat::kMantis: return to_mantis(t, t.task.id, "taco-gen", instruction_);
      case GenFormat::kTasks: {
        // A task file's relative image paths start at its own folder (docs/trace-format.md).
        Json j = t.task.to_json();
        for (auto& p : j["images"]) p = relative_to(p.get<std::string>(), parent_dir(o_.out_path));
        return j;
      }
    }
    return Json();
  }

  const GenRunOptions& o_;
  RecordWriter out_;
  const std::string instruction_;
  size_t& count_;
};

// The scenes with what can be seen of each measured (measure_visibility) the first time a
// scene is asked for: a scene's masks are read once, not again for each group it is in.
// Scenes before a chunk the run has moved past are let go, so memory stays that of the input.
class MeasuredScenes {
 public:
  explicit MeasuredScenes(const std::vector<SceneAnnotation>& scenes)
      : scenes_(scenes), measured_(scenes.size()), errors_(scenes.size()), once_(std::make_unique<std::once_flag[]>(scenes.size())) {}
  size_t size() const { return scenes_.size(); }
  const SceneAnnotation& operator[](size_t i) {
    // Nothing throws out of call_once (a throwing callable has hung later callers with some
    // standard libraries): a scene that cannot be measured keeps its error for every asker.
    std::call_once(once_[i], [&] {
      try {
        SceneAnnotation a = scenes_[i];
        measure_visibility(a);
        measured_[i] = std::move(a);
      } catch (const std::exception& e) {
        errors_[i] = e.what();
      }
    });
    if (!errors_[i].empty()) throw Error(errors_[i]);
    if (!measured_[i]) throw Error("internal: scene " + scenes_[i].id + " was asked for after it was let go");
    return *measured_[i];
  }
  // No scene below `index` is asked for again: groups start at their first scene, which no
  // chunk still to come holds below its own first.
  void let_go_below(size_t index) {
    for (size_t i = released_; i < std::min(index, measured_.size()); ++i) measured_[i].reset(), errors_[i].clear();
    released_ = std::max(released_, index);
  }

 private:
  const std::vector<SceneAnnotation>& scenes_;
  std::vector<std::optional<SceneAnnotation>> measured_;
  std::vector<std::string> errors_;  // why a scene could not be measured
  std::unique_ptr<std::once_flag[]> once_;
  size_t released_ = 0;
};

// The examples of scene `index`: its own, then those of the groups that start at it (a group
// whose images are not all there is left out).
std::vector<GeneratedExample> examples_of_scene(MeasuredScenes& scenes, size_t index, const GenRunOptions& o,
                                                const PromptTemplate& prompts, SceneImageCache& images) {
  const SceneAnnotation& scene = scenes[index];
  // Records must not name an image that is not there, even when none is read (--no-images).
  if (!image_present(scene.image_path)) throw Error("image " + scene.image_path + " does not exist");
  std::vector<GeneratedExample> out = generate_for_scene(scene, index, o.gen, prompts, &images);
  for (const SceneGroup& g : scene_groups_starting_at(index, scenes.size())) {
    std::vector<const SceneAnnotation*> group;
    for (size_t k = 0; k < g.size; ++k) group.push_back(&scenes[g.first + k]);
    if (std::all_of(group.begin(), group.end(), [&](const SceneAnnotation* s) { return image_present(s->image_path); }))
      for (auto& ex : generate_for_group(group, g.index, o.gen, prompts, &images)) out.push_back(std::move(ex));
  }
  return out;
}

// Writes one scene's examples in the forms the options ask for; false once the limit is reached.
bool write_examples(const std::vector<GeneratedExample>& examples, const GenRunOptions& o, GenRecords& out, GenSummary& summary) {
  for (const auto& ex : examples) {
    if (o.format == GenFormat::kTasks) {
      out.write(ex.cota);  // a task is asked once, and its answer is the true one
    } else if (o.direct_share >= 0) {
      // A question whose noisy chain was rejected is not asked as CoTA in another form:
      // the shares stay those of the questions, as the filter of a real pipeline leaves them.
      if (asked_directly(ex.cota.task.id, o.gen.seed, o.direct_share)) out.write(ex.direct);
      else if (ex.chain_kept) out.write(ex.cota);
    } else {
      if (ex.chain_kept) out.write(ex.cota);
      if (o.direct) out.write(ex.direct);
    }
    summary.chains_rejected += !ex.chain_kept;
    summary.chains_from_truth += ex.chain_from_truth;
    ++summary.examples;
    ++summary.per_family[ex.family];
    if (o.limit && summary.examples >= o.limit) return false;
  }
  return true;
}

}  // namespace

GenSummary run_generation(const std::vector<SceneAnnotation>& scenes, const GenRunOptions& o, const PromptTemplate& prompts,
                          const std::function<void()>& on_scene) {
  const auto start = std::chrono::steady_clock::now();
  scenes_in_shard(scenes.size(), o.shard, o.shards);  // checks the shard before anything is written
  if (o.direct_share > 1) throw Error("GenSettings.direct_share must be between 0 and 1");
  GenSummary summary;
  GenRecords out(o, summary.records);

  std::vector<size_t> mine;  // the indices of this shard's scenes
  for (size_t i = 0; i < scenes.size(); ++i)
    if (static_cast<int>(i % static_cast<size_t>(o.shards)) == o.shard) mine.push_back(i);

  MeasuredScenes measured(scenes);
  bool done = false;
  for (size_t begin = 0; begin < mine.size() && !done; begin += kChunk) {
    const size_t end = std::min(mine.size(), begin + kChunk);
    std::vector<std::vector<GeneratedExample>> results(end - begin);
    std::vector<std::string> errors(end - begin);
    SceneImageCache images;  // per chunk, so memory stays bounded
    parallel_for(end - begin, static_cast<size_t>(std::max(1, o.jobs)), [&](size_t offset) {
      const size_t index = mine[begin + offset];
      try {
        results[offset] = examples_of_scene(measured, index, o, prompts, images);
      } catch (const std::exception& e) {
        errors[offset] = scenes[index].id + ": " + e.what();
      }
      if (on_scene) on_scene();
    });
    for (size_t i = 0; i < results.size() && !done; ++i) {
      // One bad scene costs its own questions (and its group's), not the run.
      const size_t records_before = summary.records;
      if (!errors[i].empty()) {
        ++summary.scenes_skipped;
        if (summary.skipped_first.size() < 5) summary.skipped_first.push_back(errors[i]);
      } else {
        ++summary.scenes;
        done = !write_examples(results[i], o, out, summary);
      }
      summary.records_per_scene.push_back(summary.records - records_before);
    }
    if (end < mine.size()) measured.let_go_below(mine[end]);
  }
  // Every scene failing is a broken input, not a run with nothing to say.
  if (summary.scenes == 0 && summary.scenes_skipped > 0)
    throw Error("no scene could be read (" + std::to_string(summary.scenes_skipped) + " failed); the first: " + summary.skipped_first[0]);
  out.close();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

GenJobResult run_gen_job(const GenSettings& f, const JobEvents& events) {
  GenRunOptions o;
  o.format = gen_format_from_string(f.format);
  o.gen.seed = f.seed;
  o.gen.mc_ratio = f.mc_ratio;
  o.gen.mc_names_option = f.mc_names_option;
  if (f.mc_names_option && f.mc_ratio <= 0)
    throw Error("GenSettings.mc_names_option needs GenSettings.mc_ratio above 0: no question would be multiple choice");
  o.gen.noise = OracleNoise::parse(f.oracle_noise);
  o.gen.misled_chains_from_truth = f.misled_chains == "perfect";
  if (o.gen.misled_chains_from_truth && o.gen.noise.none())
    throw Error("GenSettings.misled_chains perfect needs GenSettings.oracle_noise: without noise no chain is misled");
  std::istringstream families(f.families);
  for (std::string name; std::getline(families, name, ',');)
    if (!name.empty()) o.gen.families.push_back(name);
  const Shard shard = shard_from(f.shard);
  o.shard = shard.index;
  o.shards = shard.count;
  const std::string out = shard.output_path(f.out);
  o.out_path = out;
  o.jobs = f.jobs;
  o.direct = !f.no_direct;
  if (f.no_direct && f.direct_share >= 0)
    throw Error("GenSettings.no_direct and GenSettings.direct_share contradict each other; give one");
  o.direct_share = f.direct_share;
  o.limit = f.limit;
  if (!f.no_images && o.format != GenFormat::kTasks) {  // tasks need only the scene images
    // Shards share one images folder (a tagged image's name says what is drawn on which
    // picture, and shards that draw the same one write the same bytes): merged, the records are
    // those of one run, image paths included.
    o.gen.images_dir = f.images_dir.empty() ? output_base(f.out) + ".images" : f.images_dir;
  }
  PromptTemplate prompts = f.prompt_template.empty() ? PromptTemplate::defaults() : PromptTemplate::from_file(f.prompt_template);
  AnnotationProblems problems;
  std::vector<SceneAnnotation> scenes = load_scene_annotations(f.annotations, &problems);
  GenSummary s;
  {
    Progress progress("gen", scenes_in_shard(scenes.size(), o.shard, o.shards), events.progress);
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
    m.settings = {{"data", std::filesystem::absolute(f.annotations).lexically_normal().string()}, {"format", f.format},
                  {"seed", f.seed}, {"families", f.families}, {"mc_ratio", f.mc_ratio},
                  {"oracle_noise", o.gen.noise.to_string()}, {"misled_chains", f.misled_chains}, {"direct", o.direct},
                  {"direct_share", o.direct_share}, {"limit", o.limit}, {"prompt_template", prompts.hash()}, {"out", f.out}};
    // Only when set: shards made before the flag existed still merge with today's default ones.
    if (f.mc_names_option) m.settings["mc_names_option"] = true;
    m.write_for(out);
    events.tell(format_text("shard %s (from %s) -> %s; taco merge joins the %d parts\n", shard.to_string().c_str(),
                            shard.source.c_str(), out.c_str(), shard.count));
  }
  std::string text = format_text("%zu examples (%zu records) from %zu scenes in %.1f s (%.0f examples/s) -> %s\n", s.examples,
                                 s.records, s.scenes, s.seconds, s.examples / std::max(s.seconds, 1e-9), out.c_str());
  if (o.gen.misled_chains_from_truth)  // refused above without noise
    text += format_text("oracle noise %s: %zu of %zu chains misled by the noisy tools, written as the perfect oracle's\n",
                        o.gen.noise.to_string().c_str(), s.chains_from_truth, s.examples);
  else if (!o.gen.noise.none())
    text += format_text("oracle noise %s: %zu of %zu chains rejected (the noisy tools led them to another question or answer)\n",
                        o.gen.noise.to_string().c_str(), s.chains_rejected, s.examples);
  for (const auto& [family, n] : s.per_family) text += format_text("  %-16s %zu\n", family.c_str(), n);
  if (problems.scenes_skipped + s.scenes_skipped + problems.boxes_fixed > 0) {
    text += format_text("warning: %zu scenes skipped, %zu boxes fixed (listed in %s.stats.json); the first:\n",
                        problems.scenes_skipped + s.scenes_skipped, problems.boxes_fixed, out.c_str());
    for (const auto& p : skipped) text += "  " + p + "\n";
  }
  events.tell(text);
  return {std::move(s), out};
}

}  // namespace taco
