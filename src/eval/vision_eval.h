// The vision evaluation job (`taco eval vision`): how well the backends a tools config gives
// LocalizeObjects and EstimateRegionDepth see a world, against its exact annotations, by the
// measures of eval/vision_metrics.h, and how fast they answer. The learned models and the
// oracle's simulated noise are measured the same way, so their numbers stand side by side.
#pragma once

#include <cstddef>
#include <string>

#include "util/job.h"
#include "util/json.h"

namespace taco {

struct VisionEvalSettings {
  std::string tools_config;  // the backends to measure
  std::string data;          // a world: a folder `taco synth` wrote, or its scene-graph-annotations.json
  std::string out;           // the report as JSON ("": not written)
  size_t limit = 0;          // the first N scenes (0: all)
};

// The report: {"world", "world_sha256", "scenes", "detector": {"backend", ... DetectionTally,
// "images_per_second"}, "depth": {"backend", ... DepthTally, "images_per_second"}}; a part is
// absent when its tool has no backend. Prints a Markdown summary through `events`.
Json eval_vision(const VisionEvalSettings& settings, const JobEvents& events = {});

}  // namespace taco
