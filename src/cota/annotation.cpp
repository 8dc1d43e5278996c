#include "cota/annotation.h"

#include "util/error.h"
#include "util/files.h"
#include "util/json.h"

namespace taco {

std::vector<SceneAnnotation> load_scene_annotations(const std::string& path) {
  Json root = read_json_file(path);
  if (!root.is_object()) throw Error(path + ": expected an object keyed by image id");
  const std::string base = parent_dir(path);
  std::vector<SceneAnnotation> out;
  for (const auto& [id, rec] : root.items()) {
    auto fail = [&](const std::string& what) { return Error(path + ": image " + id + ": " + what); };
    if (!rec.is_object()) throw fail("record must be an object");
    SceneAnnotation a;
    a.id = id;
    if (!rec.contains("data_path") || !rec["data_path"].is_string()) throw fail("missing \"data_path\"");
    a.image_path = resolve_path(base, rec["data_path"].get<std::string>());
    a.source = rec.value("source", "");
    if (!rec.contains("annotation") || !rec["annotation"].is_object()) throw fail("missing \"annotation\"");
    const Json& ann = rec["annotation"];
    if (!ann.contains("width") || !ann["width"].is_number_integer() || !ann.contains("height") ||
        !ann["height"].is_number_integer())
      throw fail("\"width\" and \"height\" must be integers");
    a.width = ann["width"].get<int>();
    a.height = ann["height"].get<int>();
    if (a.width <= 0 || a.height <= 0) throw fail("\"width\" and \"height\" must be positive");
    const Json& boxes = ann.value("bboxes", Json::array());
    const Json& labels = ann.value("labels", Json::array());
    if (!boxes.is_array() || !labels.is_array() || boxes.size() != labels.size())
      throw fail("\"bboxes\" and \"labels\" must be lists of the same length");
    const Json attributes = ann.value("attributes", Json::array());
    const Json texts = ann.value("texts", Json::array());
    if (!texts.empty() && texts.size() != boxes.size()) throw fail("\"texts\" must have one string per box");
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
      if (o.box[2] < o.box[0] || o.box[3] < o.box[1]) throw fail("box " + std::to_string(i) + " has x2 < x1 or y2 < y1");
      if (!labels[i].is_string()) throw fail("label " + std::to_string(i) + " must be a string");
      o.label = labels[i].get<std::string>();
      if (!attributes.empty()) {
        if (!attributes[i].is_array()) throw fail("attributes " + std::to_string(i) + " must be a list of strings");
        for (const auto& at : attributes[i])
          if (at.is_string()) o.attributes.push_back(at.get<std::string>());
      }
      if (!scores.empty() && scores[i].is_number()) o.score = scores[i].get<double>();
      if (!texts.empty() && texts[i].is_string()) o.text = texts[i].get<std::string>();
      a.objects.push_back(std::move(o));
    }
    for (const auto& r : ann.value("relations", Json::array())) {
      if (!r.is_array() || r.size() != 3 || !r[0].is_number_integer() || !r[1].is_string() || !r[2].is_number_integer())
        throw fail("relations must be [head_index, \"relation\", tail_index]");
      SceneRelation rel{r[0].get<int>(), r[1].get<std::string>(), r[2].get<int>()};
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
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace taco

namespace taco {

Json scene_annotation_to_json(const SceneAnnotation& a, const std::string& data_path) {
  Json boxes = Json::array(), labels = Json::array(), attributes = Json::array(), texts = Json::array();
  bool any_text = false;
  for (const auto& o : a.objects) {
    boxes.push_back({o.box[0], o.box[1], o.box[2], o.box[3]});
    labels.push_back(o.label);
    attributes.push_back(o.attributes);
    texts.push_back(o.text);
    any_text = any_text || !o.text.empty();
  }
  Json relations = Json::array();
  for (const auto& r : a.relations) relations.push_back({r.head, r.relation, r.tail});
  Json ann{{"width", a.width}, {"height", a.height}, {"bboxes", boxes}, {"labels", labels},
           {"attributes", attributes}, {"relations", relations}};
  if (any_text) ann["texts"] = texts;
  if (!a.caption.empty()) ann["caption"] = a.caption;
  if (!a.depth_path.empty()) ann["depth_mask_id"] = a.id + ".npy";
  return Json{{"data_path", data_path}, {"annotation", ann}, {"source", a.source}};
}

}  // namespace taco
