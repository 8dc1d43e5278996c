#include "cota/training_format.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "cota/parse.h"
#include "cota/prompt.h"
#include "util/error.h"
#include "util/pyrepr.h"

namespace taco {
namespace {

size_t count_placeholders(const std::string& text) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find("<image>", at)) != std::string::npos; at += 7) ++n;
  return n;
}

}  // namespace

std::vector<Turn> training_turns(const Trace& trace, bool as_written) {
  std::vector<Turn> turns{{true, trace.user_request}};
  for (const auto& step : trace.steps) {
    turns.push_back({false, step.content && !as_written ? python_json_dumps(step.content->to_json()) : step.raw});
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

Json to_role_messages(const Trace& trace) {
  Json messages = Json::array();
  for (const auto& t : training_turns(trace)) messages.push_back(Json{{"role", t.from_user ? "user" : "assistant"}, {"content", t.text}});
  return Json{{"messages", std::move(messages)}, {"images", training_images(trace)}};
}

Json to_sharegpt_tools(const Trace& trace, const std::string& tools) {
  std::map<std::string, std::string> path_of;
  for (const auto& im : trace.images) path_of[im.name] = im.path;
  Json images = Json::array();
  std::string first;
  for (const auto& im : trace.images)
    if (im.source == "input") {
      first += im.name + ": <image>\n";
      images.push_back(im.path);
    }
  Json turns = Json::array({Json{{"from", "human"}, {"value", first + trace.task.question}}});
  for (size_t i = 0; i < trace.steps.size(); ++i) {
    const StepRecord& step = trace.steps[i];
    const bool last = i + 1 == trace.steps.size();
    if (!step.content) {
      if (trace.mode == PromptMode::kDirect && last) {  // a Direct answer is the model's text
        turns.push_back(Json{{"from", "gpt"}, {"value", trace.answer}});
        break;
      }
      throw Error("a reply that was not a step");
    }
    const auto& actions = step.content->actions;
    if (actions.empty()) throw Error("a step without actions");
    Json calls = Json::array();
    for (const auto& a : actions) calls.push_back(Json{{"name", a.name}, {"arguments", a.arguments}});
    turns.push_back(Json{{"from", "function_call"}, {"value", (calls.size() == 1 ? calls[0] : calls).dump()}});
    if (last) {
      if (actions.back().name != "Terminate") throw Error("the chain does not end with Terminate");
      break;
    }
    std::string said;
    for (size_t k = 0; k < actions.size(); ++k) {
      const Json result = step.observation.is_array() && actions.size() > 1 ? step.observation[k] : step.observation;
      if (!said.empty()) said += "\n";
      if (result.is_object() && result.contains("error") && result.size() == 1 && result["error"].is_string()) said += result["error"].get<std::string>();
      else if (!result.is_null()) said += observation_repr(result, step.new_images);
      else said += "Execution failed: " + step.error;
    }
    // Every image a tool returned is shown; the images list follows the placeholders' order.
    for (const auto& name : step.new_images)
      if (said.find(name + ": <image>") == std::string::npos) said += "\n" + name + ": <image>";
    for (size_t at = 0; (at = said.find(": <image>", at)) != std::string::npos; at += 9) {
      size_t begin = at;
      while (begin > 0 && (std::isalnum(static_cast<unsigned char>(said[begin - 1])) || said[begin - 1] == '-')) --begin;
      auto path = path_of.find(said.substr(begin, at - begin));
      if (path == path_of.end()) throw Error("an observation shows an image the trace does not have");
      images.push_back(path->second);
    }
    turns.push_back(Json{{"from", "observation"}, {"value", said}});
  }
  return Json{{"conversations", std::move(turns)}, {"tools", tools}, {"images", std::move(images)}};
}

std::string check_llamafactory_record(const Json& r) {
  if (!r.is_object()) return "not a JSON object";
  const bool roles = r.contains("messages");
  const Json* turns = roles ? &r["messages"] : r.contains("conversations") ? &r["conversations"] : nullptr;
  if (!turns || !turns->is_array() || turns->empty()) return "no \"messages\" or \"conversations\" list";
  const char* who_key = roles ? "role" : "from";
  const char* text_key = roles ? "content" : "value";
  size_t start = 0;
  if ((*turns)[0].value(who_key, "") == "system") start = 1;
  const size_t n = turns->size() - start;
  if (n == 0 || n % 2 != 0) return "an odd number of turns (the loader skips such records)";
  size_t placeholders = 0;
  for (size_t i = start; i < turns->size(); ++i) {
    const Json& t = (*turns)[i];
    if (!t.is_object() || !t.contains(text_key) || !t[text_key].is_string()) return "a turn without a \"" + std::string(text_key) + "\" string";
    const std::string who = t.value(who_key, "");
    const std::string text = t[text_key].get<std::string>();
    const bool user_side = who == "user" || who == "human" || who == "observation";
    const bool assistant_side = who == "assistant" || who == "gpt" || who == "function_call";
    if ((i - start) % 2 == 0 ? !user_side : !assistant_side)
      return "turn " + std::to_string(i) + " is from '" + who + "' where " + ((i - start) % 2 == 0 ? "a user or observation" : "an assistant or function_call") + " turn belongs";
    placeholders += count_placeholders(text);
    if (who == "function_call") {
      Json call;
      try {
        call = parse_json(text);
      } catch (const Error&) {
        return "a function_call that is not JSON";
      }
      auto is_call = [](const Json& c) { return c.is_object() && c.contains("name") && c["name"].is_string() && c.contains("arguments"); };
      const bool ok = is_call(call) || (call.is_array() && !call.empty() && std::all_of(call.begin(), call.end(), is_call));
      if (!ok) return "a function_call without \"name\" and \"arguments\"";
    }
  }
  const size_t images = r.contains("images") && r["images"].is_array() ? r["images"].size() : 0;
  if (placeholders != images)
    return std::to_string(placeholders) + " <image> placeholders for " + std::to_string(images) + " images";
  return "";
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

Json to_messages(const Trace& trace, const std::string& id, const Json& tools) {
  std::map<std::string, std::string> path_of;
  for (const auto& im : trace.images) path_of[im.name] = im.path;
  Json images = Json::array();
  auto image_parts = [&](const std::vector<std::string>& names, Json& content) {
    for (const auto& name : names) {
      content.push_back(Json{{"type", "text"}, {"text", name + ":"}});
      content.push_back(Json{{"type", "image"}, {"image", path_of[name]}});
      images.push_back(path_of[name]);
    }
  };
  Json messages = Json::array();
  Json first = Json::array();
  std::vector<std::string> inputs;
  for (const auto& im : trace.images)
    if (im.source == "input") inputs.push_back(im.name);
  image_parts(inputs, first);
  first.push_back(Json{{"type", "text"}, {"text", trace.task.question}});
  messages.push_back(Json{{"role", "user"}, {"content", first}});
  int call_number = 0;
  for (size_t i = 0; i < trace.steps.size(); ++i) {
    const StepRecord& step = trace.steps[i];
    if (!step.content) {
      // A reply that was not a step (Direct, or one the parser refused): its text as it was.
      messages.push_back(Json{{"role", "assistant"}, {"content", trace.mode == PromptMode::kDirect ? trace.answer : step.raw}});
      if (!step.feedback.empty()) messages.push_back(Json{{"role", "user"}, {"content", step.feedback}});
      continue;
    }
    Json calls = Json::array();
    std::vector<std::string> ids;
    for (const auto& a : step.content->actions) {
      ids.push_back("call_" + std::to_string(call_number++));
      calls.push_back(Json{{"id", ids.back()}, {"type", "function"}, {"function", {{"name", a.name}, {"arguments", a.arguments}}}});
    }
    Json assistant{{"role", "assistant"}, {"content", step.content->thought}};
    if (!calls.empty()) assistant["tool_calls"] = calls;
    messages.push_back(std::move(assistant));
    const bool last = i + 1 == trace.steps.size();
    if (last) break;  // Terminate (or the reply budget): nothing was fed back
    const auto& actions = step.content->actions;
    for (size_t k = 0; k < actions.size(); ++k) {
      const Json result = step.observation.is_array() && actions.size() > 1 ? step.observation[k] : step.observation;
      std::string said;
      if (result.is_object() && result.contains("error") && result.size() == 1 && result["error"].is_string()) said = result["error"];
      else if (!result.is_null()) said = observation_repr(result, step.new_images);
      else said = "Execution failed: " + step.error;
      messages.push_back(Json{{"role", "tool"}, {"tool_call_id", ids[k]}, {"name", actions[k].name}, {"content", said}});
    }
    if (actions.empty() && !step.feedback.empty()) messages.push_back(Json{{"role", "user"}, {"content", step.feedback}});
    if (!step.new_images.empty()) {
      Json content = Json::array();
      image_parts(step.new_images, content);
      messages.push_back(Json{{"role", "user"}, {"content", content}});
    }
  }
  return Json{{"id", id}, {"messages", messages}, {"images", images}, {"tools", tools}};
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
