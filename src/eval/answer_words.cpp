#include "eval/answer_words.h"

#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace taco {
namespace {

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string join_words(const std::vector<std::string>& words, size_t from = 0, size_t to = std::string::npos) {
  std::string out;
  for (size_t i = from; i < words.size() && i < to; ++i) out += (out.empty() ? "" : " ") + words[i];
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

const std::map<std::string, int>& small_numbers() {
  static const std::map<std::string, int> m = {
      {"zero", 0},     {"none", 0},      {"one", 1},        {"two", 2},       {"three", 3},    {"four", 4},     {"five", 5},
      {"six", 6},      {"seven", 7},     {"eight", 8},      {"nine", 9},      {"ten", 10},     {"eleven", 11},  {"twelve", 12},
      {"thirteen", 13}, {"fourteen", 14}, {"fifteen", 15},  {"sixteen", 16},  {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19},
      {"twenty", 20},  {"thirty", 30},   {"forty", 40},     {"fifty", 50},    {"sixty", 60},   {"seventy", 70}, {"eighty", 80},
      {"ninety", 90}};
  return m;
}

const std::map<std::string, double>& scales() {
  static const std::map<std::string, double> m = {{"thousand", 1e3}, {"million", 1e6}, {"billion", 1e9}, {"trillion", 1e12}};
  return m;
}

bool is_small_number(const std::string& w) { return small_numbers().count(w) > 0; }

}  // namespace

std::string ascii_math(const std::string& text) {
  static const std::vector<std::pair<std::string, std::string>> map = {
      {"\xe2\x88\x92", "-"},   // U+2212 minus
      {"\xe2\x80\x93", "-"},   // en dash
      {"\xe2\x80\x94", " - "},  // em dash: a break, not a sign
      {"\xc2\xa0", " "},       // no-break space
      {"\xe2\x80\x89", " "},   // thin space
      {"\xe2\x80\xaf", " "},   // narrow no-break space
      {"\xc2\xbd", " 1/2"},    {"\xc2\xbc", " 1/4"}, {"\xc2\xbe", " 3/4"}, {"\xe2\x85\x93", " 1/3"}, {"\xe2\x85\x94", " 2/3"},
      {"\xe2\x85\x9b", " 1/8"}, {"\xc3\x97", "x"},  // multiplication sign
  };
  std::string out = text;
  for (const auto& [from, to] : map)
    for (size_t at = out.find(from); at != std::string::npos; at = out.find(from, at + to.size())) out.replace(at, from.size(), to);
  return out;
}

std::optional<double> number_from_words(const std::vector<std::string>& words, size_t first, size_t& used) {
  size_t i = first;
  double sign = 1;
  if (i < words.size() && (words[i] == "minus" || words[i] == "negative")) {
    sign = -1;
    ++i;
  }
  double total = 0, group = 0;
  bool any = false, pending_one = false;
  int last_small = -1;  // the previous word's value when it was a small number word
  auto next_is = [&](size_t k, std::initializer_list<const char*> options) {
    if (k >= words.size()) return false;
    for (const char* o : options)
      if (words[k] == o) return true;
    return false;
  };
  while (i < words.size()) {
    const std::string& w = words[i];
    if (auto it = small_numbers().find(w); it != small_numbers().end()) {
      // "twenty one" is one number; "seven eight" and "twenty thirty" are two.
      if (last_small >= 0 && !(last_small >= 20 && last_small % 10 == 0 && it->second > 0 && it->second < 10)) break;
      if (any && last_small < 0 && std::fmod(group, 100) != 0) break;
      group += it->second;
      any = true;
      last_small = it->second;
      ++i;
      continue;
    }
    last_small = -1;
    if ((w == "a" || w == "an") && next_is(i + 1, {"hundred", "thousand", "million", "billion", "dozen", "half", "quarter"})) {
      pending_one = true;
      ++i;
    } else if (w == "hundred" && (any || pending_one)) {
      group = (group > 0 ? group : 1) * 100;
      any = true, pending_one = false;
      ++i;
    } else if (auto s = scales().find(w); s != scales().end() && (any || pending_one)) {
      total += (group > 0 ? group : 1) * s->second;
      group = 0;
      any = true, pending_one = false;
      ++i;
    } else if (w == "dozen" && (any || pending_one)) {
      group = (group > 0 ? group : 1) * 12;
      any = true, pending_one = false;
      ++i;
    } else if ((w == "half" || w == "quarter") && (any || pending_one || i == first)) {
      const double part = w == "half" ? 0.5 : 0.25;
      if (w == "half" && next_is(i + 1, {"dozen"})) {  // "a half dozen"
        group = (group > 0 ? group : 1) * 6;
        i += 2;
      } else {
        group = (group > 0 ? group : 1) * part;  // "one half", "a quarter", "half"
        ++i;
      }
      any = true, pending_one = false;
    } else if (w == "and" && any && next_is(i + 1, {"a", "one"}) && next_is(i + 2, {"half", "quarter"})) {
      group += words[i + 2] == "half" ? 0.5 : 0.25;  // "one and a half"
      i += 3;
    } else if (w == "and" && any && total > 0 && i + 1 < words.size() && is_small_number(words[i + 1])) {
      ++i;  // "two thousand and five"
    } else if (w == "point" && any && i + 1 < words.size() && is_small_number(words[i + 1])) {
      double scale = 0.1;
      ++i;
      while (i < words.size() && is_small_number(words[i]) && small_numbers().at(words[i]) < 10) {
        group += scale * small_numbers().at(words[i]);
        scale /= 10;
        ++i;
      }
    } else {
      break;
    }
  }
  if (!any) return std::nullopt;
  used = i - first;
  return sign * (total + group);
}

std::string casual_yes_no(const std::string& normalized) {
  const std::vector<std::string> w = split_words(normalized);
  if (w.empty()) return "";
  const std::string two = w.size() >= 2 ? w[0] + " " + w[1] : "";
  const std::string three = w.size() >= 3 ? two + " " + w[2] : "";
  static const std::set<std::string> no_phrases = {"absolutely not", "definitely not", "certainly not", "of course not",
                                                   "not at all", "surely not", "no way", "not really"};
  if (no_phrases.count(two) || no_phrases.count(three)) return "no";
  static const std::set<std::string> yes_phrases = {"of course", "it is", "there is", "there are", "that's right", "that is right",
                                                    "that's correct", "that is correct", "it does", "they are", "he is", "she is"};
  static const std::set<std::string> yes_words = {"yes", "yeah", "yep", "yup", "yea", "sure", "definitely", "absolutely",
                                                  "certainly", "indeed", "correct", "affirmative", "aye"};
  static const std::set<std::string> no_words = {"no", "nope", "nah", "never", "negative", "nay"};
  if (yes_words.count(w[0])) return "yes";
  if (no_words.count(w[0])) return "no";
  if (two == "of course") return "yes";
  // A short reply without yes or no: "It is not.", "There is none.", "I don't think so.",
  // "That's correct.", "It is."
  if (w.size() <= 6) {
    bool negation = false;
    for (const auto& word : w)
      negation = negation || word == "not" || word == "none" || word == "no" || word == "never" ||
                 (word.size() > 3 && word.compare(word.size() - 3, 3, "n't") == 0);
    if (negation) return "no";
    if (yes_phrases.count(two) || yes_phrases.count(three) || (w.size() >= 2 && w[w.size() - 1] == "correct")) return "yes";
  }
  return "";
}

bool is_refusal(const std::string& normalized) {
  static const std::vector<std::string> phrases = {
      "cannot determine", "can't determine", "cannot tell", "can't tell", "cannot be determined", "unable to", "not sure",
      "not possible to", "impossible to", "hard to say", "hard to tell", "difficult to determine", "unclear", "not clear",
      "i don't know", "no way to know", "cannot answer", "can't answer", "not enough information", "cannot see", "can't see",
      "none of the above", "none of these", "none of them", "none of the options", "none of the choices"};
  for (const auto& p : phrases)
    if ((" " + normalized + " ").find(" " + p + " ") != std::string::npos || starts_with(normalized, p)) return true;
  return false;
}

namespace {

std::string singular(const std::string& w) {
  static const std::map<std::string, std::string> irregular = {
      {"people", "person"}, {"men", "man"},     {"women", "woman"}, {"children", "child"}, {"mice", "mouse"},
      {"feet", "foot"},     {"teeth", "tooth"}, {"geese", "goose"}, {"knives", "knife"},   {"leaves", "leaf"},
      {"shelves", "shelf"}, {"loaves", "loaf"}, {"wolves", "wolf"}, {"calves", "calf"},    {"halves", "half"},
      {"shoes", "shoe"},    {"toes", "toe"},    {"canoes", "canoe"}, {"horses", "horse"},  {"houses", "house"},
      {"glasses", "glass"}, {"buses", "bus"},   {"vases", "vase"},  {"cases", "case"},     {"bases", "base"},
      {"oranges", "orange"}, {"sponges", "sponge"}, {"bridges", "bridge"}, {"pages", "page"}, {"cages", "cage"},
      {"plates", "plate"}, {"apples", "apple"}};
  if (auto it = irregular.find(w); it != irregular.end()) return it->second;
  const size_t n = w.size();
  auto ends = [&](const char* e) { return n > std::char_traits<char>::length(e) && w.compare(n - std::char_traits<char>::length(e), std::string::npos, e) == 0; };
  if (n <= 3) return w;  // "yes", "bus", "gas"
  if (ends("ss") || ends("us") || ends("is") || ends("ous")) return w;  // "glass", "cactus", "tennis", "famous"
  if (ends("ies") && n > 4) return w.substr(0, n - 3) + "y";  // "berries"
  if (ends("xes") || ends("ches") || ends("shes") || ends("sses") || ends("oes") || ends("zes")) return w.substr(0, n - 2);
  if (ends("s")) return w.substr(0, n - 1);
  return w;
}

const std::map<std::string, std::string>& spellings() {
  static const std::map<std::string, std::string> m = {
      {"grey", "gray"},         {"colour", "color"},     {"coloured", "colored"}, {"racquet", "racket"},
      {"aeroplane", "airplane"}, {"tyre", "tire"},       {"theatre", "theater"},  {"centre", "center"},
      {"metre", "meter"},       {"doughnut", "donut"},   {"jewellery", "jewelry"}, {"aluminium", "aluminum"},
      {"favourite", "favorite"}, {"wooden", "wood"},     {"woolen", "wool"},      {"woollen", "wool"},
      {"metallic", "metal"},    {"tiled", "tile"},       {"carpeted", "carpet"},    {"neighbour", "neighbor"}, {"harbour", "harbor"}, {"kerb", "curb"},
      {"moustache", "mustache"}, {"pyjamas", "pajamas"}, {"tv", "television"}};
  return m;
}

}  // namespace

std::string canonical_words(const std::string& normalized) {
  std::string out;
  for (std::string w : split_words(normalized)) {
    if (auto it = spellings().find(w); it != spellings().end()) w = it->second;
    w = singular(w);
    if (auto it = spellings().find(w); it != spellings().end()) w = it->second;
    out += (out.empty() ? "" : " ") + w;
  }
  return out;
}

std::string without_carrier(const std::string& normalized) {
  std::string s = normalized;
  static const std::vector<std::string> openings = {
      "i think it is ", "i think it's ", "i think ", "i believe ", "i would say ", "i'd say ", "i see ", "i can see ",
      "it looks like ", "it appears to be ", "it seems to be ", "looks like ", "it is ", "it's ", "its ", "they are ",
      "they're ", "this is ", "that is ", "that's ", "these are ", "those are ", "there is ", "there are ", "there's ",
      "answer is ", "answer ", "it is made of ", "made of ", "they are made of "};
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& o : openings)
      if (starts_with(s, o) && s.size() > o.size()) {
        s = s.substr(o.size());
        changed = true;
      }
  }
  // "<a few words> is|are X": the subject of the question said back ("the car is gray").
  std::vector<std::string> w = split_words(s);
  if (w.size() <= 9)
    for (size_t i = 1; i < w.size() && i <= 4; ++i)
      if ((w[i] == "is" || w[i] == "are") && i + 1 < w.size()) {
        w.erase(w.begin(), w.begin() + static_cast<long>(i) + 1);
        if (!w.empty() && w[0] == "made" && w.size() > 2 && w[1] == "of") w.erase(w.begin(), w.begin() + 2);
        break;
      }
  // "yellow in color", "yellow colored", "yellow color".
  for (const char* tail : {"in color", "colored", "color"}) {
    const std::vector<std::string> t = split_words(tail);
    if (w.size() > t.size() && std::equal(t.begin(), t.end(), w.end() - static_cast<long>(t.size())))
      w.erase(w.end() - static_cast<long>(t.size()), w.end());
  }
  return join_words(w);
}

std::vector<WordClass> word_classes(const std::string& w) {
  // Each class lists meanings; synonyms share a meaning ("couch" = "sofa"). A word two meanings
  // could claim (marble: a stone; kitten: a cat) is left out, so that the rules stay undecided
  // about it rather than wrong.
  static const std::multimap<std::string, WordClass> words = [] {
    std::multimap<std::string, WordClass> m;
    auto add = [&](const std::string& cls, std::initializer_list<std::initializer_list<const char*>> meanings) {
      for (const auto& synonyms : meanings) {
        const std::string meaning = *synonyms.begin();
        for (const char* s : synonyms) m.emplace(s, WordClass{cls, meaning});
      }
    };
    add("color", {{"red"}, {"orange"}, {"yellow"}, {"green"}, {"blue"}, {"purple", "violet"}, {"pink"}, {"brown"}, {"black"},
                  {"white"}, {"gray"}, {"silver"}, {"gold"}, {"beige"}, {"tan"}});
    add("material", {{"wood"}, {"metal"}, {"glass"}, {"plastic"}, {"rubber"}, {"paper"}, {"cardboard"}, {"leather"}, {"stone"}, {"marble"}, {"tile"}, {"carpet"},
                     {"fabric", "cloth"}, {"concrete"}, {"brick"}, {"wool"}, {"cotton"}});
    add("animal", {{"cat"}, {"dog"}, {"horse"}, {"cow"}, {"sheep"}, {"bird"}, {"rabbit", "bunny"}, {"bear"}, {"zebra"},
                   {"giraffe"}, {"elephant"}, {"mouse"}, {"donkey"}, {"camel"}, {"goat"}, {"pig"}, {"duck"}, {"chicken"},
                   {"fish"}, {"lion"}, {"tiger"}, {"monkey"}, {"squirrel"}, {"deer"}});
    add("vehicle", {{"car", "automobile"}, {"bus"}, {"truck", "lorry"}, {"bicycle", "bike"}, {"motorcycle", "motorbike"},
                    {"train"}, {"boat"}, {"airplane", "plane", "jet"}, {"van"}, {"taxi", "cab"}, {"scooter"}, {"tractor"},
                    {"skateboard"}, {"helicopter"}});
    add("fruit", {{"apple"}, {"orange"}, {"banana"}, {"lemon"}, {"lime"}, {"peach"}, {"plum"}, {"grape"}, {"pear"},
                  {"strawberry"}, {"cherry"}, {"watermelon"}, {"pineapple"}, {"mango"}});
    add("furniture", {{"sofa", "couch"}, {"chair"}, {"table"}, {"bed"}, {"desk"}, {"bench"}, {"shelf", "bookshelf"},
                      {"cabinet", "cupboard"}, {"stool"}});
    add("thing", {{"kite"}, {"balloon"}, {"frisbee"}, {"ball"}, {"umbrella"}, {"racket"}, {"bat"}, {"book"},
                  {"phone", "cellphone", "smartphone"}, {"cup", "mug"}, {"bottle"}, {"clock"}, {"painting"}, {"mirror"},
                  {"window"}, {"calendar"}, {"poster"}, {"lamp"}, {"laptop"}, {"television"}, {"keyboard"}, {"bag"},
                  {"hat", "cap"}, {"glove"}, {"pizza"}, {"sandwich"}, {"cake"}, {"salad"}, {"donut"}, {"floor"}, {"rug", "carpet"},
                  {"grass"}, {"sign"}, {"box"}, {"vase"}, {"flower"}, {"tree"}, {"fence"}, {"door"}});
    add("weather", {{"sunny"}, {"rainy"}, {"snowy"}, {"foggy"}, {"cloudy", "overcast"}, {"windy"}});
    add("direction", {{"left"}, {"right"}, {"up"}, {"down"}, {"top"}, {"bottom"}, {"front"}, {"behind", "back"}});
    add("size", {{"small", "little", "tiny"}, {"large", "big", "huge"}, {"medium"}});
    add("shape", {{"circle", "round", "circular"}, {"square"}, {"triangle", "triangular"}, {"rectangle", "rectangular"},
                  {"octagon", "octagonal"}, {"oval"}, {"star"}, {"cone"}, {"cube"}, {"sphere"}, {"cylinder"}});
    return m;
  }();
  std::vector<WordClass> out;
  for (auto [it, end] = words.equal_range(w); it != end; ++it) out.push_back(it->second);
  return out;
}

std::vector<WordClass> class_words(const std::string& canonical_text) {
  std::vector<WordClass> out;
  const std::vector<std::string> w = split_words(canonical_text);
  for (size_t i = 0; i < w.size(); ++i) {
    const bool negated = i > 0 && (w[i - 1] == "not" || w[i - 1] == "no" || w[i - 1] == "isn't" || w[i - 1] == "aren't" ||
                                   w[i - 1] == "never" || w[i - 1] == "without");
    if (negated) continue;
    for (const WordClass& c : word_classes(w[i])) out.push_back(c);
  }
  return out;
}

}  // namespace taco
