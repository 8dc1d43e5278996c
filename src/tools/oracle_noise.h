// The oracle's imperfect perception. A perfect oracle would make an experiment measure perfect
// perception against learned perception, so the oracle backend and `taco gen` can both see a
// scene through the same noise: missed objects, spurious boxes, jittered boxes and a smoothly
// wrong depth map. The noise is a pure function of the scene's id and the settings, so gen's
// chains say exactly what the oracle tools answer at evaluation (a test replays them).
#pragma once

#include <cstdint>
#include <string>

#include "cota/annotation.h"
#include "tools/vision_backend.h"
#include "util/json.h"

namespace taco {

struct OracleNoise {
  double miss = 0;             // probability that the detector misses an object
  double false_detection = 0;  // probability, per object, of a spurious second box of its kind
  double box_jitter = 0;       // std of each box edge, as a share of the box's width or height
  double depth = 0;            // std of the depth map's smooth relative error
  uint64_t seed = 0;

  bool none() const { return miss == 0 && false_detection == 0 && box_jitter == 0 && depth == 0; }
  // "none", "realistic", "miss=0.1,false=0.05,jitter=0.05,depth=0.1[,seed=N]" or an object with
  // those keys. Throws Error naming what is wrong.
  static OracleNoise parse(const Json& spec);
  // The canonical "miss=..,false=..,jitter=..,depth=..,seed=.." form ("none" when none).
  std::string to_string() const;
};

// The scene as a detector with this noise sees it: missed objects (and their relations) gone,
// the other boxes jittered, spurious boxes appended (the label and attributes of a real object,
// no text, a low confidence). Every object carries its confidence. Identity when none().
SceneAnnotation perceive(const SceneAnnotation& truth, const OracleNoise& noise);

// Multiplies the depth map by 1 + e(x, y), a smooth field (a coarse grid of normal draws with
// this std, interpolated) fixed by the scene's id. No-op when noise.depth is 0.
void perturb_depth(DepthMap& depth, const std::string& scene_id, const OracleNoise& noise);

}  // namespace taco
