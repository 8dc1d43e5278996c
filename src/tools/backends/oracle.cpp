// The oracle backend: answers from annotations instead of a model. It knows the input images
// listed in a scene-graph-annotations.json (matched by file path) and nothing else.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include "cota/annotation.h"
#include "cota/visibility.h"
#include "tools/image_cv.h"
#include "tools/oracle_noise.h"
#include "tools/vision_backend.h"
#include "util/error.h"
#include "util/npy.h"
#include "util/strings.h"
#include "tools/catalog.h"
#include "util/files.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/sha256.h"

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

// What an image is, whatever its file: the SHA-256 of its exact decoded pixels (BGR rows) and
// its size. Exact on purpose: near-identical scenes must not borrow each other's answers.
std::string pixels_key(const Image& image) {
  const cv::Mat& m = mat_of(image);
  Sha256 h;
  const std::string size = std::to_string(m.cols) + "x" + std::to_string(m.rows) + ":";
  h.update(size);
  for (int y = 0; y < m.rows; ++y) h.update(std::string_view(reinterpret_cast<const char*>(m.ptr(y)), static_cast<size_t>(m.cols) * m.elemSize()));
  return h.hex_digest();
}

// The pixels keys of an annotation file's images, kept in taco's cache beside the file's hash
// and each image's size and time, so each image is decoded once, not at every start.
class ContentIndex {
 public:
  // Builds (or reads back) the index of `scenes`, which come from the file `annotations`.
  void build(const std::vector<SceneAnnotation>& scenes, const std::string& annotations) {
    const std::string cache = user_cache_dir() + "/oracle-index/" + sha256_file(annotations).substr(0, 32) + ".json";
    Json cached;
    try {
      if (std::filesystem::exists(cache)) cached = parse_json(read_file(cache));
    } catch (const Error&) {
      cached = Json();  // a damaged cache is rebuilt
    }
    Json written = Json::object();
    for (size_t i = 0; i < scenes.size(); ++i) {
      const std::string& path = scenes[i].image_path;
      std::error_code ec;
      const auto size = std::filesystem::file_size(path, ec);
      if (ec) continue;  // an image that is not there is known by nothing
      const auto time = std::filesystem::last_write_time(path, ec).time_since_epoch().count();
      const std::string stamp = std::to_string(size) + "@" + std::to_string(time);
      std::string key;
      if (cached.is_object() && cached.contains(path) && cached[path].is_object() && cached[path].value("stamp", "") == stamp)
        key = cached[path].value("pixels", "");
      if (key.empty()) {
        try {
          key = pixels_key(Image::load(path));
        } catch (const Error&) {
          continue;
        }
      }
      written[path] = Json{{"stamp", stamp}, {"pixels", key}};
      by_pixels_.emplace(key, i);
    }
    if (written != cached) {
      try {
        make_dirs(parent_dir(cache));
        write_file_atomic(cache, written.dump() + "\n");
      } catch (const Error&) {
        // An index that cannot be kept is made again next time.
      }
    }
  }
  // The scene whose image has these pixels, or -1.
  long find(const std::string& key) const {
    auto it = by_pixels_.find(key);
    return it == by_pixels_.end() ? -1 : static_cast<long>(it->second);
  }

 private:
  std::multimap<std::string, size_t> by_pixels_;  // the first of equal images wins
};

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
      for (auto& a : load_scene_annotations(path)) {
        by_path_[canonical(a.image_path)] = scenes_.size();
        scenes_.push_back(std::move(a));
      }
      seen_.resize(scenes_.size());
      seen_errors_.resize(scenes_.size());
      seen_once_ = std::make_unique<std::once_flag[]>(scenes_.size());
      annotations_path_ = path;
    } catch (const Error& e) {
      unavailable_ = e.what();
    }
    if (options.contains("fallback")) make_fallback(options["fallback"], base_dir);
  }

  std::string name() const override { return "oracle"; }
  std::string unavailable_reason() const override { return unavailable_; }

  std::vector<std::string> tags(const NamedImage& image, ToolContext& ctx) const override {
    const SceneAnnotation* scene = scene_for(image, ctx);
    if (!scene) return fallback_->tags(image, ctx);
    const SceneAnnotation& a = *scene;
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& o : a.objects)
      if (seen.insert(o.label).second) out.push_back(o.label);
    return out;
  }

  std::vector<Detection> detect(const NamedImage& image, const std::vector<std::string>& queries, ToolContext& ctx) const override {
    const SceneAnnotation* scene = scene_for(image, ctx);
    return scene ? find_in_scene(*scene, queries) : fallback_->detect(image, queries, ctx);
  }

  SceneAnnotation perceive(const NamedImage& image, ToolContext& ctx) const override {
    const SceneAnnotation* scene = scene_for(image, ctx);
    return scene ? *scene : fallback_->perceive(image, ctx);
  }

  DepthMap depth(const NamedImage& image, ToolContext& ctx) const override {
    const SceneAnnotation* scene = scene_for(image, ctx);
    if (!scene) return fallback_->depth(image, ctx);
    const SceneAnnotation& a = *scene;
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

  // An input image's scene: by its pixels (an image decoded from a TSV, uploaded to a server or
  // copied elsewhere is the same image), then by its file's path; nullptr with `why` when the
  // annotations do not cover it.
  const SceneAnnotation* find_scene(const NamedImage& image, std::string& why) const {
    if (image.path.empty()) {
      why = "the oracle knows only the input images, and " + image.name + " was made by " + image.source;
      return nullptr;
    }
    std::call_once(index_built_, [&] { content_.build(scenes_, annotations_path_); });
    if (long i = content_.find(key_of(image.image)); i >= 0) return &seen(static_cast<size_t>(i));
    auto it = by_path_.find(canonical(image.path));
    if (it != by_path_.end()) return &seen(it->second);
    why = "the annotations do not cover " + image.name;
    return nullptr;
  }

  // pixels_key(image), remembered for the pictures seen lately by their decoded pixels' identity
  // (the same shared, immutable pixels: the episodes of a run share decoded inputs, so a
  // picture is hashed once, not at every call about it). An entry holds its pixels' owner
  // weakly, and owner equality cannot mistake a new picture at a freed one's address for it.
  std::string key_of(const Image& image) const {
    const std::shared_ptr<const Image::Impl>& pixels = image.impl();
    auto same = [&](const std::weak_ptr<const Image::Impl>& w) { return !w.owner_before(pixels) && !pixels.owner_before(w); };
    {
      std::lock_guard lock(keys_mu_);
      for (const auto& [owner, key] : recent_keys_)
        if (same(owner) && !owner.expired()) return key;
    }
    std::string key = pixels_key(image);
    std::lock_guard lock(keys_mu_);
    std::erase_if(recent_keys_, [](const auto& entry) { return entry.first.expired(); });
    if (recent_keys_.size() >= kRecentKeys) recent_keys_.erase(recent_keys_.begin());
    recent_keys_.emplace_back(pixels, key);
    return key;
  }

  // Scene i as the tools see it: what can be seen of it (visible_part: its masks are read the
  // first time the scene is asked about, not at the start), through the noise.
  const SceneAnnotation& seen(size_t i) const {
    // Nothing throws out of call_once (a throwing callable has hung later callers with some
    // standard libraries): a scene whose masks cannot be read fails every call about it alike.
    std::call_once(seen_once_[i], [&] {
      try {
        seen_[i] = taco::perceive(visible_part(scenes_[i]), noise_);
      } catch (const std::exception& e) {
        seen_errors_[i] = e.what();
      }
    });
    if (!seen_[i]) throw ToolError(ToolFailure::kValueError, seen_errors_[i]);
    return *seen_[i];
  }

  const SceneAnnotation& annotation(const NamedImage& image) const {
    std::string why;
    if (const SceneAnnotation* a = find_scene(image, why)) return *a;
    if (!image.path.empty()) warn_unknown(image.path);
    throw ToolError(ToolFailure::kValueError, why);
  }

  // The image's scene; nullptr when the annotations do not cover it and the fallback answers
  // instead, which the call's details record ("vision_backend"), never silently.
  const SceneAnnotation* scene_for(const NamedImage& image, ToolContext& ctx) const {
    if (!fallback_) return &annotation(image);
    std::string why;
    if (const SceneAnnotation* a = find_scene(image, why)) return a;
    if (const std::string not_ready = fallback_->unavailable_reason(); !not_ready.empty())
      throw ToolError(ToolFailure::kValueError, why + ", and the " + fallback_->name() + " fallback is not ready: " + not_ready);
    Json details = ctx.details().is_object() ? ctx.details() : Json::object();
    details["vision_backend"] = fallback_->name() + " (fallback: " + why + ")";
    ctx.set_details(details);
    return nullptr;
  }

  // The backend that answers for images the annotations do not cover: announced once at the
  // start (every run that builds its tools says which images go where).
  void make_fallback(const Json& section, const std::string& base_dir) {
    if (!section.is_object() || !section.contains("backend") || !section["backend"].is_string())
      throw Error("the oracle's \"fallback\" must be a backend's section, e.g. {\"backend\": \"learned\", \"detector\": DIR, \"depth\": DIR}");
    const std::string kind = section["backend"].get<std::string>();
    if (kind == "oracle") throw Error("the oracle's \"fallback\" cannot be another oracle");
    fallback_ = make_vision_backend("the oracle's fallback", kind, section, base_dir);
    static std::once_flag announced;
    std::call_once(announced, [&] {
      const std::string not_ready = fallback_->unavailable_reason();
      std::fprintf(stderr, "taco: vision tools: images the oracle's annotations do not cover go to the %s backend%s\n", kind.c_str(),
                   not_ready.empty() ? "" : (" (not ready: " + not_ready + ")").c_str());
    });
  }

  // Once per backend, loudly: every vision call on such an image fails, and a run whose images
  // the oracle does not know measures nothing.
  void warn_unknown(const std::string& path) const {
    std::call_once(warned_, [&] {
      std::fprintf(stderr,
                   "taco: warning: the oracle's annotations (%s) know no image with the pixels of %s, nor its path: "
                   "its vision tools fail on it (and on any other image they do not know; said once)\n",
                   annotations_path_.c_str(), path.c_str());
    });
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
  std::shared_ptr<VisionBackend> fallback_;  // answers for images the annotations do not cover; may be null
  std::vector<SceneAnnotation> scenes_;         // as the annotations give them
  mutable std::vector<std::optional<SceneAnnotation>> seen_;  // as perceived: seen(i)
  mutable std::vector<std::string> seen_errors_;              // why seen(i) could not be made
  std::unique_ptr<std::once_flag[]> seen_once_;
  std::map<std::string, size_t> by_path_;      // canonical image path -> scene
  std::string annotations_path_;
  mutable ContentIndex content_;               // built at the first look-up
  mutable std::once_flag index_built_, warned_;
  std::string unavailable_;
  mutable std::mutex mu_;
  mutable std::map<std::string, NpyArray> depth_cache_;
  static constexpr size_t kRecentKeys = 64;
  mutable std::mutex keys_mu_;
  mutable std::vector<std::pair<std::weak_ptr<const Image::Impl>, std::string>> recent_keys_;  // key_of, oldest first
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

std::vector<Detection> find_in_scene(const SceneAnnotation& a, const std::vector<std::string>& queries) {
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
                                        },
                                        "\"annotations\": a scene-graph-annotations.json of the images"});

}  // namespace

}  // namespace taco
