#include "curate/merge.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "cota/trace.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"
#include "util/record_writer.h"
#include "runtime/batch.h"

namespace taco {
namespace {

void rebase_record(Json& r, const std::string& part, const std::string& out_dir) {
  if (r.is_object() && r.value("format", Json()) == "taco.trace") {
    rebase_trace_paths(r, trace_paths_base(r, part), out_dir);
    return;
  }
  const std::string from = parent_dir(part);
  for (const char* key : {"image", "images"}) {  // LLaVA, Mantis and task records
    if (!r.is_object() || !r.contains(key)) continue;
    auto rebase = [&](Json& p) {
      if (p.is_string()) p = rebase_path(p.get<std::string>(), from, out_dir);
    };
    if (r[key].is_array())
      for (auto& p : r[key]) rebase(p);
    else
      rebase(r[key]);
  }
}

// Sums gen's statistics of the parts (counts and per-family counts; the first problems).
Json merged_gen_stats(const std::vector<std::string>& parts) {
  Json total = Json::object();
  for (const auto& part : parts) {
    std::error_code ec;
    if (!std::filesystem::exists(part + ".stats.json", ec)) return Json();
    const Json s = read_json_file(part + ".stats.json");
    for (const auto& [key, value] : s.items()) {
      if (value.is_number()) total[key] = total.value(key, Json(0)).get<double>() + value.get<double>();
      else if (value.is_object()) {
        if (!total.contains(key)) total[key] = Json::object();
        for (const auto& [k, v] : value.items()) total[key][k] = total[key].value(k, 0.0) + v.get<double>();
      } else if (value.is_array()) {
        if (!total.contains(key)) total[key] = Json::array();
        for (const auto& v : value) total[key].push_back(v);
      }
      else total[key] = value;
    }
  }
  // Counts stay whole numbers; seconds is the sum of the parts' times.
  for (auto& [key, value] : total.items())
    if (key != "seconds" && value.is_number()) value = static_cast<long long>(value.get<double>());
  for (auto& [key, value] : total.items())
    if (value.is_object()) {  // by name, as one run writes them
      std::map<std::string, long long> sorted;
      for (const auto& [k, v] : value.items()) sorted[k] = static_cast<long long>(v.get<double>());
      value = Json::object();
      for (const auto& [k, v] : sorted) value[k] = v;
    }
  return total;
}

// Marks the missing tasks of one shard ("<shard>: task <id>") that its errors file lists as failed.
void note_failed_tasks(const std::string& errors, const std::string& shard, std::vector<std::string>& missing) {
  std::error_code ec;
  if (!std::filesystem::exists(errors, ec)) return;
  std::set<std::string> failed;
  for_each_jsonl(errors, [&](size_t, Json&& e) {
    if (e.is_object() && e.contains("id") && e["id"].is_string()) failed.insert(e["id"].get<std::string>());
  }, true);
  for (auto& m : missing)
    if (m.rfind(shard + ": task ", 0) == 0 && failed.count(m.substr(shard.size() + 7))) m += " (failed: listed in " + errors + ")";
}

// Which part is each shard (part_of_shard[k]), after checking that the parts are all the shards
// of one job, each once; throws Error naming the parts that are not.
std::vector<int> shards_in_order(const std::vector<std::string>& parts, const std::vector<ShardManifest>& manifests) {
  const ShardManifest& first = manifests[0];
  const int n = first.shard.count;
  std::vector<int> part_of_shard(static_cast<size_t>(n), -1);
  for (size_t i = 0; i < parts.size(); ++i) {
    const ShardManifest& m = manifests[i];
    if (m.command != first.command || m.shard.count != n)
      throw Error(parts[i] + " is shard " + m.shard.to_string() + " of taco " + m.command + ", but " + parts[0] + " is shard " +
                  first.shard.to_string() + " of taco " + first.command + ": they are parts of different jobs");
    for (const auto& [key, value] : first.settings.items())
      if (m.settings.value(key, Json()) != value)
        throw Error(parts[i] + " was made with " + key + " " + m.settings.value(key, Json()).dump() + ", " + parts[0] + " with " +
                    value.dump() + ": they are parts of different jobs");
    int& slot = part_of_shard[static_cast<size_t>(m.shard.index)];
    if (slot >= 0) throw Error(parts[i] + " and " + parts[static_cast<size_t>(slot)] + " are both shard " + m.shard.to_string());
    slot = static_cast<int>(i);
  }
  for (int k = 0; k < n; ++k)
    if (part_of_shard[static_cast<size_t>(k)] < 0)
      throw Error("shard " + std::to_string(k) + "/" + std::to_string(n) + " is missing (" + std::to_string(parts.size()) + " of " +
                  std::to_string(n) + " parts given); merging without it would not be what one run makes");
  return part_of_shard;
}

// The parts of one job, in shard order, with their records (each part's in its file's order).
struct ShardParts {
  const std::vector<std::string>& paths;
  std::vector<ShardManifest> manifests;  // in the order the parts were given
  std::vector<int> part_of_shard;
  std::vector<std::vector<Json>> records;  // by shard

  int count() const { return manifests[0].shard.count; }
  const ShardManifest& manifest(int k) const { return manifests[static_cast<size_t>(part_of_shard[static_cast<size_t>(k)])]; }
  const std::string& path(int k) const { return paths[static_cast<size_t>(part_of_shard[static_cast<size_t>(k)])]; }
  const Json& units(int k) const { return manifest(k).units; }
  std::string name(int k) const { return "shard " + std::to_string(k) + "/" + std::to_string(count()) + " (" + path(k) + ")"; }
  // Item g of the job is unit g / n of shard g % n: calls fn(k, unit) in the job's order.
  void for_each_unit(const std::function<void(int, const Json&)>& fn) const {
    size_t longest = 0;
    for (int k = 0; k < count(); ++k) longest = std::max(longest, units(k).size());
    for (size_t u = 0; u < longest; ++u)
      for (int k = 0; k < count(); ++k)
        if (u < units(k).size()) fn(k, units(k)[u]);
  }
};

ShardParts read_parts(const std::vector<std::string>& paths, const std::string& out) {
  ShardParts parts{paths, {}, {}, {}};
  for (const auto& p : paths) parts.manifests.push_back(ShardManifest::load_for(p));
  parts.part_of_shard = shards_in_order(paths, parts.manifests);
  parts.records.resize(static_cast<size_t>(parts.count()));
  for (int k = 0; k < parts.count(); ++k)
    for_each_record(parts.path(k), [&](size_t, Json&& r) {
      rebase_record(r, parts.path(k), parent_dir(out));
      parts.records[static_cast<size_t>(k)].push_back(std::move(r));
    });
  return parts;
}

// gen's parts: each unit is a scene, counted by its records.
void merge_counted(ShardParts& parts, RecordWriter& writer, MergeSummary& summary) {
  for (int k = 0; k < parts.count(); ++k) {
    size_t promised = 0;
    for (const auto& c : parts.units(k)) promised += c.get<size_t>();
    const size_t have = parts.records[static_cast<size_t>(k)].size();
    if (have < promised)
      summary.missing.push_back(parts.name(k) + ": " + std::to_string(promised - have) + " of the " + std::to_string(promised) +
                                " records its manifest promises");
  }
  std::vector<size_t> next(static_cast<size_t>(parts.count()), 0);
  parts.for_each_unit([&](int k, const Json& unit) {
    auto& mine = parts.records[static_cast<size_t>(k)];
    size_t& at = next[static_cast<size_t>(k)];
    for (size_t c = 0; c < unit.get<size_t>() && at < mine.size(); ++c) writer.write(mine[at++]), ++summary.records;
  });
}

// A run's parts: traces by task id. A run writes them as they finish, so their place is the
// task's in the data; a Direct example made from a task ("<id>-direct") follows it.
void merge_by_id(ShardParts& parts, RecordWriter& writer, MergeSummary& summary) {
  std::vector<std::map<std::string, std::vector<Json>>> by_id(static_cast<size_t>(parts.count()));
  for (int k = 0; k < parts.count(); ++k)
    for (auto& r : parts.records[static_cast<size_t>(k)]) {
      std::string id = r.value("id", r.contains("task") ? r["task"].value("id", "") : "");
      std::string base = id.size() > 7 && id.compare(id.size() - 7, 7, "-direct") == 0 ? id.substr(0, id.size() - 7) : id;
      by_id[static_cast<size_t>(k)][base].push_back(std::move(r));
    }
  parts.for_each_unit([&](int k, const Json& unit) {
    const std::string id = unit.get<std::string>();
    auto it = by_id[static_cast<size_t>(k)].find(id);
    if (it == by_id[static_cast<size_t>(k)].end()) {
      if (parts.manifest(k).every_unit) summary.missing.push_back(parts.name(k) + ": task " + id);
      return;
    }
    for (const auto& r : it->second) writer.write(r), ++summary.records;
  });
  // Say which of them failed (their run listed them as errors) rather than never ran.
  for (int k = 0; k < parts.count(); ++k) note_failed_tasks(default_errors_path(parts.path(k)), parts.name(k), summary.missing);
}

}  // namespace

MergeSummary merge_shards(const std::vector<std::string>& paths, const std::string& out, bool allow_partial) {
  if (paths.empty()) throw Error("taco merge needs the shard outputs to merge");
  ShardParts parts = read_parts(paths, out);
  const ShardManifest& first = parts.manifests[0];
  size_t in_parts = 0;
  for (const auto& r : parts.records) in_parts += r.size();

  RecordWriter writer(out);
  MergeSummary summary{paths.size(), 0, first.command, parts.count()};
  if (!first.units.empty() && first.units[0].is_number()) merge_counted(parts, writer, summary);
  else merge_by_id(parts, writer, summary);
  // Records the manifests do not account for: a part written to after its run, or edited.
  if (summary.records != in_parts)
    throw Error(std::to_string(in_parts - summary.records) + " records of the parts are not in their manifests (" +
                std::to_string(in_parts) + " records, " + std::to_string(summary.records) +
                " accounted for): a part was changed after its shard ran; nothing was written");
  const std::string missing_file = out + ".missing.json";
  if (!summary.missing.empty() && !allow_partial) {
    std::string first_few;
    for (size_t i = 0; i < std::min<size_t>(3, summary.missing.size()); ++i) first_few += (i ? "; " : "") + summary.missing[i];
    throw Error("the parts lack " + std::to_string(summary.missing.size()) + " of what their manifests promise (" + first_few +
                (summary.missing.size() > 3 ? "; ..." : "") +
                "): rerun those shards to finish them, or merge what is there with MergeSettings.allow_partial; nothing was written");
  }
  writer.close();
  // What the merged file lacks, beside it (written after it, so a failed merge leaves none).
  if (!summary.missing.empty()) {
    write_file_atomic(missing_file, Json{{"partial", true}, {"missing", summary.missing}}.dump(2) + "\n");
  } else {
    std::error_code ec;
    std::filesystem::remove(missing_file, ec);
  }
  if (first.command == "gen")
    if (Json stats = merged_gen_stats(paths); !stats.is_null()) write_file_atomic(out + ".stats.json", stats.dump(2) + "\n");
  return summary;
}

}  // namespace taco
