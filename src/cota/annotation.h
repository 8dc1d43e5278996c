// SceneAnnotation: dense annotations of one image in the Visual-Genome-style layout that the
// public programmatic CoTA generator reads (scene-graph-annotations.json):
//
//   {"<id>": {"data_path": "images/1.jpg", "source": "vg",
//             "annotation": {"width": 640, "height": 480,
//                            "bboxes": [[x1, y1, x2, y2], ...],   pixels
//                            "labels": ["dog", ...],
//                            "attributes": [["brown", "small"], ...],
//                            "relations": [[0, "next to", 1], ...],
//                            "det_scores": [0.93, ...], "caption": "...",
//                            "texts": ["17", "", ...],             taco's addition: text printed on each object
//                            "depth_values": [5230, ...],          taco's addition: each object's value in its
//                                                                  depth map (the synthetic world's objects are flat)
//                            "visible_pixels": [412, 0, ...],      taco's addition: how many of each object's pixels
//                                                                  show in the picture (the synthetic world's)
//                            "object_pixels": [412, 530, ...],     taco's addition: how many it would show with
//                                                                  nothing in front of it
//                            "depth_mask_id": "1.npy", "seg_mask_id": "1.npy"}}}
//
// depth/<depth_mask_id> is an H x W .npy map (Depth-Anything: relative inverse depth, larger is
// closer); segment/<seg_mask_id> is n_objects x H x W bool, in box order. Plain values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/json.h"

namespace taco {

struct SceneObject {
  std::array<double, 4> box{};  // pixels: x1, y1, x2, y2
  std::string label;
  std::vector<std::string> attributes;
  std::optional<double> score;
  std::string text;  // text printed on the object ("" for none)
  // The value the scene's depth map (.npy) holds at the object's pixels, where the object has
  // one depth (the synthetic world's); the truth for depth questions when there are no masks.
  std::optional<double> depth_value;
  // How many of the object's pixels the picture shows, where the annotations record it (the
  // synthetic world's, whose nearer objects can hide farther ones); the segment masks say it
  // for a scene that has them (gen/visibility.h decides what can be seen).
  std::optional<int64_t> visible_pixels;
  // How many pixels the object would show with nothing in front of it (the synthetic world's),
  // which tells a small object from a hidden one.
  std::optional<int64_t> object_pixels;
  // The object's place among the file's boxes: its segment mask's index, which stays the same
  // when objects that cannot be seen are left out of a scene (unset: its place in `objects`).
  std::optional<size_t> mask_index;
};

struct SceneRelation {
  int head = 0;
  std::string relation;
  int tail = 0;
};

struct SceneAnnotation {
  std::string id;
  std::string image_path;  // data_path resolved against the annotation file's folder
  std::string source;
  int width = 0;
  int height = 0;
  std::vector<SceneObject> objects;
  std::vector<SceneRelation> relations;
  std::string caption;
  std::string depth_path;    // "" when there is no depth map
  std::string segment_path;  // "" when there are no masks
};

// What loading let pass or left out, for the user to hear about.
struct AnnotationProblems {
  size_t scenes_skipped = 0;        // records that could not be read
  size_t boxes_fixed = 0;           // boxes given as [x2, y2, x1, y1] (x2 < x1 or y2 < y1): corners swapped
  std::vector<std::string> first;   // the first few problems, each naming the file and the image
};

// Loads and validates a scene-graph-annotations.json. A record that cannot be read is skipped
// and counted in `problems` (when given); a file with no readable record throws Error naming
// the record and the field. Read as pcota reads it: width and height may be written as floats,
// a box's corners may come swapped (fixed and counted). Labels, attributes and relations are
// normalized as Visual Genome needs: trimmed, lower case, single spaces, "grey" as "gray".
std::vector<SceneAnnotation> load_scene_annotations(const std::string& path, AnnotationProblems* problems = nullptr);

// One record of that file, {"data_path", "annotation", "source"}, with `data_path` as given;
// the depth map, when there is one, is named by the record's id.
Json scene_annotation_to_json(const SceneAnnotation& a, const std::string& data_path);

}  // namespace taco
