// Tool: one action a model can call (OCR, Crop, Calculate, Terminate, ...), with the spec the
// prompt describes and the registry validates arguments against.
//
// A tool's call() gets arguments that already match its spec, may add images to the episode's
// store, and returns the observation dict (an object whose keys are the tool's return names).
// It reports failure by throwing ToolError, which becomes TACO's "Execution failed with ..."
// observation. Tools are shared by every episode in flight: call() must be thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <limits>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/image.h"
#include "util/error.h"
#include "util/json.h"

namespace taco {

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

// The Python exception class a failed call's observation names ("Execution failed with
// <class 'ValueError'>: ..."): released TACO checkpoints have seen these names, so they are the
// format; the enum keeps a misspelt one from compiling. Tool workers send the name over their
// pipe, and one they do not know reads as RuntimeError.
enum class ToolFailure : uint8_t {
  kValueError,
  kTypeError,
  kKeyError,
  kLookupError,
  kNameError,
  kRuntimeError,
  kTimeoutError,
  kConnectionError,
  kPermissionError,
  kNotImplementedError,
  kSyntaxError,
  kOverflowError,
  kZeroDivisionError,
  kRecursionError,
  kMemoryError,
};
const char* to_string(ToolFailure kind);
ToolFailure tool_failure_from_string(std::string_view name);

// A failed call: a taco::Error (one root for every error taco throws) with the failure's kind.
class ToolError : public Error {
 public:
  ToolError(ToolFailure kind, const std::string& message) : Error(message), kind_(kind) {}
  ToolFailure kind() const { return kind_; }

  // TACO's failure observation: "Execution failed with <class 'ValueError'>: message."
  std::string observation() const {
    std::string m = what();
    return std::string("Execution failed with <class '") + to_string(kind_) + "'>: " + m + (!m.empty() && m.back() == '.' ? "" : ".");
  }

 private:
  ToolFailure kind_;
};

// What a tool call sees of its episode: a snapshot of the episode's images (by name only) and
// the images the call makes. The runtime commits new images to the episode after the call
// returns in time; a call that overruns its time limit is abandoned and its images dropped.
// One context per call; the call's thread owns it while it runs.
class ToolContext {
 public:
  struct NamedImage {
    std::string name;
    std::string path;    // the input file ("" for images tools made)
    std::string source;  // "input" or the tool that made it
    Image image;
  };

  // What the call may add to the episode's images, as the episode's ImageStore decides it
  // (tools/image_store.h: the names and the pixel budget are its facts): names from
  // image-<first_index> on, at most max_pixels each and pixels_left together.
  struct NewImages {
    size_t first_index = 0;
    int64_t max_pixels = 0;
    int64_t pixels_left = 0;
    std::string when_spent;  // the failed call's message once pixels_left is spent
  };

  ToolContext(std::vector<NamedImage> images, std::string task_id, NewImages allowed);

  const NamedImage* find(std::string_view name) const;
  std::vector<std::string> image_names() const;
  // Adds an image this call made; returns the name it gets in the episode (image-k). Throws
  // ToolError when the episode's budget for tool images cannot take it.
  std::string add_image(Image image);
  const std::vector<Image>& new_images() const { return new_images_; }

  // Extra output kept in the trace but not shown to the model (e.g. OCR word boxes).
  void set_details(Json details) { details_ = std::move(details); }
  const Json& details() const { return details_; }

  const std::string& task_id() const { return task_id_; }
  // The largest image this call may still make: the per-image limit, or less when the
  // episode's budget is nearly spent. Tools check it before they allocate.
  int64_t max_pixels() const { return std::min(allowed_.max_pixels, allowed_.pixels_left); }

  // Set when the call ran out of time; long-running tools may poll it and stop early.
  bool cancelled() const { return cancelled_.load(); }
  void cancel() { cancelled_.store(true); }

 private:
  std::vector<NamedImage> images_;
  std::vector<Image> new_images_;
  Json details_;
  std::string task_id_;
  NewImages allowed_;  // pixels_left counts down as the call adds images
  std::atomic<bool> cancelled_{false};
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
  // True when call() enforces the registry's time limit itself (a worker process is killed at
  // the limit), so the registry need not run it on a thread it can abandon.
  virtual bool limits_own_time() const { return false; }
};

}  // namespace taco
