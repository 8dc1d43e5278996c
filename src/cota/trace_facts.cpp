#include "cota/trace_facts.h"

#include <simdjson.h>

#include <functional>
#include <optional>

#include "cota/parse.h"
#include "util/hash.h"

namespace taco {
namespace {

namespace od = simdjson::ondemand;

uint64_t mix(uint64_t h, std::string_view s) {
  uint64_t x = h ^ (hash_bytes(s) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  return x;
}

std::string str(od::value v) {
  std::string_view s = v.get_string();
  return std::string(s);
}

void read_task(od::object task, TraceFacts& f, bool want_images, bool want_task) {
  for (auto field : task) {
    std::string_view key = field.unescaped_key();
    od::value v = field.value();
    if (key == "question") {
      f.content_hash = mix(f.content_hash, v.raw_json_token());
      if (want_task) f.question = str(v);
    } else if (key == "images") {
      for (auto p : v.get_array()) {
        std::string_view path = p.get_string();
        f.content_hash = mix(f.content_hash, path);
        if (want_images) f.image_paths.emplace_back(path);
        if (want_task) f.input_images.emplace_back(path);
      }
    } else if (key == "metadata") {
      for (auto m : v.get_object()) {
        std::string_view mk = m.unescaped_key();
        std::string* target = mk == "source" ? &f.source : mk == "variant" ? &f.variant : nullptr;
        if (!target) continue;
        od::value mv = m.value();
        if (mv.type() == od::json_type::string) *target = str(mv);
      }
    }
  }
}

void read_step(od::object step, TraceFacts& f) {
  ++f.steps;
  std::optional<std::string> action;  // the first action's name: only it runs
  std::string error_kind;
  for (auto field : step) {
    std::string_view key = field.unescaped_key();
    od::value v = field.value();
    if (key == "raw") {
      f.content_hash = mix(f.content_hash, v.raw_json_token());
    } else if (key == "actions") {
      for (auto a : v.get_array()) {
        action = std::string(std::string_view(a.find_field_unordered("name").get_string()));
        break;
      }
    } else if (key == "error") {
      error_kind = str(v.find_field_unordered("kind"));
      if (is_parse_failure(error_kind)) ++f.parse_failures;
      else if (is_failed_action(error_kind)) ++f.failed_actions;
    }
  }
  // As Trace::tools_called counts them: an action the registry does not have ran nothing.
  if (action && *action != "Terminate" && error_kind != "unknown_tool") f.tools.push_back(std::move(*action));
}

}  // namespace

static_assert(TraceFactsReader::kPadding == simdjson::SIMDJSON_PADDING, "the padding simdjson reads past a line");

bool is_parse_failure(std::string_view error_kind) {
  for (ParseErrorKind k : {ParseErrorKind::kJson, ParseErrorKind::kSchema, ParseErrorKind::kUnknown})
    if (error_kind == to_string(k)) return true;
  return false;
}

bool is_failed_action(std::string_view error_kind) {
  return error_kind == "tool" || error_kind == "unknown_tool" || error_kind == "arguments";
}

struct TraceFactsReader::Impl {
  od::parser parser;
};

TraceFactsReader::TraceFactsReader() : impl_(std::make_unique<Impl>()) {}
TraceFactsReader::~TraceFactsReader() = default;

bool TraceFactsReader::read(const char* data, size_t len, size_t capacity, bool want_images, bool want_task, TraceFacts& f,
                            std::string& error) {
  f.reset();
  try {
    od::document doc = impl_->parser.iterate(data, len, capacity);
    bool is_trace = false;
    for (auto field : doc.get_object()) {
      std::string_view key = field.unescaped_key();
      od::value v = field.value();
      if (key == "format") is_trace = v.get_string().value() == "taco.trace";
      else if (key == "version") f.version = static_cast<int>(v.get_int64().value());
      else if (key == "task") read_task(v.get_object(), f, want_images, want_task);
      else if (key == "prompt") f.prompt = str(v);
      else if (key == "status") f.status = str(v);
      else if (key == "answer") f.content_hash = mix(f.content_hash, v.raw_json_token());
      else if (key == "verification") {
        f.verified = true;
        for (auto vf : v.get_object())
          if (vf.unescaped_key().value() == "correct") f.correct = vf.value().get_bool();
      } else if (key == "steps") {
        for (auto step : v.get_array()) read_step(step.get_object(), f);
      } else if (key == "images" && want_images) {
        for (auto im : v.get_array()) {
          od::value p = im.find_field_unordered("path");
          std::string_view path = p.get_string();
          if (!path.empty()) f.image_paths.emplace_back(path);
        }
      }
    }
    if (!is_trace) {
      error = "not a taco trace (no \"format\": \"taco.trace\")";
      return false;
    }
    return true;
  } catch (const simdjson::simdjson_error& e) {
    error = e.what();
    return false;
  }
}

// Calls fn(line, capacity) for every non-empty line of a JSONL file, reading it in large
// blocks; each line is followed by at least SIMDJSON_PADDING readable bytes.

}  // namespace taco
