#include "eval/vision_metrics.h"

#include <algorithm>
#include <cmath>

#include "synth/world.h"
#include "tools/vision.h"

namespace taco {
namespace {

int width_bucket(const std::array<double, 4>& box) {
  const double w = box[2] - box[0];
  return w < 20 ? 0 : w < 40 ? 1 : w < 80 ? 2 : 3;
}

// The object's attribute of a kind: the first that `names` lists ("" for none), or for sizes
// "medium" when it has neither "small" nor "large".
std::string attribute_of(const SceneObject& o, const std::string& kind) {
  if (kind == "size") {
    for (const auto& a : o.attributes)
      if (a == "small" || a == "large") return a;
    return "medium";
  }
  const auto& names = kind == "color" ? synth_colors() : synth_materials();
  for (const auto& a : o.attributes)
    if (std::find(names.begin(), names.end(), a) != names.end()) return a;
  return "";
}

// VOC's all-point average precision of scored detections against `truths` true boxes.
double average_precision(std::vector<std::pair<double, bool>> scored, size_t truths) {
  if (truths == 0) return -1;
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<double> precision, recall;
  size_t tp = 0;
  for (size_t i = 0; i < scored.size(); ++i) {
    tp += scored[i].second;
    precision.push_back(static_cast<double>(tp) / static_cast<double>(i + 1));
    recall.push_back(static_cast<double>(tp) / static_cast<double>(truths));
  }
  for (size_t i = precision.size(); i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
  double ap = 0, last_recall = 0;
  for (size_t i = 0; i < precision.size(); ++i) {
    ap += (recall[i] - last_recall) * precision[i];
    last_recall = recall[i];
  }
  return ap;
}

double share(size_t part, size_t whole) { return whole == 0 ? 0 : std::round(1e4 * static_cast<double>(part) / static_cast<double>(whole)) / 1e4; }

double rounded(double v) { return std::round(v * 1e4) / 1e4; }

}  // namespace

const std::vector<std::string>& width_bucket_names() {
  static const std::vector<std::string> names = {"under 20 px", "20-40 px", "40-80 px", "80 px and wider"};
  return names;
}

void DetectionTally::add(const SceneAnnotation& truth, const std::vector<SceneObject>& found, double threshold) {
  ++images_;
  objects_ += truth.objects.size();
  std::vector<bool> taken(truth.objects.size(), false);
  for (const auto& o : truth.objects) truths_[o.label].push_back(width_bucket(o.box));
  std::vector<size_t> order(found.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return found[a].score.value_or(0) > found[b].score.value_or(0); });
  for (size_t i : order) {
    const SceneObject& f = found[i];
    long best = -1;
    double best_iou = 0.5;
    for (size_t t = 0; t < truth.objects.size(); ++t) {
      if (taken[t] || truth.objects[t].label != f.label) continue;
      const double v = box_iou(f.box, truth.objects[t].box);
      if (v >= best_iou) best_iou = v, best = static_cast<long>(t);
    }
    const double score = f.score.value_or(0);
    found_[f.label].push_back({score, best >= 0, best >= 0 ? width_bucket(truth.objects[static_cast<size_t>(best)].box) : width_bucket(f.box)});
    if (best >= 0) taken[static_cast<size_t>(best)] = true;
    if (score < threshold) continue;
    ++found_at_threshold_;
    if (best < 0) {
      ++false_at_threshold_;
      continue;
    }
    ++right_at_threshold_;
    for (const char* kind : {"color", "material", "size"}) {
      const std::string want = attribute_of(truth.objects[static_cast<size_t>(best)], kind);
      if (want.empty()) continue;
      auto& [right, compared] = attributes_[kind];
      ++compared;
      right += attribute_of(f, kind) == want;
    }
  }
}

double DetectionTally::mean_ap50() const {
  double sum = 0;
  size_t n = 0;
  for (const auto& [label, truths] : truths_) {
    std::vector<std::pair<double, bool>> scored;
    if (auto it = found_.find(label); it != found_.end())
      for (const auto& s : it->second) scored.emplace_back(s.score, s.right);
    sum += average_precision(scored, truths.size());
    ++n;
  }
  return n == 0 ? 0 : sum / static_cast<double>(n);
}

double DetectionTally::wrong_per_image() const {
  if (images_ == 0) return 0;
  return static_cast<double>(objects_ - right_at_threshold_ + false_at_threshold_) / static_cast<double>(images_);
}

Json DetectionTally::report() const {
  Json per_category = Json::object(), per_width = Json::object(), attributes = Json::object();
  for (const auto& [label, truths] : truths_) {
    std::vector<std::pair<double, bool>> scored;
    if (auto it = found_.find(label); it != found_.end())
      for (const auto& s : it->second) scored.emplace_back(s.score, s.right);
    per_category[label] = rounded(average_precision(scored, truths.size()));
  }
  for (int bucket = 0; bucket < static_cast<int>(width_bucket_names().size()); ++bucket) {
    double sum = 0;
    size_t n = 0, objects = 0;
    for (const auto& [label, truths] : truths_) {
      const size_t in_bucket = static_cast<size_t>(std::count(truths.begin(), truths.end(), bucket));
      if (in_bucket == 0) continue;
      objects += in_bucket;
      std::vector<std::pair<double, bool>> scored;
      if (auto it = found_.find(label); it != found_.end())
        for (const auto& s : it->second)
          if (s.width_bucket == bucket) scored.emplace_back(s.score, s.right);
      sum += average_precision(scored, in_bucket);
      ++n;
    }
    per_width[width_bucket_names()[static_cast<size_t>(bucket)]] = Json{{"ap50", n ? rounded(sum / static_cast<double>(n)) : 0.0}, {"objects", objects}};
  }
  for (const auto& [kind, counts] : attributes_) attributes[kind] = share(counts.first, counts.second);
  return Json{{"ap50", rounded(mean_ap50())},
              {"ap50_per_category", per_category},
              {"ap50_per_width", per_width},
              {"recall", share(right_at_threshold_, objects_)},
              {"false_boxes_per_image", images_ ? rounded(static_cast<double>(false_at_threshold_) / static_cast<double>(images_)) : 0.0},
              {"attributes", attributes},
              {"images", images_},
              {"objects", objects_}};
}

void DepthTally::add(const SceneAnnotation& scene, const DepthMap& truth, const DepthMap& got) {
  ++images_;
  std::vector<double> mean_got, mean_truth;
  for (const auto& o : scene.objects) {
    const std::array<double, 4> box = {o.box[0] / scene.width, o.box[1] / scene.height, o.box[2] / scene.width, o.box[3] / scene.height};
    mean_got.push_back(region_depth(got, box, "mean"));
    mean_truth.push_back(region_depth(truth, box, "mean"));
  }
  for (size_t i = 0; i < scene.objects.size(); ++i)
    for (size_t j = i + 1; j < scene.objects.size(); ++j) {
      const auto& a = scene.objects[i].depth_value;
      const auto& b = scene.objects[j].depth_value;
      if (!a || !b || *a == *b) continue;
      const bool i_closer = *a > *b;  // inverse depth: larger is closer
      ++pairs_;
      right_ += (mean_got[i] < mean_got[j]) == i_closer;
      right_truth_ += (mean_truth[i] < mean_truth[j]) == i_closer;
    }
  for (int y = 0; y < truth.height; y += 4)
    for (int x = 0; x < truth.width; x += 4) {
      const int gx = std::min(got.width - 1, x * got.width / truth.width), gy = std::min(got.height - 1, y * got.height / truth.height);
      abs_error_ += std::fabs(static_cast<double>(got.at(gx, gy)) - truth.at(x, y));
      truth_sum_ += truth.at(x, y);
      ++pixels_;
    }
}

Json DepthTally::report() const {
  return Json{{"pair_order", share(right_, pairs_)},
              {"pair_order_truth_map", share(right_truth_, pairs_)},
              {"relative_error", truth_sum_ > 0 ? rounded(abs_error_ / truth_sum_) : 0.0},
              {"images", images_},
              {"pairs", pairs_}};
}

}  // namespace taco
