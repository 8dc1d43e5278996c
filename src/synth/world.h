// The synthetic scene world: procedurally rendered images with exact annotations, so the whole
// pipeline (generation, tools, evaluation, training) runs offline.
//
// A scene is a ground plane seen by a pinhole camera, with 3 to 9 objects of 13 categories
// standing on it. Each object has a color, a material, a size and sometimes a number or word
// printed on it; farther objects are drawn smaller, higher and earlier (so nearer ones occlude
// them), and the depth map is the true inverse distance of every pixel. Scene k of seed s is
// the same on every machine and for any number of threads.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cota/annotation.h"
#include "tools/image.h"

namespace taco {

struct SynthOptions {
  int width = 640;
  int height = 480;
  int min_objects = 3;
  int max_objects = 9;
  double text_probability = 0.8;  // chance that an object that can carry text has some
};

struct SynthScene {
  SceneAnnotation annotation;      // boxes in pixels, depth values as inverse depth; image_path and depth_path left empty
  Image image;
  std::vector<float> inverse_depth;  // height x width, larger is closer (as Depth Anything)
};

// The category names, colors and materials the world draws from.
const std::vector<std::string>& synth_categories();
const std::vector<std::string>& synth_colors();
const std::vector<std::string>& synth_materials();

// Scene `index` of world `seed`.
SynthScene render_scene(uint64_t seed, uint64_t index, const SynthOptions& options = {});

struct SynthSummary {
  size_t scenes = 0;
  size_t objects = 0;
  double seconds = 0;
};

// Writes scenes [0, n) of world `seed` to `out`: images/<id>.png, depth/<id>.npy and
// scene-graph-annotations.json (ids "<seed>-<index>"), using `jobs` threads. `on_scene` is
// called after each scene is written (from any thread).
SynthSummary write_world(const std::string& out, size_t n, uint64_t seed, int jobs, const SynthOptions& options = {},
                         const std::function<void()>& on_scene = nullptr);

}  // namespace taco
