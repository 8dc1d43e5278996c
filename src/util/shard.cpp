#include "util/shard.h"

#include <cstdlib>
#include <filesystem>

#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

// A whole non-negative number, or -1.
long long whole_number(const char* text) {
  if (!text || !*text) return -1;
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  return *end == '\0' && v >= 0 ? v : -1;
}

}  // namespace

std::string Shard::to_string() const { return std::to_string(index) + "/" + std::to_string(count); }

std::string Shard::output_path(const std::string& out) const {
  if (!active()) return out;
  const std::string width = std::to_string(count - 1);
  std::string k = std::to_string(index);
  k.insert(0, width.size() - k.size(), '0');
  const std::filesystem::path p(out);
  const std::string tag = ".shard-" + k + "-of-" + std::to_string(count);
  return (p.parent_path() / (p.stem().string() + tag + p.extension().string())).string();
}

Shard shard_from(const std::string& spec, const std::function<const char*(const char*)>& env_fn) {
  auto env = [&](const char* name) { return env_fn ? env_fn(name) : std::getenv(name); };
  Shard s;
  auto check = [&](const std::string& what) {
    if (s.count < 1 || s.index < 0 || s.index >= s.count)
      throw Error(what + " gives shard " + std::to_string(s.index) + " of " + std::to_string(s.count) + ": it must be k/N with 0 <= k < N");
    return s;
  };
  if (!spec.empty()) {
    const size_t slash = spec.find('/');
    const long long k = slash == std::string::npos ? -1 : whole_number(spec.substr(0, slash).c_str());
    const long long n = slash == std::string::npos ? -1 : whole_number(spec.substr(slash + 1).c_str());
    if (k < 0 || n < 0) throw Error("Shard.spec must look like 0/4 (k/N), not " + spec);
    s = {static_cast<int>(k), static_cast<int>(n), "Shard.spec"};
    if (s.count < 1 || s.index >= s.count) throw Error("Shard.spec must be k/N with 0 <= k < N");
    return s;
  }
  if (const char* id_text = env("SLURM_ARRAY_TASK_ID")) {
    const long long id = whole_number(id_text), count = whole_number(env("SLURM_ARRAY_TASK_COUNT"));
    const long long min = env("SLURM_ARRAY_TASK_MIN") ? whole_number(env("SLURM_ARRAY_TASK_MIN")) : 0;
    const long long step = env("SLURM_ARRAY_TASK_STEP") ? whole_number(env("SLURM_ARRAY_TASK_STEP")) : 1;
    if (id < 0 || count < 1 || min < 0 || step < 1)
      throw Error("SLURM_ARRAY_TASK_ID is set, but SLURM_ARRAY_TASK_COUNT, _MIN or _STEP is missing or not a number: "
                  "run as a Slurm job array (sbatch --array=0-15), or give Shard.spec k/N");
    if (id < min || (id - min) % step != 0)
      throw Error("SLURM_ARRAY_TASK_ID " + std::to_string(id) + " is not on the array's range (min " + std::to_string(min) +
                  ", step " + std::to_string(step) + "): give arrays as --array=A-B[:STEP], or Shard.spec k/N");
    s = {static_cast<int>((id - min) / step), static_cast<int>(count), "SLURM_ARRAY_TASK_ID"};
    return check("the Slurm array (SLURM_ARRAY_TASK_ID " + std::to_string(id) + ")");
  }
  if (const char* index_text = env("JOB_COMPLETION_INDEX")) {
    const long long index = whole_number(index_text), count = whole_number(env("TACO_SHARDS"));
    if (index < 0) throw Error("JOB_COMPLETION_INDEX is not a number: " + std::string(index_text));
    if (count < 1)
      throw Error("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but TACO_SHARDS is not: set it to the Job's "
                  "completions in the manifest (docs/scale.md), or give Shard.spec k/N");
    s = {static_cast<int>(index), static_cast<int>(count), "JOB_COMPLETION_INDEX"};
    return check("the Kubernetes Indexed Job (JOB_COMPLETION_INDEX " + std::to_string(index) + ", TACO_SHARDS " +
                 std::to_string(count) + ")");
  }
  return s;
}

void ShardManifest::write_for(const std::string& output) const {
  Json j{{"format", "taco.shard"}, {"version", 1}, {"command", command}, {"shard", shard.index}, {"shards", shard.count},
         {"settings", settings}, {"units", units}};
  if (!every_unit) j["every_unit"] = false;
  write_file_atomic(path_for(output), j.dump() + "\n");
}

ShardManifest ShardManifest::load_for(const std::string& output) {
  const std::string path = path_for(output);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(output + ": no " + std::filesystem::path(path).filename().string() +
                " beside it, so not the output of a sharded taco command (Shard.spec k/N, a Slurm array or an Indexed Job)");
  const Json j = read_json_file(path);
  if (!j.is_object() || j.value("format", Json()) != "taco.shard" || !j.contains("units") || !j["units"].is_array())
    throw Error(path + ": not a taco shard manifest");
  ShardManifest m;
  m.command = j.value("command", "");
  m.shard = {j.value("shard", -1), j.value("shards", 0), "manifest"};
  m.settings = j.value("settings", Json::object());
  m.units = j["units"];
  m.every_unit = j.value("every_unit", true);
  if (m.shard.count < 1 || m.shard.index < 0 || m.shard.index >= m.shard.count) throw Error(path + ": a shard outside 0..N-1");
  return m;
}

}  // namespace taco
