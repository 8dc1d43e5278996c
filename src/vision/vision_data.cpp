#include "vision/vision_data.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "tools/image.h"
#include "tools/image_cv.h"
#include "util/error.h"
#include "util/npy.h"
#include "util/sha256.h"
#include "util/work_pool.h"

namespace taco {
namespace {

int index_of(const std::vector<std::string>& names, const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

// The first of the object's attributes that `names` lists, or `fallback` (-1: none).
int attribute_index(const SceneObject& o, const std::vector<std::string>& names, int fallback) {
  for (const auto& a : o.attributes)
    if (int i = index_of(names, a); i >= 0) return i;
  return fallback;
}

// The detector's targets; false for an object it cannot learn (unknown label or attributes).
bool target_of(const SceneObject& o, const SceneAnnotation& scene, const VisionModelConfig& c, VisionTarget& t) {
  t.category = index_of(c.categories, o.label);
  t.color = attribute_index(o, c.colors, -1);
  t.material = attribute_index(o, c.materials, -1);
  t.size = attribute_index(o, c.sizes, index_of(c.sizes, "medium"));
  if (t.category < 0 || t.color < 0 || t.material < 0 || t.size < 0) return false;
  t.box = {o.box[0] / scene.width, o.box[1] / scene.height, o.box[2] / scene.width, o.box[3] / scene.height};
  for (double& v : t.box) v = std::clamp(v, 0.0, 1.0);
  return t.box[2] > t.box[0] && t.box[3] > t.box[1];
}

// The depth map at the network's output size, in 1 / metres.
std::vector<float> depth_target(const SceneAnnotation& scene, const VisionModelConfig& c) {
  const NpyArray map = read_npy(scene.depth_path);
  if (map.shape.size() != 2) throw Error(scene.depth_path + ": a depth map must be H x W");
  cv::Mat full(static_cast<int>(map.shape[0]), static_cast<int>(map.shape[1]), CV_32F, const_cast<float*>(map.values.data()));
  cv::Mat small;
  cv::resize(full, small, cv::Size(c.input_width / c.output_stride, c.input_height / c.output_stride), 0, 0, cv::INTER_AREA);
  std::vector<float> out(small.begin<float>(), small.end<float>());
  for (float& v : out) v = static_cast<float>(v / c.depth_scale);
  return out;
}

}  // namespace

std::string world_annotations_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) ? path + "/scene-graph-annotations.json" : path;
}

std::vector<uint8_t> vision_input(const Image& image, const VisionModelConfig& c) {
  cv::Mat resized, rgb;
  cv::resize(mat_of(image), resized, cv::Size(c.input_width, c.input_height), 0, 0, cv::INTER_AREA);
  cv::cvtColor(resized, rgb, cv::COLOR_BGR2RGB);
  return std::vector<uint8_t>(rgb.data, rgb.data + rgb.total() * 3);
}

VisionWorld read_vision_worlds(const std::vector<std::string>& paths, const VisionModelConfig& c, int threads) {
  VisionWorld world;
  for (const auto& path : paths) {
    const std::string file = world_annotations_file(path);
    std::vector<SceneAnnotation> scenes = load_scene_annotations(file);
    if (scenes.empty()) throw Error(file + ": no scenes");
    world.sources.push_back(file);
    world.hashes.push_back(sha256_file(file));
    const size_t first = world.examples.size();
    world.examples.resize(first + scenes.size());
    std::atomic<size_t> skipped{0};
    parallel_for(scenes.size(), static_cast<size_t>(std::max(1, threads)), [&](size_t i) {
      VisionExample& e = world.examples[first + i];
      e.scene = std::move(scenes[i]);
      e.rgb = vision_input(Image::load(e.scene.image_path), c);
      if (c.task == VisionTask::kDepth) {
        if (e.scene.depth_path.empty()) throw Error(file + ": scene " + e.scene.id + " has no depth map (the depth model learns from them)");
        e.inverse_depth = depth_target(e.scene, c);
        return;
      }
      for (const auto& o : e.scene.objects) {
        VisionTarget t;
        if (target_of(o, e.scene, c, t)) e.objects.push_back(t);
        else ++skipped;
      }
    });
    world.objects_skipped += skipped;
  }
  return world;
}

}  // namespace taco
