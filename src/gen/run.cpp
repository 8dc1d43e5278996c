#include "gen/run.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "cota/training_format.h"
#include "tools/config.h"
#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"
#include "util/record_writer.h"
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
  const uint64_t x = mix64(std::hash<std::string>{}(task_id) ^ (seed * kGoldenGamma));
  return static_cast<double>(x >> 11) * 0x1.0p-53 < share;
}

size_t scenes_in_shard(size_t scenes, int shard, int shards) {
  if (shards < 1 || shard < 0 || shard >= shards) throw Error("--shard must be k/N with 0 <= k < N");
  const auto n = static_cast<size_t>(shards);
  return scenes / n + (scenes % n > static_cast<size_t>(shard));
}

namespace {

bool image_present(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace

GenSummary run_generation(const std::vector<SceneAnnotation>& scenes, const GenRunOptions& o, const PromptTemplate& prompts,
                          const std::function<void()>& on_scene) {
  const auto start = std::chrono::steady_clock::now();
  scenes_in_shard(scenes.size(), o.shard, o.shards);  // checks the shard before anything is written
  if (o.direct_share > 1) throw Error("--direct-share must be between 0 and 1");
  RecordWriter out(o.out_path);
  const std::string instruction = task_instruction(all_tool_names());

  GenSummary summary;
  auto record_of = [&](const Trace& t) -> Json {
    switch (o.format) {
      case GenFormat::kTrace: return t.to_json_in(o.out_path);
      case GenFormat::kLlava: return to_llava(t, t.task.id);
      case GenFormat::kMantis: return to_mantis(t, t.task.id, "taco-gen", instruction);
      case GenFormat::kTasks: {
        // A task file's relative image paths start at its own folder (docs/trace-format.md).
        Json j = t.task.to_json();
        for (auto& p : j["images"]) p = relative_to(p.get<std::string>(), parent_dir(o.out_path));
        return j;
      }
    }
    return Json();
  };
  auto write = [&](const Trace& t) {
    Json r = record_of(t);
    // A training record's relative image paths start at its file's folder, as taco train and
    // export read them.
    if (o.format == GenFormat::kLlava || o.format == GenFormat::kMantis)
      for (auto& p : r[o.format == GenFormat::kLlava ? "image" : "images"]) p = relative_to(p.get<std::string>(), parent_dir(o.out_path));
    if (o.format == GenFormat::kLlava || o.format == GenFormat::kMantis)
      if (std::string bad = check_training_record(r); !bad.empty()) throw Error("generated an invalid record " + t.task.id + ": " + bad);
    out.write(r);
    ++summary.records;
  };

  std::vector<const SceneAnnotation*> mine;
  std::vector<size_t> indices;
  for (size_t i = 0; i < scenes.size(); ++i)
    if (static_cast<int>(i % static_cast<size_t>(o.shards)) == o.shard) mine.push_back(&scenes[i]), indices.push_back(i);

  bool done = false;
  for (size_t begin = 0; begin < mine.size() && !done; begin += kChunk) {
    const size_t end = std::min(mine.size(), begin + kChunk);
    std::vector<std::vector<GeneratedExample>> results(end - begin);
    std::vector<std::string> errors(end - begin);
    SceneImageCache images;  // per chunk, so memory stays bounded
    auto scene = [&](size_t offset) {
      const size_t i = begin + offset;
      try {
        // Records must not name an image that is not there, even when none is read (--no-images).
        if (!image_present(mine[i]->image_path)) throw Error("image " + mine[i]->image_path + " does not exist");
        results[i - begin] = generate_for_scene(*mine[i], indices[i], o.gen, prompts, &images);
        for (const SceneGroup& g : scene_groups_starting_at(indices[i], scenes.size())) {
          std::vector<const SceneAnnotation*> group;
          for (size_t k = 0; k < g.size; ++k) group.push_back(&scenes[g.first + k]);
          const bool whole = std::all_of(group.begin(), group.end(), [&](const SceneAnnotation* s) { return image_present(s->image_path); });
          if (whole)
            for (auto& ex : generate_for_group(group, g.index, o.gen, prompts, &images)) results[i - begin].push_back(std::move(ex));
        }
      } catch (const std::exception& e) {
        errors[i - begin] = mine[i]->id + ": " + e.what();
      }
      if (on_scene) on_scene();
    };
    parallel_for(end - begin, static_cast<size_t>(std::max(1, o.jobs)), scene);
    for (size_t i = 0; i < results.size() && !done; ++i) {
      // One bad scene costs its own questions (and its group's), not the run.
      const size_t records_before = summary.records;
      struct CountRecords {  // on every way out of this scene's turn
        GenSummary& s;
        size_t before;
        ~CountRecords() { s.records_per_scene.push_back(s.records - before); }
      } count_records{summary, records_before};
      if (!errors[i].empty()) {
        ++summary.scenes_skipped;
        if (summary.skipped_first.size() < 5) summary.skipped_first.push_back(errors[i]);
        continue;
      }
      ++summary.scenes;
      for (const auto& ex : results[i]) {
        if (o.format == GenFormat::kTasks) {
          write(ex.cota);  // a task is asked once, and its answer is the true one
        } else if (o.direct_share >= 0) {
          // A question whose noisy chain was rejected is not asked as CoTA in another form:
          // the shares stay those of the questions, as the filter of a real pipeline leaves them.
          if (asked_directly(ex.cota.task.id, o.gen.seed, o.direct_share)) write(ex.direct);
          else if (ex.chain_kept) write(ex.cota);
        } else {
          if (ex.chain_kept) write(ex.cota);
          if (o.direct) write(ex.direct);
        }
        summary.chains_rejected += !ex.chain_kept;
        summary.chains_from_truth += ex.chain_from_truth;
        ++summary.examples;
        ++summary.per_family[ex.family];
        if (o.limit && summary.examples >= o.limit) {
          done = true;
          break;
        }
      }
    }
  }
  // Every scene failing is a broken input, not a run with nothing to say.
  if (summary.scenes == 0 && summary.scenes_skipped > 0)
    throw Error("no scene could be read (" + std::to_string(summary.scenes_skipped) + " failed); the first: " + summary.skipped_first[0]);
  out.close();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace taco
