// How well a vision backend sees, against a world's exact annotations: detection AP at IoU 0.5
// per category and per object width, attribute accuracy, recall and false boxes per image at
// the detector's threshold; depth's pairwise ordering of objects (EstimateRegionDepth's mean
// over each true box) and its relative error. The same tallies measure the learned models
// (during training and through the tools) and the oracle's simulated noise. Plain values.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cota/annotation.h"
#include "tools/vision_backend.h"
#include "util/json.h"

namespace taco {

class DetectionTally {
 public:
  // `found`: every object the detector reports for the image (boxes in its pixels, label,
  // attributes, score), at any score; `threshold`: the score a tool reports a box from.
  void add(const SceneAnnotation& truth, const std::vector<SceneObject>& found, double threshold);
  // {"ap50": mean over categories, "ap50_per_category": {...}, "ap50_per_width": {"<20px": ...},
  //  "recall": ..., "false_boxes_per_image": ..., "attributes": {"color": ..., "material": ...,
  //  "size": ...}, "images": N, "objects": M}
  Json report() const;
  double mean_ap50() const;
  // Missed objects plus false boxes per image at the threshold: how often a count goes wrong.
  double wrong_per_image() const;

 private:
  struct Scored {
    double score;
    bool right;
    int width_bucket;  // of the true box it matched, else of its own box
  };
  std::map<std::string, std::vector<Scored>> found_;        // per category
  std::map<std::string, std::vector<int>> truths_;          // per category: width bucket of each true box
  size_t images_ = 0, found_at_threshold_ = 0, right_at_threshold_ = 0, false_at_threshold_ = 0, objects_ = 0;
  std::map<std::string, std::pair<size_t, size_t>> attributes_;  // kind -> (right, compared)
};

class DepthTally {
 public:
  // `truth`: the true map in the tools' convention (smaller is closer), `got`: the backend's map.
  void add(const SceneAnnotation& scene, const DepthMap& truth, const DepthMap& got);
  // {"pair_order": share of object pairs ordered right by region means on the true boxes,
  //  "pair_order_truth_map": the same on the true map (the perfect oracle), "relative_error":
  //  mean |got - truth| / mean truth, "images": N, "pairs": P}
  Json report() const;

 private:
  size_t images_ = 0, pairs_ = 0, right_ = 0, right_truth_ = 0;
  double abs_error_ = 0, truth_sum_ = 0;
  size_t pixels_ = 0;
};

// The width buckets the detector's AP is reported in (pixels of the image).
const std::vector<std::string>& width_bucket_names();

}  // namespace taco
