// Action and StepContent: what a model writes in one CoTA step,
//   {"thought": "...", "actions": [{"name": "OCR", "arguments": {"image": "image-0"}}]}
// Plain values; no thread-safety concerns.
#pragma once

#include <string>
#include <vector>

#include "util/json.h"

namespace taco {

struct Action {
  std::string name;
  Json arguments = Json::object();

  Json to_json() const { return Json{{"name", name}, {"arguments", arguments}}; }
};

struct StepContent {
  std::string thought;
  std::vector<Action> actions;  // TACO executes only the first; an empty list means "no action"

  // The canonical step JSON, "thought" before "actions", as TACO's models write it.
  Json to_json() const {
    Json acts = Json::array();
    for (const auto& a : actions) acts.push_back(a.to_json());
    return Json{{"thought", thought}, {"actions", std::move(acts)}};
  }
};

}  // namespace taco
