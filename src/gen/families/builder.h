// What gen's families share, for the files of gen/families/ only: the scene helpers (labels,
// counts, colours, relations), the lazily read picture and depth of a scene, and Builder, which
// writes one example's task, CoTA chain (the tools' outputs as the oracle gives them) and
// Direct twin. Not a public header: gen/generate.h is.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <cstring>

#include "cota/image_name.h"
#include "cota/visibility.h"
#include "gen/generate.h"
#include "tools/builtin.h"
#include "tools/visualize.h"
#include "tools/vision.h"
#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"
#include "util/npy.h"
#include "util/pyrepr.h"
#include "util/strings.h"

namespace taco::gen {


using Rng = std::mt19937_64;

// The indefinite article before `word`: "an orange cone", "a red cone" (by the first letter).
inline std::string a_or_an(const std::string& word) {
  return !word.empty() && std::string("aeiouAEIOU").find(word[0]) != std::string::npos ? "an" : "a";
}

inline const std::set<std::string>& color_words() {
  static const std::set<std::string> c = {"red", "orange", "yellow", "green", "blue", "purple", "pink",
                                          "brown", "white", "black", "gray", "grey", "silver", "gold"};
  return c;
}
inline const std::set<std::string>& material_words() {
  static const std::set<std::string> m = {"rubber", "metal", "wooden", "plastic", "glass", "stone", "leather", "paper"};
  return m;
}

inline std::string plural(const std::string& w) {
  auto ends = [&](const char* s) { return w.size() >= std::strlen(s) && w.compare(w.size() - std::strlen(s), std::strlen(s), s) == 0; };
  if (ends("s") || ends("x") || ends("ch") || ends("sh")) return w + "es";
  return w + "s";
}

template <typename T>
inline const T& choose(const std::vector<T>& items, Rng& rng) {
  return items[std::uniform_int_distribution<size_t>(0, items.size() - 1)(rng)];
}

// One of several phrasings of a thought: the generated chains should not all read alike.
inline std::string one_of(Rng& rng, std::initializer_list<std::string> phrasings) {
  std::vector<std::string> v(phrasings);
  return choose(v, rng);
}

// "the A, the B or the C"
inline std::string list_of(const std::vector<std::string>& labels, const char* conjunction) {
  std::string out;
  for (size_t i = 0; i < labels.size(); ++i)
    out += (i == 0 ? "" : i + 1 == labels.size() ? std::string(" ") + conjunction + " " : ", ") + "the " + labels[i];
  return out;
}

inline bool is_number(const std::string& s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Counts of each label, in the order labels first appear.
inline std::vector<std::pair<std::string, int>> label_counts(const SceneAnnotation& a) {
  std::vector<std::pair<std::string, int>> counts;
  for (const auto& o : a.objects) {
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == o.label; });
    if (it == counts.end()) counts.emplace_back(o.label, 1);
    else ++it->second;
  }
  return counts;
}

// Whether LocalizeObjects finds object i for `query`: a plain label names its own objects; a
// phrase with attributes ("red cone") is found as the oracle backend finds it.
inline bool finds(const SceneAnnotation& a, size_t i, const std::string& query) {
  const std::string& label = a.objects[i].label;
  if (query == label) return true;
  const bool qualified = query.size() > label.size() + 1 && query.compare(query.size() - label.size(), label.size(), label) == 0 &&
                         query[query.size() - label.size() - 1] == ' ';
  return qualified && oracle_finds(a, i, query);
}

// How many objects LocalizeObjects finds for `query`.
inline int found_count(const SceneAnnotation& a, const std::string& query) {
  int n = 0;
  for (size_t i = 0; i < a.objects.size(); ++i) n += finds(a, i, query);
  return n;
}

// Indices of objects whose label occurs once in the scene.
inline std::vector<size_t> unique_objects(const SceneAnnotation& a) {
  std::map<std::string, int> n;
  for (const auto& o : a.objects) ++n[o.label];
  std::vector<size_t> out;
  for (size_t i = 0; i < a.objects.size(); ++i)
    if (n[a.objects[i].label] == 1) out.push_back(i);
  return out;
}

// The scene's picture, loaded once and only if some example draws on it.
class LazyImage {
 public:
  LazyImage(std::string path, SceneImageCache* cache) : path_(std::move(path)), cache_(cache) {}
  SceneImageCache* cache() const { return cache_; }
  const Image& get() {
    if (!image_) image_ = cache_ ? cache_->get(path_) : Image::load(path_);
    return *image_;
  }

 private:
  std::string path_;
  SceneImageCache* cache_;
  std::optional<Image> image_;
};

// The scene's depth map in the tools' convention, through the tools' noise, and its segment
// masks, read once for all families that use them (each mask only when its object is asked about).
class LazyDepth {
 public:
  LazyDepth(const SceneAnnotation& scene, const OracleNoise& noise) : scene_(scene), noise_(noise) {}
  const DepthMap& get() {
    if (!depth_) {
      NpyArray inverse = read_npy(scene_.depth_path);
      depth_ = depth_from_inverse(inverse, scene_.depth_path);
      // The map's largest value, for objects that carry their own (the synthetic world's).
      if (std::any_of(scene_.objects.begin(), scene_.objects.end(), [](const SceneObject& o) { return o.depth_value.has_value(); }))
        top_ = inverse.values.empty() ? 0 : *std::max_element(inverse.values.begin(), inverse.values.end());
      perturb_depth(*depth_, scene_.id, noise_);
    }
    return *depth_;
  }

  // The true depth of object i, in the tools' convention: the mean over the pixels its segment
  // mask shows where the scene has masks (an object's box also covers what occludes it and, for
  // a tree or a lamp, mostly sky), else its own depth value where the annotation gives one (the
  // synthetic world's), else the mean over its exact box (normalized); nullopt when the mask
  // shows fewer than kMinVisiblePixels.
  std::optional<double> object_depth(size_t i, const std::array<double, 4>& exact_box) {
    if (scene_.segment_path.empty()) {
      const DepthMap& d = get();
      if (const auto& value = scene_.objects[i].depth_value) return top_ - *value;
      return region_depth(d, exact_box, "mean");
    }
    if (!masks_) {
      masks_.emplace(scene_masks(scene_));
      visible_depth_.assign(scene_.objects.size(), std::nullopt);
      measured_.assign(scene_.objects.size(), false);
    }
    if (!measured_[i]) {
      measured_[i] = true;
      const DepthMap& d = get();
      const size_t h = masks_->height(), w = masks_->width();
      const std::vector<uint8_t> mask = masks_->mask(scene_.objects[i].mask_index.value_or(i));
      double sum = 0;
      int64_t visible = 0;
      const bool same_size = static_cast<size_t>(d.width) == w && static_cast<size_t>(d.height) == h;
      for (size_t y = 0; y < h; ++y) {
        const uint8_t* row = mask.data() + y * w;
        if (count_nonzero_bytes(row, w) == 0) continue;  // most rows of a mask show nothing
        for (size_t x = 0; x < w; ++x)
          if (row[x] != 0) {
            sum += same_size ? d.values[y * w + x]
                             : d.at(static_cast<int>(x * static_cast<size_t>(d.width) / w), static_cast<int>(y * static_cast<size_t>(d.height) / h));
            ++visible;
          }
      }
      if (visible >= kMinVisiblePixels) visible_depth_[i] = sum / static_cast<double>(visible);
    }
    return visible_depth_[i];
  }

 private:
  const SceneAnnotation& scene_;
  const OracleNoise noise_;
  std::optional<DepthMap> depth_;
  double top_ = 0;  // the depth map's largest value: depth is top - value (depth_from_inverse)
  std::optional<SegmentMasks> masks_;
  std::vector<std::optional<double>> visible_depth_;
  std::vector<bool> measured_;
};

// Builds one example: the task, the CoTA steps with oracle outputs, and the Direct twin.
class Builder {
 public:
  // `scenes` are the input images in order (image-0, image-1, ...); single-image families use
  // the first.
  // `printed` is the first input as OCR reads it: noise in the detector does not hide text.
  Builder(std::vector<const SceneAnnotation*> scenes, const SceneAnnotation& printed, std::vector<LazyImage>& images,
          LazyDepth& depth, const std::string& family, const GenOptions& options, const PromptTemplate& prompts, Rng& rng)
      : scenes_(std::move(scenes)),
        scene_(*scenes_[0]),
        printed_(printed),
        options_(options),
        prompts_(prompts),
        rng_(rng),
        images_(images),
        depth_(depth) {
    std::string id;
    Json ids = Json::array();
    for (const auto* sc : scenes_) {
      id += (id.empty() ? "" : "+") + sc->id;
      ids.push_back(sc->id);
      trace_.task.images.push_back(sc->image_path);
      trace_.images.push_back(TraceImage{image_name(trace_.images.size()), sc->image_path, "input", sc->width,
                                         sc->height});
    }
    trace_.task.id = id + "-" + family;
    trace_.task.metadata = Json{{"family", family}, {"scene", scenes_.size() == 1 ? Json(scene_.id) : ids},
                                {"source", scene_.source}};
    trace_.model = "taco-gen";
  }

  Json& metadata() { return trace_.task.metadata; }
  // The first scene's depth map (callers check that it has one).
  const DepthMap& depth() { return depth_.get(); }
  // The true depth of object i of the first scene (LazyDepth::object_depth).
  std::optional<double> true_object_depth(size_t i) { return depth_.object_depth(i, exact_box_of(i)); }

  // Sets the question; with probability mc_ratio it becomes multiple choice over `options`.
  void ask(const std::string& question, const std::string& answer, std::vector<std::string> options) {
    answer_ = answer;
    std::string q = question;
    if (!options.empty() && std::uniform_real_distribution<double>(0, 1)(rng_) < options_.mc_ratio) {
      if (std::find(options.begin(), options.end(), answer) == options.end()) options.push_back(answer);
      std::shuffle(options.begin(), options.end(), rng_);
      q += "\nOptions:";
      for (size_t i = 0; i < options.size(); ++i) {
        q += "\n" + std::string(1, static_cast<char>('A' + i)) + ". " + options[i];
        if (options[i] == answer) answer_ = std::string(1, static_cast<char>('A' + i));
      }
      q += "\nAnswer with the option's letter from the given choices directly.";
      trace_.task.choices = options;
      trace_.task.metadata["answer_text"] = answer;
    }
    trace_.task.question = q;
    trace_.task.answer = answer_;
  }

  // The object's box as the tools report it: normalized, two decimals.
  std::array<double, 4> box_of(size_t i) const { return box_in(scene_, i); }
  static std::array<double, 4> box_in(const SceneAnnotation& scene, size_t i) {
    const auto& b = scene.objects[i].box;
    return {round2(std::clamp(b[0] / scene.width, 0.0, 1.0)), round2(std::clamp(b[1] / scene.height, 0.0, 1.0)),
            round2(std::clamp(b[2] / scene.width, 0.0, 1.0)), round2(std::clamp(b[3] / scene.height, 0.0, 1.0))};
  }

  // The exact normalized box, for answers that must not depend on the rounding.
  std::array<double, 4> exact_box_of(size_t i) const {
    const auto& b = scene_.objects[i].box;
    return {std::clamp(b[0] / scene_.width, 0.0, 1.0), std::clamp(b[1] / scene_.height, 0.0, 1.0),
            std::clamp(b[2] / scene_.width, 0.0, 1.0), std::clamp(b[3] / scene_.height, 0.0, 1.0)};
  }

  // LocalizeObjects on input image `k` as the oracle answers it; returns the regions. A query
  // is a label, or a label with attributes ("red cone"), found as the oracle finds it.
  Json localize(const std::string& thought, const std::vector<std::string>& labels, size_t k = 0) {
    const SceneAnnotation& scene = *scenes_[k];
    RegionList found;
    for (const auto& label : labels)
      for (size_t i = 0; i < scene.objects.size(); ++i)
        if (finds(scene, i, label)) found.add(label, box_in(scene, i), round2(oracle_score(scene, i)));
    const Json& regions = found.json();
    std::string name = next_image_name();
    add_image(name, "LocalizeObjects", regions, k);
    step(thought, Action{"LocalizeObjects", Json{{"image", image_name(k)}, {"objects", labels}}},
         Json{{"image", name}, {"regions", regions}}, {name});
    return regions;
  }

  // GetObjects on input image `k`; returns the labels.
  Json get_objects(const std::string& thought, size_t k = 0) {
    Json objects = Json::array();
    for (const auto& [label, n] : label_counts(*scenes_[k])) objects.push_back(label);
    step(thought, Action{"GetObjects", Json{{"image", image_name(k)}}}, Json{{"objects", objects}});
    return objects;
  }

  double object_depth(const std::string& thought, size_t i, const DepthMap& depth) {
    double d = round2(region_depth(depth, box_of(i), "mean"));
    step(thought, Action{"EstimateObjectDepth", Json{{"image", "image-0"}, {"object", scene_.objects[i].label}}}, Json{{"depth", d}});
    return d;
  }

  // EstimateRegionDepth on a box of the first input (as LocalizeObjects reported it).
  double region_depth_of(const std::string& thought, const std::array<double, 4>& box, const DepthMap& depth) {
    double d = round2(region_depth(depth, box, "mean"));
    step(thought, Action{"EstimateRegionDepth", Json{{"image", "image-0"}, {"bbox", {box[0], box[1], box[2], box[3]}}}}, Json{{"depth", d}});
    return d;
  }

  void ocr(const std::string& thought) {
    std::vector<size_t> order;
    for (size_t i = 0; i < printed_.objects.size(); ++i)
      if (!printed_.objects[i].text.empty()) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const auto &x = printed_.objects[a].box, &y = printed_.objects[b].box;
      return std::make_pair(std::lround(x[1] / 20), x[0]) < std::make_pair(std::lround(y[1] / 20), y[0]);
    });
    std::string text;
    for (size_t i : order) text += (text.empty() ? "" : "\n") + printed_.objects[i].text;
    step(thought, Action{"OCR", Json{{"image", "image-0"}}}, Json{{"text", text}});
  }

  Json calculate(const std::string& thought, const std::string& expression) {
    Json result = evaluate_expression(expression);
    step(thought, Action{"Calculate", Json{{"expression", expression}}}, Json{{"result", result}});
    return result;
  }

  GeneratedExample finish(const std::string& thought) {
    std::vector<std::string> inputs;
    for (size_t k = 0; k < scenes_.size(); ++k) inputs.push_back(image_name(k));
    trace_.user_request = prompts_.user_request(trace_.task.question, inputs, true);
    Trace direct = direct_example(trace_, answer_);
    trace_.task.metadata["variant"] = "cota";
    std::string last = thought;
    if (options_.mc_names_option && !trace_.task.choices.empty())
      last += " The option for " + trace_.task.metadata["answer_text"].get<std::string>() + " is " + answer_ + ".";
    finish_with_terminate(trace_, last, answer_);
    return GeneratedExample{trace_.task.metadata["family"], std::move(trace_), std::move(direct)};
  }

 private:
  std::string next_image_name() const { return image_name(trace_.images.size()); }

  // A tool-made image: drawn now when an images folder is set (only for kept examples, since
  // a family that gives up does so before calling tools). JPEG, as TACO saved tool outputs: it
  // encodes several times faster than PNG. Named by the picture and the regions drawn on it,
  // so the examples of a run that box the same objects in one picture (a third of them) share
  // one file, drawn once; 256 folders in all, since a folder per example cost as much to create
  // as the image to encode.
  void add_image(const std::string& name, const std::string& tool, const Json& regions, size_t k) {
    TraceImage im{name, "", tool, scenes_[k]->width, scenes_[k]->height};
    if (regions.empty()) {
      im.path = scenes_[k]->image_path;  // nothing drawn: the tagged image is the input itself
    } else if (!options_.images_dir.empty()) {
      // 256 folders by the name's hash: a million examples leave a few thousand files in each.
      const std::string hash = hash_hex(scenes_[k]->image_path + "\n" + regions.dump());
      im.path = options_.images_dir + "/" + hash.substr(0, 2) + "/" + safe_file_name(scenes_[k]->id) + "-" + hash + ".jpg";
      auto encode = [&] { return draw_regions(images_[k].get(), regions).encode(".jpg", 90); };
      if (SceneImageCache* cache = images_[k].cache()) cache->write_once(im.path, encode);
      else write_file_replacing(im.path, encode());
    }
    trace_.images.push_back(std::move(im));
  }

  void step(const std::string& thought, Action action, Json observation, std::vector<std::string> new_images = {}) {
    StepRecord s;
    s.content = StepContent{thought, {std::move(action)}};
    s.raw = python_json_dumps(s.content->to_json());
    s.new_images = std::move(new_images);
    s.feedback = prompts_.observation(observation_repr(observation, s.new_images));
    s.observation = std::move(observation);
    trace_.steps.push_back(std::move(s));
  }

  std::vector<const SceneAnnotation*> scenes_;
  const SceneAnnotation& scene_;  // the first input: what single-image families ask about
  const SceneAnnotation& printed_;
  const GenOptions& options_;
  const PromptTemplate& prompts_;
  Rng& rng_;
  std::vector<LazyImage>& images_;
  LazyDepth& depth_;
  Trace trace_;
  std::string answer_;
};

inline bool has_relation(const SceneAnnotation& a, size_t head, const std::string& relation, size_t tail) {
  return std::any_of(a.relations.begin(), a.relations.end(), [&](const SceneRelation& r) {
    return static_cast<size_t>(r.head) == head && static_cast<size_t>(r.tail) == tail && r.relation == relation;
  });
}

inline bool depth_relation(const std::string& relation) { return relation == "in front of" || relation == "behind"; }

inline const std::set<std::string>& antisymmetric_relations() {
  static const std::set<std::string> r = {"left of", "right of", "in front of", "behind", "above", "below"};
  return r;
}

// Relations that the boxes (or the depths) of two objects show, which every relation family
// reasons from. Visual Genome's graphs also hold possessive and action predicates ("window of
// building", "man wearing hat", "has") that no box decides: they are never asked.
inline bool spatial_relation(const std::string& relation) {
  static const std::set<std::string> spatial = {"left of", "right of", "in front of", "behind", "above",  "below",
                                                "on",      "on top of", "under",      "beneath", "next to", "beside",
                                                "near",    "in",        "inside"};
  return spatial.count(relation) > 0;
}

// Spatial relations between two distinct objects whose labels occur once in the scene (so "the
// ball" names one object), leaving out those that need depth when `with_depth` is false.
inline std::vector<SceneRelation> relations_between_singles(const SceneAnnotation& a, bool with_depth) {
  std::set<size_t> singles;
  for (size_t i : unique_objects(a)) singles.insert(i);
  std::vector<SceneRelation> out;
  for (const auto& r : a.relations)
    if (singles.count(static_cast<size_t>(r.head)) && singles.count(static_cast<size_t>(r.tail)) && r.head != r.tail &&
        spatial_relation(r.relation) && (with_depth || !depth_relation(r.relation)))
      out.push_back(r);
  return out;
}

// The one color word among an object's attributes, or "" when it has none or several.
inline std::string single_color(const SceneObject& o) {
  std::string found;
  for (const auto& at : o.attributes)
    if (color_words().count(at)) {
      if (!found.empty()) return "";
      found = at;
    }
  return found;
}

// The one material word among an object's attributes, or "".
inline std::string single_material(const SceneObject& o) {
  std::string found;
  for (const auto& at : o.attributes)
    if (material_words().count(at)) {
      if (!found.empty()) return "";
      found = at;
    }
  return found;
}

// An attribute an object of the label has that sets some of its kind apart ("red" among cones
// of several colors), or any attribute of it when it is the only one: (label, attribute) pairs.
inline std::vector<std::pair<std::string, std::string>> attribute_phrases(const SceneAnnotation& a) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& o : a.objects)
    for (const std::string& at : {single_color(o), single_material(o)})
      if (!at.empty() && std::find(out.begin(), out.end(), std::make_pair(o.label, at)) == out.end()) out.emplace_back(o.label, at);
  return out;
}

// A question family about one image, and one about a group of images (image-0, image-1, ...).
using Family = std::optional<GeneratedExample> (*)(const SceneAnnotation&, Builder&, Rng&);
using GroupFamily = std::optional<GeneratedExample> (*)(const std::vector<const SceneAnnotation*>&, Builder&, Rng&);

// The families by name, in the order their random streams are numbered (gen/families/*.cpp):
// append, never reorder, or every family's examples change.
const std::vector<std::pair<std::string, Family>>& families();
const std::vector<std::pair<std::string, GroupFamily>>& pair_families();
const std::vector<std::pair<std::string, GroupFamily>>& group_families();

}  // namespace taco::gen
