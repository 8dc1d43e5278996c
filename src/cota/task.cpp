#include "cota/task.h"

#include <unordered_set>

#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

std::string scalar_to_string(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  throw Error("expected a string or a number, got " + std::string(v.type_name()));
}

}  // namespace

Json Task::to_json() const {
  Json j;
  j["id"] = id;
  j["images"] = images;
  j["question"] = question;
  if (answer) j["answer"] = *answer;
  if (!choices.empty()) j["choices"] = choices;
  if (!metadata.empty()) j["metadata"] = metadata;
  return j;
}

Task Task::from_json(const Json& j, const std::string& base_dir) {
  if (!j.is_object()) throw Error("a task must be a JSON object");
  Task t;
  auto id = j.find("id");
  if (id == j.end()) id = j.find("index");  // VLMEvalKit-style records
  if (id == j.end() || id->is_null()) throw Error("task has no 'id'");
  try {
    t.id = scalar_to_string(*id);
  } catch (const Error& e) {
    throw Error("task 'id': " + std::string(e.what()));
  }
  if (t.id.empty()) throw Error("task 'id' is empty");
  auto fail = [&](const std::string& what) { return Error("task " + t.id + ": " + what); };

  if (auto it = j.find("images"); it != j.end()) {
    if (!it->is_array()) throw fail("'images' must be a list of paths");
    for (const auto& p : *it) {
      if (!p.is_string()) throw fail("'images' must be a list of paths");
      t.images.push_back(resolve_path(base_dir, p.get<std::string>()));
    }
  } else if (auto img = j.find("image"); img != j.end() && img->is_string()) {
    t.images.push_back(resolve_path(base_dir, img->get<std::string>()));
  }
  auto q = j.find("question");
  if (q == j.end() || !q->is_string()) throw fail("missing 'question' (a string)");
  t.question = q->get<std::string>();
  if (auto a = j.find("answer"); a != j.end() && !a->is_null()) {
    try {
      t.answer = scalar_to_string(*a);
    } catch (const Error& e) {
      throw fail("'answer': " + std::string(e.what()));
    }
  }
  if (auto c = j.find("choices"); c != j.end() && !c->is_null()) {
    if (!c->is_array()) throw fail("'choices' must be a list");
    for (const auto& o : *c) t.choices.push_back(o.is_string() ? o.get<std::string>() : o.dump());
  }
  if (auto m = j.find("metadata"); m != j.end() && m->is_object()) t.metadata = *m;
  return t;
}

std::vector<Task> load_tasks(const std::string& path) {
  std::vector<Task> tasks;
  std::unordered_set<std::string> seen;
  const std::string base = parent_dir(path);
  for_each_jsonl(path, [&](size_t line, Json&& j) {
    try {
      Task t = Task::from_json(j, base);
      if (!seen.insert(t.id).second) throw Error("duplicate task id '" + t.id + "'");
      tasks.push_back(std::move(t));
    } catch (const Error& e) {
      throw Error(path + ":" + std::to_string(line) + ": " + e.what());
    }
  });
  return tasks;
}

}  // namespace taco
