// VisionModelConfig: what config.json of a learned vision checkpoint says. taco trains two such
// models on its synthetic world (`taco train-vision`, docs/tools.md) and runs them as the
// "learned" backend of the vision tools. A checkpoint is a folder:
//   config.json        this: {"format": "taco-vision-detector" or "taco-vision-depth", ...}
//   model.safetensors  the weights, named as the network's parameters and buffers
// Plain value type; no libtorch.
#pragma once

#include <string>
#include <vector>

#include "util/json.h"

namespace taco {

enum class VisionTask { kDetector, kDepth };
const char* to_string(VisionTask task);                 // "detector", "depth"
VisionTask vision_task_from_string(const std::string&);  // throws Error for another name

struct VisionModelConfig {
  VisionTask task = VisionTask::kDetector;
  // Architecture: images are resized to input_width x input_height; the encoder's four stages
  // have `channels` channels (strides 2, 4, 8, 16); the output is at 1/output_stride.
  int input_width = 320;
  int input_height = 240;
  std::vector<int> channels = {16, 32, 64, 96};
  int output_stride = 4;
  // Detector: what its heads name, in index order. Sizes are "small", "medium" and "large"
  // (the world's objects of medium size carry no size attribute).
  std::vector<std::string> categories, colors, materials, sizes;
  double score_threshold = 0.3;  // a box is reported from this centre score on
  // Depth: the map's unit per unit of inverse distance (the synthetic world's .npy maps hold
  // 10000 / metres), so that the tools answer in the units the oracle answers in.
  double depth_scale = 10000;
  // Training: data hashes, settings, totals, validation metrics. Informational.
  Json training = Json::object();

  // The output channels of the network's head: detector: one centre heatmap per category, box
  // width and height, centre offset, then colour, material and size logits; depth: 1.
  int output_channels() const;

  Json to_json() const;
  // Throws Error "<what>: ..." for a missing or ill-typed field or an impossible architecture.
  // Sizes are bounded (inputs up to 1024 x 1024, stages up to 256 channels) so that a config
  // from elsewhere cannot make the network's activations take more than a few hundred MB.
  static VisionModelConfig from_json(const Json& j, const std::string& what);
  // The config a new run of `task` starts from, at size "small" (shipped) or "tiny" (tests).
  static VisionModelConfig preset(VisionTask task, const std::string& size);
};

// The config.json of the checkpoint folder `dir`, read and checked; `want` the task it must be.
// Throws Error naming the folder and what is wrong.
VisionModelConfig read_vision_config(const std::string& dir, VisionTask want);

}  // namespace taco
