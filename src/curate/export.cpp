#include "curate/export.h"

#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "cota/trace.h"
#include "cota/training_format.h"
#include "eval/score.h"
#include "tools/config.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"
#include "util/record_writer.h"
#include "util/hash.h"

namespace fs = std::filesystem;

namespace taco {
namespace {

// Copies or links each source image once, under a name that keeps sources apart.
class ImagePlacer {
 public:
  explicit ImagePlacer(const ExportOptions& o)
      : mode_(o.images), dir_(o.images_dir.empty() ? output_base(o.out_path) + ".images" : o.images_dir),
        out_dir_(parent_dir(o.out_path).empty() ? "." : parent_dir(o.out_path)) {}

  // The path the record names for `src`; throws Error when the image is missing. With
  // --images keep, a path the trace gave relative stays relative (from the output's folder).
  std::string place(const std::string& src, bool trace_path_relative, size_t& placed) {
    if (mode_ == "keep")
      return trace_path_relative ? fs::absolute(src).lexically_normal().lexically_relative(fs::absolute(out_dir_).lexically_normal()).string() : src;
    if (auto it = done_.find(src); it != done_.end()) return it->second;
    std::error_code ec;
    if (src.empty()) throw Error("an image of the trace has no file (made with GenSettings.no_images?)");
    if (!fs::exists(src, ec)) throw Error("image missing: " + src);
    const std::string hash = hash_hex(src);
    const std::string dst = dir_ + "/" + hash.substr(0, 4) + "/" + hash.substr(4) + "-" + fs::path(src).filename().string();
    if (!fs::exists(dst, ec)) {
      make_dirs(parent_dir(dst));
      if (mode_ == "link") fs::create_symlink(fs::absolute(src), dst, ec);
      else fs::copy_file(src, dst, fs::copy_options::skip_existing, ec);
      if (ec) throw Error(dst + ": cannot " + mode_ + " the image (" + ec.message() + ")");
      ++placed;
    }
    // Lexically: a link must stay a link, not resolve to its target.
    return done_[src] = fs::absolute(dst).lexically_normal().lexically_relative(fs::absolute(out_dir_).lexically_normal()).string();
  }

 private:
  std::string mode_, dir_, out_dir_;
  std::map<std::string, std::string> done_;
};

// Adds (or replaces) this file's entry in dataset_info.json beside it, the registry LLaMA-Factory
// reads from its dataset_dir; other entries stay. Returns the entry's name.
std::string write_dataset_info(const ExportOptions& o) {
  const std::string dir = parent_dir(o.out_path).empty() ? "." : parent_dir(o.out_path);
  const std::string path = dir + "/dataset_info.json";
  Json info = Json::object();
  std::error_code ec;
  if (fs::exists(path, ec)) {
    info = read_json_file(path);
    if (!info.is_object()) throw Error(path + ": not a JSON object of datasets; not changed");
  }
  const std::string name = fs::path(o.out_path).stem().string();
  Json entry{{"file_name", fs::path(o.out_path).filename().string()}, {"formatting", "sharegpt"}};
  if (o.format == "llamafactory") {
    entry["columns"] = {{"messages", "messages"}, {"images", "images"}};
    entry["tags"] = {{"role_tag", "role"}, {"content_tag", "content"}, {"user_tag", "user"}, {"assistant_tag", "assistant"}};
  } else {
    entry["columns"] = {{"messages", "conversations"}, {"images", "images"}, {"tools", "tools"}};
  }
  info[name] = entry;
  write_file_atomic(path, info.dump(2) + "\n");
  return name;
}

// A taco rl run's tokens sidecar beside `trace_file` (rollouts.jsonl -> rollouts.tokens.jsonl),
// by rollout id; empty when there is none.
std::map<std::string, Json> tokens_beside(const std::string& trace_file) {
  std::map<std::string, Json> by_id;
  const std::string base = trace_file.size() > 6 && trace_file.compare(trace_file.size() - 6, 6, ".jsonl") == 0
                               ? trace_file.substr(0, trace_file.size() - 6)
                               : trace_file;
  const std::string sidecar = base + ".tokens.jsonl";
  std::error_code ec;
  if (!fs::exists(sidecar, ec)) return by_id;
  for_each_jsonl(sidecar, [&](size_t line, Json&& j) {
    if (!j.is_object() || !j.contains("id") || !j["id"].is_string())
      throw Error(sidecar + " line " + std::to_string(line) + ": not a rollout's tokens (no id)");
    const std::string id = j["id"];
    if (by_id.count(id)) throw Error(sidecar + " line " + std::to_string(line) + ": rollout " + id + " appears twice");
    by_id[id] = std::move(j);
  });
  return by_id;
}

// Format rl's record of one rollout; `tokens` is its sidecar record, or null. Throws Error when
// the two do not agree.
Json rollout_record(const Trace& t, const Json* tokens, const RewardSettings& rules) {
  Json messages = Json::array();
  for (const auto& turn : training_turns(t, true)) messages.push_back(Json{{"role", turn.from_user ? "user" : "assistant"}, {"content", turn.text}});
  const auto question = t.task.metadata.find("rl_question");
  const std::string task_id = question != t.task.metadata.end() && question->is_string() ? question->get<std::string>() : t.task.id;
  Json r{{"id", t.task.id}, {"task_id", task_id}, {"messages", std::move(messages)},
         {"images", training_images(t)}, {"answer", t.answer}, {"reference", t.task.answer ? Json(*t.task.answer) : Json()},
         {"status", to_string(t.status)}, {"tool_calls", t.tools_called().size()}};
  if (!tokens) {
    if (!t.task.answer) throw Error("no answer to reward it by, and no tokens sidecar beside the traces");
    check_rewardable(t.task);
    const RewardParts parts = reward_of(t.task, t, rules);
    r["reward"] = parts.total();
    r["right"] = parts.right;
    r["reward_parts"] = parts.to_json();
    r["reward_rules"] = rules.to_json();
    return r;
  }
  // The sidecar is joined by id: it must be this rollout's (same question, same verdict), and
  // every field what a run writes, or the record would carry another rollout's tokens.
  const Json& k = *tokens;
  auto is_count = [](const Json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0; };
  if (!k.value("reward", Json()).is_number() || !k.value("right", Json()).is_boolean() || !is_count(k.value("step", Json())) ||
      !is_count(k.value("member", Json())) || !(k.value("advantage", Json()).is_null() || k["advantage"].is_number()))
    throw Error("its tokens record's reward, right, step, member or advantage is not what taco rl writes");
  if (k.contains("question") && k["question"] != task_id) throw Error("its tokens record is about another question (" + k["question"].dump() + ")");
  if (t.task.answer && k["right"].get<bool>() != (score_item(t.task, &t, nullptr, Matching::kExact).score > 0))
    throw Error("its tokens record says the answer was " + std::string(k["right"].get<bool>() ? "right" : "wrong") +
                " and the trace's answer says otherwise: the sidecar is not these traces'");
  for (const char* key : {"reward", "right", "step", "member", "advantage"}) r[key] = k[key];
  if (!k.contains("ids")) return r;  // a rollout of a model that keeps no tokens
  const Json& ids = k["ids"];
  const Json& mask = k.value("mask", Json());
  const Json& sampled = k.value("logprobs", Json());
  if (!ids.is_array() || !mask.is_array() || !sampled.is_array() || ids.size() != mask.size())
    throw Error("its tokens record has ids and a mask of different lengths");
  Json logprobs = Json::array();
  size_t next = 0, replies = 0;
  bool in_reply = false;
  for (size_t i = 0; i < mask.size(); ++i) {
    const Json& m = mask[i];
    if (!(m == 0 || m == 1) || !m.is_number_integer()) throw Error("its tokens record's mask holds something other than 0 and 1");
    if (!ids[i].is_number_integer()) throw Error("its tokens record's ids are not all token ids");
    const bool written = m == 1;
    replies += written && !in_reply;
    in_reply = written;
    if (written && next >= sampled.size()) throw Error("its tokens record has fewer log-probabilities than written tokens");
    if (written && !sampled[next].is_number()) throw Error("its tokens record's log-probabilities are not all numbers");
    logprobs.push_back(written ? sampled[next++] : Json(0.0));
  }
  if (next != sampled.size()) throw Error("its tokens record has more log-probabilities than written tokens");
  // Each reply is one run of written tokens; a reply the context cut off has its run and no step.
  const size_t steps = t.steps.size();
  if (replies != steps && !(t.status == TraceStatus::kContextFull && replies == steps + 1))
    throw Error("its tokens record holds " + std::to_string(replies) + (replies == 1 ? " reply" : " replies") + " and the trace " +
                std::to_string(steps));
  r["input_ids"] = ids;
  r["loss_mask"] = mask;
  r["logprobs"] = std::move(logprobs);
  r["temperature"] = k.value("temperature", Json());
  r["image_at"] = k.value("image_at", Json::array());
  return r;
}

}  // namespace

ExportSummary run_export(const std::vector<std::string>& trace_files, const ExportOptions& o) {
  static const std::set<std::string> formats = {"llava", "mantis", "messages", "llamafactory", "llamafactory-tools", "ms-swift", "rl"};
  if (!formats.count(o.format))
    throw Error("unknown format '" + o.format + "' (llava, mantis, messages, llamafactory, llamafactory-tools, ms-swift or rl)");
  if (o.images != "copy" && o.images != "link" && o.images != "keep") throw Error("ExportOptions.images is copy, link or keep");
  ExportSummary summary;
  RecordWriter out(o.out_path);
  ImagePlacer placer(o);
  const std::string instruction = task_instruction(all_tool_names());
  // The messages layout carries the actions' schemas, as a tool-calling chat template wants.
  // LLaMA-Factory's tool layout, as a JSON string of the bare function definitions.
  Json tool_schemas = Json::array(), functions = Json::array();
  if (o.format == "messages" || o.format == "llamafactory-tools") {
    const ToolRegistry registry = make_tool_registry(ToolsConfig());
    for (const Tool* t : registry.tools()) {
      Json function{{"name", t->spec().name}, {"description", t->spec().description}, {"parameters", tool_input_schema(t->spec())}};
      functions.push_back(function);
      tool_schemas.push_back(Json{{"type", "function"}, {"function", std::move(function)}});
    }
  }
  const std::string functions_text = functions.dump();
  const bool role_messages = o.format == "llamafactory" || o.format == "ms-swift";
  for (const auto& file : trace_files) {
    const std::map<std::string, Json> tokens = o.format == "rl" ? tokens_beside(file) : std::map<std::string, Json>{};
    for_each_jsonl(file, [&](size_t line, Json&& j) {
      ++summary.traces;
      auto invalid = [&](const std::string& why) {
        ++summary.invalid;
        if (summary.problems.size() < 10) summary.problems.push_back(file + " line " + std::to_string(line) + ": " + why);
      };
      // The record's image paths, copied, linked or kept as the options say.
      auto place_images = [&](Json& images) {
        const std::string base = o.image_folder.empty() ? trace_paths_base(j, file) : o.image_folder;
        for (auto& p : images) {
          const std::string path = p.get<std::string>();
          p = placer.place(resolve_path(base, path), !path.empty() && path[0] != '/', summary.images);
        }
      };
      try {
        Trace t = Trace::from_json(j);
        if (t.status == TraceStatus::kError) return invalid("the episode did not run");
        if (o.format == "rl") {
          if (t.protocol == "tools") return invalid("format rl reads episodes of the cota protocol (replies as text)");
          const Json* k = nullptr;
          if (!tokens.empty()) {
            auto it = tokens.find(t.task.id);
            if (it == tokens.end()) return invalid("the tokens sidecar beside it has no rollout " + t.task.id);
            k = &it->second;
          }
          Json record = rollout_record(t, k, o.reward);
          place_images(record["images"]);
          out.write(record);
          ++summary.records;
          return;
        }
        Json record = o.format == "llava"               ? to_llava(t, t.task.id)
                      : o.format == "mantis"             ? to_mantis(t, t.task.id, o.dataset, instruction)
                      : o.format == "messages"           ? to_messages(t, t.task.id, tool_schemas)
                      : o.format == "llamafactory-tools" ? to_sharegpt_tools(t, functions_text)
                                                         : to_role_messages(t);
        Json& images = record[o.format == "llava" ? "image" : "images"];
        place_images(images);
        if (o.format == "messages") {
          // The image parts name the images in the list's order: they get the placed paths.
          size_t k = 0;
          for (auto& m : record["messages"])
            if (m["content"].is_array())
              for (auto& part : m["content"])
                if (part.value("type", "") == "image") part["image"] = images[k++];
          const Json& last = record["messages"].back();
          if (last.value("role", "") != "assistant") return invalid("the chain does not end with the model's answer");
        } else if (role_messages || o.format == "llamafactory-tools") {
          // The steps as the LLaVA and Mantis records are checked (the same turns), then the loader's rules.
          if (role_messages)
            if (std::string bad = check_training_record(Json{{"conversation", record["messages"]}, {"images", images}}); !bad.empty())
              return invalid(bad);
          if (std::string bad = check_llamafactory_record(record); !bad.empty()) return invalid(bad);
        } else if (std::string bad = check_training_record(record); !bad.empty()) {
          return invalid(bad);
        }
        out.write(record);
        ++summary.records;
      } catch (const std::exception& e) {  // a trace of another shape than taco's: that record, not the export
        invalid(e.what());
      }
    });
  }
  out.close();
  if (o.format == "llamafactory" || o.format == "llamafactory-tools") summary.dataset_info = write_dataset_info(o);
  return summary;
}

}  // namespace taco
