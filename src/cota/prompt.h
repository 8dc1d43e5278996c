// PromptTemplate: every text taco sends to a model, in TACO's message structure.
//
//   system         CoTA: goal, the actions (from the tool registry), task and format
//                  instructions, worked examples. Direct: a one-line goal.
//   user request   "# USER REQUEST #:", an "image-k: <image>" line per image, the question.
//   observation    "OBSERVATION:" then the tool's result as a Python dict repr.
//   errors         the execution-error and parse-error feedback.
//
// The default wording is taco's own. A template file (JSON, docs/prompt-templates.md) can
// replace any part, so a user can supply the exact text a checkpoint was trained with.
// Placeholders are written {{name}}. Immutable after construction; thread-safe to share.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cota/parse.h"
#include "util/json.h"

namespace taco {

// What the prompt says about one action; built from a tool's spec.
struct ActionDoc {
  std::string name;
  std::string description;
  Json arguments = Json::object();  // argument name -> description
  Json returns = Json::object();    // return key -> description
  std::vector<Json> examples;       // {"name", "arguments"} objects
};

class PromptTemplate {
 public:
  // The template keys a file may set; every one has a default.
  static const std::vector<std::string>& keys();

  static PromptTemplate defaults();
  // Reads a JSON object of {key: text}; unknown keys and non-string values are errors.
  static PromptTemplate from_file(const std::string& path);
  // The same from a JSON object; `what` names its source in errors.
  static PromptTemplate from_json(const Json& texts, const std::string& what);
  // Every text by key (a complete template, as from_json reads it).
  Json to_json() const;
  // SHA-256 of to_json(): which template a trace or a checkpoint used.
  std::string hash() const;

  std::string cota_system(const std::vector<ActionDoc>& actions) const;
  std::string direct_system() const;
  std::string user_request(const std::string& question, const std::vector<std::string>& image_names,
                           bool cota) const;
  // `observation_repr` is the tool result already rendered (Python dict repr).
  std::string observation(const std::string& observation_repr) const;
  std::string execution_error(const std::string& error) const;
  std::string parse_error(ParseErrorKind kind, const std::string& message) const;
  // The observation dict for a step whose action list was empty.
  std::string no_action_message() const;

  // The actions block ("Name: ...", "Description: ...", ...) for the system prompt.
  static std::string render_actions(const std::vector<ActionDoc>& actions);

 private:
  const std::string& text(const std::string& key) const;
  std::map<std::string, std::string> texts_;
};

// A tool result as the model sees it after "OBSERVATION:": a Python dict repr with the keys in
// alphabetical order (TACO printed its observation object's attributes, which Python lists
// sorted), and each new image's name shown as "image-k: <image>".
std::string observation_repr(const Json& result, const std::vector<std::string>& new_images);

// Replaces each {{name}} in `text` by vars[name]; unknown placeholders stay as they are.
std::string fill_placeholders(const std::string& text, const std::map<std::string, std::string>& vars);

}  // namespace taco
