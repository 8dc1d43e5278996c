#include "distill/qa_input.h"

#include <algorithm>
#include <filesystem>
#include <random>

#include "eval/benchmark.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"
#include "util/strings.h"

namespace taco {
namespace {

std::string text_of(const Json& turn) {
  const Json* v = turn.contains("value") ? &turn["value"] : turn.contains("content") ? &turn["content"] : nullptr;
  if (!v) return "";
  if (v->is_string()) return v->get<std::string>();
  std::string out;  // OpenAI-style content parts
  if (v->is_array())
    for (const auto& part : *v)
      if (part.is_object() && part.value("type", "") == "text") out += part.value("text", "");
  return out;
}

bool from_user(const Json& turn) {
  const std::string who = turn.value("from", turn.value("role", ""));
  return who == "human" || who == "user";
}

// "<image>\nWhat is this?" -> "What is this?"
std::string strip_placeholders(std::string q) {
  for (size_t at; (at = q.find("<image>")) != std::string::npos;) q.erase(at, 7);
  size_t b = q.find_first_not_of(" \n\t"), e = q.find_last_not_of(" \n\t");
  return b == std::string::npos ? "" : q.substr(b, e - b + 1);
}

class ConversationReader {
 public:
  ConversationReader(const std::string& path, const QaInputOptions& o)
      : path_(path), options_(o), base_(o.image_folder.empty() ? parent_dir(path) : o.image_folder),
        source_(benchmark_name(path)) {}

  void add(const Json& r, size_t index, std::vector<Task>& out) {
    auto fail = [&](const std::string& what) { return Error(path_ + " record " + std::to_string(index + 1) + ": " + what); };
    if (!r.is_object()) throw fail("not a JSON object");
    std::string id = r.contains("id") ? (r["id"].is_string() ? r["id"].get<std::string>() : r["id"].dump()) : std::to_string(index);
    const Json* turns = r.contains("conversations") ? &r["conversations"]
                        : r.contains("conversation") ? &r["conversation"]
                        : r.contains("messages")     ? &r["messages"]
                                                     : nullptr;
    if (!turns || !turns->is_array()) throw fail("no 'conversations' (LLaVA), 'conversation' (Mantis) or 'messages' (LLaMA-Factory, ms-swift) list");
    std::vector<std::string> images;
    for (const char* key : {"image", "images"})
      if (auto it = r.find(key); it != r.end()) {
        if (it->is_string()) images.push_back(image_path(it->get<std::string>(), id, 0, fail));
        else if (it->is_array())
          for (const auto& p : *it) {
            if (!p.is_string()) throw fail(std::string("'") + key + "' must hold paths");
            images.push_back(image_path(p.get<std::string>(), id, images.size(), fail));
          }
      }
    std::string source = r.value("source", "");
    if (source.empty() && r.contains("metadata") && r["metadata"].is_object()) source = r["metadata"].value("dataset", "");
    if (source.empty()) source = source_;

    std::vector<std::pair<std::string, std::string>> pairs;  // question, answer
    for (size_t i = 0; i + 1 < turns->size(); ++i)
      if (from_user((*turns)[i]) && !from_user((*turns)[i + 1])) {
        std::string q = strip_placeholders(text_of((*turns)[i])), a = text_of((*turns)[i + 1]);
        if (!q.empty() && !a.empty()) pairs.emplace_back(q, a);
      }
    std::vector<size_t> chosen(pairs.size());
    for (size_t i = 0; i < chosen.size(); ++i) chosen[i] = i;
    if (chosen.size() > options_.turns_per_example) {
      std::mt19937_64 rng(options_.seed * 1000003 + index);
      std::shuffle(chosen.begin(), chosen.end(), rng);
      chosen.resize(options_.turns_per_example);
      std::sort(chosen.begin(), chosen.end());
    }
    for (size_t k : chosen) {
      Task t;
      t.id = pairs.size() == 1 ? id : id + "-t" + std::to_string(k);
      t.images = images;
      t.question = pairs[k].first;
      t.answer = pairs[k].second;
      t.metadata = Json{{"source", source}, {"turn", k}};
      out.push_back(std::move(t));
    }
  }

 private:
  template <typename Fail>
  std::string image_path(const std::string& value, const std::string& id, size_t k, const Fail& fail) {
    std::string data = value;
    if (data.rfind("data:", 0) == 0) {
      size_t comma = data.find(',');
      if (comma == std::string::npos) throw fail("a data: URL without a comma");
      data = data.substr(comma + 1);
    } else if (data.size() < 512) {
      return resolve_path(base_, value);  // a path
    }
    auto bytes = base64_decode(data);
    if (!bytes) throw fail("an image is neither a path nor base64");
    if (options_.images_dir.empty()) throw fail("base64 images need an images folder");
    std::string file = options_.images_dir + "/" + safe_file_name(id) + "-" + std::to_string(k) + image_file_extension(*bytes);
    if (!std::filesystem::exists(file)) {
      write_file(file + ".part", *bytes);  // renamed when whole: a killed run leaves no torn image
      std::filesystem::rename(file + ".part", file);
    }
    return file;
  }

  std::string path_;
  const QaInputOptions& options_;
  std::string base_;
  std::string source_;
};

}  // namespace

std::vector<Task> load_qa_tasks(const std::string& path, const QaInputOptions& options) {
  const std::string ext = to_lower(std::filesystem::path(path).extension().string());
  if (ext == ".tsv") {
    std::vector<Task> tasks = load_benchmark(path, BenchmarkOptions{options.images_dir});
    for (auto& t : tasks) t.metadata["source"] = t.metadata.value("benchmark", benchmark_name(path));
    return tasks;
  }
  if (ext != ".jsonl" && ext != ".json") throw Error(path + ": QA data is a task .jsonl, a LLaVA/Mantis .json or .jsonl, or a VLMEvalKit .tsv");
  std::vector<Json> records;
  for_each_record(path, [&](size_t, Json&& j) { records.push_back(std::move(j)); });
  const bool tasks_file = !records.empty() && records[0].is_object() && records[0].contains("question");
  std::vector<Task> tasks;
  if (tasks_file) {
    if (ext == ".jsonl") {
      tasks = load_tasks(path);
    } else {
      for (size_t i = 0; i < records.size(); ++i) {
        try {
          tasks.push_back(Task::from_json(records[i], parent_dir(path)));
        } catch (const Error& e) {
          throw Error(path + " record " + std::to_string(i + 1) + ": " + e.what());
        }
      }
    }
    for (auto& t : tasks)
      if (!t.metadata.contains("source")) t.metadata["source"] = benchmark_name(path);
    return tasks;
  }
  ConversationReader reader(path, options);
  for (size_t i = 0; i < records.size(); ++i) reader.add(records[i], i, tasks);
  return tasks;
}

}  // namespace taco
