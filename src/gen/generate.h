// Programmatic CoTA generation: question families that turn one image's dense annotations into
// a question, its answer, and the exact chain of tool calls with their outputs (the oracle's
// outputs: boxes normalized and rounded to two decimals, confidences drawn in [0.5, 1.0]),
// plus a Direct variant with the answer alone.
//
// Every example records its family and parameters in task.metadata, so an independent checker
// can recompute the answer from the annotations. Generation is deterministic: example k of
// scene s depends only on (seed, s, family), never on threads or shards.
// Pure functions over immutable inputs; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cota/annotation.h"
#include "cota/prompt.h"
#include "cota/trace.h"
#include "tools/image.h"
#include "tools/oracle_noise.h"

namespace taco {

struct GenOptions {
  uint64_t seed = 1;
  double mc_ratio = 0.0;      // share of questions asked as multiple choice
  // A multiple-choice chain's last thought ends by naming the option it picks ("The option for
  // 1 is C."), so that the letter is written right after the value it stands for.
  bool mc_names_option = false;
  // Where tagged images go ("" draws none; the trace still names them): each file named by its
  // picture and the regions drawn on it, <images_dir>/<2 hex>/<scene id>-<16 hex>.jpg.
  std::string images_dir;
  std::vector<std::string> families;  // empty: all
  // The tools' noise (tools/oracle_noise.h). Questions and answers stay those of the true
  // scene; each chain is made from the scene as perceived, and kept only where it asks the
  // same question and reaches the same answer (as TACO kept only verified chains).
  OracleNoise noise;
  // With noise, a chain the noise misled is replaced by the perfect oracle's chain instead of
  // being left out: no question is lost, and the kept chains still show the noisy tools.
  bool misled_chains_from_truth = false;
};

// Decoded scene pictures shared by the examples of a run, so that each picture is decoded once
// even when single- and multi-image families both draw on it, and the tagged images written,
// so that examples that box the same objects in the same picture share one file. Thread-safe.
class SceneImageCache {
 public:
  Image get(const std::string& path);
  // Writes `path` with what `encode` makes, the first time it is asked for.
  void write_once(const std::string& path, const std::function<std::string()>& encode);

 private:
  std::mutex mu_;
  std::map<std::string, Image> images_;
  std::set<std::string> written_;
};

struct GeneratedExample {
  std::string family;
  Trace cota;    // the chain of thought and action
  Trace direct;  // one Terminate step with the answer
  // False when the noisy tools led the chain astray (see GenOptions::noise): `cota` is then
  // the noise-free chain, kept for its task only; the Direct variant is still right.
  bool chain_kept = true;
  // True when the noise misled the chain and GenOptions::misled_chains_from_truth put the
  // perfect oracle's chain in its place (then chain_kept stays true).
  bool chain_from_truth = false;
};

// Every family: the single-image ones count, most_frequent, least_frequent, position (left-,
// right-, top-, bottom-most), depth (closer, farther), attribute (color, material), ocr_math
// (sum or comparison of printed numbers), relation (existence), depth_anchor, attribute_exists,
// relation_head, scene_graph_qa, count_attribute (how many red X), object_query (the green
// object left of Y), region_depth (which X is closer, the red or the blue: LocalizeObjects then
// EstimateRegionDepth); then the multi-image ones below (docs/gen.md has examples).
const std::vector<std::string>& generator_families();

// Tries every requested single-image family on one scene, as it can be seen (visible_part:
// an object hidden from sight is not counted or asked about); a family that does not fit the
// scene (e.g. no two objects with numbers) gives nothing. Throws Error for an unknown family.
std::vector<GeneratedExample> generate_for_scene(const SceneAnnotation& scene, size_t scene_index,
                                                 const GenOptions& options, const PromptTemplate& prompts,
                                                 SceneImageCache* images = nullptr);

// The multi-image families on a group of scenes (image-0, image-1, ...), each as it can be
// seen: multi_select (which
// image has X), multi_most (which image has the most X), multi_count (X over all images),
// multi_common (the kind in every image), multi_attribute (same color?), multi_relation (in
// which image does the relation hold), multi_count_attribute (red X over all images),
// multi_select_attribute (which image has a red X), multi_fewest (which has the fewest X). A
// group of two gets the two-image families instead: pair_relation_change (where X is relative to
// Y in image-1, given image-0) and pair_attribute_diff (color, material, both or neither).
std::vector<GeneratedExample> generate_for_group(const std::vector<const SceneAnnotation*>& group, size_t group_index,
                                                 const GenOptions& options, const PromptTemplate& prompts,
                                                 SceneImageCache* images = nullptr);

// The groups taco gen asks the multi-image families about: every third scene starts a group of
// three, and the scene after it a pair for the two-image families. The groups that start at
// scene `first` of `scene_count` scenes (none, or one or two of them), with their group_index.
struct SceneGroup {
  size_t first, size, index;
};
std::vector<SceneGroup> scene_groups_starting_at(size_t first, size_t scene_count);

}  // namespace taco
