#include "curate/recipe.h"

#include <cmath>
#include <set>

#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

void check_keys(const Json& j, const std::set<std::string>& allowed, const std::string& where) {
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!allowed.count(it.key())) throw Error(where + ": unknown key '" + it.key() + "'");
}

template <typename T>
T get(const Json& j, const char* key, T fallback, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const Json::exception&) {
    throw Error(where + ": '" + key + "' has the wrong type (" + it->dump() + ")");
  }
}

}  // namespace

CurateFilters CurateFilters::from_json(const Json& j) {
  const std::string where = "recipe filters";
  if (!j.is_object()) throw Error(where + ": expected an object");
  check_keys(j, {"correct_only", "parsed", "no_failed_action", "min_steps", "max_steps", "tools_required", "tools_forbidden",
                 "min_tools", "images_present", "dedupe", "drop_action_useless", "action_useless_min_questions"},
             where);
  CurateFilters f;
  f.correct_only = get(j, "correct_only", false, where);
  f.parsed = get(j, "parsed", false, where);
  f.no_failed_action = get(j, "no_failed_action", false, where);
  f.min_steps = get<size_t>(j, "min_steps", 0, where);
  f.max_steps = get<size_t>(j, "max_steps", 0, where);
  f.tools_required = get(j, "tools_required", std::vector<std::string>{}, where);
  f.tools_forbidden = get(j, "tools_forbidden", std::vector<std::string>{}, where);
  f.min_tools = get<size_t>(j, "min_tools", 0, where);
  f.images_present = get(j, "images_present", false, where);
  f.dedupe = get(j, "dedupe", false, where);
  f.drop_action_useless = get(j, "drop_action_useless", false, where);
  f.action_useless_min_questions = get<size_t>(j, "action_useless_min_questions", f.action_useless_min_questions, where);
  return f;
}

Recipe Recipe::from_json(const Json& j, const std::string& base_dir) {
  if (!j.is_object()) throw Error("recipe: expected a JSON object");
  check_keys(j, {"seed", "target_size", "programmatic_share", "formats", "filters", "sources", "comment"}, "recipe");
  Recipe r;
  r.seed = get<uint64_t>(j, "seed", 1, "recipe");
  if (j.contains("target_size")) r.target_size = get<size_t>(j, "target_size", 0, "recipe");
  if (j.contains("programmatic_share")) {
    r.programmatic_share = get<double>(j, "programmatic_share", 0, "recipe");
    if (*r.programmatic_share < 0 || *r.programmatic_share > 1) throw Error("recipe: programmatic_share must be in [0, 1]");
  }
  if (auto f = j.find("formats"); f != j.end()) {
    if (!f->is_object()) throw Error("recipe: 'formats' maps cota, cot, direct to proportions");
    double sum = 0;
    for (auto it = f->begin(); it != f->end(); ++it) {
      if (it.key() != "cota" && it.key() != "cot" && it.key() != "direct")
        throw Error("recipe formats: unknown format '" + it.key() + "' (cota, cot or direct)");
      if (!it->is_number() || it->get<double>() < 0) throw Error("recipe formats: '" + it.key() + "' needs a proportion >= 0");
      r.formats[it.key()] = it->get<double>();
      sum += it->get<double>();
    }
    if (sum <= 0) throw Error("recipe formats: the proportions add up to 0");
    for (auto& [k, v] : r.formats) v /= sum;
  }
  if (j.contains("filters")) r.filters = CurateFilters::from_json(j["filters"]);
  auto sources = j.find("sources");
  if (sources == j.end() || !sources->is_array() || sources->empty()) throw Error("recipe: 'sources' must list at least one trace file");
  std::set<std::string> names;
  for (size_t i = 0; i < sources->size(); ++i) {
    const Json& s = (*sources)[i];
    const std::string where = "recipe source " + std::to_string(i + 1);
    if (!s.is_object()) throw Error(where + ": expected an object");
    check_keys(s, {"name", "path", "weight", "count", "programmatic"}, where);
    RecipeSource src;
    src.path = get<std::string>(s, "path", "", where);
    if (src.path.empty()) throw Error(where + ": 'path' (a trace JSONL file) is required");
    src.path = resolve_path(base_dir, src.path);
    src.name = get<std::string>(s, "name", src.path, where);
    if (!names.insert(src.name).second) throw Error(where + ": the name '" + src.name + "' is used twice");
    if (s.contains("weight")) {
      src.weight = get<double>(s, "weight", 0, where);
      if (*src.weight < 0) throw Error(where + ": 'weight' must be >= 0");
    }
    if (s.contains("count")) src.count = get<size_t>(s, "count", 0, where);
    src.programmatic = get(s, "programmatic", false, where);
    r.sources.push_back(std::move(src));
  }
  // Targets no data could meet.
  if (r.target_size && *r.target_size == 0) throw Error("recipe: target_size 0 asks for nothing (leave it out to keep everything)");
  size_t counted = 0;
  bool any_weight = false, programmatic = false, other = false;
  for (const auto& src : r.sources) {
    counted += src.count.value_or(0);
    any_weight = any_weight || (!src.count && src.weight.value_or(1.0) > 0);
    (src.programmatic ? programmatic : other) = true;
  }
  if (r.target_size && counted > *r.target_size)
    throw Error("recipe: the sources' counts add up to " + std::to_string(counted) + ", over target_size " + std::to_string(*r.target_size));
  if (r.target_size && counted < *r.target_size && !any_weight)
    throw Error("recipe: target_size " + std::to_string(*r.target_size) + " but the counts give " + std::to_string(counted) +
                " and no source has a weight above 0 to fill the rest");
  if (r.programmatic_share && *r.programmatic_share > 0 && !programmatic)
    throw Error("recipe: programmatic_share asks for programmatic data, but no source is \"programmatic\": true");
  if (r.programmatic_share && *r.programmatic_share < 1 && !other)
    throw Error("recipe: programmatic_share leaves room for other data, but every source is programmatic");
  return r;
}

Recipe Recipe::load(const std::string& path) {
  Json j = read_json_file(path);
  try {
    return from_json(j, parent_dir(path));
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

std::vector<std::optional<size_t>> Recipe::source_quotas() const {
  std::vector<std::optional<size_t>> quotas(sources.size());
  // Sources with a count keep it; the others share what the target leaves, by weight (1 when
  // unset), within their group (programmatic or not) when a programmatic share is set.
  size_t counted = 0;
  for (size_t i = 0; i < sources.size(); ++i)
    if (sources[i].count) quotas[i] = *sources[i].count, counted += *sources[i].count;
  if (!target_size) return quotas;
  const double left = static_cast<double>(*target_size > counted ? *target_size - counted : 0);
  auto share = [&](bool programmatic_group, double budget, bool by_group) {
    double weights = 0;
    for (const auto& s : sources)
      if (!s.count && (!by_group || s.programmatic == programmatic_group)) weights += s.weight.value_or(1.0);
    for (size_t i = 0; i < sources.size(); ++i) {
      const auto& s = sources[i];
      if (s.count || (by_group && s.programmatic != programmatic_group)) continue;
      quotas[i] = weights > 0 ? static_cast<size_t>(std::llround(budget * s.weight.value_or(1.0) / weights)) : 0;
    }
  };
  if (programmatic_share) {
    share(true, left * *programmatic_share, true);
    share(false, left * (1 - *programmatic_share), true);
  } else {
    share(false, left, false);
  }
  return quotas;
}

}  // namespace taco
