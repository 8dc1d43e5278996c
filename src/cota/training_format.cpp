#include "cota/training_format.h"

#include "cota/parse.h"
#include "util/pyrepr.h"

namespace taco {
namespace {

size_t count_placeholders(const std::string& text) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find("<image>", at)) != std::string::npos; at += 7) ++n;
  return n;
}

}  // namespace

std::vector<Turn> training_turns(const Trace& trace) {
  std::vector<Turn> turns{{true, trace.user_request}};
  for (const auto& step : trace.steps) {
    turns.push_back({false, step.content ? python_json_dumps(step.content->to_json()) : step.raw});
    if (!step.feedback.empty()) turns.push_back({true, step.feedback});
  }
  return turns;
}

std::vector<std::string> training_images(const Trace& trace) {
  std::vector<std::string> paths;
  for (const auto& im : trace.images) paths.push_back(im.path);
  return paths;
}

Json to_llava(const Trace& trace, const std::string& id) {
  Json conversations = Json::array();
  for (const auto& t : training_turns(trace)) conversations.push_back(Json{{"from", t.from_user ? "human" : "gpt"}, {"value", t.text}});
  return Json{{"id", id}, {"image", training_images(trace)}, {"conversations", std::move(conversations)}};
}

std::string task_instruction(const std::vector<std::string>& action_names) {
  std::string list;
  for (const auto& n : action_names) list += (list.empty() ? "" : ", ") + n;
  return "Answer the request about the image(s), thinking step by step and calling these actions when they help: " + list +
         ". Write each step as {\"thought\": ..., \"actions\": [...]} and finish with Terminate.";
}

Json to_mantis(const Trace& trace, const std::string& id, const std::string& dataset, const std::string& instruction) {
  Json conversation = Json::array();
  bool first = true;
  for (const auto& t : training_turns(trace)) {
    std::string text = t.text;
    if (first) text = instruction + "\n" + text;
    first = false;
    conversation.push_back(Json{{"role", t.from_user ? "user" : "assistant"}, {"content", std::move(text)}});
  }
  return Json{{"id", id},
              {"images", training_images(trace)},
              {"conversation", std::move(conversation)},
              {"metadata", {{"dataset", dataset}, {"task_instruction", instruction}}}};
}

std::string check_training_record(const Json& r) {
  const bool llava = r.contains("conversations");
  const Json* turns = llava ? &r["conversations"] : r.contains("conversation") ? &r["conversation"] : nullptr;
  const Json* images = r.contains(llava ? "image" : "images") ? &r[llava ? "image" : "images"] : nullptr;
  if (!turns || !turns->is_array() || turns->empty()) return "no conversation";
  if (!images || !images->is_array()) return "no image list";
  size_t placeholders = 0;
  std::string last_assistant;
  for (const auto& t : *turns) {
    bool user = llava ? t.value("from", "") == "human" : t.value("role", "") == "user";
    std::string text = t.value(llava ? "value" : "content", "");
    if (user) {
      placeholders += count_placeholders(text);
      continue;
    }
    ParseResult p = parse_response(text);
    if (!p.ok()) return "an assistant turn does not parse: " + p.error;
    last_assistant = text;
    if (p.step->actions.size() != 1) return "an assistant turn must call exactly one action";
  }
  if (placeholders != images->size())
    return std::to_string(placeholders) + " <image> placeholders for " + std::to_string(images->size()) + " images";
  ParseResult last = parse_response(last_assistant);
  if (!last.ok() || last.step->actions.empty() || last.step->actions[0].name != "Terminate")
    return "the last assistant turn does not call Terminate";
  return "";
}

}  // namespace taco
