// The learned backend (torch module): taco's own detector and depth model (`taco train-vision`,
// vision/vision_model.h) answer LocalizeObjects, GetObjects, EstimateRegionDepth and
// EstimateObjectDepth. Its section of the tools config:
//   {"backend": "learned", "detector": "DIR", "depth": "DIR", "score_threshold": 0.3}
// Either model may be left out (its tools then say so). The detector finds what a query names
// by the oracle's rule (oracle_finds) over the objects it sees, so a query means the same to
// both backends. Models are loaded once per section and run on the CPU from any thread.
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>

#include "models/embedded/weights.h"
#include "tools/image_cv.h"
#include "tools/vision_backend.h"
#include "util/error.h"
#include "util/files.h"
#include "util/npy.h"
#include "util/strings.h"
#include "vision/vision_data.h"
#include "vision/vision_heads.h"
#include "vision/vision_net.h"

namespace taco {
namespace {

struct LoadedVisionModel {
  VisionModelConfig config;
  VisionNet net{nullptr};
};

// The checkpoint folder `dir` of `task`, loaded for inference. Throws Error naming what is wrong.
std::unique_ptr<LoadedVisionModel> load_vision_model(const std::string& dir, VisionTask task) {
  auto m = std::make_unique<LoadedVisionModel>();
  m->config = read_vision_config(dir, task);
  const std::string weights = dir + "/model.safetensors";
  std::error_code ec;
  if (!std::filesystem::exists(weights, ec)) throw Error(dir + ": no model.safetensors");
  const SafeTensorsFile file = read_safetensors(weights);
  m->net = VisionNet(m->config);
  load_named_tensors(vision_tensors(m->net), file, "", weights, true);
  m->net->eval();
  return m;
}

class LearnedBackend : public VisionBackend {
 public:
  LearnedBackend(const Json& o, const std::string& base_dir) {
    // One image per call on one thread, as the embedded model writes on one: a run's parallelism
    // is its episodes (-j), and two threads on a 320 x 240 input gain little over one.
    set_math_threads(1);
    auto path = [&](const char* key) {
      return o.contains(key) && o[key].is_string() ? resolve_path(base_dir, o[key].get<std::string>()) : std::string();
    };
    try {
      if (!path("detector").empty()) detector_ = load_vision_model(path("detector"), VisionTask::kDetector);
      if (!path("depth").empty()) depth_ = load_vision_model(path("depth"), VisionTask::kDepth);
      if (!detector_ && !depth_) unavailable_ = "the learned backend needs \"detector\" or \"depth\": a folder `taco train-vision` wrote";
      if (detector_) {
        const Json t = o.value("score_threshold", Json(detector_->config.score_threshold));
        if (!t.is_number() || t.get<double>() < 0 || t.get<double>() > 1)
          throw Error("score_threshold must be a number from 0 to 1, not " + excerpt(t.dump(), 40));
        threshold_ = t.get<double>();
      }
    } catch (const std::exception& e) {
      unavailable_ = e.what();
    }
  }

  std::string name() const override { return "learned"; }
  std::string unavailable_reason() const override { return unavailable_; }
  std::string unavailable_reason_for(const std::string& tool) const override {
    if (std::string why = VisionBackend::unavailable_reason_for(tool); !why.empty()) return why;
    const bool sees = tool == "LocalizeObjects" || tool == "GetObjects" || tool == "EstimateObjectDepth";
    const bool measures_depth = tool == "EstimateRegionDepth" || tool == "EstimateObjectDepth";
    if (sees && !detector_) return "the learned section names no \"detector\" (a folder `taco train-vision detector` wrote)";
    if (measures_depth && !depth_) return "the learned section names no \"depth\" model (a folder `taco train-vision depth` wrote)";
    return "";
  }

  SceneAnnotation perceive(const NamedImage& image, ToolContext&) const override {
    const LoadedVisionModel& m = require(detector_, "detector");
    const cv::Mat& bgr = mat_of(image.image);
    SceneAnnotation scene;
    scene.id = image.name;
    scene.width = bgr.cols;
    scene.height = bgr.rows;
    scene.objects = decode_objects(run(m, image.image)[0], m.config, bgr.cols, bgr.rows, threshold_);
    return scene;
  }

  std::vector<Detection> detect(const NamedImage& image, const std::vector<std::string>& queries, ToolContext& ctx) const override {
    if (queries.empty()) return {};
    return find_in_scene(perceive(image, ctx), queries);
  }

  std::vector<std::string> tags(const NamedImage& image, ToolContext& ctx) const override {
    std::vector<std::string> out;
    for (const auto& o : perceive(image, ctx).objects)
      if (std::find(out.begin(), out.end(), o.label) == out.end()) out.push_back(o.label);
    return out;
  }

  DepthMap depth(const NamedImage& image, ToolContext&) const override {
    const LoadedVisionModel& m = require(depth_, "depth");
    const torch::Tensor out = run(m, image.image);
    NpyArray inverse;
    inverse.shape = {static_cast<size_t>(out.size(2)), static_cast<size_t>(out.size(3))};
    inverse.values = decode_inverse_depth(out[0], m.config);
    return depth_from_inverse(inverse, "the depth model's map");
  }

 private:
  const LoadedVisionModel& require(const std::unique_ptr<LoadedVisionModel>& m, const char* key) const {
    if (!m) unsupported(std::string("run without a \"") + key + "\" model");
    return *m;
  }

  static torch::Tensor run(const LoadedVisionModel& m, const Image& image) {
    const std::vector<uint8_t> rgb = vision_input(image, m.config);
    const torch::Tensor pixels = torch::from_blob(const_cast<uint8_t*>(rgb.data()), {1, m.config.input_height, m.config.input_width, 3}, torch::kUInt8)
                                     .permute({0, 3, 1, 2});
    c10::InferenceMode guard;
    try {
      return const_cast<VisionNet&>(m.net)->forward(pixels);
    } catch (const c10::Error& e) {
      throw ToolError(ToolFailure::kRuntimeError, std::string("the learned model failed: ") + e.what_without_backtrace());
    }
  }

  std::unique_ptr<LoadedVisionModel> detector_, depth_;
  double threshold_ = 0.3;
  std::string unavailable_;
};

std::shared_ptr<VisionBackend> make_learned_backend(const Json& options, const std::string& base_dir) {
  return std::make_shared<LearnedBackend>(options, base_dir);
}

}  // namespace
}  // namespace taco

// The module's entry point, looked up by the "learned" registration (vision/vision_loader.cpp).
extern "C" taco::ModuleBackendFactory taco_learned_backend_factory() { return &taco::make_learned_backend; }
