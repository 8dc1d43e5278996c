#include "cota/prompt.h"

#include <set>

#include "util/error.h"
#include "util/files.h"
#include "util/pyrepr.h"
#include "util/sha256.h"

namespace taco {
namespace {

const char kObservationSuffix[] =
    "\nThis observation may be incomplete or wrong, so weigh it critically. If you now have enough "
    "information, call Terminate with the final answer; otherwise write the next step.";

const std::map<std::string, std::string>& default_texts() {
  static const std::map<std::string, std::string> texts = {
      {"cota_system",
       "[BEGIN OF GOAL]\n"
       "You are an assistant that answers the # USER REQUEST # about the given image(s). You may answer "
       "from what you see and know, or call the actions listed below to gather evidence first; the result "
       "of each action comes back to you as an OBSERVATION.\n"
       "[END OF GOAL]\n\n"
       "[BEGIN OF ACTIONS]\n"
       "{{actions}}"
       "[END OF ACTIONS]\n\n"
       "[BEGIN OF TASK INSTRUCTIONS]\n"
       "1. Use only the actions listed in # ACTIONS #.\n"
       "2. Call exactly one action in each step.\n"
       "3. When a step needs no action, give an empty list (\"actions\": []).\n"
       "4. Always finish by calling Terminate with your final answer.\n"
       "[END OF TASK INSTRUCTIONS]\n\n"
       "[BEGIN OF FORMAT INSTRUCTIONS]\n"
       "Write each step as one strict JSON object and nothing else:\n"
       "{\"thought\": \"your reasoning for this step, or an empty string\", \"actions\": [{\"name\": "
       "\"the action\", \"arguments\": {\"argument\": \"value\"}}]}\n"
       "[END OF FORMAT INSTRUCTIONS]\n\n"
       "[BEGIN OF EXAMPLES]:\n"
       "{{examples}}"
       "[END OF EXAMPLES]\n"},
      {"direct_system", "You are an assistant that answers the # USER REQUEST # about the given image(s).\n"},
      {"cota_user", "\n# USER REQUEST #:\n{{images}}{{question}}\n\nNow write the first step:\n"},
      {"direct_user", "\n# USER REQUEST #:\n{{images}}{{question}}\n"},
      {"image_line", "{{name}}: <image>\n"},
      {"observation", std::string("OBSERVATION:\n{{observation}}") + kObservationSuffix},
      {"execution_error", std::string("{{error}}") + kObservationSuffix},
      {"json_error",
       "OBSERVATION:\n{{error}}\nYour reply could not be read as JSON. Write the same step again as one "
       "strict JSON object that json.loads() accepts:\n1. keep its content;\n2. use double quotes for keys "
       "and strings;\n3. balance the curly brackets and drop anything after the last one."},
      {"format_error",
       "OBSERVATION:\n{{error}}\nFix the step and try again, or call Terminate if the problem cannot be "
       "fixed."},
      {"no_action", "No action was given; go on with the next step."},
  };
  return texts;
}

// Worked examples for the system prompt, in taco's own words. An example is shown only when
// every action it calls is registered, so the prompt never demonstrates a missing tool.
struct DemoStep {
  std::string thought;
  Json action;       // {"name", "arguments"}
  Json observation;  // null for the final step
};
struct Demo {
  std::string request;
  std::vector<DemoStep> steps;
};

const std::vector<Demo>& demos() {
  static const std::vector<Demo> list = {
      {"image-0 shows a cafe receipt. How much do two coffees cost? Answer with a number.",
       {{"I need the prices printed on the receipt, so I will read its text first.",
         Json{{"name", "OCR"}, {"arguments", {{"image", "image-0"}}}},
         Json{{"text", "Espresso 2.80\nCoffee 3.25\nBagel 2.10\nTotal 8.15"}}},
        {"A coffee costs 3.25, so two cost 2 times 3.25.",
         Json{{"name", "Calculate"}, {"arguments", {{"expression", "2 * 3.25"}}}}, Json{{"result", 6.5}}},
        {"Two coffees cost 6.5.", Json{{"name", "Terminate"}, {"arguments", {{"answer", "6.5"}}}}, nullptr}}},
      {"What does the small sign at the top right of image-0 say?",
       {{"The sign is small; zooming in on the top right corner should make it readable.",
         Json{{"name", "ZoomIn"},
              {"arguments", {{"image", "image-0"}, {"bbox", {0.62, 0.05, 0.95, 0.3}}, {"zoom_factor", 3}}}},
         Json{{"image", "image-1"}}},
        {"The zoomed view image-1 shows the sign clearly; I will read it.",
         Json{{"name", "OCR"}, {"arguments", {{"image", "image-1"}}}}, Json{{"text", "NO PARKING"}}},
        {"The sign says NO PARKING.", Json{{"name", "Terminate"}, {"arguments", {{"answer", "NO PARKING"}}}},
         nullptr}}},
      {"How many apples are on the table in image-0? Answer with a single number.",
       {{"I will locate the apples to count them.",
         Json{{"name", "LocalizeObjects"}, {"arguments", {{"image", "image-0"}, {"objects", {"apple"}}}}},
         Json{{"image", "image-1"},
              {"regions", {{{"label", "apple"}, {"bbox", {0.21, 0.52, 0.33, 0.7}}, {"score", 0.91}},
                           {{"label", "apple-2"}, {"bbox", {0.4, 0.5, 0.52, 0.69}}, {"score", 0.88}},
                           {{"label", "apple-3"}, {"bbox", {0.58, 0.55, 0.7, 0.72}}, {"score", 0.47}}}}}},
        {"Three regions were found; looking at image-1, the low-scoring third box is also an apple.",
         Json{{"name", "Terminate"}, {"arguments", {{"answer", "3"}}}}, nullptr}}},
      {"Which part of image-0 is the red door in, left or right? A. left B. right. Answer with the letter.",
       {{"The red door is clearly visible on the left side of the picture, so no action is needed.",
         Json{{"name", "Terminate"}, {"arguments", {{"answer", "A"}}}}, nullptr}}},
  };
  return list;
}

std::string render_examples(const std::vector<ActionDoc>& actions) {
  std::set<std::string> available;
  for (const auto& a : actions) available.insert(a.name);
  std::string out;
  for (const auto& demo : demos()) {
    bool usable = true;
    for (const auto& step : demo.steps) usable = usable && available.count(step.action["name"].get<std::string>());
    if (!usable) continue;
    out += "# USER REQUEST #:\n" + demo.request + "\n# RESPONSE #:\n";
    for (const auto& step : demo.steps) {
      Json s{{"thought", step.thought}, {"actions", Json::array({step.action})}};
      out += python_json_dumps(s) + "\n";
      if (!step.observation.is_null()) out += "OBSERVATION:\n" + python_json_dumps(step.observation) + "\n";
    }
    out += "\n";
  }
  return out;
}

}  // namespace

std::string observation_repr(const Json& result, const std::vector<std::string>& new_images) {
  if (!result.is_object()) return python_repr(result);
  std::map<std::string, Json> sorted;
  for (const auto& [key, value] : result.items()) {
    Json shown = value;
    if (value.is_string())
      for (const auto& name : new_images)
        if (value.get_ref<const std::string&>() == name) shown = name + ": <image>";
    sorted.emplace(key, std::move(shown));
  }
  Json ordered = Json::object();
  for (auto& [key, value] : sorted) ordered[key] = std::move(value);
  return python_repr(ordered);
}

std::string fill_placeholders(const std::string& text, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) break;
    auto it = vars.find(text.substr(open + 2, close - open - 2));
    if (it == vars.end()) {
      out.append(text, i, close + 2 - i);
    } else {
      out.append(text, i, open - i);
      out += it->second;
    }
    i = close + 2;
  }
  out.append(text, i, std::string::npos);
  return out;
}

const std::vector<std::string>& PromptTemplate::keys() {
  static const std::vector<std::string> k = [] {
    std::vector<std::string> names;
    for (const auto& [name, text] : default_texts()) names.push_back(name);
    return names;
  }();
  return k;
}

PromptTemplate PromptTemplate::defaults() {
  PromptTemplate t;
  t.texts_ = default_texts();
  return t;
}

PromptTemplate PromptTemplate::from_file(const std::string& path) { return from_json(read_json_file(path), path); }

Json PromptTemplate::to_json() const {
  Json j = Json::object();
  for (const auto& [key, text] : texts_) j[key] = text;
  return j;
}

std::string PromptTemplate::hash() const { return sha256_hex(to_json().dump()); }

PromptTemplate PromptTemplate::from_json(const Json& j, const std::string& path) {
  if (!j.is_object()) throw Error(path + ": a prompt template must be a JSON object of {key: text}");
  PromptTemplate t = defaults();
  for (const auto& [key, value] : j.items()) {
    if (!t.texts_.count(key)) {
      std::string known;
      for (const auto& k : keys()) known += (known.empty() ? "" : ", ") + k;
      throw Error(path + ": unknown template key '" + key + "' (known: " + known + ")");
    }
    if (!value.is_string()) throw Error(path + ": template key '" + key + "' must be a string");
    t.texts_[key] = value.get<std::string>();
  }
  return t;
}

const std::string& PromptTemplate::text(const std::string& key) const { return texts_.at(key); }

std::string PromptTemplate::render_actions(const std::vector<ActionDoc>& actions) {
  std::string out;
  for (const auto& a : actions) {
    out += "Name: " + a.name + "\n";
    out += "Description: " + a.description + "\n";
    out += "Arguments: " + python_json_dumps(a.arguments) + "\n";
    out += "Returns: " + python_json_dumps(a.returns) + "\n";
    out += "Examples:\n";
    for (const auto& e : a.examples) out += python_json_dumps(e) + "\n";
    out += "\n";
  }
  return out;
}

std::string PromptTemplate::cota_system(const std::vector<ActionDoc>& actions) const {
  std::string names;
  for (const auto& a : actions) names += (names.empty() ? "" : ", ") + a.name;
  return fill_placeholders(text("cota_system"), {{"actions", render_actions(actions)},
                                                 {"action_names", names},
                                                 {"examples", render_examples(actions)}});
}

std::string PromptTemplate::direct_system() const { return text("direct_system"); }

std::string PromptTemplate::user_request(const std::string& question, const std::vector<std::string>& image_names,
                                         bool cota) const {
  std::string lines;
  for (const auto& name : image_names) lines += fill_placeholders(text("image_line"), {{"name", name}});
  return fill_placeholders(text(cota ? "cota_user" : "direct_user"), {{"images", lines}, {"question", question}});
}

std::string PromptTemplate::observation(const std::string& observation_repr) const {
  return fill_placeholders(text("observation"), {{"observation", observation_repr}});
}

std::string PromptTemplate::execution_error(const std::string& error) const {
  return fill_placeholders(text("execution_error"), {{"error", error}});
}

std::string PromptTemplate::parse_error(ParseErrorKind kind, const std::string& message) const {
  return fill_placeholders(text(kind == ParseErrorKind::kJson ? "json_error" : "format_error"), {{"error", message}});
}

std::string PromptTemplate::no_action_message() const { return text("no_action"); }

}  // namespace taco
