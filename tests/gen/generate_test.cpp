// Programmatic generation, checked by an independent recomputation of every answer from the
// annotations (this file shares no code with the generators).
#include "gen/generate.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <cstdlib>
#include <map>
#include <numeric>
#include <set>

#include "cota/training_format.h"
#include "gen/run.h"
#include "models/model.h"
#include "runtime/episode.h"
#include "synth/world.h"
#include "test_support.h"
#include "tools/config.h"
#include "util/files.h"
#include "util/error.h"
#include "util/jsonl.h"
#include "util/npy.h"

namespace taco {
namespace {

class GenerateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    write_world(dir_->path(), 40, 21, 2);
    scenes_ = new std::vector<SceneAnnotation>(load_scene_annotations(dir_->file("scene-graph-annotations.json")));
  }
  static void TearDownTestSuite() {
    delete scenes_;
    delete dir_;
  }
  static test::TempDir* dir_;
  static std::vector<SceneAnnotation>* scenes_;
};
test::TempDir* GenerateTest::dir_ = nullptr;
std::vector<SceneAnnotation>* GenerateTest::scenes_ = nullptr;

// The scene as it can be seen, worked out here apart from gen's code: an object of which fewer
// than 64 pixels show (by the annotation's count, else by its segment mask), and not half of
// what it would show alone (the annotation's object_pixels, else its box), is left out with its
// relations, and each object that stays keeps its mask's place in the file.
SceneAnnotation as_seen(const SceneAnnotation& a) {
  std::vector<long> shown(a.objects.size(), -1);  // -1: nothing says
  if (!a.segment_path.empty()) {
    NpyArray masks = read_npy(a.segment_path);
    const size_t plane = masks.shape.at(1) * masks.shape.at(2);
    for (size_t k = 0; k < a.objects.size(); ++k)
      shown[k] = std::count_if(masks.values.begin() + static_cast<long>(k * plane), masks.values.begin() + static_cast<long>((k + 1) * plane),
                               [](float v) { return v != 0; });
  }
  for (size_t k = 0; k < a.objects.size(); ++k)
    if (a.objects[k].visible_pixels) shown[k] = static_cast<long>(*a.objects[k].visible_pixels);
  SceneAnnotation out = a;
  out.objects.clear();
  out.relations.clear();
  std::vector<int> index(a.objects.size(), -1);
  auto seen = [&](size_t k) {
    const SceneObject& o = a.objects[k];
    const double alone = o.object_pixels ? static_cast<double>(*o.object_pixels) : (o.box[2] - o.box[0]) * (o.box[3] - o.box[1]);
    return shown[k] < 0 || shown[k] >= 64 || (shown[k] > 0 && 2.0 * static_cast<double>(shown[k]) >= alone);
  };
  for (size_t k = 0; k < a.objects.size(); ++k)
    if (seen(k)) {
      index[k] = static_cast<int>(out.objects.size());
      out.objects.push_back(a.objects[k]);
      out.objects.back().mask_index = k;
    }
  for (const auto& r : a.relations)
    if (index[static_cast<size_t>(r.head)] >= 0 && index[static_cast<size_t>(r.tail)] >= 0)
      out.relations.push_back({index[static_cast<size_t>(r.head)], r.relation, index[static_cast<size_t>(r.tail)]});
  return out;
}

// The answer recomputed from the scene, from the example's family and parameters alone.
std::string recompute(const SceneAnnotation& a, const Json& m) {
  const std::string family = m["family"];
  auto count = [&](const std::string& label) {
    return static_cast<int>(std::count_if(a.objects.begin(), a.objects.end(), [&](const SceneObject& o) { return o.label == label; }));
  };
  auto only = [&](const std::string& label) -> const SceneObject& {
    for (const auto& o : a.objects)
      if (o.label == label) return o;
    throw std::runtime_error("no " + label);
  };
  if (family == "count") return std::to_string(count(m["label"]));
  if (family == "most_frequent" || family == "least_frequent") {
    std::map<std::string, int> n;
    for (const auto& o : a.objects) ++n[o.label];
    auto best = family == "most_frequent" ? std::max_element(n.begin(), n.end(), [](auto& x, auto& y) { return x.second < y.second; })
                                          : std::min_element(n.begin(), n.end(), [](auto& x, auto& y) { return x.second < y.second; });
    for (const auto& [label, c] : n)
      if (c == best->second && label != best->first) return "(tie)";
    return best->first;
  }
  if (family == "position") {
    std::string dir = m["direction"], best;
    double best_key = -1e9;
    for (const auto& label : m["labels"]) {
      const auto& o = only(label);
      double cx = (o.box[0] + o.box[2]) / 2 / a.width, cy = (o.box[1] + o.box[3]) / 2 / a.height;
      double key = dir == "leftmost" ? -cx : dir == "rightmost" ? cx : dir == "topmost" ? -cy : cy;
      if (key > best_key) best_key = key, best = label;
    }
    return best;
  }
  // Inverse depth (larger is closer): the object's own value where the annotation gives one
  // (the synthetic world's flat objects), else the mean over what shows of it: its segment mask
  // where the scene has masks, else its box.
  auto closeness = [&](const SceneObject& o) {
    if (o.depth_value) return *o.depth_value;
    NpyArray inv = read_npy(a.depth_path);
    double sum = 0;
    long n = 0;
    if (!a.segment_path.empty()) {
      NpyArray masks = read_npy(a.segment_path);
      const size_t plane = static_cast<size_t>(a.width) * a.height, k = o.mask_index.value_or(static_cast<size_t>(&o - a.objects.data()));
      for (size_t p = 0; p < plane; ++p)
        if (masks.values[k * plane + p] != 0) sum += inv.values[p], ++n;
      return sum / std::max(n, 1L);
    }
    for (int y = static_cast<int>(o.box[1]); y < static_cast<int>(o.box[3]); ++y)
      for (int x = static_cast<int>(o.box[0]); x < static_cast<int>(o.box[2]); ++x, ++n)
        sum += inv.values[static_cast<size_t>(y) * a.width + x];
    return sum / std::max(n, 1L);
  };
  auto index_of = [&](const std::string& label) {
    for (size_t i = 0; i < a.objects.size(); ++i)
      if (a.objects[i].label == label) return i;
    throw std::runtime_error("no " + label);
  };
  auto related = [&](const std::string& h, const std::string& rel, const std::string& t) {
    for (const auto& r : a.relations)
      if (static_cast<size_t>(r.head) == index_of(h) && static_cast<size_t>(r.tail) == index_of(t) && r.relation == rel) return true;
    return false;
  };
  if (family == "depth") {
    std::string x = m["labels"][0], y = m["labels"][1];
    bool x_closer = closeness(only(x)) > closeness(only(y));
    return (m["relation"] == "closer") == x_closer ? x : y;
  }
  if (family == "depth_anchor") {
    double anchor = closeness(only(m["anchor"]));
    std::vector<std::string> hits;
    for (const auto& label : m["labels"]) {
      bool nearer = closeness(only(label)) > anchor;
      if (nearer == (m["relation"] == "closer")) hits.push_back(label);
    }
    return hits.size() == 1 ? hits[0] : "(not unique)";
  }
  if (family == "attribute_exists") {
    for (const auto& o : a.objects)
      if (o.label == m["label"] && o.attributes.at(0) == m["value"]) return "yes";
    return "no";
  }
  if (family == "relation_head") {
    std::vector<std::string> hits;
    for (const auto& label : m["labels"])
      if (related(label, m["relation"], m["anchor"])) hits.push_back(label);
    return hits.size() == 1 ? hits[0] : "(not unique)";
  }
  if (family == "scene_graph_qa") {
    std::string h = m["labels"][0], t = m["labels"][1], found;
    for (const auto& r : a.relations)
      if (static_cast<size_t>(r.head) == index_of(h) && static_cast<size_t>(r.tail) == index_of(t)) {
        if (!found.empty()) return "(several)";
        found = r.relation;
      }
    return found;
  }
  if (family == "attribute") {
    const auto& attrs = only(m["label"]).attributes;
    return m["attribute"] == "color" ? attrs.at(0) : attrs.at(1);  // the synthetic world's order: color, material
  }
  if (family == "relation") return related(m["labels"][0], m["relation"], m["labels"][1]) ? "yes" : "no";
  // The synthetic world's attributes: color, then material.
  auto has_attribute = [](const SceneObject& o, const std::string& at) {
    return std::find(o.attributes.begin(), o.attributes.end(), at) != o.attributes.end();
  };
  if (family == "count_attribute") {
    int n = 0;
    for (const auto& o : a.objects) n += o.label == m["label"] && has_attribute(o, m["attribute"]);
    return std::to_string(n);
  }
  if (family == "object_query") {
    const size_t anchor = index_of(m["anchor"]);
    std::vector<std::string> hits;
    for (const auto& r : a.relations) {
      const SceneObject& head = a.objects[static_cast<size_t>(r.head)];
      if (static_cast<size_t>(r.tail) == anchor && r.relation == m["relation"] && head.attributes.at(0) == m["color"])
        hits.push_back(head.label);
    }
    return hits.size() == 1 ? hits[0] : "(not unique)";
  }
  if (family == "region_depth") {
    std::vector<const SceneObject*> two;
    for (const auto& o : a.objects)
      if (o.label == m["label"]) two.push_back(&o);
    if (two.size() != 2) return "(not two)";
    const SceneObject* nearer = closeness(*two[0]) > closeness(*two[1]) ? two[0] : two[1];
    const SceneObject* other = nearer == two[0] ? two[1] : two[0];
    return (m["relation"] == "closer" ? nearer : other)->attributes.at(0);
  }
  if (family == "ocr_math") {
    if (m["operation"] == "sum_all") {
      long total = 0;
      for (const auto& o : a.objects)
        if (!o.text.empty() && o.text.find_first_not_of("0123456789") == std::string::npos) total += std::stol(o.text);
      return std::to_string(total);
    }
    long x = std::stol(only(m["labels"][0]).text), y = std::stol(only(m["labels"][1]).text);
    if (m["operation"] == "sum") return std::to_string(x + y);
    return x > y ? m["labels"][0].get<std::string>() : m["labels"][1].get<std::string>();
  }
  return "(unknown family)";
}

TEST_F(GenerateTest, EveryAnswerIsRightAndEveryRecordValid) {
  GenOptions opts;
  opts.mc_ratio = 0.4;
  std::map<std::string, int> per_family;
  for (size_t i = 0; i < scenes_->size(); ++i) {
    const SceneAnnotation& scene = (*scenes_)[i];
    for (const auto& ex : generate_for_scene(scene, i, opts, PromptTemplate::defaults())) {
      ++per_family[ex.family];
      const Json& m = ex.cota.task.metadata;
      std::string answer = ex.cota.answer;
      if (!ex.cota.task.choices.empty()) {
        ASSERT_EQ(answer.size(), 1u);
        answer = ex.cota.task.choices.at(static_cast<size_t>(answer[0] - 'A'));
        EXPECT_EQ(answer, m["answer_text"]);
      }
      EXPECT_EQ(answer, recompute(as_seen(scene), m)) << ex.cota.task.id << " " << m.dump();
      // The chain ends in Terminate with the answer; the Direct twin is that step alone.
      EXPECT_EQ(ex.cota.steps.back().content->actions[0].name, "Terminate");
      EXPECT_EQ(ex.cota.steps.back().content->actions[0].arguments["answer"], ex.cota.answer);
      EXPECT_GE(ex.cota.steps.size(), 2u);
      EXPECT_EQ(ex.direct.steps.size(), 1u);
      EXPECT_EQ(ex.direct.answer, ex.cota.answer);
      for (const Trace* t : {&ex.cota, &ex.direct}) {
        EXPECT_EQ(check_training_record(to_llava(*t, "x")), "") << t->task.id;
        EXPECT_EQ(check_training_record(to_mantis(*t, "x", "d", "i")), "") << t->task.id;
      }
      // Oracle outputs: boxes in [0, 1] with two decimals, scores in [0.5, 1].
      for (const auto& s : ex.cota.steps)
        if (s.observation.contains("regions"))
          for (const auto& r : s.observation["regions"]) {
            EXPECT_GE(r["score"].get<double>(), 0.5);
            EXPECT_LE(r["score"].get<double>(), 1.0);
            for (const auto& c : r["bbox"]) EXPECT_DOUBLE_EQ(c.get<double>(), std::round(c.get<double>() * 100) / 100);
          }
    }
  }
  for (const char* family : {"count", "most_frequent", "position", "depth", "attribute", "relation",
                             "attribute_exists", "relation_head", "scene_graph_qa", "count_attribute", "object_query", "region_depth"})
    EXPECT_GT(per_family[family], 3) << family;
  EXPECT_GT(per_family["ocr_math"], 0);  // needs two numbers that fit on their objects: rarer
  // Needs an object clearly nearer and one clearly farther than the anchor, by their true depths
  // and by the boxes the tools average over (mostly sky for a tree): rarer too.
  EXPECT_GT(per_family["depth_anchor"], 0);
}

// --mc-names-option: a multiple-choice chain's last thought names the value and the letter it
// picks, the letter the Terminate answer gives; free-form chains and the Direct twins are as before.
TEST_F(GenerateTest, MultipleChoiceChainsNameTheirOptionWhenAsked) {
  GenOptions plain, named;
  plain.mc_ratio = named.mc_ratio = 0.5;
  named.mc_names_option = true;
  size_t choice = 0;
  for (size_t i = 0; i < scenes_->size(); ++i) {
    const auto a = generate_for_scene((*scenes_)[i], i, plain, PromptTemplate::defaults());
    const auto b = generate_for_scene((*scenes_)[i], i, named, PromptTemplate::defaults());
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      const Trace &x = a[k].cota, &y = b[k].cota;
      ASSERT_EQ(x.task.question, y.task.question);
      const std::string before = x.steps.back().content->thought, after = y.steps.back().content->thought;
      EXPECT_EQ(a[k].direct.steps.back().raw, b[k].direct.steps.back().raw);
      if (x.task.choices.empty()) {
        EXPECT_EQ(after, before) << x.task.id;
        continue;
      }
      ++choice;
      EXPECT_EQ(after, before + " The option for " + y.task.metadata["answer_text"].get<std::string>() + " is " + y.answer + ".")
          << y.task.id;
      EXPECT_EQ(y.steps.back().content->actions[0].arguments["answer"], y.answer);
    }
  }
  EXPECT_GT(choice, 10u);
  // Without multiple-choice questions the flag could change nothing: refused, naming both flags.
  auto refused = test::run_taco("gen -q --data " + dir_->file("scene-graph-annotations.json") + " --out " +
                                dir_->file("named.jsonl") + " --mc-names-option");
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.output.find("--mc-names-option needs --mc-ratio above 0"), std::string::npos) << refused.output;
}

// The multi-image answers, recomputed from the group's scenes.
std::string recompute_group(const std::vector<const SceneAnnotation*>& group, const Json& m) {
  const std::string family = m["family"];
  if (family == "multi_common") {
    std::set<std::string> common;
    for (const auto& o : group[0]->objects) common.insert(o.label);
    for (const auto* a : group) {
      std::set<std::string> here;
      for (const auto& o : a->objects)
        if (common.count(o.label)) here.insert(o.label);
      common = here;
    }
    return common.size() == 1 ? *common.begin() : "(not unique)";
  }
  if (family == "multi_relation") {
    std::vector<std::string> hits;
    for (size_t k = 0; k < group.size(); ++k) {
      const auto& objs = group[k]->objects;
      for (const auto& r : group[k]->relations)
        if (objs[static_cast<size_t>(r.head)].label == m["labels"][0] && objs[static_cast<size_t>(r.tail)].label == m["labels"][1] &&
            r.relation == m["relation"])
          hits.push_back("image-" + std::to_string(k));
    }
    return hits.size() == 1 ? hits[0] : "(not unique)";
  }
  if (family == "pair_relation_change") {
    const auto& objs = group[1]->objects;
    std::vector<std::string> sides;
    for (const auto& r : group[1]->relations)
      if (objs[static_cast<size_t>(r.head)].label == m["labels"][0] && objs[static_cast<size_t>(r.tail)].label == m["labels"][1] &&
          (r.relation == "left of" || r.relation == "right of" || r.relation == "above" || r.relation == "below"))
        sides.push_back(r.relation);
    return sides.size() == 1 ? sides[0] : "(not one side)";
  }
  const std::string label = m["label"];
  auto with = [&](const SceneAnnotation& a, const std::string& at) {
    return static_cast<int>(std::count_if(a.objects.begin(), a.objects.end(), [&](const SceneObject& o) {
      return o.label == label && std::find(o.attributes.begin(), o.attributes.end(), at) != o.attributes.end();
    }));
  };
  if (family == "multi_count_attribute") {
    int total = 0;
    for (const auto* a : group) total += with(*a, m["attribute"]);
    return std::to_string(total);
  }
  if (family == "multi_select_attribute") {
    std::vector<std::string> hits;
    for (size_t k = 0; k < group.size(); ++k)
      if (with(*group[k], m["attribute"]) > 0) hits.push_back("image-" + std::to_string(k));
    return hits.size() == 1 ? hits[0] : "(not unique)";
  }
  if (family == "pair_attribute_diff") {
    std::vector<const SceneObject*> two;
    for (const auto* a : group)
      for (const auto& o : a->objects)
        if (o.label == label) two.push_back(&o);
    if (two.size() != 2) return "(not one each)";
    const bool color = two[0]->attributes.at(0) != two[1]->attributes.at(0), material = two[0]->attributes.at(1) != two[1]->attributes.at(1);
    return color && material ? "both" : color ? "color" : material ? "material" : "neither";
  }
  if (family == "multi_attribute") {
    std::vector<std::string> colors;
    for (const auto& k : m["images"])
      for (const auto& o : group[k.get<size_t>()]->objects)
        if (o.label == label) colors.push_back(o.attributes.at(0));
    if (colors.size() != 2) return "(not one each)";
    return colors[0] == colors[1] ? "yes" : "no";
  }
  std::vector<int> n;
  for (const auto* a : group)
    n.push_back(static_cast<int>(std::count_if(a->objects.begin(), a->objects.end(), [&](const SceneObject& o) { return o.label == label; })));
  if (family == "multi_count") return std::to_string(std::accumulate(n.begin(), n.end(), 0));
  if (family == "multi_select") {
    if (std::count_if(n.begin(), n.end(), [](int c) { return c > 0; }) != 1) return "(not unique)";
    return "image-" + std::to_string(std::find_if(n.begin(), n.end(), [](int c) { return c > 0; }) - n.begin());
  }
  if (family == "multi_most") {
    auto best = std::max_element(n.begin(), n.end());
    if (std::count(n.begin(), n.end(), *best) != 1) return "(tie)";
    return "image-" + std::to_string(best - n.begin());
  }
  if (family == "multi_fewest") {
    auto fewest = std::min_element(n.begin(), n.end());
    if (std::count(n.begin(), n.end(), *fewest) != 1) return "(tie)";
    return "image-" + std::to_string(fewest - n.begin());
  }
  return "(unknown family)";
}

TEST_F(GenerateTest, MultiImageAnswersAreRight) {
  GenOptions opts;
  opts.mc_ratio = 0.3;
  std::map<std::string, int> per_family;
  for (size_t first = 0; first < scenes_->size(); ++first)
    for (const SceneGroup& g : scene_groups_starting_at(first, scenes_->size())) {
      std::vector<const SceneAnnotation*> group;
      std::vector<SceneAnnotation> seen;
      std::string image_lines;
      for (size_t k = 0; k < g.size; ++k) {
        group.push_back(&(*scenes_)[g.first + k]);
        seen.push_back(as_seen((*scenes_)[g.first + k]));
        image_lines += "image-" + std::to_string(k) + ": <image>\n";
      }
      std::vector<const SceneAnnotation*> seen_group;
      for (const auto& a : seen) seen_group.push_back(&a);
      for (const auto& ex : generate_for_group(group, g.index, opts, PromptTemplate::defaults())) {
        ++per_family[ex.family];
        std::string answer = ex.cota.task.choices.empty() ? ex.cota.answer
                                                          : ex.cota.task.choices.at(static_cast<size_t>(ex.cota.answer[0] - 'A'));
        EXPECT_EQ(answer, recompute_group(seen_group, ex.cota.task.metadata)) << ex.cota.task.id;
        EXPECT_EQ(ex.cota.task.images.size(), g.size);
        EXPECT_NE(ex.cota.user_request.find(image_lines), std::string::npos) << ex.cota.task.id;
        EXPECT_EQ(check_training_record(to_llava(ex.cota, "x")), "") << ex.cota.task.id;
        EXPECT_EQ(check_training_record(to_mantis(ex.direct, "x", "d", "i")), "") << ex.cota.task.id;
      }
    }
  for (const char* family : {"multi_select", "multi_most", "multi_count", "multi_common", "multi_attribute", "multi_relation",
                             "multi_count_attribute", "multi_select_attribute", "multi_fewest", "pair_attribute_diff"})
    EXPECT_GT(per_family[family], 0) << family;
}

TEST_F(GenerateTest, ShardsAndThreadsGiveTheSameExamples) {
  PromptTemplate prompts = PromptTemplate::defaults();
  auto run = [&](const std::string& name, int shard, int shards, int jobs) {
    GenRunOptions o;
    o.format = GenFormat::kLlava;
    o.out_path = dir_->file(name);
    o.shard = shard;
    o.shards = shards;
    o.jobs = jobs;
    run_generation(*scenes_, o, prompts);
    std::set<std::string> lines;
    for_each_jsonl(o.out_path, [&](size_t, Json&& j) { lines.insert(j.dump()); });
    return lines;
  };
  std::set<std::string> one = run("all.jsonl", 0, 1, 1);
  EXPECT_EQ(read_file(dir_->file("all.jsonl")), (run("all2.jsonl", 0, 1, 2), read_file(dir_->file("all2.jsonl"))));
  std::set<std::string> sharded = run("s0.jsonl", 0, 2, 2);
  for (auto& l : run("s1.jsonl", 1, 2, 2)) sharded.insert(l);
  EXPECT_EQ(one, sharded);
  EXPECT_GT(one.size(), 50u);
}

// Tagged images lie in 256 folders (no folder per example), each drawn once: examples that box
// the same objects in the same picture name the same file, every file a record names is there,
// and no file is one that no record names.
TEST_F(GenerateTest, TaggedImagesAreSharedAndDrawnOnce) {
  GenRunOptions o;
  o.format = GenFormat::kLlava;
  o.out_path = dir_->file("flat.jsonl");
  o.gen.images_dir = dir_->file("flat.images");
  o.jobs = 2;
  run_generation(*scenes_, o, PromptTemplate::defaults());
  std::map<std::string, int> named;  // tagged image -> records naming it
  for_each_jsonl(o.out_path, [&](size_t, Json&& r) {
    for (const auto& p : r["image"])  // the images folder was given as an absolute path: so are its files
      if (p.get<std::string>().rfind(o.gen.images_dir + "/", 0) == 0) ++named[p.get<std::string>()];
  });
  std::set<std::string> files;
  for (const auto& folder : std::filesystem::directory_iterator(o.gen.images_dir)) {
    ASSERT_TRUE(folder.is_directory()) << folder.path();
    EXPECT_EQ(folder.path().filename().string().size(), 2u) << folder.path();
    for (const auto& e : std::filesystem::directory_iterator(folder.path())) {
      EXPECT_TRUE(e.is_regular_file()) << e.path();
      EXPECT_EQ(e.path().extension(), ".jpg") << e.path();  // no temporary file is left behind
      files.insert(e.path().string());
    }
  }
  ASSERT_GT(named.size(), 50u);
  EXPECT_EQ(files.size(), named.size());
  for (const auto& [path, n] : named) EXPECT_TRUE(files.count(path)) << path;
  const auto shared = std::count_if(named.begin(), named.end(), [](const auto& kv) { return kv.second > 1; });
  EXPECT_GT(shared, 10) << "examples that box the same objects share a file";
}

// Opt-in: annotations written by an independent producer in pcota's layout, with segment
// masks: every depth answer is checked against what the masks show. Make them with
//   /usr/bin/python3 ../shared/tools/make_vg_world.py --out DIR --n 100
// and set TACO_VG_WORLD=DIR.
TEST(GenerateVgInputTest, IndependentVgStyleWorld) {
  const char* world = std::getenv("TACO_VG_WORLD");
  if (!world) GTEST_SKIP() << "set TACO_VG_WORLD to a make_vg_world.py output folder";
  auto scenes = load_scene_annotations(std::string(world) + "/scene-graph-annotations.json");
  ASSERT_FALSE(scenes.empty());
  std::map<std::string, int> per_family;
  for (size_t i = 0; i < scenes.size(); ++i)
    for (const auto& ex : generate_for_scene(scenes[i], i, GenOptions{}, PromptTemplate::defaults())) {
      ++per_family[ex.family];
      const Json& m = ex.cota.task.metadata;
      if (ex.family != "attribute" && ex.family != "attribute_exists") {  // VG attributes are not in the synthetic world's order
        EXPECT_EQ(ex.cota.answer, recompute(as_seen(scenes[i]), m)) << ex.cota.task.id;
      }
      EXPECT_EQ(check_training_record(to_llava(ex.cota, "x")), "");
    }
  for (const char* family : {"count", "position", "depth", "relation_head", "scene_graph_qa"})
    EXPECT_GT(per_family[family], 0) << family;
  for (size_t g = 0; g + 3 <= scenes.size(); g += 3) {
    std::vector<const SceneAnnotation*> group{&scenes[g], &scenes[g + 1], &scenes[g + 2]};
    const std::vector<SceneAnnotation> seen{as_seen(scenes[g]), as_seen(scenes[g + 1]), as_seen(scenes[g + 2])};
    for (const auto& ex : generate_for_group(group, g / 3, GenOptions{}, PromptTemplate::defaults())) {
      ++per_family[ex.family];
      if (ex.family != "multi_attribute") {  // VG attributes are not in the synthetic world's order
        EXPECT_EQ(ex.cota.answer, recompute_group({&seen[0], &seen[1], &seen[2]}, ex.cota.task.metadata)) << ex.cota.task.id;
      }
    }
  }
  EXPECT_GT(per_family["multi_relation"], 0);
}

// A question must not give its answer away to a model that reads only the question: with the
// scene's object labels masked, knowing the question's text must not decide the answer where
// knowing the family does not (scene_graph_qa's example relation once named the answer).
TEST_F(GenerateTest, NoQuestionTextGivesItsAnswerAway) {
  std::map<std::string, std::map<std::string, std::map<std::string, int>>> counts;  // family -> masked text -> answer -> n
  auto count = [&](const std::vector<const SceneAnnotation*>& scenes, const std::vector<GeneratedExample>& examples) {
    std::vector<std::string> labels;
    for (const auto* scene : scenes)
      for (const auto& o : scene->objects) labels.push_back(o.label);
    std::sort(labels.begin(), labels.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& ex : examples) {
      std::string text = ex.cota.task.question;
      for (const auto& label : labels)
        for (size_t at; (at = text.find(label)) != std::string::npos;) text.replace(at, label.size(), "#");
      ++counts[ex.family][text][ex.cota.answer];
    }
  };
  for (size_t i = 0; i < scenes_->size(); ++i)
    count({&(*scenes_)[i]}, generate_for_scene((*scenes_)[i], i, GenOptions{}, PromptTemplate::defaults()));
  for (size_t first = 0; first < scenes_->size(); ++first)
    for (const SceneGroup& g : scene_groups_starting_at(first, scenes_->size())) {
      std::vector<const SceneAnnotation*> group;
      for (size_t k = 0; k < g.size; ++k) group.push_back(&(*scenes_)[g.first + k]);
      count(group, generate_for_group(group, g.index, GenOptions{}, PromptTemplate::defaults()));
    }
  size_t families_checked = 0;
  for (const auto& [family, texts] : counts) {
    // Over the texts asked more than once: questions the text's most common answer gets right,
    // against those the family's most common answer gets right.
    int asked = 0, by_text = 0;
    std::map<std::string, int> by_answer;
    for (const auto& [text, answers] : texts) {
      int n = 0, most = 0;
      for (const auto& [answer, k] : answers) n += k, most = std::max(most, k);
      if (n < 2) continue;
      asked += n;
      by_text += most;
      for (const auto& [answer, k] : answers) by_answer[answer] += k;
    }
    if (asked < 10) continue;
    int by_family = 0;
    for (const auto& [answer, k] : by_answer) by_family = std::max(by_family, k);
    ++families_checked;
    EXPECT_FALSE(by_text == asked && by_family < 0.9 * asked)
        << family << ": the question's text alone gives all " << asked << " answers; the family's most common answer only "
        << by_family;
  }
  EXPECT_GE(families_checked, 5u);
}

TEST_F(GenerateTest, TrainingRecordsNameImagesFromTheirOwnFolder) {
  // Scenes read through a path relative to the working folder, records written to a subfolder.
  std::vector<SceneAnnotation> scenes(scenes_->begin(), scenes_->begin() + 2);
  for (auto& s : scenes) s.image_path = std::filesystem::relative(s.image_path).string();
  for (GenFormat format : {GenFormat::kLlava, GenFormat::kMantis}) {
    GenRunOptions o;
    o.format = format;
    o.out_path = dir_->file(format == GenFormat::kLlava ? "records/llava.jsonl" : "records/mantis.jsonl");
    run_generation(scenes, o, PromptTemplate::defaults());
    for_each_jsonl(o.out_path, [&](size_t, Json&& j) {
      for (const auto& p : j[format == GenFormat::kLlava ? "image" : "images"]) {
        const std::string path = p.get<std::string>();
        EXPECT_NE(path[0], '/') << path;
        EXPECT_TRUE(std::filesystem::exists(dir_->file("records/" + path))) << path << " is not relative to the records' folder";
      }
    });
  }
}

TEST_F(GenerateTest, TasksFormatIsTheBenchmarkInput) {
  GenRunOptions o;
  o.format = GenFormat::kTasks;
  o.out_path = dir_->file("bench.jsonl");
  o.gen.mc_ratio = 0.5;
  GenSummary s = run_generation(*scenes_, o, PromptTemplate::defaults());
  std::vector<Task> tasks = load_tasks(o.out_path);
  EXPECT_EQ(tasks.size(), s.examples);  // asked once: no Direct twins
  for (const auto& t : tasks) {
    EXPECT_TRUE(t.answer.has_value());
    EXPECT_TRUE(t.metadata.contains("family"));
    const std::string family = t.metadata["family"];
    EXPECT_EQ(t.images.size(), family.rfind("multi_", 0) == 0 ? 3u : family.rfind("pair_", 0) == 0 ? 2u : 1u) << family;
  }
}

TEST_F(GenerateTest, TaggedImagesAreDrawnForKeptExamples) {
  GenRunOptions o;
  o.format = GenFormat::kMantis;
  o.out_path = dir_->file("m.json");
  o.gen.images_dir = dir_->file("m.images");
  o.gen.families = {"count"};
  o.limit = 5;
  GenSummary s = run_generation(*scenes_, o, PromptTemplate::defaults());
  EXPECT_EQ(s.examples, 5u);
  Json all = Json::parse(read_file(o.out_path));
  ASSERT_EQ(all.size(), 10u);  // CoTA and Direct
  for (const auto& r : all) {
    EXPECT_EQ(check_training_record(r), "");
    for (const auto& path : r["images"]) EXPECT_EQ(Image::load(path).width(), 640);
    EXPECT_EQ(r["conversation"][0]["content"].get<std::string>().rfind("Answer the request", 0), 0u);
  }
  EXPECT_THROW(generate_for_scene((*scenes_)[0], 0, GenOptions{.families = {"nope"}}, PromptTemplate::defaults()), Error);
}

}  // namespace
}  // namespace taco

namespace taco {
namespace {

// One source of truth: the chains taco gen writes, replayed through the runtime with the
// oracle backend answering the vision tools, meet the very observations they were written with.
// Replays gen's chains through the oracle tools at this noise and compares every observation;
// returns the summary of the generation.
GenSummary replay_chains_through_oracle(test::TempDir& dir, const std::vector<SceneAnnotation>& scenes, const std::string& noise) {
  GenRunOptions o;
  o.format = GenFormat::kTrace;
  o.out_path = dir.file("chains-" + noise + ".jsonl");
  o.direct = false;
  o.gen.noise = OracleNoise::parse(noise);
  const GenSummary summary = run_generation(scenes, o, PromptTemplate::defaults());
  write_file(dir.file("oracle.json"),
             Json{{"vision", {{"backend", "oracle"}, {"annotations", "scene-graph-annotations.json"}, {"noise", noise}}}}.dump());
  ModelOptions mo;
  mo.model = "replay:" + o.out_path;
  auto model = make_model(mo);
  ToolsConfig config = ToolsConfig::load(dir.file("oracle.json"));
  ToolRegistry tools = make_tool_registry(config);
  Runtime runtime(*model, tools, PromptTemplate::defaults(), EpisodeOptions());
  size_t compared = 0;
  for_each_jsonl(o.out_path, [&](size_t, Json&& j) {
    rebase_trace_paths(j, trace_paths_base(j, o.out_path), "");  // the file's paths start at its folder
    Trace chain = Trace::from_json(j);
    EXPECT_EQ(chain.task.metadata.value("oracle_noise", "none"), o.gen.noise.to_string());
    Trace live = runtime.run(chain.task);
    ASSERT_EQ(live.steps.size(), chain.steps.size()) << chain.task.id;
    for (size_t i = 0; i < chain.steps.size(); ++i) {
      const std::string tool = chain.steps[i].content->actions.at(0).name;
      if (tool == "OCR" || tool == "Terminate") continue;  // Tesseract reads the picture; Terminate has no observation
      EXPECT_EQ(live.steps[i].observation.dump(), chain.steps[i].observation.dump()) << chain.task.id << " step " << i;
      ++compared;
    }
  });
  EXPECT_GT(compared, 150u) << noise;
  return summary;
}

TEST_F(GenerateTest, OracleToolsAnswerWhatTheChainsSay) {
  EXPECT_EQ(replay_chains_through_oracle(*dir_, *scenes_, "none").chains_rejected, 0u);
}

// The same noise in gen and in the oracle backend: the chains still show exactly what the tools
// answer, the chains the noise misled are left out, and the kept ones reach the true answer.
TEST_F(GenerateTest, NoisyOracleToolsAnswerWhatTheChainsSay) {
  const GenSummary s = replay_chains_through_oracle(*dir_, *scenes_, "realistic");
  EXPECT_GT(s.chains_rejected, s.examples / 20);
  EXPECT_LT(s.chains_rejected, s.examples / 2);
  GenOptions opts;
  opts.mc_ratio = 0.4;
  opts.noise = OracleNoise::parse("realistic");
  size_t kept = 0;
  for (size_t i = 0; i < scenes_->size(); ++i)
    for (const auto& ex : generate_for_scene((*scenes_)[i], i, opts, PromptTemplate::defaults())) {
      const Json& m = ex.cota.task.metadata;
      const std::string answer = ex.cota.task.choices.empty() ? ex.cota.answer : m["answer_text"].get<std::string>();
      EXPECT_EQ(answer, recompute(as_seen((*scenes_)[i]), m)) << ex.cota.task.id;
      EXPECT_EQ(ex.direct.answer, ex.cota.answer);
      kept += ex.chain_kept;
    }
  EXPECT_GT(kept, 100u);
}

// --misled-chains perfect: every question keeps a chain; a misled one is the perfect oracle's
// chain, the others are the noisy chains the drop run keeps.
TEST_F(GenerateTest, MisledChainsCanBeReplacedByThePerfectOraclesChain) {
  auto chains = [&](const std::string& noise, bool from_truth, GenSummary* summary) {
    GenRunOptions o;
    o.format = GenFormat::kTrace;
    o.out_path = dir_->file("misled-" + noise + std::to_string(from_truth) + ".jsonl");
    o.direct = false;
    o.gen.noise = OracleNoise::parse(noise);
    o.gen.misled_chains_from_truth = from_truth;
    *summary = run_generation(*scenes_, o, PromptTemplate::defaults());
    std::map<std::string, std::string> by_id;
    for_each_jsonl(o.out_path, [&](size_t, Json&& j) {
      by_id[j["task"]["id"].get<std::string>()] = j["task"]["metadata"].value("oracle_noise", "none") + j["steps"].dump();
    });
    return by_id;
  };
  GenSummary perfect_s, dropped_s, replaced_s;
  const auto perfect = chains("none", false, &perfect_s);
  const auto dropped = chains("realistic", false, &dropped_s);
  const auto replaced = chains("realistic", true, &replaced_s);
  EXPECT_GT(dropped_s.chains_rejected, 0u);
  EXPECT_EQ(replaced_s.chains_rejected, 0u);
  EXPECT_EQ(replaced_s.chains_from_truth, dropped_s.chains_rejected);
  EXPECT_EQ(replaced.size(), perfect.size());
  size_t from_truth = 0;
  for (const auto& [id, chain] : replaced) {
    if (auto kept = dropped.find(id); kept != dropped.end()) {
      EXPECT_EQ(chain, kept->second) << id;
    } else {
      EXPECT_EQ(chain, perfect.at(id)) << id;  // the same steps, marked as no noise
      EXPECT_EQ(chain.rfind("none", 0), 0u) << id;
      ++from_truth;
    }
  }
  EXPECT_EQ(from_truth, dropped_s.chains_rejected);
}

}  // namespace
}  // namespace taco

namespace taco {
namespace {

// --direct-share: every question once, in one form, the same questions at every share.
TEST_F(GenerateTest, DirectShareAsksEachQuestionOnceInOneForm) {
  auto ids_at = [&](double share, size_t* direct) {
    GenRunOptions o;
    o.format = GenFormat::kTrace;
    o.out_path = dir_->file("share.jsonl");
    o.direct_share = share;
    run_generation(*scenes_, o, PromptTemplate::defaults());
    std::set<std::string> questions;
    *direct = 0;
    for_each_jsonl(o.out_path, [&](size_t, Json&& j) {
      Trace t = Trace::from_json(j);
      const bool is_direct = t.task.metadata.value("variant", "") == "direct";
      *direct += is_direct;
      std::string id = t.task.id;
      if (is_direct) id.resize(id.size() - 7);  // "-direct"
      EXPECT_TRUE(questions.insert(id).second) << id << " asked twice";
    });
    return questions;
  };
  size_t none = 0, half = 0, all = 0;
  auto a = ids_at(0.0, &none), b = ids_at(0.5, &half), c = ids_at(1.0, &all);
  EXPECT_EQ(a, b);
  EXPECT_EQ(b, c);
  EXPECT_EQ(none, 0u);
  EXPECT_EQ(all, a.size());
  EXPECT_GT(half, a.size() / 3);
  EXPECT_LT(half, 2 * a.size() / 3);
}

}  // namespace
}  // namespace taco
