#include "eval/vision_eval.h"

#include <chrono>
#include <memory>

#include "cota/visibility.h"
#include "eval/vision_metrics.h"
#include "tools/catalog.h"
#include "tools/config.h"
#include "tools/image_store.h"
#include "tools/vision_backend.h"
#include "util/error.h"
#include "util/files.h"
#include "util/npy.h"
#include "util/sha256.h"
#include "vision/vision_data.h"

namespace taco {
namespace {

using Clock = std::chrono::steady_clock;

// The backend the config gives `tool`, or nullptr when it gives none or it is not ready.
std::shared_ptr<VisionBackend> backend_for(const ToolsConfig& config, const std::string& tool, const JobEvents& events) {
  const Json section = config.section(tool);
  const std::string kind = section.value("backend", "");
  if (kind.empty() || kind == "none") return nullptr;
  auto backend = make_vision_backend(tool, kind, section, config.base_dir);
  if (const std::string why = backend->unavailable_reason_for(tool); !why.empty()) {
    events.tell(tool + " is not measured: " + why + "\n");
    return nullptr;
  }
  return backend;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string percent(const Json& v) { return v.is_number() ? format_text("%.1f%%", 100 * v.get<double>()) : "-"; }

std::string summary_text(const Json& r) {
  std::string t = format_text("vision on %s (%zu scenes)\n\n| measure | value |\n|---|---|\n", r["world"].get<std::string>().c_str(),
                              r["scenes"].get<size_t>());
  if (r.contains("detector")) {
    const Json& d = r["detector"];
    t += "| detector | " + d["backend"].get<std::string>() + " |\n";
    t += "| AP50 (mean over categories) | " + percent(d["ap50"]) + " |\n";
    for (const auto& [bucket, v] : d["ap50_per_width"].items())
      t += "| AP50, objects " + bucket + " (" + std::to_string(v["objects"].get<size_t>()) + ") | " + percent(v["ap50"]) + " |\n";
    t += "| recall at IoU 0.5 | " + percent(d["recall"]) + " |\n";
    t += format_text("| false boxes per image | %.3f |\n", d["false_boxes_per_image"].get<double>());
    for (const auto& [kind, v] : d["attributes"].items()) t += "| " + kind + " accuracy | " + percent(v) + " |\n";
    t += format_text("| images/s (LocalizeObjects, one thread) | %.1f |\n", d["images_per_second"].get<double>());
  }
  if (r.contains("depth")) {
    const Json& d = r["depth"];
    t += "| depth | " + d["backend"].get<std::string>() + " |\n";
    t += "| object pairs ordered right (box means) | " + percent(d["pair_order"]) + " |\n";
    t += "| the same on the true map (perfect oracle) | " + percent(d["pair_order_truth_map"]) + " |\n";
    t += format_text("| relative error of the map | %.3f |\n", d["relative_error"].get<double>());
    t += format_text("| images/s (EstimateRegionDepth, one thread) | %.1f |\n", d["images_per_second"].get<double>());
  }
  return t;
}

}  // namespace

Json eval_vision(const VisionEvalSettings& s, const JobEvents& events) {
  if (s.tools_config.empty()) throw Error("no tools config (VisionEvalSettings.tools_config FILE)");
  if (s.data.empty()) throw Error("no world (VisionEvalSettings.data WORLD)");
  const ToolsConfig config = ToolsConfig::load(s.tools_config);
  const std::string file = world_annotations_file(s.data);
  std::vector<SceneAnnotation> scenes = load_scene_annotations(file);
  if (s.limit > 0 && scenes.size() > s.limit) scenes.resize(s.limit);
  const auto detector = backend_for(config, "LocalizeObjects", events);
  const auto depth = backend_for(config, "EstimateRegionDepth", events);
  if (!detector && !depth) throw Error(s.tools_config + ": neither LocalizeObjects nor EstimateRegionDepth has a backend ready to measure");
  DetectionTally detections;
  DepthTally depths;
  double detect_seconds = 0, depth_seconds = 0;
  for (const auto& scene : scenes) {
    if (events.stop.stop_requested()) break;
    ImageStore store;
    store.add_input(scene.image_path);
    auto ctx = store.context_for(scene.id);
    const ToolContext::NamedImage& image = *ctx->find("image-0");
    const SceneAnnotation truth = visible_part(scene);  // no tool is asked about what cannot be seen
    if (detector) {
      const auto start = Clock::now();
      SceneAnnotation seen = detector->perceive(image, *ctx);
      detect_seconds += seconds_since(start);
      for (size_t i = 0; i < seen.objects.size(); ++i) seen.objects[i].score = oracle_score(seen, i);
      detections.add(truth, seen.objects, 0);
    }
    if (depth && !scene.depth_path.empty()) {
      const auto start = Clock::now();
      const DepthMap got = depth->depth(image, *ctx);
      depth_seconds += seconds_since(start);
      depths.add(truth, depth_from_inverse(read_npy(scene.depth_path), scene.depth_path), got);
    }
  }
  Json report{{"world", file}, {"world_sha256", sha256_file(file)}, {"tools_config", s.tools_config}, {"scenes", scenes.size()}};
  if (detector) {
    report["detector"] = detections.report();
    report["detector"]["backend"] = detector->name();
    report["detector"]["images_per_second"] = detect_seconds > 0 ? static_cast<double>(scenes.size()) / detect_seconds : 0.0;
  }
  if (depth) {
    report["depth"] = depths.report();
    report["depth"]["backend"] = depth->name();
    report["depth"]["images_per_second"] = depth_seconds > 0 ? static_cast<double>(scenes.size()) / depth_seconds : 0.0;
  }
  if (!s.out.empty()) write_file_atomic(s.out, report.dump(2) + "\n");
  events.show(summary_text(report));
  return report;
}

}  // namespace taco
