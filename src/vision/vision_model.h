// taco's learned vision models: a detector and a depth estimator trained on `taco synth` worlds
// (`taco train-vision`) and run as the "learned" backend of the vision tools
// (LocalizeObjects, GetObjects, EstimateRegionDepth, EstimateObjectDepth). Training lives in the
// torch module; this function loads it on first use. docs/tools.md has the models, the commands
// and their measured accuracy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/json.h"

namespace taco {

struct VisionTrainOptions {
  std::string task;               // "detector" or "depth"
  std::vector<std::string> data;  // synth worlds: folders or their scene-graph-annotations.json
  std::vector<std::string> val;   // worlds of other seeds for the validation metrics
  std::string out;                // the checkpoint folder (created; resumed when it holds this run)
  std::string size = "small";     // small (shipped) or tiny (tests)
  int64_t steps = 0;              // optimizer steps; 0: epochs decides
  double epochs = 0;              // passes over the data (default 1 when steps is 0 too)
  int batch = 8;                  // images per step
  double lr = 2e-3;               // peak learning rate (AdamW; warm-up, then cosine)
  int threads = 1;                // CPU threads for the math
  uint64_t seed = 0;
  int64_t checkpoint_every = 200;  // steps between checkpoints (also written at the end)
  bool quiet = false;              // no progress lines
};

struct VisionTrainSummary {
  int64_t steps = 0;
  int64_t images = 0;        // images read (with repeats)
  double seconds = 0;        // training time over all runs that made this checkpoint
  double final_loss = 0;     // mean loss of the last steps
  Json validation;           // the validation metrics (eval/vision_metrics.h); null without --val
  bool already_done = false; // the folder already held the finished run
};

// Trains into options.out, resuming a run that was stopped (the same data and settings give the
// same weights as an uninterrupted run). Throws Error for bad worlds or options, and for a
// folder that holds another run.
VisionTrainSummary train_vision_model(const VisionTrainOptions& options);
using VisionTrainer = VisionTrainSummary (*)(const VisionTrainOptions& options);

}  // namespace taco
