// The tolerant parser for model responses in CoTA mode.
//
// It accepts everything TACO's own parser accepts (```json fences, text around the JSON, the
// outermost {...}) and what real models write beside that: single-quoted strings, Python
// True/False/None, trailing commas, raw newlines inside strings, bare keys, a "# STEP 1 #:"
// prefix, a double-encoded "arguments" string, and several JSON objects in one reply (the first
// object that has "actions" wins). It never throws, and its work is bounded by the input size.
// Thread-safe: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cota/step.h"
#include "util/json.h"

namespace taco {

// The error kinds map to TACO's feedback: kJson asks the model to fix its JSON, the others get
// the generic "try again" feedback.
enum class ParseErrorKind { kNone, kJson, kSchema, kUnknown };

const char* to_string(ParseErrorKind kind);

struct ParseResult {
  std::optional<StepContent> step;
  ParseErrorKind error_kind = ParseErrorKind::kNone;
  std::string error;  // one line, empty when parsing succeeded

  bool ok() const { return step.has_value(); }
};

// Parses one assistant message into a step, or says why it cannot.
ParseResult parse_response(std::string_view text);

// Reads one lenient JSON value (the dialect described above) that spans the whole of `text`
// apart from surrounding whitespace; nullopt when it is not one.
std::optional<Json> parse_lenient_json(std::string_view text);

}  // namespace taco
