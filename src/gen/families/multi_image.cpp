// Multi-image question families: the question is about a group of images (image-0, image-1,
// ...): select, count across, compare attributes and relations, and what changed in a pair.
#include "gen/families/builder.h"
#include "cota/image_name.h"

namespace taco::gen {
namespace {

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
  for (size_t k = 0; k < n; ++k) names.push_back(image_name(k));
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
  const std::string answer = image_name(k);
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
  const std::string answer = image_name(k), word = most ? "most" : "fewest";
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
  const std::string ni = image_name(c.i), nj = image_name(c.j);
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
  const std::string answer = image_name(c.image);
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
  const std::string phrase = at + " " + label, answer = image_name(k);
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

}  // namespace

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

}  // namespace taco::gen
