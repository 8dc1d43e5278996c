#include "cota/annotation.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>

#include "util/error.h"
#include "util/files.h"
#include "util/json.h"

namespace taco {

namespace {

// Trimmed, lower case, runs of white space as one space; "grey" as "gray".
std::string normalized(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out == "grey" ? "gray" : out;
}

// One record of the file; throws Error naming the image and the field.
SceneAnnotation read_scene(const std::string& path, const std::string& base, const std::string& id, const Json& rec,
                           AnnotationProblems& seen) {
  auto fail = [&](const std::string& what) { return Error(path + ": image " + id + ": " + what); };
  if (!rec.is_object()) throw fail("record must be an object");
  SceneAnnotation a;
  a.id = id;
  if (!rec.contains("data_path") || !rec["data_path"].is_string()) throw fail("missing \"data_path\"");
  a.image_path = resolve_path(base, rec["data_path"].get<std::string>());
  a.source = rec.value("source", "");
  if (!rec.contains("annotation") || !rec["annotation"].is_object()) throw fail("missing \"annotation\"");
  const Json& ann = rec["annotation"];
  // pcota's files write them as floats (640.0) too.
  auto whole = [](const Json& v) { return v.is_number() && v.get<double>() == std::floor(v.get<double>()) && v.get<double>() < 1e9; };
  if (!ann.contains("width") || !whole(ann["width"]) || !ann.contains("height") || !whole(ann["height"]))
    throw fail("\"width\" and \"height\" must be whole numbers");
  a.width = static_cast<int>(ann["width"].get<double>());
  a.height = static_cast<int>(ann["height"].get<double>());
  if (a.width <= 0 || a.height <= 0) throw fail("\"width\" and \"height\" must be positive");
  const Json& boxes = ann.value("bboxes", Json::array());
  const Json& labels = ann.value("labels", Json::array());
  if (!boxes.is_array() || !labels.is_array() || boxes.size() != labels.size())
    throw fail("\"bboxes\" and \"labels\" must be lists of the same length");
  const Json attributes = ann.value("attributes", Json::array());
  const Json texts = ann.value("texts", Json::array());
  if (!texts.empty() && texts.size() != boxes.size()) throw fail("\"texts\" must have one string per box");
  const Json depth_values = ann.value("depth_values", Json::array());
  if (!depth_values.empty() && depth_values.size() != boxes.size()) throw fail("\"depth_values\" must have one number per box");
  // taco's pixel counts: absent, or one whole number (0 or more) per box.
  auto pixel_counts = [&](const char* key) {
    const Json counts = ann.value(key, Json::array());
    if (!counts.is_array() || (!counts.empty() && counts.size() != boxes.size()))
      throw fail("\"" + std::string(key) + "\" must have one count per box");
    std::vector<std::optional<int64_t>> out(boxes.size());
    for (size_t i = 0; i < counts.size(); ++i) {
      if (!counts[i].is_number_integer() || counts[i].get<int64_t>() < 0)
        throw fail(std::string(key) + " " + std::to_string(i) + " must be a whole number of pixels, 0 or more");
      out[i] = counts[i].get<int64_t>();
    }
    return out;
  };
  const auto visible_pixels = pixel_counts("visible_pixels"), object_pixels = pixel_counts("object_pixels");
  const Json scores = ann.value("det_scores", Json::array());
  if (!attributes.empty() && attributes.size() != boxes.size()) throw fail("\"attributes\" must have one list per box");
  if (!scores.empty() && scores.size() != boxes.size()) throw fail("\"det_scores\" must have one score per box");
  for (size_t i = 0; i < boxes.size(); ++i) {
    SceneObject o;
    const Json& b = boxes[i];
    if (!b.is_array() || b.size() != 4) throw fail("box " + std::to_string(i) + " must be [x1, y1, x2, y2]");
    for (size_t k = 0; k < 4; ++k) {
      if (!b[k].is_number()) throw fail("box " + std::to_string(i) + " must hold numbers");
      o.box[k] = b[k].get<double>();
    }
    if (o.box[2] < o.box[0] || o.box[3] < o.box[1]) {
      if (o.box[2] < o.box[0]) std::swap(o.box[0], o.box[2]);
      if (o.box[3] < o.box[1]) std::swap(o.box[1], o.box[3]);
      if (seen.boxes_fixed++ == 0 && seen.first.size() < 5)
        seen.first.push_back(path + ": image " + id + ": box " + std::to_string(i) + " has x2 < x1 or y2 < y1; its corners were swapped");
    }
    if (!labels[i].is_string()) throw fail("label " + std::to_string(i) + " must be a string");
    o.label = normalized(labels[i].get<std::string>());
    if (!attributes.empty()) {
      if (!attributes[i].is_array()) throw fail("attributes " + std::to_string(i) + " must be a list of strings");
      for (const auto& at : attributes[i])
        if (at.is_string())
          if (std::string v = normalized(at.get<std::string>());
              !v.empty() && std::find(o.attributes.begin(), o.attributes.end(), v) == o.attributes.end())
            o.attributes.push_back(std::move(v));
    }
    if (!scores.empty() && scores[i].is_number()) o.score = scores[i].get<double>();
    if (!texts.empty() && texts[i].is_string()) o.text = texts[i].get<std::string>();
    if (!depth_values.empty() && depth_values[i].is_number()) o.depth_value = depth_values[i].get<double>();
    o.visible_pixels = visible_pixels[i];
    o.object_pixels = object_pixels[i];
    a.objects.push_back(std::move(o));
  }
  for (const auto& r : ann.value("relations", Json::array())) {
    if (!r.is_array() || r.size() != 3 || !r[0].is_number_integer() || !r[1].is_string() || !r[2].is_number_integer())
      throw fail("relations must be [head_index, \"relation\", tail_index]");
    SceneRelation rel{r[0].get<int>(), normalized(r[1].get<std::string>()), r[2].get<int>()};
    int n = static_cast<int>(a.objects.size());
    if (rel.head < 0 || rel.head >= n || rel.tail < 0 || rel.tail >= n)
      throw fail("relation " + r.dump() + " names a box that does not exist");
    a.relations.push_back(rel);
  }
  if (ann.contains("caption") && ann["caption"].is_string()) a.caption = ann["caption"].get<std::string>();
  auto mask_id = [&](const char* key) -> std::string {
    if (!ann.contains(key) || ann[key].is_null()) return "";
    return ann[key].is_string() ? ann[key].get<std::string>() : ann[key].dump();
  };
  // pcota reads depth/<depth_mask_id>, the id being a file name ("123.npy"); a bare id
  // ("123") is taken to mean the same file.
  auto npy = [](std::string id) { return id.size() > 4 && id.compare(id.size() - 4, 4, ".npy") == 0 ? id : id + ".npy"; };
  if (auto d = mask_id("depth_mask_id"); !d.empty()) a.depth_path = resolve_path(base, "depth/" + npy(d));
  if (auto s = mask_id("seg_mask_id"); !s.empty()) a.segment_path = resolve_path(base, "segment/" + npy(s));
  return a;
}

}  // namespace

std::vector<SceneAnnotation> load_scene_annotations(const std::string& path, AnnotationProblems* problems) {
  Json root = read_json_file(path);
  if (!root.is_object()) throw Error(path + ": expected an object keyed by image id");
  const std::string base = parent_dir(path);
  std::vector<SceneAnnotation> out;
  AnnotationProblems seen;
  std::optional<Error> first_error;
  for (const auto& [id, rec] : root.items()) {
    try {
      out.push_back(read_scene(path, base, id, rec, seen));
    } catch (const Error& e) {
      if (!first_error) first_error = e;
      ++seen.scenes_skipped;
      if (seen.first.size() < 5) seen.first.push_back(std::string(e.what()) + "; skipped");
    }
  }
  if (out.empty() && first_error) throw *first_error;
  if (problems) *problems = std::move(seen);
  return out;
}

}  // namespace taco

namespace taco {

Json scene_annotation_to_json(const SceneAnnotation& a, const std::string& data_path) {
  Json boxes = Json::array(), labels = Json::array(), attributes = Json::array(), texts = Json::array(),
       depth_values = Json::array(), visible_pixels = Json::array(), object_pixels = Json::array();
  bool any_text = false, all_depths = !a.objects.empty(), all_visible = !a.objects.empty(), all_sizes = !a.objects.empty();
  for (const auto& o : a.objects) {
    boxes.push_back({o.box[0], o.box[1], o.box[2], o.box[3]});
    labels.push_back(o.label);
    attributes.push_back(o.attributes);
    texts.push_back(o.text);
    any_text = any_text || !o.text.empty();
    all_depths = all_depths && o.depth_value.has_value();
    all_visible = all_visible && o.visible_pixels.has_value();
    all_sizes = all_sizes && o.object_pixels.has_value();
    visible_pixels.push_back(o.visible_pixels ? Json(*o.visible_pixels) : Json());
    object_pixels.push_back(o.object_pixels ? Json(*o.object_pixels) : Json());
    if (!o.depth_value) depth_values.push_back(Json());
    else if (*o.depth_value == std::floor(*o.depth_value) && std::fabs(*o.depth_value) < 1e15) depth_values.push_back(static_cast<int64_t>(*o.depth_value));
    else depth_values.push_back(*o.depth_value);
  }
  Json relations = Json::array();
  for (const auto& r : a.relations) relations.push_back({r.head, r.relation, r.tail});
  Json ann{{"width", a.width}, {"height", a.height}, {"bboxes", boxes}, {"labels", labels},
           {"attributes", attributes}, {"relations", relations}};
  if (any_text) ann["texts"] = texts;
  if (all_depths) ann["depth_values"] = depth_values;
  if (all_visible) ann["visible_pixels"] = visible_pixels;
  if (all_sizes) ann["object_pixels"] = object_pixels;
  if (!a.caption.empty()) ann["caption"] = a.caption;
  if (!a.depth_path.empty()) ann["depth_mask_id"] = a.id + ".npy";
  return Json{{"data_path", data_path}, {"annotation", ann}, {"source", a.source}};
}

}  // namespace taco
