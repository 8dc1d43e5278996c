#include "vision/vision_config.h"

#include <cmath>
#include <filesystem>

#include "synth/world.h"
#include "util/error.h"
#include "util/files.h"
#include "util/strings.h"

namespace taco {

inline constexpr int kVisionFormatVersion = 1;

const char* to_string(VisionTask task) { return task == VisionTask::kDepth ? "depth" : "detector"; }

VisionTask vision_task_from_string(const std::string& name) {
  if (name == "detector") return VisionTask::kDetector;
  if (name == "depth") return VisionTask::kDepth;
  throw Error("unknown vision task '" + excerpt(name, 40) + "' (detector or depth)");
}

namespace {

std::string format_of(VisionTask task) { return std::string("taco-vision-") + to_string(task); }

std::vector<std::string> names_in(const Json& j, const char* key, const std::string& what) {
  const Json& v = j.at(key);
  if (!v.is_array() || v.empty() || v.size() > 1000) throw Error(what + ": " + key + " must be a list of 1 to 1000 names");
  std::vector<std::string> out;
  for (const auto& n : v) {
    if (!n.is_string() || n.get<std::string>().empty() || n.get<std::string>().size() > 100)
      throw Error(what + ": " + key + " must hold names (1 to 100 characters), not " + excerpt(n.dump(), 40));
    out.push_back(n.get<std::string>());
  }
  return out;
}

double bounded_number(const Json& j, const char* key, double low, double high, const std::string& what) {
  const Json& v = j.at(key);
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < low || v.get<double>() > high)
    throw Error(what + ": " + key + " must be a number from " + Json(low).dump() + " to " + Json(high).dump() + ", not " +
                excerpt(v.dump(), 40));
  return v.get<double>();
}

}  // namespace

int VisionModelConfig::output_channels() const {
  if (task == VisionTask::kDepth) return 1;
  return static_cast<int>(categories.size() + 4 + colors.size() + materials.size() + sizes.size());
}

Json VisionModelConfig::to_json() const {
  Json out = Json::object();
  out["format"] = format_of(task);
  out["format_version"] = kVisionFormatVersion;
  out["architecture"] = Json{{"input_width", input_width}, {"input_height", input_height}, {"channels", channels},
                             {"output_stride", output_stride}};
  if (task == VisionTask::kDetector)
    out["detector"] = Json{{"categories", categories}, {"colors", colors}, {"materials", materials}, {"sizes", sizes},
                           {"score_threshold", score_threshold}};
  else
    out["depth"] = Json{{"depth_scale", depth_scale}};
  out["training"] = training;
  return out;
}

VisionModelConfig VisionModelConfig::from_json(const Json& j, const std::string& what) {
  if (!j.is_object() || !j.contains("format") || !j["format"].is_string() || j["format"].get<std::string>().rfind("taco-vision-", 0) != 0)
    throw Error(what + ": not a taco vision-model config (no \"format\": \"taco-vision-detector\" or \"taco-vision-depth\")");
  VisionModelConfig c;
  const std::string format = j["format"].get<std::string>();
  if (format == format_of(VisionTask::kDepth)) c.task = VisionTask::kDepth;
  else if (format != format_of(VisionTask::kDetector))
    throw Error(what + ": format \"" + excerpt(format, 40) + "\" is neither taco-vision-detector nor taco-vision-depth");
  if (j.value("format_version", Json(0)) != kVisionFormatVersion)
    throw Error(what + ": format_version " + j.value("format_version", Json(nullptr)).dump() + " is not the one this taco reads (" +
                std::to_string(kVisionFormatVersion) + ")");
  try {
    const Json& a = j.at("architecture");
    c.input_width = json_bounded_int(a.at("input_width"), "architecture.input_width", 32, 1024, what);
    c.input_height = json_bounded_int(a.at("input_height"), "architecture.input_height", 32, 1024, what);
    c.output_stride = json_bounded_int(a.at("output_stride"), "architecture.output_stride", 1, 16, what);
    if (c.output_stride != 2 && c.output_stride != 4) throw Error(what + ": architecture.output_stride must be 2 or 4");
    const Json& ch = a.at("channels");
    if (!ch.is_array() || ch.size() != 4) throw Error(what + ": architecture.channels must be a list of 4 whole numbers");
    c.channels.clear();
    for (const auto& n : ch) c.channels.push_back(json_bounded_int(n, "architecture.channels", 1, 256, what));
    if (c.input_width % 16 != 0 || c.input_height % 16 != 0)
      throw Error(what + ": architecture.input_width and input_height must be multiples of 16");
    if (c.task == VisionTask::kDetector) {
      const Json& d = j.at("detector");
      c.categories = names_in(d, "categories", what);
      c.colors = names_in(d, "colors", what);
      c.materials = names_in(d, "materials", what);
      c.sizes = names_in(d, "sizes", what);
      c.score_threshold = bounded_number(d, "score_threshold", 0, 1, what);
    } else {
      c.depth_scale = bounded_number(j.at("depth"), "depth_scale", 1e-6, 1e9, what);
    }
  } catch (const Json::exception&) {
    throw Error(what + ": a field is missing or not of its type (architecture, " +
                std::string(c.task == VisionTask::kDepth ? "depth" : "detector") + ")");
  }
  if (j.contains("training") && j["training"].is_object()) c.training = j["training"];
  return c;
}

VisionModelConfig VisionModelConfig::preset(VisionTask task, const std::string& size) {
  VisionModelConfig c;
  c.task = task;
  if (size == "tiny") {
    c.input_width = 160;
    c.input_height = 128;
    c.channels = {8, 16, 16, 16};
  } else if (size != "small") {
    throw Error("unknown vision model size '" + excerpt(size, 40) + "' (tiny or small)");
  }
  if (task == VisionTask::kDepth) {
    c.output_stride = 2;
  } else {
    c.categories = synth_categories();
    c.colors = synth_colors();
    c.materials = synth_materials();
    c.sizes = {"small", "medium", "large"};
  }
  return c;
}

VisionModelConfig read_vision_config(const std::string& dir, VisionTask want) {
  const std::string file = dir + "/config.json";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw Error(dir + ": not a folder (a vision checkpoint is a folder with config.json)");
  if (!std::filesystem::exists(file, ec)) throw Error(dir + ": no config.json (not a vision checkpoint)");
  Json j;
  try {
    j = parse_json(read_file(file));
  } catch (const Error& e) {
    throw Error(file + ": " + e.what());
  }
  VisionModelConfig c = VisionModelConfig::from_json(j, file);
  if (c.task != want)
    throw Error(file + ": a " + std::string(to_string(c.task)) + " checkpoint, where a " + to_string(want) + " is needed");
  return c;
}

}  // namespace taco
