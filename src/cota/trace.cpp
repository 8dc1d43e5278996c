#include "cota/trace.h"

#include <filesystem>

#include "util/error.h"
#include "util/files.h"
#include "util/pyrepr.h"

namespace taco {

const char* to_string(PromptMode mode) { return mode == PromptMode::kCota ? "cota" : "direct"; }

PromptMode prompt_mode_from_string(const std::string& s) {
  if (s == "cota") return PromptMode::kCota;
  if (s == "direct") return PromptMode::kDirect;
  throw Error("unknown prompt format '" + s + "' (expected cota or direct)");
}

const char* to_string(TraceStatus status) {
  switch (status) {
    case TraceStatus::kTerminated: return "terminated";
    case TraceStatus::kMaxReplies: return "max_replies";
    case TraceStatus::kContextFull: return "context_full";
    case TraceStatus::kDirect: return "direct";
    case TraceStatus::kError: return "error";
  }
  return "error";
}

namespace {

TraceStatus status_from_string(const std::string& s) {
  for (auto st : {TraceStatus::kTerminated, TraceStatus::kMaxReplies, TraceStatus::kContextFull, TraceStatus::kDirect,
                  TraceStatus::kError})
    if (s == to_string(st)) return st;
  throw Error("unknown trace status '" + s + "'");
}

ParseErrorKind parse_kind_from_string(const std::string& s) {
  for (auto k : {ParseErrorKind::kJson, ParseErrorKind::kSchema, ParseErrorKind::kUnknown})
    if (s == to_string(k)) return k;
  return ParseErrorKind::kNone;
}

template <typename T>
T get_or(const Json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

}  // namespace

Json StepRecord::to_json() const {
  Json j;
  j["raw"] = raw;
  if (content) {
    j["thought"] = content->thought;
    j["actions"] = content->to_json()["actions"];
  }
  j["observation"] = observation;
  if (!details.is_null()) j["details"] = details;
  if (!error_kind.empty()) j["error"] = Json{{"kind", error_kind}, {"message", error}};
  j["feedback"] = feedback;
  if (!new_images.empty()) j["new_images"] = new_images;
  j["timings"] = Json{{"model_ms", model_ms}, {"tool_ms", tool_ms}};
  j["tokens"] = Json{{"prompt", prompt_tokens}, {"completion", completion_tokens}};
  return j;
}

StepRecord StepRecord::from_json(const Json& j) {
  StepRecord s;
  s.raw = get_or<std::string>(j, "raw", "");
  if (j.contains("actions")) {
    StepContent c;
    c.thought = get_or<std::string>(j, "thought", "");
    for (const auto& a : j["actions"]) c.actions.push_back(Action{a.at("name").get<std::string>(), a.at("arguments")});
    s.content = std::move(c);
  }
  s.observation = j.value("observation", Json());
  s.details = j.value("details", Json());
  if (auto e = j.find("error"); e != j.end() && e->is_object()) {
    s.error_kind = get_or<std::string>(*e, "kind", "");
    s.error = get_or<std::string>(*e, "message", "");
    s.parse_error = parse_kind_from_string(s.error_kind);
  }
  s.feedback = get_or<std::string>(j, "feedback", "");
  if (auto it = j.find("new_images"); it != j.end()) s.new_images = it->get<std::vector<std::string>>();
  if (auto t = j.find("timings"); t != j.end()) {
    s.model_ms = get_or<double>(*t, "model_ms", 0);
    s.tool_ms = get_or<double>(*t, "tool_ms", 0);
  }
  if (auto t = j.find("tokens"); t != j.end()) {
    s.prompt_tokens = get_or<int>(*t, "prompt", 0);
    s.completion_tokens = get_or<int>(*t, "completion", 0);
  }
  return s;
}

Json Trace::to_json_in(const std::string& file_path) const {
  namespace fs = std::filesystem;
  Json j = to_json();
  rebase_trace_paths(j, "", parent_dir(file_path));
  // An absolute path into the file's own folder (the images taco saved beside it, when --out
  // was given as an absolute path) becomes relative too, so the folder can move as a whole.
  const std::string folder = fs::absolute(parent_dir(file_path).empty() ? "." : parent_dir(file_path)).lexically_normal().string();
  auto inside = [&](Json& p) {
    if (!p.is_string()) return;
    const std::string path = fs::path(p.get<std::string>()).lexically_normal().string();
    if (!path.empty() && path[0] == '/' && path.size() > folder.size() && path.compare(0, folder.size(), folder) == 0 &&
        (folder.back() == '/' || path[folder.size()] == '/'))
      p = path.substr(folder.size() + (folder.back() == '/' ? 0 : 1));
  };
  for (auto& p : j["task"]["images"]) inside(p);
  for (auto& im : j["images"]) inside(im["path"]);
  return j;
}

std::string trace_paths_base(const Json& trace, const std::string& file_path) {
  return trace.value("version", 0) >= 2 ? parent_dir(file_path) : "";
}

void rebase_trace_paths(Json& trace, const std::string& from_dir, const std::string& to_dir) {
  auto rebase = [&](Json& p) {
    if (p.is_string()) p = rebase_path(p.get<std::string>(), from_dir, to_dir);
  };
  if (trace.contains("task") && trace["task"].is_object() && trace["task"].contains("images") && trace["task"]["images"].is_array())
    for (auto& p : trace["task"]["images"]) rebase(p);
  if (trace.contains("images") && trace["images"].is_array())
    for (auto& im : trace["images"])
      if (im.is_object() && im.contains("path")) rebase(im["path"]);
  trace["version"] = kTraceVersion;
}

Json Trace::to_json() const {
  Json j;
  j["id"] = task.id;
  j["format"] = "taco.trace";
  j["version"] = kTraceVersion;
  j["task"] = task.to_json();
  j["model"] = model;
  j["prompt"] = to_string(mode);
  if (!prompt_template_sha256.empty()) j["prompt_template_sha256"] = prompt_template_sha256;
  if (inputs_blanked) j["inputs_blanked"] = true;
  if (protocol != "cota") j["protocol"] = protocol;
  j["status"] = to_string(status);
  j["answer"] = answer;
  j["answer_source"] = answer_source;
  if (!error.empty()) j["error"] = error;
  if (!verification.is_null()) j["verification"] = verification;
  j["user_request"] = user_request;
  Json steps_json = Json::array();
  for (const auto& s : steps) steps_json.push_back(s.to_json());
  j["steps"] = std::move(steps_json);
  Json images_json = Json::array();
  for (const auto& im : images)
    images_json.push_back(Json{{"name", im.name}, {"path", im.path}, {"source", im.source},
                               {"width", im.width}, {"height", im.height}});
  j["images"] = std::move(images_json);
  int prompt_tokens = 0, completion_tokens = 0;
  double model_ms = 0, tool_ms = 0;
  for (const auto& s : steps) {
    prompt_tokens += s.prompt_tokens;
    completion_tokens += s.completion_tokens;
    model_ms += s.model_ms;
    tool_ms += s.tool_ms;
  }
  j["totals"] = Json{{"steps", steps.size()},
                     {"tools_called", tools_called().size()},
                     {"prompt_tokens", prompt_tokens},
                     {"completion_tokens", completion_tokens},
                     {"model_ms", model_ms},
                     {"tool_ms", tool_ms},
                     {"wall_ms", wall_ms}};
  return j;
}

Trace Trace::from_json(const Json& j) {
  if (!j.is_object() || j.value("format", "") != "taco.trace")
    throw Error("not a taco trace (no \"format\": \"taco.trace\")");
  int version = j.value("version", 0);
  if (version < 1 || version > kTraceVersion)
    throw Error("trace version " + std::to_string(version) + " is not supported (this taco reads up to " +
                std::to_string(kTraceVersion) + ")");
  try {
    Trace t;
    t.task = Task::from_json(j.at("task"));
    t.model = get_or<std::string>(j, "model", "");
    t.mode = prompt_mode_from_string(get_or<std::string>(j, "prompt", "cota"));
    t.prompt_template_sha256 = get_or<std::string>(j, "prompt_template_sha256", "");
    t.inputs_blanked = get_or<bool>(j, "inputs_blanked", false);
    t.protocol = get_or<std::string>(j, "protocol", "cota");
    t.status = status_from_string(get_or<std::string>(j, "status", "error"));
    t.answer = get_or<std::string>(j, "answer", "");
    t.answer_source = get_or<std::string>(j, "answer_source", "none");
    t.error = get_or<std::string>(j, "error", "");
    if (auto v = j.find("verification"); v != j.end()) t.verification = *v;
    t.user_request = get_or<std::string>(j, "user_request", "");
    for (const auto& s : j.value("steps", Json::array())) t.steps.push_back(StepRecord::from_json(s));
    for (const auto& im : j.value("images", Json::array()))
      t.images.push_back(TraceImage{get_or<std::string>(im, "name", ""), get_or<std::string>(im, "path", ""),
                                    get_or<std::string>(im, "source", ""), get_or<int>(im, "width", 0),
                                    get_or<int>(im, "height", 0)});
    if (auto tot = j.find("totals"); tot != j.end()) t.wall_ms = get_or<double>(*tot, "wall_ms", 0);
    return t;
  } catch (const Json::exception& e) {
    throw Error(std::string("malformed trace: ") + e.what());
  }
}

std::vector<std::string> Trace::tools_called() const {
  std::vector<std::string> names;
  for (const auto& s : steps)
    // An action the registry does not have ran nothing (its "name" is whatever the model wrote).
    if (s.content && !s.content->actions.empty() && s.content->actions[0].name != "Terminate" && s.error_kind != "unknown_tool")
      names.push_back(s.content->actions[0].name);
  return names;
}

void finish_with_terminate(Trace& t, const std::string& thought, const std::string& answer) {
  StepRecord s;
  s.content = StepContent{thought, {Action{"Terminate", Json{{"answer", answer}}}}};
  s.raw = python_json_dumps(s.content->to_json());
  s.observation = Json{{"answer", answer}};
  t.steps.push_back(std::move(s));
  t.status = TraceStatus::kTerminated;
  t.answer = answer;
  t.answer_source = "terminate";
}

Trace direct_example(const Trace& source, const std::string& answer) {
  Trace t = source;
  t.task.id = source.task.id + "-direct";
  t.task.metadata["variant"] = "direct";
  t.images.clear();
  for (const auto& im : source.images)
    if (im.source == "input") t.images.push_back(im);
  t.steps.clear();
  finish_with_terminate(t, "", answer);
  t.error.clear();
  t.verification = nullptr;
  t.wall_ms = 0;
  return t;
}

}  // namespace taco
