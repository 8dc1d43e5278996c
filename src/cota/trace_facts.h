// TraceFacts: what filters and statistics need from one trace, read straight from its JSON
// line without building a Trace: simdjson's on-demand parser visits only the fields asked for,
// so curate streams gigabytes of traces at disk speed. Trace::from_json (cota/trace.h) is the
// whole reader; the two agree on every fact here (tests/cota/trace_facts_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace taco {

// One trace line's facts. Paths are as written (relative ones start at the trace file's folder
// from version 2 on).
struct TraceFacts {
  std::string source = "(none)";  // task.metadata.source
  std::string variant;            // task.metadata.variant
  std::string prompt = "cota";
  std::string status;
  bool verified = false, correct = false;
  size_t steps = 0, parse_failures = 0, failed_actions = 0;
  std::vector<std::string> tools;
  std::vector<std::string> image_paths;
  std::string question;                   // with want_task, for decontamination
  std::vector<std::string> input_images;  // with want_task
  int version = 0;
  uint64_t content_hash = 0;  // the question, input images, replies and answer hashed: curate's dedupe and quota order

  std::string format() const {
    if (variant == "cota" || variant == "cot" || variant == "direct") return variant;
    return prompt == "direct" ? "direct" : "cota";
  }
  void reset() { *this = TraceFacts(); }
};

// A step's error_kind read as what went wrong: the reply did not parse ("json", "schema",
// "unknown": ParseErrorKind's names), or its action failed ("tool", "unknown_tool",
// "arguments": the episode loop's names for an unknown action, wrong arguments, a failed tool).
bool is_parse_failure(std::string_view error_kind);
bool is_failed_action(std::string_view error_kind);

// Reads trace lines one after another (not thread-safe: one reader per thread).
class TraceFactsReader {
 public:
  // The bytes after a line's end the reader may read (they need not be zero): simdjson's
  // padding.
  static constexpr size_t kPadding = 64;

  TraceFactsReader();
  ~TraceFactsReader();
  TraceFactsReader(const TraceFactsReader&) = delete;
  TraceFactsReader& operator=(const TraceFactsReader&) = delete;

  // Reads the line data[0, len) (`capacity` >= len + kPadding bytes are readable from `data`)
  // into `f`: image paths with `want_images`, the question and input images with `want_task`.
  // False with `error` set when it is not a trace.
  bool read(const char* data, size_t len, size_t capacity, bool want_images, bool want_task, TraceFacts& f, std::string& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace taco
