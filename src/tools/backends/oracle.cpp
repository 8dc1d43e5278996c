// The oracle backend: answers from annotations instead of a model. It knows the input images
// listed in a scene-graph-annotations.json (matched by file path) and nothing else.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "cota/annotation.h"
#include "tools/oracle_noise.h"
#include "tools/vision_backend.h"
#include "util/error.h"
#include "util/npy.h"
#include "util/strings.h"
#include "tools/catalog.h"
#include "util/hash.h"

namespace taco {
namespace {

// "dogs" and "the dog" name a "dog"; "black cat" names a "cat".
bool names(const std::string& query, const std::string& label) {
  std::string q = to_lower(query), l = to_lower(label);
  if (q == l || q == l + "s" || q == l + "es") return true;
  std::istringstream words(q);
  for (std::string w; words >> w;)
    if (w == l || w == l + "s" || w == l + "es") return true;
  return false;
}

// A deterministic confidence in [0.5, 1.0] for annotations that carry none.
double pseudo_score(const std::string& id, size_t index) {
  const uint64_t h = hash_bytes(id + "#" + std::to_string(index));
  return 0.5 + 0.5 * static_cast<double>(h % 1000) / 999.0;
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::string w;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!w.empty()) {
      out.push_back(w);
      w.clear();
    }
  }
  return out;
}

// Bag-of-words vectors over hashed words: the oracle's stand-in for CLIP.
Embedding bag_of_words(const std::vector<std::string>& words) {
  constexpr size_t kDims = 512;
  Embedding v(kDims, 0.f);
  for (const auto& w : words) {
    std::string stem = w.size() > 3 && w.back() == 's' ? w.substr(0, w.size() - 1) : w;
    v[hash_bytes(stem) % kDims] += 1.f;
  }
  float norm = 0;
  for (float x : v) norm += x * x;
  norm = std::sqrt(norm);
  if (norm > 0)
    for (float& x : v) x /= norm;
  return v;
}

class OracleBackend : public VisionBackend {
 public:
  OracleBackend(const Json& options, const std::string& base_dir) {
    std::string path = options.value("annotations", "");
    if (path.empty()) {
      unavailable_ = "the oracle backend needs \"annotations\": a scene-graph-annotations.json";
      return;
    }
    if (!base_dir.empty() && path[0] != '/') path = base_dir + "/" + path;
    // A bad noise setting is a bad config, not a missing tool: it must stop the run.
    noise_ = OracleNoise::parse(options.value("noise", Json()));
    try {
      for (auto& a : load_scene_annotations(path)) by_path_[canonical(a.image_path)] = perceive(a, noise_);
    } catch (const Error& e) {
      unavailable_ = e.what();
    }
  }

  std::string name() const override { return "oracle"; }
  std::string unavailable_reason() const override { return unavailable_; }

  std::vector<std::string> tags(const NamedImage& image, ToolContext&) const override {
    const SceneAnnotation& a = annotation(image);
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& o : a.objects)
      if (seen.insert(o.label).second) out.push_back(o.label);
    return out;
  }

  std::vector<Detection> detect(const NamedImage& image, const std::vector<std::string>& queries, ToolContext&) const override {
    const SceneAnnotation& a = annotation(image);
    std::vector<Detection> out;
    for (const auto& q : queries) {
      for (size_t i = 0; i < a.objects.size(); ++i) {
        const SceneObject& o = a.objects[i];
        if (!oracle_finds(a, i, q)) continue;
        Detection d;
        d.label = q;
        d.box = {o.box[0] / a.width, o.box[1] / a.height, o.box[2] / a.width, o.box[3] / a.height};
        for (double& c : d.box) c = std::clamp(c, 0.0, 1.0);
        d.score = oracle_score(a, i);
        out.push_back(d);
      }
    }
    return out;
  }

  DepthMap depth(const NamedImage& image, ToolContext&) const override {
    const SceneAnnotation& a = annotation(image);
    if (a.depth_path.empty()) throw ToolError(ToolFailure::kValueError, "the annotations have no depth map for " + image.name);
    DepthMap d = depth_from_inverse(read_depth(a.depth_path), a.depth_path);
    perturb_depth(d, a.id, noise_);
    return d;
  }

  std::vector<Embedding> embed_images(const std::vector<const NamedImage*>& images, ToolContext&) const override {
    std::vector<Embedding> out;
    for (const NamedImage* im : images) {
      const SceneAnnotation& a = annotation(*im);
      std::vector<std::string> words = words_of(a.caption);
      for (const auto& o : a.objects) {
        for (auto& w : words_of(o.label)) words.push_back(w);
        for (const auto& at : o.attributes)
          for (auto& w : words_of(at)) words.push_back(w);
      }
      out.push_back(bag_of_words(words));
    }
    return out;
  }

  std::vector<Embedding> embed_texts(const std::vector<std::string>& texts, ToolContext&) const override {
    std::vector<Embedding> out;
    for (const auto& t : texts) out.push_back(bag_of_words(words_of(t)));
    return out;
  }

 private:
  static std::string canonical(const std::string& path) {
    std::error_code ec;
    auto c = std::filesystem::weakly_canonical(path, ec);
    return ec ? path : c.string();
  }

  const SceneAnnotation& annotation(const NamedImage& image) const {
    if (image.path.empty())
      throw ToolError(ToolFailure::kValueError, "the oracle knows only the input images, and " + image.name + " was made by " + image.source);
    auto it = by_path_.find(canonical(image.path));
    if (it == by_path_.end()) throw ToolError(ToolFailure::kValueError, "the annotations do not cover " + image.name);
    return it->second;
  }

  NpyArray read_depth(const std::string& path) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = depth_cache_.find(path);
    if (it != depth_cache_.end()) return it->second;
    NpyArray arr;
    try {
      arr = read_npy(path);
    } catch (const Error& e) {
      throw ToolError(ToolFailure::kValueError, e.what());
    }
    if (depth_cache_.size() > 64) depth_cache_.clear();
    return depth_cache_[path] = std::move(arr);
  }

  OracleNoise noise_;
  std::map<std::string, SceneAnnotation> by_path_;  // as perceived through noise_
  std::string unavailable_;
  mutable std::mutex mu_;
  mutable std::map<std::string, NpyArray> depth_cache_;
};

}  // namespace

double oracle_score(const SceneAnnotation& a, size_t i) { return a.objects[i].score.value_or(pseudo_score(a.id, i)); }

bool oracle_finds(const SceneAnnotation& a, size_t i, const std::string& query) {
  // Words a detector reads as a property to match: colors, materials, sizes, and whatever the
  // scene's annotations use as attributes. Other words ("the", "traffic") are ignored.
  static const std::set<std::string> properties = {
      "red",    "orange", "yellow", "green", "blue",  "purple", "pink",    "brown",  "white", "black", "gray",  "grey",  "silver",
      "gold",   "rubber", "metal",  "wooden", "wood", "plastic", "glass",  "stone",  "leather", "paper", "small", "large", "big",
      "tiny",   "tall",   "short"};
  const SceneObject& o = a.objects[i];
  if (!names(query, o.label)) return false;
  const std::vector<std::string> label_words = words_of(o.label);
  auto is_attribute_of = [](const SceneObject& x, const std::string& w) {
    return std::any_of(x.attributes.begin(), x.attributes.end(), [&](const std::string& at) { return to_lower(at) == w; });
  };
  for (const auto& w : words_of(query)) {
    if (std::find(label_words.begin(), label_words.end(), w) != label_words.end() || names(w, o.label)) continue;
    const bool property = properties.count(w) ||
                          std::any_of(a.objects.begin(), a.objects.end(), [&](const SceneObject& x) { return is_attribute_of(x, w); });
    if (property && !is_attribute_of(o, w)) return false;
  }
  return true;
}

DepthMap depth_from_inverse(const NpyArray& arr, const std::string& what) {
  // H x W, or H x W x 1 as some depth models save it.
  const bool one_channel = arr.shape.size() == 3 && arr.shape[2] == 1;
  if ((arr.shape.size() != 2 && !one_channel) || arr.values.empty())
    throw ToolError(ToolFailure::kValueError, what + ": a depth map must be H x W (or H x W x 1)");
  DepthMap d;
  d.height = static_cast<int>(arr.shape[0]);
  d.width = static_cast<int>(arr.shape[1]);
  // Depth Anything maps are inverse depth (larger is closer); TACO's tools answer the other way.
  const float top = *std::max_element(arr.values.begin(), arr.values.end());
  d.values.resize(arr.values.size());
  std::transform(arr.values.begin(), arr.values.end(), d.values.begin(), [top](float v) { return top - v; });
  return d;
}

std::shared_ptr<VisionBackend> make_oracle_backend(const Json& options, const std::string& base_dir) {
  return std::make_shared<OracleBackend>(options, base_dir);
}

namespace {

const VisionBackendRegistration kOracle({"oracle", 3, [](const Json& section, const std::string& base_dir) {
                                          return make_oracle_backend(section, base_dir);
                                        }});

}  // namespace

}  // namespace taco
