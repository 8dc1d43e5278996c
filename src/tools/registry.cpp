#include "tools/registry.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "cota/image_name.h"
#include "cota/parse.h"
#include "tools/args.h"
#include "util/strings.h"
#include "util/utf8.h"
#include "util/work_pool.h"

namespace taco {

namespace {

// Calls in flight at once across the process, abandoned ones included: far above what a batch
// runs (one call per episode), low enough that calls that never return cannot take the machine.
constexpr size_t kMaxToolCallsInFlight = 1024;

// The pool that runs time-limited tool calls; threads start as calls need them. It is never
// destroyed: a call abandoned at its time limit may still be running when the process exits,
// and exit must not wait for it.
WorkPool& tool_call_pool() {
  static WorkPool* pool = new WorkPool(kMaxToolCallsInFlight, 0, true);
  return *pool;
}

}  // namespace
namespace {

[[noreturn]] void type_error(const std::string& tool, const std::string& message) {
  throw ToolError(ToolFailure::kTypeError, tool + "() " + message);
}

std::string available_images(const ToolContext& ctx) {
  std::string out;
  for (const auto& n : ctx.image_names()) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// "image-1", "image-1: <image>", "image-1.png" and " image-1 " all name image-1.
std::string normalize_image_name(std::string s) {
  auto cut = s.find_first_of(":.");
  if (cut != std::string::npos) s.resize(cut);
  size_t b = s.find_first_not_of(" \t\n'\"");
  size_t e = s.find_last_not_of(" \t\n'\"");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::optional<double> as_number(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() && end && *end == '\0' && std::isfinite(d)) return d;
  }
  return std::nullopt;
}

Json coerce(const std::string& tool, const ArgSpec& spec, const Json& v, const ToolContext& ctx) {
  auto mistyped = [&](const char* expected) -> Json {
    type_error(tool, "argument '" + spec.name + "' must be " + expected + ", got " + v.dump());
  };
  switch (spec.type) {
    case ArgType::kString:
      if (v.is_string()) return v;
      if (v.is_number()) return v.dump();
      return mistyped("a string");
    case ArgType::kNumber:
      if (v.is_number()) return v;
      if (auto d = as_number(v)) return *d;
      return mistyped("a number");
    case ArgType::kInteger: {
      auto d = as_number(v);
      if (!d || std::floor(*d) != *d) return mistyped("an integer");
      return static_cast<int64_t>(*d);
    }
    case ArgType::kBool:
      if (v.is_boolean()) return v;
      if (v == "true" || v == "True") return true;
      if (v == "false" || v == "False") return false;
      return mistyped("true or false");
    case ArgType::kImage: {
      if (!v.is_string()) return mistyped("an image name such as \"image-0\"");
      std::string name = normalize_image_name(v.get<std::string>());
      if (!ctx.find(name))
        throw ToolError(ToolFailure::kValueError, "image '" + v.get<std::string>() + "' does not exist; available images: " +
                                          available_images(ctx) + ".");
      return name;
    }
    case ArgType::kImageList: {
      Json list = v.is_array() ? v : Json::array({v});
      Json out = Json::array();
      ArgSpec one = spec;
      one.type = ArgType::kImage;
      for (const auto& e : list) out.push_back(coerce(tool, one, e, ctx));
      return out;
    }
    case ArgType::kBox: {
      Json box = v;
      if (v.is_string()) box = parse_lenient_json(v.get<std::string>()).value_or(Json());
      if (!box.is_array() || box.size() != 4) return mistyped("a list of four numbers [left, top, right, bottom]");
      Json out = Json::array();
      for (const auto& c : box) {
        auto d = as_number(c);
        if (!d) return mistyped("a list of four numbers [left, top, right, bottom]");
        out.push_back(*d);
      }
      return out;
    }
    case ArgType::kStringList: {
      if (v.is_string()) return Json::array({v});
      if (!v.is_array()) return mistyped("a list of strings");
      Json out = Json::array();
      for (const auto& e : v) {
        if (e.is_string()) out.push_back(e);
        else if (e.is_number()) out.push_back(e.dump());
        else return mistyped("a list of strings");
      }
      return out;
    }
    case ArgType::kRegions: {
      Json list = v.is_object() ? Json::array({v}) : v;
      if (!list.is_array()) return mistyped("a list of regions {\"bbox\": [...], \"label\": \"...\"}");
      Json out = Json::array();
      ArgSpec box_spec{"bbox", ArgType::kBox, ""};
      for (const auto& r : list) {
        if (!r.is_object() || !r.contains("bbox")) return mistyped("a list of regions {\"bbox\": [...], \"label\": \"...\"}");
        Json region = r;
        region["bbox"] = coerce(tool, box_spec, r["bbox"], ctx);
        if (!region.contains("label") || region["label"].is_null()) region["label"] = "";
        out.push_back(std::move(region));
      }
      return out;
    }
    case ArgType::kAny:
      return v;
  }
  return v;
}

}  // namespace

ToolContext::ToolContext(std::vector<NamedImage> images, std::string task_id, NewImages allowed)
    : images_(std::move(images)), task_id_(std::move(task_id)), allowed_(std::move(allowed)) {}

const ToolContext::NamedImage* ToolContext::find(std::string_view name) const {
  for (const auto& im : images_)
    if (im.name == name) return &im;
  return nullptr;
}

std::vector<std::string> ToolContext::image_names() const {
  std::vector<std::string> names;
  for (const auto& im : images_) names.push_back(im.name);
  return names;
}

std::string ToolContext::add_image(Image image) {
  const int64_t pixels = static_cast<int64_t>(image.width()) * image.height();
  if (pixels > allowed_.pixels_left) throw ToolError(ToolFailure::kValueError, allowed_.when_spent);
  allowed_.pixels_left -= pixels;
  new_images_.push_back(std::move(image));
  return image_name(allowed_.first_index + new_images_.size() - 1);
}

const Image& image_arg(const Json& args, const char* key, const ToolContext& ctx) {
  const auto* entry = ctx.find(args.at(key).get_ref<const std::string&>());
  if (!entry) throw ToolError(ToolFailure::kValueError, std::string("image argument '") + key + "' does not exist.");
  return entry->image;
}

std::array<double, 4> box_arg(const Json& args, const char* key) {
  const Json& b = args.at(key);
  std::array<double, 4> box{};
  for (size_t i = 0; i < 4; ++i) box[i] = b[i].get<double>();
  for (double c : box)
    if (c < 0.0 || c > 1.0) throw ToolError(ToolFailure::kValueError, "Bounding box coordinates must be between 0 and 1.");
  if (box[0] >= box[2] || box[1] >= box[3])
    throw ToolError(ToolFailure::kValueError, "The bounding box must have left < right and top < bottom.");
  return box;
}

void ToolRegistry::add(std::unique_ptr<Tool> tool) {
  std::shared_ptr<const Tool> shared(std::move(tool));
  for (auto& t : tools_) {
    if (t->spec().name == shared->spec().name) {
      t = std::move(shared);
      return;
    }
  }
  tools_.push_back(std::move(shared));
}

const Tool* ToolRegistry::find(std::string_view name) const {
  for (const auto& t : tools_)
    if (t->spec().name == name) return t.get();
  return nullptr;
}

std::vector<const Tool*> ToolRegistry::tools() const {
  std::vector<const Tool*> out;
  for (const auto& t : tools_) out.push_back(t.get());
  return out;
}

Json tool_input_schema(const ToolSpec& spec) {
  const Json number{{"type", "number"}};
  const Json box{{"type", "array"}, {"items", number}, {"minItems", 4}, {"maxItems", 4}};
  Json properties = Json::object();
  Json required = Json::array();
  for (const auto& a : spec.args) {
    Json p;
    switch (a.type) {
      case ArgType::kString: p = {{"type", "string"}}; break;
      case ArgType::kNumber: p = number; break;
      case ArgType::kInteger: p = {{"type", "integer"}}; break;
      case ArgType::kBool: p = {{"type", "boolean"}}; break;
      case ArgType::kImage: p = {{"type", "string"}}; break;
      case ArgType::kImageList: p = {{"type", "array"}, {"items", {{"type", "string"}}}}; break;
      case ArgType::kBox: p = box; break;
      case ArgType::kStringList: p = {{"type", "array"}, {"items", {{"type", "string"}}}}; break;
      case ArgType::kRegions:
        p = {{"type", "array"},
             {"items", {{"type", "object"}, {"properties", {{"bbox", box}, {"label", {{"type", "string"}}}}}, {"required", {"bbox"}}}}};
        break;
      case ArgType::kAny: p = Json::object(); break;
    }
    if (!a.description.empty()) p["description"] = a.description;
    properties[a.name] = p;
    if (a.required) required.push_back(a.name);
  }
  Json schema{{"type", "object"}, {"properties", properties}};
  if (!required.empty()) schema["required"] = required;
  return schema;
}

std::vector<ActionDoc> ToolRegistry::action_docs() const {
  std::vector<ActionDoc> docs;
  for (const auto& t : tools_) {
    if (!t->unavailable_reason().empty()) continue;  // never offer the model a tool that cannot run
    const ToolSpec& s = t->spec();
    ActionDoc d;
    d.name = s.name;
    d.description = s.description;
    for (const auto& a : s.args) d.arguments[a.name] = a.description;
    for (const auto& [key, desc] : s.returns) d.returns[key] = desc;
    d.examples = s.examples;
    docs.push_back(std::move(d));
  }
  return docs;
}

Json ToolRegistry::execute(const Action& action, const std::shared_ptr<ToolContext>& ctx) const {
  std::shared_ptr<const Tool> tool;
  for (const auto& t : tools_)
    if (t->spec().name == action.name) tool = t;
  if (!tool) {
    std::string names;
    for (const auto& t : tools_) names += (names.empty() ? "" : ", ") + t->spec().name;
    throw ToolError(ToolFailure::kKeyError, "'" + action.name + "' is not an available action; choose one of: " + names);
  }
  const ToolSpec& spec = tool->spec();
  if (std::string why = tool->unavailable_reason(); !why.empty())
    throw ToolError(ToolFailure::kRuntimeError, spec.name + " is not available here: " + why);
  if (!action.arguments.is_object()) type_error(spec.name, "arguments must be an object");

  Json args = Json::object();
  for (const auto& [key, value] : action.arguments.items()) {
    bool known = false;
    for (const auto& a : spec.args) known = known || a.name == key;
    if (!known) type_error(spec.name, "got an unexpected keyword argument '" + key + "'");
  }
  for (const auto& a : spec.args) {
    auto it = action.arguments.find(a.name);
    if (it == action.arguments.end() || it->is_null()) {
      if (a.required) type_error(spec.name, "missing 1 required positional argument: '" + a.name + "'");
      continue;
    }
    args[a.name] = coerce(spec.name, a, *it, *ctx);
  }
  if (time_limit_s_ <= 0 || tool->limits_own_time()) {
    Json result = tool->call(args, *ctx);
    cap_observation(result, spec.name);
    return result;
  }

  // The call runs on a pool thread so that an overrun can be abandoned: it finishes there, its
  // result dropped, and the thread takes the next call. Everything it touches is owned by the
  // shared state, the context or the tool (shared), so nothing dangles.
  struct Outcome {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Json result;
    std::exception_ptr error;
  };
  auto outcome = std::make_shared<Outcome>();
  const bool taken = tool_call_pool().try_submit([outcome, ctx, tool, args = std::move(args)] {
    Json result;
    std::exception_ptr error;
    try {
      result = tool->call(args, *ctx);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(outcome->mu);
    outcome->result = std::move(result);
    outcome->error = error;
    outcome->done = true;
    outcome->cv.notify_all();
  });
  if (!taken)
    throw ToolError(ToolFailure::kRuntimeError, spec.name + " was not run: " + std::to_string(kMaxToolCallsInFlight) +
                                        " tool calls are in flight (or abandoned and still running)");
  std::unique_lock<std::mutex> lock(outcome->mu);
  if (!outcome->cv.wait_for(lock, std::chrono::duration<double>(time_limit_s_), [&] { return outcome->done; })) {
    ctx->cancel();
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", time_limit_s_);
    throw ToolError(ToolFailure::kTimeoutError, spec.name + " did not finish within " + limit + " seconds");
  }
  if (outcome->error) std::rethrow_exception(outcome->error);
  Json result = std::move(outcome->result);
  cap_observation(result, spec.name);
  return result;
}

void cap_observation(Json& result, const std::string& tool) {
  size_t size = result.dump(-1, ' ', false, Json::error_handler_t::replace).size();
  if (size <= kMaxObservationBytes) return;
  // Long texts are cut to a share of the limit each, the notice included.
  std::vector<std::string*> long_texts;
  auto collect = [&](auto&& self, Json& v, int depth) -> void {
    if (depth > 64) return;
    if (v.is_string() && v.get_ref<std::string&>().size() > 1024) long_texts.push_back(&v.get_ref<std::string&>());
    else if (v.is_structured())
      for (auto& child : v) self(self, child, depth + 1);
  };
  collect(collect, result, 0);
  if (!long_texts.empty()) {
    const size_t share = std::max<size_t>(512, kMaxObservationBytes / 2 / long_texts.size());
    for (std::string* text : long_texts) {
      if (text->size() <= share) continue;
      const std::string whole = byte_size_text(text->size());
      text->resize(utf8_prefix(*text, share).size());
      *text += "... [cut: " + tool + " returned " + whole + " here; the first " + byte_size_text(share) + " are shown]";
    }
    size = result.dump(-1, ' ', false, Json::error_handler_t::replace).size();
  }
  if (size > kMaxObservationBytes)
    throw ToolError(ToolFailure::kRuntimeError, tool + " returned a result of " + byte_size_text(size) + ", over the limit of " +
                                        byte_size_text(kMaxObservationBytes) + " for one observation");
}

}  // namespace taco
