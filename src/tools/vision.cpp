// The neural specialists with TACO's names, arguments and return keys: GetObjects,
// LocalizeObjects, EstimateRegionDepth, EstimateObjectDepth, GetImageToImagesSimilarity,
// GetImageToTextsSimilarity, GetTextToImagesSimilarity. What runs them is a VisionBackend.
#include "tools/vision.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "tools/args.h"
#include "tools/visualize.h"
#include "util/strings.h"
#include "tools/catalog.h"

namespace taco {
namespace {

const ToolContext::NamedImage& named_image(const Json& args, const char* key, const ToolContext& ctx) {
  const auto* im = ctx.find(args.at(key).get_ref<const std::string&>());
  if (!im) throw ToolError(ToolFailure::kValueError, std::string("image argument '") + key + "' does not exist.");
  return *im;
}

// Tools over one backend: readiness and backend name come from it.
class VisionTool : public Tool {
 public:
  explicit VisionTool(std::shared_ptr<VisionBackend> backend) : backend_(std::move(backend)) {}
  std::string backend() const override { return backend_->name(); }
  std::string unavailable_reason() const override { return backend_->unavailable_reason_for(spec().name); }

 protected:
  std::shared_ptr<VisionBackend> backend_;
};

const char kBoxDescription[] =
    "the region as [left, top, right, bottom], each value between 0 and 1: a fraction of the image's width or "
    "height, measured from the top left corner [0, 0].";

class GetObjectsTool : public VisionTool {
 public:
  using VisionTool::VisionTool;
  const ToolSpec& spec() const override {
    static const ToolSpec s{"GetObjects",
                            "Lists the objects seen in an image.",
                            {{"image", ArgType::kImage, "the image to list objects in."}},
                            {{"objects", "the names of the objects found."}},
                            {Json{{"name", "GetObjects"}, {"arguments", {{"image", "image-0"}}}}}};
    return s;
  }
  Json call(const Json& args, ToolContext& ctx) const override {
    return Json{{"objects", backend_->tags(named_image(args, "image", ctx), ctx)}};
  }
};

// TACO's region list: boxes and scores rounded to two decimals, repeated labels numbered
// ("dog", "dog-2"), and the image with the regions drawn.
Json localize(const VisionBackend& backend, const ToolContext::NamedImage& image, const std::vector<std::string>& queries,
              ToolContext& ctx, std::string* tagged_name) {
  std::vector<Detection> found = backend.detect(image, queries, ctx);
  RegionList regions;
  for (const auto& d : found)
    regions.add(d.label, {round2(d.box[0]), round2(d.box[1]), round2(d.box[2]), round2(d.box[3])}, round2(d.score));
  if (tagged_name) *tagged_name = ctx.add_image(draw_regions(image.image, regions.json()));
  return regions.json();
}

class LocalizeObjectsTool : public VisionTool {
 public:
  using VisionTool::VisionTool;
  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "LocalizeObjects",
        "Finds objects or regions named in words and returns their boxes with confidence scores, and the image with "
        "the boxes drawn. It can miss objects or find ones that are not there, so treat the boxes and especially their "
        "count as evidence to check.",
        {{"image", ArgType::kImage, "the image to search."},
         {"objects", ArgType::kStringList, "the names of the objects to find, e.g. [\"dog\", \"cat\"]."}},
        {{"image", "the image with the found regions drawn on it."},
         {"regions",
          "the regions found, each a dictionary with a label, a bounding box and a confidence score between 0 and 1."}},
        {Json{{"name", "LocalizeObjects"}, {"arguments", {{"image", "image-0"}, {"objects", {"dog", "cat"}}}}}}};
    return s;
  }
  Json call(const Json& args, ToolContext& ctx) const override {
    std::string tagged;
    Json regions = localize(*backend_, named_image(args, "image", ctx), args.at("objects").get<std::vector<std::string>>(), ctx,
                            &tagged);
    return Json{{"image", tagged}, {"regions", std::move(regions)}};
  }
};

const ArgSpec kModeArg{"mode", ArgType::kString, "optional: \"mean\" (default), \"center\" or \"mode\" of the region's depth.",
                       false};

class RegionDepthTool : public VisionTool {
 public:
  using VisionTool::VisionTool;
  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "EstimateRegionDepth",
        "Estimates how far a region of an image is from the camera. Smaller values are closer and larger values "
        "farther, which helps compare the positions of objects.",
        {{"image", ArgType::kImage, "the image."}, {"bbox", ArgType::kBox, kBoxDescription}, kModeArg},
        {{"depth", "the estimated depth of the region."}},
        {Json{{"name", "EstimateRegionDepth"}, {"arguments", {{"image", "image-0"}, {"bbox", {0.3, 0.2, 0.5, 0.4}}}}}}};
    return s;
  }
  Json call(const Json& args, ToolContext& ctx) const override {
    auto box = box_arg(args, "bbox");
    DepthMap d = backend_->depth(named_image(args, "image", ctx), ctx);
    return Json{{"depth", round2(region_depth(d, box, args.value("mode", "mean")))}};
  }
};

class ObjectDepthTool : public Tool {
 public:
  ObjectDepthTool(std::shared_ptr<VisionBackend> detector, std::shared_ptr<VisionBackend> depth)
      : detector_(std::move(detector)), depth_(std::move(depth)) {}
  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "EstimateObjectDepth",
        "Estimates how far an object, named in words, is from the camera: it finds the object, then the depth of its "
        "box. Smaller values are closer and larger values farther.",
        {{"image", ArgType::kImage, "the image."},
         {"object", ArgType::kString, "a short description of the object, e.g. \"the red car\"."},
         kModeArg},
        {{"depth", "the estimated depth of the object."}},
        {Json{{"name", "EstimateObjectDepth"}, {"arguments", {{"image", "image-0"}, {"object", "a black cat"}}}}}};
    return s;
  }
  std::string backend() const override {
    return detector_->name() == depth_->name() ? detector_->name() : detector_->name() + "+" + depth_->name();
  }
  std::string unavailable_reason() const override {
    std::string a = detector_->unavailable_reason_for(spec().name), b = depth_->unavailable_reason_for(spec().name);
    return !a.empty() ? a : b;
  }
  Json call(const Json& args, ToolContext& ctx) const override {
    const auto& image = named_image(args, "image", ctx);
    Json regions = localize(*detector_, image, {args.at("object").get<std::string>()}, ctx, nullptr);
    if (regions.empty()) return Json{{"depth", "Object not found."}};
    const Json* best = &regions[0];
    for (const auto& r : regions)
      if (r["score"].get<double>() > (*best)["score"].get<double>()) best = &r;
    std::array<double, 4> box{};
    for (size_t k = 0; k < 4; ++k) box[k] = (*best)["bbox"][k].get<double>();
    DepthMap d = depth_->depth(image, ctx);
    return Json{{"depth", round2(region_depth(d, box, args.value("mode", "mean")))}};
  }

 private:
  std::shared_ptr<VisionBackend> detector_, depth_;
};

double cosine(const Embedding& a, const Embedding& b) {
  if (a.size() != b.size() || a.empty()) throw ToolError(ToolFailure::kRuntimeError, "embeddings of different sizes cannot be compared");
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += a[i] * b[i], na += a[i] * a[i], nb += b[i] * b[i];
  return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0.0;
}

// Scores rounded to two decimals, and the index of the best one.
std::pair<Json, size_t> similarities(const Embedding& ref, const std::vector<Embedding>& others) {
  Json scores = Json::array();
  size_t best = 0;
  double best_score = -2;
  for (size_t i = 0; i < others.size(); ++i) {
    double s = cosine(ref, others[i]);
    scores.push_back(round2(s));
    if (s > best_score) best_score = s, best = i;
  }
  return {scores, best};
}

std::vector<const ToolContext::NamedImage*> images_of(const Json& names, const ToolContext& ctx) {
  std::vector<const ToolContext::NamedImage*> out;
  for (const auto& n : names) {
    const auto* im = ctx.find(n.get_ref<const std::string&>());
    if (!im) throw ToolError(ToolFailure::kValueError, "image '" + n.get<std::string>() + "' does not exist.");
    out.push_back(im);
  }
  if (out.empty()) throw ToolError(ToolFailure::kValueError, "the list of images is empty");
  return out;
}

class ImageToImagesTool : public VisionTool {
 public:
  using VisionTool::VisionTool;
  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "GetImageToImagesSimilarity",
        "Scores how similar one image is to each of several others (CLIP-style). The scores are approximate; use "
        "them as a reference.",
        {{"image", ArgType::kImage, "the reference image."},
         {"other_images", ArgType::kImageList, "the images to compare with it."}},
        {{"similarity", "the similarity of the reference image to each of the others."},
         {"best_image_index", "the index of the most similar image."},
         {"best_image", "the most similar image."}},
        {Json{{"name", "GetImageToImagesSimilarity"}, {"arguments", {{"image", "image-0"}, {"other_images", {"image-1", "image-2"}}}}}}};
    return s;
  }
  Json call(const Json& args, ToolContext& ctx) const override {
    auto others = images_of(args.at("other_images"), ctx);
    std::vector<const ToolContext::NamedImage*> all{&named_image(args, "image", ctx)};
    all.insert(all.end(), others.begin(), others.end());
    auto e = backend_->embed_images(all, ctx);
    auto [scores, best] = similarities(e[0], std::vector<Embedding>(e.begin() + 1, e.end()));
    return Json{{"best_image", others[best]->name}, {"best_image_index", best}, {"similarity", scores}};
  }
};

class ImageToTextsTool : public VisionTool {
 public:
  using VisionTool::VisionTool;
  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "GetImageToTextsSimilarity",
        "Scores how well each of several texts describes an image (CLIP-style). The scores are approximate; use them "
        "as a reference.",
        {{"image", ArgType::kImage, "the image."}, {"texts", ArgType::kStringList, "the texts to compare with it."}},
        {{"similarity", "the similarity of the image to each text."},
         {"best_text_index", "the index of the most similar text."},
         {"best_text", "the most similar text."}},
        {Json{{"name", "GetImageToTextsSimilarity"}, {"arguments", {{"image", "image-0"}, {"texts", {"a cat", "a dog"}}}}}}};
    return s;
  }
  Json call(const Json& args, ToolContext& ctx) const override {
    auto texts = args.at("texts").get<std::vector<std::string>>();
    if (texts.empty()) throw ToolError(ToolFailure::kValueError, "the list of texts is empty");
    auto image = backend_->embed_images({&named_image(args, "image", ctx)}, ctx);
    auto [scores, best] = similarities(image.at(0), backend_->embed_texts(texts, ctx));
    return Json{{"best_text", texts[best]}, {"best_text_index", best}, {"similarity", scores}};
  }
};

class TextToImagesTool : public VisionTool {
 public:
  using VisionTool::VisionTool;
  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "GetTextToImagesSimilarity",
        "Scores how well a text describes each of several images (CLIP-style). The scores are approximate; use them "
        "as a reference.",
        {{"text", ArgType::kString, "the text."}, {"images", ArgType::kImageList, "the images to compare with it."}},
        {{"similarity", "the similarity of the text to each image."},
         {"best_image_index", "the index of the most similar image."},
         {"best_image", "the most similar image."}},
        {Json{{"name", "GetTextToImagesSimilarity"},
              {"arguments", {{"text", "a black and white cat"}, {"images", {"image-0", "image-1"}}}}}}};
    return s;
  }
  Json call(const Json& args, ToolContext& ctx) const override {
    auto images = images_of(args.at("images"), ctx);
    auto text = backend_->embed_texts({args.at("text").get<std::string>()}, ctx);
    auto [scores, best] = similarities(text.at(0), backend_->embed_images(images, ctx));
    return Json{{"best_image", images[best]->name}, {"best_image_index", best}, {"similarity", scores}};
  }
};

}  // namespace

// The smallest value wins a tie in "mode", as scipy's mode.
double box_iou(const std::array<double, 4>& a, const std::array<double, 4>& b) {
  const double iw = std::max(0.0, std::min(a[2], b[2]) - std::max(a[0], b[0]));
  const double ih = std::max(0.0, std::min(a[3], b[3]) - std::max(a[1], b[1]));
  const double inter = iw * ih;
  const double uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return uni > 0 ? inter / uni : 0;
}

double region_depth(const DepthMap& d, const std::array<double, 4>& box, const std::string& mode) {
  const double W = d.width, H = d.height;
  if (mode == "center") {
    int x = std::clamp(static_cast<int>((box[0] + box[2]) / 2 * W), 0, d.width - 1);
    int y = std::clamp(static_cast<int>((box[1] + box[3]) / 2 * H), 0, d.height - 1);
    return d.at(x, y);
  }
  int x1 = std::clamp(static_cast<int>(box[0] * W), 0, d.width - 1), y1 = std::clamp(static_cast<int>(box[1] * H), 0, d.height - 1);
  int x2 = std::clamp(static_cast<int>(box[2] * W), x1 + 1, d.width), y2 = std::clamp(static_cast<int>(box[3] * H), y1 + 1, d.height);
  if (mode == "mean") {
    double sum = 0;
    for (int y = y1; y < y2; ++y)
      for (int x = x1; x < x2; ++x) sum += d.at(x, y);
    return sum / ((x2 - x1) * static_cast<double>(y2 - y1));
  }
  if (mode == "mode") {
    std::map<long, long> counts;
    for (int y = y1; y < y2; ++y)
      for (int x = x1; x < x2; ++x) ++counts[std::lround(d.at(x, y) * 100)];
    auto best = counts.begin();
    for (auto it = counts.begin(); it != counts.end(); ++it)
      if (it->second > best->second) best = it;
    return best->first / 100.0;
  }
  throw ToolError(ToolFailure::kValueError, "depth mode '" + mode + "' is not one of mean, center, mode");
}

std::unique_ptr<Tool> make_get_objects_tool(std::shared_ptr<VisionBackend> b) { return std::make_unique<GetObjectsTool>(std::move(b)); }
std::unique_ptr<Tool> make_localize_objects_tool(std::shared_ptr<VisionBackend> b) {
  return std::make_unique<LocalizeObjectsTool>(std::move(b));
}
std::unique_ptr<Tool> make_region_depth_tool(std::shared_ptr<VisionBackend> b) { return std::make_unique<RegionDepthTool>(std::move(b)); }
std::unique_ptr<Tool> make_object_depth_tool(std::shared_ptr<VisionBackend> detector, std::shared_ptr<VisionBackend> depth) {
  return std::make_unique<ObjectDepthTool>(std::move(detector), std::move(depth));
}
std::unique_ptr<Tool> make_image_to_images_tool(std::shared_ptr<VisionBackend> b) {
  return std::make_unique<ImageToImagesTool>(std::move(b));
}
std::unique_ptr<Tool> make_image_to_texts_tool(std::shared_ptr<VisionBackend> b) { return std::make_unique<ImageToTextsTool>(std::move(b)); }
std::unique_ptr<Tool> make_text_to_images_tool(std::shared_ptr<VisionBackend> b) { return std::make_unique<TextToImagesTool>(std::move(b)); }

namespace {

// TACO's vision tools, in its order: each reads the config's "vision" defaults and gets the
// backend its section names (ObjectDepth: LocalizeObjects' and EstimateRegionDepth's unless it
// has a backend of its own).
const ToolRegistration kLocalizeObjects({"LocalizeObjects", 2, true, false, false,
                                         [](const ToolMaking& m) { return make_localize_objects_tool(m.backend("LocalizeObjects")); }});
const ToolRegistration kGetObjects({"GetObjects", 3, true, false, false,
                                    [](const ToolMaking& m) { return make_get_objects_tool(m.backend("GetObjects")); }});
const ToolRegistration kRegionDepth({"EstimateRegionDepth", 4, true, false, false,
                                     [](const ToolMaking& m) { return make_region_depth_tool(m.backend("EstimateRegionDepth")); }});
const ToolRegistration kObjectDepth({"EstimateObjectDepth", 5, true, false, false, [](const ToolMaking& m) {
                                       if (m.has_own("EstimateObjectDepth", "backend"))
                                         return make_object_depth_tool(m.backend("EstimateObjectDepth"), m.backend("EstimateObjectDepth"));
                                       return make_object_depth_tool(m.backend("LocalizeObjects"), m.backend("EstimateRegionDepth"));
                                     }});
const ToolRegistration kImageToImages({"GetImageToImagesSimilarity", 10, true, false, false, [](const ToolMaking& m) {
                                         return make_image_to_images_tool(m.backend("GetImageToImagesSimilarity"));
                                       }});
const ToolRegistration kImageToTexts({"GetImageToTextsSimilarity", 11, true, false, false, [](const ToolMaking& m) {
                                        return make_image_to_texts_tool(m.backend("GetImageToTextsSimilarity"));
                                      }});
const ToolRegistration kTextToImages({"GetTextToImagesSimilarity", 12, true, false, false, [](const ToolMaking& m) {
                                        return make_text_to_images_tool(m.backend("GetTextToImagesSimilarity"));
                                      }});

}  // namespace

void RegionList::add(const std::string& label, const std::array<double, 4>& box, double score) {
  const int n = ++seen_[label];
  regions_.push_back(Json{{"label", n > 1 ? label + "-" + std::to_string(n) : label}, {"bbox", {box[0], box[1], box[2], box[3]}},
                          {"score", score}});
}

}  // namespace taco
