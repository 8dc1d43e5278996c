// Tool: one action a model can call (OCR, Crop, Calculate, Terminate, ...), with the spec the
// prompt describes and the registry validates arguments against.
//
// A tool's call() gets arguments that already match its spec, may add images to the episode's
// store, and returns the observation dict (an object whose keys are the tool's return names).
// It reports failure by throwing ToolError, which becomes TACO's "Execution failed with ..."
// observation. Tools are shared by every episode in flight: call() must be thread-safe.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "util/json.h"

namespace taco {

class ImageStore;

enum class ArgType {
  kString,
  kNumber,
  kInteger,
  kBool,
  kImage,       // "image-k" of the episode
  kImageList,   // ["image-1", "image-2"]
  kBox,         // [left, top, right, bottom], normalized to [0, 1]
  kStringList,
  kRegions,     // [{"bbox": [...], "label": "..."}]
  kAny,
};

struct ArgSpec {
  std::string name;
  ArgType type;
  std::string description;
  bool required = true;
};

struct ToolSpec {
  std::string name;
  std::string description;
  std::vector<ArgSpec> args;
  std::vector<std::pair<std::string, std::string>> returns;  // key -> description
  std::vector<Json> examples;                                // {"name", "arguments"}
};

// A failed call. `kind` is the Python exception class TACO's observations name
// (ValueError, TypeError, KeyError, ...), which released checkpoints have seen.
class ToolError : public std::runtime_error {
 public:
  ToolError(std::string kind, const std::string& message) : std::runtime_error(message), kind_(std::move(kind)) {}
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
};

struct ToolContext {
  ImageStore& images;
  std::string task_id;
};

class Tool {
 public:
  virtual ~Tool() = default;
  virtual const ToolSpec& spec() const = 0;
  virtual Json call(const Json& args, ToolContext& ctx) const = 0;
  // Which implementation runs the tool ("builtin", "tesseract", "oracle", ...).
  virtual std::string backend() const { return "builtin"; }
  // "" when the tool can run; otherwise why it cannot (the observation says so).
  virtual std::string unavailable_reason() const { return ""; }
};

}  // namespace taco
