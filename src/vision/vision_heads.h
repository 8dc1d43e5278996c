// What the vision network's output means (torch module only): the detector's CenterNet-style
// heads (a centre heatmap per category, box size and centre offset, attribute logits at each
// centre) and the depth map, as losses against a world's targets and decoded into what the
// vision tools answer.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "cota/annotation.h"
#include "vision/vision_data.h"

namespace taco {

// The detector's loss on a batch: `out` [N, C, h, w] for examples `batch`. Focal loss on the
// heatmaps (per centre), L1 on size (0.1) and offset, cross-entropy on the attributes.
torch::Tensor detector_loss(const torch::Tensor& out, const std::vector<const VisionExample*>& batch, const VisionModelConfig& c);

// The depth model's loss: L1 on inverse depth (1 / metres), `out` [N, 1, h, w].
torch::Tensor depth_loss(const torch::Tensor& out, const std::vector<const VisionExample*>& batch, const VisionModelConfig& c);

// The objects one image's output [C, h, w] shows, each a centre that is the highest of its 3x3
// neighbourhood and scores at least `threshold`, at most `max_objects` by score, a weaker box
// that overlaps a kept one by IoU 0.6 or more (another category's guess at it) left out: label,
// attributes (colour, material, and "small"/"large" but not "medium"), box in the pixels of a
// `width` x `height` image, score.
std::vector<SceneObject> decode_objects(const torch::Tensor& out, const VisionModelConfig& c, int width, int height, double threshold,
                                        size_t max_objects = 100);

// The depth output [1, h, w] as a map in the depth tools' units (the config's depth_scale per
// 1 / metre: the inverse depth the synthetic world's .npy maps hold), row-major h x w.
std::vector<float> decode_inverse_depth(const torch::Tensor& out, const VisionModelConfig& c);

}  // namespace taco
