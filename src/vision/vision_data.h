// What taco's vision models learn from: the scenes of `taco synth` worlds (images, exact boxes,
// labels, attributes, inverse-depth maps) read into the model's input size. No libtorch.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cota/annotation.h"
#include "vision/vision_config.h"

namespace taco {

class Image;

struct VisionTarget {
  std::array<double, 4> box{};  // normalized [left, top, right, bottom]
  int category = 0, color = 0, material = 0, size = 0;  // indexes into the config's lists
};

struct VisionExample {
  SceneAnnotation scene;             // as annotated (boxes in the image's pixels)
  std::vector<uint8_t> rgb;          // input_height x input_width x 3, RGB
  std::vector<VisionTarget> objects;  // the detector's targets (objects of a known category)
  std::vector<float> inverse_depth;  // the depth model's target at its output size, in 1 / metres
};

struct VisionWorld {
  std::vector<VisionExample> examples;
  std::vector<std::string> sources, hashes;  // each annotation file read and its SHA-256
  size_t objects_skipped = 0;                // objects whose label or attributes the config lacks
};

// The scene-graph-annotations.json of `path`: the file itself, or the one in the folder.
std::string world_annotations_file(const std::string& path);

// Reads the worlds in `paths` for `config`'s task (depth maps only for the depth model), on
// `threads` threads. Throws Error naming a world without scenes, a scene whose image or depth
// map cannot be read, or a depth model's world without depth maps.
VisionWorld read_vision_worlds(const std::vector<std::string>& paths, const VisionModelConfig& config, int threads);

// An image's pixels as the network reads them: resized to the config's input size, RGB.
std::vector<uint8_t> vision_input(const Image& image, const VisionModelConfig& config);

}  // namespace taco
