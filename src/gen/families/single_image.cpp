// Single-image question families: counting, frequency, position, depth, attributes, OCR
// arithmetic, relations, scene-graph questions, region depth.
#include "gen/families/builder.h"

namespace taco::gen {
namespace {

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

}  // namespace

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

}  // namespace taco::gen
