#include "gen/generate.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <cstring>

#include "tools/builtin.h"
#include "tools/visualize.h"
#include "tools/vision.h"
#include "util/error.h"
#include "util/files.h"
#include "util/npy.h"
#include "util/pyrepr.h"
#include "util/strings.h"

namespace taco {
namespace {

using Rng = std::mt19937_64;

// The indefinite article before `word`: "an orange cone", "a red cone" (by the first letter).
std::string a_or_an(const std::string& word) {
  return !word.empty() && std::string("aeiouAEIOU").find(word[0]) != std::string::npos ? "an" : "a";
}

const std::set<std::string>& color_words() {
  static const std::set<std::string> c = {"red", "orange", "yellow", "green", "blue", "purple", "pink",
                                          "brown", "white", "black", "gray", "grey", "silver", "gold"};
  return c;
}
const std::set<std::string>& material_words() {
  static const std::set<std::string> m = {"rubber", "metal", "wooden", "plastic", "glass", "stone", "leather", "paper"};
  return m;
}

std::string plural(const std::string& w) {
  auto ends = [&](const char* s) { return w.size() >= std::strlen(s) && w.compare(w.size() - std::strlen(s), std::strlen(s), s) == 0; };
  if (ends("s") || ends("x") || ends("ch") || ends("sh")) return w + "es";
  return w + "s";
}

template <typename T>
const T& choose(const std::vector<T>& items, Rng& rng) {
  return items[std::uniform_int_distribution<size_t>(0, items.size() - 1)(rng)];
}

// One of several phrasings of a thought: the generated chains should not all read alike.
std::string one_of(Rng& rng, std::initializer_list<std::string> phrasings) {
  std::vector<std::string> v(phrasings);
  return choose(v, rng);
}

// "the A, the B or the C"
std::string list_of(const std::vector<std::string>& labels, const char* conjunction) {
  std::string out;
  for (size_t i = 0; i < labels.size(); ++i)
    out += (i == 0 ? "" : i + 1 == labels.size() ? std::string(" ") + conjunction + " " : ", ") + "the " + labels[i];
  return out;
}

bool is_number(const std::string& s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Counts of each label, in the order labels first appear.
std::vector<std::pair<std::string, int>> label_counts(const SceneAnnotation& a) {
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
bool finds(const SceneAnnotation& a, size_t i, const std::string& query) {
  const std::string& label = a.objects[i].label;
  if (query == label) return true;
  const bool qualified = query.size() > label.size() + 1 && query.compare(query.size() - label.size(), label.size(), label) == 0 &&
                         query[query.size() - label.size() - 1] == ' ';
  return qualified && oracle_finds(a, i, query);
}

// How many objects LocalizeObjects finds for `query`.
int found_count(const SceneAnnotation& a, const std::string& query) {
  int n = 0;
  for (size_t i = 0; i < a.objects.size(); ++i) n += finds(a, i, query);
  return n;
}

// Indices of objects whose label occurs once in the scene.
std::vector<size_t> unique_objects(const SceneAnnotation& a) {
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
  const Image& get() {
    if (!image_) image_ = cache_ ? cache_->get(path_) : Image::load(path_);
    return *image_;
  }

 private:
  std::string path_;
  SceneImageCache* cache_;
  std::optional<Image> image_;
};

// Fewer visible pixels of an object than this (its segment mask) do not decide its depth.
constexpr size_t kMinVisiblePixels = 64;

// The scene's depth map in the tools' convention, through the tools' noise, and its segment
// masks, read once for all families that use them.
class LazyDepth {
 public:
  LazyDepth(const SceneAnnotation& scene, const OracleNoise& noise) : scene_(scene), noise_(noise) {}
  const DepthMap& get() {
    if (!depth_) {
      NpyArray inverse = read_npy(scene_.depth_path);
      top_ = inverse.values.empty() ? 0 : *std::max_element(inverse.values.begin(), inverse.values.end());
      depth_ = depth_from_inverse(inverse, scene_.depth_path);
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
      NpyArray m = read_npy(scene_.segment_path);
      if (m.shape.size() != 3 || m.shape[0] != scene_.objects.size() || m.shape[1] == 0 || m.shape[2] == 0)
        throw Error(scene_.segment_path + ": expected " + std::to_string(scene_.objects.size()) +
                    " masks (one per box) of H x W, not shape " + shape_text(m.shape));
      masks_ = std::move(m);
      visible_depth_.assign(scene_.objects.size(), std::nullopt);
      measured_.assign(scene_.objects.size(), false);
    }
    if (!measured_[i]) {
      measured_[i] = true;
      const DepthMap& d = get();
      const size_t h = masks_->shape[1], w = masks_->shape[2];
      const float* mask = masks_->values.data() + i * h * w;
      double sum = 0;
      size_t visible = 0;
      for (size_t y = 0; y < h; ++y)
        for (size_t x = 0; x < w; ++x)
          if (mask[y * w + x] != 0) {
            sum += d.at(static_cast<int>(x * static_cast<size_t>(d.width) / w), static_cast<int>(y * static_cast<size_t>(d.height) / h));
            ++visible;
          }
      if (visible >= kMinVisiblePixels) visible_depth_[i] = sum / static_cast<double>(visible);
    }
    return visible_depth_[i];
  }

 private:
  static std::string shape_text(const std::vector<size_t>& shape) {
    std::string s;
    for (size_t k : shape) s += (s.empty() ? "" : " x ") + std::to_string(k);
    return s.empty() ? "()" : s;
  }
  const SceneAnnotation& scene_;
  const OracleNoise noise_;
  std::optional<DepthMap> depth_;
  double top_ = 0;  // the depth map's largest value: depth is top - value (depth_from_inverse)
  std::optional<NpyArray> masks_;
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
      trace_.images.push_back(TraceImage{"image-" + std::to_string(trace_.images.size()), sc->image_path, "input", sc->width,
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
    step(thought, Action{"LocalizeObjects", Json{{"image", "image-" + std::to_string(k)}, {"objects", labels}}},
         Json{{"image", name}, {"regions", regions}}, {name});
    return regions;
  }

  // GetObjects on input image `k`; returns the labels.
  Json get_objects(const std::string& thought, size_t k = 0) {
    Json objects = Json::array();
    for (const auto& [label, n] : label_counts(*scenes_[k])) objects.push_back(label);
    step(thought, Action{"GetObjects", Json{{"image", "image-" + std::to_string(k)}}}, Json{{"objects", objects}});
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
    for (size_t k = 0; k < scenes_.size(); ++k) inputs.push_back("image-" + std::to_string(k));
    trace_.user_request = prompts_.user_request(trace_.task.question, inputs, true);
    Trace direct = direct_example(trace_, answer_);
    trace_.task.metadata["variant"] = "cota";
    finish_with_terminate(trace_, thought, answer_);
    return GeneratedExample{trace_.task.metadata["family"], std::move(trace_), std::move(direct)};
  }

 private:
  std::string next_image_name() const { return "image-" + std::to_string(trace_.images.size()); }

  // A tool-made image: drawn now when an images folder is set (only for kept examples, since
  // a family that gives up does so before calling tools). JPEG, as TACO saved tool outputs: it
  // encodes several times faster than PNG.
  void add_image(const std::string& name, const std::string& tool, const Json& regions, size_t k) {
    TraceImage im{name, "", tool, scenes_[k]->width, scenes_[k]->height};
    if (regions.empty()) {
      im.path = scenes_[k]->image_path;  // nothing drawn: the tagged image is the input itself
    } else if (!options_.images_dir.empty()) {
      im.path = options_.images_dir + "/" + safe_file_name(trace_.task.id) + "/" + name + ".jpg";
      write_file(im.path, draw_regions(images_[k].get(), regions).encode(".jpg", 90));
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

using Family = std::optional<GeneratedExample> (*)(const SceneAnnotation&, Builder&, Rng&);

std::optional<GeneratedExample> count_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  auto counts = label_counts(a);
  std::vector<std::pair<std::string, int>> usable;
  for (const auto& c : counts)
    if (c.second <= 6) usable.push_back(c);
  if (usable.empty()) return std::nullopt;
  auto [label, n] = choose(usable, rng);
  b.metadata()["label"] = label;
  const std::vector<std::string> questions = {"How many " + plural(label) + " are there in the image?",
                                              "Count the " + plural(label) + " in the image.",
                                              "What is the number of " + plural(label) + " in this picture?"};
  std::vector<std::string> options;
  for (int d : {-1, 1, 2}) if (n + d >= 0) options.push_back(std::to_string(n + d));
  b.ask(choose(questions, rng), std::to_string(n), options);
  const std::vector<std::string> plans = {"To count the " + plural(label) + ", I will locate all of them first.",
                                          "I need to find every " + label + " in the image and count them.",
                                          "Locating the " + plural(label) + " will tell me how many there are."};
  b.localize(choose(plans, rng), {label});
  const std::string found = std::to_string(n) + " " + (n == 1 ? label : plural(label));
  return b.finish(one_of(rng, {"LocalizeObjects found " + found + ", and the boxes in image-1 match the objects, so the answer is " +
                                   std::to_string(n) + ".",
                               "There are " + found + " in the image, as the boxes in image-1 show.",
                               "The tool boxed " + found + "; the count is " + std::to_string(n) + "."}));
}

std::optional<GeneratedExample> frequency_family(const SceneAnnotation& a, Builder& b, Rng& rng, bool most) {
  auto counts = label_counts(a);
  if (counts.size() < 2) return std::nullopt;
  auto best = counts[0];
  int ties = 0;
  for (const auto& c : counts) {
    if ((most && c.second > best.second) || (!most && c.second < best.second)) best = c, ties = 0;
    else if (c.second == best.second && c.first != best.first) ++ties;
  }
  if (ties > 0) return std::nullopt;  // no single answer
  std::vector<std::string> labels, options;
  for (const auto& c : counts) labels.push_back(c.first), options.push_back(c.first);
  const std::string word = most ? "most" : "least";
  b.ask(std::string("Which kind of object appears ") + (most ? "most" : "least") + " often in the image?", best.first, options);
  b.get_objects(one_of(rng, {"I first need to know which kinds of objects are in the image.",
                             "Let me list the kinds of objects in the image first.",
                             "To compare how often each kind appears, I start with the list of objects."}));
  b.localize(one_of(rng, {"Now I will locate each kind of object to count them.",
                          "Locating every object of these kinds will give me their counts.",
                          "Next I find all of them, so I can count each kind."}),
             labels);
  std::string summary;
  for (size_t i = 0; i < counts.size(); ++i)
    summary += (i == 0 ? "" : i + 1 == counts.size() ? " and " : ", ") + std::to_string(counts[i].second) + " " +
               (counts[i].second == 1 ? counts[i].first : plural(counts[i].first));
  return b.finish("There are " + summary + ", so the " + best.first + " appears " + word + " often.");
}

std::optional<GeneratedExample> most_frequent_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  return frequency_family(a, b, rng, true);
}
std::optional<GeneratedExample> least_frequent_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  return frequency_family(a, b, rng, false);
}

std::optional<GeneratedExample> position_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  std::vector<size_t> singles = unique_objects(a);
  if (singles.size() < 2) return std::nullopt;
  std::shuffle(singles.begin(), singles.end(), rng);
  singles.resize(std::min<size_t>(singles.size(), 2 + std::uniform_int_distribution<size_t>(0, 1)(rng)));
  const std::vector<std::string> directions = {"leftmost", "rightmost", "topmost", "bottommost"};
  const std::string direction = choose(directions, rng);
  // The coordinate that decides it: the box centre, negated where smaller wins.
  auto key = [&](size_t i) {
    auto bx = b.box_of(i);
    double cx = (bx[0] + bx[2]) / 2, cy = (bx[1] + bx[3]) / 2;
    return direction == "leftmost" ? -cx : direction == "rightmost" ? cx : direction == "topmost" ? -cy : cy;
  };
  std::sort(singles.begin(), singles.end(), [&](size_t x, size_t y) { return key(x) > key(y); });
  if (key(singles[0]) - key(singles[1]) < 0.05) return std::nullopt;  // too close to call from the boxes
  std::vector<std::string> labels;
  for (size_t i : singles) labels.push_back(a.objects[i].label);
  std::sort(labels.begin(), labels.end());
  const std::string answer = a.objects[singles[0]].label;
  b.metadata()["direction"] = direction;
  b.metadata()["labels"] = labels;
  b.ask("Which is the " + direction + " object in the image: " + list_of(labels, "or") + "?", answer, labels);
  b.localize(one_of(rng, {"I will locate " + list_of(labels, "and") + " and compare their positions.",
                          "Finding " + list_of(labels, "and") + " will show where each one is.",
                          "Their boxes will tell me which is the " + direction + ", so I locate " + list_of(labels, "and") + "."}),
             labels);
  const char* axis = direction == "leftmost" || direction == "rightmost" ? "horizontal" : "vertical";
  return b.finish(std::string("Comparing the centres of the boxes along the ") + axis + " axis, the " + answer + " is the " +
                  direction + ".");
}

// An object's depth as the tools report it (rounded box) and truly (its visible pixels, or its
// exact box without masks). Depth orders are asked only where both agree with a clear gap: small
// objects near others can flip under the rounding, and an occluded object's box takes in its
// occluder's depth. No depth when too little of the object is visible to decide.
struct ObjectDepth {
  double reported = 0, exact = 0;
};
std::optional<ObjectDepth> depth_of(Builder& b, size_t i) {
  std::optional<double> exact = b.true_object_depth(i);
  if (!exact) return std::nullopt;
  return ObjectDepth{round2(region_depth(b.depth(), b.box_of(i), "mean")), *exact};
}
bool clearly_ordered(const std::optional<ObjectDepth>& x, const std::optional<ObjectDepth>& y) {
  if (!x || !y) return false;
  auto clear = [](double p, double q) { return std::fabs(p - q) > 0.05 * std::max(std::fabs(p), std::fabs(q)); };
  return clear(x->reported, y->reported) && clear(x->exact, y->exact) && (x->reported < y->reported) == (x->exact < y->exact);
}

std::optional<GeneratedExample> depth_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  if (a.depth_path.empty()) return std::nullopt;
  std::vector<size_t> singles = unique_objects(a);
  if (singles.size() < 2) return std::nullopt;
  std::shuffle(singles.begin(), singles.end(), rng);
  size_t x = singles[0], y = singles[1];
  const auto ox = depth_of(b, x), oy = depth_of(b, y);
  if (!clearly_ordered(ox, oy)) return std::nullopt;
  const double dx = ox->reported, dy = oy->reported;
  const DepthMap& depth = b.depth();
  const bool closer = std::uniform_int_distribution<int>(0, 1)(rng) == 0;
  const std::string &lx = a.objects[x].label, &ly = a.objects[y].label;
  const std::string answer = (dx < dy) == closer ? lx : ly;
  b.metadata()["relation"] = closer ? "closer" : "farther";
  b.metadata()["labels"] = {lx, ly};
  b.ask("Which is " + std::string(closer ? "closer to" : "farther from") + " the camera, the " + lx + " or the " + ly + "?",
        answer, {lx, ly});
  b.object_depth(one_of(rng, {"I will estimate how far the " + lx + " is from the camera.",
                              "Comparing depths answers this; first the " + lx + ".",
                              "Let me get the depth of the " + lx + " first."}),
                 x, depth);
  b.object_depth(one_of(rng, {"Now the depth of the " + ly + ", to compare.", "Next, how far away the " + ly + " is.",
                              "And the " + ly + "'s depth."}),
                 y, depth);
  std::string cmp = dx < dy ? lx + "'s depth is smaller than the " + ly + "'s" : ly + "'s depth is smaller than the " + lx + "'s";
  return b.finish("The " + cmp + ", and smaller means closer, so the " + answer + " is " + (closer ? "closer." : "farther."));
}

// "Which is closer to the camera than the tree: the ball or the cone?" One of the two is
// clearly closer than the anchor and the other clearly farther.
std::optional<GeneratedExample> depth_anchor_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  if (a.depth_path.empty()) return std::nullopt;
  std::vector<size_t> singles = unique_objects(a);
  if (singles.size() < 3) return std::nullopt;
  std::shuffle(singles.begin(), singles.end(), rng);
  const size_t anchor = singles[0];
  const auto da = depth_of(b, anchor);
  if (!da) return std::nullopt;
  std::vector<size_t> nearer, farther;
  for (size_t k = 1; k < singles.size(); ++k) {
    const auto d = depth_of(b, singles[k]);
    if (clearly_ordered(d, da)) (d->reported < da->reported ? nearer : farther).push_back(singles[k]);
  }
  if (nearer.empty() || farther.empty()) return std::nullopt;
  const size_t n = nearer[0], f = farther[0];
  const bool closer = std::uniform_int_distribution<int>(0, 1)(rng) == 0;
  const bool near_first = std::uniform_int_distribution<int>(0, 1)(rng) == 0;
  const std::string &la = a.objects[anchor].label, &ln = a.objects[n].label, &lf = a.objects[f].label;
  const std::string& answer = closer ? ln : lf;
  const std::string x = near_first ? ln : lf, y = near_first ? lf : ln;
  b.metadata()["relation"] = closer ? "closer" : "farther";
  b.metadata()["anchor"] = la;
  b.metadata()["labels"] = {x, y};
  b.ask("Which is " + std::string(closer ? "closer to" : "farther from") + " the camera than the " + la + ": the " + x +
            " or the " + y + "?",
        answer, {x, y});
  const DepthMap& depth = b.depth();
  b.object_depth("The " + la + " is the reference, so I will estimate its depth first.", anchor, depth);
  b.object_depth("Now the depth of the " + x + ".", near_first ? n : f, depth);
  b.object_depth("And the depth of the " + y + ".", near_first ? f : n, depth);
  return b.finish("The " + ln + " has a smaller depth than the " + la + " and the " + lf + " a larger one, so the " + answer +
                  " is " + (closer ? "closer to" : "farther from") + " the camera than the " + la + ".");
}

std::optional<GeneratedExample> attribute_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  const bool color = std::uniform_int_distribution<int>(0, 1)(rng) == 0;
  const auto& words = color ? color_words() : material_words();
  std::vector<std::pair<size_t, std::string>> candidates;
  for (size_t i : unique_objects(a)) {
    std::vector<std::string> found;
    for (const auto& at : a.objects[i].attributes)
      if (words.count(at)) found.push_back(at);
    if (found.size() == 1) candidates.emplace_back(i, found[0]);
  }
  if (candidates.empty()) return std::nullopt;
  auto [i, value] = choose(candidates, rng);
  const std::string& label = a.objects[i].label;
  std::vector<std::string> options{value};
  std::vector<std::string> pool(words.begin(), words.end());
  std::shuffle(pool.begin(), pool.end(), rng);
  for (const auto& w : pool)
    if (options.size() < 4 && w != value && w != "grey") options.push_back(w);
  b.metadata()["attribute"] = color ? "color" : "material";
  b.metadata()["label"] = label;
  b.ask(color ? "What color is the " + label + "?" : "What is the " + label + " made of?", value, options);
  b.localize(one_of(rng, {"I will find the " + label + " to look at it closely.", "First I locate the " + label + ".",
                          "Let me find where the " + label + " is in the image."}),
             {label});
  return b.finish("The box in image-1 marks the " + label + ", which is " + (color ? "" : "made of ") + value + ".");
}

// "What is the sum of all the numbers written in the image?" when the numbered objects cannot
// be told apart by their labels.
std::optional<GeneratedExample> ocr_sum_all(const SceneAnnotation& a, Builder& b) {
  std::vector<std::string> numbers;
  for (const auto& o : a.objects)
    if (is_number(o.text)) numbers.push_back(o.text);
  if (numbers.size() < 2) return std::nullopt;
  std::string expression, listed;
  long total = 0;
  for (size_t i = 0; i < numbers.size(); ++i) {
    expression += (i == 0 ? "" : " + ") + numbers[i];
    listed += (i == 0 ? "" : i + 1 == numbers.size() ? " and " : ", ") + numbers[i];
    total += std::stol(numbers[i]);
  }
  b.metadata()["operation"] = "sum_all";
  b.ask("What is the sum of all the numbers written in the image?", std::to_string(total),
        {std::to_string(total - 1), std::to_string(total + 1), std::to_string(total + 10)});
  b.ocr("I need to read every number written in the image.");
  Json r = b.calculate("The numbers are " + listed + "; I will add them up.", expression);
  return b.finish("The numbers add up to " + r.dump() + ".");
}

std::optional<GeneratedExample> ocr_math_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  std::vector<size_t> numbered;
  for (size_t i : unique_objects(a))
    if (is_number(a.objects[i].text)) numbered.push_back(i);
  if (numbered.size() < 2) return ocr_sum_all(a, b);
  std::shuffle(numbered.begin(), numbered.end(), rng);
  size_t x = numbered[0], y = numbered[1];
  const std::string &lx = a.objects[x].label, &ly = a.objects[y].label;
  const std::string &tx = a.objects[x].text, &ty = a.objects[y].text;
  const bool sum = std::uniform_int_distribution<int>(0, 1)(rng) == 0;
  if (!sum && std::stol(tx) == std::stol(ty)) return std::nullopt;
  b.metadata()["operation"] = sum ? "sum" : "larger";
  b.metadata()["labels"] = {lx, ly};
  if (sum) {
    long total = std::stol(tx) + std::stol(ty);
    b.ask("What is the sum of the numbers written on the " + lx + " and the " + ly + "?", std::to_string(total),
          {std::to_string(total - 1), std::to_string(total + 1), std::to_string(total + 10)});
    b.ocr(one_of(rng, {"I need to read the numbers on the " + lx + " and the " + ly + ".",
                       "The numbers are printed on the objects, so I read the text in the image.",
                       "Reading the text in the image will give me both numbers."}));
    Json r = b.calculate("The " + lx + " shows " + tx + " and the " + ly + " shows " + ty + "; I will add them.", tx + " + " + ty);
    return b.finish("The sum is " + r.dump() + ".");
  }
  const std::string answer = std::stol(tx) > std::stol(ty) ? lx : ly;
  b.ask("Which has the larger number written on it, the " + lx + " or the " + ly + "?", answer, {lx, ly});
  b.ocr(one_of(rng, {"I need to read the numbers on the " + lx + " and the " + ly + ".",
                     "Which number is larger depends on the text printed on them, so I read it.",
                     "Let me read the numbers written on the " + lx + " and the " + ly + "."}));
  return b.finish("The " + lx + " shows " + tx + " and the " + ly + " shows " + ty + ", so the " + answer +
                  " has the larger number.");
}


bool has_relation(const SceneAnnotation& a, size_t head, const std::string& relation, size_t tail) {
  return std::any_of(a.relations.begin(), a.relations.end(), [&](const SceneRelation& r) {
    return static_cast<size_t>(r.head) == head && static_cast<size_t>(r.tail) == tail && r.relation == relation;
  });
}
bool depth_relation(const std::string& relation) { return relation == "in front of" || relation == "behind"; }
const std::set<std::string>& antisymmetric_relations() {
  static const std::set<std::string> r = {"left of", "right of", "in front of", "behind", "above", "below"};
  return r;
}

// Relations that the boxes (or the depths) of two objects show, which every relation family
// reasons from. Visual Genome's graphs also hold possessive and action predicates ("window of
// building", "man wearing hat", "has") that no box decides: they are never asked.
bool spatial_relation(const std::string& relation) {
  static const std::set<std::string> spatial = {"left of", "right of", "in front of", "behind", "above",  "below",
                                                "on",      "on top of", "under",      "beneath", "next to", "beside",
                                                "near",    "in",        "inside"};
  return spatial.count(relation) > 0;
}

// Spatial relations between two distinct objects whose labels occur once in the scene (so "the
// ball" names one object), leaving out those that need depth when `with_depth` is false.
std::vector<SceneRelation> relations_between_singles(const SceneAnnotation& a, bool with_depth) {
  std::set<size_t> singles;
  for (size_t i : unique_objects(a)) singles.insert(i);
  std::vector<SceneRelation> out;
  for (const auto& r : a.relations)
    if (singles.count(static_cast<size_t>(r.head)) && singles.count(static_cast<size_t>(r.tail)) && r.head != r.tail &&
        spatial_relation(r.relation) && (with_depth || !depth_relation(r.relation)))
      out.push_back(r);
  return out;
}

// "Is the cone in front of the tree?" from the scene graph, asked as stated (yes) or with head
// and tail swapped (no) for the spatial relations where that makes it false.
std::optional<GeneratedExample> relation_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  std::vector<SceneRelation> usable = relations_between_singles(a, true);
  if (usable.empty()) return std::nullopt;
  const SceneRelation r = choose(usable, rng);
  const bool swap = antisymmetric_relations().count(r.relation) && std::uniform_int_distribution<int>(0, 1)(rng) == 0;
  const size_t head = static_cast<size_t>(swap ? r.tail : r.head), tail = static_cast<size_t>(swap ? r.head : r.tail);
  const std::string &lh = a.objects[head].label, &lt = a.objects[tail].label;
  const std::string answer = swap ? "no" : "yes";
  b.metadata()["relation"] = r.relation;
  b.metadata()["labels"] = {lh, lt};
  b.ask("Is the " + lh + " " + r.relation + " the " + lt + "?", answer, {"yes", "no"});
  if (r.relation == "in front of" || r.relation == "behind") {
    if (a.depth_path.empty()) return std::nullopt;
    const DepthMap& depth = b.depth();
    // The depths the tools report must say the same as the scene graph.
    const auto dh = depth_of(b, head), dt = depth_of(b, tail);
    if (!clearly_ordered(dh, dt)) return std::nullopt;
    const bool head_closer = dh->reported < dt->reported;
    if (head_closer != ((r.relation == "in front of") != swap)) return std::nullopt;
    b.object_depth("I will compare how far the " + lh + " and the " + lt + " are from the camera, starting with the " + lh + ".",
                   head, depth);
    b.object_depth("Now the depth of the " + lt + ".", tail, depth);
    return b.finish("The " + (head_closer ? lh : lt) + " has the smaller depth, so it is closer; the answer is " + answer + ".");
  }
  b.localize(one_of(rng, {"I will locate the " + lh + " and the " + lt + " to check how they are placed.",
                          "Where the " + lh + " and the " + lt + " are will answer this; I locate both.",
                          "Let me find the " + lh + " and the " + lt + " and compare their boxes."}),
             {lh, lt});
  return b.finish("From the boxes in image-1, the statement that the " + lh + " is " + r.relation + " the " + lt + " is " +
                  (swap ? "false" : "true") + ", so the answer is " + answer + ".");
}

// The one color word among an object's attributes, or "" when it has none or several.
std::string single_color(const SceneObject& o) {
  std::string found;
  for (const auto& at : o.attributes)
    if (color_words().count(at)) {
      if (!found.empty()) return "";
      found = at;
    }
  return found;
}

// "Is there a red ball in the image?": the object's own color (yes) or another (no).
std::optional<GeneratedExample> attribute_exists_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  std::vector<size_t> candidates;
  for (size_t i : unique_objects(a))
    if (!single_color(a.objects[i]).empty()) candidates.push_back(i);
  if (candidates.empty()) return std::nullopt;
  const size_t i = choose(candidates, rng);
  const std::string &label = a.objects[i].label, color = single_color(a.objects[i]);
  std::string asked = color;
  if (std::uniform_int_distribution<int>(0, 1)(rng) == 0) {
    std::vector<std::string> others;
    for (const auto& w : color_words())
      if (w != color && w != "grey" && w != "gray") others.push_back(w);
    asked = choose(others, rng);
  }
  const std::string answer = asked == color ? "yes" : "no";
  b.metadata()["label"] = label;
  b.metadata()["value"] = asked;
  b.ask("Is there " + a_or_an(asked) + " " + asked + " " + label + " in the image?", answer, {"yes", "no"});
  b.localize(one_of(rng, {"I will find the " + label + " and check its color.",
                          "Let me locate the " + label + " to see what color it is.",
                          "First I need to find the " + label + "."}),
             {label});
  return b.finish("The only " + label + ", boxed in image-1, is " + color + ", so the answer is " + answer + ".");
}

// Head of a relation: "Which is left of the tree: the ball or the cone?" The other candidate
// does not stand in that relation to the anchor (for left/right/above/below: it is on the
// other side, per the scene graph).
std::optional<GeneratedExample> relation_head_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  std::vector<std::pair<SceneRelation, size_t>> candidates;  // the relation and a distractor
  for (const auto& r : relations_between_singles(a, false))
    for (size_t d : unique_objects(a)) {
      const size_t tail = static_cast<size_t>(r.tail);
      if (d == static_cast<size_t>(r.head) || d == tail || has_relation(a, d, r.relation, tail)) continue;
      if (antisymmetric_relations().count(r.relation) && !has_relation(a, tail, r.relation, d)) continue;
      candidates.emplace_back(r, d);
    }
  if (candidates.empty()) return std::nullopt;
  const auto& [r, d] = choose(candidates, rng);
  const size_t head = static_cast<size_t>(r.head), tail = static_cast<size_t>(r.tail);
  const std::string &lh = a.objects[head].label, &lt = a.objects[tail].label, &ld = a.objects[d].label;
  const bool head_first = std::uniform_int_distribution<int>(0, 1)(rng) == 0;
  const std::string x = head_first ? lh : ld, y = head_first ? ld : lh;
  b.metadata()["relation"] = r.relation;
  b.metadata()["anchor"] = lt;
  b.metadata()["labels"] = {x, y};
  b.ask("Which is " + r.relation + " the " + lt + ": the " + x + " or the " + y + "?", lh, {x, y});
  b.localize(one_of(rng, {"I will locate the " + lt + ", the " + x + " and the " + y + " to see where each one is.",
                          "Comparing the boxes of the " + x + " and the " + y + " with the " + lt + "'s will answer this.",
                          "Let me find the " + lt + " first, together with the " + x + " and the " + y + "."}),
             {lt, x, y});
  return b.finish("The boxes in image-1 show the " + lh + " " + r.relation + " the " + lt + ", and the " + ld +
                  " is not, so the answer is the " + lh + ".");
}

// Scene-graph QA: "What is the relationship between the ball and the tree?" answered with the
// scene graph's predicate, asked where the graph relates the pair in exactly one way.
std::optional<GeneratedExample> scene_graph_qa_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  std::vector<SceneRelation> usable;
  for (const auto& r : relations_between_singles(a, true)) {
    int links = 0;
    for (const auto& q : a.relations)
      links += (q.head == r.head && q.tail == r.tail) || (q.head == r.tail && q.tail == r.head);
    if (links == 1) usable.push_back(r);
  }
  if (usable.empty()) return std::nullopt;
  const SceneRelation r = choose(usable, rng);
  const size_t head = static_cast<size_t>(r.head), tail = static_cast<size_t>(r.tail);
  const std::string &lh = a.objects[head].label, &lt = a.objects[tail].label;
  static const std::map<std::string, std::string> opposite = {{"left of", "right of"}, {"right of", "left of"},
                                                              {"in front of", "behind"}, {"behind", "in front of"},
                                                              {"above", "below"},       {"below", "above"}};
  std::vector<std::string> options{r.relation};
  if (auto it = opposite.find(r.relation); it != opposite.end()) options.push_back(it->second);
  b.metadata()["labels"] = {lh, lt};
  // The example relation is the same for every question: one chosen by the answer (as it once
  // was) gives the answer away to a model that reads the question alone.
  b.ask("What is the relationship between the " + lh + " and the " + lt + "? Answer in the form \"the " + lh +
            " is ... the " + lt + "\" with the relation alone, like \"next to\".",
        r.relation, options);
  if (depth_relation(r.relation)) {
    if (a.depth_path.empty()) return std::nullopt;
    const auto dh = depth_of(b, head), dt = depth_of(b, tail);
    if (!clearly_ordered(dh, dt) || (dh->reported < dt->reported) != (r.relation == "in front of")) return std::nullopt;
    b.object_depth("How the " + lh + " and the " + lt + " are placed in depth matters; first the " + lh + ".", head, b.depth());
    b.object_depth("Now the depth of the " + lt + ".", tail, b.depth());
    return b.finish("The " + (dh->reported < dt->reported ? lh : lt) + " is closer to the camera, so the " + lh + " is " +
                    r.relation + " the " + lt + ".");
  }
  b.localize(one_of(rng, {"I will locate the " + lh + " and the " + lt + " to see how they are placed.",
                          "The boxes of the " + lh + " and the " + lt + " will show how they relate.",
                          "Let me find both objects, the " + lh + " and the " + lt + "."}),
             {lh, lt});
  return b.finish("From the boxes in image-1, the " + lh + " is " + r.relation + " the " + lt + ".");
}

// The one material word among an object's attributes, or "".
std::string single_material(const SceneObject& o) {
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
std::vector<std::pair<std::string, std::string>> attribute_phrases(const SceneAnnotation& a) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& o : a.objects)
    for (const std::string& at : {single_color(o), single_material(o)})
      if (!at.empty() && std::find(out.begin(), out.end(), std::make_pair(o.label, at)) == out.end()) out.emplace_back(o.label, at);
  return out;
}

// "How many red cones are there in the image?" (pcota's counting with attributes): LocalizeObjects
// with the attribute in the query.
std::optional<GeneratedExample> count_attribute_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  std::vector<std::pair<std::string, std::string>> usable;
  for (const auto& [label, at] : attribute_phrases(a)) {
    const int n = found_count(a, at + " " + label);
    // Worth asking where the attribute matters: some of the kind lack it.
    if (n >= 1 && n <= 6 && n < found_count(a, label)) usable.emplace_back(label, at);
  }
  if (usable.empty()) return std::nullopt;
  const auto [label, at] = choose(usable, rng);
  const std::string phrase = at + " " + label;
  const int n = found_count(a, phrase);
  b.metadata()["label"] = label;
  b.metadata()["attribute"] = at;
  std::vector<std::string> options;
  for (int d : {-1, 1, 2}) if (n + d >= 0) options.push_back(std::to_string(n + d));
  b.ask(one_of(rng, {"How many " + at + " " + plural(label) + " are there in the image?", "Count the " + at + " " + plural(label) + " in the image."}),
        std::to_string(n), options);
  b.localize(one_of(rng, {"I will locate the " + at + " " + plural(label) + " and count them.",
                          "Only the " + at + " " + plural(label) + " count, so I search for exactly those.",
                          "Let me find every " + phrase + " in the image."}),
             {phrase});
  return b.finish("LocalizeObjects found " + std::to_string(n) + " " + (n == 1 ? phrase : at + " " + plural(label)) +
                  " (image-1 boxes them), so the answer is " + std::to_string(n) + ".");
}

// "What is the green object left of the cone?" (pcota's object questions over the scene graph):
// the one object of that color standing in that relation to the anchor.
std::optional<GeneratedExample> object_query_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  struct Candidate {
    size_t head, tail;
    std::string relation, color;
  };
  std::vector<Candidate> candidates;
  for (const auto& r : a.relations) {
    const size_t head = static_cast<size_t>(r.head), tail = static_cast<size_t>(r.tail);
    if (head == tail || depth_relation(r.relation) || !antisymmetric_relations().count(r.relation)) continue;
    if (std::count_if(a.objects.begin(), a.objects.end(), [&](const SceneObject& o) { return o.label == a.objects[tail].label; }) != 1)
      continue;
    const std::string color = single_color(a.objects[head]);
    if (color.empty() || a.objects[head].label == a.objects[tail].label) continue;
    // No other object of that color stands so: the question names one object.
    bool unique = true;
    for (size_t j = 0; j < a.objects.size() && unique; ++j)
      if (j != head && single_color(a.objects[j]) == color && has_relation(a, j, r.relation, tail)) unique = false;
    if (unique) candidates.push_back({head, tail, r.relation, color});
  }
  if (candidates.empty()) return std::nullopt;
  const Candidate c = choose(candidates, rng);
  const std::string &answer = a.objects[c.head].label, &anchor = a.objects[c.tail].label;
  std::vector<std::string> labels;
  for (const auto& [label, n] : label_counts(a)) labels.push_back(label);
  b.metadata()["relation"] = c.relation;
  b.metadata()["anchor"] = anchor;
  b.metadata()["color"] = c.color;
  b.ask("What is the " + c.color + " object " + c.relation + " the " + anchor + "?", answer, labels);
  b.get_objects(one_of(rng, {"First I list the objects in the image.", "Let me see which objects there are.",
                             "I start with the kinds of objects in the image."}));
  b.localize(one_of(rng, {"Now I locate them all to see where each one is relative to the " + anchor + ".",
                          "Their boxes will show which objects are " + c.relation + " the " + anchor + ".",
                          "I find every object, with the " + anchor + " among them."}),
             labels);
  return b.finish("Of the objects " + c.relation + " the " + anchor + " in image-1, the " + c.color + " one is the " + answer + ".");
}

// "Which cone is closer to the camera, the red one or the blue one?" (pcota's chains of
// LocalizeObjects, then EstimateRegionDepth on the boxes it found).
std::optional<GeneratedExample> region_depth_family(const SceneAnnotation& a, Builder& b, Rng& rng) {
  if (a.depth_path.empty()) return std::nullopt;
  std::vector<std::pair<size_t, size_t>> pairs;  // two objects of a label told apart by color
  for (const auto& [label, n] : label_counts(a)) {
    if (n != 2) continue;
    std::vector<size_t> both;
    for (size_t i = 0; i < a.objects.size(); ++i)
      if (a.objects[i].label == label) both.push_back(i);
    const std::string c0 = single_color(a.objects[both[0]]), c1 = single_color(a.objects[both[1]]);
    if (!c0.empty() && !c1.empty() && c0 != c1) pairs.emplace_back(both[0], both[1]);
  }
  if (pairs.empty()) return std::nullopt;
  const auto [x, y] = choose(pairs, rng);
  const auto ox = depth_of(b, x), oy = depth_of(b, y);
  if (!clearly_ordered(ox, oy)) return std::nullopt;
  const std::string& label = a.objects[x].label;
  const std::string cx = single_color(a.objects[x]), cy = single_color(a.objects[y]);
  const bool closer = std::uniform_int_distribution<int>(0, 1)(rng) == 0;
  const std::string answer = (ox->reported < oy->reported) == closer ? cx : cy;
  b.metadata()["label"] = label;
  b.metadata()["relation"] = closer ? "closer" : "farther";
  b.metadata()["colors"] = {cx, cy};
  b.ask("Which " + label + " is " + (closer ? "closer to" : "farther from") + " the camera, the " + cx + " one or the " + cy + " one?",
        answer, {cx, cy});
  Json regions = b.localize(one_of(rng, {"I will find both " + plural(label) + " first.", "First I locate the two " + plural(label) + ".",
                                         "Let me get the boxes of the " + plural(label) + "."}),
                            {label});
  // The regions come in the scene's order: x first (label), y second (label-2).
  const DepthMap& depth = b.depth();
  auto box = [&](size_t k) {
    std::array<double, 4> r;
    for (size_t c = 0; c < 4; ++c) r[c] = regions[k]["bbox"][c].get<double>();
    return r;
  };
  if (regions.size() != 2) return std::nullopt;
  const std::string first = regions[0]["label"], second = regions[1]["label"];
  b.region_depth_of("The box labeled " + first + " in image-1 is the " + cx + " one; I estimate the depth of its region.", box(0), depth);
  b.region_depth_of("Now the region of the box labeled " + second + ", the " + cy + " one.", box(1), depth);
  return b.finish("The " + (ox->reported < oy->reported ? cx : cy) + " " + label + "'s region has the smaller depth, so the " + answer +
                  " one is " + (closer ? "closer." : "farther."));
}

const std::vector<std::pair<std::string, Family>>& families() {
  static const std::vector<std::pair<std::string, Family>> f = {
      {"count", count_family},       {"most_frequent", most_frequent_family}, {"least_frequent", least_frequent_family},
      {"position", position_family}, {"depth", depth_family},                 {"attribute", attribute_family},
      {"ocr_math", ocr_math_family}, {"relation", relation_family},
      // Appended, so that the families above keep their random streams.
      {"depth_anchor", depth_anchor_family}, {"attribute_exists", attribute_exists_family},
      {"relation_head", relation_head_family}, {"scene_graph_qa", scene_graph_qa_family},
      {"count_attribute", count_attribute_family}, {"object_query", object_query_family},
      {"region_depth", region_depth_family}};
  return f;
}


// Multi-image families: the question is about a group of images (image-0, image-1, ...).
using GroupFamily = std::optional<GeneratedExample> (*)(const std::vector<const SceneAnnotation*>&, Builder&, Rng&);

int count_in(const SceneAnnotation& a, const std::string& label) {
  return static_cast<int>(std::count_if(a.objects.begin(), a.objects.end(), [&](const SceneObject& o) { return o.label == label; }));
}

// Labels present in at least one image of the group, in first-seen order.
std::vector<std::string> group_labels(const std::vector<const SceneAnnotation*>& group) {
  std::vector<std::string> labels;
  for (const auto* a : group)
    for (const auto& o : a->objects)
      if (std::find(labels.begin(), labels.end(), o.label) == labels.end()) labels.push_back(o.label);
  return labels;
}

std::vector<std::string> image_names(size_t n) {
  std::vector<std::string> names;
  for (size_t k = 0; k < n; ++k) names.push_back("image-" + std::to_string(k));
  return names;
}

// "Which image contains a cone?" where exactly one does.
std::optional<GeneratedExample> select_family(const std::vector<const SceneAnnotation*>& group, Builder& b, Rng& rng) {
  std::vector<std::pair<std::string, size_t>> candidates;
  for (const auto& label : group_labels(group)) {
    std::vector<size_t> with;
    for (size_t k = 0; k < group.size(); ++k)
      if (count_in(*group[k], label) > 0) with.push_back(k);
    if (with.size() == 1) candidates.emplace_back(label, with[0]);
  }
  if (candidates.empty()) return std::nullopt;
  auto [label, k] = choose(candidates, rng);
  const std::string answer = "image-" + std::to_string(k);
  b.metadata()["label"] = label;
  b.ask("Which image contains " + a_or_an(label) + " " + label + "?", answer, image_names(group.size()));
  for (size_t i = 0; i < group.size(); ++i)
    b.localize(one_of(rng, {"I will look for " + a_or_an(label) + " " + label + " in image-" + std::to_string(i) + ".",
                            "Is there " + a_or_an(label) + " " + label + " in image-" + std::to_string(i) + "? Let me check.",
                            "Next, image-" + std::to_string(i) + ": I search it for " + a_or_an(label) + " " + label + "."}),
               {label}, i);
  return b.finish("Only " + answer + " has " + a_or_an(label) + " " + label + ".");
}

// "Which image has the most balls?" / "... the fewest balls?" (pcota's "fewest X"): a single
// answer, with at least two of them somewhere.
std::optional<GeneratedExample> select_extreme_family(const std::vector<const SceneAnnotation*>& group, Builder& b, Rng& rng,
                                                      bool most) {
  std::vector<std::pair<std::string, size_t>> candidates;
  for (const auto& label : group_labels(group)) {
    std::vector<int> n;
    for (const auto* a : group) n.push_back(count_in(*a, label));
    auto extreme = most ? std::max_element(n.begin(), n.end()) : std::min_element(n.begin(), n.end());
    if (std::count(n.begin(), n.end(), *extreme) == 1 && *std::max_element(n.begin(), n.end()) >= 2)
      candidates.emplace_back(label, extreme - n.begin());
  }
  if (candidates.empty()) return std::nullopt;
  auto [label, k] = choose(candidates, rng);
  const std::string answer = "image-" + std::to_string(k), word = most ? "most" : "fewest";
  b.metadata()["label"] = label;
  b.ask("Which image has the " + word + " " + plural(label) + "?", answer, image_names(group.size()));
  std::string counts;
  for (size_t i = 0; i < group.size(); ++i) {
    Json regions = b.localize("I will count the " + plural(label) + " in image-" + std::to_string(i) + ".", {label}, i);
    counts += (i == 0 ? "" : ", ") + std::to_string(regions.size()) + " in image-" + std::to_string(i);
  }
  return b.finish("There are " + counts + ", so " + answer + " has the " + word + ".");
}
std::optional<GeneratedExample> select_most_family(const std::vector<const SceneAnnotation*>& group, Builder& b, Rng& rng) {
  return select_extreme_family(group, b, rng, true);
}
std::optional<GeneratedExample> select_fewest_family(const std::vector<const SceneAnnotation*>& group, Builder& b, Rng& rng) {
  return select_extreme_family(group, b, rng, false);
}

// LocalizeObjects for `query` on every image of the group, then Calculate adding the counts;
// returns the sum. `what` names the objects in the thoughts ("cups", "red cups").
Json count_over_images(Builder& b, size_t images, const std::string& query, const std::string& what) {
  std::string expression;
  for (size_t i = 0; i < images; ++i) {
    Json regions = b.localize("I will count the " + what + " in image-" + std::to_string(i) + ".", {query}, i);
    expression += (i == 0 ? "" : " + ") + std::to_string(regions.size());
  }
  return b.calculate("Now I add up the counts of the images.", expression);
}

// "How many cups are there in these images altogether?"
std::optional<GeneratedExample> aggregate_family(const std::vector<const SceneAnnotation*>& group, Builder& b, Rng& rng) {
  std::vector<std::string> candidates;
  for (const auto& label : group_labels(group)) {
    int total = 0, images_with = 0;
    for (const auto* a : group) total += count_in(*a, label), images_with += count_in(*a, label) > 0;
    if (images_with >= 2 && total <= 10) candidates.push_back(label);
  }
  if (candidates.empty()) return std::nullopt;
  const std::string label = choose(candidates, rng);
  int total = 0;
  for (const auto* a : group) total += count_in(*a, label);
  b.metadata()["label"] = label;
  b.ask("How many " + plural(label) + " are there in these images altogether?", std::to_string(total),
        {std::to_string(total - 1), std::to_string(total + 1), std::to_string(total + 2)});
  Json sum = count_over_images(b, group.size(), label, plural(label));
  return b.finish("Altogether there are " + sum.dump() + " " + plural(label) + ".");
}

// Aggregate: "Which kind of object is in every one of these images?" where exactly one is.
std::optional<GeneratedExample> common_family(const std::vector<const SceneAnnotation*>& group, Builder& b, Rng&) {
  std::vector<std::string> common, others;
  for (const auto& label : group_labels(group)) {
    bool everywhere = std::all_of(group.begin(), group.end(), [&](const SceneAnnotation* a) { return count_in(*a, label) > 0; });
    (everywhere ? common : others).push_back(label);
  }
  if (common.size() != 1) return std::nullopt;
  std::vector<std::string> options{common[0]};
  for (size_t i = 0; i < others.size() && options.size() < 4; ++i) options.push_back(others[i]);
  b.ask("Which kind of object is in every one of these images?", common[0], options);
  for (size_t k = 0; k < group.size(); ++k)
    b.get_objects("I will list the objects in image-" + std::to_string(k) + ".", k);
  return b.finish("The " + common[0] + " is the only kind of object that all " + std::to_string(group.size()) +
                  " images have.");
}

// Compare attributes: "Is the ball in image-0 the same color as the ball in image-2?"
std::optional<GeneratedExample> compare_attribute_family(const std::vector<const SceneAnnotation*>& group, Builder& b, Rng& rng) {
  struct Candidate {
    std::string label;
    size_t i, j;
  };
  std::vector<Candidate> candidates;
  for (const auto& label : group_labels(group))
    for (size_t i = 0; i < group.size(); ++i)
      for (size_t j = i + 1; j < group.size(); ++j) {
        auto color_of = [&](size_t k) -> std::string {
          if (count_in(*group[k], label) != 1) return "";
          for (const auto& o : group[k]->objects)
            if (o.label == label) return single_color(o);
          return "";
        };
        if (!color_of(i).empty() && !color_of(j).empty()) candidates.push_back({label, i, j});
      }
  if (candidates.empty()) return std::nullopt;
  const Candidate c = choose(candidates, rng);
  auto color_in = [&](size_t k) {
    for (const auto& o : group[k]->objects)
      if (o.label == c.label) return single_color(o);
    return std::string();
  };
  const std::string ci = color_in(c.i), cj = color_in(c.j);
  const std::string answer = ci == cj ? "yes" : "no";
  const std::string ni = "image-" + std::to_string(c.i), nj = "image-" + std::to_string(c.j);
  b.metadata()["label"] = c.label;
  b.metadata()["images"] = {c.i, c.j};
  b.ask("Is the " + c.label + " in " + ni + " the same color as the " + c.label + " in " + nj + "?", answer, {"yes", "no"});
  b.localize("I will find the " + c.label + " in " + ni + ".", {c.label}, c.i);
  b.localize("Now the " + c.label + " in " + nj + ".", {c.label}, c.j);
  return b.finish("The " + c.label + " in " + ni + " is " + ci + " and the one in " + nj + " is " + cj + ", so the answer is " +
                  answer + ".");
}

// Compare relations: "In which image is the ball left of the tree?" The relation holds in
// exactly one image; in the others an object is missing or (for left/right/above/below) the
// scene graph places them the other way round.
std::optional<GeneratedExample> compare_relation_family(const std::vector<const SceneAnnotation*>& group, Builder& b, Rng& rng) {
  struct Candidate {
    std::string head, relation, tail;
    size_t image;
  };
  auto single = [](const SceneAnnotation& a, const std::string& label) -> std::optional<size_t> {
    std::optional<size_t> found;
    for (size_t i = 0; i < a.objects.size(); ++i)
      if (a.objects[i].label == label) {
        if (found) return std::nullopt;
        found = i;
      }
    return found;
  };
  std::vector<Candidate> candidates;
  for (size_t k = 0; k < group.size(); ++k)
    for (const auto& r : relations_between_singles(*group[k], false)) {
      Candidate c{group[k]->objects[static_cast<size_t>(r.head)].label, r.relation,
                  group[k]->objects[static_cast<size_t>(r.tail)].label, k};
      bool only_here = true;
      for (size_t m = 0; m < group.size() && only_here; ++m) {
        if (m == k) continue;
        const SceneAnnotation& other = *group[m];
        if (count_in(other, c.head) == 0 || count_in(other, c.tail) == 0) continue;
        auto h = single(other, c.head), t = single(other, c.tail);
        only_here = h && t && !has_relation(other, *h, c.relation, *t) &&
                    (!antisymmetric_relations().count(c.relation) || has_relation(other, *t, c.relation, *h));
      }
      if (only_here) candidates.push_back(c);
    }
  if (candidates.empty()) return std::nullopt;
  const Candidate c = choose(candidates, rng);
  const std::string answer = "image-" + std::to_string(c.image);
  b.metadata()["labels"] = {c.head, c.tail};
  b.metadata()["relation"] = c.relation;
  b.ask("In which image is the " + c.head + " " + c.relation + " the " + c.tail + "?", answer, image_names(group.size()));
  for (size_t k = 0; k < group.size(); ++k)
    b.localize("I will locate the " + c.head + " and the " + c.tail + " in image-" + std::to_string(k) + ".", {c.head, c.tail}, k);
  return b.finish("Only in " + answer + " is the " + c.head + " " + c.relation + " the " + c.tail + ".");
}

// "How many red cones are there in these images altogether?"
std::optional<GeneratedExample> aggregate_attribute_family(const std::vector<const SceneAnnotation*>& group, Builder& b, Rng& rng) {
  std::vector<std::pair<std::string, std::string>> candidates;
  for (const auto* a : group)
    for (const auto& p : attribute_phrases(*a)) {
      if (std::find(candidates.begin(), candidates.end(), p) != candidates.end()) continue;
      int total = 0, images_with = 0, of_kind = 0;
      for (const auto* g : group) {
        const int n = found_count(*g, p.second + " " + p.first);
        total += n, images_with += n > 0, of_kind += count_in(*g, p.first);
      }
      if (images_with >= 2 && total <= 10 && total < of_kind) candidates.push_back(p);
    }
  if (candidates.empty()) return std::nullopt;
  const auto [label, at] = choose(candidates, rng);
  const std::string phrase = at + " " + label;
  int total = 0;
  for (const auto* g : group) total += found_count(*g, phrase);
  b.metadata()["label"] = label;
  b.metadata()["attribute"] = at;
  b.ask("How many " + at + " " + plural(label) + " are there in these images altogether?", std::to_string(total),
        {std::to_string(total - 1), std::to_string(total + 1), std::to_string(total + 2)});
  Json sum = count_over_images(b, group.size(), phrase, at + " " + plural(label));
  return b.finish("Altogether there are " + sum.dump() + " " + at + " " + plural(label) + ".");
}

// "Which image has a red cone?" where exactly one does (pcota's "which image has a red X").
std::optional<GeneratedExample> select_attribute_family(const std::vector<const SceneAnnotation*>& group, Builder& b, Rng& rng) {
  std::vector<std::tuple<std::string, std::string, size_t>> candidates;
  for (const auto* a : group)
    for (const auto& [label, at] : attribute_phrases(*a)) {
      std::vector<size_t> with, of_kind;
      for (size_t k = 0; k < group.size(); ++k) {
        if (found_count(*group[k], at + " " + label) > 0) with.push_back(k);
        if (count_in(*group[k], label) > 0) of_kind.push_back(k);
      }
      // Exactly one image has it, and another has the kind in another look: the attribute decides.
      auto c = std::make_tuple(label, at, with.empty() ? 0 : with[0]);
      if (with.size() == 1 && of_kind.size() >= 2 && std::find(candidates.begin(), candidates.end(), c) == candidates.end())
        candidates.push_back(c);
    }
  if (candidates.empty()) return std::nullopt;
  const auto [label, at, k] = choose(candidates, rng);
  const std::string phrase = at + " " + label, answer = "image-" + std::to_string(k);
  b.metadata()["label"] = label;
  b.metadata()["attribute"] = at;
  b.ask("Which image has " + a_or_an(at) + " " + phrase + "?", answer, image_names(group.size()));
  for (size_t i = 0; i < group.size(); ++i)
    b.localize("I will look for " + a_or_an(at) + " " + phrase + " in image-" + std::to_string(i) + ".", {phrase}, i);
  return b.finish("Only " + answer + " has " + a_or_an(at) + " " + phrase + ".");
}

// Two-image families: image-0 and image-1.

// "In image-0 the ball is left of the tree. Where is the ball relative to the tree in image-1?"
// (pcota's how a relation differs between images): the side, from the scene graph, in each.
std::optional<GeneratedExample> pair_relation_change_family(const std::vector<const SceneAnnotation*>& pair, Builder& b, Rng& rng) {
  static const std::vector<std::string> sides = {"left of", "right of", "above", "below"};
  // The one side relation the graph gives between the only head and the only tail of an image.
  auto side_in = [&](const SceneAnnotation& a, const std::string& head, const std::string& tail) -> std::string {
    std::optional<size_t> h, t;
    for (size_t i = 0; i < a.objects.size(); ++i) {
      if (a.objects[i].label == head) h = h ? std::optional<size_t>(SIZE_MAX) : i;
      if (a.objects[i].label == tail) t = t ? std::optional<size_t>(SIZE_MAX) : i;
    }
    if (!h || !t || *h == SIZE_MAX || *t == SIZE_MAX) return "";
    std::string found;
    for (const auto& s : sides)
      if (has_relation(a, *h, s, *t)) {
        if (!found.empty()) return "";
        found = s;
      }
    return found;
  };
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> candidates;  // head, tail, side 0, side 1
  for (const auto& r : pair[0]->relations) {
    const std::string &head = pair[0]->objects[static_cast<size_t>(r.head)].label, &tail = pair[0]->objects[static_cast<size_t>(r.tail)].label;
    if (head == tail) continue;
    const std::string s0 = side_in(*pair[0], head, tail), s1 = side_in(*pair[1], head, tail);
    if (!s0.empty() && !s1.empty()) candidates.emplace_back(head, tail, s0, s1);
  }
  if (candidates.empty()) return std::nullopt;
  const auto [head, tail, s0, s1] = choose(candidates, rng);
  b.metadata()["labels"] = {head, tail};
  b.metadata()["relation"] = s0;
  b.ask("In image-0 the " + head + " is " + s0 + " the " + tail + ". Where is the " + head + " relative to the " + tail +
            " in image-1? Answer with left of, right of, above or below.",
        s1, sides);
  b.localize("I will locate the " + head + " and the " + tail + " in image-1.", {head, tail}, 1);
  return b.finish(std::string("In image-1 the boxes put the ") + head + " " + s1 + " the " + tail +
                  (s0 == s1 ? ", as in image-0." : ", where it was " + s0 + " it in image-0."));
}

// "What differs between the cone in image-0 and the cone in image-1: its color, its material,
// both or neither?" (pcota's open attribute differences).
std::optional<GeneratedExample> pair_attribute_diff_family(const std::vector<const SceneAnnotation*>& pair, Builder& b, Rng& rng) {
  auto only = [](const SceneAnnotation& a, const std::string& label) -> const SceneObject* {
    const SceneObject* found = nullptr;
    for (const auto& o : a.objects)
      if (o.label == label) {
        if (found) return nullptr;
        found = &o;
      }
    return found;
  };
  std::vector<std::string> candidates;
  for (const auto& label : group_labels(pair)) {
    const SceneObject *x = only(*pair[0], label), *y = only(*pair[1], label);
    if (x && y && !single_color(*x).empty() && !single_color(*y).empty() && !single_material(*x).empty() && !single_material(*y).empty())
      candidates.push_back(label);
  }
  if (candidates.empty()) return std::nullopt;
  const std::string label = choose(candidates, rng);
  const SceneObject &x = *only(*pair[0], label), &y = *only(*pair[1], label);
  const bool color = single_color(x) != single_color(y), material = single_material(x) != single_material(y);
  const std::string answer = color && material ? "both" : color ? "color" : material ? "material" : "neither";
  b.metadata()["label"] = label;
  b.ask("What differs between the " + label + " in image-0 and the " + label +
            " in image-1: their color, their material, both or neither?",
        answer, {"color", "material", "both", "neither"});
  b.localize("I will find the " + label + " in image-0 to look at it.", {label}, 0);
  b.localize("Now the " + label + " in image-1.", {label}, 1);
  return b.finish("The " + label + " in image-0 is " + single_color(x) + " " + single_material(x) + " and the one in image-1 is " +
                  single_color(y) + " " + single_material(y) + ", so " +
                  (answer == "both" ? "both differ." : answer == "neither" ? "neither differs." : "only the " + answer + " differs."));
}

const std::vector<std::pair<std::string, GroupFamily>>& pair_families() {
  static const std::vector<std::pair<std::string, GroupFamily>> f = {
      {"pair_relation_change", pair_relation_change_family}, {"pair_attribute_diff", pair_attribute_diff_family}};
  return f;
}

const std::vector<std::pair<std::string, GroupFamily>>& group_families() {
  static const std::vector<std::pair<std::string, GroupFamily>> f = {
      {"multi_select", select_family},   {"multi_most", select_most_family},
      {"multi_count", aggregate_family}, {"multi_common", common_family},
      {"multi_attribute", compare_attribute_family}, {"multi_relation", compare_relation_family},
      {"multi_count_attribute", aggregate_attribute_family}, {"multi_select_attribute", select_attribute_family},
      {"multi_fewest", select_fewest_family}};
  return f;
}

bool wanted(const GenOptions& o, const std::string& name) {
  return o.families.empty() || std::find(o.families.begin(), o.families.end(), name) != o.families.end();
}

void check_families(const GenOptions& o) {
  for (const auto& f : o.families)
    if (std::find(generator_families().begin(), generator_families().end(), f) == generator_families().end())
      throw Error("unknown generator family '" + f + "'");
}

Rng family_rng(const GenOptions& o, uint64_t unit, uint64_t family_index) {
  std::seed_seq seq{static_cast<uint32_t>(o.seed), static_cast<uint32_t>(o.seed >> 32), static_cast<uint32_t>(unit),
                    static_cast<uint32_t>(unit >> 32), static_cast<uint32_t>(family_index)};
  return Rng(seq);
}

// One family on one scene or group: `attempt` runs it on the given inputs with a copy of the
// family's random stream.
using Attempt = std::function<std::optional<GeneratedExample>(const std::vector<const SceneAnnotation*>&, LazyDepth&,
                                                              const GenOptions&, Rng)>;

// Without noise, the family on the true scene. With noise, the question and answer of the true
// scene and the chain of the perceived one, when the perceived scene leads the same stream to
// the same question and the same answer; otherwise the true example marked !chain_kept, since
// a chain whose tools mislead it teaches a wrong answer, or with misled_chains_from_truth the
// true example's own chain. Tool images are drawn only for a kept chain, so a rejected one
// leaves no files behind.
std::optional<GeneratedExample> through_noise(const Attempt& attempt, const std::vector<const SceneAnnotation*>& truth,
                                              LazyDepth& true_depth, const std::vector<const SceneAnnotation*>& seen,
                                              LazyDepth& seen_depth, const GenOptions& options, const Rng& rng) {
  if (options.noise.none()) return attempt(truth, true_depth, options, rng);
  GenOptions undrawn = options;
  undrawn.images_dir.clear();
  auto right = attempt(truth, true_depth, undrawn, rng);
  if (!right) return std::nullopt;
  auto chain = attempt(seen, seen_depth, undrawn, rng);
  if (!chain || chain->cota.task.question != right->cota.task.question || chain->cota.answer != right->cota.answer) {
    if (!options.misled_chains_from_truth) {
      right->chain_kept = false;
      return right;
    }
    if (!options.images_dir.empty()) right = attempt(truth, true_depth, options, rng);
    right->chain_from_truth = true;
    right->cota.task.metadata["oracle_noise"] = "none";
    return right;
  }
  if (!options.images_dir.empty()) chain = attempt(seen, seen_depth, options, rng);
  chain->cota.task.metadata["oracle_noise"] = options.noise.to_string();
  return chain;
}

}  // namespace

const std::vector<std::string>& generator_families() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& [name, fn] : families()) n.push_back(name);
    for (const auto& [name, fn] : group_families()) n.push_back(name);
    for (const auto& [name, fn] : pair_families()) n.push_back(name);
    return n;
  }();
  return names;
}

Image SceneImageCache::get(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = images_.find(path); it != images_.end()) return it->second;
  }
  Image image = Image::load(path);  // decoded outside the lock; a rare double decode is harmless
  std::lock_guard<std::mutex> lock(mu_);
  return images_.emplace(path, std::move(image)).first->second;
}

std::vector<GeneratedExample> generate_for_scene(const SceneAnnotation& scene, size_t scene_index, const GenOptions& options,
                                                 const PromptTemplate& prompts, SceneImageCache* cache) {
  check_families(options);
  std::vector<LazyImage> images{LazyImage(scene.image_path, cache)};
  const SceneAnnotation seen = perceive(scene, options.noise);
  LazyDepth true_depth(scene, OracleNoise{}), seen_depth(seen, options.noise);
  std::vector<GeneratedExample> out;
  uint64_t family_index = 0;
  for (const auto& [name, fn] : families()) {
    ++family_index;
    if (!wanted(options, name)) continue;
    Attempt attempt = [&, name = name, fn = fn](const std::vector<const SceneAnnotation*>& scenes, LazyDepth& depth,
                                                const GenOptions& o, Rng rng) {
      Builder builder(scenes, scene, images, depth, name, o, prompts, rng);
      return fn(*scenes[0], builder, rng);
    };
    if (auto ex = through_noise(attempt, {&scene}, true_depth, {&seen}, seen_depth, options,
                                family_rng(options, scene_index, family_index)))
      out.push_back(std::move(*ex));
  }
  return out;
}

std::vector<SceneGroup> scene_groups_starting_at(size_t first, size_t scene_count) {
  constexpr size_t kGroupSize = 3;  // images per multi-image question
  std::vector<SceneGroup> groups;
  for (const size_t size : {kGroupSize, size_t{2}})
    if (first % kGroupSize == (size == kGroupSize ? 0u : 1u) && first + size <= scene_count)
      groups.push_back({first, size, first / kGroupSize});
  return groups;
}

std::vector<GeneratedExample> generate_for_group(const std::vector<const SceneAnnotation*>& group, size_t group_index,
                                                 const GenOptions& options, const PromptTemplate& prompts,
                                                 SceneImageCache* cache) {
  check_families(options);
  if (group.size() < 2) return {};
  std::vector<LazyImage> images;
  std::vector<SceneAnnotation> seen_scenes;
  for (const auto* a : group) {
    images.emplace_back(a->image_path, cache);
    seen_scenes.push_back(perceive(*a, options.noise));
  }
  std::vector<const SceneAnnotation*> seen;
  for (const auto& a : seen_scenes) seen.push_back(&a);
  LazyDepth true_depth(*group[0], OracleNoise{}), seen_depth(*seen[0], options.noise);
  std::vector<GeneratedExample> out;
  // Streams apart from the single-image families' (and the pairs' from the triples').
  uint64_t family_index = group.size() == 2 ? 200 : 100;
  for (const auto& [name, fn] : group.size() == 2 ? pair_families() : group_families()) {
    ++family_index;
    if (!wanted(options, name)) continue;
    Attempt attempt = [&, name = name, fn = fn](const std::vector<const SceneAnnotation*>& scenes, LazyDepth& depth,
                                                const GenOptions& o, Rng rng) {
      Builder builder(scenes, *group[0], images, depth, name, o, prompts, rng);
      return fn(scenes, builder, rng);
    };
    if (auto ex = through_noise(attempt, group, true_depth, seen, seen_depth, options,
                                family_rng(options, group_index, family_index)))
      out.push_back(std::move(*ex));
  }
  return out;
}

}  // namespace taco
