#include "gen/generate.h"

#include "gen/families/builder.h"

namespace taco {
namespace {

using namespace gen;  // the families and the Builder they share (gen/families/builder.h)

bool wanted(const GenOptions& o, const std::string& name) {
  return o.families.empty() || std::find(o.families.begin(), o.families.end(), name) != o.families.end();
}

void check_families(const GenOptions& o) {
  for (const auto& f : o.families)
    if (std::find(generator_families().begin(), generator_families().end(), f) == generator_families().end())
      throw Error("unknown generator family '" + f + "'");
}

Rng family_rng(const GenOptions& o, uint64_t unit, uint64_t family_index) {
  std::seed_seq seq{static_cast<uint32_t>(o.seed), static_cast<uint32_t>(o.seed >> 32), static_cast<uint32_t>(unit),
                    static_cast<uint32_t>(unit >> 32), static_cast<uint32_t>(family_index)};
  return Rng(seq);
}

// One family on one scene or group: `attempt` runs it on the given inputs with a copy of the
// family's random stream.
using Attempt = std::function<std::optional<GeneratedExample>(const std::vector<const SceneAnnotation*>&, LazyDepth&,
                                                              const GenOptions&, Rng)>;

// Without noise, the family on the true scene. With noise, the question and answer of the true
// scene and the chain of the perceived one, when the perceived scene leads the same stream to
// the same question and the same answer; otherwise the true example marked !chain_kept, since
// a chain whose tools mislead it teaches a wrong answer, or with misled_chains_from_truth the
// true example's own chain. Tool images are drawn only for a kept chain, so a rejected one
// leaves no files behind.
std::optional<GeneratedExample> through_noise(const Attempt& attempt, const std::vector<const SceneAnnotation*>& truth,
                                              LazyDepth& true_depth, const std::vector<const SceneAnnotation*>& seen,
                                              LazyDepth& seen_depth, const GenOptions& options, const Rng& rng) {
  if (options.noise.none()) return attempt(truth, true_depth, options, rng);
  GenOptions undrawn = options;
  undrawn.images_dir.clear();
  auto right = attempt(truth, true_depth, undrawn, rng);
  if (!right) return std::nullopt;
  auto chain = attempt(seen, seen_depth, undrawn, rng);
  if (!chain || chain->cota.task.question != right->cota.task.question || chain->cota.answer != right->cota.answer) {
    if (!options.misled_chains_from_truth) {
      right->chain_kept = false;
      return right;
    }
    if (!options.images_dir.empty()) right = attempt(truth, true_depth, options, rng);
    right->chain_from_truth = true;
    right->cota.task.metadata["oracle_noise"] = "none";
    return right;
  }
  if (!options.images_dir.empty()) chain = attempt(seen, seen_depth, options, rng);
  chain->cota.task.metadata["oracle_noise"] = options.noise.to_string();
  return chain;
}

}  // namespace

const std::vector<std::string>& generator_families() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& [name, fn] : families()) n.push_back(name);
    for (const auto& [name, fn] : group_families()) n.push_back(name);
    for (const auto& [name, fn] : pair_families()) n.push_back(name);
    return n;
  }();
  return names;
}

Image SceneImageCache::get(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = images_.find(path); it != images_.end()) return it->second;
  }
  Image image = Image::load(path);  // decoded outside the lock; a rare double decode is harmless
  std::lock_guard<std::mutex> lock(mu_);
  return images_.emplace(path, std::move(image)).first->second;
}

void SceneImageCache::write_once(const std::string& path, const std::function<std::string()>& encode) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (written_.count(path)) return;
  }
  // Marked only once it is whole: an example never names a file that a failed write left out.
  // Two threads that draw the same image at once both write it, renamed into place whole.
  write_file_replacing(path, encode());
  std::lock_guard<std::mutex> lock(mu_);
  written_.insert(path);
}

std::vector<GeneratedExample> generate_for_scene(const SceneAnnotation& annotated, size_t scene_index, const GenOptions& options,
                                                 const PromptTemplate& prompts, SceneImageCache* cache) {
  check_families(options);
  const SceneAnnotation scene = visible_part(annotated);  // questions about what can be seen, as the tools see it
  std::vector<LazyImage> images{LazyImage(scene.image_path, cache)};
  const SceneAnnotation seen = perceive(scene, options.noise);
  LazyDepth true_depth(scene, OracleNoise{}), seen_depth(seen, options.noise);
  std::vector<GeneratedExample> out;
  uint64_t family_index = 0;
  for (const auto& [name, fn] : families()) {
    ++family_index;
    if (!wanted(options, name)) continue;
    Attempt attempt = [&, name = name, fn = fn](const std::vector<const SceneAnnotation*>& scenes, LazyDepth& depth,
                                                const GenOptions& o, Rng rng) {
      Builder builder(scenes, scene, images, depth, name, o, prompts, rng);
      return fn(*scenes[0], builder, rng);
    };
    if (auto ex = through_noise(attempt, {&scene}, true_depth, {&seen}, seen_depth, options,
                                family_rng(options, scene_index, family_index)))
      out.push_back(std::move(*ex));
  }
  return out;
}

std::vector<SceneGroup> scene_groups_starting_at(size_t first, size_t scene_count) {
  constexpr size_t kGroupSize = 3;  // images per multi-image question
  std::vector<SceneGroup> groups;
  for (const size_t size : {kGroupSize, size_t{2}})
    if (first % kGroupSize == (size == kGroupSize ? 0u : 1u) && first + size <= scene_count)
      groups.push_back({first, size, first / kGroupSize});
  return groups;
}

std::vector<GeneratedExample> generate_for_group(const std::vector<const SceneAnnotation*>& annotated, size_t group_index,
                                                 const GenOptions& options, const PromptTemplate& prompts,
                                                 SceneImageCache* cache) {
  check_families(options);
  if (annotated.size() < 2) return {};
  std::vector<SceneAnnotation> visible_scenes;  // questions about what can be seen, as the tools see it
  for (const auto* a : annotated) visible_scenes.push_back(visible_part(*a));
  std::vector<const SceneAnnotation*> group;
  for (const auto& a : visible_scenes) group.push_back(&a);
  std::vector<LazyImage> images;
  std::vector<SceneAnnotation> seen_scenes;
  for (const auto* a : group) {
    images.emplace_back(a->image_path, cache);
    seen_scenes.push_back(perceive(*a, options.noise));
  }
  std::vector<const SceneAnnotation*> seen;
  for (const auto& a : seen_scenes) seen.push_back(&a);
  LazyDepth true_depth(*group[0], OracleNoise{}), seen_depth(*seen[0], options.noise);
  std::vector<GeneratedExample> out;
  // Streams apart from the single-image families' (and the pairs' from the triples').
  uint64_t family_index = group.size() == 2 ? 200 : 100;
  for (const auto& [name, fn] : group.size() == 2 ? pair_families() : group_families()) {
    ++family_index;
    if (!wanted(options, name)) continue;
    Attempt attempt = [&, name = name, fn = fn](const std::vector<const SceneAnnotation*>& scenes, LazyDepth& depth,
                                                const GenOptions& o, Rng rng) {
      Builder builder(scenes, *group[0], images, depth, name, o, prompts, rng);
      return fn(scenes, builder, rng);
    };
    if (auto ex = through_noise(attempt, group, true_depth, seen, seen_depth, options,
                                family_rng(options, group_index, family_index)))
      out.push_back(std::move(*ex));
  }
  return out;
}

}  // namespace taco
